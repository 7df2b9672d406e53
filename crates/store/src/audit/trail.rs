//! One journal and its index: the authenticated trail (`DATA_DIR/audit/`, `audit.db`) or the
//! trail of calls without an authenticated caller (`DATA_DIR/audit/unauthenticated/`,
//! `audit-unauthenticated.db`). [`super::AuditLog`] holds both and reads them as one.

use std::path::PathBuf;
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use sqlx::SqlitePool;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};

use super::eviction::{self, Evicted};
use super::growth::Growth;
use super::indexer::{IndexError, Indexer, JournalPosition};
use super::journal::Journal;
use super::model::{Event, EventQuery};
use super::{AuditSync, lock};
use crate::error::Result;

/// Migrations and the position; lookups and indexing have their own connection.
const MAX_CONNECTIONS: u32 = 2;

pub(super) const BUSY_TIMEOUT: Duration = Duration::from_secs(30);

/// Page cache per connection, KiB.
const CACHE_KIB: u32 = 8 * 1024;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/audit");

#[derive(Debug, Clone)]
pub(super) struct Trail {
    pool: SqlitePool,
    path: PathBuf,
    pub(super) journal_dir: PathBuf,
    sync: AuditSync,
    /// Shared by every clone: the background indexer and lookups take turns, a step each.
    indexer: Arc<Mutex<Option<Indexer>>>,
    /// This process's journal, once started; [`Trail::append`] writes to it.
    journal: Arc<Mutex<Weak<Journal>>>,
    /// The journal [`Trail::append`] started when there was none.
    bulk_journal: Arc<Mutex<Option<Arc<Journal>>>>,
}

impl Trail {
    /// Opens the index at `database` over the journal in `journal_dir`; `create` makes and
    /// migrates a missing one (a server), else it must exist (a reader beside a server).
    pub(super) async fn open(
        database: PathBuf,
        journal_dir: PathBuf,
        sync: AuditSync,
        create: bool,
    ) -> Result<Self> {
        let options = SqliteConnectOptions::new()
            .filename(&database)
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
        if create {
            MIGRATOR
                .run(&pool)
                .await
                .map_err(|e| sqlx::Error::Migrate(Box::new(e)))?;
        }
        Ok(Self {
            pool,
            path: database,
            journal_dir,
            sync,
            indexer: Arc::new(Mutex::new(None)),
            journal: Arc::new(Mutex::new(Weak::new())),
            bulk_journal: Arc::new(Mutex::new(None)),
        })
    }

    /// Starts this process's journal (a new segment), rolling past `segment_bytes`.
    pub(super) async fn journal_with(
        &self,
        segment_bytes: u64,
        growth: Option<Arc<Growth>>,
    ) -> Result<Arc<Journal>> {
        let (segment, _) = self.position().await?;
        let journal = Arc::new(
            Journal::open(
                &self.journal_dir,
                segment + 1,
                self.sync,
                segment_bytes,
                growth,
            )
            .map_err(sqlx::Error::Io)?,
        );
        *lock(&self.journal) = Arc::downgrade(&journal);
        Ok(journal)
    }

    pub(super) async fn position(&self) -> Result<JournalPosition> {
        let (segment, offset): (i64, i64) =
            sqlx::query_as("SELECT segment, byte_offset FROM journal_position WHERE id = 1")
                .fetch_one(&self.pool)
                .await?;
        Ok((segment.unsigned_abs(), offset.unsigned_abs()))
    }

    pub(super) fn catch_up_blocking(&self) -> std::result::Result<u64, IndexError> {
        let mut indexed = 0;
        // A step at a time, so a lookup waits for one batch, not for the whole backlog.
        while let Some(n) = self.with_indexer(Indexer::step_unless_at_end)? {
            indexed += n;
        }
        Ok(indexed)
    }

    /// Runs `work` with the shared indexer, opening it first if needed.
    pub(super) fn with_indexer<T>(
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

    /// Appends to this process's journal, starting one if there is none (bulk loads, tests).
    pub(super) async fn append(&self, events: &[super::NewEvent]) -> Result<()> {
        let running = lock(&self.journal).upgrade();
        let journal = match running {
            Some(journal) => journal,
            None => {
                let journal = self
                    .journal_with(super::DEFAULT_SEGMENT_BYTES, None)
                    .await?;
                *lock(&self.bulk_journal) = Some(journal.clone());
                journal
            }
        };
        for event in events {
            journal.append(event).map_err(sqlx::Error::Io)?;
        }
        Ok(())
    }

    /// One page of this trail alone, continuing after `after` (a seq in this journal), and
    /// where its index ended before the page was read (a seq past every line it holds).
    pub(super) fn lookup_blocking(
        &self,
        query: &EventQuery<'_>,
        after: Option<i64>,
    ) -> std::result::Result<(Vec<Event>, i64), IndexError> {
        self.with_indexer(|indexer| {
            let end = indexer.indexed_end()?;
            Ok((indexer.lookup(query, after)?, end))
        })
    }

    pub(super) fn prune_before_blocking(
        &self,
        cutoff_ms: i64,
    ) -> std::result::Result<u64, IndexError> {
        self.catch_up_blocking()?;
        self.with_indexer(|indexer| indexer.prune_before(cutoff_ms))
    }

    /// Bytes of this trail's journal files on disk (segments and the prepared spare).
    pub(super) fn disk_bytes(&self) -> std::io::Result<u64> {
        eviction::disk_bytes(&self.journal_dir)
    }

    /// Removes this trail's oldest fully indexed segments until `over` bytes are gone or
    /// none is left to remove; what went.
    pub(super) fn evict_blocking(&self, over: u64) -> std::result::Result<Evicted, IndexError> {
        self.catch_up_blocking()?;
        self.with_indexer(|indexer| indexer.evict_oldest(over))
    }

    pub(super) async fn close(&self) {
        self.pool.close().await;
    }
}
