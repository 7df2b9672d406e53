//! What a host's agent reads from the control plane: `roleplane::fuzzing::agent_answers`.

#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| roleplane::fuzzing::agent_answers(data));
