//! Indexes the journal into `audit.db`, off the request path: each transaction folds a batch of
//! lines into their [`Block`] row and moves the recorded position past them, so the index and
//! its position never disagree, whoever runs the indexer: the server's background thread, a
//! lookup catching up before it reads, or another process (`roleplane audit export`) on the
//! same files. The position is read inside the write transaction, which serialises them all.
//!
//! Segments may be longer than what was written to them (a killed writer's preallocated
//! segment): the first NUL byte ends a segment's data, as no JSON line holds one.

use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::{Connection, OpenFlags, TransactionBehavior, params};

use super::block::{BLOCK_BYTES, Block};
use super::journal::{segment_numbers, segment_path};
use super::line::LineKeys;
use super::model::EventQuery;
use super::{eviction, model::Event, query, retention};

#[derive(Debug, thiserror::Error)]
pub enum IndexError {
    #[error("audit index: {0}")]
    Database(#[from] rusqlite::Error),
    #[error("audit journal: {0}")]
    Journal(#[from] io::Error),
}

/// Journal bytes one transaction takes at most (a line longer than this is taken whole).
const BATCH_BYTES: usize = 1024 * 1024;

/// A place in the journal: segment number, byte offset in it.
pub type JournalPosition = (u64, u64);

#[derive(Debug)]
pub struct Indexer {
    connection: Connection,
    dir: PathBuf,
    /// Journal bytes read by the last step, kept so each step reuses the allocation.
    buffer: Vec<u8>,
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
            buffer: Vec::new(),
            seen: (0, 0),
        })
    }

    /// Indexes the next batch of the journal; `None` once its end is reached. Callers that
    /// share the indexer take it for one step at a time (`AuditLog::catch_up_blocking`).
    pub fn step_unless_at_end(&mut self) -> Result<Option<u64>, IndexError> {
        if self.at_end()? {
            return Ok(None);
        }
        Ok(match self.step()? {
            Step::Indexed(n) => Some(n),
            Step::Idle => None,
        })
    }

    /// One page of `query` in this journal, continuing after its place `after` (see
    /// [`super::AuditLog::lookup`]); does not catch up.
    pub fn lookup(
        &self,
        query: &EventQuery<'_>,
        after: Option<i64>,
    ) -> Result<Vec<Event>, IndexError> {
        query::lookup(&self.connection, &self.dir, query, after)
    }

    /// The seq where the indexed part of the journal ends: every indexed line is before it.
    pub fn indexed_end(&self) -> Result<i64, IndexError> {
        let (segment, offset) = read_position(&self.connection)?;
        Ok(query::seq(segment, offset))
    }

    /// Removes the oldest indexed segments until `over` bytes are gone or none is left.
    pub fn evict_oldest(&mut self, over: u64) -> Result<eviction::Evicted, IndexError> {
        eviction::evict_oldest(&mut self.connection, &self.dir, over)
    }

    /// Hides or removes every record older than `cutoff_ms`; returns how many.
    pub fn prune_before(&mut self, cutoff_ms: i64) -> Result<u64, IndexError> {
        retention::prune(&mut self.connection, &self.dir, cutoff_ms)
    }

    /// Cheap check, no transaction: the last seen position is the end of the newest segment.
    fn at_end(&self) -> io::Result<bool> {
        let (segment, offset) = self.seen;
        if segment_path(&self.dir, segment + 1).exists() {
            return Ok(false);
        }
        let mut file = match File::open(segment_path(&self.dir, segment)) {
            Ok(file) => file,
            // No segment yet (a fresh log), or removed: nothing to read unless a later one
            // exists, which only a transaction's look at the directory settles.
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                return Ok(
                    !segment_numbers(&self.dir).is_ok_and(|n| n.iter().any(|&n| n > segment))
                );
            }
            Err(e) => return Err(e),
        };
        file.seek(SeekFrom::Start(offset))?;
        let mut next = [0u8; 1];
        Ok(matches!(file.read(&mut next)?, 0) || next[0] == 0)
    }

    /// One transaction: the next batch of complete lines, or a move to the next segment.
    fn step(&mut self) -> Result<Step, IndexError> {
        let Self {
            connection,
            dir,
            buffer,
            seen,
        } = self;
        let tx = connection.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let (segment, offset) = read_position(&tx)?;
        // Checked before reading: a successor exists only once this segment is complete.
        let complete = segment_path(dir, segment + 1).exists();
        let read = read_from(&segment_path(dir, segment), offset, buffer)?;
        index_batch(tx, dir, seen, (segment, offset), complete, buffer, read)
    }
}

