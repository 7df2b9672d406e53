//! The agent's `imds::MetadataSource`: instances and signatures from the cache, credentials
//! from the cache or, when nothing servable is held, from the control plane at once.
//! Attribution is by address among this host's instances only: the cache holds no other.

use std::net::IpAddr;
use std::sync::Arc;

use imds::{CredentialsResult, IdentitySignatures, InstanceView, MetadataSource, RoleDelivery};

use super::cache::Lookup;
use super::fetch::{Fetcher, ON_DEMAND_WAIT, now};

pub struct AgentSource(pub Arc<Fetcher>);

impl MetadataSource for AgentSource {
    fn instance(&self, addr: IpAddr) -> Option<Arc<InstanceView>> {
        self.0.cache.instance(addr)
    }

    async fn credentials(&self, instance_id: &str, delivery: RoleDelivery) -> CredentialsResult {
        let role_id = match self.0.cache.lookup(instance_id, delivery, now()) {
            Lookup::Serve(result) => return result,
            Lookup::Fetch { role_id } => role_id,
        };
        // Nothing servable is held (first use, or every set expired while the control plane
        // was away): ask now, but not for longer than an SDK waits; the fetch carries on and
        // the next request finds its set.
        let fetcher = self.0.clone();
        let key = (instance_id.to_owned(), delivery);
        let fetch = tokio::spawn(async move { fetcher.fetch(key, role_id, true).await });
        if !matches!(
            tokio::time::timeout(ON_DEMAND_WAIT, fetch).await,
            Ok(Ok(()))
        ) {
            return CredentialsResult::NoRole;
        }
        match self.0.cache.lookup(instance_id, delivery, now()) {
            Lookup::Serve(result) => result,
            // The fetch failed: nothing to serve yet.
            Lookup::Fetch { .. } => CredentialsResult::NoRole,
        }
    }

    fn identity_signatures(
        &self,
        instance: &InstanceView,
        document: &[u8],
    ) -> Option<Arc<IdentitySignatures>> {
        self.0.cache.signatures(&instance.instance_id, document)
    }
}
