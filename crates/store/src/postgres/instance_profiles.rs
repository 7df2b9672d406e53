//! Instance profiles and the (at most one) role each holds.

use sqlx::{AssertSqlSafe, PgConnection};

use super::rows::principal_id;
use super::{Db, begin_write, delete_unless_in_use, fold, is_unique_violation, now_ms, tags};
use crate::error::{Conflict, EntityKind, Quota, Result, StoreError};
use crate::ids;
use crate::model::{InstanceProfile, NewInstanceProfile, Principal, Role};
use crate::page::{ListQuery, Page};
use crate::sqlite::rows::{PROFILE_COLUMNS, ProfileRow, ROLE_COLUMNS, RoleRow};

/// A role together with the profile that holds it.
#[derive(sqlx::FromRow)]
struct HeldRole {
    holder: String,
    #[sqlx(flatten)]
    role: RoleRow,
}

const HELD_ROLES_SQL: &str = "instance_profile_roles ipr JOIN roles r ON r.role_id = ipr.role_id";

async fn profile_id(conn: &mut PgConnection, account: &str, name: &str) -> Result<String> {
    sqlx::query_scalar(
        "SELECT profile_id FROM instance_profiles WHERE account_id = $1 AND name_lower = $2",
    )
    .bind(account)
    .bind(fold(name))
    .fetch_optional(&mut *conn)
    .await?
    .ok_or_else(|| StoreError::not_found(EntityKind::InstanceProfile, name))
}

async fn load(conn: &mut PgConnection, account: &str, name: &str) -> Result<InstanceProfile> {
    let sql = format!(
        "SELECT {PROFILE_COLUMNS} FROM instance_profiles ip \
         WHERE ip.account_id = $1 AND ip.name_lower = $2"
    );
    let row: ProfileRow = sqlx::query_as(AssertSqlSafe(sql))
        .bind(account)
        .bind(fold(name))
        .fetch_optional(&mut *conn)
        .await?
        .ok_or_else(|| StoreError::not_found(EntityKind::InstanceProfile, name))?;
    let sql = format!("SELECT {ROLE_COLUMNS} FROM {HELD_ROLES_SQL} WHERE ipr.profile_id = $1");
    let roles: Vec<RoleRow> = sqlx::query_as(AssertSqlSafe(sql))
        .bind(row.id())
        .fetch_all(&mut *conn)
        .await?;
    let roles = roles
        .into_iter()
        .map(|role| role.into_role(Vec::new()))
        .collect::<Result<_>>()?;
    let tags = tags::load(conn, row.id()).await?;
    row.into_profile(roles, tags)
}

