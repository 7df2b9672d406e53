//! The PostgreSQL implementation of [`Store`], for replicas that share one database.
//!
//! Same contract as SQLite's (see `store.rs`), held across processes by the rules of decision
//! 0026:
//! - A write runs in one READ COMMITTED transaction that first takes a transaction-scoped
//!   advisory lock: its domain's (IAM per account; EC2, S3 and bookkeeping each one lock), so
//!   the writes of a domain run one at a time, in every replica, as SQLite's `BEGIN IMMEDIATE`
//!   makes them run one at a time. After the lock, each statement of READ COMMITTED reads
//!   everything committed before, so a write's checks and its changes see the same state, as
//!   they do on SQLite; the module code ports unchanged. Unique indexes back the checks.
//! - A read of several statements that must agree runs in a REPEATABLE READ, READ ONLY
//!   transaction (one snapshot, as SQLite's read transactions).
//! - Each write bumps its topic's row in `changes` and announces it (`NOTIFY`) in its own
//!   transaction; every replica follows (`changes.rs`, decision 0006).
//! - Migrations run at connect, under sqlx's advisory lock, and are additive so an older
//!   release runs on a newer schema (rolling upgrades; migrations/postgres/0001_initial.sql):
//!   it starts on one, and `Store::ready` tolerates migrations it does not know
//!   (`readiness.rs`) while requiring all of its own.
//!
//! Most SQL is SQLite's as written (`$N` placeholders, `ON CONFLICT`, `RETURNING`); the row
//! shapes and conversions are shared with the SQLite backend (`sqlite::rows`, `s3_rows`).

mod access_keys;
mod account_aliases;
mod account_details;
mod account_summary;
mod accounts;
mod associations;
mod buckets;
mod changes;
mod database_url;
mod deployment_keys;
mod ec2_tags;
mod groups;
mod hosts;
mod inline_policies;
mod instance_profiles;
mod instances;
mod key_pairs;
mod keyring;
mod locks;
mod login_profiles;
mod loopback;
mod managed_policies;
mod metadata_defaults;
mod object_listing;
mod objects;
mod oidc_providers;
mod policy_generations;
mod readiness;
mod roles;
mod rows;
mod s3_rows;
mod settings;
mod tags;
mod uploads;
mod users;

use std::sync::Arc;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{Connection, PgConnection, PgPool, Postgres, Transaction};
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
use crate::sqlite::{corrupt, fold, from_ms, is_unique_violation, now_ms, to_ms};
use crate::store::Store;

pub use database_url::DatabaseUrl;

/// Connections per replica (one more is the change listener's).
const MAX_CONNECTIONS: u32 = 10;

/// How long a write waits for its domain's lock (or any row lock) before it fails, as SQLite's
/// busy timeout bounds a writer's wait.
const LOCK_TIMEOUT: Duration = Duration::from_secs(30);

/// How long a call waits for a connection before it fails (and is answered with a retryable
/// 5xx). While the database is down or failing over, every new connection is refused at once
/// or times out: a short wait lets callers retry, where sqlx's default (30 s) would hold each
/// of them past an SDK's patience.
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(5);

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

/// A handle on a PostgreSQL database; `Clone` shares the pool and the change follower.
#[derive(Clone)]
pub struct PgStore {
    db: Db,
    shared: Arc<Shared>,
}

/// What the modules work with: the pool, and the counters a write moves after its commit.
#[derive(Clone)]
pub(crate) struct Db {
    pool: PgPool,
    counters: Arc<changes::Counters>,
}

/// Lives as long as the last clone of a store: the redacted URL, and the tasks that follow the
/// other replicas' writes (stopped when it goes).
struct Shared {
    url: DatabaseUrl,
    follower: changes::Follower,
}

impl std::fmt::Debug for PgStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgStore")
            .field("url", &self.shared.url)
            .finish_non_exhaustive()
    }
}

