//! The audit trail's storage: an append-only log of CloudTrail records in its own SQLite file,
//! `DATA_DIR/audit.db`.
//!
//! Writes come in batches, one transaction each, committed when the call returns: the
//! server's writer thread owns an [`Appender`] (prepared INSERT, no async hops) and groups
//! concurrent requests' records into one batch; [`AuditLog::append`] is the async form for
//! bulk loads and tests. How far a commit goes toward the disk is the log's [`AuditSync`]
//! (WAL written, or also fsynced). Reads are keyset pages over indexed columns
//! ([`AuditLog::lookup`]) so a scan of a principal's month stays an index range walk however
//! large the log grows. The record itself is opaque JSON here; the server shapes it.

mod appender;
mod model;
mod query;

use std::path::{Path, PathBuf};
use std::time::Duration;

use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{QueryBuilder, Sqlite, SqlitePool};

pub use appender::{AppendError, Appender, AuditSync, Checkpointer};
pub use model::{Event, EventFilter, EventQuery, NewEvent, Order, Position};

use crate::error::Result;

/// The audit database inside the data directory.
pub const AUDIT_DATABASE_FILE: &str = "audit.db";

/// One writer plus a few readers (lookups, exports, pruning).
const MAX_CONNECTIONS: u32 = 4;

/// Pruning deletes in chunks this size, so it never holds the write lock long enough to stall
/// the request path's batches.
const PRUNE_CHUNK: i64 = 5_000;

const BUSY_TIMEOUT: Duration = Duration::from_secs(30);

/// Page cache per connection, KiB.
const CACHE_KIB: u32 = 32 * 1024;

/// 12 bound columns per row; SQLite allows 32,766 variables per statement.
const COLUMNS_PER_ROW: usize = 12;
const ROWS_PER_STATEMENT: usize = 32_766 / COLUMNS_PER_ROW;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/audit");

#[derive(Debug, Clone)]
pub struct AuditLog {
    pool: SqlitePool,
    path: PathBuf,
    sync: AuditSync,
}

impl AuditLog {
    /// Opens (creating if absent) `data_dir/audit.db` at the default [`AuditSync`] and brings
    /// its schema up to date.
    pub async fn open(data_dir: &Path) -> Result<Self> {
        Self::open_with(data_dir, AuditSync::default()).await
    }

    /// [`AuditLog::open`] with commits synced to `sync`.
    pub async fn open_with(data_dir: &Path, sync: AuditSync) -> Result<Self> {
        std::fs::create_dir_all(data_dir).map_err(sqlx::Error::Io)?;
        let log = Self::connect(data_dir, true, sync).await?;
        MIGRATOR
            .run(&log.pool)
            .await
            .map_err(|e| sqlx::Error::Migrate(Box::new(e)))?;
        Ok(log)
    }

    /// Opens an existing log without touching its schema: for readers beside a running server
    /// (`roleplane audit export`). WAL lets them read while the server writes.
    pub async fn open_existing(data_dir: &Path) -> Result<Self> {
        Self::connect(data_dir, false, AuditSync::default()).await
    }

    async fn connect(data_dir: &Path, create: bool, sync: AuditSync) -> Result<Self> {
        let path = data_dir.join(AUDIT_DATABASE_FILE);
        let synchronous = match sync {
            AuditSync::Normal => SqliteSynchronous::Normal,
            AuditSync::Full => SqliteSynchronous::Full,
        };
        let options = SqliteConnectOptions::new()
            .filename(&path)
            .create_if_missing(create)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(synchronous)
            .busy_timeout(BUSY_TIMEOUT)
            // The indexes' hot pages stay in memory instead of being re-read every batch.
            .pragma("cache_size", format!("-{CACHE_KIB}"));
        let pool = SqlitePoolOptions::new()
            .max_connections(MAX_CONNECTIONS)
            .connect_with(options)
            .await?;
        Ok(Self { pool, path, sync })
    }

    /// The log's single writer, for a dedicated thread (see [`Appender`]).
    pub fn appender(&self) -> std::result::Result<Appender, AppendError> {
        Appender::open(&self.path, self.sync, BUSY_TIMEOUT, CACHE_KIB)
    }

    /// The log's background checkpointer, for a thread of its own (see [`Checkpointer`]).
    pub fn checkpointer(&self) -> std::result::Result<Checkpointer, AppendError> {
        Checkpointer::open(&self.path, BUSY_TIMEOUT)
    }

    /// Appends `events` in one transaction; committed when this returns.
    pub async fn append(&self, events: &[NewEvent]) -> Result<()> {
        if events.is_empty() {
            return Ok(());
        }
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        for chunk in events.chunks(ROWS_PER_STATEMENT) {
            let mut insert = QueryBuilder::<Sqlite>::new(
                "INSERT INTO events (event_id, event_time_ms, account_id, event_source, \
                 event_name, read_only, access_key_id, username, principal_arn, error_code, \
                 resources, record) ",
            );
            insert.push_values(chunk, |mut row, e| {
                row.push_bind(e.event_id.as_str())
                    .push_bind(e.event_time_ms)
                    .push_bind(e.account_id.as_str())
                    .push_bind(e.event_source.as_str())
                    .push_bind(e.event_name.as_str())
                    .push_bind(e.read_only)
                    .push_bind(e.access_key_id.as_deref())
                    .push_bind(e.username.as_deref())
                    .push_bind(e.principal_arn.as_deref())
                    .push_bind(e.error_code.as_deref())
                    .push_bind(e.resources.as_str())
                    .push_bind(e.record.as_str());
            });
            insert.build().execute(&mut *tx).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// One page of events matching `query`, in its order. Ask for one more than you show to
    /// learn whether another page follows.
    pub async fn lookup(&self, query: &EventQuery<'_>) -> Result<Vec<Event>> {
        query::lookup(&self.pool, query).await
    }

    /// Deletes every event older than `cutoff_ms` (epoch milliseconds); returns how many.
    pub async fn prune_before(&self, cutoff_ms: i64) -> Result<u64> {
        let mut total = 0;
        loop {
            let deleted = sqlx::query(
                "DELETE FROM events WHERE seq IN \
                 (SELECT seq FROM events WHERE event_time_ms < $1 LIMIT $2)",
            )
            .bind(cutoff_ms)
            .bind(PRUNE_CHUNK)
            .execute(&self.pool)
            .await?
            .rows_affected();
            total += deleted;
            if deleted < PRUNE_CHUNK.unsigned_abs() {
                return Ok(total);
            }
        }
    }

    /// Waits for in-flight work and closes every connection (checkpointing the WAL).
    pub async fn close(&self) {
        self.pool.close().await;
    }
}

#[cfg(test)]
mod tests;
