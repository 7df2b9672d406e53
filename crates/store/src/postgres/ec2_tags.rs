//! Tags of EC2 resources: instances (`instance_tags`), key pairs (`key_pair_tags`) and Dedicated
//! Hosts (`host_tags`, migrations/postgres/0003). Keys are case-sensitive, as EC2's are. An instance's tag rows stamp the instance as changed (the
//! triggers of migrations/postgres/0001), so the metadata service's `tags/instance` follows
//! every write here.

use sqlx::PgConnection;

use super::{Db, begin_write_of, now_ms};
use crate::error::{EntityKind, Quota, Result, StoreError};
use crate::model::{Ec2Resource, ResourceTag, Tag, TagRemoval, Topic};
use crate::sqlite::instances::TERMINATED_VISIBLE_MS;
use crate::store::EC2_TAGS_PER_RESOURCE;

/// Where a resource's tags live: the table and the column naming the resource.
struct TagTable {
    table: &'static str,
    id_column: &'static str,
}

fn table_of(resource: &Ec2Resource) -> TagTable {
    match resource {
        Ec2Resource::Instance(_) => TagTable {
            table: "instance_tags",
            id_column: "instance_id",
        },
        Ec2Resource::KeyPair(_) => TagTable {
            table: "key_pair_tags",
            id_column: "key_pair_id",
        },
        Ec2Resource::Host(_) => TagTable {
            table: "host_tags",
            id_column: "host_id",
        },
    }
}

/// Insists that `resource` is the account's: a visible instance or host, or a key pair.
async fn check_owned(conn: &mut PgConnection, account: &str, resource: &Ec2Resource) -> Result<()> {
    let found: Option<bool> = match resource {
        Ec2Resource::Instance(id) => {
            sqlx::query_scalar(
                "SELECT TRUE FROM instances WHERE account_id = $1 AND instance_id = $2 \
                 AND (state <> 'terminated' OR state_changed_ms > $3)",
            )
            .bind(account)
            .bind(id)
            .bind(now_ms() - TERMINATED_VISIBLE_MS)
            .fetch_optional(&mut *conn)
            .await?
        }
        Ec2Resource::KeyPair(id) => {
            sqlx::query_scalar(
                "SELECT TRUE FROM key_pairs WHERE account_id = $1 AND key_pair_id = $2",
            )
            .bind(account)
            .bind(id)
            .fetch_optional(&mut *conn)
            .await?
        }
        // A released host is listed for as long as a terminated instance is.
        Ec2Resource::Host(id) => {
            sqlx::query_scalar(
                "SELECT TRUE FROM hosts WHERE account_id = $1 AND host_id = $2 \
                 AND (state <> 'released' OR released_ms > $3)",
            )
            .bind(account)
            .bind(id)
            .bind(now_ms() - TERMINATED_VISIBLE_MS)
            .fetch_optional(&mut *conn)
            .await?
        }
    };
    match (found, resource) {
        (Some(_), _) => Ok(()),
        (None, Ec2Resource::Instance(id)) => Err(StoreError::not_found(EntityKind::Instance, id)),
        (None, Ec2Resource::KeyPair(id)) => Err(StoreError::not_found(EntityKind::KeyPairId, id)),
        (None, Ec2Resource::Host(id)) => Err(StoreError::not_found(EntityKind::Host, id)),
    }
}

