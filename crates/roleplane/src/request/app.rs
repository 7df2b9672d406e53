//! What every request handler shares: the store, the keys, and caches.

use std::sync::{Arc, OnceLock, Weak};

use sigv4::SigningKeyCache;
use store::SqliteStore;
use tokio::sync::watch;
use zeroize::Zeroizing;

use super::failure_limits::{FailureLimits, FailureRate};
use super::host_agent::CachedHostKey;
use super::key_cache::KeyCache;
use super::last_use::LastUse;
use super::policy_cache::PolicyCache;
use crate::audit::Audit;
use crate::credentials::{KeyRing, SealError, SealingKey};
use crate::ec2::addresses::Addressing;
use crate::metadata::{InstanceMetadata, InstanceSync};
use crate::metrics::{Cache, ServerMetrics};
use crate::web_identity::IssuerKeys;

/// Associated data that binds a sealed access-key secret to its key ID, so a ciphertext cannot
/// be moved to another key's row.
fn secret_aad(access_key_id: &str) -> Vec<u8> {
    [b"access-key-secret:".as_slice(), access_key_id.as_bytes()].concat()
}

pub struct App<S = SqliteStore> {
    store: S,
    master: SealingKey,
    keyring: KeyRing,
    region: String,
    signing_keys: SigningKeyCache,
    keys: KeyCache,
    host_keys: KeyCache<CachedHostKey>,
    last_use: LastUse,
    policies: PolicyCache,
    /// The audit trail; `None` in in-process tests that build an `App` without a data dir.
    audit: Option<Audit>,
    /// How EC2 writes wait for the metadata service to follow them (see `metadata::listeners`).
    instance_sync: InstanceSync,
    /// How many failing unauthenticated calls a client may make (`failure_limits`).
    failure_limits: FailureLimits,
    /// Which private addresses instances may be given (local or host mode).
    addressing: Addressing,
    /// Web identity issuers' keys (AssumeRoleWithWebIdentity).
    issuer_keys: IssuerKeys,
    /// What the admin listener's `/metrics` shows of the request layer and the services.
    metrics: ServerMetrics,
    /// The metadata service's instances and credential issuance, which the agent API serves
    /// hosts from; set when it starts (never in in-process tests of the API alone). Weak: the
    /// metadata service holds the `App`.
    instance_metadata: OnceLock<Weak<InstanceMetadata<S>>>,
    /// Becomes true when the server begins to stop, so long polls answer at once.
    stopping: watch::Sender<bool>,
}

impl<S> App<S> {
    pub fn new(store: S, master: SealingKey, keyring: KeyRing, region: String) -> Self {
        let metrics = ServerMetrics::default();
        Self {
            store,
            master,
            keyring,
            region,
            signing_keys: SigningKeyCache::default(),
            keys: KeyCache::new(metrics.caches.of(Cache::AccessKeys)),
            host_keys: KeyCache::new(metrics.caches.of(Cache::HostAgentKeys)),
            last_use: LastUse::default(),
            policies: PolicyCache::counted(metrics.caches.of(Cache::Policies)),
            audit: None,
            instance_sync: InstanceSync::default(),
            // Off until the server sets them from its flags.
            failure_limits: FailureLimits::new(FailureRate(0.0)),
            addressing: Addressing::default(),
            issuer_keys: IssuerKeys::default(),
            metrics,
            instance_metadata: OnceLock::new(),
            stopping: watch::channel(false).0,
        }
    }

    /// Hands the agent API the metadata service's instances (once; later calls do nothing).
    pub fn attach_instance_metadata(&self, metadata: &Arc<InstanceMetadata<S>>) {
        let _ = self.instance_metadata.set(Arc::downgrade(metadata));
    }

    /// The metadata service's instances, while it runs.
    pub fn instance_metadata(&self) -> Option<Arc<InstanceMetadata<S>>> {
        self.instance_metadata.get().and_then(Weak::upgrade)
    }

    /// Marks the server as stopping: calls that wait (long polls) answer now.
    pub fn begin_stopping(&self) {
        self.stopping.send_replace(true);
    }

    /// Watches for [`begin_stopping`](Self::begin_stopping).
    pub fn stopping(&self) -> watch::Receiver<bool> {
        self.stopping.subscribe()
    }

    /// The request layer's, the services' and the metadata service's metrics.
    pub fn metrics(&self) -> &ServerMetrics {
        &self.metrics
    }

    pub fn with_issuer_keys(mut self, keys: IssuerKeys) -> Self {
        self.issuer_keys = keys;
        self
    }

    /// Web identity issuers' keys: the operator's files and what discovery found.
    pub fn issuer_keys(&self) -> &IssuerKeys {
        &self.issuer_keys
    }

    pub fn with_addressing(mut self, addressing: Addressing) -> Self {
        self.addressing = addressing;
        self
    }

    pub fn addressing(&self) -> Addressing {
        self.addressing
    }

    pub fn with_audit(mut self, audit: Audit) -> Self {
        self.audit = Some(audit);
        self
    }

    pub fn with_failure_limits(mut self, limits: FailureLimits) -> Self {
        self.failure_limits = limits;
        self
    }

    pub fn failure_limits(&self) -> &FailureLimits {
        &self.failure_limits
    }

    pub fn audit(&self) -> Option<&Audit> {
        self.audit.as_ref()
    }

    pub fn instance_sync(&self) -> &InstanceSync {
        &self.instance_sync
    }

    /// Access keys' and roles' last uses not yet written to the store.
    pub fn last_use(&self) -> &LastUse {
        &self.last_use
    }

    /// Parsed identity policies per principal (see `policy_cache.rs`).
    pub fn policy_cache(&self) -> &PolicyCache {
        &self.policies
    }

    pub fn store(&self) -> &S {
        &self.store
    }

    pub fn keyring(&self) -> &KeyRing {
        &self.keyring
    }

    pub fn region(&self) -> &str {
        &self.region
    }

    pub fn signing_keys(&self) -> &SigningKeyCache {
        &self.signing_keys
    }

    /// Resolved long-term access keys; see `key_cache` for how it stays correct.
    pub fn key_cache(&self) -> &KeyCache {
        &self.keys
    }

    /// Resolved host agents' keys, following the store's EC2 counter (`key_cache`).
    pub fn host_key_cache(&self) -> &KeyCache<CachedHostKey> {
        &self.host_keys
    }

    pub fn seal_secret(&self, access_key_id: &str, secret: &str) -> Result<Vec<u8>, SealError> {
        seal_secret(&self.master, access_key_id, secret)
    }

    pub fn open_secret(
        &self,
        access_key_id: &str,
        ciphertext: &[u8],
    ) -> Result<Zeroizing<Vec<u8>>, SealError> {
        open_secret(&self.master, access_key_id, ciphertext)
    }
}

/// An access key's secret, sealed by [`seal_secret`] under `master` for that key ID.
pub fn open_secret(
    master: &SealingKey,
    access_key_id: &str,
    ciphertext: &[u8],
) -> Result<Zeroizing<Vec<u8>>, SealError> {
    master.open(&secret_aad(access_key_id), ciphertext)
}

pub fn seal_secret(
    master: &SealingKey,
    access_key_id: &str,
    secret: &str,
) -> Result<Vec<u8>, SealError> {
    master.seal(&secret_aad(access_key_id), secret.as_bytes())
}
