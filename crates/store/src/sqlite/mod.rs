//! The embedded SQLite implementation of [`Store`], the default backend.
//!
//! Durability: WAL journal with `synchronous=FULL`, so a commit returns only after its WAL
//! frames are fsynced; every acknowledged write survives a crash or power loss. Writes run in
//! `BEGIN IMMEDIATE` transactions: they take the write lock up front, so a transaction's
//! precondition checks and its writes see the same state, and concurrent writers queue on the
//! busy timeout instead of failing on a lock upgrade. Readers never block writers (WAL).
//!
//! The SQL is written to run unchanged on PostgreSQL (`$N` placeholders, `ON CONFLICT`,
//! `substr`/`length`), so the PostgreSQL backend can share it.

pub(crate) mod access_keys;
mod account_aliases;
mod account_details;
mod account_summary;
mod accounts;
pub(crate) mod associations;
mod buckets;
mod changes;
mod deployment_keys;
pub(crate) mod ec2_ids;
mod ec2_tags;
pub(crate) mod groups;
pub(crate) mod hosts;
mod inline_policies;
mod instance_profiles;
pub(crate) mod instances;
pub(crate) mod key_pairs;
mod keyring;
pub(crate) mod login_profiles;
pub(crate) mod loopback;
pub(crate) mod managed_policies;
mod metadata_defaults;
pub(crate) mod object_listing;
mod objects;
pub(crate) mod oidc_providers;
mod policy_generations;
pub(crate) mod readiness;
mod roles;
pub(crate) mod rows;
pub(crate) mod s3_rows;
mod settings;
mod tags;
mod uploads;
mod users;

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Sqlite, SqlitePool, Transaction};
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
    Tag, TagRemoval, Taggable, TokenKey, Topic, User, UserUpdate,
};
use crate::page::{ListQuery, Page};
use crate::s3::{
    Bucket, BucketChange, CompletedUpload, MultipartUpload, NewObject, NewUpload, ObjectListing,
    ObjectMeta, ObjectPage, Part,
};
use crate::store::Store;

pub use loopback::assignable as assignable_loopback;

/// The database file inside the data directory.
pub const DATABASE_FILE: &str = "roleplane.db";

/// How long a writer waits for the write lock before giving up.
const BUSY_TIMEOUT: Duration = Duration::from_secs(30);

/// WAL allows many readers beside the one writer; a few connections cover both on small hosts.
const MAX_CONNECTIONS: u32 = 8;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");

#[derive(Debug, Clone)]
pub struct SqliteStore {
    pool: SqlitePool,
    /// This database's writer queue and cross-process change counter.
    file: Arc<DatabaseFile>,
}

impl SqliteStore {
    /// Opens (creating if absent) `data_dir/roleplane.db` and brings its schema up to date.
    pub async fn open(data_dir: &Path) -> Result<Self> {
        std::fs::create_dir_all(data_dir).map_err(sqlx::Error::Io)?;
        let options = SqliteConnectOptions::new()
            .filename(data_dir.join(DATABASE_FILE))
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .busy_timeout(BUSY_TIMEOUT)
            .foreign_keys(true);
        let pool = SqlitePoolOptions::new()
            .max_connections(MAX_CONNECTIONS)
            .connect_with(options)
            .await?;
        MIGRATOR
            .run(&pool)
            .await
            .map_err(|e| sqlx::Error::Migrate(Box::new(e)))?;
        let file = database_file(&pool)?;
        Ok(Self { pool, file })
    }

    /// Waits for in-flight work and closes every connection (checkpointing the WAL).
    pub async fn close(&self) {
        self.pool.close().await;
    }
}

/// A transaction holding the write lock from its first statement, and the process's turn to
/// write to this database.
///
/// SQLite admits one writer; a second `BEGIN IMMEDIATE` waits in SQLite's busy handler, which
/// sleeps in growing steps of up to 100 ms and so turns contention into long tail latency
/// (p99 of 400 ms under four concurrent writers). Writers therefore queue on an async mutex per
/// database file first, in order and without sleeping; the busy timeout remains only for writers
/// in other processes (`roleplane account create` beside a running server).
pub(crate) struct WriteTx {
    tx: Transaction<'static, Sqlite>,
    file: Arc<DatabaseFile>,
    topic: Topic,
    _turn: tokio::sync::OwnedMutexGuard<()>,
}

