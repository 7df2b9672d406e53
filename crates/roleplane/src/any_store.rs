//! The store `roleplane serve` runs on, chosen at start (decision 0007): the data dir's embedded
//! SQLite, or a PostgreSQL database that replicas share (`--store postgres://…`, decision 0026).
//!
//! The server stays generic over `S: Store`; this enum is the one place that knows how many
//! backends exist. Each call is a `match` and a direct call, no boxing, and the server is
//! compiled once for it rather than once per backend.

use std::path::Path;

use anyhow::Context as _;
use store::{
    AccessKey, AccessKeyStatus, AccessKeyUse, Account, AccountCounts, AccountDetails, Allocation,
    Association, AssociationQuery, AttachedPolicy, AwsPolicyUsage, Bucket, BucketChange, Changes,
    CompletedUpload, DatabaseUrl, DeploymentKey, DetailsQuery, Ec2Resource, EntityQuery, Group,
    GroupUpdate, Host, HostAgentKey, HostRelease, IdentityPolicies, InlinePolicy, Instance,
    InstanceProfile, InstanceQuery, KeyPair, ListQuery, LoginProfile, ManagedPolicy,
    MetadataDefaults, MetadataOptions, MultipartUpload, NewAccessKey, NewDeploymentKey, NewGroup,
    NewHosts, NewInstanceProfile, NewKeyPair, NewLaunch, NewObject, NewOidcProvider, NewPolicy,
    NewRole, NewUpload, NewUser, ObjectListing, ObjectMeta, ObjectPage, OidcProvider,
    OidcProviderChange, Page, Part, PgStore, PolicyEntities, PolicyGeneration, PolicyVersion,
    PoolUse, Principal, PrincipalBinding, ProfileRef, Reservation, ResourceTag, Result, Role,
    RoleUpdate, RoleUse, SqliteStore, StateChange, StateRequest, Store, Tag, TagRemoval, Taggable,
    TokenKey, User, UserCredentials, UserUpdate,
};
use time::OffsetDateTime;

#[derive(Debug, Clone)]
pub enum AnyStore {
    Sqlite(SqliteStore),
    Postgres(PgStore),
}

impl AnyStore {
    /// The PostgreSQL database at `url` if one is given, else the SQLite database of `data_dir`.
    pub async fn open(url: Option<&DatabaseUrl>, data_dir: &Path) -> anyhow::Result<Self> {
        match url {
            Some(url) => {
                // The URL is shown redacted: `DatabaseUrl` never prints its password.
                anyhow::ensure!(
                    url.is_postgres(),
                    "--store takes a postgres:// or postgresql:// URL, not {url}"
                );
                let store = PgStore::connect(url)
                    .await
                    .with_context(|| format!("connecting to the PostgreSQL store {url}"))?;
                Ok(Self::Postgres(store))
            }
            None => {
                let store = SqliteStore::open(data_dir)
                    .await
                    .context("opening the embedded store")?;
                Ok(Self::Sqlite(store))
            }
        }
    }

    /// Waits for in-flight work and closes every connection.
    pub async fn close(&self) {
        match self {
            Self::Sqlite(store) => store.close().await,
            Self::Postgres(store) => store.close().await,
        }
    }
}

/// Implements each listed method by passing its arguments to the backend's own.
macro_rules! delegate {
    ($(fn $name:ident(&self $(, $arg:ident: $ty:ty)* $(,)?) -> $ret:ty;)*) => {
        $(
            async fn $name(&self $(, $arg: $ty)*) -> $ret {
                match self {
                    Self::Sqlite(store) => store.$name($($arg),*).await,
                    Self::Postgres(store) => store.$name($($arg),*).await,
                }
            }
        )*
    };
}

