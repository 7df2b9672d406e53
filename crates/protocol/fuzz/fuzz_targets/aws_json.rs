//! A request over awsJson1_1, as CloudTrail speaks it: `protocol::fuzzing::aws_json`.

#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| protocol::fuzzing::aws_json(data));
