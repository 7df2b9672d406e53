//! Row shapes as stored, their conversion to records, and lookups several modules share.

use sqlx::SqliteConnection;

use super::{corrupt, fold, from_ms};
use crate::error::{EntityKind, Result, StoreError};
use crate::model::{
    AccessKey, AccessKeyStatus, InstanceProfile, LastUsed, ManagedPolicy, Principal,
    PrincipalBinding, Role, Tag, User,
};

fn last_used(
    ms: Option<i64>,
    region: Option<String>,
    service: Option<String>,
) -> Result<Option<LastUsed>> {
    ms.map(|ms| {
        Ok(LastUsed {
            date: from_ms(ms)?,
            region,
            service,
        })
    })
    .transpose()
}

fn to_u32(value: i64, column: &str) -> Result<u32> {
    u32::try_from(value).map_err(|_| corrupt(format!("{column} = {value}")))
}

pub(crate) const USER_COLUMNS: &str =
    "user_id, account_id, name, path, arn, created_ms, permissions_boundary_arn";

#[derive(sqlx::FromRow)]
pub(crate) struct UserRow {
    user_id: String,
    account_id: String,
    name: String,
    path: String,
    arn: String,
    created_ms: i64,
    permissions_boundary_arn: Option<String>,
}

impl UserRow {
    pub(crate) fn into_user(self, tags: Vec<Tag>) -> Result<User> {
        Ok(User {
            account_id: self.account_id,
            id: self.user_id,
            name: self.name,
            path: self.path,
            arn: self.arn,
            created: from_ms(self.created_ms)?,
            permissions_boundary_arn: self.permissions_boundary_arn,
            tags,
        })
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct AccessKeyRow {
    access_key_id: String,
    account_id: String,
    user_id: String,
    user_name: String,
    status: String,
    secret_ciphertext: Vec<u8>,
    created_ms: i64,
    last_used_ms: Option<i64>,
    last_used_region: Option<String>,
    last_used_service: Option<String>,
}

impl AccessKeyRow {
    pub(crate) fn into_key(self) -> Result<AccessKey> {
        let status = AccessKeyStatus::parse(&self.status)
            .ok_or_else(|| corrupt(format!("access key status {}", self.status)))?;
        Ok(AccessKey {
            access_key_id: self.access_key_id,
            account_id: self.account_id,
            user_name: self.user_name,
            user_id: self.user_id,
            status,
            secret_ciphertext: self.secret_ciphertext,
            created: from_ms(self.created_ms)?,
            last_used: last_used(
                self.last_used_ms,
                self.last_used_region,
                self.last_used_service,
            )?,
        })
    }
}

/// Role columns, for queries that alias `roles` as `r`.
pub(crate) const ROLE_COLUMNS: &str = "r.role_id, r.account_id, r.name, r.path, r.arn, \
     r.created_ms, r.assume_role_policy, r.description, r.max_session_duration, \
     r.permissions_boundary_arn, r.last_used_ms, r.last_used_region, r.trust_principals";

#[derive(sqlx::FromRow)]
pub(crate) struct RoleRow {
    role_id: String,
    account_id: String,
    name: String,
    path: String,
    arn: String,
    created_ms: i64,
    assume_role_policy: String,
    description: Option<String>,
    max_session_duration: i64,
    permissions_boundary_arn: Option<String>,
    last_used_ms: Option<i64>,
    last_used_region: Option<String>,
    trust_principals: String,
}

/// `ID ARN` per line: neither an IAM unique ID nor an IAM ARN can hold a space or a newline.
pub(crate) fn encode_bindings(bindings: &[PrincipalBinding]) -> String {
    bindings
        .iter()
        .map(|b| format!("{} {}\n", b.id, b.arn))
        .collect()
}

fn decode_bindings(text: &str) -> Vec<PrincipalBinding> {
    text.lines()
        .filter_map(|line| {
            let (id, arn) = line.split_once(' ')?;
            Some(PrincipalBinding {
                arn: arn.to_owned(),
                id: id.to_owned(),
            })
        })
        .collect()
}

impl RoleRow {
    pub(crate) fn id(&self) -> &str {
        &self.role_id
    }

    pub(crate) fn into_role(self, tags: Vec<Tag>) -> Result<Role> {
        Ok(Role {
            account_id: self.account_id,
            id: self.role_id,
            name: self.name,
            path: self.path,
            arn: self.arn,
            created: from_ms(self.created_ms)?,
            assume_role_policy: self.assume_role_policy,
            trust_principals: decode_bindings(&self.trust_principals),
            description: self.description,
            max_session_duration: to_u32(self.max_session_duration, "max_session_duration")?,
            permissions_boundary_arn: self.permissions_boundary_arn,
            tags,
            last_used: last_used(self.last_used_ms, self.last_used_region, None)?,
        })
    }
}

/// Managed policy columns plus its attachment and boundary-usage counts (aliased `p`).
pub(crate) const POLICY_COLUMNS: &str = "p.policy_id, p.account_id, p.name, p.path, p.arn, \
     p.default_version_id, p.description, p.created_ms, p.updated_ms, \
     (SELECT COUNT(*) FROM policy_attachments a WHERE a.policy_id = p.policy_id) \
        AS attachment_count, \
     (SELECT COUNT(*) FROM roles r WHERE r.permissions_boundary_arn = p.arn) \
        + (SELECT COUNT(*) FROM users u WHERE u.permissions_boundary_arn = p.arn) \
        AS boundary_count";

#[derive(sqlx::FromRow)]
pub(crate) struct PolicyRow {
    policy_id: String,
    account_id: String,
    name: String,
    path: String,
    arn: String,
    default_version_id: String,
    description: Option<String>,
    created_ms: i64,
    updated_ms: i64,
    attachment_count: i64,
    boundary_count: i64,
}

impl PolicyRow {
    pub(crate) fn into_policy(self, tags: Vec<Tag>) -> Result<ManagedPolicy> {
        Ok(ManagedPolicy {
            account_id: self.account_id,
            id: self.policy_id,
            name: self.name,
            path: self.path,
            arn: self.arn,
            default_version_id: self.default_version_id,
            attachment_count: to_u32(self.attachment_count, "attachment_count")?,
            permissions_boundary_usage_count: to_u32(self.boundary_count, "boundary_count")?,
            description: self.description,
            created: from_ms(self.created_ms)?,
            updated: from_ms(self.updated_ms)?,
            tags,
        })
    }
}

pub(crate) const PROFILE_COLUMNS: &str =
    "ip.profile_id, ip.account_id, ip.name, ip.path, ip.arn, ip.created_ms";

#[derive(sqlx::FromRow)]
pub(crate) struct ProfileRow {
    profile_id: String,
    account_id: String,
    name: String,
    path: String,
    arn: String,
    created_ms: i64,
}

impl ProfileRow {
    pub(crate) fn id(&self) -> &str {
        &self.profile_id
    }

    pub(crate) fn name_lower(&self) -> String {
        fold(&self.name)
    }

    pub(crate) fn into_profile(self, roles: Vec<Role>, tags: Vec<Tag>) -> Result<InstanceProfile> {
        Ok(InstanceProfile {
            account_id: self.account_id,
            id: self.profile_id,
            name: self.name,
            path: self.path,
            arn: self.arn,
            created: from_ms(self.created_ms)?,
            roles,
            tags,
        })
    }
}

/// The unique ID of a role, user or group named in `account`, or `NotFound`.
pub(super) async fn principal_id(
    conn: &mut SqliteConnection,
    account: &str,
    principal: Principal<'_>,
) -> Result<String> {
    let (sql, kind, name) = match principal {
        Principal::Role(name) => (
            "SELECT role_id FROM roles WHERE account_id = $1 AND name_lower = $2",
            EntityKind::Role,
            name,
        ),
        Principal::User(name) => (
            "SELECT user_id FROM users WHERE account_id = $1 AND name_lower = $2",
            EntityKind::User,
            name,
        ),
        Principal::Group(name) => (
            "SELECT group_id FROM iam_groups WHERE account_id = $1 AND name_lower = $2",
            EntityKind::Group,
            name,
        ),
    };
    sqlx::query_scalar(sql)
        .bind(account)
        .bind(fold(name))
        .fetch_optional(&mut *conn)
        .await?
        .ok_or_else(|| StoreError::not_found(kind, name))
}

/// Checks that a permissions boundary names a managed policy the store holds.
/// A boundary must be a managed policy of the principal's own account.
pub(super) async fn require_boundary(
    conn: &mut SqliteConnection,
    account: &str,
    arn: Option<&str>,
) -> Result<()> {
    let Some(arn) = arn else { return Ok(()) };
    // AWS managed policies have no row: the caller checks its catalogue before writing one.
    if is_aws_managed(arn) {
        return Ok(());
    }
    let found: Option<i64> =
        sqlx::query_scalar("SELECT 1 FROM managed_policies WHERE account_id = $1 AND arn = $2")
            .bind(account)
            .bind(arn)
            .fetch_optional(&mut *conn)
            .await?;
    match found {
        Some(_) => Ok(()),
        None => Err(StoreError::not_found(EntityKind::PermissionsBoundary, arn)),
    }
}

/// Whether `arn` is in AWS's namespace (`arn:<partition>:iam::aws:policy/…`): an AWS managed
/// policy, which the store knows by ARN only.
pub(crate) fn is_aws_managed(arn: &str) -> bool {
    arn.split(':').nth(4) == Some("aws")
}

/// Fails with `NotFound` unless an UPDATE/DELETE touched a row.
pub(super) fn require_row(
    result: sqlx::sqlite::SqliteQueryResult,
    kind: EntityKind,
    name: &str,
) -> Result<()> {
    if result.rows_affected() == 0 {
        return Err(StoreError::not_found(kind, name));
    }
    Ok(())
}
