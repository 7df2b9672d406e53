//! Role credentials for instances: EC2 assumes the instance profile's role on the instance's
//! behalf, with the instance ID as session name.
//!
//! **Rotation.** A set lives [`Rotation::lifetime`] (EC2's are about 6 h) and is replaced once it
//! is [`Rotation::refresh_after`] old (1 h), so every set served has hours left — botocore warns
//! and extends when under ~20 min — and a new set always exists long before the old one expires
//! (EC2 promises at least 5 min). Old sets stay valid until their own expiry: they are
//! self-contained session tokens, nothing revokes them but a policy on `aws:TokenIssueTime`.
//!
//! IMDSv1 and IMDSv2 callers get separate sets (`ec2:RoleDelivery` 1.0 and 2.0), as EC2 does.
//! Sets are cached per (instance, role, delivery): a replaced association names another role and
//! so gets a fresh set at the next request; a gone association gets none.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, UNIX_EPOCH};

use imds::RoleDelivery;
use policy::{Policy, PolicyKind, PolicySet, Principal, PrincipalKind, Request, evaluate};

use crate::credentials::SessionClaims;

/// The service principal EC2 assumes instance roles as.
pub const EC2_SERVICE: &str = "ec2.amazonaws.com";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rotation {
    pub lifetime: Duration,
    pub refresh_after: Duration,
}

impl Default for Rotation {
    fn default() -> Self {
        Self {
            lifetime: Duration::from_secs(6 * 3600),
            refresh_after: Duration::from_secs(3600),
        }
    }
}

impl Rotation {
    /// The least time between a set's refresh and its expiry.
    pub const MARGIN: Duration = Duration::from_secs(15 * 60);

    /// A schedule where the next set always exists well before the current one expires.
    pub fn new(lifetime: Duration, refresh_after: Duration) -> Result<Self, String> {
        Self::with_margin(lifetime, refresh_after, Self::MARGIN)
    }

    /// [`Rotation::new`] with another least margin: for tests that watch sets expire within
    /// a minute (`ROLEPLANE_TEST_ROTATION_MARGIN`, read by `serve` only).
    pub fn with_margin(
        lifetime: Duration,
        refresh_after: Duration,
        margin: Duration,
    ) -> Result<Self, String> {
        if lifetime < refresh_after + margin {
            let (secs, minutes) = (margin.as_secs(), margin.as_secs() / 60);
            let margin = if secs % 60 == 0 {
                format!("{minutes} min")
            } else {
                format!("{secs} s")
            };
            return Err(format!(
                "credentials must be refreshed at least {margin} before they expire"
            ));
        }
        Ok(Self {
            lifetime,
            refresh_after,
        })
    }
}

/// One issued set: the claims (with the secret), the sealed token, and the set as IMDS serves it.
#[derive(Debug)]
pub struct IssuedSet {
    pub claims: SessionClaims,
    pub token: String,
    /// Built once per set, so serving it costs a reference count rather than three copies.
    pub served: Arc<imds::Credentials>,
}

impl IssuedSet {
    pub fn new(claims: SessionClaims, token: String) -> Self {
        let epoch = |secs: i64| UNIX_EPOCH + Duration::from_secs(u64::try_from(secs).unwrap_or(0));
        let served = Arc::new(imds::Credentials::new(
            claims.access_key_id.clone(),
            claims.secret_access_key.clone(),
            token.clone(),
            epoch(claims.issued_at),
            epoch(claims.expires_at),
        ));
        Self {
            claims,
            token,
            served,
        }
    }
}

/// What [`InstanceCredentials::lookup`] found.
#[derive(Debug)]
pub enum Lookup {
    /// The cached set, still the one to serve.
    Fresh(Arc<IssuedSet>),
    /// A new set is due. `fallback` is the previous set when it is past its refresh age but
    /// neither expired nor revoked: still servable if a new set cannot be issued and recorded.
    Due { fallback: Option<Arc<IssuedSet>> },
}

/// The sets of one instance: one per (role, delivery) it was served.
type InstanceSets = Vec<(String, RoleDelivery, Arc<IssuedSet>)>;

/// The current set of every (instance, role, delivery), found by instance ID without allocating.
#[derive(Default)]
pub struct InstanceCredentials {
    rotation: Rotation,
    sets: Mutex<HashMap<String, InstanceSets>>,
}