impl WriteTx {
    /// Commits, then tells every process's in-memory views that the data changed.
    pub(crate) async fn commit(self) -> std::result::Result<(), sqlx::Error> {
        self.tx.commit().await?;
        self.file.changes.bump(self.topic);
        Ok(())
    }
}

impl std::ops::Deref for WriteTx {
    type Target = sqlx::SqliteConnection;
    fn deref(&self) -> &Self::Target {
        &self.tx
    }
}

impl std::ops::DerefMut for WriteTx {
    fn deref_mut(&mut self) -> &mut Self::Target {
        &mut self.tx
    }
}

/// A write of IAM data (most writes are).
async fn begin_write(pool: &SqlitePool) -> Result<WriteTx> {
    begin_write_of(pool, Topic::Iam).await
}

async fn begin_write_of(pool: &SqlitePool, topic: Topic) -> Result<WriteTx> {
    let file = database_file(pool)?;
    let turn = file.turn.clone().lock_owned().await;
    let tx = pool.begin_with("BEGIN IMMEDIATE").await?;
    Ok(WriteTx {
        tx,
        file,
        topic,
        _turn: turn,
    })
}

/// What every pool on one database file shares in this process.
#[derive(Debug)]
struct DatabaseFile {
    /// The writers' queue (see [`WriteTx`]).
    turn: Arc<tokio::sync::Mutex<()>>,
    /// Bumped after each commit, seen by every process (`changes.rs`).
    changes: changes::ChangeCounter,
}

/// The shared state of the database `pool` opens, made on first use.
fn database_file(pool: &SqlitePool) -> Result<Arc<DatabaseFile>> {
    static FILES: std::sync::OnceLock<
        std::sync::Mutex<std::collections::HashMap<std::path::PathBuf, Arc<DatabaseFile>>>,
    > = std::sync::OnceLock::new();
    let path = pool.connect_options().get_filename().to_owned();
    let mut files = FILES
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(|e| e.into_inner());
    if let Some(file) = files.get(&path) {
        return Ok(file.clone());
    }
    let mut counter = path.clone().into_os_string();
    counter.push("-changes");
    let file = Arc::new(DatabaseFile {
        turn: Arc::default(),
        changes: changes::ChangeCounter::open(Path::new(&counter)).map_err(sqlx::Error::Io)?,
    });
    files.insert(path, file.clone());
    Ok(file)
}

