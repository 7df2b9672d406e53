//! Fetching one instance's credential set from the control plane, once at a time per
//! (instance, delivery): a request that finds nothing servable and the refresher may both want
//! the same set, and only one call goes out.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use super::cache::{Cache, SetKey};
use super::client::{CallError, ControlPlane};

/// How long a request waits for a set it does not hold; past it, it is answered as EC2 does
/// without credentials (404) and the fetch goes on in the background.
pub const ON_DEMAND_WAIT: Duration = Duration::from_secs(5);

/// The agent's fetches: the cache they fill, the control plane they ask, one lock per set.
pub struct Fetcher {
    pub cache: Arc<Cache>,
    pub control_plane: Arc<ControlPlane>,
    locks: Mutex<HashMap<SetKey, Arc<tokio::sync::Mutex<()>>>>,
}

impl Fetcher {
    pub fn new(cache: Arc<Cache>, control_plane: Arc<ControlPlane>) -> Self {
        Self {
            cache,
            control_plane,
            locks: Mutex::default(),
        }
    }

    /// Fetches the set of `key` for `role_id` into the cache; `on_demand` when a request
    /// waits for it, which then looks the cache up again (and counts its serve there). An
    /// on-demand fetch that finds a servable set installed by another fetch it waited for
    /// asks nothing.
    pub async fn fetch(&self, key: SetKey, role_id: String, on_demand: bool) {
        let lock = self.lock_of(&key);
        let _turn = lock.lock().await;
        // Another fetch of the same set may have finished while this one waited its turn.
        let needed = if on_demand {
            !self.cache.holds_servable(&key, now())
        } else {
            self.cache.is_due(&key, now())
        };
        if !needed {
            return;
        }
        let answer = self.control_plane.credentials(&key.0, key.1.as_str()).await;
        let now = now();
        match answer {
            Ok(answer) => self.cache.install(&key, &role_id, answer, now),
            Err(error) => {
                self.cache.failed(&key, now);
                log_failure(&key, &error);
            }
        }
    }

    /// Drops the locks of sets no fetch holds (after instances are gone).
    pub fn tidy(&self) {
        self.locks
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .retain(|_, lock| Arc::strong_count(lock) > 1);
    }

    fn lock_of(&self, key: &SetKey) -> Arc<tokio::sync::Mutex<()>> {
        self.locks
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .entry(key.clone())
            .or_default()
            .clone()
    }
}

fn log_failure(key: &SetKey, error: &CallError) {
    let instance_id = key.0.as_str();
    let delivery = key.1.as_str();
    match error {
        // The instance left the host between a listing and this fetch: the next listing says so.
        CallError::Refused { status: 404, .. } => {
            tracing::info!(instance_id, delivery, %error, "fetching an instance's credentials")
        }
        _ => tracing::warn!(instance_id, delivery, %error, "fetching an instance's credentials"),
    }
}

/// Epoch seconds now.
pub fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}
