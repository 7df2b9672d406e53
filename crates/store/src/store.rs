//! The backend-neutral `Store` trait.
//!
//! Why a trait with `impl Future + Send` methods rather than enum dispatch: the server is
//! generic over `S: Store` (monomorphised once per backend, no boxing on the hot path), and the
//! explicit `Send` bound lets axum/tokio spawn handler futures that await the store, which a
//! plain `async fn` in a trait cannot promise. Implementations still write ordinary `async fn`.
//! The trait is not object-safe; a caller that must choose the backend at run time wraps the
//! implementations in an enum at its own edge.
//!
//! Contract for every implementation:
//! - Each write is one transaction that checks its own preconditions inside it, so concurrent
//!   callers cannot break an invariant; when the future resolves `Ok`, the write is durable.
//!   (SQLite gets this from `BEGIN IMMEDIATE`, which serialises writers; a PostgreSQL backend
//!   must lock the parent row, e.g. `SELECT … FOR UPDATE` on the user or profile, before its
//!   checks, since READ COMMITTED alone would let two counts pass together.)
//! - Names of users, roles, managed policies, instance profiles and inline policies are unique
//!   per account case-insensitively; the original spelling is returned. Paths are verbatim.
//! - The caller validates names, paths, documents and tag counts; the store enforces what needs
//!   the stored state (existence, uniqueness, quotas, delete conflicts).
//! - Entities are addressed per account (`account` is the 12-digit ID), except by their
//!   globally unique IDs and ARNs.

use std::future::Future;

use time::OffsetDateTime;

use crate::error::Result;
use crate::groups::{
    AccountDetails, DetailsQuery, EntityQuery, Group, GroupUpdate, NewGroup, PolicyEntities,
    UserCredentials,
};
use crate::hosts::{Allocation, Host, HostAgentKey, HostRelease, NewHosts};
use crate::model::{
    AccessKey, AccessKeyStatus, AccessKeyUse, Account, AccountCounts, Association,
    AssociationQuery, AttachedPolicy, AwsPolicyUsage, Changes, DeploymentKey, Ec2Resource,
    IdentityPolicies, InlinePolicy, Instance, InstanceProfile, InstanceQuery, KeyPair,
    LoginProfile, ManagedPolicy, MetadataDefaults, MetadataOptions, NewAccessKey, NewDeploymentKey,
    NewInstanceProfile, NewKeyPair, NewLaunch, NewOidcProvider, NewPolicy, NewRole, NewUser,
    OidcProvider, OidcProviderChange, PolicyGeneration, PolicyVersion, Principal, PrincipalBinding,
    ProfileRef, Reservation, ResourceTag, Role, RoleUpdate, RoleUse, StateChange, StateRequest,
    Tag, TagRemoval, Taggable, TokenKey, User, UserUpdate,
};
use crate::page::{ListQuery, Page};
use crate::s3::{
    Bucket, BucketChange, CompletedUpload, MultipartUpload, NewObject, NewUpload, ObjectListing,
    ObjectMeta, ObjectPage, Part,
};

/// Managed policies per role or user (the default IAM quota).
pub const MANAGED_POLICIES_PER_PRINCIPAL: usize = 10;
/// Access keys per user.
pub const ACCESS_KEYS_PER_USER: usize = 2;
/// Versions per managed policy.
pub const VERSIONS_PER_POLICY: usize = 5;
/// Tags per EC2 resource (EC2's limit).
pub const EC2_TAGS_PER_RESOURCE: usize = 50;

/// A connection pool's use at one moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolUse {
    /// Connections open now, busy or idle.
    pub size: u32,
    pub idle: u32,
    /// The most it opens.
    pub max: u32,
}

