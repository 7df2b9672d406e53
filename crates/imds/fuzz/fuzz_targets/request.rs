//! Bytes on an IMDS connection, answered as the server answers them: `imds::fuzzing::request`.

#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| imds::fuzzing::request(data));
