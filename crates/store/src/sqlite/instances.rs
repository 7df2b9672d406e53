//! EC2 instances: launch, lookup, listing, state changes and metadata options.
//!
//! Transitions settle at once: a write stores the settled state (`running`, `stopped`,
//! `terminated`) and reports the transitional one (`pending`, `stopping`, `shutting-down`) to
//! its caller, so every later read observes the new state, deterministically, and filters run
//! on indexed stored values. Terminated instances stay listed for [`TERMINATED_VISIBLE_MS`], as
//! EC2 keeps them visible for about an hour.

use std::collections::HashMap;

use sqlx::{QueryBuilder, Sqlite, SqliteConnection, SqlitePool};

use super::{associations, begin_write_of, ec2_ids, from_ms, hosts, loopback, now_ms};
use crate::error::{Ec2Rejection, EntityKind, Result, StoreError};
use crate::model::{
    Association, Instance, InstanceCondition, InstanceField, InstanceQuery, InstanceState,
    MetadataOptions, NewLaunch, Reservation, StateChange, StateRequest, Tag, Topic,
};

/// How long a terminated instance stays visible.
pub(crate) const TERMINATED_VISIBLE_MS: i64 = 3_600_000;

pub(crate) const COLUMNS: &str = "i.instance_id, i.account_id, i.reservation_id, i.launch_index, \
    i.image_id, i.instance_type, i.state, i.state_changed_ms, i.launched_ms, i.private_ip, \
    i.availability_zone, i.key_name, i.subnet_id, i.security_groups, i.client_token, \
    i.http_tokens, i.http_put_response_hop_limit, i.http_endpoint, i.http_protocol_ipv6, \
    i.instance_metadata_tags, i.user_data, i.public_key, i.host_id";

#[derive(sqlx::FromRow)]
pub(crate) struct InstanceRow {
    pub(crate) instance_id: String,
    account_id: String,
    reservation_id: String,
    launch_index: i64,
    image_id: String,
    instance_type: String,
    state: String,
    state_changed_ms: i64,
    launched_ms: i64,
    private_ip: String,
    availability_zone: String,
    key_name: Option<String>,
    subnet_id: Option<String>,
    security_groups: String,
    client_token: Option<String>,
    http_tokens: String,
    http_put_response_hop_limit: i64,
    http_endpoint: String,
    http_protocol_ipv6: String,
    instance_metadata_tags: String,
    user_data: Option<Vec<u8>>,
    public_key: Option<String>,
    host_id: Option<String>,
}

impl InstanceRow {
    pub(crate) fn into_instance(
        self,
        tags: Vec<Tag>,
        ipv6_addresses: Vec<String>,
        association: Option<Association>,
    ) -> Result<Instance> {
        let corrupt = |what: &str| super::corrupt(format!("instance {}: {what}", self.instance_id));
        Ok(Instance {
            state: InstanceState::parse(&self.state).ok_or_else(|| corrupt("state"))?,
            launch_index: u32::try_from(self.launch_index).map_err(|_| corrupt("launch index"))?,
            metadata_options: MetadataOptions {
                http_put_response_hop_limit: u8::try_from(self.http_put_response_hop_limit)
                    .map_err(|_| corrupt("hop limit"))?,
                http_tokens: self.http_tokens,
                http_endpoint: self.http_endpoint,
                http_protocol_ipv6: self.http_protocol_ipv6,
                instance_metadata_tags: self.instance_metadata_tags,
            },
            state_changed: from_ms(self.state_changed_ms)?,
            launched: from_ms(self.launched_ms)?,
            security_groups: self
                .security_groups
                .split('\n')
                .filter(|g| !g.is_empty())
                .map(str::to_owned)
                .collect(),
            account_id: self.account_id,
            id: self.instance_id,
            reservation_id: self.reservation_id,
            image_id: self.image_id,
            instance_type: self.instance_type,
            private_ip: self.private_ip,
            ipv6_addresses,
            availability_zone: self.availability_zone,
            key_name: self.key_name,
            public_key: self.public_key,
            subnet_id: self.subnet_id,
            client_token: self.client_token,
            user_data: self.user_data,
            tags,
            association,
            host_id: self.host_id,
        })
    }
}

/// `WHERE` clause start shared by every account-scoped read: the account, and terminated
/// instances only while they are still visible.
fn visible_in(qb: &mut QueryBuilder<Sqlite>, account: &str, now: i64) {
    qb.push(" WHERE i.account_id = ")
        .push_bind(account.to_owned())
        .push(" AND (i.state <> 'terminated' OR i.state_changed_ms > ")
        .push_bind(now - TERMINATED_VISIBLE_MS)
        .push(")");
}

