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

/// What UpdateUser changes; `None` keeps the current value.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UserUpdate {
    pub new_name: Option<String>,
    pub new_path: Option<String>,
}

/// The entities of one account that IAM's GetAccountSummary counts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AccountCounts {
    pub users: u64,
    pub roles: u64,
    /// Customer managed policies.
    pub policies: u64,
    pub instance_profiles: u64,
    pub groups: u64,
    /// OpenID Connect providers.
    pub providers: u64,
    /// Attachments of managed policies (the account's and AWS's) to roles, users and groups.
    pub policy_versions_in_use: u64,
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
    /// The service namespace signed for (`sts`, `ec2`, …); access keys only, as in AWS.
    pub service: Option<String>,
}

/// An Access Analyzer policy-generation job as saved: what it was asked and how it ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyGeneration {
    pub job_id: String,
    pub account_id: String,
    pub principal_arn: String,
    pub window_start_ms: i64,
    pub window_end_ms: i64,
    /// `cloudTrailDetails.trails` as the caller sent it (JSON text).
    pub trails: String,
    pub client_token: Option<String>,
    pub started: OffsetDateTime,
    /// `IN_PROGRESS`, `SUCCEEDED`, `FAILED` or `CANCELED`.
    pub status: String,
    pub completed: Option<OffsetDateTime>,
    pub error_code: Option<String>,
    pub error_message: Option<String>,
}

/// One assumption of a role: what `record_role_uses` writes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoleUse {
    pub role_id: String,
    pub at: OffsetDateTime,
    pub region: String,
}

/// One use of an access key: what `record_access_key_uses` writes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessKeyUse {
    pub access_key_id: String,
    pub at: OffsetDateTime,
    pub service: String,
    pub region: String,
}

/// A user's login profile: that the user has a console password, not the password (which is
/// never stored).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoginProfile {
    /// The user's current name.
    pub user_name: String,
    pub created: OffsetDateTime,
    /// When the password was last set (at creation, or by UpdateLoginProfile with a password).
    pub password_changed: OffsetDateTime,
    pub password_reset_required: bool,
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
    /// The roles and users the trust policy names by ARN, as they were when it was written.
    pub trust_principals: Vec<PrincipalBinding>,
    pub description: Option<String>,
    /// Seconds, 3600–43200.
    pub max_session_duration: u32,
    pub permissions_boundary_arn: Option<String>,
    /// Empty in list results: AWS's list operations omit tags.
    pub tags: Vec<Tag>,
    pub last_used: Option<LastUsed>,
}

/// A role or user named by ARN in a policy, pinned to the unique ID (`AROA…`/`AIDA…`) it had
/// when the policy was written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrincipalBinding {
    pub arn: String,
    pub id: String,
}

/// AWS's default `MaxSessionDuration`.
pub const DEFAULT_MAX_SESSION_DURATION: u32 = 3600;

#[derive(Debug, Clone)]
pub struct NewRole {
    pub name: String,
    pub path: String,
    pub assume_role_policy: String,
    /// The principals `assume_role_policy` names by ARN, resolved by the caller.
    pub trust_principals: Vec<PrincipalBinding>,
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
            trust_principals: Vec::new(),
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

/// How one account uses an AWS managed policy (which the store knows by ARN only).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AwsPolicyUsage {
    pub arn: String,
    /// Roles and users of the account it is attached to.
    pub attachments: u32,
    /// Roles and users of the account it bounds.
    pub boundaries: u32,
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

/// An IAM OpenID Connect identity provider.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OidcProvider {
    pub account_id: String,
    /// `arn:aws:iam::ACCOUNT:oidc-provider/HOST/PATH`.
    pub arn: String,
    /// The provider URL without its `https://` (`HOST/PATH`), as GetOpenIDConnectProvider
    /// answers it and as a token's `iss` names it.
    pub url: String,
    pub client_ids: Vec<String>,
    pub thumbprints: Vec<String>,
    pub created: OffsetDateTime,
    /// Empty in list results.
    pub tags: Vec<Tag>,
}

#[derive(Debug, Clone)]
pub struct NewOidcProvider {
    /// Without the scheme (`HOST/PATH`).
    pub url: String,
    pub client_ids: Vec<String>,
    pub thumbprints: Vec<String>,
    pub tags: Vec<Tag>,
}

