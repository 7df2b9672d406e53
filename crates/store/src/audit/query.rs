//! Pages over the audit log in journal order (the order records became durable), continued
//! from a [`Position`] rather than an offset so page N costs what page 1 does. The index names
//! the blocks that can hold a match (time span, attribute values); their lines are read from
//! the journal and filtered here.

use std::fs::File;
use std::io;
use std::os::unix::fs::FileExt;
use std::path::Path;

use rusqlite::{Connection, params};

use super::block::{Block, matches};
use super::indexer::{BLOCK_COLUMNS, IndexError, block_from_row, to_i64};
use super::journal::segment_path;
use super::line::{LineKeys, LineRef};
use super::model::{Event, EventFilter, EventQuery, Order};

/// Block rows fetched per round trip.
const BLOCKS_PER_QUERY: i64 = 64;

/// Bits of a `seq` holding the byte offset in its segment; the segment number sits above.
const OFFSET_BITS: u32 = 40;

/// The `seq` (journal place) of the line at `offset` in `segment`.
pub(super) fn seq(segment: u64, offset: u64) -> i64 {
    to_i64((segment << OFFSET_BITS) | (offset & ((1 << OFFSET_BITS) - 1)))
}

fn place(seq: i64) -> (i64, i64) {
    (seq >> OFFSET_BITS, seq & ((1 << OFFSET_BITS) - 1))
}

/// One page of `query` from this journal, continuing after its place `after` (a seq); the
/// query's own `after` is the caller's to translate (it spans both journals).
pub(super) fn lookup(
    connection: &Connection,
    dir: &Path,
    query: &EventQuery<'_>,
    after: Option<i64>,
) -> Result<Vec<Event>, IndexError> {
    let Some(span) = TimeSpan::of(query) else {
        return Ok(Vec::new());
    };
    let newest_first = query.order == Order::NewestFirst;
    let mut found = Vec::new();
    // The last block read: the next round trip continues past it.
    let mut cursor: Option<(i64, i64)> = None;
    while found.len() < query.limit as usize {
        let blocks = next_blocks(connection, span, newest_first, after, cursor)?;
        let Some(last) = blocks.last() else { break };
        cursor = Some((to_i64(last.segment), to_i64(last.start)));
        let exhausted = blocks.len() < BLOCKS_PER_QUERY as usize;
        for block in &blocks {
            if !block.keys.may_match(query.account_id, query.filter)
                || (query.management_only && !block.keys.may_hold_management())
            {
                continue;
            }
            scan(dir, block, query, span, after, &mut found)?;
            if found.len() >= query.limit as usize {
                break;
            }
        }
        if exhausted {
            break;
        }
    }
    Ok(found)
}

/// Inclusive event-time bounds, narrowed by a time-ordered (version 7) event ID.
#[derive(Debug, Clone, Copy)]
pub(super) struct TimeSpan {
    pub from_ms: i64,
    pub to_ms: i64,
}

impl TimeSpan {
    /// The span `query` can match in; `None` when it can match nothing.
    pub fn of(query: &EventQuery<'_>) -> Option<Self> {
        let mut span = Self {
            from_ms: query.start_ms.unwrap_or(i64::MIN),
            to_ms: query.end_ms.unwrap_or(i64::MAX),
        };
        if let Some(EventFilter::EventId(id)) = query.filter
            && let Some(ms) = uuid_v7_ms(id)
        {
            span.from_ms = span.from_ms.max(ms);
            span.to_ms = span.to_ms.min(ms);
        }
        (span.from_ms <= span.to_ms && query.limit > 0).then_some(span)
    }

    fn holds(self, time_ms: i64) -> bool {
        (self.from_ms..=self.to_ms).contains(&time_ms)
    }
}

/// The milliseconds a version 7 UUID starts with; `None` for any other ID.
fn uuid_v7_ms(id: &str) -> Option<i64> {
    let bytes = id.as_bytes();
    if bytes.len() != 36 || bytes[14] != b'7' || bytes[8] != b'-' {
        return None;
    }
    let hex = format!("{}{}", id.get(..8)?, id.get(9..13)?);
    i64::from_str_radix(&hex, 16).ok()
}