/// Deletes the tagged entity `id` (`delete` binds it as `$1`) unless something still depends on
/// it: each of `conflicts` counts dependants of `id`, checked in order because AWS reports the
/// first that applies.
async fn delete_unless_in_use(
    conn: &mut sqlx::SqliteConnection,
    id: &str,
    conflicts: &[(&'static str, crate::error::Conflict)],
    delete: &'static str,
) -> Result<()> {
    for &(count_sql, conflict) in conflicts {
        let count: i64 = sqlx::query_scalar(count_sql)
            .bind(id)
            .fetch_one(&mut *conn)
            .await?;
        if count > 0 {
            return Err(crate::error::StoreError::conflict(conflict));
        }
    }
    tags::delete_all(conn, id).await?;
    sqlx::query(delete).bind(id).execute(&mut *conn).await?;
    Ok(())
}

/// Case-insensitive identity of a name or tag key, as stored in the `*_lower` columns.
pub(crate) fn fold(name: &str) -> String {
    name.to_lowercase()
}

pub(crate) fn now_ms() -> i64 {
    to_ms(OffsetDateTime::now_utc())
}

pub(crate) fn to_ms(at: OffsetDateTime) -> i64 {
    // i64 milliseconds cover ±292 million years; saturate rather than wrap beyond that.
    i64::try_from(at.unix_timestamp_nanos() / 1_000_000).unwrap_or(i64::MAX)
}

pub(crate) fn from_ms(ms: i64) -> Result<OffsetDateTime> {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .map_err(|e| corrupt(format!("timestamp {ms}: {e}")))
}

/// A stored value the store itself could not have written.
pub(crate) fn corrupt(what: String) -> crate::error::StoreError {
    sqlx::Error::Decode(what.into()).into()
}

pub(crate) fn is_unique_violation(error: &sqlx::Error) -> bool {
    matches!(error, sqlx::Error::Database(db) if db.is_unique_violation())
}

impl Store for SqliteStore {
    async fn create_account(&self, account: &str) -> Result<Account> {
        accounts::create(&self.pool, account).await
    }
    async fn account(&self, account: &str) -> Result<Account> {
        accounts::get(&self.pool, account).await
    }
    async fn list_accounts(&self) -> Result<Vec<Account>> {
        accounts::list(&self.pool).await
    }

    async fn create_user(&self, account: &str, user: NewUser) -> Result<User> {
        users::create(&self.pool, account, user).await
    }
    async fn user(&self, account: &str, name: &str) -> Result<User> {
        users::by_name(&self.pool, account, name).await
    }
    async fn list_users(&self, account: &str, query: &ListQuery) -> Result<Page<User>> {
        users::list(&self.pool, account, query).await
    }
    async fn delete_user(&self, account: &str, name: &str) -> Result<()> {
        users::delete(&self.pool, account, name).await
    }
    async fn create_login_profile(
        &self,
        account: &str,
        user: &str,
        password_reset_required: bool,
    ) -> Result<LoginProfile> {
        login_profiles::create(&self.pool, account, user, password_reset_required).await
    }
    async fn login_profile(&self, account: &str, user: &str) -> Result<LoginProfile> {
        login_profiles::get(&self.pool, account, user).await
    }
    async fn update_login_profile(
        &self,
        account: &str,
        user: &str,
        password_changed: bool,
        password_reset_required: Option<bool>,
    ) -> Result<()> {
        login_profiles::update(
            &self.pool,
            account,
            user,
            password_changed,
            password_reset_required,
        )
        .await
    }
    async fn delete_login_profile(&self, account: &str, user: &str) -> Result<()> {
        login_profiles::delete(&self.pool, account, user).await
    }
    async fn update_user(&self, account: &str, name: &str, update: UserUpdate) -> Result<User> {
        users::update(&self.pool, account, name, update).await
    }
    async fn set_user_permissions_boundary(
        &self,
        account: &str,
        name: &str,
        boundary_arn: Option<&str>,
    ) -> Result<()> {
        users::set_boundary(&self.pool, account, name, boundary_arn).await
    }

    async fn create_access_key(
        &self,
        account: &str,
        user_name: &str,
        key: NewAccessKey,
    ) -> Result<AccessKey> {
        access_keys::create(&self.pool, account, user_name, key).await
    }
    async fn access_key(&self, access_key_id: &str) -> Result<(AccessKey, User)> {
        access_keys::with_user(&self.pool, access_key_id).await
    }
    async fn list_access_keys(&self, account: &str, user_name: &str) -> Result<Vec<AccessKey>> {
        access_keys::list(&self.pool, account, user_name).await
    }
    async fn set_access_key_status(
        &self,
        account: &str,
        user_name: &str,
        access_key_id: &str,
        status: AccessKeyStatus,
    ) -> Result<()> {
        access_keys::set_status(&self.pool, account, user_name, access_key_id, status).await
    }
    async fn delete_access_key(
        &self,
        account: &str,
        user_name: &str,
        access_key_id: &str,
    ) -> Result<()> {
        access_keys::delete(&self.pool, account, user_name, access_key_id).await
    }
    async fn record_access_key_uses(&self, uses: &[AccessKeyUse]) -> Result<()> {
        access_keys::record_uses(&self.pool, uses).await
    }

    async fn create_group(&self, account: &str, group: NewGroup) -> Result<Group> {
        groups::create(&self.pool, account, group).await
    }
    async fn group(&self, account: &str, name: &str) -> Result<Group> {
        groups::by_name(&self.pool, account, name).await
    }
    async fn group_with_members(
        &self,
        account: &str,
        name: &str,
        query: &ListQuery,
    ) -> Result<(Group, Page<User>)> {
        groups::with_members(&self.pool, account, name, query).await
    }
    async fn list_groups(&self, account: &str, query: &ListQuery) -> Result<Page<Group>> {
        groups::list(&self.pool, account, query).await
    }
    async fn update_group(&self, account: &str, name: &str, update: GroupUpdate) -> Result<()> {
        groups::update(&self.pool, account, name, update).await
    }
    async fn delete_group(&self, account: &str, name: &str) -> Result<()> {
        groups::delete(&self.pool, account, name).await
    }
    async fn add_user_to_group(&self, account: &str, group: &str, user: &str) -> Result<()> {
        groups::add_user(&self.pool, account, group, user).await
    }
    async fn remove_user_from_group(&self, account: &str, group: &str, user: &str) -> Result<()> {
        groups::remove_user(&self.pool, account, group, user).await
    }
    async fn list_groups_for_user(
        &self,
        account: &str,
        user: &str,
        query: &ListQuery,
    ) -> Result<Page<Group>> {
        groups::for_user(&self.pool, account, user, query).await
    }
    async fn policy_entities(
        &self,
        account: &str,
        arn: &str,
        query: &EntityQuery,
    ) -> Result<PolicyEntities> {
        account_details::policy_entities(&self.pool, account, arn, query).await
    }
    async fn account_details(&self, account: &str, query: DetailsQuery) -> Result<AccountDetails> {
        account_details::details(&self.pool, account, query).await
    }
    async fn user_credentials(&self, account: &str) -> Result<Vec<UserCredentials>> {
        account_details::credentials(&self.pool, account).await
    }

    async fn create_role(&self, account: &str, role: NewRole) -> Result<Role> {
        roles::create(&self.pool, account, role).await
    }
    async fn role_by_name(&self, account: &str, name: &str) -> Result<Role> {
        roles::by_name(&self.pool, account, name).await
    }
    async fn role_by_id(&self, role_id: &str) -> Result<Role> {
        roles::by_id(&self.pool, role_id).await
    }
    async fn list_roles(&self, account: &str, query: &ListQuery) -> Result<Page<Role>> {
        roles::list(&self.pool, account, query).await
    }
    async fn update_role(&self, account: &str, name: &str, update: RoleUpdate) -> Result<()> {
        roles::update(&self.pool, account, name, update).await
    }
    async fn update_assume_role_policy(
        &self,
        account: &str,
        name: &str,
        document: &str,
        bindings: &[PrincipalBinding],
    ) -> Result<()> {
        roles::update_assume_role_policy(&self.pool, account, name, document, bindings).await
    }
    async fn set_role_permissions_boundary(
        &self,
        account: &str,
        name: &str,
        boundary_arn: Option<&str>,
    ) -> Result<()> {
        roles::set_boundary(&self.pool, account, name, boundary_arn).await
    }
    async fn delete_role(&self, account: &str, name: &str) -> Result<()> {
        roles::delete(&self.pool, account, name).await
    }
    async fn put_policy_generation(
        &self,
        job: &PolicyGeneration,
        forget_before: OffsetDateTime,
    ) -> Result<()> {
        policy_generations::put(&self.pool, job, forget_before).await
    }
    async fn policy_generations(&self, since: OffsetDateTime) -> Result<Vec<PolicyGeneration>> {
        policy_generations::since(&self.pool, since).await
    }
    async fn record_role_uses(&self, uses: &[RoleUse]) -> Result<()> {
        roles::record_uses(&self.pool, uses).await
    }

    async fn put_inline_policy(
        &self,
        account: &str,
        principal: Principal<'_>,
        policy: InlinePolicy,
        max_total_size: u64,
    ) -> Result<()> {
        inline_policies::put(&self.pool, account, principal, policy, max_total_size).await
    }
    async fn inline_policy(
        &self,
        account: &str,
        principal: Principal<'_>,
        policy_name: &str,
    ) -> Result<InlinePolicy> {
        inline_policies::get(&self.pool, account, principal, policy_name).await
    }
    async fn list_inline_policies(
        &self,
        account: &str,
        principal: Principal<'_>,
        query: &ListQuery,
    ) -> Result<Page<String>> {
        inline_policies::list(&self.pool, account, principal, query).await
    }
    async fn delete_inline_policy(
        &self,
        account: &str,
        principal: Principal<'_>,
        policy_name: &str,
    ) -> Result<()> {
        inline_policies::delete(&self.pool, account, principal, policy_name).await
    }

    async fn create_policy(&self, account: &str, policy: NewPolicy) -> Result<ManagedPolicy> {
        managed_policies::create(&self.pool, account, policy).await
    }
    async fn policy(&self, account: &str, arn: &str) -> Result<ManagedPolicy> {
        managed_policies::by_arn(&self.pool, account, arn).await
    }
    async fn list_policies(
        &self,
        account: &str,
        query: &ListQuery,
        only_attached: bool,
    ) -> Result<Page<ManagedPolicy>> {
        managed_policies::list(&self.pool, account, query, only_attached).await
    }
    async fn delete_policy(&self, account: &str, arn: &str) -> Result<()> {
        managed_policies::delete(&self.pool, account, arn).await
    }
    async fn create_policy_version(
        &self,
        account: &str,
        arn: &str,
        document: &str,
        set_as_default: bool,
    ) -> Result<PolicyVersion> {
        managed_policies::create_version(&self.pool, account, arn, document, set_as_default).await
    }
    async fn policy_version(
        &self,
        account: &str,
        arn: &str,
        version_id: &str,
    ) -> Result<PolicyVersion> {
        managed_policies::version(&self.pool, account, arn, version_id).await
    }
    async fn list_policy_versions(&self, account: &str, arn: &str) -> Result<Vec<PolicyVersion>> {
        managed_policies::versions(&self.pool, account, arn).await
    }
    async fn set_default_policy_version(
        &self,
        account: &str,
        arn: &str,
        version_id: &str,
    ) -> Result<()> {
        managed_policies::set_default_version(&self.pool, account, arn, version_id).await
    }
    async fn delete_policy_version(
        &self,
        account: &str,
        arn: &str,
        version_id: &str,
    ) -> Result<()> {
        managed_policies::delete_version(&self.pool, account, arn, version_id).await
    }
    async fn attach_policy(
        &self,
        account: &str,
        principal: Principal<'_>,
        arn: &str,
    ) -> Result<()> {
        managed_policies::attach(&self.pool, account, principal, arn).await
    }
    async fn detach_policy(
        &self,
        account: &str,
        principal: Principal<'_>,
        arn: &str,
    ) -> Result<()> {
        managed_policies::detach(&self.pool, account, principal, arn).await
    }
    async fn list_attached_policies(
        &self,
        account: &str,
        principal: Principal<'_>,
        query: &ListQuery,
    ) -> Result<Page<AttachedPolicy>> {
        managed_policies::list_attached(&self.pool, account, principal, query).await
    }

    async fn create_instance_profile(
        &self,
        account: &str,
        profile: NewInstanceProfile,
    ) -> Result<InstanceProfile> {
        instance_profiles::create(&self.pool, account, profile).await
    }
    async fn instance_profile(&self, account: &str, name: &str) -> Result<InstanceProfile> {
        instance_profiles::by_name(&self.pool, account, name).await
    }
    async fn list_instance_profiles(
        &self,
        account: &str,
        query: &ListQuery,
    ) -> Result<Page<InstanceProfile>> {
        instance_profiles::list(&self.pool, account, query).await
    }
    async fn list_instance_profiles_for_role(
        &self,
        account: &str,
        role_name: &str,
        query: &ListQuery,
    ) -> Result<Page<InstanceProfile>> {
        instance_profiles::list_for_role(&self.pool, account, role_name, query).await
    }
    async fn delete_instance_profile(&self, account: &str, name: &str) -> Result<()> {
        instance_profiles::delete(&self.pool, account, name).await
    }
    async fn add_role_to_instance_profile(
        &self,
        account: &str,
        profile_name: &str,
        role_name: &str,
    ) -> Result<()> {
        instance_profiles::add_role(&self.pool, account, profile_name, role_name).await
    }
    async fn remove_role_from_instance_profile(
        &self,
        account: &str,
        profile_name: &str,
        role_name: &str,
    ) -> Result<()> {
        instance_profiles::remove_role(&self.pool, account, profile_name, role_name).await
    }

    async fn create_oidc_provider(
        &self,
        account: &str,
        provider: NewOidcProvider,
    ) -> Result<OidcProvider> {
        oidc_providers::create(&self.pool, account, provider).await
    }
    async fn oidc_provider(&self, account: &str, arn: &str) -> Result<OidcProvider> {
        oidc_providers::get(&self.pool, account, arn).await
    }
    async fn list_oidc_providers(&self, account: &str) -> Result<Vec<OidcProvider>> {
        oidc_providers::list(&self.pool, account).await
    }
    async fn delete_oidc_provider(&self, account: &str, arn: &str) -> Result<()> {
        oidc_providers::delete(&self.pool, account, arn).await
    }
    async fn update_oidc_provider(
        &self,
        account: &str,
        arn: &str,
        change: OidcProviderChange,
    ) -> Result<()> {
        oidc_providers::update(&self.pool, account, arn, change).await
    }

    async fn tag(&self, account: &str, entity: Taggable<'_>, new_tags: &[Tag]) -> Result<()> {
        tags::tag(&self.pool, account, entity, new_tags).await
    }
    async fn untag(&self, account: &str, entity: Taggable<'_>, keys: &[String]) -> Result<()> {
        tags::untag(&self.pool, account, entity, keys).await
    }
    async fn tags(&self, account: &str, entity: Taggable<'_>) -> Result<Vec<Tag>> {
        tags::list(&self.pool, account, entity).await
    }

    async fn aws_policy_usage(&self, account: &str) -> Result<Vec<AwsPolicyUsage>> {
        managed_policies::aws_policy_usage(&self.pool, account).await
    }

    async fn identity_policies(&self, principal_id: &str) -> Result<IdentityPolicies> {
        managed_policies::identity_policies(&self.pool, principal_id).await
    }

    async fn add_token_key(&self, account: &str, kid: &str, ciphertext: &[u8]) -> Result<TokenKey> {
        keyring::add(&self.pool, account, kid, ciphertext).await
    }
    async fn token_keys(&self, account: &str) -> Result<Vec<TokenKey>> {
        keyring::list(&self.pool, account).await
    }
    async fn delete_token_key(&self, account: &str, kid: &str) -> Result<()> {
        keyring::delete(&self.pool, account, kid).await
    }

    async fn add_deployment_key(&self, key: NewDeploymentKey) -> Result<DeploymentKey> {
        deployment_keys::add(&self.pool, key).await
    }
    async fn deployment_key(&self, name: &str) -> Result<Option<DeploymentKey>> {
        deployment_keys::get(&self.pool, name).await
    }

    async fn setting(&self, account: &str, key: &str) -> Result<Option<String>> {
        settings::get(&self.pool, account, key).await
    }
    async fn put_setting(&self, account: &str, key: &str, value: &str) -> Result<()> {
        settings::put(&self.pool, account, key, value).await
    }
    async fn delete_setting(&self, account: &str, key: &str) -> Result<()> {
        settings::delete(&self.pool, account, key).await
    }

    async fn run_instances(&self, account: &str, launch: NewLaunch) -> Result<Reservation> {
        instances::run(&self.pool, account, launch).await
    }
    async fn instances(&self, account: &str, query: &InstanceQuery) -> Result<Vec<Instance>> {
        instances::list(&self.pool, account, query).await
    }
    async fn instance_by_private_ip(&self, address: &str) -> Result<Option<Instance>> {
        instances::by_private_ip(&self.pool, address).await
    }
    async fn change_instance_states(
        &self,
        account: &str,
        ids: &[String],
        request: StateRequest,
    ) -> Result<Vec<StateChange>> {
        instances::change_states(&self.pool, account, ids, request).await
    }
    async fn set_instance_metadata_options(
        &self,
        account: &str,
        instance_id: &str,
        options: &MetadataOptions,
    ) -> Result<Instance> {
        let result = instances::set_metadata_options(&self.pool, account, instance_id, options);
        result.await
    }
    async fn set_instance_user_data(
        &self,
        account: &str,
        instance_id: &str,
        user_data: Option<&[u8]>,
    ) -> Result<Instance> {
        let result = instances::set_user_data(&self.pool, account, instance_id, user_data);
        result.await
    }
    async fn create_bucket(&self, account: &str, name: &str, region: &str) -> Result<Bucket> {
        buckets::create(&self.pool, account, name, region).await
    }
    async fn bucket(&self, name: &str) -> Result<Bucket> {
        buckets::get(&self.pool, name).await
    }
    async fn buckets(&self, account: &str) -> Result<Vec<Bucket>> {
        buckets::list(&self.pool, account).await
    }
    async fn delete_bucket(&self, name: &str) -> Result<Vec<String>> {
        buckets::delete(&self.pool, name).await
    }
    async fn update_bucket(&self, name: &str, change: BucketChange) -> Result<Bucket> {
        buckets::update(&self.pool, name, change).await
    }
    async fn put_object(&self, object: NewObject) -> Result<Option<String>> {
        objects::put(&self.pool, object).await
    }
    async fn object(&self, bucket: &str, key: &str) -> Result<ObjectMeta> {
        objects::get(&self.pool, bucket, key).await
    }
    async fn delete_object(&self, bucket: &str, key: &str) -> Result<Option<String>> {
        objects::delete(&self.pool, bucket, key).await
    }
    async fn list_objects(&self, bucket: &str, listing: &ObjectListing) -> Result<ObjectPage> {
        object_listing::list(&self.pool, bucket, listing).await
    }
    async fn set_object_tags(&self, bucket: &str, key: &str, tags: Vec<Tag>) -> Result<()> {
        objects::set_tags(&self.pool, bucket, key, tags).await
    }
    async fn create_upload(&self, upload: NewUpload) -> Result<String> {
        uploads::create(&self.pool, upload).await
    }
    async fn upload(&self, bucket: &str, key: &str, upload_id: &str) -> Result<MultipartUpload> {
        uploads::get(&self.pool, bucket, key, upload_id).await
    }
    async fn uploads(
        &self,
        bucket: &str,
        prefix: &str,
        after: Option<(&str, &str)>,
        max: usize,
    ) -> Result<Vec<MultipartUpload>> {
        uploads::list(&self.pool, bucket, prefix, after, max).await
    }
    async fn put_part(&self, upload_id: &str, part: Part) -> Result<Option<String>> {
        uploads::put_part(&self.pool, upload_id, part).await
    }
    async fn parts(&self, upload_id: &str) -> Result<Vec<Part>> {
        uploads::parts(&self.pool, upload_id).await
    }
    async fn complete_upload(&self, upload_id: &str, object: NewObject) -> Result<CompletedUpload> {
        uploads::complete(&self.pool, upload_id, object).await
    }
    async fn abort_upload(&self, upload_id: &str) -> Result<Vec<String>> {
        uploads::abort(&self.pool, upload_id).await
    }
    async fn import_key_pair(&self, account: &str, new: NewKeyPair) -> Result<KeyPair> {
        key_pairs::import(&self.pool, account, new).await
    }
    async fn key_pairs(&self, account: &str) -> Result<Vec<KeyPair>> {
        key_pairs::list(&self.pool, account).await
    }
    async fn delete_key_pair(
        &self,
        account: &str,
        name: Option<&str>,
        id: Option<&str>,
    ) -> Result<bool> {
        key_pairs::delete(&self.pool, account, name, id).await
    }
    async fn create_ec2_tags(
        &self,
        account: &str,
        resources: &[Ec2Resource],
        tags: &[Tag],
    ) -> Result<()> {
        ec2_tags::create(&self.pool, account, resources, tags).await
    }
    async fn delete_ec2_tags(
        &self,
        account: &str,
        resources: &[Ec2Resource],
        removals: Option<&[TagRemoval]>,
    ) -> Result<()> {
        ec2_tags::delete(&self.pool, account, resources, removals).await
    }
    async fn ec2_tags(&self, account: &str) -> Result<Vec<ResourceTag>> {
        ec2_tags::list(&self.pool, account).await
    }
    async fn associate_instance_profile(
        &self,
        account: &str,
        instance_id: &str,
        profile: &ProfileRef,
    ) -> Result<Association> {
        let result = associations::associate(&self.pool, account, instance_id, profile);
        result.await
    }
    async fn replace_instance_profile_association(
        &self,
        account: &str,
        association_id: &str,
        profile: &ProfileRef,
    ) -> Result<Association> {
        let result = associations::replace(&self.pool, account, association_id, profile);
        result.await
    }
    async fn disassociate_instance_profile(
        &self,
        account: &str,
        association_id: &str,
    ) -> Result<Association> {
        let result = associations::disassociate(&self.pool, account, association_id);
        result.await
    }
    async fn instance_profile_associations(
        &self,
        account: &str,
        query: &AssociationQuery,
    ) -> Result<Vec<Association>> {
        associations::list(&self.pool, account, query).await
    }
    async fn instance_metadata_defaults(&self, account: &str) -> Result<MetadataDefaults> {
        metadata_defaults::get(&self.pool, account).await
    }
    async fn put_instance_metadata_defaults(
        &self,
        account: &str,
        defaults: &MetadataDefaults,
    ) -> Result<()> {
        metadata_defaults::put(&self.pool, account, defaults).await
    }
    async fn instance_change_mark(&self) -> Result<u64> {
        instances::change_mark(&self.pool).await
    }
    async fn instances_changed_since(&self, mark: u64) -> Result<Vec<Instance>> {
        instances::changed_since(&self.pool, mark).await
    }
    async fn allocate_hosts(&self, account: &str, new: NewHosts) -> Result<Allocation> {
        hosts::allocate(&self.pool, account, new).await
    }
    async fn hosts(&self, account: &str, ids: &[String]) -> Result<Vec<Host>> {
        hosts::list(&self.pool, account, ids).await
    }
    async fn release_hosts(&self, account: &str, ids: &[String]) -> Result<Vec<HostRelease>> {
        hosts::release(&self.pool, account, ids).await
    }
    async fn host_agent_key(&self, access_key_id: &str) -> Result<HostAgentKey> {
        hosts::agent_key(&self.pool, access_key_id).await
    }
    async fn host_agent_keys(&self, host_id: &str) -> Result<Vec<HostAgentKey>> {
        hosts::agent_keys(&self.pool, host_id).await
    }
    async fn rotate_host_agent_key(
        &self,
        host_id: &str,
        key: NewAccessKey,
        grace: std::time::Duration,
    ) -> Result<HostAgentKey> {
        let grace_ms = i64::try_from(grace.as_millis()).unwrap_or(i64::MAX);
        hosts::rotate_key(&self.pool, host_id, key, grace_ms).await
    }
    async fn account_alias(&self, account: &str) -> Result<Option<String>> {
        account_aliases::get(&self.pool, account).await
    }
    async fn set_account_alias(&self, account: &str, alias: &str) -> Result<()> {
        account_aliases::set(&self.pool, account, alias).await
    }
    async fn delete_account_alias(&self, account: &str, alias: &str) -> Result<()> {
        account_aliases::delete(&self.pool, account, alias).await
    }
    async fn account_counts(&self, account: &str) -> Result<AccountCounts> {
        account_summary::counts(&self.pool, account).await
    }
    async fn ready(&self) -> Result<()> {
        readiness::check(&self.pool, &MIGRATOR).await
    }
    fn pool_use(&self) -> Option<crate::store::PoolUse> {
        Some(crate::store::PoolUse {
            size: self.pool.size(),
            idle: u32::try_from(self.pool.num_idle()).unwrap_or(u32::MAX),
            max: MAX_CONNECTIONS,
        })
    }
    fn changes(&self) -> Changes {
        self.file.changes.load()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::StoreError;

    /// The durability promise rests on these settings; a refactor of `open` must keep them.
    #[tokio::test]
    async fn every_connection_is_wal_with_full_sync_and_foreign_keys() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(dir.path()).await.unwrap();
        let mut conns = Vec::new();
        for _ in 0..3 {
            conns.push(store.pool.acquire().await.unwrap());
        }
        for conn in &mut conns {
            let journal: String = sqlx::query_scalar("PRAGMA journal_mode")
                .fetch_one(&mut **conn)
                .await
                .unwrap();
            let synchronous: i64 = sqlx::query_scalar("PRAGMA synchronous")
                .fetch_one(&mut **conn)
                .await
                .unwrap();
            let foreign_keys: i64 = sqlx::query_scalar("PRAGMA foreign_keys")
                .fetch_one(&mut **conn)
                .await
                .unwrap();
            let busy: i64 = sqlx::query_scalar("PRAGMA busy_timeout")
                .fetch_one(&mut **conn)
                .await
                .unwrap();
            assert_eq!((journal.as_str(), synchronous, foreign_keys), ("wal", 2, 1));
            assert!(busy >= 1000, "busy_timeout {busy}");
        }
        assert!(dir.path().join(DATABASE_FILE).exists());
    }

    /// `/readyz` on a real database: ready as opened, not once a migration's row is gone
    /// (what a database that was never migrated this far looks like), nor once closed.
    #[tokio::test]
    async fn ready_follows_the_applied_migrations() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(dir.path()).await.unwrap();
        store.ready().await.unwrap();
        let last = MIGRATOR.iter().map(|m| m.version).max().unwrap();
        sqlx::query("DELETE FROM _sqlx_migrations WHERE version = $1")
            .bind(last)
            .execute(&store.pool)
            .await
            .unwrap();
        match store.ready().await {
            Err(StoreError::Schema(why)) => {
                assert_eq!(why, format!("migration {last} is not applied"))
            }
            other => panic!("{other:?}"),
        }
        store.close().await;
        assert!(matches!(store.ready().await, Err(StoreError::Backend(_))));
    }
}