/// Runs a `SELECT {COLUMNS} FROM instances i …` and completes each row with its tags, IPv6
/// addresses and active association (three more indexed queries for the whole batch).
async fn fetch(
    conn: &mut SqliteConnection,
    qb: &mut QueryBuilder<Sqlite>,
) -> Result<Vec<Instance>> {
    let rows: Vec<InstanceRow> = qb.build_query_as().fetch_all(&mut *conn).await?;
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    let ids: Vec<&str> = rows.iter().map(|r| r.instance_id.as_str()).collect();
    let mut tags = tags_of(conn, &ids).await?;
    let mut ipv6 = ipv6_of(conn, &ids).await?;
    let mut active = associations::active_for(conn, &ids).await?;
    rows.into_iter()
        .map(|row| {
            let tags = tags.remove(&row.instance_id).unwrap_or_default();
            let association = active.remove(&row.instance_id);
            let ipv6 = ipv6.remove(&row.instance_id).unwrap_or_default();
            row.into_instance(tags, ipv6, association)
        })
        .collect()
}

async fn tags_of(conn: &mut SqliteConnection, ids: &[&str]) -> Result<HashMap<String, Vec<Tag>>> {
    let mut qb = QueryBuilder::<Sqlite>::new(
        "SELECT instance_id, key, value FROM instance_tags WHERE instance_id IN (",
    );
    let mut list = qb.separated(", ");
    for id in ids {
        list.push_bind((*id).to_owned());
    }
    qb.push(") ORDER BY instance_id, key");
    let rows: Vec<(String, String, String)> = qb.build_query_as().fetch_all(&mut *conn).await?;
    let mut by_instance: HashMap<String, Vec<Tag>> = HashMap::new();
    for (id, key, value) in rows {
        by_instance.entry(id).or_default().push(Tag { key, value });
    }
    Ok(by_instance)
}

/// Each instance's IPv6 addresses, in launch order (migration 0011).
async fn ipv6_of(
    conn: &mut SqliteConnection,
    ids: &[&str],
) -> Result<HashMap<String, Vec<String>>> {
    let mut qb = QueryBuilder::<Sqlite>::new(
        "SELECT instance_id, address FROM instance_ipv6_addresses WHERE instance_id IN (",
    );
    let mut list = qb.separated(", ");
    for id in ids {
        list.push_bind((*id).to_owned());
    }
    qb.push(") ORDER BY instance_id, position");
    let rows: Vec<(String, String)> = qb.build_query_as().fetch_all(&mut *conn).await?;
    let mut by_instance: HashMap<String, Vec<String>> = HashMap::new();
    for (id, address) in rows {
        by_instance.entry(id).or_default().push(address);
    }
    Ok(by_instance)
}

