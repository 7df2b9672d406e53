//! Bytes as every pagination marker: `roleplane::fuzzing::pagination`.

#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| roleplane::fuzzing::pagination(data));