/// One change to an OIDC provider's client IDs or thumbprints.
#[derive(Debug, Clone)]
pub enum OidcProviderChange {
    /// Replaces the thumbprint list.
    Thumbprints(Vec<String>),
    /// Adds a client ID (nothing happens if it is there already).
    AddClientId(String),
    /// Removes a client ID (nothing happens if it is not there).
    RemoveClientId(String),
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

/// A key of the deployment, shared by every server on the store (not an account's): its private
/// half sealed by the caller under the master key, and its certificate (DER, public).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeploymentKey {
    pub name: String,
    pub created: OffsetDateTime,
    pub sealed_key: Vec<u8>,
    pub certificate: Vec<u8>,
}

/// A deployment key to store under `name` unless one is stored already.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewDeploymentKey {
    pub name: String,
    pub sealed_key: Vec<u8>,
    pub certificate: Vec<u8>,
}

/// A role, user or group, named as the IAM management API names it: what inline policies and
/// managed-policy attachments belong to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Principal<'a> {
    Role(&'a str),
    User(&'a str),
    Group(&'a str),
}

/// An entity that carries tags.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Taggable<'a> {
    Role(&'a str),
    User(&'a str),
    InstanceProfile(&'a str),
    /// By ARN, as the policy APIs name policies.
    Policy(&'a str),
    /// An OpenID Connect provider, by ARN.
    OidcProvider(&'a str),
}

/// Everything the policy engine needs about a principal's own permissions, read in one call.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct IdentityPolicies {
    /// Inline policies, by name order.
    pub inline: Vec<InlinePolicy>,
    /// A user's only: the inline policies of the groups it is in, by policy name.
    pub group_inline: Vec<InlinePolicy>,
    /// Default versions of the attached managed policies, by ARN order; a user's include those
    /// attached to its groups (each policy once).
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

// ---- EC2 instances, instance-profile associations, metadata options ------------------------

/// An instance's lifecycle state, with the code EC2 reports beside the name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum InstanceState {
    Pending,
    Running,
    ShuttingDown,
    Terminated,
    Stopping,
    Stopped,
}

impl InstanceState {
    pub const ALL: [InstanceState; 6] = [
        Self::Pending,
        Self::Running,
        Self::ShuttingDown,
        Self::Terminated,
        Self::Stopping,
        Self::Stopped,
    ];

    /// The wire name, also the stored form.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Running => "running",
            Self::ShuttingDown => "shutting-down",
            Self::Terminated => "terminated",
            Self::Stopping => "stopping",
            Self::Stopped => "stopped",
        }
    }

    /// EC2's `InstanceState.Code`.
    pub fn code(self) -> u16 {
        match self {
            Self::Pending => 0,
            Self::Running => 16,
            Self::ShuttingDown => 32,
            Self::Terminated => 48,
            Self::Stopping => 64,
            Self::Stopped => 80,
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == text)
    }
}

/// What Start/Stop/TerminateInstances ask for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StateRequest {
    Start,
    Stop,
    Terminate,
}

impl StateRequest {
    /// The transitional state the request passes through and the state it settles in.
    pub fn passage(self) -> (InstanceState, InstanceState) {
        match self {
            Self::Start => (InstanceState::Pending, InstanceState::Running),
            Self::Stop => (InstanceState::Stopping, InstanceState::Stopped),
            Self::Terminate => (InstanceState::ShuttingDown, InstanceState::Terminated),
        }
    }
}

/// One instance's transition, as the StateChange responses report it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StateChange {
    pub instance_id: String,
    pub previous: InstanceState,
    /// What the caller sees now: the transitional state, or the old one when nothing changes.
    pub current: InstanceState,
}

/// The instance metadata service options of one instance (all values as EC2 spells them).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MetadataOptions {
    /// `optional` | `required`
    pub http_tokens: String,
    /// 1–64
    pub http_put_response_hop_limit: u8,
    /// `enabled` | `disabled`
    pub http_endpoint: String,
    /// `enabled` | `disabled`
    pub http_protocol_ipv6: String,
    /// `enabled` | `disabled`
    pub instance_metadata_tags: String,
}

