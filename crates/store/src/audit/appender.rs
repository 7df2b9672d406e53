//! The audit log's write path: one SQLite connection owned by one thread, its INSERT prepared
//! once, a batch per transaction. Synchronous on purpose: the caller is a dedicated writer
//! thread, so a batch costs no async hand-offs, only SQLite's own work.

use std::path::Path;
use std::time::Duration;

use rusqlite::{Connection, OpenFlags, TransactionBehavior, params};

use super::model::NewEvent;

/// How far a commit pushes its records toward the disk before it returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum AuditSync {
    /// The commit writes the WAL (`write(2)`) without fsync: a record survives the death of
    /// the process, not a power loss before the next checkpoint.
    #[default]
    Normal,
    /// Every commit fsyncs the WAL: a record survives power loss too.
    Full,
}

impl AuditSync {
    /// The value of SQLite's `synchronous` pragma in WAL mode.
    pub(super) fn pragma(self) -> &'static str {
        match self {
            AuditSync::Normal => "NORMAL",
            AuditSync::Full => "FULL",
        }
    }
}

#[derive(Debug, thiserror::Error)]
#[error("audit log write failed: {0}")]
pub struct AppendError(#[from] rusqlite::Error);

const INSERT: &str = "INSERT INTO events (event_id, event_time_ms, account_id, event_source, \
     event_name, read_only, access_key_id, username, principal_arn, error_code, resources, record) \
     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)";

/// WAL pages (4 KiB) past which the writer checkpoints itself: 64 MiB.
const WRITER_CHECKPOINT_PAGES: i64 = 16_384;

/// Copies the WAL into the database off the request path: a checkpoint fsyncs, and a writer
/// that paid for it would hold up every request of its batch.
#[derive(Debug)]
pub struct Checkpointer {
    connection: Connection,
}

impl Checkpointer {
    pub(super) fn open(path: &Path, busy_timeout: Duration) -> Result<Self, AppendError> {
        let connection = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        connection.busy_timeout(busy_timeout)?;
        connection.pragma_update(None, "wal_autocheckpoint", 0)?;
        Ok(Self { connection })
    }

    /// Checkpoints what the WAL holds without waiting for the writer or readers (`PASSIVE`);
    /// returns the frames copied.
    pub fn checkpoint(&self) -> Result<i64, AppendError> {
        Ok(self
            .connection
            .query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |row| row.get(2))?)
    }
}

/// The single writer of an audit log. Not `Sync`: give it to one thread.
#[derive(Debug)]
pub struct Appender {
    connection: Connection,
}

impl Appender {
    /// Opens the log at `path`, which [`super::AuditLog::open`] has created and migrated
    /// (WAL mode is a property of the file, so it holds here too).
    pub(super) fn open(
        path: &Path,
        sync: AuditSync,
        busy_timeout: Duration,
        cache_kib: u32,
    ) -> Result<Self, AppendError> {
        let connection = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        connection.busy_timeout(busy_timeout)?;
        connection.pragma_update(None, "synchronous", sync.pragma())?;
        connection.pragma_update(None, "cache_size", -i64::from(cache_kib))?;
        // Checkpoints (which fsync) belong to the [`Checkpointer`]; the writer checkpoints
        // only if the WAL outgrows this, when the checkpointer cannot keep up.
        connection.pragma_update(None, "wal_autocheckpoint", WRITER_CHECKPOINT_PAGES)?;
        Ok(Self { connection })
    }

    /// Appends `events` in one transaction; committed (at the log's [`AuditSync`] level) when
    /// this returns.
    pub fn append<'a>(
        &mut self,
        events: impl IntoIterator<Item = &'a NewEvent>,
    ) -> Result<(), AppendError> {
        let tx = self
            .connection
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        {
            let mut insert = tx.prepare_cached(INSERT)?;
            for e in events {
                insert.execute(params![
                    e.event_id,
                    e.event_time_ms,
                    e.account_id,
                    e.event_source,
                    e.event_name,
                    e.read_only,
                    e.access_key_id,
                    e.username,
                    e.principal_arn,
                    e.error_code,
                    e.resources,
                    e.record,
                ])?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    /// SQLite's `synchronous` on this connection (1 = NORMAL, 2 = FULL).
    #[cfg(test)]
    pub(super) fn synchronous(&self) -> rusqlite::Result<i64> {
        self.connection
            .query_row("PRAGMA synchronous", [], |row| row.get(0))
    }
}
