//! Long-term access keys resolved once and kept in memory, so signed calls skip the store.
//!
//! Correctness rests on a generation counter: every IAM write bumps it (see `api.rs`), and an
//! entry from an older generation is never served. IAM writes are rare next to signed calls, so
//! the cache stays warm, while a deleted key, a deactivated key or a changed user is seen by the
//! very next request. Entries also expire after [`MAX_AGE`], which bounds staleness when another
//! node (a later multi-node store) changed the data.

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use store::{AccessKey, User};
use zeroize::Zeroizing;

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
    generation: u64,
    fetched: Instant,
}

#[derive(Default)]
pub struct KeyCache {
    generation: AtomicU64,
    entries: Mutex<HashMap<String, Entry>>,
}

impl KeyCache {
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    /// Invalidates every entry: called after any IAM write.
    pub fn bump(&self) {
        self.generation.fetch_add(1, Ordering::AcqRel);
    }

    pub fn get(&self, access_key_id: &str) -> Option<std::sync::Arc<CachedKey>> {
        let generation = self.generation();
        let entries = self.entries.lock().ok()?;
        let entry = entries.get(access_key_id)?;
        (entry.generation == generation && entry.fetched.elapsed() < MAX_AGE)
            .then(|| entry.value.clone())
    }

    /// Stores a value read from the store while `generation` was current; a write that bumped
    /// the generation since then makes the value unservable, so a racing reader cannot
    /// resurrect stale data.
    pub fn insert(&self, generation: u64, value: CachedKey) -> std::sync::Arc<CachedKey> {
        let value = std::sync::Arc::new(value);
        if let Ok(mut entries) = self.entries.lock() {
            if entries.len() >= CAPACITY {
                entries.clear();
            }
            entries.insert(
                value.key.access_key_id.clone(),
                Entry {
                    value: value.clone(),
                    generation,
                    fetched: Instant::now(),
                },
            );
        }
        value
    }
}