impl Default for MetadataOptions {
    /// EC2's launch defaults when neither the request nor the account says otherwise.
    fn default() -> Self {
        Self {
            http_tokens: "optional".to_owned(),
            http_put_response_hop_limit: 1,
            http_endpoint: "enabled".to_owned(),
            http_protocol_ipv6: "disabled".to_owned(),
            instance_metadata_tags: "disabled".to_owned(),
        }
    }
}

/// The account's launch defaults for metadata options; `None` is EC2's `no-preference`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MetadataDefaults {
    pub http_tokens: Option<String>,
    pub http_put_response_hop_limit: Option<u8>,
    pub http_endpoint: Option<String>,
    pub instance_metadata_tags: Option<String>,
}

/// The instance profile an association carries, as resolved by the caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProfileRef {
    pub arn: String,
    /// `AIPA…`
    pub id: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AssociationState {
    Associating,
    Associated,
    Disassociating,
    Disassociated,
}

impl AssociationState {
    pub const ALL: [AssociationState; 4] = [
        Self::Associating,
        Self::Associated,
        Self::Disassociating,
        Self::Disassociated,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Associating => "associating",
            Self::Associated => "associated",
            Self::Disassociating => "disassociating",
            Self::Disassociated => "disassociated",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == text)
    }
}

/// An EC2 key pair: its public half only.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyPair {
    pub account_id: String,
    pub name: String,
    /// `key-` + 17 hex digits.
    pub id: String,
    /// `rsa` or `ed25519`.
    pub key_type: String,
    pub fingerprint: String,
    /// The OpenSSH public key line (`ssh-rsa AAAA… comment`).
    pub public_key: String,
    pub created: OffsetDateTime,
    /// By key.
    pub tags: Vec<Tag>,
}

/// A CreateKeyPair or ImportKeyPair request as the store needs it; the caller made or parsed
/// the key (and kept any private half to itself).
#[derive(Debug, Clone)]
pub struct NewKeyPair {
    pub name: String,
    pub key_type: String,
    pub fingerprint: String,
    pub public_key: String,
    pub tags: Vec<Tag>,
}

/// An EC2 resource that carries tags, by its ID.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Ec2Resource {
    /// `i-…`
    Instance(String),
    /// `key-…`
    KeyPair(String),
    /// `h-…`, a Dedicated Host.
    Host(String),
}

impl Ec2Resource {
    pub fn id(&self) -> &str {
        match self {
            Self::Instance(id) | Self::KeyPair(id) | Self::Host(id) => id,
        }
    }

    /// The resource type as EC2's DescribeTags names it.
    pub fn type_name(&self) -> &'static str {
        match self {
            Self::Instance(_) => "instance",
            Self::KeyPair(_) => "key-pair",
            Self::Host(_) => "dedicated-host",
        }
    }
}

/// One tag of one EC2 resource (an item of DescribeTags).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResourceTag {
    pub resource: Ec2Resource,
    pub tag: Tag,
}

/// One DeleteTags entry: a key alone removes the key whatever its value; a key with a value
/// removes it only while it has exactly that value (the empty string included).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TagRemoval {
    pub key: String,
    pub value: Option<String>,
}

/// An instance-profile association (`iip-assoc-…`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Association {
    pub id: String,
    pub account_id: String,
    pub instance_id: String,
    pub profile: ProfileRef,
    pub state: AssociationState,
    pub created: OffsetDateTime,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Instance {
    pub account_id: String,
    /// `i-` + 17 hex digits.
    pub id: String,
    /// `r-` + 17 hex digits.
    pub reservation_id: String,
    pub launch_index: u32,
    pub image_id: String,
    pub instance_type: String,
    pub state: InstanceState,
    pub state_changed: OffsetDateTime,
    pub launched: OffsetDateTime,
    pub private_ip: String,
    /// IPv6 addresses given at launch (canonical text), first one first; empty without any,
    /// and once the instance is terminated (its addresses are free again).
    pub ipv6_addresses: Vec<String>,
    pub availability_zone: String,
    pub key_name: Option<String>,
    /// The OpenSSH public key line of the key pair named at launch, as it was then.
    pub public_key: Option<String>,
    pub subnet_id: Option<String>,
    pub security_groups: Vec<String>,
    pub client_token: Option<String>,
    pub metadata_options: MetadataOptions,
    /// User data as given to RunInstances (decoded), if any.
    pub user_data: Option<Vec<u8>>,
    pub tags: Vec<Tag>,
    /// The active association (associating or associated), if any.
    pub association: Option<Association>,
    /// The Dedicated Host it was placed on (`Placement.HostId`), if any.
    pub host_id: Option<String>,
}

