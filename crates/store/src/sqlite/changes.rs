//! The change counters every process on the same database shares: `roleplane.db-changes`,
//! three 8-byte cells mapped into memory (any commit, IAM commits, EC2 commits), bumped after
//! each committed write transaction. This is the store's one change-notification mechanism
//! ([`crate::Changes`]); decision 0006 says how a second backend provides the same.
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

use crate::model::{Changes, Topic};

/// Cells: 0 any commit, 1 IAM, 2 EC2, 3 S3 buckets, 4 S3 objects.
const CELLS: usize = 5;
const SIZE: u64 = (CELLS * std::mem::size_of::<u64>()) as u64;

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

    fn cell(&self, index: usize) -> &AtomicU64 {
        debug_assert!(index < CELLS);
        // SAFETY: the mapping is page-aligned, SIZE bytes long, shared with other processes only
        // through atomic operations, and lives as long as `self`; `index` is below CELLS, so the
        // cell lies inside it, 8-byte aligned. The file is never truncated below SIZE (only
        // `open` resizes it, and only upward).
        unsafe { &*self.map.as_mut_ptr().cast::<AtomicU64>().add(index) }
    }

    pub(crate) fn load(&self) -> Changes {
        Changes {
            any: self.cell(0).load(Ordering::Acquire),
            iam: self.cell(1).load(Ordering::Acquire),
            ec2: self.cell(2).load(Ordering::Acquire),
            buckets: self.cell(3).load(Ordering::Acquire),
            objects: self.cell(4).load(Ordering::Acquire),
        }
    }

    /// After a commit: the topic's cell first, then the one every view of any data follows.
    pub(crate) fn bump(&self, topic: Topic) {
        match topic {
            Topic::Iam => self.cell(1).fetch_add(1, Ordering::AcqRel),
            Topic::Ec2 => self.cell(2).fetch_add(1, Ordering::AcqRel),
            Topic::Buckets => self.cell(3).fetch_add(1, Ordering::AcqRel),
            Topic::Objects => self.cell(4).fetch_add(1, Ordering::AcqRel),
            Topic::Bookkeeping => 0,
        };
        self.cell(0).fetch_add(1, Ordering::AcqRel);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_of_the_single_counter_era_grows_and_keeps_its_count() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("db-changes");
        std::fs::write(&path, 7u64.to_ne_bytes()).unwrap();
        let counter = ChangeCounter::open(&path).unwrap();
        assert_eq!(counter.load().any, 7);
        assert_eq!(std::fs::metadata(&path).unwrap().len(), SIZE);
    }

    #[test]
    fn two_mappings_of_one_file_see_each_others_bumps() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("db-changes");
        let a = ChangeCounter::open(&path).unwrap();
        let b = ChangeCounter::open(&path).unwrap();
        let start = a.load();
        b.bump(Topic::Iam);
        b.bump(Topic::Ec2);
        b.bump(Topic::Bookkeeping);
        let seen = a.load();
        assert_eq!(
            (seen.any, seen.iam, seen.ec2),
            (start.any + 3, start.iam + 1, start.ec2 + 1)
        );
        drop(b);
        // Reopening keeps the counts rather than resetting them.
        assert_eq!(ChangeCounter::open(&path).unwrap().load(), seen);
    }
}
