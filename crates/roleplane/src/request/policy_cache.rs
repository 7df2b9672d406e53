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

use crate::metrics::CacheCounters;

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

/// Values read from the store, by name, all read under one change counter and served only
/// while it stands still (S3's buckets and objects use it too, each with its own counter).
pub struct GenerationCache<V> {
    entries: Mutex<Entries<V>>,
    counters: CacheCounters,
}

/// The values read at `generation`, the newest the cache has seen. Values read under an older
/// one can never be served again, so they are dropped as soon as a newer one arrives: memory
/// follows what is servable, not every name seen since start.
struct Entries<V> {
    generation: u64,
    values: HashMap<String, Arc<V>>,
}

impl<V> Default for GenerationCache<V> {
    fn default() -> Self {
        Self::counted(CacheCounters::default())
    }
}

impl<V> GenerationCache<V> {
    /// A cache whose lookups count into `counters`.
    pub fn counted(counters: CacheCounters) -> Self {
        Self {
            entries: Mutex::new(Entries {
                generation: 0,
                values: HashMap::new(),
            }),
            counters,
        }
    }

    /// The value of `name` if it was read at `generation`.
    pub fn get(&self, name: &str, generation: u64) -> Option<Arc<V>> {
        let found = self.lookup(name, generation);
        self.counters.lookup(found.is_some());
        found
    }

    fn lookup(&self, name: &str, generation: u64) -> Option<Arc<V>> {
        let entries = self.entries.lock().ok()?;
        if entries.generation != generation {
            return None;
        }
        entries.values.get(name).cloned()
    }

    /// Keeps a value read after the counter was `generation`.
    pub fn insert(&self, name: &str, generation: u64, value: Arc<V>) {
        let Ok(mut entries) = self.entries.lock() else {
            return;
        };
        if generation < entries.generation {
            return; // a slow reader's value, already stale
        }
        if generation > entries.generation {
            entries.generation = generation;
            entries.values.clear();
        }
        if entries.values.len() >= CAPACITY && !entries.values.contains_key(name) {
            entries.values.clear();
        }
        entries.values.insert(name.to_owned(), value);
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.entries.lock().unwrap().values.len()
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
        // A reader that read before the counter moved cannot put its value back.
        cache.insert("AIDA2", 7, set());
        assert!(cache.get("AIDA2", 7).is_none());
    }

    #[test]
    fn values_of_an_older_generation_are_dropped_when_a_newer_one_arrives() {
        let cache = PolicyCache::default();
        for i in 0..100 {
            cache.insert(&format!("AIDA{i}"), 1, set());
        }
        assert_eq!(cache.len(), 100);
        cache.insert("AROA1", 2, set());
        assert_eq!(cache.len(), 1);
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
