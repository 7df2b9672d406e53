//! The store's typed errors, and the one place that knows how AWS words them.
//!
//! The server maps a [`StoreError`] to an AWS error response with [`StoreError::aws_code`],
//! [`StoreError::http_status`] and [`StoreError::aws_message`]; the texts are the messages IAM,
//! STS and EC2 return for these errors, as AWS's API references and recorded responses word them;
//! a comment names the source where it is something else.

/// What kind of thing was missing or duplicated. Two-part names (a version of a policy, a role
/// in a profile) carry their parent here so the message can name both.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EntityKind {
    Account,
    User,
    Role,
    /// An inline policy of a role (`name` is the policy name).
    RolePolicy,
    /// An inline policy of a user (`name` is the policy name).
    UserPolicy,
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
    /// An EC2 instance (`name` is its `i-…` ID).
    Instance,
    /// An instance-profile association (`name` is its `iip-assoc-…` ID).
    Association,
}

/// Why EC2 refused a write that the stored state does not allow. The EC2 service words these
/// itself (its texts differ from IAM's); [`StoreError::aws_message`] gives a plain fallback.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ec2Rejection {
    /// The instance is not in a state that allows the operation.
    InstanceState { instance_id: String, state: String },
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
}

/// Which quota a write would exceed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Quota {
    /// Roles per instance profile: 1, a hard limit.
    RolesPerInstanceProfile,
    PoliciesPerRole(usize),
    PoliciesPerUser(usize),
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
    /// The managed policy is still attached to (or bounds) a role or user.
    PolicyInUse,
    /// The managed policy still has versions besides the default one.
    PolicyVersions,
    /// The version to delete is the default one.
    DefaultVersion,
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
    #[error("storage backend failed: {0}")]
    Backend(#[from] sqlx::Error),
}

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

    /// The AWS error code (`<Code>`).
    pub fn aws_code(&self) -> &'static str {
        match self {
            Self::NotFound { .. } => "NoSuchEntity",
            Self::AlreadyExists { .. } => "EntityAlreadyExists",
            Self::LimitExceeded { .. } => "LimitExceeded",
            Self::DeleteConflict { .. } => "DeleteConflict",
            Self::InvalidInput(_) => "InvalidInput",
            Self::Ec2(_) => "IncorrectState",
            Self::Backend(_) => "ServiceFailure",
        }
    }

    /// The HTTP status AWS answers with for [`Self::aws_code`].
    pub fn http_status(&self) -> u16 {
        match self {
            Self::NotFound { .. } => 404,
            Self::AlreadyExists { .. }
            | Self::LimitExceeded { .. }
            | Self::DeleteConflict { .. } => 409,
            Self::InvalidInput(_) | Self::Ec2(_) => 400,
            Self::Backend(_) => 500,
        }
    }

    /// The AWS error message (`<Message>`), exactly as AWS words it where known.
    pub fn aws_message(&self) -> String {
        match self {
            Self::NotFound { kind, name } => not_found_message(kind, name),
            Self::AlreadyExists { kind, name } => already_exists_message(kind, name),
            Self::LimitExceeded { quota } => quota_message(quota),
            Self::DeleteConflict { reason } => conflict_message(*reason).to_owned(),
            Self::InvalidInput(message) => message.clone(),
            Self::Ec2(rejection) => format!("{rejection:?}"),
            // Never leak backend details to clients; this is the ServiceFailure description.
            Self::Backend(_) => "The request processing has failed because of an unknown error, \
                                 exception or failure."
                .to_owned(),
        }
    }
}

