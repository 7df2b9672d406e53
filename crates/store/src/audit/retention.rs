//! Retention for the journal: a segment goes once the indexer has moved past it and its last
//! write is older than the cut-off. Records are written when their call ends, after their
//! event time, so every record of such a segment is older than the cut-off too.

use std::io;
use std::path::Path;
use std::time::{Duration, UNIX_EPOCH};

use super::journal::{segment_numbers, segment_path};

/// Removes the fully indexed segments (numbered below `indexed_segment`) last written before
/// `cutoff_ms`; returns how many.
pub(super) fn remove_segments(dir: &Path, indexed_segment: u64, cutoff_ms: i64) -> io::Result<u64> {
    let numbers = match segment_numbers(dir) {
        Ok(numbers) => numbers,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(0),
        Err(e) => return Err(e),
    };
    let cutoff = UNIX_EPOCH + Duration::from_millis(cutoff_ms.max(0).unsigned_abs());
    let mut removed = 0;
    for number in numbers.into_iter().filter(|&n| n < indexed_segment) {
        let path = segment_path(dir, number);
        if std::fs::metadata(&path)?.modified()? < cutoff {
            std::fs::remove_file(&path)?;
            removed += 1;
        }
    }
    Ok(removed)
}
