//! Retention and the size cap on PostgreSQL: rows go oldest first, in batches of [`BATCH`] per
//! statement (its own transaction), so a pass never holds locks or a snapshot for long and the
//! writers' inserts (which touch none of the deleted rows) go on meanwhile. Each statement
//! subtracts what it deleted from the pruner's `audit_usage` row, so the running sums stay
//! exact.
//!
//! One replica prunes at a time: a pass holds a session-level advisory lock on a connection of
//! its own, taken without waiting; a replica that finds it held leaves the pass to the holder.
//! The key is in the two-`int4` space of the store's write locks (`postgres/locks.rs`, domains
//! 1–4), as domain [`LOCK_DOMAIN`].

use sqlx::pool::PoolConnection;
use sqlx::{Connection as _, PgPool, Postgres};

use crate::audit::{Caller, Evicted};
use crate::error::Result;

/// Beside `postgres/locks.rs`'s IAM, EC2, S3 and bookkeeping domains.
const LOCK_DOMAIN: i32 = 5;

/// Rows per delete statement.
const BATCH: i64 = 2_000;

/// What one delete statement removed: rows, bytes, their event-time span.
type Removed = (i64, i64, Option<i64>, Option<i64>);

/// Deletes the rows `picked` selects (their `ctid`s, oldest first, `LIMIT $1`) and subtracts
/// them from shard `$2`'s usage; returns [`Removed`].
fn delete_sql(picked: &str) -> String {
    format!(
        "WITH gone AS ( \
             DELETE FROM audit_events WHERE ctid = ANY(ARRAY({picked})) \
             RETURNING authenticated, bytes, event_time_ms \
         ), counted AS ( \
             INSERT INTO audit_usage (shard, authenticated, bytes, records) \
             SELECT $2, authenticated, -SUM(bytes), -COUNT(*) FROM gone GROUP BY authenticated \
             ON CONFLICT (shard, authenticated) DO UPDATE \
             SET bytes = audit_usage.bytes + EXCLUDED.bytes, \
                 records = audit_usage.records + EXCLUDED.records \
         ) \
         SELECT COUNT(*), COALESCE(SUM(bytes), 0)::BIGINT, MIN(event_time_ms), \
             MAX(event_time_ms) FROM gone"
    )
}

/// Runs `work` holding the pruning lock; `None` if another replica holds it.
async fn locked<T>(
    pool: &PgPool,
    work: impl AsyncFnOnce(&mut PoolConnection<Postgres>) -> Result<T>,
) -> Result<Option<T>> {
    let mut conn = pool.acquire().await?;
    let taken: bool = sqlx::query_scalar("SELECT pg_try_advisory_lock($1, 0)")
        .bind(LOCK_DOMAIN)
        .fetch_one(&mut *conn)
        .await?;
    if !taken {
        return Ok(None);
    }
    let outcome = work(&mut conn).await;
    let released = sqlx::query("SELECT pg_advisory_unlock($1, 0)")
        .bind(LOCK_DOMAIN)
        .execute(&mut *conn)
        .await;
    if released.is_err() {
        // A session lock outlives a failed unlock: its session must not go back to the pool.
        let _ = conn.detach().close().await;
    }
    outcome.map(Some)
}

/// Deletes every row older than `cutoff_ms`; `None` if another replica is pruning.
pub(super) async fn before(pool: &PgPool, shard: i32, cutoff_ms: i64) -> Result<Option<u64>> {
    let sql = delete_sql(
        "SELECT ctid FROM audit_events WHERE event_time_ms < $3 \
         ORDER BY event_time_ms, id LIMIT $1",
    );
    locked(pool, async |conn| {
        let mut pruned = 0;
        loop {
            let (rows, ..) = batch(conn, &sql, shard, cutoff_ms).await?;
            pruned += rows.unsigned_abs();
            if rows < BATCH {
                return Ok(pruned);
            }
        }
    })
    .await
}

/// Deletes `caller`'s oldest rows until at least `over` bytes are gone or none is left; `None`
/// if another replica is pruning.
pub(super) async fn oldest(
    pool: &PgPool,
    shard: i32,
    caller: Caller,
    over: u64,
) -> Result<Option<Evicted>> {
    // Two texts rather than a parameter, so the partial index of strangers' rows applies.
    let which = match caller {
        Caller::Authenticated => "authenticated",
        Caller::Unauthenticated => "NOT authenticated",
    };
    // The oldest rows up to the one whose bytes reach `$3`, at most a batch of them.
    let sql = delete_sql(&format!(
        "SELECT ctid FROM ( \
             SELECT ctid, SUM(bytes) OVER (ORDER BY event_time_ms, id) - bytes AS before \
             FROM audit_events WHERE {which} ORDER BY event_time_ms, id LIMIT $1 \
         ) oldest WHERE before < $3"
    ));
    locked(pool, async |conn| {
        let mut evicted = Evicted::default();
        while evicted.bytes < over {
            let left = i64::try_from(over - evicted.bytes).unwrap_or(i64::MAX);
            let (rows, bytes, oldest_ms, newest_ms) = batch(conn, &sql, shard, left).await?;
            if rows == 0 {
                break;
            }
            evicted.add(Evicted {
                segments: 0,
                bytes: bytes.unsigned_abs(),
                records: rows.unsigned_abs(),
                oldest_ms,
                newest_ms,
            });
        }
        Ok(evicted)
    })
    .await
}

/// One delete statement of `sql`, its bound (a cut-off time, bytes to free) as `$3`.
async fn batch(
    conn: &mut PoolConnection<Postgres>,
    sql: &str,
    shard: i32,
    bound: i64,
) -> Result<Removed> {
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(sql.to_owned()))
        .bind(BATCH)
        .bind(shard)
        .bind(bound)
        .fetch_one(&mut **conn)
        .await?)
}