impl PgStore {
    /// Connects to the database at `url` (`postgres://USER[:PASSWORD]@HOST[:PORT]/DB`, with
    /// libpq's parameters such as `sslmode` and `sslrootcert`), brings its schema up to date
    /// and starts following the changes other replicas make. Nothing here prints the password:
    /// errors come from sqlx, which does not repeat the URL, and `Debug` shows it redacted.
    pub async fn connect(url: &DatabaseUrl) -> Result<Self> {
        let options = connect_options(url)?;
        // One connection first, for its error: a pool retries until it times out and then says
        // only that (an unreachable server, a refused password, a certificate that does not
        // verify each deserve their own words).
        PgConnection::connect_with(&options).await?.close().await?;
        // Without a lock timeout: a replica starting beside another's migration waits for it.
        migrate(&options).await?;
        let options =
            options.options([("lock_timeout", format!("{}ms", LOCK_TIMEOUT.as_millis()))]);
        let pool = PgPoolOptions::new()
            .max_connections(MAX_CONNECTIONS + 1)
            .acquire_timeout(ACQUIRE_TIMEOUT)
            .connect_with(options)
            .await?;
        let counters = Arc::new(changes::Counters::default());
        changes::refresh(&pool, &counters).await?;
        let follower = changes::follow(&pool, &counters).await?;
        Ok(Self {
            db: Db { pool, counters },
            shared: Arc::new(Shared {
                url: url.clone(),
                follower,
            }),
        })
    }

    /// The database's URL (shown without its password).
    pub fn url(&self) -> &DatabaseUrl {
        &self.shared.url
    }

    /// Waits for in-flight work and closes every connection.
    pub async fn close(&self) {
        self.shared.follower.stop();
        self.db.pool.close().await;
    }
}

/// How roleplane connects to the database at `url`: the store's pools and the audit trail's.
pub(crate) fn connect_options(url: &DatabaseUrl) -> Result<PgConnectOptions> {
    // NOTICEs ("relation … already exists, skipping") would reach the server's log.
    Ok(url
        .expose()
        .parse::<PgConnectOptions>()?
        .application_name("roleplane")
        .options([("client_min_messages", "warning")]))
}

/// Applies the migrations this release knows on a connection of its own (sqlx holds a
/// session-level advisory lock meanwhile, so replicas starting together apply each once).
/// Migrations applied by a newer release are no error: they are additive, and this release runs
/// on the newer schema while replicas are upgraded one at a time.
async fn migrate(options: &PgConnectOptions) -> Result<()> {
    let mut migrator = sqlx::migrate::Migrator::with_migrations(MIGRATOR.iter().cloned().collect());
    migrator.set_ignore_missing(true);
    // A pool of one, closed after: closing its connection also ends the lock if a failed
    // migration left it held. (A bare connection would do, but `run` on one makes a future that
    // is not `Send` for every lifetime, so `connect` could not be spawned.)
    let pool = PgPoolOptions::new()
        .max_connections(1)
        .connect_with(options.clone())
        .await?;
    let applied = migrator.run(&pool).await;
    pool.close().await;
    applied.map_err(|e| sqlx::Error::Migrate(Box::new(e)))?;
    Ok(())
}

/// A write transaction holding its domain's lock (`locks.rs`); its commit moves the topic's
/// change counter.
pub(crate) struct WriteTx {
    tx: Transaction<'static, Postgres>,
    topic: Topic,
    counters: Arc<changes::Counters>,
}

impl WriteTx {
    /// Bumps the topic's counter and announces it inside the transaction, commits, then moves
    /// this replica's counter at once (the others follow the announcement).
    pub(crate) async fn commit(mut self) -> std::result::Result<(), sqlx::Error> {
        let value = changes::bump(&mut self.tx, self.topic).await?;
        self.tx.commit().await?;
        self.counters.observe(self.topic, value);
        Ok(())
    }
}

impl std::ops::Deref for WriteTx {
    type Target = PgConnection;
    fn deref(&self) -> &Self::Target {
        &self.tx
    }
}

impl std::ops::DerefMut for WriteTx {
    fn deref_mut(&mut self) -> &mut Self::Target {
        &mut self.tx
    }
}

/// READ COMMITTED explicitly, whatever the database's default: under REPEATABLE READ the
/// snapshot would be taken by the lock statement, before the lock is held.
const BEGIN_WRITE: &str = "BEGIN ISOLATION LEVEL READ COMMITTED, READ WRITE";

