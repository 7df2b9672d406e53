//! Any bytes through every policy kind, the findings and the eval input:
//! errors are fine, panics are not.

#![no_main]

use libfuzzer_sys::fuzz_target;
use policy::{Policy, PolicyKind, eval_input, evaluate, validate};

const KINDS: [PolicyKind; 7] = [
    PolicyKind::Identity,
    PolicyKind::InlineIdentity,
    PolicyKind::Resource,
    PolicyKind::Trust,
    PolicyKind::Session,
    PolicyKind::PermissionsBoundary,
    PolicyKind::ServiceControl,
];

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    for kind in KINDS {
        if let Ok(policy) = Policy::parse(text, kind) {
            // Whatever parses must serialize to something that parses to the same model.
            let again = Policy::parse(&policy.to_json().to_string(), kind);
            assert_eq!(again.as_ref(), Ok(&policy));
        }
        let _ = validate(text, kind);
    }
    let _ = policy::size_without_whitespace(text);
    if let Ok((request, policies)) = eval_input::parse(text) {
        let _ = evaluate(&request, &policies).to_json();
    }
});
