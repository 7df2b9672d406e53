//! The account's launch defaults for instance metadata options.

use super::Db;
use crate::error::Result;
use crate::model::MetadataDefaults;

/// HttpTokens, hop limit, HttpEndpoint, InstanceMetadataTags; NULL for no-preference.
type DefaultsRow = (Option<String>, Option<i64>, Option<String>, Option<String>);

pub(super) async fn get(db: &Db, account: &str) -> Result<MetadataDefaults> {
    let row: Option<DefaultsRow> = sqlx::query_as(
        "SELECT http_tokens, http_put_response_hop_limit, http_endpoint, \
             instance_metadata_tags FROM instance_metadata_defaults WHERE account_id = $1",
    )
    .bind(account)
    .fetch_optional(&db.pool)
    .await?;
    let Some((http_tokens, hop_limit, http_endpoint, instance_metadata_tags)) = row else {
        return Ok(MetadataDefaults::default());
    };
    Ok(MetadataDefaults {
        http_tokens,
        http_put_response_hop_limit: hop_limit.and_then(|n| u8::try_from(n).ok()),
        http_endpoint,
        instance_metadata_tags,
    })
}

pub(super) async fn put(db: &Db, account: &str, defaults: &MetadataDefaults) -> Result<()> {
    sqlx::query(
        "INSERT INTO instance_metadata_defaults (account_id, http_tokens, \
         http_put_response_hop_limit, http_endpoint, instance_metadata_tags) \
         VALUES ($1, $2, $3, $4, $5) ON CONFLICT (account_id) DO UPDATE SET \
         http_tokens = excluded.http_tokens, \
         http_put_response_hop_limit = excluded.http_put_response_hop_limit, \
         http_endpoint = excluded.http_endpoint, \
         instance_metadata_tags = excluded.instance_metadata_tags",
    )
    .bind(account)
    .bind(&defaults.http_tokens)
    .bind(defaults.http_put_response_hop_limit.map(i64::from))
    .bind(&defaults.http_endpoint)
    .bind(&defaults.instance_metadata_tags)
    .execute(&db.pool)
    .await?;
    Ok(())
}