pub(super) async fn create(
    db: &Db,
    account: &str,
    new: NewInstanceProfile,
) -> Result<InstanceProfile> {
    let id = ids::instance_profile_id();
    let arn = ids::iam_arn(account, "instance-profile", &new.path, &new.name);
    let mut tx = begin_write(db, account).await?;
    sqlx::query(
        "INSERT INTO instance_profiles (profile_id, account_id, name, name_lower, path, arn, \
         created_ms) VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(&id)
    .bind(account)
    .bind(&new.name)
    .bind(fold(&new.name))
    .bind(&new.path)
    .bind(&arn)
    .bind(now_ms())
    .execute(&mut *tx)
    .await
    .map_err(|e| match is_unique_violation(&e) {
        true => StoreError::already_exists(EntityKind::InstanceProfile, &new.name),
        false => e.into(),
    })?;
    tags::insert(&mut tx, account, "instance-profile", &id, &new.tags).await?;
    let profile = load(&mut tx, account, &new.name).await?;
    tx.commit().await?;
    Ok(profile)
}

pub(super) async fn by_name(db: &Db, account: &str, name: &str) -> Result<InstanceProfile> {
    load(&mut *db.pool.acquire().await?, account, name).await
}

pub(super) async fn list(
    db: &Db,
    account: &str,
    query: &ListQuery,
) -> Result<Page<InstanceProfile>> {
    let (after, limit) = query.bounds()?;
    let mut conn = db.pool.acquire().await?;
    let sql = format!(
        "SELECT {PROFILE_COLUMNS} FROM instance_profiles ip WHERE ip.account_id = $1 \
         AND substr(ip.path, 1, length($2)) = $2 AND ip.name_lower > $3 \
         ORDER BY ip.name_lower LIMIT $4"
    );
    let rows: Vec<ProfileRow> = sqlx::query_as(AssertSqlSafe(sql))
        .bind(account)
        .bind(&query.path_prefix)
        .bind(&after)
        .bind(limit)
        .fetch_all(&mut *conn)
        .await?;
    // The roles of every profile on the page, in one query over the page's key range.
    let mut held: Vec<HeldRole> = match rows.last() {
        None => Vec::new(),
        Some(last) => {
            let sql = format!(
                "SELECT ipr.profile_id AS holder, {ROLE_COLUMNS} FROM {HELD_ROLES_SQL} \
                 JOIN instance_profiles ip ON ip.profile_id = ipr.profile_id \
                 WHERE ip.account_id = $1 AND ip.name_lower > $2 AND ip.name_lower <= $3"
            );
            sqlx::query_as(AssertSqlSafe(sql))
                .bind(account)
                .bind(&after)
                .bind(last.name_lower())
                .fetch_all(&mut *conn)
                .await?
        }
    };
    let mut profiles = Vec::with_capacity(rows.len());
    for row in rows {
        let mut roles = Vec::new();
        if let Some(at) = held.iter().position(|h| h.holder == row.id()) {
            roles.push(held.swap_remove(at).role.into_role(Vec::new())?);
        }
        profiles.push(row.into_profile(roles, Vec::new())?);
    }
    Ok(Page::from_rows(
        profiles,
        query.max_items,
        |p: &InstanceProfile| fold(&p.name),
    ))
}

pub(super) async fn list_for_role(
    db: &Db,
    account: &str,
    role_name: &str,
    query: &ListQuery,
) -> Result<Page<InstanceProfile>> {
    let (after, limit) = query.bounds()?;
    let mut conn = db.pool.acquire().await?;
    let role_id = principal_id(&mut conn, account, Principal::Role(role_name)).await?;
    let sql = format!("SELECT {ROLE_COLUMNS} FROM roles r WHERE r.role_id = $1");
    let role: Role = sqlx::query_as::<_, RoleRow>(AssertSqlSafe(sql))
        .bind(&role_id)
        .fetch_one(&mut *conn)
        .await?
        .into_role(Vec::new())?;
    let sql = format!(
        "SELECT {PROFILE_COLUMNS} FROM instance_profiles ip \
         JOIN instance_profile_roles ipr ON ipr.profile_id = ip.profile_id \
         WHERE ipr.role_id = $1 AND ip.name_lower > $2 ORDER BY ip.name_lower LIMIT $3"
    );
    let rows: Vec<ProfileRow> = sqlx::query_as(AssertSqlSafe(sql))
        .bind(&role_id)
        .bind(after)
        .bind(limit)
        .fetch_all(&mut *conn)
        .await?;
    let profiles = rows
        .into_iter()
        .map(|row| row.into_profile(vec![role.clone()], Vec::new()))
        .collect::<Result<_>>()?;
    Ok(Page::from_rows(
        profiles,
        query.max_items,
        |p: &InstanceProfile| fold(&p.name),
    ))
}

pub(super) async fn delete(db: &Db, account: &str, name: &str) -> Result<()> {
    let mut tx = begin_write(db, account).await?;
    let id = profile_id(&mut tx, account, name).await?;
    delete_unless_in_use(
        &mut tx,
        &id,
        &[(
            "SELECT COUNT(*) FROM instance_profile_roles WHERE profile_id = $1",
            Conflict::InstanceProfileMembership,
        )],
        "DELETE FROM instance_profiles WHERE profile_id = $1",
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

pub(super) async fn add_role(
    db: &Db,
    account: &str,
    profile_name: &str,
    role_name: &str,
) -> Result<()> {
    let full = || StoreError::limit(Quota::RolesPerInstanceProfile);
    let mut tx = begin_write(db, account).await?;
    let profile = profile_id(&mut tx, account, profile_name).await?;
    let role = principal_id(&mut tx, account, Principal::Role(role_name)).await?;
    let holds: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM instance_profile_roles WHERE profile_id = $1")
            .bind(&profile)
            .fetch_one(&mut *tx)
            .await?;
    if holds > 0 {
        return Err(full());
    }
    // The primary key on profile_id backs the check above on backends with weaker isolation.
    sqlx::query(
        "INSERT INTO instance_profile_roles (profile_id, role_id, account_id) VALUES ($1, $2, $3)",
    )
    .bind(&profile)
    .bind(&role)
    .bind(account)
    .execute(&mut *tx)
    .await
    .map_err(|e| {
        if is_unique_violation(&e) {
            full()
        } else {
            e.into()
        }
    })?;
    tx.commit().await?;
    Ok(())
}

pub(super) async fn remove_role(
    db: &Db,
    account: &str,
    profile_name: &str,
    role_name: &str,
) -> Result<()> {
    let mut tx = begin_write(db, account).await?;
    let profile = profile_id(&mut tx, account, profile_name).await?;
    let role = principal_id(&mut tx, account, Principal::Role(role_name)).await?;
    let result =
        sqlx::query("DELETE FROM instance_profile_roles WHERE profile_id = $1 AND role_id = $2")
            .bind(&profile)
            .bind(&role)
            .execute(&mut *tx)
            .await?;
    if result.rows_affected() == 0 {
        let kind = EntityKind::InstanceProfileRole {
            instance_profile: profile_name.to_owned(),
        };
        return Err(StoreError::not_found(kind, role_name));
    }
    tx.commit().await?;
    Ok(())
}
