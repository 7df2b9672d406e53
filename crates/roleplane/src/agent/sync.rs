//! Keeping the cache in step with the control plane: the host's instances by long poll, and
//! each instance's credential sets fetched ahead of need and of rotation.
//!
//! **Bounds.** A connected agent learns of a change (new instance, changed options or
//! association, revocation) as soon as its long poll returns, about half a second after the
//! control plane's index has it (decision 0028), and fetches a new instance's IMDSv2 set within
//! [`REFRESH_TICK`] after. When no replica answers, the agent keeps serving what it holds (every
//! set until its expiry, never after) and tries the replicas again after 1, 2, 4, then every
//! [`MAX_RETRY`] seconds, so it is back within that of a replica's return, without a restart.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{Notify, watch};
use tokio::task::JoinSet;

use super::cache::SetKey;
use super::client::CallError;
use super::fetch::{Fetcher, now};
use crate::agent_api::wire::MAX_WAIT_SECONDS;

/// How often the refresher looks for fetches due.
pub const REFRESH_TICK: Duration = Duration::from_secs(1);
/// Longest pause between tries of an unreachable control plane.
pub const MAX_RETRY: Duration = Duration::from_secs(5);
/// Fetches running at once.
const MAX_FETCHES: usize = 8;

/// What the listing loop tells the rest of the agent.
#[derive(Debug)]
pub struct Link {
    /// True once the first listing is held (the agent is ready).
    pub listed: watch::Sender<bool>,
    /// Moved by every new listing (local mode adjusts its listeners).
    pub changed: watch::Sender<u64>,
    /// Wakes the refresher early (a new listing may hold new instances).
    pub wake: Notify,
}

impl Default for Link {
    fn default() -> Self {
        Self {
            listed: watch::channel(false).0,
            changed: watch::channel(0).0,
            wake: Notify::new(),
        }
    }
}

/// Follows the host's instances until the agent stops.
pub async fn follow_instances(fetcher: Arc<Fetcher>, link: Arc<Link>) {
    let control_plane = &fetcher.control_plane;
    let mut failures: u32 = 0;
    loop {
        let version = fetcher.cache.instances().version.clone();
        match control_plane
            .instances(version.as_deref(), MAX_WAIT_SECONDS)
            .await
        {
            Ok(answer) => {
                answered(&mut failures, control_plane.preferred().url.as_str());
                if let Some(instances) = answer.instances {
                    let listed = fetcher.cache.list(answer.version, instances);
                    if !listed.added.is_empty() || !listed.gone.is_empty() {
                        tracing::info!(
                            added = ?listed.added,
                            gone = ?listed.gone,
                            instances = fetcher.cache.instances().len(),
                            "the host's instances changed"
                        );
                    }
                    fetcher.tidy();
                    link.changed.send_modify(|n| *n += 1);
                    link.wake.notify_one();
                }
                link.listed.send_replace(true);
                continue;
            }
            Err(CallError::Refused {
                status,
                code,
                message,
            }) if code == "UnrecognizedClientException" => {
                // The key is unknown: rotated away (`--grace 0`) before the agent's file was
                // replaced, or the host released. Like an outage, what is held is served until
                // it expires (a released host has no instances left to serve anyway), and the
                // file is read again at the next try.
                tracing::error!(status, %message, "the control plane does not know the agent credential; replace the credentials file with the host's current one (`roleplane host credentials`)");
                failures = failures.saturating_add(1);
            }
            Err(error @ CallError::Refused { .. }) => {
                tracing::error!(%error, "the control plane refused the instance listing");
                failures = failures.saturating_add(1);
            }
            Err(error) => {
                if failures == 0 {
                    tracing::warn!(%error, "the control plane does not answer; serving the credentials held until they expire");
                }
                failures = failures.saturating_add(1);
            }
        }
        tokio::time::sleep(retry_after(failures)).await;
    }
}

fn answered(failures: &mut u32, replica: &str) {
    if *failures > 0 {
        tracing::info!(replica, "the control plane answers again");
    }
    *failures = 0;
}

/// 1, 2, 4, then [`MAX_RETRY`] seconds.
fn retry_after(failures: u32) -> Duration {
    let secs = 1u64 << failures.clamp(1, 8).saturating_sub(1);
    Duration::from_secs(secs).min(MAX_RETRY)
}

/// Fetches what is due (see `Cache::due`) every [`REFRESH_TICK`], or at once when woken,
/// until the agent stops; at most [`MAX_FETCHES`] at a time, one per set.
pub async fn refresh(fetcher: Arc<Fetcher>, link: Arc<Link>) {
    let mut running: JoinSet<SetKey> = JoinSet::new();
    let mut in_flight: HashSet<SetKey> = HashSet::new();
    loop {
        tokio::select! {
            () = tokio::time::sleep(REFRESH_TICK) => {}
            () = link.wake.notified() => {}
            Some(done) = running.join_next(), if !running.is_empty() => {
                if let Ok(key) = done {
                    in_flight.remove(&key);
                }
            }
        }
        while let Some(done) = running.try_join_next() {
            if let Ok(key) = done {
                in_flight.remove(&key);
            }
        }
        for (key, role_id) in fetcher.cache.due(now()) {
            if running.len() >= MAX_FETCHES {
                break;
            }
            if !in_flight.insert(key.clone()) {
                continue;
            }
            let fetcher = fetcher.clone();
            running.spawn(async move {
                fetcher.fetch(key.clone(), role_id, false).await;
                key
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_back_off_to_a_bound() {
        let secs: Vec<u64> = (0..6).map(|f| retry_after(f).as_secs()).collect();
        assert_eq!(secs, [1, 1, 2, 4, 5, 5]);
    }
}
