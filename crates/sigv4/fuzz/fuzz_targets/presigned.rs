//! A presigned URL's request target: `sigv4::fuzzing::presigned`.

#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| sigv4::fuzzing::presigned(data));
