//! `--instance-port`: one listener per listed instance on its own loopback address, as
//! `serve`'s local mode has, so a workload on the same machine (`roleplane run --host-id`)
//! reaches its metadata service at `http://<its address>:PORT/` and is told apart by the
//! address it reached. Kept in step with every new listing.

use std::collections::HashSet;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use imds::Imds;

use super::cache::Cache;
use super::source::AgentSource;
use super::sync::Link;

/// Follows the listings until the agent stops; `anchor` is the port's own listener on
/// 127.0.0.1, which belongs to no instance.
pub async fn follow(
    imds: Arc<Imds<AgentSource>>,
    cache: Arc<Cache>,
    link: Arc<Link>,
    anchor: SocketAddr,
) {
    let mut changed = link.changed.subscribe();
    loop {
        sync_once(&imds, &cache, anchor).await;
        if changed.changed().await.is_err() {
            return;
        }
    }
}

/// Adds and removes listeners to match the listed instances' loopback addresses.
pub async fn sync_once(imds: &Imds<AgentSource>, cache: &Cache, anchor: SocketAddr) {
    let port = anchor.port();
    let wanted: HashSet<SocketAddr> = cache
        .instances()
        .addresses()
        .filter(IpAddr::is_loopback)
        .map(|ip| SocketAddr::new(ip, port))
        .filter(|addr| *addr != anchor)
        .collect();
    for addr in imds.listening() {
        if addr != anchor && !wanted.contains(&addr) {
            imds.remove_listener(addr).await;
        }
    }
    let listening: HashSet<SocketAddr> = imds.listening().into_iter().collect();
    for addr in wanted.difference(&listening) {
        if let Err(error) = imds.add_listener(*addr) {
            tracing::error!(%error, %addr, "an instance's metadata service could not listen");
        }
    }
}
