//! A CloudTrail LookupEvents request, its input read: `roleplane::fuzzing::lookup_events`.

#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| roleplane::fuzzing::lookup_events(data));
