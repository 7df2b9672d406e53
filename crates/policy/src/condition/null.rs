//! The Null operator: `"true"` means the key is absent, `"false"` that it is present.

/// Whether a policy value (`true`/`false`) agrees with the key's presence.
pub fn test(policy: bool, present: bool) -> bool {
    policy != present
}
