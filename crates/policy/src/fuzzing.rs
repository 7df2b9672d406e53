//! Entry point of the fuzz target (`fuzz/`), shared with the corpus replay test
//! (`tests/fuzz_corpus.rs`) so that both run the very same code. Not part of the API.

use crate::{Policy, PolicyKind, eval_input, evaluate, validate};

const KINDS: [PolicyKind; 7] = [
    PolicyKind::Identity,
    PolicyKind::InlineIdentity,
    PolicyKind::Resource,
    PolicyKind::Trust,
    PolicyKind::Session,
    PolicyKind::PermissionsBoundary,
    PolicyKind::ServiceControl,
];

/// Target `parse`: any bytes through every policy kind, the findings and the eval input.
/// Errors are fine; a panic, or a policy that does not survive `to_json` → `parse`, is not.
pub fn parse(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    for kind in KINDS {
        if let Ok(policy) = Policy::parse(text, kind) {
            let again = Policy::parse(&policy.to_json().to_string(), kind);
            assert_eq!(again.as_ref(), Ok(&policy), "to_json round trip");
        }
        let _ = validate(text, kind);
    }
    let _ = crate::size_without_whitespace(text);
    if let Ok((request, policies)) = eval_input::parse(text) {
        let _ = evaluate(&request, &policies).to_json();
    }
    // `policy eval` without --strict: whatever reads of a refused policy is evaluated.
    if let Ok((request, policies, findings)) = eval_input::parse_with_findings(text, false) {
        let _ = evaluate(&request, &policies).to_json();
        let _: Vec<_> = findings.iter().map(|f| f.to_json()).collect();
    }
    for kind in KINDS {
        if let Some(json) = crate::json::Json::parse(text) {
            let _ = crate::lenient::read(&json, kind);
        }
    }
}