/// `Clone` is a cheap handle copy (a connection pool), for work that outlives a request.
pub trait Store: Clone + Send + Sync + 'static {
    // ---- accounts -------------------------------------------------------------------------

    fn create_account(&self, account: &str) -> impl Future<Output = Result<Account>> + Send;
    fn account(&self, account: &str) -> impl Future<Output = Result<Account>> + Send;
    fn list_accounts(&self) -> impl Future<Output = Result<Vec<Account>>> + Send;

    // ---- users and their access keys -------------------------------------------------------

    fn create_user(
        &self,
        account: &str,
        user: NewUser,
    ) -> impl Future<Output = Result<User>> + Send;
    fn user(&self, account: &str, name: &str) -> impl Future<Output = Result<User>> + Send;
    fn list_users(
        &self,
        account: &str,
        query: &ListQuery,
    ) -> impl Future<Output = Result<Page<User>>> + Send;
    /// Fails with `DeleteConflict` while the user has access keys, a login profile, attached or
    /// inline policies, or is in a group.
    fn delete_user(&self, account: &str, name: &str) -> impl Future<Output = Result<()>> + Send;

    /// Gives the user a login profile; `AlreadyExists` (`LoginProfile`) if it has one. Only
    /// the fact is kept: the password itself is never stored.
    fn create_login_profile(
        &self,
        account: &str,
        user: &str,
        password_reset_required: bool,
    ) -> impl Future<Output = Result<LoginProfile>> + Send;
    fn login_profile(
        &self,
        account: &str,
        user: &str,
    ) -> impl Future<Output = Result<LoginProfile>> + Send;
    /// Records a new password (`password_changed`) and/or sets the reset flag.
    fn update_login_profile(
        &self,
        account: &str,
        user: &str,
        password_changed: bool,
        password_reset_required: Option<bool>,
    ) -> impl Future<Output = Result<()>> + Send;
    fn delete_login_profile(
        &self,
        account: &str,
        user: &str,
    ) -> impl Future<Output = Result<()>> + Send;
    /// Renames and/or moves the user, keeping its ID, keys, policies and tags; `AlreadyExists`
    /// (kind `User`) when another user has the new name.
    fn update_user(
        &self,
        account: &str,
        name: &str,
        update: UserUpdate,
    ) -> impl Future<Output = Result<User>> + Send;
    /// `None` removes the boundary; an ARN must name a managed policy in the store.
    fn set_user_permissions_boundary(
        &self,
        account: &str,
        name: &str,
        boundary_arn: Option<&str>,
    ) -> impl Future<Output = Result<()>> + Send;

    /// Fails with `LimitExceeded` when the user already has [`ACCESS_KEYS_PER_USER`] keys.
    fn create_access_key(
        &self,
        account: &str,
        user_name: &str,
        key: NewAccessKey,
    ) -> impl Future<Output = Result<AccessKey>> + Send;
    /// Hot path: the key and its user (with tags), by access key ID alone.
    fn access_key(
        &self,
        access_key_id: &str,
    ) -> impl Future<Output = Result<(AccessKey, User)>> + Send;
    fn list_access_keys(
        &self,
        account: &str,
        user_name: &str,
    ) -> impl Future<Output = Result<Vec<AccessKey>>> + Send;
    fn set_access_key_status(
        &self,
        account: &str,
        user_name: &str,
        access_key_id: &str,
        status: AccessKeyStatus,
    ) -> impl Future<Output = Result<()>> + Send;
    fn delete_access_key(
        &self,
        account: &str,
        user_name: &str,
        access_key_id: &str,
    ) -> impl Future<Output = Result<()>> + Send;
    /// Records where and when keys were last used, all in one write. A use older than the one
    /// recorded, or of a key deleted since, changes nothing.
    fn record_access_key_uses(
        &self,
        uses: &[AccessKeyUse],
    ) -> impl Future<Output = Result<()>> + Send;

    // ---- roles ----------------------------------------------------------------------------

    fn create_role(
        &self,
        account: &str,
        role: NewRole,
    ) -> impl Future<Output = Result<Role>> + Send;
    /// Hot path: the role with its tags.
    fn role_by_name(&self, account: &str, name: &str) -> impl Future<Output = Result<Role>> + Send;
    /// Hot path: the role with its tags, by its `AROA…` ID (what session tokens carry).
    fn role_by_id(&self, role_id: &str) -> impl Future<Output = Result<Role>> + Send;
    fn list_roles(
        &self,
        account: &str,
        query: &ListQuery,
    ) -> impl Future<Output = Result<Page<Role>>> + Send;
    fn update_role(
        &self,
        account: &str,
        name: &str,
        update: RoleUpdate,
    ) -> impl Future<Output = Result<()>> + Send;
    /// Replaces the trust policy and the principals it names by ARN, pinned by the caller.
    fn update_assume_role_policy(
        &self,
        account: &str,
        name: &str,
        document: &str,
        bindings: &[PrincipalBinding],
    ) -> impl Future<Output = Result<()>> + Send;
    /// `None` removes the boundary; an ARN must name a managed policy in the store.
    fn set_role_permissions_boundary(
        &self,
        account: &str,
        name: &str,
        boundary_arn: Option<&str>,
    ) -> impl Future<Output = Result<()>> + Send;
    /// Fails with `DeleteConflict` while the role is in an instance profile, has attached
    /// managed policies, or has inline policies (checked in that order, as AWS does).
    fn delete_role(&self, account: &str, name: &str) -> impl Future<Output = Result<()>> + Send;
    // ---- Access Analyzer policy-generation jobs ----------------------------------------------

    /// Saves a job (insert or replace by ID), forgetting every job started before
    /// `forget_before` in the same write.
    fn put_policy_generation(
        &self,
        job: &PolicyGeneration,
        forget_before: OffsetDateTime,
    ) -> impl Future<Output = Result<()>> + Send;
    /// Every saved job (all accounts) started at or after `since`, oldest first.
    fn policy_generations(
        &self,
        since: OffsetDateTime,
    ) -> impl Future<Output = Result<Vec<PolicyGeneration>>> + Send;

    /// Records when and where roles were last assumed, all in one write. A use older than the
    /// one recorded, or of a role deleted since, changes nothing.
    fn record_role_uses(&self, uses: &[RoleUse]) -> impl Future<Output = Result<()>> + Send;

    // ---- inline policies of roles and users -------------------------------------------------

    /// Creates or replaces the inline policy. Fails with `LimitExceeded` when the principal's
    /// inline policies would then total more than `max_total_size` (sizes as the caller measured
    /// them), so concurrent puts cannot overshoot the quota together.
    fn put_inline_policy(
        &self,
        account: &str,
        principal: Principal<'_>,
        policy: InlinePolicy,
        max_total_size: u64,
    ) -> impl Future<Output = Result<()>> + Send;
    fn inline_policy(
        &self,
        account: &str,
        principal: Principal<'_>,
        policy_name: &str,
    ) -> impl Future<Output = Result<InlinePolicy>> + Send;
    /// Policy names; the query's path prefix does not apply.
    fn list_inline_policies(
        &self,
        account: &str,
        principal: Principal<'_>,
        query: &ListQuery,
    ) -> impl Future<Output = Result<Page<String>>> + Send;
    fn delete_inline_policy(
        &self,
        account: &str,
        principal: Principal<'_>,
        policy_name: &str,
    ) -> impl Future<Output = Result<()>> + Send;

    // ---- managed policies -------------------------------------------------------------------

    /// Creates the policy with version `v1` as its default.
    fn create_policy(
        &self,
        account: &str,
        policy: NewPolicy,
    ) -> impl Future<Output = Result<ManagedPolicy>> + Send;
    /// The policy with its tags. Every policy lookup names the account that owns it: an ARN of
    /// another account is `NotFound` (cross-account reads are the service's to refuse first).
    fn policy(
        &self,
        account: &str,
        arn: &str,
    ) -> impl Future<Output = Result<ManagedPolicy>> + Send;
    fn list_policies(
        &self,
        account: &str,
        query: &ListQuery,
        only_attached: bool,
    ) -> impl Future<Output = Result<Page<ManagedPolicy>>> + Send;
    /// Fails with `DeleteConflict` while the policy is attached or used as a boundary, or has
    /// versions besides the default.
    fn delete_policy(&self, account: &str, arn: &str) -> impl Future<Output = Result<()>> + Send;
    /// Fails with `LimitExceeded` when the policy already has [`VERSIONS_PER_POLICY`] versions.
    fn create_policy_version(
        &self,
        account: &str,
        arn: &str,
        document: &str,
        set_as_default: bool,
    ) -> impl Future<Output = Result<PolicyVersion>> + Send;
    fn policy_version(
        &self,
        account: &str,
        arn: &str,
        version_id: &str,
    ) -> impl Future<Output = Result<PolicyVersion>> + Send;
    /// Newest first, as AWS lists them.
    fn list_policy_versions(
        &self,
        account: &str,
        arn: &str,
    ) -> impl Future<Output = Result<Vec<PolicyVersion>>> + Send;
    fn set_default_policy_version(
        &self,
        account: &str,
        arn: &str,
        version_id: &str,
    ) -> impl Future<Output = Result<()>> + Send;
    /// Fails with `DeleteConflict` for the default version.
    fn delete_policy_version(
        &self,
        account: &str,
        arn: &str,
        version_id: &str,
    ) -> impl Future<Output = Result<()>> + Send;
    /// Attaching an attached policy again succeeds and changes nothing. Fails with
    /// `LimitExceeded` past [`MANAGED_POLICIES_PER_PRINCIPAL`]; the policy must belong to the
    /// principal's account, or be an AWS managed policy (`arn:…:iam::aws:policy/…`), which the
    /// store knows by ARN only: the caller checks that one exists before attaching it (the
    /// same holds for permissions boundaries).
    fn attach_policy(
        &self,
        account: &str,
        principal: Principal<'_>,
        arn: &str,
    ) -> impl Future<Output = Result<()>> + Send;
    fn detach_policy(
        &self,
        account: &str,
        principal: Principal<'_>,
        arn: &str,
    ) -> impl Future<Output = Result<()>> + Send;
    /// The AWS managed policies the account uses, with their attachment and boundary counts in
    /// this account (policies it does not use are left out), sorted by ARN.
    fn aws_policy_usage(
        &self,
        account: &str,
    ) -> impl Future<Output = Result<Vec<AwsPolicyUsage>>> + Send;
    /// Sorted by policy name; the path prefix applies to the policies' paths.
    fn list_attached_policies(
        &self,
        account: &str,
        principal: Principal<'_>,
        query: &ListQuery,
    ) -> impl Future<Output = Result<Page<AttachedPolicy>>> + Send;

    // ---- instance profiles ------------------------------------------------------------------

    fn create_instance_profile(
        &self,
        account: &str,
        profile: NewInstanceProfile,
    ) -> impl Future<Output = Result<InstanceProfile>> + Send;
    /// The profile with its tags and its role (if any).
    fn instance_profile(
        &self,
        account: &str,
        name: &str,
    ) -> impl Future<Output = Result<InstanceProfile>> + Send;
    fn list_instance_profiles(
        &self,
        account: &str,
        query: &ListQuery,
    ) -> impl Future<Output = Result<Page<InstanceProfile>>> + Send;
    /// The query's path prefix does not apply (ListInstanceProfilesForRole has none).
    fn list_instance_profiles_for_role(
        &self,
        account: &str,
        role_name: &str,
        query: &ListQuery,
    ) -> impl Future<Output = Result<Page<InstanceProfile>>> + Send;
    /// Fails with `DeleteConflict` while the profile holds a role.
    fn delete_instance_profile(
        &self,
        account: &str,
        name: &str,
    ) -> impl Future<Output = Result<()>> + Send;
    /// Fails with `LimitExceeded` when the profile already holds a role (hard limit of one),
    /// also when two callers race.
    fn add_role_to_instance_profile(
        &self,
        account: &str,
        profile_name: &str,
        role_name: &str,
    ) -> impl Future<Output = Result<()>> + Send;
    fn remove_role_from_instance_profile(
        &self,
        account: &str,
        profile_name: &str,
        role_name: &str,
    ) -> impl Future<Output = Result<()>> + Send;

    // ---- OpenID Connect providers ------------------------------------------------------------

    /// Fails with `AlreadyExists` (name: the URL) for a URL the account has, `LimitExceeded`
    /// past 100 providers per account. The caller validates the URL and lists.
    fn create_oidc_provider(
        &self,
        account: &str,
        provider: NewOidcProvider,
    ) -> impl Future<Output = Result<OidcProvider>> + Send;
    /// By ARN, with tags.
    fn oidc_provider(
        &self,
        account: &str,
        arn: &str,
    ) -> impl Future<Output = Result<OidcProvider>> + Send;
    /// Every provider of the account, by ARN, without tags.
    fn list_oidc_providers(
        &self,
        account: &str,
    ) -> impl Future<Output = Result<Vec<OidcProvider>>> + Send;
    fn delete_oidc_provider(
        &self,
        account: &str,
        arn: &str,
    ) -> impl Future<Output = Result<()>> + Send;
    /// Fails with `LimitExceeded` when a new client ID would pass 100.
    fn update_oidc_provider(
        &self,
        account: &str,
        arn: &str,
        change: OidcProviderChange,
    ) -> impl Future<Output = Result<()>> + Send;

    // ---- tags ---------------------------------------------------------------------------------

    /// Adds tags, replacing the value (and key spelling) of keys already present, which match
    /// case-insensitively. The caller enforces the 50-tag limit.
    fn tag(
        &self,
        account: &str,
        entity: Taggable<'_>,
        tags: &[Tag],
    ) -> impl Future<Output = Result<()>> + Send;
    /// Removes the keys (case-insensitively); absent keys are ignored, as AWS does.
    fn untag(
        &self,
        account: &str,
        entity: Taggable<'_>,
        keys: &[String],
    ) -> impl Future<Output = Result<()>> + Send;
    /// Sorted by key, case-insensitively.
    fn tags(
        &self,
        account: &str,
        entity: Taggable<'_>,
    ) -> impl Future<Output = Result<Vec<Tag>>> + Send;

    // ---- groups -------------------------------------------------------------------------------

    fn create_group(
        &self,
        account: &str,
        group: NewGroup,
    ) -> impl Future<Output = Result<Group>> + Send;
    fn group(&self, account: &str, name: &str) -> impl Future<Output = Result<Group>> + Send;
    /// GetGroup: the group and one page of its members, by name; the path prefix does not apply.
    fn group_with_members(
        &self,
        account: &str,
        name: &str,
        query: &ListQuery,
    ) -> impl Future<Output = Result<(Group, Page<User>)>> + Send;
    fn list_groups(
        &self,
        account: &str,
        query: &ListQuery,
    ) -> impl Future<Output = Result<Page<Group>>> + Send;
    /// Renames or moves the group (its ARN follows); members and policies stay with it.
    fn update_group(
        &self,
        account: &str,
        name: &str,
        update: GroupUpdate,
    ) -> impl Future<Output = Result<()>> + Send;
    /// Fails with `DeleteConflict` while the group has members, attached or inline policies
    /// (checked in that order).
    fn delete_group(&self, account: &str, name: &str) -> impl Future<Output = Result<()>> + Send;
    /// Adding a member again succeeds. A missing user is reported before a missing group.
    fn add_user_to_group(
        &self,
        account: &str,
        group: &str,
        user: &str,
    ) -> impl Future<Output = Result<()>> + Send;
    /// Removing a non-member succeeds. A missing user is reported before a missing group.
    fn remove_user_from_group(
        &self,
        account: &str,
        group: &str,
        user: &str,
    ) -> impl Future<Output = Result<()>> + Send;
    /// The path prefix does not apply.
    fn list_groups_for_user(
        &self,
        account: &str,
        user: &str,
        query: &ListQuery,
    ) -> impl Future<Output = Result<Page<Group>>> + Send;

    // ---- reads of a whole account -------------------------------------------------------------

    /// The account's groups, users and roles the managed policy is attached to; `NotFound`
    /// (`AttachablePolicy`) unless it is one of the account's policies.
    fn policy_entities(
        &self,
        account: &str,
        arn: &str,
        query: &EntityQuery,
    ) -> impl Future<Output = Result<PolicyEntities>> + Send;
    /// Every user, group, role and customer managed policy of the account asked for, with
    /// their policies, in one snapshot.
    fn account_details(
        &self,
        account: &str,
        query: DetailsQuery,
    ) -> impl Future<Output = Result<AccountDetails>> + Send;
    /// Every user of the account with its access keys, for the credential report.
    fn user_credentials(
        &self,
        account: &str,
    ) -> impl Future<Output = Result<Vec<UserCredentials>>> + Send;

    // ---- the policy engine's read -------------------------------------------------------------

    /// Hot path: every identity policy of a role, user or group (`AROA…`/`AIDA…`/`AGPA…` ID) in
    /// one consistent read: inline documents, default versions of attached managed policies, the
    /// boundary, and for a user those of its groups.
    fn identity_policies(
        &self,
        principal_id: &str,
    ) -> impl Future<Output = Result<IdentityPolicies>> + Send;

    // ---- session-token key ring ---------------------------------------------------------------

    /// Stores a key ring entry (encrypted by the caller) under a caller-chosen `kid`.
    fn add_token_key(
        &self,
        account: &str,
        kid: &str,
        ciphertext: &[u8],
    ) -> impl Future<Output = Result<TokenKey>> + Send;
    /// Oldest first.
    fn token_keys(&self, account: &str) -> impl Future<Output = Result<Vec<TokenKey>>> + Send;
    fn delete_token_key(&self, account: &str, kid: &str)
    -> impl Future<Output = Result<()>> + Send;

    // ---- deployment keys ----------------------------------------------------------------------

    /// Stores `key` unless a key of its name is stored, and returns the stored key either way:
    /// servers racing to create a deployment key all end up with the first one written.
    fn add_deployment_key(
        &self,
        key: NewDeploymentKey,
    ) -> impl Future<Output = Result<DeploymentKey>> + Send;
    fn deployment_key(
        &self,
        name: &str,
    ) -> impl Future<Output = Result<Option<DeploymentKey>>> + Send;

    // ---- per-account settings -----------------------------------------------------------------

    fn setting(
        &self,
        account: &str,
        key: &str,
    ) -> impl Future<Output = Result<Option<String>>> + Send;
    fn put_setting(
        &self,
        account: &str,
        key: &str,
        value: &str,
    ) -> impl Future<Output = Result<()>> + Send;
    /// Removing an absent key succeeds.
    fn delete_setting(&self, account: &str, key: &str) -> impl Future<Output = Result<()>> + Send;

    // ---- EC2 instances, instance-profile associations, metadata options ------------------------
    //
    // Instances and associations are account-scoped and addressed by their EC2 IDs. Writes
    // report transitional states (`pending`, `stopping`, `associating`, …) and store the state
    // they settle in, so the next read observes it. Refusals are `StoreError::Ec2`.

    /// Launches `count` instances in one reservation, each with its own loopback address (or
    /// the requested one), and associates the profile with every one. With a client token seen
    /// before, returns that reservation (`replayed`), or fails with
    /// `IdempotentParameterMismatch` when the fingerprint differs.
    fn run_instances(
        &self,
        account: &str,
        launch: NewLaunch,
    ) -> impl Future<Output = Result<Reservation>> + Send;
    /// Instances (with tags and active association) in instance ID order; IDs that are
    /// unknown or no longer visible are simply absent.
    fn instances(
        &self,
        account: &str,
        query: &InstanceQuery,
    ) -> impl Future<Output = Result<Vec<Instance>>> + Send;
    /// Hot path for IMDS: the live (not terminated) instance holding `address`, any account.
    fn instance_by_private_ip(
        &self,
        address: &str,
    ) -> impl Future<Output = Result<Option<Instance>>> + Send;
    /// Start, stop or terminate: all of `ids` or none (`NotFound` names the first unknown).
    fn change_instance_states(
        &self,
        account: &str,
        ids: &[String],
        request: StateRequest,
    ) -> impl Future<Output = Result<Vec<StateChange>>> + Send;
    fn set_instance_metadata_options(
        &self,
        account: &str,
        instance_id: &str,
        options: &MetadataOptions,
    ) -> impl Future<Output = Result<Instance>> + Send;
    /// Replaces the instance's user data (`None` removes it); `NotStopped` unless it is stopped.
    fn set_instance_user_data(
        &self,
        account: &str,
        instance_id: &str,
        user_data: Option<&[u8]>,
    ) -> impl Future<Output = Result<Instance>> + Send;
    /// Saves a key pair (created or imported) with its tags under a new `key-…` ID;
    /// `AlreadyExists` (kind `KeyPair`) when the account has one of that name.
    fn import_key_pair(
        &self,
        account: &str,
        new: NewKeyPair,
    ) -> impl Future<Output = Result<KeyPair>> + Send;
    /// Every key pair of the account, in name order.
    fn key_pairs(&self, account: &str) -> impl Future<Output = Result<Vec<KeyPair>>> + Send;
    /// Deletes the account's key pair with this name or this ID; an absent one is no error
    /// (the result says whether one was deleted).
    fn delete_key_pair(
        &self,
        account: &str,
        name: Option<&str>,
        id: Option<&str>,
    ) -> impl Future<Output = Result<bool>> + Send;
    /// CreateTags: adds `tags` to every resource, replacing the value of a key already there
    /// (keys are case-sensitive). All or nothing: `NotFound` (kind `Instance`, `KeyPairId` or
    /// `Host`) names the first resource that is not the account's (a terminated instance or a
    /// released host past its visibility included), `LimitExceeded` (`Ec2TagsPerResource`) the first that would carry
    /// more than [`EC2_TAGS_PER_RESOURCE`] tags.
    fn create_ec2_tags(
        &self,
        account: &str,
        resources: &[Ec2Resource],
        tags: &[Tag],
    ) -> impl Future<Output = Result<()>> + Send;
    /// DeleteTags: removes the matching tags from every resource, or all of their tags when
    /// `removals` is `None`. Absent tags are no error; resources as for `create_ec2_tags`.
    fn delete_ec2_tags(
        &self,
        account: &str,
        resources: &[Ec2Resource],
        removals: Option<&[TagRemoval]>,
    ) -> impl Future<Output = Result<()>> + Send;
    /// Every tag of the account's visible instances and hosts and of its key pairs, by resource
    /// ID, then key.
    fn ec2_tags(&self, account: &str) -> impl Future<Output = Result<Vec<ResourceTag>>> + Send;
    /// The instance must be running or stopped and have no active association.
    fn associate_instance_profile(
        &self,
        account: &str,
        instance_id: &str,
        profile: &ProfileRef,
    ) -> impl Future<Output = Result<Association>> + Send;
    /// Only the active association of a running instance; the result has a new ID.
    fn replace_instance_profile_association(
        &self,
        account: &str,
        association_id: &str,
        profile: &ProfileRef,
    ) -> impl Future<Output = Result<Association>> + Send;
    fn disassociate_instance_profile(
        &self,
        account: &str,
        association_id: &str,
    ) -> impl Future<Output = Result<Association>> + Send;
    /// Active and recently ended associations, in association ID order.
    fn instance_profile_associations(
        &self,
        account: &str,
        query: &AssociationQuery,
    ) -> impl Future<Output = Result<Vec<Association>>> + Send;
    fn instance_metadata_defaults(
        &self,
        account: &str,
    ) -> impl Future<Output = Result<MetadataDefaults>> + Send;
    fn put_instance_metadata_defaults(
        &self,
        account: &str,
        defaults: &MetadataDefaults,
    ) -> impl Future<Output = Result<()>> + Send;
    /// Where the instance change sequence stands: every write to an instance, its tags or its
    /// associations moves it. Read it before `instances_changed_since` to miss nothing.
    fn instance_change_mark(&self) -> impl Future<Output = Result<u64>> + Send;
    /// Every instance (any account, any state) changed after `mark`, in change order.
    fn instances_changed_since(
        &self,
        mark: u64,
    ) -> impl Future<Output = Result<Vec<Instance>>> + Send;

    // ---- EC2 Dedicated Hosts and their agents' keys --------------------------------------------
    //
    // Hosts are account-scoped and addressed by their `h-…` IDs. A host's agent keys are bound
    // to the host, not to an IAM user; they live while the host is available. A launch onto a
    // host and the host's release must not interleave (a released host never gains an
    // instance): SQLite serialises them, and so does PostgreSQL, whose every EC2 write (these,
    // `run_instances`, EC2 tags) takes the one EC2 advisory lock first (decision 0026,
    // `postgres/hosts.rs`). A backend with finer locks must lock the host row, `FOR UPDATE` in
    // `release_hosts` and at least `FOR SHARE` in `run_instances`' placement check, and give an
    // allocation's client-token check the same care as `run_instances`'.

    /// Allocates one host per agent key, with the request's settings and tags, each key bound
    /// to its host. With a client token seen before, returns that call's hosts (`replayed`), or
    /// fails with `IdempotentParameterMismatch` when the fingerprint differs.
    fn allocate_hosts(
        &self,
        account: &str,
        new: NewHosts,
    ) -> impl Future<Output = Result<Allocation>> + Send;
    /// The account's hosts with these IDs (all of them when `ids` is empty), in host ID order,
    /// with their tags and instances. A released host is listed for an hour after its release,
    /// as EC2 lists it; unknown IDs are simply absent.
    fn hosts(
        &self,
        account: &str,
        ids: &[String],
    ) -> impl Future<Output = Result<Vec<Host>>> + Send;
    /// Releases each host that has no instance left but terminated ones, deleting its agent
    /// keys in the same write; one outcome per ID, in order.
    fn release_hosts(
        &self,
        account: &str,
        ids: &[String],
    ) -> impl Future<Output = Result<Vec<HostRelease>>> + Send;
    /// Hot path: an agent key of an available host, by access key ID alone; `NotFound` (kind
    /// `AccessKey`) otherwise.
    fn host_agent_key(
        &self,
        access_key_id: &str,
    ) -> impl Future<Output = Result<HostAgentKey>> + Send;
    /// The agent keys of the available host `host_id`, whatever its account, newest first;
    /// `NotFound` (kind `Host`) for an unknown or released host. For the operator's CLI.
    fn host_agent_keys(
        &self,
        host_id: &str,
    ) -> impl Future<Output = Result<Vec<HostAgentKey>>> + Send;
    /// Rotates the available host's agent credential: `key` becomes its current key, each
    /// earlier one retires `grace` from now (one retiring sooner keeps its time; 0 retires them
    /// at once), and keys already retired are deleted, in one EC2 write. `NotFound` (kind
    /// `Host`) for an unknown or released host; `AlreadyExists` for a key ID already held.
    /// For the operator's CLI.
    fn rotate_host_agent_key(
        &self,
        host_id: &str,
        key: NewAccessKey,
        grace: std::time::Duration,
    ) -> impl Future<Output = Result<HostAgentKey>> + Send;
    // ---- S3: buckets (global names) and object metadata ---------------------------------------
    // Buckets are addressed by their globally unique name: a bucket policy may open one to other
    // accounts, so the server authorizes against the bucket's owner before it calls these.

    /// Creates the bucket for `account` with every public-access-block setting on;
    /// `AlreadyExists` (kind `Bucket`) if any account holds the name.
    fn create_bucket(
        &self,
        account: &str,
        name: &str,
        region: &str,
    ) -> impl Future<Output = Result<Bucket>> + Send;
    /// The bucket of that name, whoever owns it; `NotFound` (kind `Bucket`).
    fn bucket(&self, name: &str) -> impl Future<Output = Result<Bucket>> + Send;
    /// The account's buckets, in name order.
    fn buckets(&self, account: &str) -> impl Future<Output = Result<Vec<Bucket>>> + Send;
    /// Deletes an empty bucket: `NotFound`, or `DeleteConflict` (`BucketNotEmpty`) while it
    /// holds an object. Its multipart uploads in progress go with it; the result is their
    /// parts' blobs, for the caller to delete.
    fn delete_bucket(&self, name: &str) -> impl Future<Output = Result<Vec<String>>> + Send;
    /// Replaces one of the bucket's settings; `NotFound` (kind `Bucket`).
    fn update_bucket(
        &self,
        name: &str,
        change: BucketChange,
    ) -> impl Future<Output = Result<Bucket>> + Send;
    /// Stores the object, replacing the key's current one (whose blob the result names, for
    /// the caller to delete); `NotFound` (kind `Bucket`).
    fn put_object(&self, object: NewObject) -> impl Future<Output = Result<Option<String>>> + Send;
    /// `NotFound` (kind `Bucket`, then `Object`).
    fn object(&self, bucket: &str, key: &str) -> impl Future<Output = Result<ObjectMeta>> + Send;
    /// Deletes the object; an absent one is no error. The result is the deleted object's blob.
    /// `NotFound` (kind `Bucket`).
    fn delete_object(
        &self,
        bucket: &str,
        key: &str,
    ) -> impl Future<Output = Result<Option<String>>> + Send;
    /// One page of the bucket's objects in UTF-8 byte order of their keys; `NotFound` (kind
    /// `Bucket`).
    fn list_objects(
        &self,
        bucket: &str,
        listing: &ObjectListing,
    ) -> impl Future<Output = Result<ObjectPage>> + Send;
    /// Replaces the object's tags; `NotFound` (kind `Bucket`, then `Object`).
    fn set_object_tags(
        &self,
        bucket: &str,
        key: &str,
        tags: Vec<Tag>,
    ) -> impl Future<Output = Result<()>> + Send;
    /// Starts a multipart upload; the result is its new upload ID. `NotFound` (kind `Bucket`).
    fn create_upload(&self, upload: NewUpload) -> impl Future<Output = Result<String>> + Send;
    /// The upload in progress with that ID in that bucket for that key; `NotFound` (kind
    /// `Upload`) otherwise.
    fn upload(
        &self,
        bucket: &str,
        key: &str,
        upload_id: &str,
    ) -> impl Future<Output = Result<MultipartUpload>> + Send;
    /// The bucket's uploads in progress whose key starts with `prefix`, by key then initiation
    /// time (at most `max`, after the `(key, upload_id)` marker); `NotFound` (kind `Bucket`).
    /// A marker naming no upload of its key (an ended upload, or an empty ID for a key marker
    /// alone) resumes at the next key.
    fn uploads(
        &self,
        bucket: &str,
        prefix: &str,
        after: Option<(&str, &str)>,
        max: usize,
    ) -> impl Future<Output = Result<Vec<MultipartUpload>>> + Send;
    /// Records a part, replacing one of the same number (whose blob the result names);
    /// `NotFound` (kind `Upload`).
    fn put_part(
        &self,
        upload_id: &str,
        part: Part,
    ) -> impl Future<Output = Result<Option<String>>> + Send;
    /// The upload's parts by part number; `NotFound` (kind `Upload`).
    fn parts(&self, upload_id: &str) -> impl Future<Output = Result<Vec<Part>>> + Send;
    /// In one transaction: stores `object` (whose blob the server assembled from the parts)
    /// and ends the upload. `NotFound` (kind `Upload`) if it already ended; `InvalidInput` if
    /// `object` is not of the upload's bucket and key. The object's last-modified time is the
    /// upload's initiation, as on S3.
    fn complete_upload(
        &self,
        upload_id: &str,
        object: NewObject,
    ) -> impl Future<Output = Result<CompletedUpload>> + Send;
    /// Ends the upload; the result is its parts' blobs. `NotFound` (kind `Upload`).
    fn abort_upload(&self, upload_id: &str) -> impl Future<Output = Result<Vec<String>>> + Send;

    // ---- account-level IAM: alias and summary counts --------------------------------------------

    fn account_alias(&self, account: &str) -> impl Future<Output = Result<Option<String>>> + Send;
    /// Sets the account's one alias, replacing any other; `AlreadyExists` (kind
    /// `AccountAlias`) when any account, this one included, holds it.
    fn set_account_alias(
        &self,
        account: &str,
        alias: &str,
    ) -> impl Future<Output = Result<()>> + Send;
    /// `NotFound` (kind `AccountAlias`) unless `alias` is the account's alias.
    fn delete_account_alias(
        &self,
        account: &str,
        alias: &str,
    ) -> impl Future<Output = Result<()>> + Send;
    fn account_counts(&self, account: &str) -> impl Future<Output = Result<AccountCounts>> + Send;

    /// Whether this store can serve now: it answers a query, and its schema is exactly the one
    /// this build's migrations make (`StoreError::Schema` says what differs). The admin
    /// listener's `/readyz`; cheap enough to be asked every few seconds.
    fn ready(&self) -> impl Future<Output = Result<()>> + Send;

    /// How many connections the backend's pool holds and how many of them are idle, for the
    /// metrics; `None` for a backend without a pool.
    fn pool_use(&self) -> Option<PoolUse> {
        None
    }

    /// The change counters: the one mechanism every in-memory view of stored data follows
    /// (keys, policies, the metadata index, profiles' roles). Each moves after every committed
    /// write of its topic, made by this process or by any other on the same data
    /// (`roleplane role revoke-sessions` beside a server). Read them *before* the data.
    fn changes(&self) -> Changes;
}