/// A write of IAM data of `account`: IAM's invariants are all per account (names, quotas,
/// delete conflicts), bar the global unique alias and ARNs, which unique indexes hold.
async fn begin_write(db: &Db, account: &str) -> Result<WriteTx> {
    begin_locked(db, Topic::Iam, locks::Lock::iam(account)).await
}

/// A write of another topic, under its domain's one lock.
async fn begin_write_of(db: &Db, topic: Topic) -> Result<WriteTx> {
    begin_locked(db, topic, locks::Lock::of(topic)).await
}

async fn begin_locked(db: &Db, topic: Topic, lock: locks::Lock) -> Result<WriteTx> {
    let mut tx = db.pool.begin_with(BEGIN_WRITE).await?;
    lock.take(&mut tx).await?;
    Ok(WriteTx {
        tx,
        topic,
        counters: db.counters.clone(),
    })
}

/// A read of several statements that must see one snapshot.
async fn begin_read(db: &Db) -> Result<Transaction<'static, Postgres>> {
    Ok(db
        .pool
        .begin_with("BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        .await?)
}

/// Deletes the tagged entity `id` (`delete` binds it as `$1`) unless something still depends on
/// it: each of `conflicts` counts dependants of `id`, checked in order because AWS reports the
/// first that applies.
async fn delete_unless_in_use(
    conn: &mut PgConnection,
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

impl Store for PgStore {
    async fn create_account(&self, account: &str) -> Result<Account> {
        accounts::create(&self.db, account).await
    }
    async fn account(&self, account: &str) -> Result<Account> {
        accounts::get(&self.db, account).await
    }
    async fn list_accounts(&self) -> Result<Vec<Account>> {
        accounts::list(&self.db).await
    }

    async fn create_user(&self, account: &str, user: NewUser) -> Result<User> {
        users::create(&self.db, account, user).await
    }
    async fn user(&self, account: &str, name: &str) -> Result<User> {
        users::by_name(&self.db, account, name).await
    }
    async fn list_users(&self, account: &str, query: &ListQuery) -> Result<Page<User>> {
        users::list(&self.db, account, query).await
    }
    async fn delete_user(&self, account: &str, name: &str) -> Result<()> {
        users::delete(&self.db, account, name).await
    }
    async fn create_login_profile(
        &self,
        account: &str,
        user: &str,
        password_reset_required: bool,
    ) -> Result<LoginProfile> {
        login_profiles::create(&self.db, account, user, password_reset_required).await
    }
    async fn login_profile(&self, account: &str, user: &str) -> Result<LoginProfile> {
        login_profiles::get(&self.db, account, user).await
    }
    async fn update_login_profile(
        &self,
        account: &str,
        user: &str,
        password_changed: bool,
        password_reset_required: Option<bool>,
    ) -> Result<()> {
        login_profiles::update(
            &self.db,
            account,
            user,
            password_changed,
            password_reset_required,
        )
        .await
    }
    async fn delete_login_profile(&self, account: &str, user: &str) -> Result<()> {
        login_profiles::delete(&self.db, account, user).await
    }
    async fn update_user(&self, account: &str, name: &str, update: UserUpdate) -> Result<User> {
        users::update(&self.db, account, name, update).await
    }
    async fn set_user_permissions_boundary(
        &self,
        account: &str,
        name: &str,
        boundary_arn: Option<&str>,
    ) -> Result<()> {
        users::set_boundary(&self.db, account, name, boundary_arn).await
    }

    async fn create_access_key(
        &self,
        account: &str,
        user_name: &str,
        key: NewAccessKey,
    ) -> Result<AccessKey> {
        access_keys::create(&self.db, account, user_name, key).await
    }
    async fn access_key(&self, access_key_id: &str) -> Result<(AccessKey, User)> {
        access_keys::with_user(&self.db, access_key_id).await
    }
    async fn list_access_keys(&self, account: &str, user_name: &str) -> Result<Vec<AccessKey>> {
        access_keys::list(&self.db, account, user_name).await
    }
    async fn set_access_key_status(
        &self,
        account: &str,
        user_name: &str,
        access_key_id: &str,
        status: AccessKeyStatus,
    ) -> Result<()> {
        access_keys::set_status(&self.db, account, user_name, access_key_id, status).await
    }
    async fn delete_access_key(
        &self,
        account: &str,
        user_name: &str,
        access_key_id: &str,
    ) -> Result<()> {
        access_keys::delete(&self.db, account, user_name, access_key_id).await
    }
    async fn record_access_key_uses(&self, uses: &[AccessKeyUse]) -> Result<()> {
        access_keys::record_uses(&self.db, uses).await
    }

    async fn create_group(&self, account: &str, group: NewGroup) -> Result<Group> {
        groups::create(&self.db, account, group).await
    }
    async fn group(&self, account: &str, name: &str) -> Result<Group> {
        groups::by_name(&self.db, account, name).await
    }
    async fn group_with_members(
        &self,
        account: &str,
        name: &str,
        query: &ListQuery,
    ) -> Result<(Group, Page<User>)> {
        groups::with_members(&self.db, account, name, query).await
    }
    async fn list_groups(&self, account: &str, query: &ListQuery) -> Result<Page<Group>> {
        groups::list(&self.db, account, query).await
    }
    async fn update_group(&self, account: &str, name: &str, update: GroupUpdate) -> Result<()> {
        groups::update(&self.db, account, name, update).await
    }
    async fn delete_group(&self, account: &str, name: &str) -> Result<()> {
        groups::delete(&self.db, account, name).await
    }
    async fn add_user_to_group(&self, account: &str, group: &str, user: &str) -> Result<()> {
        groups::add_user(&self.db, account, group, user).await
    }
    async fn remove_user_from_group(&self, account: &str, group: &str, user: &str) -> Result<()> {
        groups::remove_user(&self.db, account, group, user).await
    }
    async fn list_groups_for_user(
        &self,
        account: &str,
        user: &str,
        query: &ListQuery,
    ) -> Result<Page<Group>> {
        groups::for_user(&self.db, account, user, query).await
    }
    async fn policy_entities(
        &self,
        account: &str,
        arn: &str,
        query: &EntityQuery,
    ) -> Result<PolicyEntities> {
        account_details::policy_entities(&self.db, account, arn, query).await
    }
    async fn account_details(&self, account: &str, query: DetailsQuery) -> Result<AccountDetails> {
        account_details::details(&self.db, account, query).await
    }
    async fn user_credentials(&self, account: &str) -> Result<Vec<UserCredentials>> {
        account_details::credentials(&self.db, account).await
    }

    async fn create_role(&self, account: &str, role: NewRole) -> Result<Role> {
        roles::create(&self.db, account, role).await
    }
    async fn role_by_name(&self, account: &str, name: &str) -> Result<Role> {
        roles::by_name(&self.db, account, name).await
    }
    async fn role_by_id(&self, role_id: &str) -> Result<Role> {
        roles::by_id(&self.db, role_id).await
    }
    async fn list_roles(&self, account: &str, query: &ListQuery) -> Result<Page<Role>> {
        roles::list(&self.db, account, query).await
    }
    async fn update_role(&self, account: &str, name: &str, update: RoleUpdate) -> Result<()> {
        roles::update(&self.db, account, name, update).await
    }
    async fn update_assume_role_policy(
        &self,
        account: &str,
        name: &str,
        document: &str,
        bindings: &[PrincipalBinding],
    ) -> Result<()> {
        roles::update_assume_role_policy(&self.db, account, name, document, bindings).await
    }
    async fn set_role_permissions_boundary(
        &self,
        account: &str,
        name: &str,
        boundary_arn: Option<&str>,
    ) -> Result<()> {
        roles::set_boundary(&self.db, account, name, boundary_arn).await
    }
    async fn delete_role(&self, account: &str, name: &str) -> Result<()> {
        roles::delete(&self.db, account, name).await
    }
    async fn put_policy_generation(
        &self,
        job: &PolicyGeneration,
        forget_before: OffsetDateTime,
    ) -> Result<()> {
        policy_generations::put(&self.db, job, forget_before).await
    }
    async fn policy_generations(&self, since: OffsetDateTime) -> Result<Vec<PolicyGeneration>> {
        policy_generations::since(&self.db, since).await
    }
    async fn record_role_uses(&self, uses: &[RoleUse]) -> Result<()> {
        roles::record_uses(&self.db, uses).await
    }

    async fn put_inline_policy(
        &self,
        account: &str,
        principal: Principal<'_>,
        policy: InlinePolicy,
        max_total_size: u64,
    ) -> Result<()> {
        inline_policies::put(&self.db, account, principal, policy, max_total_size).await
    }
    async fn inline_policy(
        &self,
        account: &str,
        principal: Principal<'_>,
        policy_name: &str,
    ) -> Result<InlinePolicy> {
        inline_policies::get(&self.db, account, principal, policy_name).await
    }
    async fn list_inline_policies(
        &self,
        account: &str,
        principal: Principal<'_>,
        query: &ListQuery,
    ) -> Result<Page<String>> {
        inline_policies::list(&self.db, account, principal, query).await
    }
    async fn delete_inline_policy(
        &self,
        account: &str,
        principal: Principal<'_>,
        policy_name: &str,
    ) -> Result<()> {
        inline_policies::delete(&self.db, account, principal, policy_name).await
    }

    async fn create_policy(&self, account: &str, policy: NewPolicy) -> Result<ManagedPolicy> {
        managed_policies::create(&self.db, account, policy).await
    }
    async fn policy(&self, account: &str, arn: &str) -> Result<ManagedPolicy> {
        managed_policies::by_arn(&self.db, account, arn).await
    }
    async fn list_policies(
        &self,
        account: &str,
        query: &ListQuery,
        only_attached: bool,
    ) -> Result<Page<ManagedPolicy>> {
        managed_policies::list(&self.db, account, query, only_attached).await
    }
    async fn delete_policy(&self, account: &str, arn: &str) -> Result<()> {
        managed_policies::delete(&self.db, account, arn).await
    }
    async fn create_policy_version(
        &self,
        account: &str,
        arn: &str,
        document: &str,
        set_as_default: bool,
    ) -> Result<PolicyVersion> {
        managed_policies::create_version(&self.db, account, arn, document, set_as_default).await
    }
    async fn policy_version(
        &self,
        account: &str,
        arn: &str,
        version_id: &str,
    ) -> Result<PolicyVersion> {
        managed_policies::version(&self.db, account, arn, version_id).await
    }
    async fn list_policy_versions(&self, account: &str, arn: &str) -> Result<Vec<PolicyVersion>> {
        managed_policies::versions(&self.db, account, arn).await
    }
    async fn set_default_policy_version(
        &self,
        account: &str,
        arn: &str,
        version_id: &str,
    ) -> Result<()> {
        managed_policies::set_default_version(&self.db, account, arn, version_id).await
    }
    async fn delete_policy_version(
        &self,
        account: &str,
        arn: &str,
        version_id: &str,
    ) -> Result<()> {
        managed_policies::delete_version(&self.db, account, arn, version_id).await
    }
    async fn attach_policy(
        &self,
        account: &str,
        principal: Principal<'_>,
        arn: &str,
    ) -> Result<()> {
        managed_policies::attach(&self.db, account, principal, arn).await
    }
    async fn detach_policy(
        &self,
        account: &str,
        principal: Principal<'_>,
        arn: &str,
    ) -> Result<()> {
        managed_policies::detach(&self.db, account, principal, arn).await
    }
    async fn list_attached_policies(
        &self,
        account: &str,
        principal: Principal<'_>,
        query: &ListQuery,
    ) -> Result<Page<AttachedPolicy>> {
        managed_policies::list_attached(&self.db, account, principal, query).await
    }

    async fn create_instance_profile(
        &self,
        account: &str,
        profile: NewInstanceProfile,
    ) -> Result<InstanceProfile> {
        instance_profiles::create(&self.db, account, profile).await
    }
    async fn instance_profile(&self, account: &str, name: &str) -> Result<InstanceProfile> {
        instance_profiles::by_name(&self.db, account, name).await
    }
    async fn list_instance_profiles(
        &self,
        account: &str,
        query: &ListQuery,
    ) -> Result<Page<InstanceProfile>> {
        instance_profiles::list(&self.db, account, query).await
    }
    async fn list_instance_profiles_for_role(
        &self,
        account: &str,
        role_name: &str,
        query: &ListQuery,
    ) -> Result<Page<InstanceProfile>> {
        instance_profiles::list_for_role(&self.db, account, role_name, query).await
    }
    async fn delete_instance_profile(&self, account: &str, name: &str) -> Result<()> {
        instance_profiles::delete(&self.db, account, name).await
    }
    async fn add_role_to_instance_profile(
        &self,
        account: &str,
        profile_name: &str,
        role_name: &str,
    ) -> Result<()> {
        instance_profiles::add_role(&self.db, account, profile_name, role_name).await
    }
    async fn remove_role_from_instance_profile(
        &self,
        account: &str,
        profile_name: &str,
        role_name: &str,
    ) -> Result<()> {
        instance_profiles::remove_role(&self.db, account, profile_name, role_name).await
    }

    async fn create_oidc_provider(
        &self,
        account: &str,
        provider: NewOidcProvider,
    ) -> Result<OidcProvider> {
        oidc_providers::create(&self.db, account, provider).await
    }
    async fn oidc_provider(&self, account: &str, arn: &str) -> Result<OidcProvider> {
        oidc_providers::get(&self.db, account, arn).await
    }
    async fn list_oidc_providers(&self, account: &str) -> Result<Vec<OidcProvider>> {
        oidc_providers::list(&self.db, account).await
    }
    async fn delete_oidc_provider(&self, account: &str, arn: &str) -> Result<()> {
        oidc_providers::delete(&self.db, account, arn).await
    }
    async fn update_oidc_provider(
        &self,
        account: &str,
        arn: &str,
        change: OidcProviderChange,
    ) -> Result<()> {
        oidc_providers::update(&self.db, account, arn, change).await
    }

    async fn tag(&self, account: &str, entity: Taggable<'_>, new_tags: &[Tag]) -> Result<()> {
        tags::tag(&self.db, account, entity, new_tags).await
    }
    async fn untag(&self, account: &str, entity: Taggable<'_>, keys: &[String]) -> Result<()> {
        tags::untag(&self.db, account, entity, keys).await
    }
    async fn tags(&self, account: &str, entity: Taggable<'_>) -> Result<Vec<Tag>> {
        tags::list(&self.db, account, entity).await
    }

    async fn aws_policy_usage(&self, account: &str) -> Result<Vec<AwsPolicyUsage>> {
        managed_policies::aws_policy_usage(&self.db, account).await
    }

    async fn identity_policies(&self, principal_id: &str) -> Result<IdentityPolicies> {
        managed_policies::identity_policies(&self.db, principal_id).await
    }

    async fn add_token_key(&self, account: &str, kid: &str, ciphertext: &[u8]) -> Result<TokenKey> {
        keyring::add(&self.db, account, kid, ciphertext).await
    }
    async fn token_keys(&self, account: &str) -> Result<Vec<TokenKey>> {
        keyring::list(&self.db, account).await
    }
    async fn delete_token_key(&self, account: &str, kid: &str) -> Result<()> {
        keyring::delete(&self.db, account, kid).await
    }

    async fn add_deployment_key(&self, key: NewDeploymentKey) -> Result<DeploymentKey> {
        deployment_keys::add(&self.db, key).await
    }
    async fn deployment_key(&self, name: &str) -> Result<Option<DeploymentKey>> {
        deployment_keys::get(&self.db, name).await
    }

    async fn setting(&self, account: &str, key: &str) -> Result<Option<String>> {
        settings::get(&self.db, account, key).await
    }
    async fn put_setting(&self, account: &str, key: &str, value: &str) -> Result<()> {
        settings::put(&self.db, account, key, value).await
    }
    async fn delete_setting(&self, account: &str, key: &str) -> Result<()> {
        settings::delete(&self.db, account, key).await
    }

    async fn run_instances(&self, account: &str, launch: NewLaunch) -> Result<Reservation> {
        instances::run(&self.db, account, launch).await
    }
    async fn instances(&self, account: &str, query: &InstanceQuery) -> Result<Vec<Instance>> {
        instances::list(&self.db, account, query).await
    }
    async fn instance_by_private_ip(&self, address: &str) -> Result<Option<Instance>> {
        instances::by_private_ip(&self.db, address).await
    }
    async fn change_instance_states(
        &self,
        account: &str,
        ids: &[String],
        request: StateRequest,
    ) -> Result<Vec<StateChange>> {
        instances::change_states(&self.db, account, ids, request).await
    }
    async fn set_instance_metadata_options(
        &self,
        account: &str,
        instance_id: &str,
        options: &MetadataOptions,
    ) -> Result<Instance> {
        let result = instances::set_metadata_options(&self.db, account, instance_id, options);
        result.await
    }
    async fn set_instance_user_data(
        &self,
        account: &str,
        instance_id: &str,
        user_data: Option<&[u8]>,
    ) -> Result<Instance> {
        let result = instances::set_user_data(&self.db, account, instance_id, user_data);
        result.await
    }
    async fn create_bucket(&self, account: &str, name: &str, region: &str) -> Result<Bucket> {
        buckets::create(&self.db, account, name, region).await
    }
    async fn bucket(&self, name: &str) -> Result<Bucket> {
        buckets::get(&self.db, name).await
    }
    async fn buckets(&self, account: &str) -> Result<Vec<Bucket>> {
        buckets::list(&self.db, account).await
    }
    async fn delete_bucket(&self, name: &str) -> Result<Vec<String>> {
        buckets::delete(&self.db, name).await
    }
    async fn update_bucket(&self, name: &str, change: BucketChange) -> Result<Bucket> {
        buckets::update(&self.db, name, change).await
    }
    async fn put_object(&self, object: NewObject) -> Result<Option<String>> {
        objects::put(&self.db, object).await
    }
    async fn object(&self, bucket: &str, key: &str) -> Result<ObjectMeta> {
        objects::get(&self.db, bucket, key).await
    }
    async fn delete_object(&self, bucket: &str, key: &str) -> Result<Option<String>> {
        objects::delete(&self.db, bucket, key).await
    }
    async fn list_objects(&self, bucket: &str, listing: &ObjectListing) -> Result<ObjectPage> {
        object_listing::list(&self.db, bucket, listing).await
    }
    async fn set_object_tags(&self, bucket: &str, key: &str, tags: Vec<Tag>) -> Result<()> {
        objects::set_tags(&self.db, bucket, key, tags).await
    }
    async fn create_upload(&self, upload: NewUpload) -> Result<String> {
        uploads::create(&self.db, upload).await
    }
    async fn upload(&self, bucket: &str, key: &str, upload_id: &str) -> Result<MultipartUpload> {
        uploads::get(&self.db, bucket, key, upload_id).await
    }
    async fn uploads(
        &self,
        bucket: &str,
        prefix: &str,
        after: Option<(&str, &str)>,
        max: usize,
    ) -> Result<Vec<MultipartUpload>> {
        uploads::list(&self.db, bucket, prefix, after, max).await
    }
    async fn put_part(&self, upload_id: &str, part: Part) -> Result<Option<String>> {
        uploads::put_part(&self.db, upload_id, part).await
    }
    async fn parts(&self, upload_id: &str) -> Result<Vec<Part>> {
        uploads::parts(&self.db, upload_id).await
    }
    async fn complete_upload(&self, upload_id: &str, object: NewObject) -> Result<CompletedUpload> {
        uploads::complete(&self.db, upload_id, object).await
    }
    async fn abort_upload(&self, upload_id: &str) -> Result<Vec<String>> {
        uploads::abort(&self.db, upload_id).await
    }
    async fn import_key_pair(&self, account: &str, new: NewKeyPair) -> Result<KeyPair> {
        key_pairs::import(&self.db, account, new).await
    }
    async fn key_pairs(&self, account: &str) -> Result<Vec<KeyPair>> {
        key_pairs::list(&self.db, account).await
    }
    async fn delete_key_pair(
        &self,
        account: &str,
        name: Option<&str>,
        id: Option<&str>,
    ) -> Result<bool> {
        key_pairs::delete(&self.db, account, name, id).await
    }
    async fn create_ec2_tags(
        &self,
        account: &str,
        resources: &[Ec2Resource],
        tags: &[Tag],
    ) -> Result<()> {
        ec2_tags::create(&self.db, account, resources, tags).await
    }
    async fn delete_ec2_tags(
        &self,
        account: &str,
        resources: &[Ec2Resource],
        removals: Option<&[TagRemoval]>,
    ) -> Result<()> {
        ec2_tags::delete(&self.db, account, resources, removals).await
    }
    async fn ec2_tags(&self, account: &str) -> Result<Vec<ResourceTag>> {
        ec2_tags::list(&self.db, account).await
    }
    async fn associate_instance_profile(
        &self,
        account: &str,
        instance_id: &str,
        profile: &ProfileRef,
    ) -> Result<Association> {
        let result = associations::associate(&self.db, account, instance_id, profile);
        result.await
    }
    async fn replace_instance_profile_association(
        &self,
        account: &str,
        association_id: &str,
        profile: &ProfileRef,
    ) -> Result<Association> {
        let result = associations::replace(&self.db, account, association_id, profile);
        result.await
    }
    async fn disassociate_instance_profile(
        &self,
        account: &str,
        association_id: &str,
    ) -> Result<Association> {
        let result = associations::disassociate(&self.db, account, association_id);
        result.await
    }
    async fn instance_profile_associations(
        &self,
        account: &str,
        query: &AssociationQuery,
    ) -> Result<Vec<Association>> {
        associations::list(&self.db, account, query).await
    }
    async fn instance_metadata_defaults(&self, account: &str) -> Result<MetadataDefaults> {
        metadata_defaults::get(&self.db, account).await
    }
    async fn put_instance_metadata_defaults(
        &self,
        account: &str,
        defaults: &MetadataDefaults,
    ) -> Result<()> {
        metadata_defaults::put(&self.db, account, defaults).await
    }
    async fn instance_change_mark(&self) -> Result<u64> {
        instances::change_mark(&self.db).await
    }
    async fn instances_changed_since(&self, mark: u64) -> Result<Vec<Instance>> {
        instances::changed_since(&self.db, mark).await
    }
    async fn allocate_hosts(&self, account: &str, new: NewHosts) -> Result<Allocation> {
        hosts::allocate(&self.db, account, new).await
    }
    async fn hosts(&self, account: &str, ids: &[String]) -> Result<Vec<Host>> {
        hosts::list(&self.db, account, ids).await
    }
    async fn release_hosts(&self, account: &str, ids: &[String]) -> Result<Vec<HostRelease>> {
        hosts::release(&self.db, account, ids).await
    }
    async fn host_agent_key(&self, access_key_id: &str) -> Result<HostAgentKey> {
        hosts::agent_key(&self.db, access_key_id).await
    }
    async fn host_agent_keys(&self, host_id: &str) -> Result<Vec<HostAgentKey>> {
        hosts::agent_keys(&self.db, host_id).await
    }
    async fn rotate_host_agent_key(
        &self,
        host_id: &str,
        key: NewAccessKey,
        grace: std::time::Duration,
    ) -> Result<HostAgentKey> {
        let grace_ms = i64::try_from(grace.as_millis()).unwrap_or(i64::MAX);
        hosts::rotate_key(&self.db, host_id, key, grace_ms).await
    }
    async fn account_alias(&self, account: &str) -> Result<Option<String>> {
        account_aliases::get(&self.db, account).await
    }
    async fn set_account_alias(&self, account: &str, alias: &str) -> Result<()> {
        account_aliases::set(&self.db, account, alias).await
    }
    async fn delete_account_alias(&self, account: &str, alias: &str) -> Result<()> {
        account_aliases::delete(&self.db, account, alias).await
    }
    async fn account_counts(&self, account: &str) -> Result<AccountCounts> {
        account_summary::counts(&self.db, account).await
    }
    async fn ready(&self) -> Result<()> {
        readiness::check(&self.db, &MIGRATOR).await
    }
    fn pool_use(&self) -> Option<crate::store::PoolUse> {
        let pool = &self.db.pool;
        Some(crate::store::PoolUse {
            // The change listener's connection is one of them, never idle.
            size: pool.size(),
            idle: u32::try_from(pool.num_idle()).unwrap_or(u32::MAX),
            max: pool.options().get_max_connections(),
        })
    }
    fn changes(&self) -> Changes {
        self.db.counters.load()
    }
}
