//! Eviction for the size cap: a trail's oldest segments, whole, once the indexer has moved past
//! them (never the active segment, never bytes not yet indexed). The rows of their blocks go in
//! the same transaction; the file is removed first, so a death in between leaves rows whose
//! segment is missing, which lookups and the indexer already treat as removed.

use std::io;
use std::path::Path;

use rusqlite::{Connection, TransactionBehavior};

use super::indexer::{IndexError, read_position, to_i64};
use super::journal::{segment_numbers, segment_path};

/// What an eviction removed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Evicted {
    pub segments: u64,
    pub bytes: u64,
    /// Records the index counted in the removed segments.
    pub records: u64,
    /// Event-time span of those records, epoch milliseconds.
    pub oldest_ms: Option<i64>,
    pub newest_ms: Option<i64>,
}

impl Evicted {
    pub fn add(&mut self, other: Evicted) {
        self.segments += other.segments;
        self.bytes += other.bytes;
        self.records += other.records;
        self.oldest_ms = either(self.oldest_ms, other.oldest_ms, i64::min);
        self.newest_ms = either(self.newest_ms, other.newest_ms, i64::max);
    }
}

/// `pick` of both when both are known, else whichever is.
fn either(a: Option<i64>, b: Option<i64>, pick: fn(i64, i64) -> i64) -> Option<i64> {
    match (a, b) {
        (Some(a), Some(b)) => Some(pick(a, b)),
        (a, b) => a.or(b),
    }
}

/// Bytes of the journal files in `dir`: segments, and spares prepared ahead (full size).
pub(super) fn disk_bytes(dir: &Path) -> io::Result<u64> {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(0),
        Err(e) => return Err(e),
    };
    let mut bytes = 0;
    for entry in entries {
        let entry = entry?;
        let journal_file = entry
            .file_name()
            .to_str()
            .is_some_and(|n| n.starts_with("journal-"));
        if !journal_file {
            continue;
        }
        match entry.metadata() {
            Ok(meta) if meta.is_file() => bytes += meta.len(),
            Ok(_) => {}
            // Removed meanwhile (a rotation renamed a spare, retention removed a segment).
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(e),
        }
    }
    Ok(bytes)
}

/// Removes the oldest fully indexed segments of the journal in `dir` until at least `over`
/// bytes are gone or none is left; one transaction per segment.
pub(super) fn evict_oldest(
    connection: &mut Connection,
    dir: &Path,
    over: u64,
) -> Result<Evicted, IndexError> {
    let mut evicted = Evicted::default();
    let numbers = match segment_numbers(dir) {
        Ok(numbers) => numbers,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(evicted),
        Err(e) => return Err(e.into()),
    };
    for number in numbers {
        if evicted.bytes >= over {
            break;
        }
        let tx = connection.transaction_with_behavior(TransactionBehavior::Immediate)?;
        // Segments below the indexer's are complete and indexed: the active segment and
        // anything not yet indexed are at or past it.
        let (indexed_segment, _) = read_position(&tx)?;
        if number >= indexed_segment {
            break;
        }
        let path = segment_path(dir, number);
        let bytes = match std::fs::metadata(&path) {
            Ok(meta) => meta.len(),
            Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
            Err(e) => return Err(e.into()),
        };
        let (records, oldest_ms, newest_ms): (i64, Option<i64>, Option<i64>) = tx.query_row(
            "SELECT COALESCE(SUM(records), 0), MIN(min_time_ms), MAX(max_time_ms) \
             FROM blocks WHERE segment = ?1",
            [to_i64(number)],
            |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)),
        )?;
        std::fs::remove_file(&path)?;
        tx.execute("DELETE FROM blocks WHERE segment = ?1", [to_i64(number)])?;
        tx.commit()?;
        evicted.add(Evicted {
            segments: 1,
            bytes,
            records: records.unsigned_abs(),
            oldest_ms,
            newest_ms,
        });
    }
    Ok(evicted)
}
