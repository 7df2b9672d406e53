//! Retention. A block entirely older than the cut-off loses its row; one straddling it keeps
//! its row and hides its older lines. A segment goes once the indexer has moved past it and
//! its last write is older than the cut-off: records are written when their call ends, after
//! their event time, so every record of such a segment is older too.

use std::io;
use std::path::Path;
use std::time::{Duration, UNIX_EPOCH};

use rusqlite::{Connection, TransactionBehavior, params};

use super::block::Block;
use super::indexer::{
    BLOCK_COLUMNS, IndexError, block_from_row, read_position, save_block, to_i64,
};
use super::journal::{segment_numbers, segment_path};
use super::line::LineKeys;
use super::query::read_block;

/// Hides or removes every indexed record older than `cutoff_ms`, and removes old segments;
/// returns how many records.
pub(super) fn prune(
    connection: &mut Connection,
    dir: &Path,
    cutoff_ms: i64,
) -> Result<u64, IndexError> {
    let tx = connection.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let blocks: Vec<Block> = tx
        .prepare(&format!(
            "SELECT {BLOCK_COLUMNS} FROM blocks WHERE min_time_ms < ?1 \
             AND (pruned_before_ms IS NULL OR pruned_before_ms < ?1)"
        ))?
        .query_map([cutoff_ms], block_from_row)?
        .collect::<rusqlite::Result<_>>()?;
    let mut pruned = 0;
    for mut block in blocks {
        let hidden_before = block.pruned_before_ms.unwrap_or(i64::MIN);
        pruned += if block.pruned_before_ms.is_none() && block.max_time_ms < cutoff_ms {
            block.records
        } else {
            count_between(dir, &block, hidden_before, cutoff_ms)?
        };
        if block.max_time_ms < cutoff_ms {
            tx.execute(
                "DELETE FROM blocks WHERE segment = ?1 AND start_offset = ?2",
                params![to_i64(block.segment), to_i64(block.start)],
            )?;
        } else {
            block.pruned_before_ms = Some(cutoff_ms);
            save_block(&tx, &block)?;
        }
    }
    let (indexed_segment, _) = read_position(&tx)?;
    for segment in remove_segments(dir, indexed_segment, cutoff_ms)? {
        tx.execute("DELETE FROM blocks WHERE segment = ?1", [to_i64(segment)])?;
    }
    tx.commit()?;
    Ok(pruned)
}

/// How many of `block`'s records have `from_ms <= time < to_ms`.
fn count_between(dir: &Path, block: &Block, from_ms: i64, to_ms: i64) -> io::Result<u64> {
    let Some(bytes) = read_block(dir, block)? else {
        return Ok(0);
    };
    let count = bytes
        .split(|&b| b == b'\n')
        .filter_map(|line| LineKeys::parse(line).ok())
        .filter(|line| (from_ms..to_ms).contains(&line.event_time_ms))
        .count();
    Ok(count as u64)
}

/// Removes the fully indexed segments (numbered below `indexed_segment`) last written before
/// `cutoff_ms`; returns their numbers.
fn remove_segments(dir: &Path, indexed_segment: u64, cutoff_ms: i64) -> io::Result<Vec<u64>> {
    let numbers = match segment_numbers(dir) {
        Ok(numbers) => numbers,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e),
    };
    let cutoff = UNIX_EPOCH + Duration::from_millis(cutoff_ms.max(0).unsigned_abs());
    let mut removed = Vec::new();
    for number in numbers.into_iter().filter(|&n| n < indexed_segment) {
        let path = segment_path(dir, number);
        if std::fs::metadata(&path)?.modified()? < cutoff {
            std::fs::remove_file(&path)?;
            removed.push(number);
        }
    }
    Ok(removed)
}
