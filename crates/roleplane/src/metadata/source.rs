//! [`InstanceMetadata`]: the server's answer to IMDS — which instance is asking, the role
//! credentials EC2 issues on its behalf, and the signatures of its identity document.

use std::net::IpAddr;
use std::sync::{Arc, RwLock};
use std::time::UNIX_EPOCH;

use imds::{
    Clock, CredentialsResult, IdentitySignatures, InstanceView, MetadataSource, RoleDelivery,
};
use store::{ProfileRef, Store, StoreError};
use time::OffsetDateTime;

use super::credentials::{InstanceCredentials, IssuedSet, Lookup, Rotation, trust_allows_ec2};
use super::index::{Placement, Snapshot, profile_role};
use super::signed_documents::SignedDocuments;
use crate::audit::{InstanceCredentials as IssueRecord, WriteError};
use crate::credentials::{SessionClaims, SessionPrincipal, new_secret_access_key};
use crate::instance_identity::IdentitySigner;
use crate::metrics::{Cache, CacheCounters};
use crate::request::{App, GenerationCache};

/// How much of the served instances to read again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refresh {
    /// Every running instance (at start).
    Everything,
    /// The instances changed since the last look; with `roles`, also every profile's role
    /// (after an IAM write).
    Changes { roles: bool },
}

/// The metadata source of one server: instance lookup from an in-memory [`Snapshot`],
/// credential sets cached per (instance, role, delivery) with rotation, and identity document
/// signatures cached per instance.
pub struct InstanceMetadata<S> {
    app: Arc<App<S>>,
    snapshot: RwLock<Arc<Snapshot>>,
    sets: InstanceCredentials,
    /// Lookups of `sets`: a miss issues a new set (first request, rotation, revocation).
    sets_counters: CacheCounters,
    signed: SignedDocuments,
    /// Each profile's role by profile ARN, under the store's IAM change counter.
    roles: GenerationCache<ResolvedProfile>,
    clock: Arc<dyn Clock>,
}

/// A profile's role as last read; reused only for the same profile (not one re-created under
/// the name).
struct ResolvedProfile {
    profile_id: String,
    role: Option<RoleGrant>,
}

/// What issuing credentials for a role needs to know.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoleGrant {
    pub name: String,
    pub id: String,
    pub arn: String,
    pub trusts_ec2: bool,
    /// `AWSRevokeOlderSessions`: sets issued before this (epoch seconds) are not served.
    pub revoked_before: Option<i64>,
}

impl<S: Store> InstanceMetadata<S> {
    pub fn new(
        app: Arc<App<S>>,
        rotation: Rotation,
        clock: Arc<dyn Clock>,
        signer: Arc<IdentitySigner>,
    ) -> Self {
        let caches = &app.metrics().caches;
        Self {
            sets: InstanceCredentials::new(rotation),
            signed: SignedDocuments::counted(signer, caches.of(Cache::IdentitySignatures)),
            roles: GenerationCache::counted(caches.of(Cache::ImdsProfileRoles)),
            sets_counters: caches.of(Cache::ImdsCredentials),
            app,
            snapshot: RwLock::default(),
            clock,
        }
    }

    pub fn app(&self) -> &App<S> {
        &self.app
    }

