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
    entries: Mutex<HashMap<String, Entry>>,
}

impl KeyCache {
    /// The key as read while the IAM counter stood at `generation`, if it was.
    pub fn get(&self, access_key_id: &str, generation: u64) -> Option<std::sync::Arc<CachedKey>> {
        let entries = self.entries.lock().ok()?;
        let entry = entries.get(access_key_id)?;
        (entry.generation == generation && entry.fetched.elapsed() < MAX_AGE)
            .then(|| entry.value.clone())
    }

    /// Stores a value read from the store while the IAM counter stood at `generation` (read
    /// before the data); a write that moved it since makes the value unservable, so a racing
    /// reader cannot resurrect stale data.
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