impl InstanceCredentials {
    pub fn new(rotation: Rotation) -> Self {
        Self {
            rotation,
            sets: Mutex::default(),
        }
    }

    pub fn rotation(&self) -> Rotation {
        self.rotation
    }

    /// What the cache holds for (instance, role, delivery) at `now` (epoch seconds): a set to
    /// serve while it is younger than the refresh age and was issued at or after `not_before`
    /// (a revocation time); otherwise a new one is due.
    pub fn lookup(
        &self,
        instance_id: &str,
        role_id: &str,
        delivery: RoleDelivery,
        now: i64,
        not_before: Option<i64>,
    ) -> Lookup {
        let refresh_after =
            i64::try_from(self.rotation.refresh_after.as_secs()).unwrap_or(i64::MAX);
        let cached = self.lock().get(instance_id).and_then(|sets| {
            sets.iter()
                .find(|(role, d, _)| role == role_id && *d == delivery)
                .map(|(_, _, set)| set.clone())
        });
        let Some(set) = cached else {
            return Lookup::Due { fallback: None };
        };
        // A revocation denies sessions issued before its time (`DateLessThan`).
        let unrevoked = not_before.is_none_or(|t| set.claims.issued_at >= t);
        if !unrevoked {
            return Lookup::Due { fallback: None };
        }
        if now.saturating_sub(set.claims.issued_at) < refresh_after {
            return Lookup::Fresh(set);
        }
        let unexpired = now < set.claims.expires_at;
        Lookup::Due {
            fallback: unexpired.then_some(set),
        }
    }

    /// Makes `set` the one served for (instance, role, delivery). Two racing first requests may
    /// both issue; the later one wins the slot and both sets are valid.
    pub fn install(
        &self,
        instance_id: &str,
        role_id: &str,
        delivery: RoleDelivery,
        set: Arc<IssuedSet>,
    ) {
        let mut sets = self.lock();
        let slots = sets.entry(instance_id.to_owned()).or_default();
        match slots
            .iter_mut()
            .find(|(role, d, _)| role == role_id && *d == delivery)
        {
            Some(slot) => slot.2 = set,
            None => slots.push((role_id.to_owned(), delivery, set)),
        }
    }

