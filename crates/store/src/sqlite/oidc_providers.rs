//! OpenID Connect identity providers: one per URL per account, addressed by ARN.

use sqlx::{SqliteConnection, SqlitePool};

use super::{begin_write, corrupt, from_ms, is_unique_violation, now_ms, tags};
use crate::error::{EntityKind, Quota, Result, StoreError};
use crate::ids;
use crate::model::{NewOidcProvider, OidcProvider, OidcProviderChange};

/// AWS's default quota of providers per account.
pub const PROVIDERS_PER_ACCOUNT: usize = 100;
/// AWS's quota of client IDs per provider.
pub const CLIENT_IDS_PER_PROVIDER: usize = 100;

pub(crate) type Row = (String, String, String, String, String, String, i64);

pub(crate) const COLUMNS: &str =
    "provider_id, account_id, arn, url, client_ids, thumbprints, created_ms";

pub(crate) fn list_of(json: &str) -> Result<Vec<String>> {
    serde_json::from_str(json).map_err(|e| corrupt(format!("oidc provider list: {e}")))
}

pub(crate) fn json_of(list: &[String]) -> String {
    serde_json::Value::from(list.to_vec()).to_string()
}

pub(crate) fn provider(row: Row, tags: Vec<crate::model::Tag>) -> Result<OidcProvider> {
    let (_, account_id, arn, url, client_ids, thumbprints, created_ms) = row;
    Ok(OidcProvider {
        account_id,
        arn,
        url,
        client_ids: list_of(&client_ids)?,
        thumbprints: list_of(&thumbprints)?,
        created: from_ms(created_ms)?,
        tags,
    })
}

async fn row(conn: &mut SqliteConnection, account: &str, arn: &str) -> Result<Row> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM oidc_providers WHERE account_id = $1 AND arn = $2"
    )))
    .bind(account)
    .bind(arn)
    .fetch_optional(&mut *conn)
    .await?
    .ok_or_else(|| StoreError::not_found(EntityKind::OidcProvider, arn))
}

pub(super) async fn create(
    pool: &SqlitePool,
    account: &str,
    new: NewOidcProvider,
) -> Result<OidcProvider> {
    let id = ids::oidc_provider_id();
    let arn = format!("arn:aws:iam::{account}:oidc-provider/{}", new.url);
    let mut tx = begin_write(pool).await?;
    let count: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM oidc_providers WHERE account_id = $1")
            .bind(account)
            .fetch_one(&mut *tx)
            .await?;
    if usize::try_from(count).unwrap_or(usize::MAX) >= PROVIDERS_PER_ACCOUNT {
        return Err(StoreError::limit(Quota::OidcProvidersPerAccount(
            PROVIDERS_PER_ACCOUNT,
        )));
    }
    sqlx::query(
        "INSERT INTO oidc_providers (provider_id, account_id, arn, url, client_ids, thumbprints, \
         created_ms) VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(&id)
    .bind(account)
    .bind(&arn)
    .bind(&new.url)
    .bind(json_of(&new.client_ids))
    .bind(json_of(&new.thumbprints))
    .bind(now_ms())
    .execute(&mut *tx)
    .await
    .map_err(|e| match is_unique_violation(&e) {
        true => StoreError::already_exists(EntityKind::OidcProvider, &new.url),
        false => e.into(),
    })?;
    tags::insert(&mut tx, account, "oidc-provider", &id, &new.tags).await?;
    let created = row(&mut tx, account, &arn).await?;
    let tags = tags::load(&mut tx, &id).await?;
    tx.commit().await?;
    provider(created, tags)
}

pub(super) async fn get(pool: &SqlitePool, account: &str, arn: &str) -> Result<OidcProvider> {
    let mut conn = pool.acquire().await?;
    let found = row(&mut conn, account, arn).await?;
    let tags = tags::load(&mut conn, &found.0).await?;
    provider(found, tags)
}

pub(super) async fn list(pool: &SqlitePool, account: &str) -> Result<Vec<OidcProvider>> {
    let rows: Vec<Row> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM oidc_providers WHERE account_id = $1 ORDER BY arn"
    )))
    .bind(account)
    .fetch_all(pool)
    .await?;
    rows.into_iter().map(|r| provider(r, Vec::new())).collect()
}

pub(super) async fn delete(pool: &SqlitePool, account: &str, arn: &str) -> Result<()> {
    let mut tx = begin_write(pool).await?;
    let (id, ..) = row(&mut tx, account, arn).await?;
    tags::delete_all(&mut tx, &id).await?;
    sqlx::query("DELETE FROM oidc_providers WHERE provider_id = $1")
        .bind(&id)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(())
}

pub(super) async fn update(
    pool: &SqlitePool,
    account: &str,
    arn: &str,
    change: OidcProviderChange,
) -> Result<()> {
    let mut tx = begin_write(pool).await?;
    let (id, _, _, _, client_ids, thumbprints, _) = row(&mut tx, account, arn).await?;
    let mut client_ids = list_of(&client_ids)?;
    let mut thumbprints = list_of(&thumbprints)?;
    match change {
        OidcProviderChange::Thumbprints(list) => thumbprints = list,
        OidcProviderChange::AddClientId(client_id) => {
            if !client_ids.contains(&client_id) {
                if client_ids.len() >= CLIENT_IDS_PER_PROVIDER {
                    return Err(StoreError::limit(Quota::ClientIdsPerOidcProvider(
                        CLIENT_IDS_PER_PROVIDER,
                    )));
                }
                client_ids.push(client_id);
            }
        }
        OidcProviderChange::RemoveClientId(client_id) => client_ids.retain(|c| *c != client_id),
    }
    sqlx::query(
        "UPDATE oidc_providers SET client_ids = $1, thumbprints = $2 WHERE provider_id = $3",
    )
    .bind(json_of(&client_ids))
    .bind(json_of(&thumbprints))
    .bind(&id)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(())
}
