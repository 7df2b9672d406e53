//! A whole request, usually header-signed: `sigv4::fuzzing::header`.

#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| sigv4::fuzzing::header(data));
