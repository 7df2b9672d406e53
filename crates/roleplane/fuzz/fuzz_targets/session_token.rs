//! Bytes as a session token, and as a sealed token's claims: `roleplane::fuzzing::session_token`.

#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| roleplane::fuzzing::session_token(data));
