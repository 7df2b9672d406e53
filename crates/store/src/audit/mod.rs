//! The audit trail's storage: an append-only [`Journal`] of CloudTrail records
//! (`DATA_DIR/audit/journal-<n>.jsonl`), the durability point, and an index of them in its own
//! SQLite file, `DATA_DIR/audit.db`, for lookups.
//!
//! The server appends each record to the journal on the request's own thread (one `write(2)`,
//! see [`journal`]); an [`Indexer`] copies the journal into `audit.db` in the background. A
//! lookup first catches the index up to the journal's end, so it sees every record appended
//! before it started, whether the journal is this process's or a running server's beside it.
//! [`AuditLog::append`] inserts straight into the index, for bulk loads and tests. Reads are
//! keyset pages over indexed columns ([`AuditLog::lookup`]) so a scan of a principal's month
//! stays an index range walk however large the log grows. The record itself is opaque JSON
//! here; the server shapes it. See `docs/decisions/0003-audit-durability.md`.

mod indexer;
pub mod journal;
mod line;
mod model;
mod query;
mod retention;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{QueryBuilder, Sqlite, SqlitePool};

pub use indexer::{IndexError, Indexer, JournalPosition};
pub use journal::{DEFAULT_SEGMENT_BYTES, JOURNAL_DIR, Journal};
pub use model::{Event, EventFilter, EventQuery, NewEvent, Order, Position};

use crate::error::Result;

/// The audit database inside the data directory.
pub const AUDIT_DATABASE_FILE: &str = "audit.db";

/// How far an appended record goes toward the disk before [`Journal::append`] returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum AuditSync {
    /// `write(2)` only: the record is in the kernel's page cache and survives the death of
    /// the process, not a power loss before the kernel writes it back.
    #[default]
    Normal,
    /// Also `fdatasync`, grouped across concurrent appends: survives power loss too.
    Full,
}

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
    journal_dir: PathBuf,
    sync: AuditSync,
    /// Shared by every clone: the background indexer and lookups take turns.
    indexer: Arc<Mutex<Option<Indexer>>>,
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
    /// (`roleplane audit export`, `roleplane policy generate`). WAL lets them read while the
    /// server writes; their lookups catch the index up from the server's journal themselves.
    pub async fn open_existing(data_dir: &Path) -> Result<Self> {
        Self::connect(data_dir, false, AuditSync::default()).await
    }

    async fn connect(data_dir: &Path, create: bool, sync: AuditSync) -> Result<Self> {
        let path = data_dir.join(AUDIT_DATABASE_FILE);
        let options = SqliteConnectOptions::new()
            .filename(&path)
            .create_if_missing(create)
            .journal_mode(SqliteJournalMode::Wal)
            // The journal is the durable copy: the index can be rebuilt from it.
            .synchronous(SqliteSynchronous::Normal)
            .busy_timeout(BUSY_TIMEOUT)
            // The indexes' hot pages stay in memory instead of being re-read every batch.
            .pragma("cache_size", format!("-{CACHE_KIB}"));
        let pool = SqlitePoolOptions::new()
            .max_connections(MAX_CONNECTIONS)
            .connect_with(options)
            .await?;
        Ok(Self {
            pool,
            path,
            journal_dir: data_dir.join(JOURNAL_DIR),
            sync,
            indexer: Arc::new(Mutex::new(None)),
        })
    }

    /// Starts this process's journal (a new segment) at the log's [`AuditSync`]. One per
    /// process: the server's.
    pub async fn journal(&self) -> Result<Journal> {
        self.journal_with(DEFAULT_SEGMENT_BYTES).await
    }

    /// [`AuditLog::journal`] rolling to a new segment past `segment_bytes`.
    pub async fn journal_with(&self, segment_bytes: u64) -> Result<Journal> {
        let (segment, _) = self.position().await?;
        Ok(
            Journal::open(&self.journal_dir, segment + 1, self.sync, segment_bytes)
                .map_err(sqlx::Error::Io)?,
        )
    }

    /// How far the index has read the journal.
    pub async fn position(&self) -> Result<JournalPosition> {
        let (segment, offset): (i64, i64) =
            sqlx::query_as("SELECT segment, byte_offset FROM journal_position WHERE id = 1")
                .fetch_one(&self.pool)
                .await?;
        Ok((segment.unsigned_abs(), offset.unsigned_abs()))
    }

    /// Indexes what the journal holds now; returns how many records were added. Blocks: for
    /// a thread of its own (the server's background indexer).
    pub fn catch_up_blocking(&self) -> std::result::Result<u64, IndexError> {
        let mut indexer = self.indexer.lock().unwrap_or_else(|e| e.into_inner());
        let indexer = match &mut *indexer {
            Some(indexer) => indexer,
            none => none.insert(Indexer::open(&self.path, &self.journal_dir, BUSY_TIMEOUT)?),
        };
        indexer.catch_up()
    }

    /// [`AuditLog::catch_up_blocking`] for async callers.
    pub async fn catch_up(&self) -> Result<u64> {
        let log = self.clone();
        tokio::task::spawn_blocking(move || log.catch_up_blocking())
            .await
            .map_err(|e| sqlx::Error::Io(std::io::Error::other(e)))?
            .map_err(|e| sqlx::Error::Io(std::io::Error::other(e)).into())
    }

    /// Inserts `events` straight into the index in one transaction, bypassing the journal:
    /// bulk loads and tests. Committed when this returns.
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
    /// learn whether another page follows. Sees every record appended to the journal before
    /// it was called (it catches the index up first).
    pub async fn lookup(&self, query: &EventQuery<'_>) -> Result<Vec<Event>> {
        self.catch_up().await?;
        query::lookup(&self.pool, query).await
    }

    /// Deletes every event older than `cutoff_ms` (epoch milliseconds), and the journal
    /// segments already indexed whose last write is older; returns how many events.
    pub async fn prune_before(&self, cutoff_ms: i64) -> Result<u64> {
        let (indexed_segment, _) = self.position().await?;
        retention::remove_segments(&self.journal_dir, indexed_segment, cutoff_ms)
            .map_err(sqlx::Error::Io)?;
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
