//! An Access Analyzer ValidatePolicy request, its input read and checked:
//! `roleplane::fuzzing::validate_policy`.

#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| roleplane::fuzzing::validate_policy(data));
