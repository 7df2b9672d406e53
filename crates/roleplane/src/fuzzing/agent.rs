//! Target `agent_answers`: what a host's agent reads from the control plane, as it reads it.
//! The input is a listing (`GET /v1/hosts/{host}/instances`), a newline, and a credentials
//! answer (`POST …/credentials`); the listing goes into a fresh cache, the answer is installed
//! for every set then due, and the cache is asked what it serves, now and after expiry. The
//! control plane is trusted, but a bug or a version skew there must cost a refused instance,
//! never the agent.

use imds::RoleDelivery;

use crate::agent::cache::{Cache, Lookup};
use crate::agent_api::wire::{HostInstances, InstanceCredentials};

/// A fixed "now" (2024-11-14), so a run is repeatable.
const NOW: i64 = 1_731_600_000;

pub fn agent_answers(data: &[u8]) {
    let (listing, answer) = match data.iter().position(|&b| b == b'\n') {
        Some(at) => (&data[..at], &data[at + 1..]),
        None => (data, &[][..]),
    };
    let cache = Cache::default();
    if let Ok(HostInstances {
        version,
        instances: Some(instances),
        ..
    }) = serde_json::from_slice::<HostInstances>(listing)
    {
        cache.list(version, instances);
    }
    let answer = serde_json::from_slice::<InstanceCredentials>(answer).ok();
    for (key, role_id) in cache.due(NOW) {
        match &answer {
            Some(answer) => cache.install(&key, &role_id, answer.clone(), NOW),
            None => cache.failed(&key, NOW),
        }
    }
    let instances = cache.instances();
    for addr in instances.addresses().collect::<Vec<_>>() {
        let Some(view) = cache.instance(addr) else {
            continue;
        };
        for now in [NOW, NOW + 7 * 3600] {
            for delivery in [RoleDelivery::V1, RoleDelivery::V2] {
                if let Lookup::Serve(imds::CredentialsResult::Issued(set)) =
                    cache.lookup(&view.instance_id, delivery, now)
                {
                    assert!(
                        set.expiration
                            > std::time::UNIX_EPOCH + std::time::Duration::from_secs(now as u64),
                        "an expired set served"
                    );
                }
            }
            let _ = cache.servable_sets(now);
            let _ = cache.due(now);
        }
        let _ = cache.signatures(&view.instance_id, b"{}");
    }
    let _ = cache.take_served();
}
