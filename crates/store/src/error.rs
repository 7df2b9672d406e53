//! The store's typed errors: what went wrong, never how a service words it.
//!
//! Each service maps a [`StoreError`] to its own AWS error code, status and message (IAM in
//! `roleplane::iam::store_errors`, EC2 in `roleplane::ec2::error`); the store only says which
//! entity was missing or duplicated, which quota or conflict refused a write, and why EC2
//! state did not allow it. The `Display` texts are for logs, never for a response body.

/// What kind of thing was missing or duplicated. Two-part names (a version of a policy, a role
/// in a profile) carry their parent here so a service's message can name both.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EntityKind {
    Account,
    User,
    Role,
    /// An inline policy of a role (`name` is the policy name).
    RolePolicy,
    /// An inline policy of a user (`name` is the policy name).
    UserPolicy,
    Group,
    /// An inline policy of a group (`name` is the policy name).
    GroupPolicy,
    /// A managed policy looked up by ARN for itself (`name` is the ARN).
    Policy,
    /// A managed policy named by ARN to be attached (`name` is the ARN).
    AttachablePolicy,
    /// A managed policy named as a permissions boundary (`name` is the ARN).
    PermissionsBoundary,
    /// A version of a managed policy (`name` is the version id).
    PolicyVersion {
        policy_arn: String,
    },
    InstanceProfile,
    /// A role expected in an instance profile (`name` is the role name).
    InstanceProfileRole {
        instance_profile: String,
    },
    AccessKey,
    TokenKey,
    /// A key of the deployment (`name` is its name, e.g. `instance-identity`).
    DeploymentKey,
    /// An EC2 instance (`name` is its `i-…` ID).
    Instance,
    /// An instance-profile association (`name` is its `iip-assoc-…` ID).
    Association,
    /// An EC2 key pair (`name` is its name).
    KeyPair,
    /// An EC2 key pair named by its ID (`name` is its `key-…` ID).
    KeyPairId,
    /// An S3 bucket (`name` is its name).
    Bucket,
    /// An S3 object (`name` is its key).
    Object,
    /// An S3 multipart upload (`name` is its upload ID).
    Upload,
    /// An account alias (`name` is the alias).
    AccountAlias,
    /// An OpenID Connect provider (`name` is its ARN, or its URL for a duplicate).
    OidcProvider,
    /// A user's login profile (`name` is the user's name).
    LoginProfile,
    /// An EC2 Dedicated Host (`name` is its `h-…` ID).
    Host,
}

/// Why EC2 refused a write that the stored state does not allow. The EC2 service words these.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ec2Rejection {
    /// The instance is not in a state that allows the operation.
    InstanceState { instance_id: String, state: String },
    /// The change needs a stopped instance (ModifyInstanceAttribute's user data).
    NotStopped { instance_id: String },
    /// The instance already has an active association.
    ExistingAssociation { instance_id: String },
    /// The association is not the active association of a running instance.
    NotActiveAssociation { association_id: String },
    /// A client token reused with different parameters.
    IdempotentParameterMismatch,
    /// A requested private address is held by a live instance.
    AddressInUse { address: String },
    /// No loopback address is left to allocate.
    AddressesExhausted,
    /// A requested private address no instance may have (0.0.0.0, or loopback outside the
    /// range the store assigns from; see `sqlite::loopback`).
    AddressUnusable { address: String },
    /// The Dedicated Host a launch names is not available (released).
    HostUnavailable { host_id: String },
    /// The Dedicated Host a launch names does not take the instance type.
    HostIncompatible {
        host_id: String,
        instance_type: String,
    },
}

