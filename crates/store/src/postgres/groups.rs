//! IAM groups and their members. Inline policies and attachments of a group are the shared
//! `inline_policies`/`policy_attachments` rows under its ID (`Principal::Group`).

use sqlx::{AssertSqlSafe, PgConnection};

use super::rows::principal_id;
use super::{Db, begin_read, begin_write, delete_unless_in_use, fold, is_unique_violation, now_ms};
use crate::error::{Conflict, EntityKind, Result, StoreError};
use crate::groups::{Group, GroupUpdate, NewGroup};
use crate::ids;
use crate::model::{Principal, User};
use crate::page::{ListQuery, Page};
use crate::sqlite::groups::{GROUP_COLUMNS, GroupRow};
use crate::sqlite::rows::{USER_COLUMNS, UserRow};

fn already_exists(name: &str) -> impl FnOnce(sqlx::Error) -> StoreError + '_ {
    move |e| match is_unique_violation(&e) {
        true => StoreError::already_exists(EntityKind::Group, name),
        false => e.into(),
    }
}

pub(super) async fn create(db: &Db, account: &str, new: NewGroup) -> Result<Group> {
    let id = ids::group_id();
    let arn = ids::iam_arn(account, "group", &new.path, &new.name);
    let mut tx = begin_write(db, account).await?;
    sqlx::query(
        "INSERT INTO iam_groups (group_id, account_id, name, name_lower, path, arn, created_ms) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
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
    .map_err(already_exists(&new.name))?;
    let group = load(&mut tx, account, &new.name).await?;
    tx.commit().await?;
    Ok(group)
}

async fn load(conn: &mut PgConnection, account: &str, name: &str) -> Result<Group> {
    let sql = format!(
        "SELECT {GROUP_COLUMNS} FROM iam_groups g WHERE g.account_id = $1 AND g.name_lower = $2"
    );
    let row: GroupRow = sqlx::query_as(AssertSqlSafe(sql))
        .bind(account)
        .bind(fold(name))
        .fetch_optional(&mut *conn)
        .await?
        .ok_or_else(|| StoreError::not_found(EntityKind::Group, name))?;
    row.into_group()
}

pub(super) async fn by_name(db: &Db, account: &str, name: &str) -> Result<Group> {
    load(&mut *db.pool.acquire().await?, account, name).await
}

pub(super) async fn list(db: &Db, account: &str, query: &ListQuery) -> Result<Page<Group>> {
    let (after, limit) = query.bounds()?;
    let sql = format!(
        "SELECT {GROUP_COLUMNS} FROM iam_groups g WHERE g.account_id = $1 \
         AND substr(g.path, 1, length($2)) = $2 AND g.name_lower > $3 ORDER BY g.name_lower LIMIT $4"
    );
    let rows: Vec<GroupRow> = sqlx::query_as(AssertSqlSafe(sql))
        .bind(account)
        .bind(&query.path_prefix)
        .bind(after)
        .bind(limit)
        .fetch_all(&db.pool)
        .await?;
    page_of(rows, query)
}

fn page_of(rows: Vec<GroupRow>, query: &ListQuery) -> Result<Page<Group>> {
    let groups = rows
        .into_iter()
        .map(GroupRow::into_group)
        .collect::<Result<_>>()?;
    Ok(Page::from_rows(groups, query.max_items, |group: &Group| {
        fold(&group.name)
    }))
}

pub(super) async fn update(db: &Db, account: &str, name: &str, update: GroupUpdate) -> Result<()> {
    let mut tx = begin_write(db, account).await?;
    let group = load(&mut tx, account, name).await?;
    let new_name = update.new_name.unwrap_or(group.name);
    let new_path = update.new_path.unwrap_or(group.path);
    let arn = ids::iam_arn(account, "group", &new_path, &new_name);
    sqlx::query(
        "UPDATE iam_groups SET name = $2, name_lower = $3, path = $4, arn = $5 \
         WHERE group_id = $1",
    )
    .bind(&group.id)
    .bind(&new_name)
    .bind(fold(&new_name))
    .bind(&new_path)
    .bind(&arn)
    .execute(&mut *tx)
    .await
    .map_err(already_exists(&new_name))?;
    tx.commit().await?;
    Ok(())
}

/// Refused while the group has members, attached or inline policies (in that order).
pub(super) async fn delete(db: &Db, account: &str, name: &str) -> Result<()> {
    let mut tx = begin_write(db, account).await?;
    let id = principal_id(&mut tx, account, Principal::Group(name)).await?;
    let checks = [
        (
            "SELECT COUNT(*) FROM iam_group_members WHERE group_id = $1",
            Conflict::GroupMembership,
        ),
        (
            "SELECT (SELECT COUNT(*) FROM policy_attachments WHERE principal_id = $1) \
             + (SELECT COUNT(*) FROM aws_policy_attachments WHERE principal_id = $1)",
            Conflict::AttachedPolicies,
        ),
        (
            "SELECT COUNT(*) FROM inline_policies WHERE principal_id = $1",
            Conflict::InlinePolicies,
        ),
    ];
    delete_unless_in_use(
        &mut tx,
        &id,
        &checks,
        "DELETE FROM iam_groups WHERE group_id = $1",
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// The user's and the group's IDs; the user is looked up first, as AWS reports a missing user
/// before a missing group.
async fn member_ids(
    conn: &mut PgConnection,
    account: &str,
    group: &str,
    user: &str,
) -> Result<(String, String)> {
    let user_id = principal_id(conn, account, Principal::User(user)).await?;
    let group_id = principal_id(conn, account, Principal::Group(group)).await?;
    Ok((group_id, user_id))
}

/// Adding a member again succeeds and changes nothing, as on AWS.
pub(super) async fn add_user(db: &Db, account: &str, group: &str, user: &str) -> Result<()> {
    let mut tx = begin_write(db, account).await?;
    let (group_id, user_id) = member_ids(&mut tx, account, group, user).await?;
    sqlx::query(
        "INSERT INTO iam_group_members (group_id, user_id, account_id) VALUES ($1, $2, $3) \
         ON CONFLICT (group_id, user_id) DO NOTHING",
    )
    .bind(&group_id)
    .bind(&user_id)
    .bind(account)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Removing a user who is not a member succeeds (recorded AWS answer: LocalStack's
/// test_iam_users.py, remove-nonmember-user-from-group).
pub(super) async fn remove_user(db: &Db, account: &str, group: &str, user: &str) -> Result<()> {
    let mut tx = begin_write(db, account).await?;
    let (group_id, user_id) = member_ids(&mut tx, account, group, user).await?;
    sqlx::query("DELETE FROM iam_group_members WHERE group_id = $1 AND user_id = $2")
        .bind(&group_id)
        .bind(&user_id)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(())
}

/// GetGroup: the group and one page of its members by name.
pub(super) async fn with_members(
    db: &Db,
    account: &str,
    name: &str,
    query: &ListQuery,
) -> Result<(Group, Page<User>)> {
    let (after, limit) = query.bounds()?;
    let mut tx = begin_read(db).await?;
    let group = load(&mut tx, account, name).await?;
    let sql = format!(
        "SELECT {USER_COLUMNS} FROM users WHERE user_id IN \
         (SELECT user_id FROM iam_group_members WHERE group_id = $1) \
         AND name_lower > $2 ORDER BY name_lower LIMIT $3"
    );
    let rows: Vec<UserRow> = sqlx::query_as(AssertSqlSafe(sql))
        .bind(&group.id)
        .bind(after)
        .bind(limit)
        .fetch_all(&mut *tx)
        .await?;
    tx.commit().await?;
    let users = rows
        .into_iter()
        .map(|row| row.into_user(Vec::new()))
        .collect::<Result<_>>()?;
    let page = Page::from_rows(users, query.max_items, |user: &User| fold(&user.name));
    Ok((group, page))
}

/// ListGroupsForUser: the path prefix does not apply.
pub(super) async fn for_user(
    db: &Db,
    account: &str,
    user: &str,
    query: &ListQuery,
) -> Result<Page<Group>> {
    let (after, limit) = query.bounds()?;
    let mut tx = begin_read(db).await?;
    let user_id = principal_id(&mut tx, account, Principal::User(user)).await?;
    let sql = format!(
        "SELECT {GROUP_COLUMNS} FROM iam_groups g \
         JOIN iam_group_members m ON m.group_id = g.group_id \
         WHERE m.user_id = $1 AND g.name_lower > $2 ORDER BY g.name_lower LIMIT $3"
    );
    let rows: Vec<GroupRow> = sqlx::query_as(AssertSqlSafe(sql))
        .bind(&user_id)
        .bind(after)
        .bind(limit)
        .fetch_all(&mut *tx)
        .await?;
    tx.commit().await?;
    page_of(rows, query)
}