/// Upserts `tags` on one resource inside the caller's transaction (no ownership check).
pub(super) async fn upsert(
    conn: &mut PgConnection,
    resource: &Ec2Resource,
    tags: &[Tag],
) -> Result<()> {
    let TagTable { table, id_column } = table_of(resource);
    let sql = format!(
        "INSERT INTO {table} ({id_column}, key, value) VALUES ($1, $2, $3) \
         ON CONFLICT ({id_column}, key) DO UPDATE SET value = excluded.value"
    );
    for tag in tags {
        sqlx::query(sqlx::AssertSqlSafe(sql.clone()))
            .bind(resource.id())
            .bind(&tag.key)
            .bind(&tag.value)
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}

async fn count(conn: &mut PgConnection, resource: &Ec2Resource) -> Result<usize> {
    let TagTable { table, id_column } = table_of(resource);
    let sql = format!("SELECT COUNT(*) FROM {table} WHERE {id_column} = $1");
    let n: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
        .bind(resource.id())
        .fetch_one(&mut *conn)
        .await?;
    Ok(usize::try_from(n).unwrap_or(usize::MAX))
}

pub(super) async fn create(
    db: &Db,
    account: &str,
    resources: &[Ec2Resource],
    tags: &[Tag],
) -> Result<()> {
    let mut tx = begin_write_of(db, Topic::Ec2).await?;
    for resource in resources {
        check_owned(&mut tx, account, resource).await?;
        upsert(&mut tx, resource, tags).await?;
        // Counted after the upsert, so replaced keys do not count twice; returning early drops
        // the transaction, and nothing of this call is written.
        if count(&mut tx, resource).await? > EC2_TAGS_PER_RESOURCE {
            return Err(StoreError::limit(Quota::Ec2TagsPerResource {
                max: EC2_TAGS_PER_RESOURCE,
                resource: resource.id().to_owned(),
            }));
        }
    }
    tx.commit().await?;
    Ok(())
}

pub(super) async fn delete(
    db: &Db,
    account: &str,
    resources: &[Ec2Resource],
    removals: Option<&[TagRemoval]>,
) -> Result<()> {
    let mut tx = begin_write_of(db, Topic::Ec2).await?;
    for resource in resources {
        check_owned(&mut tx, account, resource).await?;
        let TagTable { table, id_column } = table_of(resource);
        let Some(removals) = removals else {
            let sql = format!("DELETE FROM {table} WHERE {id_column} = $1");
            sqlx::query(sqlx::AssertSqlSafe(sql))
                .bind(resource.id())
                .execute(&mut *tx)
                .await?;
            continue;
        };
        for removal in removals {
            // `value = $3` never holds for NULL, so `$3 IS NULL` is the key-alone case.
            let sql = format!(
                "DELETE FROM {table} WHERE {id_column} = $1 AND key = $2 \
                 AND ($3 IS NULL OR value = $3)"
            );
            sqlx::query(sqlx::AssertSqlSafe(sql))
                .bind(resource.id())
                .bind(&removal.key)
                .bind(&removal.value)
                .execute(&mut *tx)
                .await?;
        }
    }
    tx.commit().await?;
    Ok(())
}

pub(super) async fn list(db: &Db, account: &str) -> Result<Vec<ResourceTag>> {
    let rows: Vec<(String, String, String, String)> = sqlx::query_as(
        "SELECT t.instance_id, 'instance', t.key, t.value FROM instance_tags t \
         JOIN instances i ON i.instance_id = t.instance_id \
         WHERE i.account_id = $1 AND (i.state <> 'terminated' OR i.state_changed_ms > $2) \
         UNION ALL \
         SELECT t.key_pair_id, 'key-pair', t.key, t.value FROM key_pair_tags t \
         JOIN key_pairs k ON k.key_pair_id = t.key_pair_id WHERE k.account_id = $1 \
         UNION ALL \
         SELECT t.host_id, 'dedicated-host', t.key, t.value FROM host_tags t \
         JOIN hosts h ON h.host_id = t.host_id \
         WHERE h.account_id = $1 AND (h.state <> 'released' OR h.released_ms > $2) \
         ORDER BY 1, 3",
    )
    .bind(account)
    .bind(now_ms() - TERMINATED_VISIBLE_MS)
    .fetch_all(&db.pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(id, kind, key, value)| ResourceTag {
            resource: match kind.as_str() {
                "instance" => Ec2Resource::Instance(id),
                "dedicated-host" => Ec2Resource::Host(id),
                _ => Ec2Resource::KeyPair(id),
            },
            tag: Tag { key, value },
        })
        .collect())
}

/// The tags of every key pair of the account, by key pair ID (each list by key).
pub(super) async fn of_key_pairs(
    db: &Db,
    account: &str,
) -> Result<std::collections::HashMap<String, Vec<Tag>>> {
    let rows: Vec<(String, String, String)> = sqlx::query_as(
        "SELECT t.key_pair_id, t.key, t.value FROM key_pair_tags t \
         JOIN key_pairs k ON k.key_pair_id = t.key_pair_id WHERE k.account_id = $1 \
         ORDER BY t.key_pair_id, t.key",
    )
    .bind(account)
    .fetch_all(&db.pool)
    .await?;
    let mut by_pair: std::collections::HashMap<String, Vec<Tag>> = Default::default();
    for (id, key, value) in rows {
        by_pair.entry(id).or_default().push(Tag { key, value });
    }
    Ok(by_pair)
}
