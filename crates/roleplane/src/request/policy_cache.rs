//! Each principal's identity policies, parsed once and kept while the store's data generation
//! stands still.
//!
//! Reading them from the store was half the cost of an authorized call (a trip to a SQLite
//! worker thread), and parsing them again each time most of the rest. The generation moves
//! after every committed write in any process on the same data (`Store::data_generation`), so
//! a policy change, a revocation from the CLI, or a deleted user is seen by the very next
//! request, exactly as when policies were read per request.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use policy::Policy;

/// Bounds memory whatever the number of principals; a full cache simply starts over.
const CAPACITY: usize = 10_000;

/// What a principal's identity-based layer of evaluation needs.
#[derive(Debug)]
pub struct IdentityPolicySet {
    /// Inline and attached managed policies, parsed.
    pub identity: Vec<Policy>,
    /// The permissions boundary, if one is set (allow-nothing if it no longer resolves).
    pub boundary: Option<Policy>,
}

struct Entry {
    generation: u64,
    policies: Arc<IdentityPolicySet>,
}

#[derive(Default)]
pub struct PolicyCache {
    entries: Mutex<HashMap<String, Entry>>,
}

impl PolicyCache {
    /// The policies of `principal_id` if they were read at `generation`.
    pub fn get(&self, principal_id: &str, generation: u64) -> Option<Arc<IdentityPolicySet>> {
        let entries = self.entries.lock().ok()?;
        let entry = entries.get(principal_id)?;
        (entry.generation == generation).then(|| entry.policies.clone())
    }

    /// Keeps policies read after the store's generation was `generation`.
    pub fn insert(&self, principal_id: &str, generation: u64, policies: Arc<IdentityPolicySet>) {
        let Ok(mut entries) = self.entries.lock() else {
            return;
        };
        if entries.len() >= CAPACITY && !entries.contains_key(principal_id) {
            entries.clear();
        }
        entries.insert(
            principal_id.to_owned(),
            Entry {
                generation,
                policies,
            },
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set() -> Arc<IdentityPolicySet> {
        Arc::new(IdentityPolicySet {
            identity: Vec::new(),
            boundary: None,
        })
    }

    #[test]
    fn an_entry_serves_only_its_own_generation() {
        let cache = PolicyCache::default();
        assert!(cache.get("AIDA1", 7).is_none());
        cache.insert("AIDA1", 7, set());
        assert!(cache.get("AIDA1", 7).is_some());
        assert!(cache.get("AIDA1", 8).is_none());
        assert!(cache.get("AIDA2", 7).is_none());
        cache.insert("AIDA1", 8, set());
        assert!(cache.get("AIDA1", 7).is_none());
        assert!(cache.get("AIDA1", 8).is_some());
    }

    #[test]
    fn a_full_cache_starts_over() {
        let cache = PolicyCache::default();
        for i in 0..CAPACITY {
            cache.insert(&format!("AIDA{i}"), 1, set());
        }
        cache.insert("AROANEW", 1, set());
        assert!(cache.get("AIDA0", 1).is_none());
        assert!(cache.get("AROANEW", 1).is_some());
    }
}