impl Store for AnyStore {
    delegate! {
        fn create_account(&self, account: &str) -> Result<Account>;
        fn account(&self, account: &str) -> Result<Account>;
        fn list_accounts(&self) -> Result<Vec<Account>>;
        fn create_user(&self, account: &str, user: NewUser) -> Result<User>;
        fn user(&self, account: &str, name: &str) -> Result<User>;
        fn list_users(&self, account: &str, query: &ListQuery) -> Result<Page<User>>;
        fn delete_user(&self, account: &str, name: &str) -> Result<()>;
        fn create_login_profile(
            &self,
            account: &str,
            user: &str,
            password_reset_required: bool,
        ) -> Result<LoginProfile>;
        fn login_profile(&self, account: &str, user: &str) -> Result<LoginProfile>;
        fn update_login_profile(
            &self,
            account: &str,
            user: &str,
            password_changed: bool,
            password_reset_required: Option<bool>,
        ) -> Result<()>;
        fn delete_login_profile(&self, account: &str, user: &str) -> Result<()>;
        fn update_user(&self, account: &str, name: &str, update: UserUpdate) -> Result<User>;
        fn set_user_permissions_boundary(
            &self,
            account: &str,
            name: &str,
            boundary_arn: Option<&str>,
        ) -> Result<()>;
        fn create_access_key(
            &self,
            account: &str,
            user_name: &str,
            key: NewAccessKey,
        ) -> Result<AccessKey>;
        fn access_key(&self, access_key_id: &str) -> Result<(AccessKey, User)>;
        fn list_access_keys(&self, account: &str, user_name: &str) -> Result<Vec<AccessKey>>;
        fn set_access_key_status(
            &self,
            account: &str,
            user_name: &str,
            access_key_id: &str,
            status: AccessKeyStatus,
        ) -> Result<()>;
        fn delete_access_key(
            &self,
            account: &str,
            user_name: &str,
            access_key_id: &str,
        ) -> Result<()>;
        fn record_access_key_uses(&self, uses: &[AccessKeyUse]) -> Result<()>;
        fn create_role(&self, account: &str, role: NewRole) -> Result<Role>;
        fn role_by_name(&self, account: &str, name: &str) -> Result<Role>;
        fn role_by_id(&self, role_id: &str) -> Result<Role>;
        fn list_roles(&self, account: &str, query: &ListQuery) -> Result<Page<Role>>;
        fn update_role(&self, account: &str, name: &str, update: RoleUpdate) -> Result<()>;
        fn update_assume_role_policy(
            &self,
            account: &str,
            name: &str,
            document: &str,
            bindings: &[PrincipalBinding],
        ) -> Result<()>;
        fn set_role_permissions_boundary(
            &self,
            account: &str,
            name: &str,
            boundary_arn: Option<&str>,
        ) -> Result<()>;
        fn delete_role(&self, account: &str, name: &str) -> Result<()>;
        fn put_policy_generation(
            &self,
            job: &PolicyGeneration,
            forget_before: OffsetDateTime,
        ) -> Result<()>;
        fn policy_generations(&self, since: OffsetDateTime) -> Result<Vec<PolicyGeneration>>;
        fn record_role_uses(&self, uses: &[RoleUse]) -> Result<()>;
        fn put_inline_policy(
            &self,
            account: &str,
            principal: Principal<'_>,
            policy: InlinePolicy,
            max_total_size: u64,
        ) -> Result<()>;
        fn inline_policy(
            &self,
            account: &str,
            principal: Principal<'_>,
            policy_name: &str,
        ) -> Result<InlinePolicy>;
        fn list_inline_policies(
            &self,
            account: &str,
            principal: Principal<'_>,
            query: &ListQuery,
        ) -> Result<Page<String>>;
        fn delete_inline_policy(
            &self,
            account: &str,
            principal: Principal<'_>,
            policy_name: &str,
        ) -> Result<()>;
        fn create_policy(&self, account: &str, policy: NewPolicy) -> Result<ManagedPolicy>;
        fn policy(&self, account: &str, arn: &str) -> Result<ManagedPolicy>;
        fn list_policies(
            &self,
            account: &str,
            query: &ListQuery,
            only_attached: bool,
        ) -> Result<Page<ManagedPolicy>>;
        fn delete_policy(&self, account: &str, arn: &str) -> Result<()>;
        fn create_policy_version(
            &self,
            account: &str,
            arn: &str,
            document: &str,
            set_as_default: bool,
        ) -> Result<PolicyVersion>;
        fn policy_version(
            &self,
            account: &str,
            arn: &str,
            version_id: &str,
        ) -> Result<PolicyVersion>;
        fn list_policy_versions(&self, account: &str, arn: &str) -> Result<Vec<PolicyVersion>>;
        fn set_default_policy_version(
            &self,
            account: &str,
            arn: &str,
            version_id: &str,
        ) -> Result<()>;
        fn delete_policy_version(&self, account: &str, arn: &str, version_id: &str) -> Result<()>;
        fn attach_policy(&self, account: &str, principal: Principal<'_>, arn: &str) -> Result<()>;
        fn detach_policy(&self, account: &str, principal: Principal<'_>, arn: &str) -> Result<()>;
        fn aws_policy_usage(&self, account: &str) -> Result<Vec<AwsPolicyUsage>>;
        fn list_attached_policies(
            &self,
            account: &str,
            principal: Principal<'_>,
            query: &ListQuery,
        ) -> Result<Page<AttachedPolicy>>;
        fn create_instance_profile(
            &self,
            account: &str,
            profile: NewInstanceProfile,
        ) -> Result<InstanceProfile>;
        fn instance_profile(&self, account: &str, name: &str) -> Result<InstanceProfile>;
        fn list_instance_profiles(
            &self,
            account: &str,
            query: &ListQuery,
        ) -> Result<Page<InstanceProfile>>;
        fn list_instance_profiles_for_role(
            &self,
            account: &str,
            role_name: &str,
            query: &ListQuery,
        ) -> Result<Page<InstanceProfile>>;
        fn delete_instance_profile(&self, account: &str, name: &str) -> Result<()>;
        fn add_role_to_instance_profile(
            &self,
            account: &str,
            profile_name: &str,
            role_name: &str,
        ) -> Result<()>;
        fn remove_role_from_instance_profile(
            &self,
            account: &str,
            profile_name: &str,
            role_name: &str,
        ) -> Result<()>;
        fn create_oidc_provider(
            &self,
            account: &str,
            provider: NewOidcProvider,
        ) -> Result<OidcProvider>;
        fn oidc_provider(&self, account: &str, arn: &str) -> Result<OidcProvider>;
        fn list_oidc_providers(&self, account: &str) -> Result<Vec<OidcProvider>>;
        fn delete_oidc_provider(&self, account: &str, arn: &str) -> Result<()>;
        fn update_oidc_provider(
            &self,
            account: &str,
            arn: &str,
            change: OidcProviderChange,
        ) -> Result<()>;
        fn tag(&self, account: &str, entity: Taggable<'_>, tags: &[Tag]) -> Result<()>;
        fn untag(&self, account: &str, entity: Taggable<'_>, keys: &[String]) -> Result<()>;
        fn tags(&self, account: &str, entity: Taggable<'_>) -> Result<Vec<Tag>>;
        fn create_group(&self, account: &str, group: NewGroup) -> Result<Group>;
        fn group(&self, account: &str, name: &str) -> Result<Group>;
        fn group_with_members(
            &self,
            account: &str,
            name: &str,
            query: &ListQuery,
        ) -> Result<(Group, Page<User>)>;
        fn list_groups(&self, account: &str, query: &ListQuery) -> Result<Page<Group>>;
        fn update_group(&self, account: &str, name: &str, update: GroupUpdate) -> Result<()>;
        fn delete_group(&self, account: &str, name: &str) -> Result<()>;
        fn add_user_to_group(&self, account: &str, group: &str, user: &str) -> Result<()>;
        fn remove_user_from_group(&self, account: &str, group: &str, user: &str) -> Result<()>;
        fn list_groups_for_user(
            &self,
            account: &str,
            user: &str,
            query: &ListQuery,
        ) -> Result<Page<Group>>;
        fn policy_entities(
            &self,
            account: &str,
            arn: &str,
            query: &EntityQuery,
        ) -> Result<PolicyEntities>;
        fn account_details(&self, account: &str, query: DetailsQuery) -> Result<AccountDetails>;
        fn user_credentials(&self, account: &str) -> Result<Vec<UserCredentials>>;
        fn identity_policies(&self, principal_id: &str) -> Result<IdentityPolicies>;
        fn add_token_key(&self, account: &str, kid: &str, ciphertext: &[u8]) -> Result<TokenKey>;
        fn token_keys(&self, account: &str) -> Result<Vec<TokenKey>>;
        fn delete_token_key(&self, account: &str, kid: &str) -> Result<()>;
        fn add_deployment_key(&self, key: NewDeploymentKey) -> Result<DeploymentKey>;
        fn deployment_key(&self, name: &str) -> Result<Option<DeploymentKey>>;
        fn setting(&self, account: &str, key: &str) -> Result<Option<String>>;
        fn put_setting(&self, account: &str, key: &str, value: &str) -> Result<()>;
        fn delete_setting(&self, account: &str, key: &str) -> Result<()>;
        fn run_instances(&self, account: &str, launch: NewLaunch) -> Result<Reservation>;
        fn instances(&self, account: &str, query: &InstanceQuery) -> Result<Vec<Instance>>;
        fn instance_by_private_ip(&self, address: &str) -> Result<Option<Instance>>;
        fn change_instance_states(
            &self,
            account: &str,
            ids: &[String],
            request: StateRequest,
        ) -> Result<Vec<StateChange>>;
        fn set_instance_metadata_options(
            &self,
            account: &str,
            instance_id: &str,
            options: &MetadataOptions,
        ) -> Result<Instance>;
        fn set_instance_user_data(
            &self,
            account: &str,
            instance_id: &str,
            user_data: Option<&[u8]>,
        ) -> Result<Instance>;
        fn import_key_pair(&self, account: &str, new: NewKeyPair) -> Result<KeyPair>;
        fn key_pairs(&self, account: &str) -> Result<Vec<KeyPair>>;
        fn delete_key_pair(
            &self,
            account: &str,
            name: Option<&str>,
            id: Option<&str>,
        ) -> Result<bool>;
        fn create_ec2_tags(
            &self,
            account: &str,
            resources: &[Ec2Resource],
            tags: &[Tag],
        ) -> Result<()>;
        fn delete_ec2_tags(
            &self,
            account: &str,
            resources: &[Ec2Resource],
            removals: Option<&[TagRemoval]>,
        ) -> Result<()>;
        fn ec2_tags(&self, account: &str) -> Result<Vec<ResourceTag>>;
        fn associate_instance_profile(
            &self,
            account: &str,
            instance_id: &str,
            profile: &ProfileRef,
        ) -> Result<Association>;
        fn replace_instance_profile_association(
            &self,
            account: &str,
            association_id: &str,
            profile: &ProfileRef,
        ) -> Result<Association>;
        fn disassociate_instance_profile(
            &self,
            account: &str,
            association_id: &str,
        ) -> Result<Association>;
        fn instance_profile_associations(
            &self,
            account: &str,
            query: &AssociationQuery,
        ) -> Result<Vec<Association>>;
        fn instance_metadata_defaults(&self, account: &str) -> Result<MetadataDefaults>;
        fn put_instance_metadata_defaults(
            &self,
            account: &str,
            defaults: &MetadataDefaults,
        ) -> Result<()>;
        fn instance_change_mark(&self) -> Result<u64>;
        fn instances_changed_since(&self, mark: u64) -> Result<Vec<Instance>>;
        fn allocate_hosts(&self, account: &str, new: NewHosts) -> Result<Allocation>;
        fn hosts(&self, account: &str, ids: &[String]) -> Result<Vec<Host>>;
        fn release_hosts(&self, account: &str, ids: &[String]) -> Result<Vec<HostRelease>>;
        fn host_agent_key(&self, access_key_id: &str) -> Result<HostAgentKey>;
        fn host_agent_keys(&self, host_id: &str) -> Result<Vec<HostAgentKey>>;
        fn rotate_host_agent_key(
            &self,
            host_id: &str,
            key: NewAccessKey,
            grace: std::time::Duration,
        ) -> Result<HostAgentKey>;
        fn create_bucket(&self, account: &str, name: &str, region: &str) -> Result<Bucket>;
        fn bucket(&self, name: &str) -> Result<Bucket>;
        fn buckets(&self, account: &str) -> Result<Vec<Bucket>>;
        fn delete_bucket(&self, name: &str) -> Result<Vec<String>>;
        fn update_bucket(&self, name: &str, change: BucketChange) -> Result<Bucket>;
        fn put_object(&self, object: NewObject) -> Result<Option<String>>;
        fn object(&self, bucket: &str, key: &str) -> Result<ObjectMeta>;
        fn delete_object(&self, bucket: &str, key: &str) -> Result<Option<String>>;
        fn list_objects(&self, bucket: &str, listing: &ObjectListing) -> Result<ObjectPage>;
        fn set_object_tags(&self, bucket: &str, key: &str, tags: Vec<Tag>) -> Result<()>;
        fn create_upload(&self, upload: NewUpload) -> Result<String>;
        fn upload(&self, bucket: &str, key: &str, upload_id: &str) -> Result<MultipartUpload>;
        fn uploads(
            &self,
            bucket: &str,
            prefix: &str,
            after: Option<(&str,
            &str)>,
            max: usize,
        ) -> Result<Vec<MultipartUpload>>;
        fn put_part(&self, upload_id: &str, part: Part) -> Result<Option<String>>;
        fn parts(&self, upload_id: &str) -> Result<Vec<Part>>;
        fn complete_upload(&self, upload_id: &str, object: NewObject) -> Result<CompletedUpload>;
        fn abort_upload(&self, upload_id: &str) -> Result<Vec<String>>;
        fn account_alias(&self, account: &str) -> Result<Option<String>>;
        fn set_account_alias(&self, account: &str, alias: &str) -> Result<()>;
        fn delete_account_alias(&self, account: &str, alias: &str) -> Result<()>;
        fn account_counts(&self, account: &str) -> Result<AccountCounts>;
        fn ready(&self) -> Result<()>;
    }

    fn pool_use(&self) -> Option<PoolUse> {
        match self {
            Self::Sqlite(store) => store.pool_use(),
            Self::Postgres(store) => store.pool_use(),
        }
    }

    fn changes(&self) -> Changes {
        match self {
            Self::Sqlite(store) => store.changes(),
            Self::Postgres(store) => store.changes(),
        }
    }
}
