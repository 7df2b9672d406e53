//! Copies journal lines into `audit.db`, off the request path. Each transaction inserts a
//! batch of lines and moves the recorded position past them, so the index and its position
//! never disagree, whoever runs the indexer: the server's background thread, a lookup
//! catching up before it reads, or another process (`roleplane audit export`) on the same
//! files. The position is read inside the write transaction, which serialises them all.

use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::{Connection, OpenFlags, TransactionBehavior, params};

use super::journal::segment_path;
use super::line;
use super::model::NewEvent;

#[derive(Debug, thiserror::Error)]
pub enum IndexError {
    #[error("audit index: {0}")]
    Database(#[from] rusqlite::Error),
    #[error("audit journal: {0}")]
    Journal(#[from] io::Error),
}

/// Journal bytes one transaction takes at most (a line longer than this is taken whole).
const BATCH_BYTES: usize = 1024 * 1024;

/// The same row twice cannot happen through the position; `DO NOTHING` keeps a record that
/// was also loaded through [`super::AuditLog::append`] from wedging the indexer.
const INSERT: &str = "INSERT INTO events (event_id, event_time_ms, account_id, event_source, \
     event_name, read_only, access_key_id, username, principal_arn, error_code, resources, record) \
     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12) ON CONFLICT (event_id) DO NOTHING";

/// A place in the journal: segment number, byte offset in it.
pub type JournalPosition = (u64, u64);

#[derive(Debug)]
pub struct Indexer {
    connection: Connection,
    dir: PathBuf,
    /// The position as this indexer last saw it; another process may since have moved it on.
    seen: JournalPosition,
}

impl Indexer {
    pub(super) fn open(
        database: &Path,
        dir: &Path,
        busy_timeout: Duration,
    ) -> Result<Self, IndexError> {
        let connection = Connection::open_with_flags(
            database,
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        connection.busy_timeout(busy_timeout)?;
        // The journal is the durable copy; a commit lost to power loss takes its position
        // with it and is indexed again.
        connection.pragma_update(None, "synchronous", "NORMAL")?;
        Ok(Self {
            connection,
            dir: dir.to_owned(),
            seen: (0, 0),
        })
    }

    /// Indexes everything the journal holds now; returns how many records were added.
    pub fn catch_up(&mut self) -> Result<u64, IndexError> {
        let mut indexed = 0;
        while !self.at_end()? {
            match self.step()? {
                Step::Indexed(n) => indexed += n,
                Step::Idle => break,
            }
        }
        Ok(indexed)
    }

    /// The position recorded in the index.
    pub fn position(&self) -> Result<JournalPosition, IndexError> {
        Ok(read_position(&self.connection)?)
    }

    /// Cheap check, no transaction: the last seen position is the end of the newest segment.
    fn at_end(&self) -> io::Result<bool> {
        let (segment, offset) = self.seen;
        if segment_path(&self.dir, segment + 1).exists() {
            return Ok(false);
        }
        match std::fs::metadata(segment_path(&self.dir, segment)) {
            Ok(meta) => Ok(meta.len() == offset),
            // No segment yet (a fresh or pre-journal log), or removed: nothing to read.
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(true),
            Err(e) => Err(e),
        }
    }

    /// One transaction: the next batch of complete lines, or a move to the next segment.
    fn step(&mut self) -> Result<Step, IndexError> {
        let tx = self
            .connection
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let (segment, offset) = read_position(&tx)?;
        // Checked before reading: a successor exists only once this segment is complete.
        let complete = segment_path(&self.dir, segment + 1).exists();
        let (bytes, eof) = read_from(&segment_path(&self.dir, segment), offset)?;
        let lines_end = bytes.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
        let (next, step) = if lines_end > 0 {
            let mut insert = tx.prepare_cached(INSERT)?;
            let mut added = 0;
            for line in bytes[..lines_end]
                .split(|&b| b == b'\n')
                .filter(|l| !l.is_empty())
            {
                match line::decode(line) {
                    Ok(event) => added += insert_event(&mut insert, &event)?,
                    Err(error) => {
                        tracing::warn!(%error, segment, "audit journal line not indexed: not a record")
                    }
                }
            }
            ((segment, offset + lines_end as u64), Step::Indexed(added))
        } else if eof && complete {
            if !bytes.is_empty() {
                // The end of a segment whose writer died mid-`write`: that call was never
                // acknowledged.
                tracing::warn!(
                    segment,
                    bytes = bytes.len(),
                    "torn audit journal tail skipped"
                );
            }
            ((segment + 1, 0), Step::Indexed(0))
        } else {
            self.seen = (segment, offset);
            return Ok(Step::Idle);
        };
        tx.execute(
            "UPDATE journal_position SET segment = ?1, byte_offset = ?2 WHERE id = 1",
            params![to_i64(next.0), to_i64(next.1)],
        )?;
        tx.commit()?;
        self.seen = next;
        Ok(step)
    }
}

enum Step {
    Indexed(u64),
    Idle,
}

fn insert_event(insert: &mut rusqlite::CachedStatement<'_>, e: &NewEvent) -> rusqlite::Result<u64> {
    let rows = insert.execute(params![
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
    Ok(rows as u64)
}

pub(super) fn read_position(connection: &Connection) -> rusqlite::Result<JournalPosition> {
    connection.query_row(
        "SELECT segment, byte_offset FROM journal_position WHERE id = 1",
        [],
        |row| {
            Ok((
                row.get::<_, i64>(0)?.unsigned_abs(),
                row.get::<_, i64>(1)?.unsigned_abs(),
            ))
        },
    )
}

fn to_i64(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// Reads `path` from `offset`: at least [`BATCH_BYTES`] holding a newline, or to the end
/// (then `true`). A missing segment reads as empty and ended.
fn read_from(path: &Path, offset: u64) -> io::Result<(Vec<u8>, bool)> {
    let mut file = match File::open(path) {
        Ok(file) => file,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok((Vec::new(), true)),
        Err(e) => return Err(e),
    };
    file.seek(SeekFrom::Start(offset))?;
    let mut bytes = Vec::new();
    loop {
        let start = bytes.len();
        bytes.resize(start + BATCH_BYTES, 0);
        let n = file.read(&mut bytes[start..])?;
        bytes.truncate(start + n);
        if n == 0 {
            return Ok((bytes, true));
        }
        if bytes.len() >= BATCH_BYTES && bytes.contains(&b'\n') {
            return Ok((bytes, false));
        }
    }
}
