//! Pages of the trail on PostgreSQL, in `(event_time_ms, id)` order (the primary key):
//! newest first for LookupEvents, oldest first for exports and scans, continued strictly after
//! a [`Position`] (its time and its row's id), so page N costs what page 1 does.
//!
//! The planner picks the walk: the primary key for the time bounds (every query has them), the
//! principal's index for policy generation, the GIN index for another attribute's key. Each
//! query is planned with its own values (`persistent(false)`): a generic plan would not know
//! whether a key is rare (read its rows) or common (walk time and filter).

use sqlx::{PgPool, Postgres, QueryBuilder};

use super::keys;
use crate::audit::model::{Event, EventFilter, EventQuery, Order, Position};
use crate::audit::query::TimeSpan;
use crate::error::Result;

const COLUMNS: &str = "event_time_ms, id, event_id, account_id, event_source, event_name, \
     read_only, access_key_id, username, principal_arn, error_code, resources, management, \
     record";

#[derive(sqlx::FromRow)]
struct EventRow {
    event_time_ms: i64,
    id: i64,
    event_id: String,
    account_id: String,
    event_source: String,
    event_name: String,
    read_only: bool,
    access_key_id: Option<String>,
    username: Option<String>,
    principal_arn: Option<String>,
    error_code: Option<String>,
    resources: String,
    management: bool,
    record: String,
}

impl From<EventRow> for Event {
    fn from(row: EventRow) -> Self {
        Event {
            seq: row.id,
            place: Position {
                event_time_ms: row.event_time_ms,
                seq: row.id,
                unauthenticated_seq: None,
            },
            event_id: row.event_id,
            event_time_ms: row.event_time_ms,
            account_id: row.account_id,
            event_source: row.event_source,
            event_name: row.event_name,
            read_only: row.read_only,
            access_key_id: row.access_key_id,
            username: row.username,
            principal_arn: row.principal_arn,
            error_code: row.error_code,
            resources: row.resources,
            management: row.management,
            record: row.record,
        }
    }
}

/// `filter` on the row's own columns: the attributes without a key, and every attribute of a
/// query across accounts (no LookupEvents asks one; the keys are per account).
fn column_filter(sql: &mut QueryBuilder<Postgres>, filter: EventFilter<'_>) {
    let (column, value) = match filter {
        EventFilter::ReadOnly(read_only) => {
            sql.push(" AND read_only = ").push_bind(read_only);
            return;
        }
        EventFilter::ResourceType(kind) => {
            sql.push(
                " AND resources::JSONB @> JSONB_BUILD_ARRAY(JSONB_BUILD_OBJECT('ResourceType', ",
            )
            .push_bind(kind.to_owned())
            .push("::TEXT))");
            return;
        }
        EventFilter::ResourceName(name) => {
            sql.push(
                " AND resources::JSONB @> JSONB_BUILD_ARRAY(JSONB_BUILD_OBJECT('ResourceName', ",
            )
            .push_bind(name.to_owned())
            .push("::TEXT))");
            return;
        }
        EventFilter::EventId(v) => ("event_id", v),
        EventFilter::EventName(v) => ("event_name", v),
        EventFilter::EventSource(v) => ("event_source", v),
        EventFilter::Username(v) => ("username", v),
        EventFilter::AccessKeyId(v) => ("access_key_id", v),
        EventFilter::PrincipalArn(v) => ("principal_arn", v),
    };
    sql.push(format!(" AND {column} = "))
        .push_bind(value.to_owned());
}

/// One page of `query`.
pub(super) async fn lookup(pool: &PgPool, query: &EventQuery<'_>) -> Result<Vec<Event>> {
    let Some(span) = TimeSpan::of(query) else {
        return Ok(Vec::new());
    };
    let mut sql = select(query, span);
    let rows: Vec<EventRow> = sql
        .build_query_as()
        .persistent(false)
        .fetch_all(pool)
        .await?;
    Ok(rows.into_iter().map(Event::from).collect())
}

fn select(query: &EventQuery<'_>, span: TimeSpan) -> QueryBuilder<Postgres> {
    let mut sql = QueryBuilder::new(format!(
        "SELECT {COLUMNS} FROM audit_events WHERE event_time_ms BETWEEN "
    ));
    sql.push_bind(span.from_ms)
        .push(" AND ")
        .push_bind(span.to_ms);
    if let Some(account) = query.account_id {
        sql.push(" AND account_id = ").push_bind(account.to_owned());
    }
    if query.management_only {
        sql.push(" AND management");
    }
    if let Some(filter) = query.filter {
        match query
            .account_id
            .and_then(|account| keys::of_filter(account, filter))
        {
            Some(key) => {
                sql.push(" AND lookup_keys @> ARRAY[")
                    .push_bind(key)
                    .push("]::TEXT[]");
            }
            None => column_filter(&mut sql, filter),
        }
    }
    let newest_first = query.order == Order::NewestFirst;
    if let Some(after) = query.after {
        sql.push(if newest_first {
            " AND (event_time_ms, id) < ("
        } else {
            " AND (event_time_ms, id) > ("
        })
        .push_bind(after.event_time_ms)
        .push(", ")
        .push_bind(after.seq)
        .push(")");
    }
    sql.push(if newest_first {
        " ORDER BY event_time_ms DESC, id DESC LIMIT "
    } else {
        " ORDER BY event_time_ms, id LIMIT "
    })
    .push_bind(i64::from(query.limit));
    sql
}
