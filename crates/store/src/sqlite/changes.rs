//! A change counter every process on the same database shares: `roleplane.db-changes`, eight
//! bytes mapped into memory, bumped after each committed write transaction.
//!
//! The server keeps views of stored data in memory (parsed identity policies). They must not
//! outlive a change, including one made by another process: `roleplane role revoke-sessions`
//! writes the database beside a running server, and its revocation must apply to the next
//! request. Reading a mapped counter is one atomic load, where asking SQLite would cost a trip
//! to a connection's worker thread, the very cost the views exist to avoid.
//!
//! A reader loads the counter *before* it reads the data it will keep, and a writer bumps it
//! *after* its commit, so a view is never kept under a value that is newer than its data.

use std::fs::OpenOptions;
use std::io;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};

use memmap2::{MmapOptions, MmapRaw};

const SIZE: u64 = std::mem::size_of::<u64>() as u64;

#[derive(Debug)]
pub(crate) struct ChangeCounter {
    map: MmapRaw,
}

impl ChangeCounter {
    /// Maps `path`, creating it (as zero) if absent.
    pub(crate) fn open(path: &Path) -> io::Result<Self> {
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(path)?;
        if file.metadata()?.len() < SIZE {
            file.set_len(SIZE)?;
        }
        let map = MmapOptions::new().len(SIZE as usize).map_raw(&file)?;
        Ok(Self { map })
    }

    fn cell(&self) -> &AtomicU64 {
        // SAFETY: the mapping is page-aligned, SIZE bytes long, shared with other processes only
        // through atomic operations, and lives as long as `self`. The file is never truncated
        // below SIZE (only `open` resizes it, and only upward).
        unsafe { &*self.map.as_mut_ptr().cast::<AtomicU64>() }
    }

    pub(crate) fn load(&self) -> u64 {
        self.cell().load(Ordering::Acquire)
    }

    pub(crate) fn bump(&self) {
        self.cell().fetch_add(1, Ordering::AcqRel);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn two_mappings_of_one_file_see_each_others_bumps() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("db-changes");
        let a = ChangeCounter::open(&path).unwrap();
        let b = ChangeCounter::open(&path).unwrap();
        let start = a.load();
        b.bump();
        b.bump();
        assert_eq!(a.load(), start + 2);
        drop(b);
        // Reopening keeps the count rather than resetting it.
        assert_eq!(ChangeCounter::open(&path).unwrap().load(), start + 2);
    }
}