/// Which quota a write would exceed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Quota {
    /// Roles per instance profile: 1, a hard limit.
    RolesPerInstanceProfile,
    PoliciesPerRole(usize),
    PoliciesPerUser(usize),
    PoliciesPerGroup(usize),
    AccessKeysPerUser(usize),
    PolicyVersions(usize),
    /// Aggregate inline policy size of a role, in non-whitespace characters.
    RoleInlinePolicySize {
        max: u64,
        role: String,
    },
    /// Aggregate inline policy size of a user, in non-whitespace characters.
    UserInlinePolicySize {
        max: u64,
        user: String,
    },
    /// Aggregate inline policy size of a group, in non-whitespace characters.
    GroupInlinePolicySize {
        max: u64,
        group: String,
    },
    /// OpenID Connect providers per account.
    OidcProvidersPerAccount(usize),
    /// Client IDs per OpenID Connect provider.
    ClientIdsPerOidcProvider(usize),
    /// Tags on one EC2 resource (`resource` is its ID).
    Ec2TagsPerResource {
        max: usize,
        resource: String,
    },
}

/// Why a delete was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Conflict {
    /// A role still sits in an instance profile, or a profile still holds a role.
    InstanceProfileMembership,
    /// Managed policies are still attached to the role or user.
    AttachedPolicies,
    /// Inline policies still exist on the role or user.
    InlinePolicies,
    /// The user still has access keys.
    AccessKeys,
    /// The user still has a login profile (a console password).
    LoginProfile,
    /// The group still has members, or the user is still in a group.
    GroupMembership,
    /// The managed policy is still attached to (or bounds) a role or user.
    PolicyInUse,
    /// The managed policy still has versions besides the default one.
    PolicyVersions,
    /// The version to delete is the default one.
    DefaultVersion,
    /// The bucket still holds objects.
    BucketNotEmpty,
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("not found: {kind:?} {name}")]
    NotFound { kind: EntityKind, name: String },
    #[error("already exists: {kind:?} {name}")]
    AlreadyExists { kind: EntityKind, name: String },
    #[error("limit exceeded: {quota:?}")]
    LimitExceeded { quota: Quota },
    #[error("delete conflict: {reason:?}")]
    DeleteConflict { reason: Conflict },
    /// A caller-supplied argument the store cannot use (a foreign pagination marker, a page
    /// size out of 1–1000).
    #[error("invalid input: {0}")]
    InvalidInput(String),
    #[error("EC2 refused: {0:?}")]
    Ec2(Ec2Rejection),
    /// The database's schema is not the one this build's migrations make (`Store::ready`).
    #[error("database schema not current: {0}")]
    Schema(String),
    #[error("storage backend failed: {0}")]
    Backend(sqlx::Error),
}

/// What a caller cannot store, in words a service may pass on.
pub const NUL_REFUSED: &str = "The value contains the character U+0000, which cannot be stored.";

impl From<sqlx::Error> for StoreError {
    /// PostgreSQL refuses U+0000 in text (SQLite keeps it): the caller's value, not the
    /// database, is at fault, so it is invalid input (a 4xx) rather than a backend failure.
    fn from(error: sqlx::Error) -> Self {
        match &error {
            sqlx::Error::Database(db) if db.code().as_deref() == Some(UNTRANSLATABLE_CHARACTER) => {
                Self::InvalidInput(NUL_REFUSED.to_owned())
            }
            _ => Self::Backend(error),
        }
    }
}

/// SQLSTATE 22021 (character_not_in_repertoire): PostgreSQL's answer to
/// U+0000 in a text value.
const UNTRANSLATABLE_CHARACTER: &str = "22021";

impl StoreError {
    pub(crate) fn not_found(kind: EntityKind, name: impl Into<String>) -> Self {
        Self::NotFound {
            kind,
            name: name.into(),
        }
    }

    pub(crate) fn already_exists(kind: EntityKind, name: impl Into<String>) -> Self {
        Self::AlreadyExists {
            kind,
            name: name.into(),
        }
    }

    pub(crate) fn limit(quota: Quota) -> Self {
        Self::LimitExceeded { quota }
    }

    pub(crate) fn conflict(reason: Conflict) -> Self {
        Self::DeleteConflict { reason }
    }
}
