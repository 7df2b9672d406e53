//! The records the store keeps, and the inputs that create them. Plain data: no XML, no HTTP.
//!
//! Who assigns what: the store gives every IAM entity its unique ID ([`crate::ids`]), its ARN
//! and its timestamps, so they are born consistent inside the transaction that creates them.
//! The one exception is an access key, whose ID the caller chooses: the caller encrypts the
//! secret (typically binding the ID into the ciphertext) before the store ever sees it.
//! Timestamps have millisecond precision, the precision they are stored with.

use time::OffsetDateTime;

/// A key/value tag. Keys are unique per entity case-insensitively; the spelling is kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tag {
    pub key: String,
    pub value: String,
}

impl Tag {
    pub fn new(key: impl Into<String>, value: impl Into<String>) -> Self {
        Self {
            key: key.into(),
            value: value.into(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    /// 12 decimal digits.
    pub id: String,
    pub created: OffsetDateTime,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub account_id: String,
    /// `AIDA…`
    pub id: String,
    pub name: String,
    pub path: String,
    pub arn: String,
    pub created: OffsetDateTime,
    pub permissions_boundary_arn: Option<String>,
    /// Empty in list results: AWS's list operations omit tags.
    pub tags: Vec<Tag>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AccessKeyStatus {
    Active,
    Inactive,
}

impl AccessKeyStatus {
    /// The spelling AWS uses on the wire, also the stored form.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Active => "Active",
            Self::Inactive => "Inactive",
        }
    }

    pub(crate) fn parse(text: &str) -> Option<Self> {
        match text {
            "Active" => Some(Self::Active),
            "Inactive" => Some(Self::Inactive),
            _ => None,
        }
    }
}

/// When and where a credential or role was last used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LastUsed {
    pub date: OffsetDateTime,
    pub region: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessKey {
    /// `AKIA…`
    pub access_key_id: String,
    pub account_id: String,
    pub user_name: String,
    pub user_id: String,
    pub status: AccessKeyStatus,
    /// The secret access key encrypted by the caller; the store never sees the plaintext.
    pub secret_ciphertext: Vec<u8>,
    pub created: OffsetDateTime,
    pub last_used: Option<LastUsed>,
}

/// A new access key for a user; the caller generated the ID and encrypted the secret.
#[derive(Debug, Clone)]
pub struct NewAccessKey {
    pub access_key_id: String,
    pub secret_ciphertext: Vec<u8>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Role {
    pub account_id: String,
    /// `AROA…`
    pub id: String,
    pub name: String,
    pub path: String,
    pub arn: String,
    pub created: OffsetDateTime,
    /// The trust policy, verbatim as the caller gave it.
    pub assume_role_policy: String,
    pub description: Option<String>,
    /// Seconds, 3600–43200.
    pub max_session_duration: u32,
    pub permissions_boundary_arn: Option<String>,
    /// Empty in list results: AWS's list operations omit tags.
    pub tags: Vec<Tag>,
    pub last_used: Option<LastUsed>,
}

/// AWS's default `MaxSessionDuration`.
pub const DEFAULT_MAX_SESSION_DURATION: u32 = 3600;

#[derive(Debug, Clone)]
pub struct NewRole {
    pub name: String,
    pub path: String,
    pub assume_role_policy: String,
    pub description: Option<String>,
    /// `None` means [`DEFAULT_MAX_SESSION_DURATION`].
    pub max_session_duration: Option<u32>,
    /// Must name a managed policy in the store.
    pub permissions_boundary_arn: Option<String>,
    pub tags: Vec<Tag>,
}

impl NewRole {
    /// A role at path `/` with only the required members set.
    pub fn new(name: impl Into<String>, assume_role_policy: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            path: "/".to_owned(),
            assume_role_policy: assume_role_policy.into(),
            description: None,
            max_session_duration: None,
            permissions_boundary_arn: None,
            tags: Vec::new(),
        }
    }
}

/// UpdateRole: members left `None` keep their value.
#[derive(Debug, Clone, Default)]
pub struct RoleUpdate {
    pub description: Option<String>,
    pub max_session_duration: Option<u32>,
}

#[derive(Debug, Clone)]
pub struct NewUser {
    pub name: String,
    pub path: String,
    /// Must name a managed policy in the store.
    pub permissions_boundary_arn: Option<String>,
    pub tags: Vec<Tag>,
}

impl NewUser {
    /// A user at path `/` with no boundary and no tags.
    pub fn new(name: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            path: "/".to_owned(),
            permissions_boundary_arn: None,
            tags: Vec::new(),
        }
    }
}

/// An inline policy of a role or user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InlinePolicy {
    pub name: String,
    /// The policy JSON, verbatim.
    pub document: String,
    /// Its size as the caller measured it for quotas (non-whitespace characters).
    pub size: u64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ManagedPolicy {
    pub account_id: String,
    /// `ANPA…`
    pub id: String,
    pub name: String,
    pub path: String,
    pub arn: String,
    /// `v1`, `v2`, …
    pub default_version_id: String,
    /// Roles and users it is attached to.
    pub attachment_count: u32,
    /// Roles and users it bounds.
    pub permissions_boundary_usage_count: u32,
    pub description: Option<String>,
    pub created: OffsetDateTime,
    pub updated: OffsetDateTime,
    /// Empty in list results: AWS's list operations omit tags.
    pub tags: Vec<Tag>,
}

#[derive(Debug, Clone)]
pub struct NewPolicy {
    pub name: String,
    pub path: String,
    /// The document of version `v1`, the default.
    pub document: String,
    pub description: Option<String>,
    pub tags: Vec<Tag>,
}

impl NewPolicy {
    pub fn new(name: impl Into<String>, document: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            path: "/".to_owned(),
            document: document.into(),
            description: None,
            tags: Vec::new(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyVersion {
    pub version_id: String,
    pub document: String,
    pub is_default: bool,
    pub created: OffsetDateTime,
}

/// A managed policy as listed under a role or user (ListAttached*Policies).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttachedPolicy {
    pub name: String,
    pub arn: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InstanceProfile {
    pub account_id: String,
    /// `AIPA…`
    pub id: String,
    pub name: String,
    pub path: String,
    pub arn: String,
    pub created: OffsetDateTime,
    /// Zero or one role (a hard limit); the roles carry no tags.
    pub roles: Vec<Role>,
    /// Empty in list results: AWS's list operations omit tags.
    pub tags: Vec<Tag>,
}

#[derive(Debug, Clone)]
pub struct NewInstanceProfile {
    pub name: String,
    pub path: String,
    pub tags: Vec<Tag>,
}

impl NewInstanceProfile {
    pub fn new(name: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            path: "/".to_owned(),
            tags: Vec::new(),
        }
    }
}

/// One key of the session-token key ring, encrypted by the caller under the master key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenKey {
    pub kid: String,
    pub created: OffsetDateTime,
    pub ciphertext: Vec<u8>,
}

/// A role or user, named as the IAM management API names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Principal<'a> {
    Role(&'a str),
    User(&'a str),
}

/// An entity that carries tags.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Taggable<'a> {
    Role(&'a str),
    User(&'a str),
    InstanceProfile(&'a str),
    /// By ARN, as the policy APIs name policies.
    Policy(&'a str),
}

/// Everything the policy engine needs about a principal's own permissions, read in one call.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct IdentityPolicies {
    /// Inline policies, by name order.
    pub inline: Vec<InlinePolicy>,
    /// Default versions of the attached managed policies, by ARN order.
    pub managed: Vec<ManagedDocument>,
    /// The permissions boundary, if one is set.
    pub permissions_boundary: Option<ManagedDocument>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ManagedDocument {
    pub arn: String,
    /// The default version's document. `None` only for a boundary ARN the store cannot resolve,
    /// which the caller must treat as denying everything rather than as "no boundary".
    pub document: Option<String>,
}