fn not_found_message(kind: &EntityKind, name: &str) -> String {
    match kind {
        EntityKind::Account => format!("Account {name} cannot be found."),
        EntityKind::User => format!("The user with name {name} cannot be found."),
        EntityKind::Role => format!("The role with name {name} cannot be found."),
        EntityKind::RolePolicy => format!("The role policy with name {name} cannot be found."),
        // By analogy with the role policy message (not in the reference).
        EntityKind::UserPolicy => format!("The user policy with name {name} cannot be found."),
        EntityKind::Policy => format!("Policy {name} was not found."),
        EntityKind::AttachablePolicy => {
            format!("Policy {name} does not exist or is not attachable.")
        }
        EntityKind::PermissionsBoundary => {
            format!("Scope ARN: {name} does not exist or is not attachable.")
        }
        EntityKind::PolicyVersion { policy_arn } => {
            format!("Policy {policy_arn} version {name} does not exist or is not attachable.")
        }
        EntityKind::InstanceProfile => format!("Instance Profile {name} cannot be found."),
        EntityKind::InstanceProfileRole { instance_profile } => {
            format!("Role {name} in Instance Profile {instance_profile} cannot be found.")
        }
        // AWS's text for DeleteAccessKey/UpdateAccessKey (public CLI logs, not AWS's API reference).
        EntityKind::AccessKey => format!("The Access Key with id {name} cannot be found."),
        EntityKind::TokenKey => format!("Session token key {name} cannot be found."),
        EntityKind::Instance => format!("The instance ID '{name}' does not exist"),
        EntityKind::Association => format!("The association ID '{name}' does not exist"),
    }
}

fn already_exists_message(kind: &EntityKind, name: &str) -> String {
    match kind {
        EntityKind::Role => format!("Role with name {name} already exists."),
        EntityKind::InstanceProfile => format!("Instance Profile {name} already exists."),
        EntityKind::Policy | EntityKind::AttachablePolicy | EntityKind::PermissionsBoundary => {
            format!("A policy called {name} already exists. Duplicate names are not allowed.")
        }
        // Public CLI logs show this form; the reference lists moto's shorter text as unconfirmed.
        EntityKind::User => format!("User with name {name} already exists."),
        EntityKind::Account => format!("Account {name} already exists."),
        EntityKind::AccessKey => format!("Access key {name} already exists."),
        other => format!("{other:?} {name} already exists."),
    }
}

fn quota_message(quota: &Quota) -> String {
    match quota {
        Quota::RolesPerInstanceProfile => {
            "Cannot exceed quota for InstanceSessionsPerInstanceProfile: 1".to_owned()
        }
        Quota::PoliciesPerRole(n) => format!("Cannot exceed quota for PoliciesPerRole: {n}"),
        Quota::PoliciesPerUser(n) => format!("Cannot exceed quota for PoliciesPerUser: {n}"),
        Quota::AccessKeysPerUser(n) => format!("Cannot exceed quota for AccessKeysPerUser: {n}"),
        Quota::PolicyVersions(n) => format!(
            "A managed policy can have up to {n} versions. Before you create a new version, \
             you must delete an existing version."
        ),
        // The reference confirms only the prefix; the "for role NAME" tail is from public logs.
        Quota::RoleInlinePolicySize { max, role } => {
            format!("Maximum policy size of {max} bytes exceeded for role {role}")
        }
        Quota::UserInlinePolicySize { max, user } => {
            format!("Maximum policy size of {max} bytes exceeded for user {user}")
        }
    }
}

fn conflict_message(reason: Conflict) -> &'static str {
    match reason {
        Conflict::InstanceProfileMembership => {
            "Cannot delete entity, must remove roles from instance profile first."
        }
        Conflict::AttachedPolicies => "Cannot delete entity, must detach all policies first.",
        Conflict::InlinePolicies => "Cannot delete entity, must delete policies first.",
        // Public CLI logs (DeleteUser); not in the reference.
        Conflict::AccessKeys => "Cannot delete entity, must delete access keys first.",
        Conflict::PolicyInUse => "Cannot delete a policy attached to entities.",
        // Public Terraform/CLI logs (DeletePolicy); not in the reference.
        Conflict::PolicyVersions => {
            "This policy has more than one version. Before you delete a policy, you must delete \
             the policy's versions. The default version is deleted with the policy."
        }
        Conflict::DefaultVersion => "Cannot delete the default version of a policy.",
    }
}
