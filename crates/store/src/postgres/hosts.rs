//! EC2 Dedicated Hosts: allocation (each host with its agent key, in one write), listing with
//! tags and instances, release (the agent keys go in the same write), placement checks for
//! RunInstances, and the agent-key lookups of authentication and the operator's CLI.
//!
//! Locking (the trait's note on hosts in `store.rs`): a launch onto a host and the host's
//! release must not interleave, and an allocation's client-token check must see every earlier
//! allocation. Every one of these writes (`allocate`, `release`, `run_instances` with its
//! `check_placement`, and EC2 tags) takes the one EC2 lock first (decision 0026), so they run
//! one at a time across replicas, as on SQLite, and each reads everything committed before it:
//! no row lock (`FOR UPDATE` / `FOR SHARE`) is needed on top.
//!
//! An agent key's ID is checked against IAM users' keys, which IAM writes add under the
//! account's IAM lock, not this one. As on SQLite, where CreateAccessKey does not look at agent
//! keys, the check only keeps an allocation from reusing an ID it can see; the server draws
//! both kinds of ID at random.

use std::collections::HashMap;

use sqlx::{AssertSqlSafe, PgConnection, Postgres, QueryBuilder};

use super::{Db, begin_read, begin_write_of, is_unique_violation, now_ms};
use crate::error::{Ec2Rejection, EntityKind, Result, StoreError};
use crate::hosts::{
    Allocation, Host, HostAgentKey, HostCapacity, HostInstance, HostRelease, HostState, NewHosts,
};
use crate::model::{NewAccessKey, Tag, Topic};
use crate::sqlite::ec2_ids;
use crate::sqlite::hosts::{COLUMNS, HostRow, KEY_COLUMNS, KeyRow, capacity, into_key};
use crate::sqlite::instances::TERMINATED_VISIBLE_MS;

pub(super) async fn allocate(db: &Db, account: &str, new: NewHosts) -> Result<Allocation> {
    let mut tx = begin_write_of(db, Topic::Ec2).await?;
    if let Some(token) = &new.client_token {
        let earlier: Vec<(String, String)> = sqlx::query_as(
            "SELECT host_id, fingerprint FROM hosts WHERE account_id = $1 AND client_token = $2 \
             ORDER BY host_id",
        )
        .bind(account)
        .bind(token)
        .fetch_all(&mut *tx)
        .await?;
        if !earlier.is_empty() {
            if earlier.iter().any(|(_, f)| *f != new.fingerprint) {
                return Err(StoreError::Ec2(Ec2Rejection::IdempotentParameterMismatch));
            }
            let ids: Vec<String> = earlier.into_iter().map(|(id, _)| id).collect();
            let hosts = select(&mut tx, account, &ids, None).await?;
            return Ok(Allocation {
                hosts,
                replayed: true,
            });
        }
    }
    let now = now_ms();
    let (instance_type, family) = match &new.capacity {
        HostCapacity::InstanceType(t) => (Some(t.as_str()), None),
        HostCapacity::InstanceFamily(f) => (None, Some(f.as_str())),
    };
    let mut ids = Vec::with_capacity(new.agent_keys.len());
    for key in &new.agent_keys {
        let host_id = ec2_ids::new("h-");
        sqlx::query(
            "INSERT INTO hosts (host_id, account_id, availability_zone, instance_type, \
             instance_family, auto_placement, host_recovery, host_maintenance, state, \
             allocated_ms, client_token, fingerprint) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'available', $9, $10, $11)",
        )
        .bind(&host_id)
        .bind(account)
        .bind(&new.availability_zone)
        .bind(instance_type)
        .bind(family)
        .bind(&new.auto_placement)
        .bind(&new.host_recovery)
        .bind(&new.host_maintenance)
        .bind(now)
        .bind(&new.client_token)
        .bind(&new.fingerprint)
        .execute(&mut *tx)
        .await?;
        for tag in &new.tags {
            sqlx::query("INSERT INTO host_tags (host_id, key, value) VALUES ($1, $2, $3)")
                .bind(&host_id)
                .bind(&tag.key)
                .bind(&tag.value)
                .execute(&mut *tx)
                .await?;
        }
        insert_agent_key(&mut tx, account, &host_id, key, now).await?;
        ids.push(host_id);
    }
    let mut hosts = select(&mut tx, account, &ids, None).await?;
    // In the order they were allocated, one per key.
    hosts.sort_by_key(|h| ids.iter().position(|id| *id == h.id));
    tx.commit().await?;
    Ok(Allocation {
        hosts,
        replayed: false,
    })
}