    /// The instances currently served.
    pub fn snapshot(&self) -> Arc<Snapshot> {
        self.snapshot
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Brings the served instances up to date (see [`Refresh`]). Cached sets of instances no
    /// longer running are dropped, so a stopped and restarted instance starts with a fresh set.
    pub async fn reload(&self, refresh: Refresh) -> Result<Arc<Snapshot>, StoreError> {
        let (store, region) = (self.app.store(), self.app.region());
        let addressing = self.app.addressing();
        let current = self.snapshot();
        let (fresh, gone) = match refresh {
            Refresh::Everything => {
                let fresh = Snapshot::load(store, region, addressing).await?;
                let gone = current
                    .instance_ids()
                    .filter(|id| fresh.placement(id).is_none())
                    .map(str::to_owned)
                    .collect();
                (fresh, gone)
            }
            Refresh::Changes { roles } => {
                let (mut fresh, gone) = match current.patch(store, region, addressing).await? {
                    Some((patched, gone)) => (Some(patched), gone),
                    None => (None, Vec::new()),
                };
                if roles {
                    let base = fresh.as_ref().unwrap_or(&current);
                    if let Some(reread) = base.with_roles_reread(store).await? {
                        fresh = Some(reread);
                    }
                }
                match fresh {
                    Some(fresh) => (fresh, gone),
                    None => return Ok(current),
                }
            }
        };
        let fresh = Arc::new(fresh);
        *self.snapshot.write().unwrap_or_else(|e| e.into_inner()) = fresh.clone();
        for id in &gone {
            self.sets.forget_instance(id);
            self.signed.forget_instance(id);
        }
        Ok(fresh)
    }

    fn now_secs(&self) -> i64 {
        let now = self.clock.now();
        let secs = now.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
        i64::try_from(secs).unwrap_or(i64::MAX)
    }

    /// The credential rotation schedule.
    pub fn rotation(&self) -> Rotation {
        self.sets.rotation()
    }

    /// The identity document of `view` and its signatures, made once per document.
    pub fn signed_document(
        &self,
        view: &InstanceView,
    ) -> Result<(Vec<u8>, Arc<IdentitySignatures>), crate::instance_identity::SignError> {
        let mut document = Vec::with_capacity(640);
        imds::identity_document(view, &mut document);
        let signatures = self.signed.signatures(&view.instance_id, &document)?;
        Ok((document, signatures))
    }

    /// The profile's role, from the cache while no IAM write was committed since it was read,
    /// by this server or by any process on the data (`roleplane role revoke-sessions` too).
    pub async fn grant(
        &self,
        account: &str,
        profile: &ProfileRef,
    ) -> Result<Option<RoleGrant>, StoreError> {
        // Read before the role, so a write racing the read leaves the entry outdated.
        let generation = self.app.store().changes().iam;
        if let Some(cached) = self.roles.get(&profile.arn, generation)
            && cached.profile_id == profile.id
        {
            return Ok(cached.role.clone());
        }
        let role = self.resolve(account, profile).await?;
        let resolved = ResolvedProfile {
            profile_id: profile.id.clone(),
            role: role.clone(),
        };
        self.roles
            .insert(&profile.arn, generation, Arc::new(resolved));
        Ok(role)
    }

    /// The profile's role as the store has it now.
    async fn resolve(
        &self,
        account: &str,
        profile: &ProfileRef,
    ) -> Result<Option<RoleGrant>, StoreError> {
        let store = self.app.store();
        Ok(match profile_role(store, account, profile).await? {
            Some(role) => Some(RoleGrant {
                trusts_ec2: trust_allows_ec2(&role.arn, account, &role.assume_role_policy),
                revoked_before: crate::iam::revoke::revoked_before(store, account, &role.name)
                    .await?,
                name: role.name,
                id: role.id,
                arn: role.arn,
            }),
            None => None,
        })
    }

    /// A new set for `role` on the instance's behalf: the assumed-role session EC2 creates,
    /// session name = instance ID, with the instance's condition keys.
    fn issue(
        &self,
        instance_id: &str,
        placement: &Placement,
        role: &RoleGrant,
        delivery: RoleDelivery,
        now: i64,
    ) -> Result<IssuedSet, IssueError> {
        let lifetime = i64::try_from(self.sets.rotation().lifetime.as_secs()).unwrap_or(i64::MAX);
        let claims = SessionClaims {
            access_key_id: store::ids::session_access_key_id(),
            secret_access_key: new_secret_access_key().map_err(|_| IssueError::Random)?,
            account_id: placement.account_id.clone(),
            principal: SessionPrincipal::AssumedRole {
                role_arn: role.arn.clone(),
                role_id: role.id.clone(),
                session_name: instance_id.to_owned(),
            },
            issued_at: now,
            // EC2's own lifetime, not bound by the role's MaxSessionDuration.
            expires_at: now.saturating_add(lifetime),
            session_policies: Vec::new(),
            tags: Vec::new(),
            transitive_tag_keys: Vec::new(),
            source_identity: None,
            context: vec![
                (
                    "ec2:SourceInstanceARN".to_owned(),
                    placement.instance_arn.clone(),
                ),
                ("ec2:RoleDelivery".to_owned(), delivery.as_str().to_owned()),
                (
                    "aws:Ec2InstanceSourcePrivateIPv4".to_owned(),
                    placement.private_ip.clone(),
                ),
            ],
            chained: false,
        };
        let token = self
            .app
            .keyring()
            .seal(&claims)
            .map_err(|_| IssueError::Seal)?;
        Ok(IssuedSet::new(claims, token))
    }

    /// The instance's current role credentials for `delivery`: its cached set while it is
    /// fresh, else a new one issued and recorded (EC2's `AssumeRole`) now. For this server's
    /// metadata service and for hosts' agents (the agent API).
    pub async fn role_credentials(
        &self,
        instance_id: &str,
        delivery: RoleDelivery,
    ) -> Result<CredentialsResult, IssueError> {
        let snapshot = self.snapshot();
        let Some(placement) = snapshot.placement(instance_id) else {
            return Ok(CredentialsResult::NoRole);
        };
        let Some(profile) = &placement.profile else {
            return Ok(CredentialsResult::NoRole);
        };
        let Some(role) = self.grant(&placement.account_id, profile).await? else {
            return Ok(CredentialsResult::NoRole);
        };
        let now = self.now_secs();
        if !role.trusts_ec2 {
            return Ok(CredentialsResult::AssumeRoleUnauthorized {
                role_name: role.name,
                last_updated: self.clock.now(),
            });
        }
        let imds = &self.app.metrics().imds;
        let lookup = self
            .sets
            .lookup(instance_id, &role.id, delivery, now, role.revoked_before);
        self.sets_counters
            .lookup(matches!(lookup, Lookup::Fresh(_)));
        let fallback = match lookup {
            Lookup::Fresh(set) => {
                return Ok(CredentialsResult::Issued(set.served.clone()));
            }
            Lookup::Due { fallback } => fallback,
        };
        let set = Arc::new(self.issue(instance_id, placement, &role, delivery, now)?);
        // A set reaches the instance only once its record is durable. When the trail cannot take
        // it (disk full), the previous set is served while it lasts; it was recorded.
        if let Err(error) = self.record_issue(instance_id, &role, &set).await {
            tracing::error!(%error, instance_id, "instance credential issue not recorded");
            let previous = fallback.ok_or(IssueError::NotRecorded)?;
            return Ok(CredentialsResult::Issued(previous.served.clone()));
        }
        imds.credentials_issued.inc();
        self.sets
            .install(instance_id, &role.id, delivery, set.clone());
        // EC2 assumed the role on the instance's behalf: that is a use of the role.
        let at = u64::try_from(now).unwrap_or(0);
        self.app
            .last_use()
            .role_used(&role.id, at, self.app.region());
        Ok(CredentialsResult::Issued(set.served.clone()))
    }

    /// CloudTrail's `AssumeRole` invoked by `ec2.amazonaws.com`, durable before the set is served.
    async fn record_issue(
        &self,
        instance_id: &str,
        role: &RoleGrant,
        set: &IssuedSet,
    ) -> Result<(), WriteError> {
        let Some(audit) = self.app.audit() else {
            return Ok(());
        };
        let claims = &set.claims;
        let at = |secs: i64| {
            OffsetDateTime::from_unix_timestamp(secs).unwrap_or(OffsetDateTime::UNIX_EPOCH)
        };
        let record = IssueRecord {
            account_id: &claims.account_id,
            region: self.app.region(),
            role_arn: &role.arn,
            instance_id,
            access_key_id: &claims.access_key_id,
            issued_at: at(claims.issued_at),
            expires_at: at(claims.expires_at),
        };
        audit.record_instance_credentials(&record).await
    }
}

/// The source handed to [`imds::Imds`]; the reconciler keeps its own handle on the same data.
pub struct Served<S>(pub Arc<InstanceMetadata<S>>);

impl<S: Store> MetadataSource for Served<S> {
    fn instance(&self, addr: IpAddr) -> Option<Arc<InstanceView>> {
        // An instance on a Dedicated Host is its host agent's to serve, and nobody here
        // (decision 0028): a caller at its address gets what a stranger gets.
        self.0
            .snapshot
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .instance(addr)
            .filter(|view| view.host_id.is_none())
    }