/// The next blocks in `query`'s order that overlap `span` and can hold a line past `after`.
fn next_blocks(
    connection: &Connection,
    span: TimeSpan,
    newest_first: bool,
    after: Option<i64>,
    cursor: Option<(i64, i64)>,
) -> rusqlite::Result<Vec<Block>> {
    let sql = if newest_first {
        // A block starting before `after` holds lines before it.
        format!(
            "SELECT {BLOCK_COLUMNS} FROM blocks WHERE max_time_ms >= ?1 AND min_time_ms <= ?2 \
             AND (segment, start_offset) < (?3, ?4) AND (segment, start_offset) < (?5, ?6) \
             ORDER BY segment DESC, start_offset DESC LIMIT ?7"
        )
    } else {
        // A block ending after `after` holds lines after it.
        format!(
            "SELECT {BLOCK_COLUMNS} FROM blocks WHERE max_time_ms >= ?1 AND min_time_ms <= ?2 \
             AND (segment, end_offset) > (?3, ?4) AND (segment, start_offset) > (?5, ?6) \
             ORDER BY segment, start_offset LIMIT ?7"
        )
    };
    let unbounded = if newest_first {
        (i64::MAX, i64::MAX)
    } else {
        (-1, -1)
    };
    let after = after.map_or(unbounded, place);
    let cursor = cursor.unwrap_or(unbounded);
    let mut select = connection.prepare_cached(&sql)?;
    let rows = select.query_map(
        params![
            span.from_ms,
            span.to_ms,
            after.0,
            after.1,
            cursor.0,
            cursor.1,
            BLOCKS_PER_QUERY
        ],
        block_from_row,
    )?;
    rows.collect()
}

/// Adds `block`'s lines that answer `query` to `found`, in the query's order, until the page
/// is full.
fn scan(
    dir: &Path,
    block: &Block,
    query: &EventQuery<'_>,
    span: TimeSpan,
    after: Option<i64>,
    found: &mut Vec<Event>,
) -> Result<(), IndexError> {
    let Some(bytes) = read_block(dir, block)? else {
        return Ok(());
    };
    let mut lines = Vec::new();
    let mut start = 0;
    for end in memchr::memchr_iter(b'\n', &bytes) {
        lines.push((block.start + start as u64, &bytes[start..end]));
        start = end + 1;
    }
    let newest_first = query.order == Order::NewestFirst;
    if newest_first {
        lines.reverse();
    }
    for (offset, line) in lines {
        let seq = seq(block.segment, offset);
        let past = match after {
            None => true,
            Some(after) if newest_first => seq < after,
            Some(after) => seq > after,
        };
        if !past || line.is_empty() {
            continue;
        }
        // The columns decide; only a kept line is read whole.
        let Ok(keys) = LineKeys::parse(line) else {
            continue;
        };
        if !(span.holds(keys.event_time_ms)
            && block.keeps(keys.event_time_ms)
            && (keys.management || !query.management_only)
            && matches(&keys, query.account_id, query.filter))
        {
            continue;
        }
        if let Ok(line) = LineRef::parse(line) {
            found.push(Event::new(seq, line.to_event()));
            if found.len() >= query.limit as usize {
                break;
            }
        }
    }
    Ok(())
}

/// A block's bytes; `None` if retention removed its segment meanwhile.
pub(super) fn read_block(dir: &Path, block: &Block) -> io::Result<Option<Vec<u8>>> {
    let file = match File::open(segment_path(dir, block.segment)) {
        Ok(file) => file,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e),
    };
    let len = usize::try_from(block.end - block.start).map_err(io::Error::other)?;
    let mut bytes = vec![0; len];
    file.read_exact_at(&mut bytes, block.start)?;
    Ok(Some(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_seq_orders_like_its_place_in_the_journal() {
        assert!(seq(1, (1 << 40) - 1) < seq(2, 0));
        assert_eq!(place(seq(7, 12345)), (7, 12345));
    }

    #[test]
    fn only_version_7_ids_carry_a_time() {
        assert_eq!(
            uuid_v7_ms("01a20437-5658-7bd9-8824-06884caefe1a"),
            Some(1_795_367_065_176)
        );
        assert_eq!(uuid_v7_ms("00000000-0000-4000-8000-000000000003"), None);
        assert_eq!(uuid_v7_ms("short"), None);
    }
}
