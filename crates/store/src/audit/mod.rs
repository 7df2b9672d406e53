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
//!
//! There are two such journals, each with its own index ([`trail`]): one for calls with an
//! authenticated caller, and `DATA_DIR/audit/unauthenticated/` (indexed in
//! `DATA_DIR/audit-unauthenticated.db`) for the rest, so a size cap can evict those first
//! ([`eviction`]). Lookups read both as one ([`merge`]). See
//! `docs/decisions/0017-audit-size-cap.md`.
//!
//! Replicas on PostgreSQL keep the trail in that database instead ([`postgres`], decision
//! 0027); [`AuditTrail`] is either, for the readers.

mod any_trail;
mod block;
mod eviction;
mod growth;
mod indexer;
pub mod journal;
mod line;
mod merge;
mod model;
mod postgres;
mod query;
mod retention;
mod trail;

use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard};

pub use any_trail::AuditTrail;
pub use eviction::Evicted;
pub use growth::Growth;
pub use indexer::{IndexError, Indexer, JournalPosition};
pub use journal::{DEFAULT_SEGMENT_BYTES, JOURNAL_DIR, Journal};
use model::OwnedQuery;
pub use model::{Event, EventFilter, EventQuery, NewEvent, Order, Position};
pub use postgres::{CommitCounts, CommitError, PgAuditLog};
use trail::Trail;

use crate::error::Result;

/// The audit database inside the data directory.
pub const AUDIT_DATABASE_FILE: &str = "audit.db";

/// The index of the journal of calls without an authenticated caller, beside `audit.db`.
pub const UNAUTHENTICATED_DATABASE_FILE: &str = "audit-unauthenticated.db";

/// That journal's directory, inside [`JOURNAL_DIR`] (whose readers only take `journal-*`).
pub const UNAUTHENTICATED_DIR: &str = "unauthenticated";

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

/// Which journal a record goes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Caller {
    /// The call had an authenticated caller.
    Authenticated,
    /// It had none: a failed authentication, an unknown key, an anonymous S3 call. Evicted
    /// first at the size cap.
    Unauthenticated,
}

/// Bytes each journal holds on disk.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct DiskUse {
    pub authenticated: u64,
    pub unauthenticated: u64,
}

impl DiskUse {
    pub fn total(self) -> u64 {
        self.authenticated + self.unauthenticated
    }
}

