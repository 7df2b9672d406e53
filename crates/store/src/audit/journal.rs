//! The audit trail's durability point: an append-only journal of records, one line each, in
//! numbered segment files `DATA_DIR/audit/journal-<n>.jsonl`.
//!
//! A record is appended by the request's own thread with one `write(2)` before its response
//! leaves: once that returns the bytes are in the kernel's page cache and survive the death
//! of the process. [`AuditSync::Full`] also `fdatasync`s, grouped: a thread that finds its
//! bytes already covered by another's sync returns without one.
//!
//! Writers hold a mutex for the `write` alone (~1–2 µs for a record): a short write (disk
//! full) can then be finished without another record landing in the middle of it, and a
//! segment is complete once its successor exists (rotation happens under the same mutex),
//! which is how the indexer knows it may move on.

use std::fs::{File, OpenOptions};
use std::io;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};

use super::AuditSync;
use super::line;
use super::model::NewEvent;

/// The directory of the segments inside the data directory.
pub const JOURNAL_DIR: &str = "audit";

/// A segment is closed and the next one started past this size.
pub const DEFAULT_SEGMENT_BYTES: u64 = 64 * 1024 * 1024;

/// Segment `number`'s file. Zero-padded so names sort in number order.
pub(super) fn segment_path(dir: &Path, number: u64) -> PathBuf {
    dir.join(format!("journal-{number:012}.jsonl"))
}

/// The numbers of the segments in `dir`, ascending.
pub(super) fn segment_numbers(dir: &Path) -> io::Result<Vec<u64>> {
    let mut numbers = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let name = entry?.file_name();
        let number = name
            .to_str()
            .and_then(|n| n.strip_prefix("journal-"))
            .and_then(|n| n.strip_suffix(".jsonl"))
            .and_then(|n| n.parse::<u64>().ok());
        numbers.extend(number);
    }
    numbers.sort_unstable();
    Ok(numbers)
}

/// The append side of the journal. One per process: it starts a fresh segment when opened,
/// so a record torn by the previous process's death ends a segment nobody appends to.
#[derive(Debug)]
pub struct Journal {
    dir: PathBuf,
    sync: AuditSync,
    segment_bytes: u64,
    active: Mutex<Active>,
    /// Where the last `fdatasync` reached: (segment, bytes). Only [`AuditSync::Full`] uses it.
    synced: Mutex<(u64, u64)>,
}

#[derive(Debug)]
struct Active {
    number: u64,
    /// Shared with a grouped `fdatasync`, which runs outside this lock.
    file: Arc<File>,
    len: u64,
}

impl Journal {
    /// Starts segment (newest + 1) in `dir`, creating `dir` if needed. `first` is the lowest
    /// number to use (the indexer's position, in case every segment was removed).
    pub(super) fn open(
        dir: &Path,
        first: u64,
        sync: AuditSync,
        segment_bytes: u64,
    ) -> io::Result<Self> {
        std::fs::create_dir_all(dir)?;
        let newest = segment_numbers(dir)?.last().copied().unwrap_or(0);
        let number = (newest + 1).max(first);
        let file = Arc::new(create_segment(dir, number, sync)?);
        Ok(Self {
            dir: dir.to_owned(),
            sync,
            segment_bytes: segment_bytes.max(1),
            active: Mutex::new(Active {
                number,
                file,
                len: 0,
            }),
            synced: Mutex::new((number, 0)),
        })
    }

    /// Appends `event`; durable (at the journal's [`AuditSync`]) when this returns. Blocks for
    /// a `write(2)` to the page cache, plus an `fdatasync` at [`AuditSync::Full`].
    pub fn append(&self, event: &NewEvent) -> io::Result<()> {
        thread_local! {
            static LINE: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
        }
        LINE.with_borrow_mut(|buffer| {
            buffer.clear();
            line::encode(event, buffer);
            let end = self.write(buffer)?;
            if self.sync == AuditSync::Full {
                self.sync_through(end)?;
            }
            Ok(())
        })
    }

    /// Writes one whole line; returns (segment, end offset) of it.
    fn write(&self, line: &[u8]) -> io::Result<(u64, u64)> {
        let mut active = self.lock_active();
        if active.len > 0 && active.len + line.len() as u64 > self.segment_bytes {
            self.rotate(&mut active)?;
        }
        // At the offset we hold, not O_APPEND: a positioned write skips the kernel's
        // file-position lock, which threads sharing the file would contend on.
        let written = active.file.write_at(line, active.len)?;
        active.len += written as u64;
        if written < line.len() {
            // Disk full or a file size limit: finish the line or leave it torn at the end of
            // this segment, where the indexer drops it, and continue in a new one.
            if let Err(error) = active.file.write_all_at(&line[written..], active.len) {
                self.rotate(&mut active)?;
                return Err(error);
            }
            active.len += (line.len() - written) as u64;
        }
        Ok((active.number, active.len))
    }

    fn rotate(&self, active: &mut MutexGuard<'_, Active>) -> io::Result<()> {
        if self.sync == AuditSync::Full {
            active.file.sync_data()?;
        }
        let number = active.number + 1;
        active.file = Arc::new(create_segment(&self.dir, number, self.sync)?);
        active.number = number;
        active.len = 0;
        Ok(())
    }

    /// Group `fdatasync`: one thread syncs everything written so far, the threads queued
    /// behind it find their bytes covered and return.
    fn sync_through(&self, (segment, end): (u64, u64)) -> io::Result<()> {
        let mut synced = self.synced.lock().unwrap_or_else(|e| e.into_inner());
        if *synced >= (segment, end) {
            return Ok(());
        }
        let (number, len, file) = {
            let active = self.lock_active();
            (active.number, active.len, Arc::clone(&active.file))
        };
        // A rotation synced the older segment before leaving it.
        file.sync_data()?;
        *synced = (number, len);
        Ok(())
    }

    fn lock_active(&self) -> MutexGuard<'_, Active> {
        // A panic while holding the lock cannot leave `Active` inconsistent with the file.
        self.active.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The segment being appended to.
    pub fn active_segment(&self) -> u64 {
        self.lock_active().number
    }
}

fn create_segment(dir: &Path, number: u64, sync: AuditSync) -> io::Result<File> {
    let file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(segment_path(dir, number))?;
    if sync == AuditSync::Full {
        // The new name must survive a power loss too.
        File::open(dir)?.sync_all()?;
    }
    Ok(file)
}
