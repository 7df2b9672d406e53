//! A web identity token and its issuer's key set, read and checked as STS does:
//! `roleplane::fuzzing::web_identity_token`.

#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| roleplane::fuzzing::web_identity_token(data));