    /// Drops every cached set of an instance (terminated, stopped, disassociated).
    pub fn forget_instance(&self, instance_id: &str) {
        self.lock().remove(instance_id);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, InstanceSets>> {
        // A panic elsewhere while holding the lock leaves a map that is still consistent.
        self.sets.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Whether the role's trust policy lets EC2 assume it. EC2 answers `AssumeRoleUnauthorizedAccess`
/// when it does not.
pub fn trust_allows_ec2(role_arn: &str, role_account: &str, trust_policy: &str) -> bool {
    let Ok(trust) = Policy::parse(trust_policy, PolicyKind::Trust) else {
        return false;
    };
    let request = Request {
        principal: Principal::new(PrincipalKind::Service(EC2_SERVICE.to_owned())),
        action: "sts:AssumeRole".to_owned(),
        resource: role_arn.to_owned(),
        resource_account: role_account.to_owned(),
        context: policy::Context::new(),
    };
    let policies = PolicySet {
        resource: Some(trust),
        ..PolicySet::default()
    };
    evaluate(&request, &policies).is_allowed()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::credentials::SessionPrincipal;

    fn set(issued_at: i64) -> Result<IssuedSet, ()> {
        Ok(IssuedSet::new(
            SessionClaims {
                access_key_id: format!("ASIA{issued_at:016}"),
                secret_access_key: "s".into(),
                account_id: "123456789012".into(),
                principal: SessionPrincipal::RootSession,
                issued_at,
                expires_at: issued_at + 21600,
                session_policies: vec![],
                tags: vec![],
                transitive_tag_keys: vec![],
                source_identity: None,
                context: vec![],
                chained: false,
            },
            "t".into(),
        ))
    }

    /// `lookup`, then `install` of a new set when one is due: what the source does when the
    /// record of the new set is durable.
    fn serve(
        creds: &InstanceCredentials,
        (instance, role, delivery): (&str, &str, RoleDelivery),
        now: i64,
        not_before: Option<i64>,
    ) -> Arc<IssuedSet> {
        match creds.lookup(instance, role, delivery, now, not_before) {
            Lookup::Fresh(set) => set,
            Lookup::Due { .. } => {
                let new = Arc::new(set(now).unwrap());
                creds.install(instance, role, delivery, new.clone());
                new
            }
        }
    }

    const I1: (&str, &str, RoleDelivery) = ("i-1", "AROA1", RoleDelivery::V2);

    #[test]
    fn a_set_is_reused_until_it_is_an_hour_old_then_replaced() {
        let creds = InstanceCredentials::default();
        let first = serve(&creds, I1, 1000, None);
        let again = serve(&creds, I1, 1000 + 3599, None);
        assert_eq!(again.claims.access_key_id, first.claims.access_key_id);
        let next = serve(&creds, I1, 1000 + 3600, None);
        assert_ne!(next.claims.access_key_id, first.claims.access_key_id);
        // The old set still had 5 hours left when the new one appeared.
        assert_eq!(first.claims.expires_at - 4600, 5 * 3600);
    }

    #[test]
    fn a_due_set_falls_back_to_the_previous_one_only_while_it_is_valid_and_unrevoked() {
        let creds = InstanceCredentials::default();
        let first = serve(&creds, I1, 1000, None);
        let fallback =
            |now, not_before| match creds.lookup("i-1", "AROA1", RoleDelivery::V2, now, not_before)
            {
                Lookup::Due { fallback } => fallback.map(|s| s.claims.issued_at),
                Lookup::Fresh(_) => panic!("not due at {now}"),
            };
        // Past the refresh age, not installed anew (its record failed): the old set remains.
        assert_eq!(fallback(1000 + 3600, None), Some(first.claims.issued_at));
        assert_eq!(fallback(first.claims.expires_at - 1, None), Some(1000));
        assert_eq!(fallback(first.claims.expires_at, None), None);
        assert_eq!(fallback(1000 + 3600, Some(1001)), None);
        assert!(matches!(
            creds.lookup("i-2", "AROA1", RoleDelivery::V2, 1000, None),
            Lookup::Due { fallback: None }
        ));
    }

    #[test]
    fn deliveries_roles_and_instances_get_separate_sets() {
        let creds = InstanceCredentials::default();
        let v2 = serve(&creds, I1, 10, None);
        let v1 = serve(&creds, ("i-1", "AROA1", RoleDelivery::V1), 10, None);
        let other_role = serve(&creds, ("i-1", "AROA2", RoleDelivery::V2), 10, None);
        let other_instance = serve(&creds, ("i-2", "AROA1", RoleDelivery::V2), 10, None);
        let sets = [&v2, &v1, &other_role, &other_instance];
        let distinct: std::collections::HashSet<_> = sets.iter().map(|s| Arc::as_ptr(s)).collect();
        assert_eq!(distinct.len(), 4);
        // Each is served again as itself.
        assert!(Arc::ptr_eq(
            &v1,
            &serve(&creds, ("i-1", "AROA1", RoleDelivery::V1), 11, None)
        ));
    }

    #[test]
    fn revocation_and_forgetting_force_a_new_set() {
        let creds = InstanceCredentials::default();
        serve(&creds, I1, 100, None);
        let revoked = serve(&creds, I1, 200, Some(150));
        assert_eq!(revoked.claims.issued_at, 200);
        creds.forget_instance("i-1");
        let after = serve(&creds, I1, 201, None);
        assert_eq!(after.claims.issued_at, 201);
    }

    #[test]
    fn rotation_must_leave_time_before_expiry() {
        assert!(Rotation::new(Duration::from_secs(3600), Duration::from_secs(3600)).is_err());
        assert!(Rotation::new(Duration::from_secs(6 * 3600), Duration::from_secs(3600)).is_ok());
    }

    #[test]
    fn trust_for_ec2_is_checked_by_the_policy_engine() {
        let arn = "arn:aws:iam::123456789012:role/s3access";
        let ec2 = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;
        let lambda = ec2.replace("ec2.amazonaws.com", "lambda.amazonaws.com");
        let denied = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"},{"Effect":"Deny","Principal":"*","Action":"sts:AssumeRole"}]}"#;
        assert!(trust_allows_ec2(arn, "123456789012", ec2));
        assert!(!trust_allows_ec2(arn, "123456789012", &lambda));
        assert!(!trust_allows_ec2(arn, "123456789012", denied));
        assert!(!trust_allows_ec2(arn, "123456789012", "not json"));
    }
}
