//! The request context: condition keys and their values.

use std::collections::HashMap;

/// A context value. Keys given as an array are multivalued even with one element
/// (that is how `aws:TagKeys` and `aws:CalledVia` arrive).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ContextValue {
    Single(String),
    Multi(Vec<String>),
}

impl ContextValue {
    /// The values as a slice, single or not.
    pub fn values(&self) -> &[String] {
        match self {
            ContextValue::Single(v) => std::slice::from_ref(v),
            ContextValue::Multi(vs) => vs,
        }
    }
}

/// Condition keys with case-insensitive names (`aws:SourceIP` = `AWS:sourceip`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Context {
    entries: HashMap<Box<str>, ContextValue>,
}

impl Context {
    pub fn new() -> Context {
        Context::default()
    }

    /// Sets `key` (any case) to `value`, replacing an earlier value.
    pub fn insert(&mut self, key: &str, value: ContextValue) {
        self.entries.insert(key.to_ascii_lowercase().into(), value);
    }

    /// Sets `key` to a single value.
    pub fn insert_single(&mut self, key: &str, value: impl Into<String>) {
        self.insert(key, ContextValue::Single(value.into()));
    }

    /// Sets `key` unless already present; used for derived keys a caller may override.
    pub fn insert_default(&mut self, key: &str, value: impl Into<String>) {
        self.entries
            .entry(key.to_ascii_lowercase().into())
            .or_insert_with(|| ContextValue::Single(value.into()));
    }

    /// Looks up `key`, which must already be lowercase (policies lowercase theirs at parse time).
    pub fn get_lowercase(&self, key: &str) -> Option<&ContextValue> {
        self.entries.get(key)
    }

    /// Looks up `key` in any case.
    pub fn get(&self, key: &str) -> Option<&ContextValue> {
        self.entries.get(key.to_ascii_lowercase().as_str())
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_case_insensitive() {
        let mut ctx = Context::new();
        ctx.insert_single("aws:SourceIp", "10.0.0.1");
        ctx.insert("aws:TagKeys", ContextValue::Multi(vec!["a".into()]));
        ctx.insert_default("AWS:SOURCEIP", "ignored");
        assert_eq!(
            ctx.get("AWS:sourceip"),
            Some(&ContextValue::Single("10.0.0.1".into()))
        );
        assert_eq!(
            ctx.get_lowercase("aws:tagkeys").map(ContextValue::values),
            Some(&["a".to_string()][..])
        );
        assert_eq!(ctx.get("aws:username"), None);
        assert_eq!(ctx.len(), 2);
    }
}