/// Gives `instance_id` the launch's IPv6 addresses; one already held by a live instance
/// (another launch's, or an earlier instance of this one) is refused.
async fn assign_ipv6(
    conn: &mut SqliteConnection,
    instance_id: &str,
    addresses: &[String],
) -> Result<()> {
    for (position, address) in addresses.iter().enumerate() {
        let held: Option<i64> =
            sqlx::query_scalar("SELECT 1 FROM instance_ipv6_addresses WHERE address = $1")
                .bind(address)
                .fetch_optional(&mut *conn)
                .await?;
        if held.is_some() {
            return Err(StoreError::Ec2(Ec2Rejection::AddressInUse {
                address: address.clone(),
            }));
        }
        sqlx::query(
            "INSERT INTO instance_ipv6_addresses (instance_id, position, address) \
             VALUES ($1, $2, $3)",
        )
        .bind(instance_id)
        .bind(i64::try_from(position).unwrap_or(i64::MAX))
        .bind(address)
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

pub(super) async fn run(
    pool: &SqlitePool,
    account: &str,
    launch: NewLaunch,
) -> Result<Reservation> {
    if let Some(address) = &launch.private_ip {
        loopback::check_requested(address)?;
    }
    let mut tx = begin_write_of(pool, Topic::Ec2).await?;
    let now = now_ms();
    if let Some(token) = &launch.client_token {
        let earlier: Option<(String, String)> = sqlx::query_as(
            "SELECT reservation_id, fingerprint FROM reservations \
             WHERE account_id = $1 AND client_token = $2",
        )
        .bind(account)
        .bind(token)
        .fetch_optional(&mut *tx)
        .await?;
        if let Some((reservation_id, fingerprint)) = earlier {
            if fingerprint != launch.fingerprint {
                return Err(StoreError::Ec2(Ec2Rejection::IdempotentParameterMismatch));
            }
            let instances = in_reservation(&mut tx, &reservation_id).await?;
            return Ok(Reservation {
                id: reservation_id,
                instances,
                replayed: true,
            });
        }
    }
    if let Some(host_id) = &launch.host_id {
        hosts::check_placement(&mut tx, account, host_id, &launch.instance_type).await?;
    }
    let reservation_id = ec2_ids::new("r-");
    sqlx::query(
        "INSERT INTO reservations (reservation_id, account_id, client_token, fingerprint, created_ms) \
         VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(&reservation_id)
    .bind(account)
    .bind(&launch.client_token)
    .bind(&launch.fingerprint)
    .bind(now)
    .execute(&mut *tx)
    .await?;
    for launch_index in 0..launch.count {
        let address = match &launch.private_ip {
            Some(address) if loopback::in_use(&mut tx, address).await? => {
                return Err(StoreError::Ec2(Ec2Rejection::AddressInUse {
                    address: address.clone(),
                }));
            }
            Some(address) => address.clone(),
            None => loopback::allocate(&mut tx).await?,
        };
        let instance_id = ec2_ids::new("i-");
        insert(
            &mut tx,
            account,
            &reservation_id,
            launch_index,
            &instance_id,
            &address,
            &launch,
            now,
        )
        .await?;
        assign_ipv6(&mut tx, &instance_id, &launch.ipv6_addresses).await?;
        if let Some(profile) = &launch.profile {
            associations::insert(&mut tx, account, &instance_id, profile, now).await?;
        }
    }
    let instances = in_reservation(&mut tx, &reservation_id).await?;
    tx.commit().await?;
    Ok(Reservation {
        id: reservation_id,
        instances,
        replayed: false,
    })
}

#[allow(clippy::too_many_arguments)] // one row's worth of values, each from a different place
async fn insert(
    conn: &mut SqliteConnection,
    account: &str,
    reservation_id: &str,
    launch_index: u32,
    instance_id: &str,
    address: &str,
    launch: &NewLaunch,
    now: i64,
) -> Result<()> {
    let options = &launch.metadata_options;
    sqlx::query(
        "INSERT INTO instances (instance_id, account_id, reservation_id, launch_index, image_id, \
         instance_type, state, state_changed_ms, launched_ms, private_ip, availability_zone, \
         key_name, subnet_id, security_groups, client_token, http_tokens, \
         http_put_response_hop_limit, http_endpoint, http_protocol_ipv6, instance_metadata_tags, \
         user_data, public_key, host_id) \
         VALUES ($1, $2, $3, $4, $5, $6, 'running', $7, $7, $8, $9, $10, $11, $12, $13, $14, $15, \
         $16, $17, $18, $19, $20, $21)",
    )
    .bind(instance_id)
    .bind(account)
    .bind(reservation_id)
    .bind(i64::from(launch_index))
    .bind(&launch.image_id)
    .bind(&launch.instance_type)
    .bind(now)
    .bind(address)
    .bind(&launch.availability_zone)
    .bind(&launch.key_name)
    .bind(&launch.subnet_id)
    .bind(launch.security_groups.join("\n"))
    .bind(&launch.client_token)
    .bind(&options.http_tokens)
    .bind(i64::from(options.http_put_response_hop_limit))
    .bind(&options.http_endpoint)
    .bind(&options.http_protocol_ipv6)
    .bind(&options.instance_metadata_tags)
    .bind(&launch.user_data)
    .bind(&launch.public_key)
    .bind(&launch.host_id)
    .execute(&mut *conn)
    .await?;
    for tag in &launch.tags {
        sqlx::query("INSERT INTO instance_tags (instance_id, key, value) VALUES ($1, $2, $3)")
            .bind(instance_id)
            .bind(&tag.key)
            .bind(&tag.value)
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}

async fn in_reservation(
    conn: &mut SqliteConnection,
    reservation_id: &str,
) -> Result<Vec<Instance>> {
    let mut qb = QueryBuilder::<Sqlite>::new(format!("SELECT {COLUMNS} FROM instances i"));
    qb.push(" WHERE i.reservation_id = ")
        .push_bind(reservation_id.to_owned())
        .push(" ORDER BY i.launch_index");
    fetch(conn, &mut qb).await
}

/// The instance change counter now (migration 0004): read it before `changed_since` to miss
/// nothing.
pub(super) async fn change_mark(pool: &SqlitePool) -> Result<u64> {
    let value: i64 = sqlx::query_scalar("SELECT value FROM instance_change_counter WHERE id = 1")
        .fetch_one(pool)
        .await?;
    Ok(value.unsigned_abs())
}

/// Every instance, of any account and in any state, changed after the mark `since`.
pub(super) async fn changed_since(pool: &SqlitePool, since: u64) -> Result<Vec<Instance>> {
    let mut conn = pool.acquire().await?;
    let mut qb = QueryBuilder::<Sqlite>::new(format!("SELECT {COLUMNS} FROM instances i"));
    qb.push(" WHERE i.change_seq > ")
        .push_bind(i64::try_from(since).unwrap_or(i64::MAX))
        .push(" ORDER BY i.change_seq");
    fetch(&mut conn, &mut qb).await
}

/// The visible instances that `query` selects, in instance ID order.
pub(super) async fn list(
    pool: &SqlitePool,
    account: &str,
    query: &InstanceQuery,
) -> Result<Vec<Instance>> {
    let mut conn = pool.acquire().await?;
    let mut qb = QueryBuilder::<Sqlite>::new(format!("SELECT {COLUMNS} FROM instances i"));
    visible_in(&mut qb, account, now_ms());
    if !query.ids.is_empty() {
        push_in(&mut qb, "i.instance_id", &query.ids);
    }
    for condition in &query.conditions {
        push_condition(&mut qb, condition);
    }
    if let Some(after) = &query.after {
        qb.push(" AND i.instance_id > ").push_bind(after.clone());
    }
    qb.push(" ORDER BY i.instance_id");
    if let Some(limit) = query.limit {
        qb.push(" LIMIT ").push_bind(i64::from(limit));
    }
    fetch(&mut conn, &mut qb).await
}

fn push_in(qb: &mut QueryBuilder<Sqlite>, column: &str, values: &[String]) {
    qb.push(" AND ").push(column).push(" IN (");
    let mut list = qb.separated(", ");
    for value in values {
        list.push_bind(value.clone());
    }
    qb.push(")");
}

fn push_condition(qb: &mut QueryBuilder<Sqlite>, condition: &InstanceCondition) {
    let values = &condition.values;
    let column = match &condition.field {
        InstanceField::InstanceId => "i.instance_id",
        InstanceField::StateName => "i.state",
        InstanceField::ImageId => "i.image_id",
        InstanceField::InstanceType => "i.instance_type",
        InstanceField::KeyName => "i.key_name",
        InstanceField::SubnetId => "i.subnet_id",
        InstanceField::PrivateIp => "i.private_ip",
        InstanceField::ReservationId => "i.reservation_id",
        InstanceField::ClientToken => "i.client_token",
        InstanceField::HttpTokens => "i.http_tokens",
        InstanceField::HttpEndpoint => "i.http_endpoint",
        InstanceField::ProfileArn | InstanceField::ProfileId => {
            let column = if condition.field == InstanceField::ProfileArn {
                "a.profile_arn"
            } else {
                "a.profile_id"
            };
            qb.push(
                " AND i.instance_id IN (SELECT a.instance_id FROM iam_instance_profile_associations a \
                 WHERE a.state IN ('associating', 'associated')",
            );
            push_in(qb, column, values);
            qb.push(")");
            return;
        }
        InstanceField::Tag(key) => {
            // `IN (subquery)` lets SQLite start from the tag index and touch only the matching
            // instances; a correlated `EXISTS` would test every instance of the account.
            qb.push(
                " AND i.instance_id IN (SELECT t.instance_id FROM instance_tags t WHERE t.key = ",
            )
            .push_bind(key.clone());
            push_in(qb, "t.value", values);
            qb.push(")");
            return;
        }
        InstanceField::TagKey => {
            qb.push(" AND i.instance_id IN (SELECT t.instance_id FROM instance_tags t WHERE 1 = 1");
            push_in(qb, "t.key", values);
            qb.push(")");
            return;
        }
    };
    push_in(qb, column, values);
}

/// The live instance holding `address` (IMDS attribution), if any; across accounts, since a
/// connection's address is all the metadata service knows.
pub(super) async fn by_private_ip(pool: &SqlitePool, address: &str) -> Result<Option<Instance>> {
    let mut conn = pool.acquire().await?;
    let mut qb = QueryBuilder::<Sqlite>::new(format!("SELECT {COLUMNS} FROM instances i"));
    qb.push(" WHERE i.private_ip = ")
        .push_bind(address.to_owned())
        .push(" AND i.state <> 'terminated'");
    Ok(fetch(&mut conn, &mut qb).await?.into_iter().next())
}

/// One instance of the account, visible or `NotFound`, inside a write transaction.
pub(super) async fn one(conn: &mut SqliteConnection, account: &str, id: &str) -> Result<Instance> {
    let mut qb = QueryBuilder::<Sqlite>::new(format!("SELECT {COLUMNS} FROM instances i"));
    visible_in(&mut qb, account, now_ms());
    qb.push(" AND i.instance_id = ").push_bind(id.to_owned());
    fetch(conn, &mut qb)
        .await?
        .into_iter()
        .next()
        .ok_or_else(|| StoreError::not_found(EntityKind::Instance, id))
}

/// Starts, stops or terminates every instance in `ids`, all or none: an unknown ID fails the
/// whole call, as EC2 does. Requests that do not apply (starting a running instance) change
/// nothing and report the state as it is; a start or stop of a terminated instance is refused.
pub(super) async fn change_states(
    pool: &SqlitePool,
    account: &str,
    ids: &[String],
    request: StateRequest,
) -> Result<Vec<StateChange>> {
    let mut tx = begin_write_of(pool, Topic::Ec2).await?;
    let now = now_ms();
    let (passing, settled) = request.passage();
    let mut changes = Vec::with_capacity(ids.len());
    for id in ids {
        let instance = one(&mut tx, account, id).await?;
        let previous = instance.state;
        let applies = match (request, previous) {
            (_, InstanceState::Terminated) if request != StateRequest::Terminate => {
                return Err(StoreError::Ec2(Ec2Rejection::InstanceState {
                    instance_id: id.clone(),
                    state: previous.as_str().to_owned(),
                }));
            }
            (_, state) => state != settled,
        };
        if !applies {
            changes.push(StateChange {
                instance_id: id.clone(),
                previous,
                current: previous,
            });
            continue;
        }
        sqlx::query(
            "UPDATE instances SET state = $1, state_changed_ms = $2 WHERE instance_id = $3",
        )
        .bind(settled.as_str())
        .bind(now)
        .bind(id)
        .execute(&mut *tx)
        .await?;
        if request == StateRequest::Terminate {
            associations::end_for_instance(&mut tx, id, now).await?;
        }
        changes.push(StateChange {
            instance_id: id.clone(),
            previous,
            current: passing,
        });
    }
    tx.commit().await?;
    Ok(changes)
}

/// Replaces an instance's metadata options; refused for a terminated instance.
pub(super) async fn set_metadata_options(
    pool: &SqlitePool,
    account: &str,
    id: &str,
    options: &MetadataOptions,
) -> Result<Instance> {
    let mut tx = begin_write_of(pool, Topic::Ec2).await?;
    let instance = one(&mut tx, account, id).await?;
    if matches!(
        instance.state,
        InstanceState::Terminated | InstanceState::ShuttingDown
    ) {
        return Err(StoreError::Ec2(Ec2Rejection::InstanceState {
            instance_id: id.to_owned(),
            state: instance.state.as_str().to_owned(),
        }));
    }
    sqlx::query(
        "UPDATE instances SET http_tokens = $1, http_put_response_hop_limit = $2, \
         http_endpoint = $3, http_protocol_ipv6 = $4, instance_metadata_tags = $5 \
         WHERE instance_id = $6",
    )
    .bind(&options.http_tokens)
    .bind(i64::from(options.http_put_response_hop_limit))
    .bind(&options.http_endpoint)
    .bind(&options.http_protocol_ipv6)
    .bind(&options.instance_metadata_tags)
    .bind(id)
    .execute(&mut *tx)
    .await?;
    let updated = one(&mut tx, account, id).await?;
    tx.commit().await?;
    Ok(updated)
}

/// Replaces an instance's user data (`None` removes it); only while the instance is stopped.
pub(super) async fn set_user_data(
    pool: &SqlitePool,
    account: &str,
    id: &str,
    user_data: Option<&[u8]>,
) -> Result<Instance> {
    let mut tx = begin_write_of(pool, Topic::Ec2).await?;
    let instance = one(&mut tx, account, id).await?;
    if instance.state != InstanceState::Stopped {
        return Err(StoreError::Ec2(Ec2Rejection::NotStopped {
            instance_id: id.to_owned(),
        }));
    }
    sqlx::query("UPDATE instances SET user_data = $1 WHERE instance_id = $2")
        .bind(user_data)
        .bind(id)
        .execute(&mut *tx)
        .await?;
    let updated = one(&mut tx, account, id).await?;
    tx.commit().await?;
    Ok(updated)
}
