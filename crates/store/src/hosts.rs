//! The records of EC2 Dedicated Hosts and of their agents' credentials (migration 0019).

use time::OffsetDateTime;

use crate::model::{NewAccessKey, Tag};

/// A host's allocation state. EC2 knows more (`under-assessment`, `permanent-failure`, …);
/// these are the two a host reaches here.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum HostState {
    Available,
    Released,
}

impl HostState {
    /// The wire name, also the stored form.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Available => "available",
            Self::Released => "released",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "available" => Some(Self::Available),
            "released" => Some(Self::Released),
            _ => None,
        }
    }
}

/// What a host takes: one instance type, or every type of one family (`m5`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HostCapacity {
    InstanceType(String),
    InstanceFamily(String),
}

impl HostCapacity {
    /// Whether an instance of `instance_type` may be placed on the host: the same type, or a
    /// type of the family (`m5.large` is of `m5`).
    pub fn takes(&self, instance_type: &str) -> bool {
        match self {
            Self::InstanceType(t) => t == instance_type,
            Self::InstanceFamily(f) => instance_type
                .split_once('.')
                .is_some_and(|(family, _)| family == f),
        }
    }
}

/// An instance placed on a host, as DescribeHosts lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostInstance {
    pub instance_id: String,
    pub instance_type: String,
}

/// An EC2 Dedicated Host (`h-…`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Host {
    pub account_id: String,
    /// `h-` + 17 hex digits.
    pub id: String,
    pub availability_zone: String,
    pub capacity: HostCapacity,
    /// `on` or `off`, as EC2 spells these settings.
    pub auto_placement: String,
    pub host_recovery: String,
    pub host_maintenance: String,
    pub state: HostState,
    pub allocated: OffsetDateTime,
    pub released: Option<OffsetDateTime>,
    pub client_token: Option<String>,
    /// By key.
    pub tags: Vec<Tag>,
    /// The instances on it that are not terminated (stopped ones included: they keep their
    /// place), in instance ID order.
    pub instances: Vec<HostInstance>,
}

/// An AllocateHosts request as the store needs it; the caller validated every member and
/// made one agent key per host (its secret already sealed).
#[derive(Debug, Clone)]
pub struct NewHosts {
    pub availability_zone: String,
    pub capacity: HostCapacity,
    pub auto_placement: String,
    pub host_recovery: String,
    pub host_maintenance: String,
    pub tags: Vec<Tag>,
    /// One per host to allocate: as many hosts as keys.
    pub agent_keys: Vec<NewAccessKey>,
    /// With a token seen before, the hosts of that call are returned instead of new ones.
    pub client_token: Option<String>,
    /// A digest of the request's parameters: the same token with another fingerprint is an
    /// `IdempotentParameterMismatch`.
    pub fingerprint: String,
}

/// The hosts AllocateHosts allocated (or allocated earlier, for a repeated client token).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Allocation {
    pub hosts: Vec<Host>,
    /// True when the client token matched an earlier call.
    pub replayed: bool,
}

/// What ReleaseHosts did with one host ID.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HostRelease {
    /// Released now; its agent keys are gone.
    Released(String),
    /// Not an available host of the account (unknown, another account's, or released).
    NotFound(String),
    /// It still has instances that are not terminated.
    Occupied(String),
}

/// A host agent's access key. The secret is sealed by the caller; the store never sees it in
/// the clear.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostAgentKey {
    /// `AKIA…`
    pub access_key_id: String,
    pub host_id: String,
    pub account_id: String,
    pub secret_ciphertext: Vec<u8>,
    pub created: OffsetDateTime,
    /// From this time on the key no longer authenticates (a rotation's grace period ended);
    /// `None` while it is the host's current key.
    pub retires: Option<OffsetDateTime>,
}

impl HostAgentKey {
    /// Whether the key authenticates at `now`.
    pub fn is_current_at(&self, now: OffsetDateTime) -> bool {
        self.retires.is_none_or(|retires| now < retires)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_host_takes_its_type_or_its_familys_types() {
        let family = HostCapacity::InstanceFamily("m5".into());
        let single = HostCapacity::InstanceType("m5.large".into());
        for (capacity, instance_type, takes) in [
            (&family, "m5.large", true),
            (&family, "m5.24xlarge", true),
            (&family, "m5d.large", false),
            (&family, "m5", false),
            (&family, "c5.large", false),
            (&single, "m5.large", true),
            (&single, "m5.xlarge", false),
        ] {
            assert_eq!(
                capacity.takes(instance_type),
                takes,
                "{capacity:?} {instance_type}"
            );
        }
    }
}
