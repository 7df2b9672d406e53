//! Any bytes as a policy document of every kind and as an eval input: `policy::fuzzing::parse`.

#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| policy::fuzzing::parse(data));