/// A RunInstances request as the store needs it; the caller validated every member.
#[derive(Debug, Clone)]
pub struct NewLaunch {
    pub count: u32,
    pub image_id: String,
    pub instance_type: String,
    pub availability_zone: String,
    pub key_name: Option<String>,
    /// The key pair's OpenSSH public key line (the caller looked the key pair up).
    pub public_key: Option<String>,
    pub subnet_id: Option<String>,
    pub security_groups: Vec<String>,
    /// Only with a count of 1; otherwise the store allocates loopback addresses.
    pub private_ip: Option<String>,
    /// IPv6 addresses for the instance, in canonical text (the caller validated them); any
    /// held by a live instance is an `AddressInUse`, so with a count above 1 the second
    /// instance is refused.
    pub ipv6_addresses: Vec<String>,
    pub metadata_options: MetadataOptions,
    pub tags: Vec<Tag>,
    /// Decoded user data (at most 16 KiB; the caller checked).
    pub user_data: Option<Vec<u8>>,
    pub profile: Option<ProfileRef>,
    /// The account's Dedicated Host to place every instance on: it must be available and take
    /// the instance type (`NotFound` kind `Host`, else `Ec2Rejection::HostUnavailable` or
    /// `HostIncompatible`).
    pub host_id: Option<String>,
    /// With a token, a repeated launch returns the first reservation instead of a new one.
    pub client_token: Option<String>,
    /// A digest of the request's parameters: the same token with another fingerprint is an
    /// `IdempotentParameterMismatch`.
    pub fingerprint: String,
}

/// The reservation RunInstances made (or made earlier, for a repeated client token).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reservation {
    pub id: String,
    pub instances: Vec<Instance>,
    /// True when the client token matched an earlier launch.
    pub replayed: bool,
}

/// Which instances to list: by ID, or all, narrowed by exact-value conditions, page by page in
/// instance ID order.
#[derive(Debug, Clone, Default)]
pub struct InstanceQuery {
    pub ids: Vec<String>,
    /// Every condition must hold; within one, any value may match.
    pub conditions: Vec<InstanceCondition>,
    /// List after this instance ID.
    pub after: Option<String>,
    /// At most this many; `None` for all.
    pub limit: Option<u32>,
}

/// A field of an instance compared for equality with one of `values`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InstanceCondition {
    pub field: InstanceField,
    pub values: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InstanceField {
    InstanceId,
    StateName,
    ImageId,
    InstanceType,
    KeyName,
    SubnetId,
    PrivateIp,
    ReservationId,
    ClientToken,
    ProfileArn,
    ProfileId,
    HttpTokens,
    HttpEndpoint,
    /// The value of the tag with this key.
    Tag(String),
    TagKey,
}

/// Which associations to list, in association ID order.
#[derive(Debug, Clone, Default)]
pub struct AssociationQuery {
    pub ids: Vec<String>,
    pub instance_ids: Vec<String>,
    pub states: Vec<AssociationState>,
    pub after: Option<String>,
    pub limit: Option<u32>,
}

/// What a committed write changed, as far as the in-memory views that follow the store care.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Topic {
    /// Users, keys, roles, policies, instance profiles, tags, accounts, the key ring.
    Iam,
    /// Instances, their associations and metadata options.
    Ec2,
    /// Notes no view depends on: last uses, saved policy-generation jobs.
    Bookkeeping,
    /// S3 buckets and their settings (policy, public access block, tags).
    Buckets,
    /// S3 objects and multipart uploads.
    Objects,
}

/// Where the store's change counters stand: each moves after every committed write of its
/// topic, made by this process or by any other on the same data. A view of stored data kept
/// in memory is current while the counter it follows has not moved since the view was read;
/// read the counters *before* the data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Changes {
    /// Every commit.
    pub any: u64,
    pub iam: u64,
    pub ec2: u64,
    pub buckets: u64,
    pub objects: u64,
}