#[derive(Debug, Clone)]
pub struct AuditLog {
    main: Trail,
    /// `None` for a reader of a data directory whose server never made it.
    unauthenticated: Option<Trail>,
    /// Told when either journal of this process starts a segment.
    growth: Arc<Growth>,
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
        Self::connect(data_dir, true, sync).await
    }

    /// Opens an existing log without touching its schema: for readers beside a running server
    /// (`roleplane audit export`, `roleplane policy generate`). WAL lets them read while the
    /// server writes; their lookups catch the index up from the server's journal themselves.
    pub async fn open_existing(data_dir: &Path) -> Result<Self> {
        Self::connect(data_dir, false, AuditSync::default()).await
    }

    async fn connect(data_dir: &Path, create: bool, sync: AuditSync) -> Result<Self> {
        let journal_dir = data_dir.join(JOURNAL_DIR);
        let main = Trail::open(
            data_dir.join(AUDIT_DATABASE_FILE),
            journal_dir.clone(),
            sync,
            create,
        )
        .await?;
        let unauthenticated_database = data_dir.join(UNAUTHENTICATED_DATABASE_FILE);
        let unauthenticated = if create || unauthenticated_database.exists() {
            let dir = journal_dir.join(UNAUTHENTICATED_DIR);
            Some(Trail::open(unauthenticated_database, dir, sync, create).await?)
        } else {
            None
        };
        Ok(Self {
            main,
            unauthenticated,
            growth: Arc::new(Growth::default()),
        })
    }

    fn trail(&self, caller: Caller) -> Result<&Trail> {
        match caller {
            Caller::Authenticated => Ok(&self.main),
            Caller::Unauthenticated => self.unauthenticated.as_ref().ok_or_else(|| {
                sqlx::Error::Io(std::io::Error::other(
                    "this audit log was opened without its unauthenticated journal",
                ))
                .into()
            }),
        }
    }

    fn trails(&self) -> impl Iterator<Item = &Trail> {
        std::iter::once(&self.main).chain(&self.unauthenticated)
    }

    /// Starts this process's journal of authenticated calls (a new segment) at the log's
    /// [`AuditSync`]. One per process: the server's.
    pub async fn journal(&self) -> Result<Arc<Journal>> {
        self.journal_with(DEFAULT_SEGMENT_BYTES).await
    }

    /// [`AuditLog::journal`] rolling to a new segment past `segment_bytes`.
    pub async fn journal_with(&self, segment_bytes: u64) -> Result<Arc<Journal>> {
        self.journal_for(Caller::Authenticated, segment_bytes).await
    }

    /// Starts this process's journal for `caller`'s records, rolling past `segment_bytes`;
    /// its rotations are signalled on [`AuditLog::growth`].
    pub async fn journal_for(&self, caller: Caller, segment_bytes: u64) -> Result<Arc<Journal>> {
        self.trail(caller)?
            .journal_with(segment_bytes, Some(self.growth.clone()))
            .await
    }

    /// Signalled whenever one of this process's journals starts a segment.
    pub fn growth(&self) -> &Arc<Growth> {
        &self.growth
    }

    /// How far the index has read the journal of authenticated calls.
    pub async fn position(&self) -> Result<JournalPosition> {
        self.main.position().await
    }

    /// Indexes what both journals hold now; returns how many records were added. Blocks: for
    /// a thread of its own (the server's background indexer).
    pub fn catch_up_blocking(&self) -> std::result::Result<u64, IndexError> {
        let mut indexed = 0;
        for trail in self.trails() {
            indexed += trail.catch_up_blocking()?;
        }
        Ok(indexed)
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

    /// Appends `events` to this process's journal of authenticated calls (starting one if
    /// there is none): bulk loads and tests. Durable when this returns; indexed by the next
    /// catch-up.
    pub async fn append(&self, events: &[NewEvent]) -> Result<()> {
        self.append_for(Caller::Authenticated, events).await
    }

    /// [`AuditLog::append`] to `caller`'s journal.
    pub async fn append_for(&self, caller: Caller, events: &[NewEvent]) -> Result<()> {
        self.trail(caller)?.append(events).await
    }

    /// One page of events matching `query`, in its order. Ask for one more than you show to
    /// learn whether another page follows. Sees every record appended to either journal
    /// before it was called (it catches the index up first).
    pub async fn lookup(&self, query: &EventQuery<'_>) -> Result<Vec<Event>> {
        self.catch_up().await?;
        let query = OwnedQuery::from(query);
        self.blocking(move |log| log.lookup_blocking(&query.borrow()))
            .await
    }

    fn lookup_blocking(
        &self,
        query: &EventQuery<'_>,
    ) -> std::result::Result<Vec<Event>, IndexError> {
        let (main_after, unauthenticated_after) = merge::starts(query);
        let page = |trail: &Trail, after| {
            trail
                .lookup_blocking(query, after)
                .map(|(events, end)| merge::Page { events, end })
        };
        let main = page(&self.main, main_after)?;
        let unauthenticated = match &self.unauthenticated {
            Some(trail) => Some(page(trail, unauthenticated_after)?),
            None => None,
        };
        Ok(merge::merge(query, main, unauthenticated))
    }

    /// Removes every event older than `cutoff_ms` (epoch milliseconds) from the index, and
    /// the journal segments already indexed whose last write is older; returns how many
    /// events. Catches the index up first, so the count covers every appended record.
    pub async fn prune_before(&self, cutoff_ms: i64) -> Result<u64> {
        self.blocking(move |log| {
            let mut pruned = 0;
            for trail in log.trails() {
                pruned += trail.prune_before_blocking(cutoff_ms)?;
            }
            Ok(pruned)
        })
        .await
    }

    /// Bytes the journals hold on disk: a directory listing, no more (call it per segment
    /// rotation or per second, not per record).
    pub fn disk_use(&self) -> std::io::Result<DiskUse> {
        Ok(DiskUse {
            authenticated: self.main.disk_bytes()?,
            unauthenticated: match &self.unauthenticated {
                Some(trail) => trail.disk_bytes()?,
                None => 0,
            },
        })
    }

    /// Removes `caller`'s oldest indexed segments (never the active one, never what is not
    /// indexed yet) until `over` bytes are gone or none is left. Blocks.
    pub fn evict_blocking(
        &self,
        caller: Caller,
        over: u64,
    ) -> std::result::Result<Evicted, IndexError> {
        match self.trail(caller) {
            Ok(trail) => trail.evict_blocking(over),
            Err(_) => Ok(Evicted::default()),
        }
    }

    /// Waits for in-flight work and closes every connection (checkpointing the WAL).
    pub async fn close(&self) {
        for trail in self.trails() {
            trail.close().await;
        }
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // Every guarded value is whole between statements: a panic cannot leave it half-changed.
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}

#[cfg(test)]
mod tests;
#[cfg(test)]
mod two_journals_tests;