/// Binds a new agent key to `host_id`. Authentication looks a long-term key ID up among IAM
/// users' keys and agents' keys alike, so an ID either already holds is refused.
async fn insert_agent_key(
    conn: &mut PgConnection,
    account: &str,
    host_id: &str,
    key: &NewAccessKey,
    now: i64,
) -> Result<()> {
    let taken: Option<bool> =
        sqlx::query_scalar("SELECT TRUE FROM access_keys WHERE access_key_id = $1")
            .bind(&key.access_key_id)
            .fetch_optional(&mut *conn)
            .await?;
    let duplicate = || StoreError::already_exists(EntityKind::AccessKey, &key.access_key_id);
    if taken.is_some() {
        return Err(duplicate());
    }
    sqlx::query(
        "INSERT INTO host_agent_keys (access_key_id, host_id, account_id, secret_ciphertext, \
         created_ms) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(&key.access_key_id)
    .bind(host_id)
    .bind(account)
    .bind(&key.secret_ciphertext)
    .bind(now)
    .execute(&mut *conn)
    .await
    .map_err(|e| match is_unique_violation(&e) {
        true => duplicate(),
        false => e.into(),
    })?;
    Ok(())
}

pub(super) async fn list(db: &Db, account: &str, ids: &[String]) -> Result<Vec<Host>> {
    // Hosts, their tags and their instances from one snapshot.
    let mut tx = begin_read(db).await?;
    let hosts = select(
        &mut tx,
        account,
        ids,
        Some(now_ms() - TERMINATED_VISIBLE_MS),
    )
    .await?;
    tx.commit().await?;
    Ok(hosts)
}

/// The account's hosts with `ids` (all when empty), in host ID order; with `released_since`,
/// a released host only if it was released after that time.
async fn select(
    conn: &mut PgConnection,
    account: &str,
    ids: &[String],
    released_since: Option<i64>,
) -> Result<Vec<Host>> {
    let mut qb = QueryBuilder::<Postgres>::new(format!("SELECT {COLUMNS} FROM hosts h"));
    qb.push(" WHERE h.account_id = ")
        .push_bind(account.to_owned());
    if let Some(since) = released_since {
        qb.push(" AND (h.state <> 'released' OR h.released_ms > ")
            .push_bind(since)
            .push(")");
    }
    if !ids.is_empty() {
        qb.push(" AND h.host_id IN (");
        let mut list = qb.separated(", ");
        for id in ids {
            list.push_bind(id.clone());
        }
        qb.push(")");
    }
    qb.push(" ORDER BY h.host_id");
    let rows: Vec<HostRow> = qb.build_query_as().fetch_all(&mut *conn).await?;
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    let found: Vec<&str> = rows.iter().map(|r| r.host_id.as_str()).collect();
    let mut tags = tags_of(conn, &found).await?;
    let mut instances = instances_on(conn, &found).await?;
    rows.into_iter()
        .map(|row| {
            let tags = tags.remove(&row.host_id).unwrap_or_default();
            let instances = instances.remove(&row.host_id).unwrap_or_default();
            row.into_host(tags, instances)
        })
        .collect()
}

fn push_ids(qb: &mut QueryBuilder<Postgres>, ids: &[&str]) {
    let mut list = qb.separated(", ");
    for id in ids {
        list.push_bind((*id).to_owned());
    }
    qb.push(")");
}

async fn tags_of(conn: &mut PgConnection, ids: &[&str]) -> Result<HashMap<String, Vec<Tag>>> {
    let mut qb = QueryBuilder::<Postgres>::new(
        "SELECT host_id, key, value FROM host_tags WHERE host_id IN (",
    );
    push_ids(&mut qb, ids);
    qb.push(" ORDER BY host_id, key");
    let rows: Vec<(String, String, String)> = qb.build_query_as().fetch_all(&mut *conn).await?;
    let mut by_host: HashMap<String, Vec<Tag>> = HashMap::new();
    for (id, key, value) in rows {
        by_host.entry(id).or_default().push(Tag { key, value });
    }
    Ok(by_host)
}

/// The instances on each host that are not terminated, in instance ID order.
async fn instances_on(
    conn: &mut PgConnection,
    ids: &[&str],
) -> Result<HashMap<String, Vec<HostInstance>>> {
    let mut qb = QueryBuilder::<Postgres>::new(
        "SELECT host_id, instance_id, instance_type FROM instances \
         WHERE state <> 'terminated' AND host_id IN (",
    );
    push_ids(&mut qb, ids);
    qb.push(" ORDER BY host_id, instance_id");
    let rows: Vec<(String, String, String)> = qb.build_query_as().fetch_all(&mut *conn).await?;
    let mut by_host: HashMap<String, Vec<HostInstance>> = HashMap::new();
    for (host_id, instance_id, instance_type) in rows {
        by_host.entry(host_id).or_default().push(HostInstance {
            instance_id,
            instance_type,
        });
    }
    Ok(by_host)
}

pub(super) async fn release(db: &Db, account: &str, ids: &[String]) -> Result<Vec<HostRelease>> {
    // Under the EC2 lock: no launch places an instance between the occupancy check and the
    // state change (see the module's note).
    let mut tx = begin_write_of(db, Topic::Ec2).await?;
    let now = now_ms();
    let mut outcomes = Vec::with_capacity(ids.len());
    for id in ids {
        let state: Option<String> =
            sqlx::query_scalar("SELECT state FROM hosts WHERE account_id = $1 AND host_id = $2")
                .bind(account)
                .bind(id)
                .fetch_optional(&mut *tx)
                .await?;
        if state.as_deref() != Some(HostState::Available.as_str()) {
            outcomes.push(HostRelease::NotFound(id.clone()));
            continue;
        }
        let occupied: Option<bool> = sqlx::query_scalar(
            "SELECT TRUE FROM instances WHERE host_id = $1 AND state <> 'terminated' LIMIT 1",
        )
        .bind(id)
        .fetch_optional(&mut *tx)
        .await?;
        if occupied.is_some() {
            outcomes.push(HostRelease::Occupied(id.clone()));
            continue;
        }
        sqlx::query("UPDATE hosts SET state = 'released', released_ms = $2 WHERE host_id = $1")
            .bind(id)
            .bind(now)
            .execute(&mut *tx)
            .await?;
        // The agent's credential dies with the host, in the same commit.
        sqlx::query("DELETE FROM host_agent_keys WHERE host_id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        outcomes.push(HostRelease::Released(id.clone()));
    }
    tx.commit().await?;
    Ok(outcomes)
}

/// Inside a launch's transaction, which holds the EC2 lock: the account's host `host_id` is
/// available and takes `instance_type`, and stays so until the launch commits.
pub(super) async fn check_placement(
    conn: &mut PgConnection,
    account: &str,
    host_id: &str,
    instance_type: &str,
) -> Result<()> {
    let row: Option<(String, Option<String>, Option<String>)> = sqlx::query_as(
        "SELECT state, instance_type, instance_family FROM hosts \
         WHERE account_id = $1 AND host_id = $2",
    )
    .bind(account)
    .bind(host_id)
    .fetch_optional(&mut *conn)
    .await?;
    let Some((state, host_type, family)) = row else {
        return Err(StoreError::not_found(EntityKind::Host, host_id));
    };
    if state != HostState::Available.as_str() {
        return Err(StoreError::Ec2(Ec2Rejection::HostUnavailable {
            host_id: host_id.to_owned(),
        }));
    }
    let capacity = capacity(host_type, family).ok_or_else(|| {
        crate::sqlite::corrupt(format!("host {host_id}: instance type and family"))
    })?;
    if !capacity.takes(instance_type) {
        return Err(StoreError::Ec2(Ec2Rejection::HostIncompatible {
            host_id: host_id.to_owned(),
            instance_type: instance_type.to_owned(),
        }));
    }
    Ok(())
}

/// Hot path: one indexed statement on the pool.
/// See `sqlite::hosts::rotate_key`; under the EC2 lock, as every write to these tables.
pub(super) async fn rotate_key(
    db: &Db,
    host_id: &str,
    key: NewAccessKey,
    grace_ms: i64,
) -> Result<HostAgentKey> {
    let mut tx = begin_write_of(db, Topic::Ec2).await?;
    let row: Option<(String, String)> =
        sqlx::query_as("SELECT account_id, state FROM hosts WHERE host_id = $1")
            .bind(host_id)
            .fetch_optional(&mut *tx)
            .await?;
    let account = match row {
        Some((account, state)) if state == HostState::Available.as_str() => account,
        _ => return Err(StoreError::not_found(EntityKind::Host, host_id)),
    };
    let now = now_ms();
    let retires = now.saturating_add(grace_ms.max(0));
    sqlx::query("DELETE FROM host_agent_keys WHERE host_id = $1 AND retires_ms <= $2")
        .bind(host_id)
        .bind(now)
        .execute(&mut *tx)
        .await?;
    sqlx::query(
        "UPDATE host_agent_keys SET retires_ms = $2 \
         WHERE host_id = $1 AND (retires_ms IS NULL OR retires_ms > $2)",
    )
    .bind(host_id)
    .bind(retires)
    .execute(&mut *tx)
    .await?;
    insert_agent_key(&mut tx, &account, host_id, &key, now).await?;
    let sql = format!("SELECT {KEY_COLUMNS} FROM host_agent_keys k WHERE k.access_key_id = $1");
    let row: KeyRow = sqlx::query_as(AssertSqlSafe(sql))
        .bind(&key.access_key_id)
        .fetch_one(&mut *tx)
        .await?;
    tx.commit().await?;
    into_key(row)
}

pub(super) async fn agent_key(db: &Db, access_key_id: &str) -> Result<HostAgentKey> {
    let sql = format!(
        "SELECT {KEY_COLUMNS} FROM host_agent_keys k JOIN hosts h ON h.host_id = k.host_id \
         WHERE k.access_key_id = $1 AND h.state = 'available'"
    );
    let row: Option<KeyRow> = sqlx::query_as(AssertSqlSafe(sql))
        .bind(access_key_id)
        .fetch_optional(&db.pool)
        .await?;
    let row = row.ok_or_else(|| StoreError::not_found(EntityKind::AccessKey, access_key_id))?;
    into_key(row)
}

pub(super) async fn agent_keys(db: &Db, host_id: &str) -> Result<Vec<HostAgentKey>> {
    // The host's state and its keys from one snapshot.
    let mut tx = begin_read(db).await?;
    let state: Option<String> = sqlx::query_scalar("SELECT state FROM hosts WHERE host_id = $1")
        .bind(host_id)
        .fetch_optional(&mut *tx)
        .await?;
    if state.as_deref() != Some(HostState::Available.as_str()) {
        return Err(StoreError::not_found(EntityKind::Host, host_id));
    }
    let sql = format!(
        "SELECT {KEY_COLUMNS} FROM host_agent_keys k WHERE k.host_id = $1 \
         ORDER BY k.created_ms DESC, k.access_key_id"
    );
    let rows: Vec<KeyRow> = sqlx::query_as(AssertSqlSafe(sql))
        .bind(host_id)
        .fetch_all(&mut *tx)
        .await?;
    tx.commit().await?;
    rows.into_iter().map(into_key).collect()
}
