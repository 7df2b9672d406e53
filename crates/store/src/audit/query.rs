//! Keyset pages over the audit log, continued from a [`Position`] rather than an offset, so
//! page N costs what page 1 does. Time ranges, a principal's activity and event IDs are index
//! ranges; the other LookupEvents attributes filter a walk of the time index (see the
//! `0002_fewer_indexes` migration for why).

use sqlx::{QueryBuilder, Sqlite, SqlitePool};

use super::model::{Event, EventFilter, EventQuery, Order};
use crate::error::Result;

const COLUMNS: &str = "seq, event_id, event_time_ms, account_id, event_source, event_name, \
     read_only, access_key_id, username, principal_arn, error_code, resources, record";

pub(super) async fn lookup(pool: &SqlitePool, query: &EventQuery<'_>) -> Result<Vec<Event>> {
    let mut sql = QueryBuilder::<Sqlite>::new(format!("SELECT {COLUMNS} FROM events WHERE 1 = 1"));
    if let Some(account) = query.account_id {
        sql.push(" AND account_id = ").push_bind(account);
    }
    match query.filter {
        None => {}
        Some(EventFilter::EventId(id)) => {
            sql.push(" AND event_id = ").push_bind(id);
        }
        Some(EventFilter::EventName(name)) => {
            sql.push(" AND event_name = ").push_bind(name);
        }
        Some(EventFilter::ReadOnly(read_only)) => {
            sql.push(" AND read_only = ").push_bind(read_only);
        }
        Some(EventFilter::Username(name)) => {
            sql.push(" AND username = ").push_bind(name);
        }
        Some(EventFilter::EventSource(source)) => {
            sql.push(" AND event_source = ").push_bind(source);
        }
        Some(EventFilter::AccessKeyId(key)) => {
            sql.push(" AND access_key_id = ").push_bind(key);
        }
        Some(EventFilter::PrincipalArn(arn)) => {
            sql.push(" AND principal_arn = ").push_bind(arn);
        }
        Some(EventFilter::ResourceType(kind)) => {
            sql.push(
                " AND EXISTS (SELECT 1 FROM json_each(events.resources) r \
                 WHERE json_extract(r.value, '$.ResourceType') = ",
            )
            .push_bind(kind)
            .push(")");
        }
        Some(EventFilter::ResourceName(name)) => {
            sql.push(
                " AND EXISTS (SELECT 1 FROM json_each(events.resources) r \
                 WHERE json_extract(r.value, '$.ResourceName') = ",
            )
            .push_bind(name)
            .push(")");
        }
    }
    if let Some(start) = query.start_ms {
        sql.push(" AND event_time_ms >= ").push_bind(start);
    }
    if let Some(end) = query.end_ms {
        sql.push(" AND event_time_ms <= ").push_bind(end);
    }
    let (after, direction) = match query.order {
        Order::NewestFirst => ("<", "DESC"),
        Order::OldestFirst => (">", "ASC"),
    };
    if let Some(position) = query.after {
        sql.push(format!(" AND (event_time_ms, seq) {after} ("))
            .push_bind(position.event_time_ms)
            .push(", ")
            .push_bind(position.seq)
            .push(")");
    }
    sql.push(format!(
        " ORDER BY event_time_ms {direction}, seq {direction} LIMIT "
    ))
    .push_bind(i64::from(query.limit));
    Ok(sql.build_query_as::<Event>().fetch_all(pool).await?)
}
