//! A form body as awsQuery and ec2Query decode and read it: `roleplane::fuzzing::query`.

#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| roleplane::fuzzing::query(data));
