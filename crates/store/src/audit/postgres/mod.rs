//! The audit trail of replicas that share a PostgreSQL database (decision 0027): one
//! `audit_events` row per record (migration `postgres/0004_audit_events.sql`), committed by
//! the replica's [`group_commit`] before the call it describes is answered, so every replica's
//! lookups see it from the moment that call's response leaves. A replica's death loses nothing
//! acknowledged: nothing of the trail lives on its disk.
//!
//! Lookups page the table in `(event_time_ms, id)` order ([`lookup`]); retention and the size
//! cap delete the oldest rows in batches, one replica at a time ([`pruning`]), against running
//! sums of the rows' bytes (`audit_usage`). Both callers' records share the table; a column
//! says which, so strangers' records can be evicted first (decision 0017).
//!
//! The trail has a pool of its own, apart from the store's: its writer and its pruning never
//! wait behind the store's queries, nor the store's writes behind a long export.

mod group_commit;
mod keys;
mod lookup;
mod pruning;

use std::sync::Arc;
use std::time::Duration;

use sqlx::PgPool;
use sqlx::postgres::PgPoolOptions;

use super::model::{Event, EventQuery, NewEvent};
use super::{Caller, DiskUse, Evicted};
use crate::error::{Result, StoreError};
use crate::postgres::{DatabaseUrl, connect_options};

use group_commit::GroupCommit;
pub use group_commit::{CommitCounts, CommitError};

/// The writer, pruning, and two lookups or scan halves at once.
const MAX_CONNECTIONS: u32 = 4;

/// How long a commit waits for a connection before its calls fail (503, retryable): an
/// unreachable database fails calls promptly instead of holding them for sqlx's default 30 s.
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(5);

/// A handle on the trail in a PostgreSQL database; clones share the pool and the writer.
#[derive(Clone)]
pub struct PgAuditLog {
    pool: PgPool,
    writer: GroupCommit,
    /// This handle's rows of `audit_usage`: the writer's, and the pruner's beside it.
    shard: i32,
    url: Arc<DatabaseUrl>,
}

impl std::fmt::Debug for PgAuditLog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgAuditLog")
            .field("url", &self.url)
            .finish_non_exhaustive()
    }
}

/// Shards a writer picks from; the pruner of the same handle adds this to its writer's.
const SHARDS: i32 = 1024;

impl PgAuditLog {
    /// Connects to the trail in the database at `url`, whose schema the store's migrations
    /// made (`PgStore::connect`); a database without the trail's table is an error.
    pub async fn connect(url: &DatabaseUrl) -> Result<Self> {
        let options = connect_options(url)?;
        let pool = PgPoolOptions::new()
            .max_connections(MAX_CONNECTIONS)
            .acquire_timeout(ACQUIRE_TIMEOUT)
            .connect_with(options)
            .await?;
        let exists: bool = sqlx::query_scalar("SELECT to_regclass('audit_events') IS NOT NULL")
            .fetch_one(&pool)
            .await?;
        if !exists {
            pool.close().await;
            return Err(StoreError::Schema(format!(
                "{url} holds no audit trail (start `roleplane serve --store` on it first)"
            )));
        }
        let shard = rand::random_range(0..SHARDS);
        Ok(Self {
            writer: GroupCommit::start(pool.clone(), shard),
            pool,
            shard,
            url: Arc::new(url.clone()),
        })
    }

    /// Returns once `event` is committed (with whatever other records were waiting), or why
    /// it could not be: then its call must not be acknowledged.
    pub async fn append(
        &self,
        caller: Caller,
        event: NewEvent,
    ) -> std::result::Result<(), CommitError> {
        self.writer.commit(caller, event).await
    }

    /// Commits `events` in their order (bulk loads, tests): all are queued at once, so they
    /// share commits.
    pub async fn append_all(
        &self,
        caller: Caller,
        events: &[NewEvent],
    ) -> std::result::Result<(), CommitError> {
        let mut answers = Vec::with_capacity(events.len());
        for event in events {
            answers.push(self.writer.submit(caller, event.clone())?);
        }
        for answer in answers {
            answer.await?;
        }
        Ok(())
    }

    /// The writer's commits so far and the records they held.
    pub fn commit_counts(&self) -> &Arc<CommitCounts> {
        self.writer.counts()
    }

    /// One page of events matching `query`, in its order: every record committed before it
    /// was called, by any replica.
    pub async fn lookup(&self, query: &EventQuery<'_>) -> Result<Vec<Event>> {
        lookup::lookup(&self.pool, query).await
    }

    /// The bytes the trail's rows hold, by caller (the running sums the size cap reads).
    pub async fn usage(&self) -> Result<DiskUse> {
        let rows: Vec<(bool, i64)> = sqlx::query_as(
            "SELECT authenticated, SUM(bytes)::BIGINT FROM audit_usage GROUP BY authenticated",
        )
        .fetch_all(&self.pool)
        .await?;
        let mut usage = DiskUse::default();
        for (authenticated, bytes) in rows {
            let bytes = u64::try_from(bytes).unwrap_or(0);
            if authenticated {
                usage.authenticated = bytes;
            } else {
                usage.unauthenticated = bytes;
            }
        }
        Ok(usage)
    }

    /// Deletes every record older than `cutoff_ms` (epoch milliseconds); returns how many, or
    /// `None` when another replica is pruning (it does the work).
    pub async fn prune_before(&self, cutoff_ms: i64) -> Result<Option<u64>> {
        pruning::before(&self.pool, self.pruner_shard(), cutoff_ms).await
    }

    /// Deletes `caller`'s oldest records until at least `over` bytes are gone or none is
    /// left; `None` when another replica is pruning.
    pub async fn evict(&self, caller: Caller, over: u64) -> Result<Option<Evicted>> {
        pruning::oldest(&self.pool, self.pruner_shard(), caller, over).await
    }

    fn pruner_shard(&self) -> i32 {
        self.shard + SHARDS
    }

    /// Whether the database takes a write now: a trail that refused a record is probed with
    /// it. A write, not a query: a database that answers but refuses writes (a standby after
    /// a failover, a full disk) must keep the trail closed.
    pub async fn probe(&self) -> Result<()> {
        sqlx::query(
            "INSERT INTO audit_usage (shard, authenticated, bytes, records) \
             VALUES ($1, TRUE, 0, 0) \
             ON CONFLICT (shard, authenticated) DO UPDATE SET bytes = audit_usage.bytes",
        )
        .bind(self.shard)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Closes every connection (the writer then fails whatever is still sent).
    pub async fn close(&self) {
        self.pool.close().await;
    }
}
