//! Keeping IMDS in step with EC2: the instance index reloaded and, in local mode, one listener
//! per running instance on `<its loopback address>:<imds port>`.
//!
//! EC2 writes call [`InstanceSync::settle`] before answering, so the instance a RunInstances
//! response names already has its metadata service, and a terminated one no longer has any.
//! IAM writes (a profile's role changed) are picked up within [`IAM_POLL`].

use std::collections::HashSet;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use imds::Imds;
use store::Store;
use tokio::sync::watch;

use super::source::{InstanceMetadata, Refresh, Served};

/// How often the reconciler looks for IAM writes (an atomic load when nothing changed).
const IAM_POLL: Duration = Duration::from_millis(200);
/// An EC2 write never waits longer than this for IMDS to follow.
const SETTLE_TIMEOUT: Duration = Duration::from_secs(5);

/// The handle EC2 writes use to wait until IMDS reflects them. Lives in the `App`.
#[derive(Debug)]
pub struct InstanceSync {
    /// The newest store generation somebody needs reflected.
    wanted: watch::Sender<u64>,
    /// The store generation the index and listeners reflect.
    applied: watch::Sender<u64>,
}

impl Default for InstanceSync {
    fn default() -> Self {
        Self {
            wanted: watch::channel(0).0,
            applied: watch::channel(0).0,
        }
    }
}

impl InstanceSync {
    /// What the reconciler waits on; subscribed before it starts, so no write is missed.
    pub(super) fn subscribe(&self) -> watch::Receiver<u64> {
        self.wanted.subscribe()
    }

    /// Returns once IMDS reflects every EC2 write up to `generation` (at once when no metadata
    /// service runs, as in in-process tests of the API alone).
    pub async fn settle(&self, generation: u64) {
        if self.wanted.receiver_count() == 0 {
            return;
        }
        self.wanted.send_if_modified(|wanted| {
            let newer = generation > *wanted;
            if newer {
                *wanted = generation;
            }
            newer
        });
        let mut applied = self.applied.subscribe();
        let reached = tokio::time::timeout(
            SETTLE_TIMEOUT,
            applied.wait_for(|applied| *applied >= generation),
        )
        .await;
        if reached.is_err() {
            tracing::warn!(
                generation,
                "the metadata service did not follow an EC2 write in time"
            );
        }
    }
}

/// Where instance listeners go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Placement {
    /// One listener per running instance on its own address, this port.
    PerInstance { port: u16 },
    /// One shared listener bound at start; instances get none of their own.
    Shared,
}

/// Runs until the server stops: reloads the index when the store's EC2 or IAM generation moves,
/// and adds or removes instance listeners to match.
pub async fn reconcile<S: Store>(
    imds: Arc<Imds<Served<S>>>,
    metadata: Arc<InstanceMetadata<S>>,
    placement: Placement,
    mut wanted: watch::Receiver<u64>,
) {
    let sync = metadata.app().instance_sync();
    let mut seen: Option<(u64, u64)> = None;
    let mut poll = tokio::time::interval(IAM_POLL);
    poll.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            changed = wanted.changed() => if changed.is_err() { return },
            _ = poll.tick() => {}
        }
        let app = metadata.app();
        let changes = app.store().changes();
        let generations = (changes.ec2, changes.iam);
        if seen == Some(generations) {
            sync.applied.send_replace(generations.0);
            continue;
        }
        // After an IAM write any profile's role may have moved.
        let roles = seen.is_none_or(|(_, iam)| iam != generations.1);
        match sync_once(&imds, &metadata, placement, Refresh::Changes { roles }).await {
            Ok(()) => seen = Some(generations),
            Err(error) => tracing::error!(%error, "reloading the instances IMDS serves"),
        }
        // Even after a failure: an EC2 write must not hang on it; the next tick retries.
        sync.applied.send_replace(generations.0);
    }
}

/// One reload of the index and, per instance, of the listeners.
pub async fn sync_once<S: Store>(
    imds: &Imds<Served<S>>,
    metadata: &InstanceMetadata<S>,
    placement: Placement,
    refresh: Refresh,
) -> Result<(), store::StoreError> {
    let snapshot = metadata.reload(refresh).await?;
    let Placement::PerInstance { port } = placement else {
        return Ok(());
    };
    // Local mode never listens beyond loopback, whatever address an instance was given, nor
    // for an instance on a host (its agent serves it).
    let wanted: HashSet<SocketAddr> = snapshot
        .addresses_off_hosts()
        .filter(IpAddr::is_loopback)
        .map(|ip| SocketAddr::new(ip, port))
        .collect();
    for addr in imds.listening() {
        if is_instance_address(addr.ip()) && !wanted.contains(&addr) {
            imds.remove_listener(addr).await;
        }
    }
    let listening: HashSet<SocketAddr> = imds.listening().into_iter().collect();
    for addr in wanted.difference(&listening) {
        if let Err(error) = imds.add_listener(*addr) {
            tracing::error!(%error, %addr, "an instance's metadata service could not listen");
        }
    }
    Ok(())
}

/// Every listener but the port's anchor on 127.0.0.1 belongs to an instance.
fn is_instance_address(ip: IpAddr) -> bool {
    ip != IpAddr::from([127, 0, 0, 1])
}
