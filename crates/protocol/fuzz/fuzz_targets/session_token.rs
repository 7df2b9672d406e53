//! Bytes as a session token, and as a sealed token's claims: `protocol::fuzzing::session_token`.

#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| protocol::fuzzing::session_token(data));
