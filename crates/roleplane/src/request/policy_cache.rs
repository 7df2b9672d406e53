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

/// Identity policies per principal ID.
pub type PolicyCache = GenerationCache<IdentityPolicySet>;

struct Entry<V> {
    generation: u64,
    value: Arc<V>,
}

/// Values read from the store, by name, each kept with the change counter it was read under
/// and served only while that counter stands still (S3's buckets use it too).
pub struct GenerationCache<V> {
    entries: Mutex<HashMap<String, Entry<V>>>,
}

impl<V> Default for GenerationCache<V> {
    fn default() -> Self {
        Self {
            entries: Mutex::new(HashMap::new()),
        }
    }
}

impl<V> GenerationCache<V> {
    /// The value of `name` if it was read at `generation`.
    pub fn get(&self, name: &str, generation: u64) -> Option<Arc<V>> {
        let entries = self.entries.lock().ok()?;
        let entry = entries.get(name)?;
        (entry.generation == generation).then(|| entry.value.clone())
    }

    /// Keeps a value read after the counter was `generation`.
    pub fn insert(&self, name: &str, generation: u64, value: Arc<V>) {
        let Ok(mut entries) = self.entries.lock() else {
            return;
        };
        if entries.len() >= CAPACITY && !entries.contains_key(name) {
            entries.clear();
        }
        entries.insert(name.to_owned(), Entry { generation, value });
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
