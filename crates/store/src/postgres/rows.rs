//! Lookups several modules share, on PostgreSQL connections (the row shapes themselves are
//! `sqlite::rows`, shared by both backends).

use sqlx::PgConnection;

use super::fold;
use crate::error::{EntityKind, Result, StoreError};
use crate::model::Principal;
use crate::sqlite::rows::is_aws_managed;

/// The unique ID of a role, user or group named in `account`, or `NotFound`.
pub(super) async fn principal_id(
    conn: &mut PgConnection,
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

/// Checks that a permissions boundary names a managed policy of the principal's own account
/// (an AWS managed policy has no row: the caller checks its catalogue).
pub(super) async fn require_boundary(
    conn: &mut PgConnection,
    account: &str,
    arn: Option<&str>,
) -> Result<()> {
    let Some(arn) = arn else { return Ok(()) };
    if is_aws_managed(arn) {
        return Ok(());
    }
    let found: Option<bool> =
        sqlx::query_scalar("SELECT TRUE FROM managed_policies WHERE account_id = $1 AND arn = $2")
            .bind(account)
            .bind(arn)
            .fetch_optional(&mut *conn)
            .await?;
    match found {
        Some(_) => Ok(()),
        None => Err(StoreError::not_found(EntityKind::PermissionsBoundary, arn)),
    }
}

/// Fails with `NotFound` unless an UPDATE/DELETE touched a row.
pub(super) fn require_row(
    result: sqlx::postgres::PgQueryResult,
    kind: EntityKind,
    name: &str,
) -> Result<()> {
    if result.rows_affected() == 0 {
        return Err(StoreError::not_found(kind, name));
    }
    Ok(())
}