/// The part of [`Indexer::step`] after reading: `read` is `None` for a missing segment, else
/// whether `bytes` reached the end of the segment's data.
fn index_batch(
    tx: rusqlite::Transaction<'_>,
    dir: &Path,
    seen: &mut JournalPosition,
    (segment, offset): JournalPosition,
    complete: bool,
    bytes: &[u8],
    read: Option<bool>,
) -> Result<Step, IndexError> {
    let Some(eof) = read else {
        // Removed by retention, or never there (numbering starts above 0): go on to the
        // next segment on disk, if any.
        let next = segment_numbers(dir)?.into_iter().find(|&n| n > segment);
        let Some(next) = next else {
            *seen = (segment, offset);
            return Ok(Step::Idle);
        };
        return commit(tx, seen, (next, 0), 0);
    };
    let lines_end = memchr::memrchr(b'\n', bytes).map_or(0, |i| i + 1);
    if lines_end > 0 {
        let mut block = match last_block(&tx, segment)? {
            Some(block)
                if block.end == offset
                    && block.end - block.start < BLOCK_BYTES
                    && block.pruned_before_ms.is_none() =>
            {
                block
            }
            _ => Block::empty(segment, offset),
        };
        let before = block.records;
        let mut start = 0;
        for end in memchr::memchr_iter(b'\n', &bytes[..lines_end]) {
            let line = &bytes[start..end];
            start = end + 1;
            if line.is_empty() {
                continue;
            }
            match LineKeys::parse(line) {
                Ok(line) => block.add(&line),
                Err(error) => {
                    tracing::warn!(%error, segment, "audit journal line not indexed: not a record");
                }
            }
        }
        block.end = offset + lines_end as u64;
        let added = block.records - before;
        if block.records > 0 {
            save_block(&tx, &block)?;
        }
        commit(tx, seen, (segment, block.end), added)
    } else if eof && complete {
        if !bytes.is_empty() {
            // The end of a segment whose writer died mid-line: that call was never
            // acknowledged.
            tracing::warn!(
                segment,
                bytes = bytes.len(),
                "torn audit journal tail skipped"
            );
        }
        commit(tx, seen, (segment + 1, 0), 0)
    } else {
        *seen = (segment, offset);
        Ok(Step::Idle)
    }
}

/// Moves the recorded position to `next` in `tx` and commits.
fn commit(
    tx: rusqlite::Transaction<'_>,
    seen: &mut JournalPosition,
    next: JournalPosition,
    added: u64,
) -> Result<Step, IndexError> {
    tx.execute(
        "UPDATE journal_position SET segment = ?1, byte_offset = ?2 WHERE id = 1",
        params![to_i64(next.0), to_i64(next.1)],
    )?;
    tx.commit()?;
    *seen = next;
    Ok(Step::Indexed(added))
}

enum Step {
    Indexed(u64),
    Idle,
}

pub(super) const BLOCK_COLUMNS: &str = "segment, start_offset, end_offset, records, min_time_ms, \
     max_time_ms, keys, pruned_before_ms";

/// A `blocks` row selected with [`BLOCK_COLUMNS`].
pub(super) fn block_from_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<Block> {
    let keys: String = row.get(6)?;
    Ok(Block {
        segment: row.get::<_, i64>(0)?.unsigned_abs(),
        start: row.get::<_, i64>(1)?.unsigned_abs(),
        end: row.get::<_, i64>(2)?.unsigned_abs(),
        records: row.get::<_, i64>(3)?.unsigned_abs(),
        min_time_ms: row.get(4)?,
        max_time_ms: row.get(5)?,
        // Only this module writes them; a row it cannot read matches anything.
        keys: serde_json::from_str(&keys).unwrap_or_else(|_| super::block::Keys::anything()),
        pruned_before_ms: row.get(7)?,
    })
}

fn last_block(connection: &Connection, segment: u64) -> rusqlite::Result<Option<Block>> {
    let mut select = connection.prepare_cached(&format!(
        "SELECT {BLOCK_COLUMNS} FROM blocks WHERE segment = ?1 ORDER BY start_offset DESC LIMIT 1"
    ))?;
    let mut rows = select.query_map([to_i64(segment)], block_from_row)?;
    rows.next().transpose()
}

pub(super) fn save_block(connection: &Connection, block: &Block) -> rusqlite::Result<()> {
    let keys = serde_json::to_string(&block.keys).unwrap_or_default();
    connection
        .prepare_cached(&format!(
            "INSERT OR REPLACE INTO blocks ({BLOCK_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)"
        ))?
        .execute(params![
            to_i64(block.segment),
            to_i64(block.start),
            to_i64(block.end),
            to_i64(block.records),
            block.min_time_ms,
            block.max_time_ms,
            keys,
            block.pruned_before_ms,
        ])?;
    Ok(())
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

pub(super) fn to_i64(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// Reads `path` from `offset` into `bytes` (replacing what it held): at least [`BATCH_BYTES`]
/// holding a newline, or to the end of its data (then `Some(true)`), which is the end of the
/// file or its first NUL byte. `None` if the segment does not exist.
fn read_from(path: &Path, offset: u64, bytes: &mut Vec<u8>) -> io::Result<Option<bool>> {
    bytes.clear();
    let mut file = match File::open(path) {
        Ok(file) => file,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e),
    };
    file.seek(SeekFrom::Start(offset))?;
    loop {
        let start = bytes.len();
        let n = (&mut file).take(BATCH_BYTES as u64).read_to_end(bytes)?;
        if let Some(nul) = memchr::memchr(0, &bytes[start..]) {
            bytes.truncate(start + nul);
            return Ok(Some(true));
        }
        if n < BATCH_BYTES {
            return Ok(Some(true));
        }
        if bytes.contains(&b'\n') {
            return Ok(Some(false));
        }
    }
}
