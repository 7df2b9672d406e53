//! Long-term access keys resolved once and kept in memory, so signed calls skip the store.
//!
//! Correctness rests on the store's IAM change counter (`Store::changes().iam`, the one
//! mechanism every cache follows): every IAM commit by any process on the data moves it, and an
//! entry read under an older value is never served. IAM writes are rare next to signed calls,
//! so the cache stays warm, while a deleted key, a deactivated key or a changed user is seen by
//! the very next request. Entries also expire after [`MAX_AGE`], a second bound on staleness.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use store::{AccessKey, User};
use zeroize::Zeroizing;

use crate::metrics::CacheCounters;

const MAX_AGE: Duration = Duration::from_secs(30);
/// Bounds memory whatever the number of keys; a full cache simply starts over.
const CAPACITY: usize = 10_000;

pub struct CachedKey {
    pub key: AccessKey,
    pub user: User,
    pub secret: Zeroizing<Vec<u8>>,
}

struct Entry {
    value: std::sync::Arc<CachedKey>,
    fetched: Instant,
}

/// Keys read while the IAM counter stood at `generation`, the newest seen: keys read under an
/// older value can never be served again, so they go as soon as a newer one arrives.
#[derive(Default)]
struct Entries {
    generation: u64,
    keys: HashMap<String, Entry>,
}

#[derive(Default)]
pub struct KeyCache {
    entries: Mutex<Entries>,
    counters: CacheCounters,
}

impl KeyCache {
    pub fn new(counters: CacheCounters) -> Self {
        Self {
            entries: Mutex::default(),
            counters,
        }
    }

    /// The key as read while the IAM counter stood at `generation`, if it was.
    pub fn get(&self, access_key_id: &str, generation: u64) -> Option<std::sync::Arc<CachedKey>> {
        let found = self.lookup(access_key_id, generation);
        self.counters.lookup(found.is_some());
        found
    }

    fn lookup(&self, access_key_id: &str, generation: u64) -> Option<std::sync::Arc<CachedKey>> {
        let entries = self.entries.lock().ok()?;
        if entries.generation != generation {
            return None;
        }
        let entry = entries.keys.get(access_key_id)?;
        (entry.fetched.elapsed() < MAX_AGE).then(|| entry.value.clone())
    }

    /// Stores a value read from the store while the IAM counter stood at `generation` (read
    /// before the data); a write that moved it since makes the value unservable, so a racing
    /// reader cannot resurrect stale data.
    pub fn insert(&self, generation: u64, value: CachedKey) -> std::sync::Arc<CachedKey> {
        let value = std::sync::Arc::new(value);
        if let Ok(mut entries) = self.entries.lock() {
            if generation > entries.generation {
                entries.generation = generation;
                entries.keys.clear();
            }
            if generation == entries.generation {
                if entries.keys.len() >= CAPACITY {
                    entries.keys.clear();
                }
                entries.keys.insert(
                    value.key.access_key_id.clone(),
                    Entry {
                        value: value.clone(),
                        fetched: Instant::now(),
                    },
                );
            }
        }
        value
    }
}
