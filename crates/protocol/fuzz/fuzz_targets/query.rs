//! A form body as awsQuery and ec2Query decode it, every member read: `protocol::fuzzing::query`.

#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| protocol::fuzzing::query(data));