    async fn credentials(&self, instance_id: &str, delivery: RoleDelivery) -> CredentialsResult {
        match self.0.role_credentials(instance_id, delivery).await {
            Ok(result) => {
                if matches!(result, CredentialsResult::Issued(_)) {
                    self.0.app.metrics().imds.credentials_served.inc();
                }
                result
            }
            Err(error) => {
                // IMDS has no error document for this; an SDK treats 404 as "no credentials
                // here (yet)" and retries later, which is right for a passing failure.
                tracing::error!(%error, instance_id, "issuing instance role credentials");
                CredentialsResult::NoRole
            }
        }
    }

    fn identity_signatures(
        &self,
        instance: &InstanceView,
        document: &[u8],
    ) -> Option<Arc<IdentitySignatures>> {
        match self.0.signed.signatures(&instance.instance_id, document) {
            Ok(signatures) => Some(signatures),
            Err(error) => {
                // The signature paths answer 404 until signing works again; the document stays.
                let instance_id = instance.instance_id.as_str();
                tracing::error!(%error, instance_id, "signing the instance identity document");
                None
            }
        }
    }
}

/// Why no credential set could be handed out.
#[derive(Debug, thiserror::Error)]
pub enum IssueError {
    #[error("reading the instance profile's role: {0}")]
    Store(#[from] StoreError),
    #[error("the random source failed")]
    Random,
    #[error("sealing the session token failed")]
    Seal,
    #[error("the audit trail cannot take the issue's record")]
    NotRecorded,
}
