//! A form body as IAM, STS and EC2 operations read their input:
//! `roleplane::fuzzing::query_input`.

#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| roleplane::fuzzing::query_input(data));
