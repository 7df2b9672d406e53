//! A CloudTrail LookupEvents request over awsJson1_1: `roleplane::fuzzing::aws_json`.

#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| roleplane::fuzzing::aws_json(data));
