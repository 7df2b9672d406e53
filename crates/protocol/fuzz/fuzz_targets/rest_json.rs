//! A request over restJson1, routed like Access Analyzer: `protocol::fuzzing::rest_json`.

#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| protocol::fuzzing::rest_json(data));
