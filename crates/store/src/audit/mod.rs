//! The audit trail's storage: an append-only [`Journal`] of CloudTrail records
//! (`DATA_DIR/audit/journal-<n>.jsonl`), the durability point and the only copy of each
//! record, and an index of it in its own SQLite file, `DATA_DIR/audit.db`, for lookups.
//!
//! The server appends each record to the journal on the request's own thread (see
//! [`journal`]); an [`Indexer`] summarises the journal into `audit.db` in the background, one
//! row per [`block`] of about 1 MiB of lines: where it is, its time span, and the values of
//! each lookup attribute its records carry. A lookup first catches the index up to the
//! journal's end, so it sees every record appended before it started, whether the journal is
//! this process's or a running server's beside it; then it reads the blocks that can hold a
//! match and filters their lines. Pages are keyset pages in journal order
//! ([`AuditLog::lookup`]). The record itself is opaque JSON here; the server shapes it. See
//! `docs/decisions/0003-audit-durability.md`.

mod block;
mod indexer;
pub mod journal;
mod line;
mod model;
mod query;
mod retention;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard, Weak};
use std::time::Duration;

use sqlx::SqlitePool;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};

pub use indexer::{IndexError, Indexer, JournalPosition};
pub use journal::{DEFAULT_SEGMENT_BYTES, JOURNAL_DIR, Journal};
use model::OwnedQuery;
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

/// Migrations and the position; lookups and indexing have their own connection.
const MAX_CONNECTIONS: u32 = 2;

const BUSY_TIMEOUT: Duration = Duration::from_secs(30);

/// Page cache per connection, KiB.
const CACHE_KIB: u32 = 8 * 1024;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/audit");

#[derive(Debug, Clone)]
pub struct AuditLog {
    pool: SqlitePool,
    path: PathBuf,
    journal_dir: PathBuf,
    sync: AuditSync,
    /// Shared by every clone: the background indexer and lookups take turns, a step each.
    indexer: Arc<Mutex<Option<Indexer>>>,
    /// This process's journal, once started; [`AuditLog::append`] writes to it.
    journal: Arc<Mutex<Weak<Journal>>>,
    /// The journal [`AuditLog::append`] started when there was none.
    bulk_journal: Arc<Mutex<Option<Arc<Journal>>>>,
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
            journal: Arc::new(Mutex::new(Weak::new())),
            bulk_journal: Arc::new(Mutex::new(None)),
        })
    }

    /// Starts this process's journal (a new segment) at the log's [`AuditSync`]. One per
    /// process: the server's.
    pub async fn journal(&self) -> Result<Arc<Journal>> {
        self.journal_with(DEFAULT_SEGMENT_BYTES).await
    }

    /// [`AuditLog::journal`] rolling to a new segment past `segment_bytes`.
    pub async fn journal_with(&self, segment_bytes: u64) -> Result<Arc<Journal>> {
        let (segment, _) = self.position().await?;
        let journal = Arc::new(
            Journal::open(&self.journal_dir, segment + 1, self.sync, segment_bytes)
                .map_err(sqlx::Error::Io)?,
        );
        *lock(&self.journal) = Arc::downgrade(&journal);
        Ok(journal)
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
        let mut indexed = 0;
        // A step at a time, so a lookup waits for one batch, not for the whole backlog.
        while let Some(n) = self.with_indexer(Indexer::step_unless_at_end)? {
            indexed += n;
        }
        Ok(indexed)
    }

    /// Runs `work` with the shared indexer, opening it first if needed.
    fn with_indexer<T>(
        &self,
        work: impl FnOnce(&mut Indexer) -> std::result::Result<T, IndexError>,
    ) -> std::result::Result<T, IndexError> {
        let mut indexer = lock(&self.indexer);
        let indexer = match &mut *indexer {
            Some(indexer) => indexer,
            none => none.insert(Indexer::open(&self.path, &self.journal_dir, BUSY_TIMEOUT)?),
        };
        work(indexer)
    }

    /// Runs blocking index work on tokio's blocking pool.
    async fn blocking<T: Send + 'static>(
        &self,
        work: impl FnOnce(&AuditLog) -> std::result::Result<T, IndexError> + Send + 'static,
    ) -> Result<T> {
        let log = self.clone();
        tokio::task::spawn_blocking(move || work(&log))
            .await
            .map_err(|e| sqlx::Error::Io(std::io::Error::other(e)))?
            .map_err(|e| sqlx::Error::Io(std::io::Error::other(e)).into())
    }

    /// [`AuditLog::catch_up_blocking`] for async callers.
    pub async fn catch_up(&self) -> Result<u64> {
        self.blocking(AuditLog::catch_up_blocking).await
    }

    /// Appends `events` to this process's journal (starting one if there is none): bulk
    /// loads and tests. Durable when this returns; indexed by the next catch-up.
    pub async fn append(&self, events: &[NewEvent]) -> Result<()> {
        let running = lock(&self.journal).upgrade();
        let journal = match running {
            Some(journal) => journal,
            None => {
                let journal = self.journal().await?;
                *lock(&self.bulk_journal) = Some(journal.clone());
                journal
            }
        };
        for event in events {
            journal.append(event).map_err(sqlx::Error::Io)?;
        }
        Ok(())
    }

    /// One page of events matching `query`, in its order. Ask for one more than you show to
    /// learn whether another page follows. Sees every record appended to the journal before
    /// it was called (it catches the index up first).
    pub async fn lookup(&self, query: &EventQuery<'_>) -> Result<Vec<Event>> {
        self.catch_up().await?;
        let query = OwnedQuery::from(query);
        self.blocking(move |log| log.with_indexer(|indexer| indexer.lookup(&query.borrow())))
            .await
    }

    /// Removes every event older than `cutoff_ms` (epoch milliseconds) from the index, and
    /// the journal segments already indexed whose last write is older; returns how many
    /// events. Catches the index up first, so the count covers every appended record.
    pub async fn prune_before(&self, cutoff_ms: i64) -> Result<u64> {
        self.catch_up().await?;
        self.blocking(move |log| log.with_indexer(|indexer| indexer.prune_before(cutoff_ms)))
            .await
    }

    /// Waits for in-flight work and closes every connection (checkpointing the WAL).
    pub async fn close(&self) {
        self.pool.close().await;
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // Every guarded value is whole between statements: a panic cannot leave it half-changed.
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}

#[cfg(test)]
mod tests;
