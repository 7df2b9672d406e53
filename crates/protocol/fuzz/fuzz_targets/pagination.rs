//! Bytes as every pagination token: `protocol::fuzzing::pagination`.

#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| protocol::fuzzing::pagination(data));
