//! Tags of roles, users, instance profiles, managed policies and OpenID Connect providers, keyed
//! by the entity's ID.

use sqlx::PgConnection;

use super::{Db, begin_write, fold};
use crate::error::{EntityKind, Result, StoreError};
use crate::model::{Tag, Taggable};

/// The entity's unique ID and the kind recorded beside its tags.
async fn resolve(
    conn: &mut PgConnection,
    account: &str,
    entity: Taggable<'_>,
) -> Result<(String, &'static str)> {
    let (sql, kind, key, not_found) = match entity {
        Taggable::Role(name) => (
            "SELECT role_id FROM roles WHERE account_id = $1 AND name_lower = $2",
            "role",
            fold(name),
            (EntityKind::Role, name),
        ),
        Taggable::User(name) => (
            "SELECT user_id FROM users WHERE account_id = $1 AND name_lower = $2",
            "user",
            fold(name),
            (EntityKind::User, name),
        ),
        Taggable::InstanceProfile(name) => (
            "SELECT profile_id FROM instance_profiles WHERE account_id = $1 AND name_lower = $2",
            "instance-profile",
            fold(name),
            (EntityKind::InstanceProfile, name),
        ),
        Taggable::Policy(arn) => (
            "SELECT policy_id FROM managed_policies WHERE account_id = $1 AND arn = $2",
            "policy",
            arn.to_owned(),
            (EntityKind::Policy, arn),
        ),
        Taggable::OidcProvider(arn) => (
            "SELECT provider_id FROM oidc_providers WHERE account_id = $1 AND arn = $2",
            "oidc-provider",
            arn.to_owned(),
            (EntityKind::OidcProvider, arn),
        ),
    };
    let id: Option<String> = sqlx::query_scalar(sql)
        .bind(account)
        .bind(key)
        .fetch_optional(&mut *conn)
        .await?;
    let (missing_kind, missing_name) = not_found;
    id.map(|id| (id, kind))
        .ok_or_else(|| StoreError::not_found(missing_kind, missing_name))
}

/// What the `key_lower` column holds for a tag key: the folded key where keys are
/// case-insensitive (roles, users, instance profiles), the key itself for managed policies,
/// whose tag keys AWS treats as case-sensitive (`a` and `A` are two tags; recorded answers in
/// LocalStack's test_iam_policies.py, test_policy_tag_operations; migration 0013).
fn key_index(kind: &str, key: &str) -> String {
    if kind == "policy" {
        key.to_owned()
    } else {
        fold(key)
    }
}

/// Upserts tags inside the caller's transaction; a new key goes last, a key already there
/// keeps its place.
pub(super) async fn insert(
    conn: &mut PgConnection,
    account: &str,
    kind: &str,
    entity_id: &str,
    tags: &[Tag],
) -> Result<()> {
    for tag in tags {
        sqlx::query(
            "INSERT INTO tags (entity_id, key_lower, account_id, kind, key, value) \
             VALUES ($1, $2, $3, $4, $5, $6) \
             ON CONFLICT (entity_id, key_lower) DO UPDATE SET key = excluded.key, value = excluded.value",
        )
        .bind(entity_id)
        .bind(key_index(kind, &tag.key))
        .bind(account)
        .bind(kind)
        .bind(&tag.key)
        .bind(&tag.value)
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

/// The tags of an entity in the order they were first added (an upsert keeps its row).
pub(super) async fn load(conn: &mut PgConnection, entity_id: &str) -> Result<Vec<Tag>> {
    let rows: Vec<(String, String)> =
        sqlx::query_as("SELECT key, value FROM tags WHERE entity_id = $1 ORDER BY seq")
            .bind(entity_id)
            .fetch_all(&mut *conn)
            .await?;
    Ok(rows
        .into_iter()
        .map(|(key, value)| Tag { key, value })
        .collect())
}

/// Removes an entity's tags inside the transaction that deletes it.
pub(super) async fn delete_all(conn: &mut PgConnection, entity_id: &str) -> Result<()> {
    sqlx::query("DELETE FROM tags WHERE entity_id = $1")
        .bind(entity_id)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

pub(super) async fn tag(db: &Db, account: &str, entity: Taggable<'_>, tags: &[Tag]) -> Result<()> {
    let mut tx = begin_write(db, account).await?;
    let (entity_id, kind) = resolve(&mut tx, account, entity).await?;
    insert(&mut tx, account, kind, &entity_id, tags).await?;
    tx.commit().await?;
    Ok(())
}

pub(super) async fn untag(
    db: &Db,
    account: &str,
    entity: Taggable<'_>,
    keys: &[String],
) -> Result<()> {
    let mut tx = begin_write(db, account).await?;
    let (entity_id, kind) = resolve(&mut tx, account, entity).await?;
    for key in keys {
        sqlx::query("DELETE FROM tags WHERE entity_id = $1 AND key_lower = $2")
            .bind(&entity_id)
            .bind(key_index(kind, key))
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await?;
    Ok(())
}

pub(super) async fn list(db: &Db, account: &str, entity: Taggable<'_>) -> Result<Vec<Tag>> {
    let mut conn = db.pool.acquire().await?;
    let (entity_id, _) = resolve(&mut conn, account, entity).await?;
    load(&mut conn, &entity_id).await
}
