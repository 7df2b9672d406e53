//! `GET /v1/hosts/{host}/instances[?version=V&wait=SECS]`: the host's running instances, as a
//! long poll. Without `version` (or with one that is no longer current) the listing comes at
//! once; with the current one the call waits, up to `wait` seconds (at most
//! [`MAX_WAIT_SECONDS`]), for the listing to change, and answers without `instances` if it did
//! not. The version is a digest of the listing, so it means the same on every replica: an
//! agent that moves to another replica keeps waiting where it was.
//!
//! A change shows within [`CHECK_EVERY`] of the metadata service's index following it (the
//! index follows EC2 writes at once and IAM writes within 200 ms, on every replica).

use std::sync::Arc;
use std::time::Duration;

use protocol::rest_json::{RestJsonError, RestRequest};
use sha2::{Digest as _, Sha256};
use store::Store;
use tokio::time::Instant;

use super::wire::{HostInstance, HostInstances, MAX_WAIT_SECONDS, Role, SignedDocument, View};
use super::{Reply, invalid, unavailable};
use crate::metadata::InstanceMetadata;
use crate::request::Call;

/// How often a waiting poll looks for a change (an atomic load and a pointer compare when
/// nothing changed).
pub const CHECK_EVERY: Duration = Duration::from_millis(250);

pub async fn list<S: Store>(
    call: &Call<'_, S, RestRequest>,
    metadata: &Arc<InstanceMetadata<S>>,
    host: &str,
) -> Reply {
    let request = call.input;
    let since = request.query("version");
    let wait = match request.query("wait") {
        None => 0,
        Some(text) => text.parse::<u64>().map_err(|_| {
            invalid(format!(
                "wait must be a whole number of seconds up to {MAX_WAIT_SECONDS}, not {text:?}"
            ))
        })?,
    }
    .min(MAX_WAIT_SECONDS);
    let deadline = Instant::now() + Duration::from_secs(wait);
    let account = call.caller.account_id.as_str();
    let mut stopping = call.app.stopping();
    loop {
        let seen = (metadata.snapshot(), call.app.store().changes().iam);
        let (version, instances) = listing(metadata, account, host).await?;
        let unchanged = since == Some(version.as_str());
        if !unchanged || Instant::now() >= deadline || *stopping.borrow() {
            let answer = HostInstances {
                host_id: host.to_owned(),
                version,
                instances: (!unchanged).then_some(instances),
            };
            return serde_json::to_value(answer).map_err(|e| unavailable(&e.to_string()));
        }
        // Until the index is replaced or IAM data moves, the listing cannot change.
        loop {
            tokio::select! {
                () = tokio::time::sleep(CHECK_EVERY) => {}
                () = tokio::time::sleep_until(deadline) => break,
                _ = stopping.changed() => break,
            }
            let moved = !Arc::ptr_eq(&seen.0, &metadata.snapshot())
                || call.app.store().changes().iam != seen.1;
            if moved {
                break;
            }
        }
    }
}

/// The host's instances now, and the listing's version.
async fn listing<S: Store>(
    metadata: &InstanceMetadata<S>,
    account: &str,
    host: &str,
) -> Result<(String, Vec<HostInstance>), RestJsonError> {
    let snapshot = metadata.snapshot();
    let mut instances = Vec::new();
    let mut digest = Sha256::new();
    for (view, placement) in snapshot.on_host(account, host) {
        let role = match &placement.profile {
            Some(profile) => metadata
                .grant(&placement.account_id, profile)
                .await
                .map_err(|e| unavailable(&format!("reading the instance's role: {e}")))?
                .map(|grant| Role {
                    name: grant.name,
                    id: grant.id,
                    not_before: grant.revoked_before,
                }),
            None => None,
        };
        let wire = View::from(&*view);
        // Signatures aside: they are made anew by each replica, and any of them is valid.
        let counted =
            serde_json::to_vec(&(&wire, &role)).map_err(|e| unavailable(&e.to_string()))?;
        digest.update((counted.len() as u64).to_be_bytes());
        digest.update(&counted);
        let identity = match metadata.signed_document(&view) {
            Ok((document, signatures)) => Some(SignedDocument::new(&document, &signatures)),
            Err(error) => {
                let instance_id = view.instance_id.as_str();
                tracing::error!(%error, instance_id, "signing an identity document for a host agent");
                None
            }
        };
        instances.push(HostInstance {
            view: wire,
            role,
            identity,
        });
    }
    let version = hex::encode(&digest.finalize()[..16]);
    Ok((version, instances))
}
