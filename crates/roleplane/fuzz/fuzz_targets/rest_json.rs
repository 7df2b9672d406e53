//! An Access Analyzer request over restJson1: `roleplane::fuzzing::rest_json`.

#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| roleplane::fuzzing::rest_json(data));
