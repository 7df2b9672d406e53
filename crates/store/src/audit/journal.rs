//! The audit trail's durability point: an append-only journal of records, one line each, in
//! numbered segment files `DATA_DIR/audit/journal-<n>.jsonl`.
//!
//! A segment is created at its full size with its blocks reserved (`posix_fallocate`) and
//! mapped shared. A record is appended by the request's own thread as a copy into that mapping
//! before its response leaves: the mapping *is* the kernel's page cache, so once the copy is
//! done the bytes survive the death of the process exactly as after a `write(2)`, without a
//! system call per record. The reservation is what makes the copy safe: a store into a page
//! whose blocks cannot be allocated would kill the process with SIGBUS, not return ENOSPC.
//! [`AuditSync::Full`] also `fdatasync`s, grouped: a thread that finds its bytes already
//! covered by another's sync returns without one.
//!
//! # On disk
//!
//! - Unwritten bytes are NUL, and a journal line never contains one (JSON escapes it), so
//!   **the first NUL ends a segment's data**. A line holding a NUL was torn by the death of
//!   the process in the middle of its copy.
//! - While a segment is active, a reader racing the copy may see a line's bytes arrive in any
//!   order; a line is complete once it ends in `\n` with no NUL before it.
//! - **A segment is complete once its successor's name exists** (the indexer relies on this):
//!   the successor is prepared as `journal-<n>.jsonl.next`, a name readers ignore, and renamed
//!   to its own name under the writers' lock, after the last copy into its predecessor. A
//!   closed segment is cut to its written length some time later; until then, and for good
//!   in the segment active when the process was killed, its data ends at its first NUL.
//!
//! # Off the writers' path
//!
//! Writers hold a mutex for the copy alone (~50 ns for a 1 KiB record), so records land in
//! order without holes, and rotation happens under the same mutex. Everything slow happens on
//! the journal's own thread, `audit-journal`, so that neither the lock nor the thread of a
//! request (an async runtime's worker, serving many connections) waits for it:
//! - page faults: the writer whose copy enters a new 1 MiB chunk asks the thread to make the
//!   pages of the chunks ahead present (`MADV_POPULATE_WRITE`, 64 KiB at a time, so the
//!   process's mmap lock is never held long), and the mappings read no ahead
//!   (`MADV_RANDOM`): a fault that did still happen under the lock used to fill a whole
//!   read-ahead window (8 MiB here), 1-19 ms, which was most of the audited p99;
//! - creating, reserving and mapping the next segment, which the thread does in advance: a
//!   rotation only renames it (and makes its own only if it is not ready yet);
//! - unmapping and cutting the segment a rotation leaves.

use std::ffi::CString;
use std::fs::{File, OpenOptions};
use std::io;
use std::ops::Range;
use std::os::fd::AsRawFd;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;

use memmap2::{Advice, MmapOptions, MmapRaw};

use super::AuditSync;
use super::growth::Growth;
use super::line;
use super::model::NewEvent;

/// The directory of the segments inside the data directory.
pub const JOURNAL_DIR: &str = "audit";

/// A segment's size: records go to the next one once the next line does not fit.
pub const DEFAULT_SEGMENT_BYTES: u64 = 64 * 1024 * 1024;

/// Pages are made present this many bytes at a time.
const CHUNK_BYTES: usize = 1 << 20;

/// How many chunks past the one being written are kept present: the copies take no page
/// fault as long as the journal's thread is no more than this many chunks late.
const CHUNKS_AHEAD: usize = 2;

/// Segment `number`'s file. Zero-padded so names sort in number order.
pub(super) fn segment_path(dir: &Path, number: u64) -> PathBuf {
    dir.join(format!("journal-{number:012}.jsonl"))
}

/// A segment being prepared, or ready, to become segment `number` (or a later one). Not a
/// segment to readers: [`segment_numbers`] only takes names ending in `.jsonl`.
fn spare_path(dir: &Path, number: u64) -> PathBuf {
    dir.join(format!("journal-{number:012}.jsonl.next"))
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
    active: Mutex<Segment>,
    /// Where the last `fdatasync` reached: (segment, bytes). Only [`AuditSync::Full`] uses it.
    synced: Mutex<(u64, u64)>,
    /// Shared with the journal's thread.
    shared: Arc<Shared>,
    /// To the journal's thread; `None` once dropped, which ends the thread.
    jobs: Option<Sender<Job>>,
    thread: Option<JoinHandle<()>>,
    /// Told of every rotation: the size cap is checked then.
    growth: Option<Arc<Growth>>,
}

/// What the writers and the journal's thread share.
#[derive(Debug, Default)]
struct Shared {
    /// The next segment, made ready in advance by the journal's thread. Its lock is held
    /// while one is created, so a rotation never races the thread to create the same file.
    spare: Mutex<Option<Spare>>,
    /// Set when the journal is dropped: a segment prepared now would only be removed again.
    closing: AtomicBool,
}

/// A segment being appended to, or one a rotation left, on its way to be closed.
#[derive(Debug)]
struct Segment {
    number: u64,
    /// Shared with a grouped `fdatasync`, which runs outside the lock.
    file: Arc<File>,
    /// Stored into only while active, under the lock; shared with the journal's thread
    /// populating its pages.
    map: Arc<MmapRaw>,
    /// Bytes written: where the next line goes.
    len: u64,
}

impl Segment {
    /// The offset `len` more bytes would go at, if they fit.
    fn room(&self, len: usize) -> Option<usize> {
        let start = usize::try_from(self.len).ok()?;
        (start.checked_add(len)? <= self.map.len()).then_some(start)
    }

    /// Ends a segment a rotation left: drops its mapping and cuts the file to the bytes
    /// written, so a closed segment ends with its last line, no NULs.
    fn close(self, sync: AuditSync) -> io::Result<()> {
        let Self { file, map, len, .. } = self;
        // A populate job still queued may keep the mapping a moment longer: harmless, the
        // thread skips the jobs of closed segments, and nothing stores into it any more.
        unmap_gently(map);
        cut(&file, len, sync)
    }
}

/// Pieces the journal's thread takes at a time when it changes the address space. Every
/// `munmap` holds the process's mmap lock for writing and every populate holds it for reading;
/// a page fault or a large `malloc` on a request thread waits for it (and readers queue behind a
/// waiting writer). Whole-segment operations held it for milliseconds: the audited p99 went from
/// ~4 ms to 10-18 ms. A piece holds it for tens of microseconds.
const GENTLE_BYTES: usize = 64 * 1024;

/// Makes `range` of `map` present a piece at a time (best effort: before Linux 5.14 the
/// copies take the page faults themselves).
fn populate_gently(map: &MmapRaw, range: Range<usize>) {
    let mut start = range.start;
    while start < range.end {
        let len = GENTLE_BYTES.min(range.end - start);
        if map.advise_range(Advice::PopulateWrite, start, len).is_err() {
            return;
        }
        start += len;
        std::thread::yield_now();
    }
}

/// Unmaps `map` a piece at a time if this is its last handle; otherwise the last holder's drop
/// unmaps it whole.
fn unmap_gently(map: Arc<MmapRaw>) {
    let Ok(map) = Arc::try_unwrap(map) else {
        return;
    };
    let (base, len) = (map.as_mut_ptr(), map.len());
    // The pieces below replace the mapping's own unmapping.
    std::mem::forget(map);
    let mut offset = 0;
    while offset < len {
        let piece = GENTLE_BYTES.min(len - offset);
        // SAFETY: `base..base + len` is the mapping `map` owned, which no one else holds (the
        // `Arc` was unique) and which is forgotten above, so each piece is unmapped once and
        // never touched afterwards.
        unsafe {
            libc::munmap(base.add(offset).cast(), piece);
        }
        offset += piece;
        std::thread::yield_now();
    }
}

/// Cuts a segment's `file` to its `len` written bytes; at [`AuditSync::Full`] the new size is
/// synced too.
fn cut(file: &File, len: u64, sync: AuditSync) -> io::Result<()> {
    file.set_len(len)?;
    if sync == AuditSync::Full {
        file.sync_all()?;
    }
    Ok(())
}

/// A created, reserved and mapped segment file under its [`spare_path`], its first chunk
/// present: a rotation only has to rename it.
#[derive(Debug)]
struct Spare {
    path: PathBuf,
    file: File,
    map: Arc<MmapRaw>,
}

impl Spare {
    /// Creates the spare for segment `number`, `size` bytes. On error the file is removed
    /// again, so the next attempt can create it.
    fn create(dir: &Path, number: u64, size: u64) -> io::Result<Self> {
        let path = spare_path(dir, number);
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create_new(true)
            .open(&path)?;
        match reserve(&file, size).and_then(|()| map(&file, size)) {
            Ok(map) => {
                // Best effort, as for every populate: before Linux 5.14 (EINVAL) the copies
                // take the page faults themselves.
                populate_gently(&map, 0..map.len().min(CHUNK_BYTES));
                Ok(Self { path, file, map })
            }
            Err(error) => {
                // Left in place it would stop every later attempt (`create_new`).
                let _ = std::fs::remove_file(&path);
                Err(error)
            }
        }
    }

    /// Makes room for `size` bytes if the spare is smaller (a line longer than a segment).
    fn fit(self, size: u64) -> io::Result<Self> {
        if self.map.len() as u64 >= size {
            return Ok(self);
        }
        let Self {
            path,
            file,
            map: old,
        } = self;
        drop(old);
        match reserve(&file, size).and_then(|()| map(&file, size)) {
            Ok(map) => Ok(Self { path, file, map }),
            Err(error) => {
                let _ = std::fs::remove_file(&path);
                Err(error)
            }
        }
    }

    /// Renames the spare to segment `number`'s name, which publishes it, unless a file of
    /// that name exists. On error the spare is handed back unchanged.
    fn publish(self, dir: &Path, number: u64) -> Result<Segment, (Self, io::Error)> {
        if let Err(error) = rename_new(&self.path, &segment_path(dir, number)) {
            return Err((self, error));
        }
        Ok(Segment {
            number,
            file: Arc::new(self.file),
            map: self.map,
            len: 0,
        })
    }

    /// Removes an unused spare.
    fn discard(self) {
        drop(self.map);
        // Nobody to report to: a stale spare is removed when the next journal opens.
        let _ = std::fs::remove_file(&self.path);
    }
}

/// The journal's thread's work, in the order it was asked for.
#[derive(Debug)]
enum Job {
    /// Make `range` of segment `number`'s mapping present.
    Populate {
        number: u64,
        map: Arc<MmapRaw>,
        range: Range<usize>,
    },
    /// Make a spare ready for segment `number`, unless one is.
    Prepare { number: u64 },
    /// Close a segment a rotation left.
    Retire(Segment),
    /// Answers once every job sent before it is done.
    #[cfg(test)]
    Settle(Sender<()>),
}

/// The journal's thread: runs [`Job`]s until the journal is dropped.
struct Worker {
    dir: PathBuf,
    sync: AuditSync,
    segment_bytes: u64,
    shared: Arc<Shared>,
    /// The newest segment retired: its pages and those of older ones need no populating.
    retired: u64,
}

impl Worker {
    fn run(mut self, jobs: Receiver<Job>) {
        // Ends once the journal drops its sender and every job queued before is done.
        for job in jobs {
            match job {
                Job::Populate { number, map, range } => {
                    if number > self.retired {
                        // Best effort: before Linux 5.14 (EINVAL) the copies take the page
                        // faults themselves.
                        populate_gently(&map, range);
                    }
                }
                Job::Prepare { number } => self.prepare(number),
                Job::Retire(segment) => {
                    let number = segment.number;
                    self.retired = self.retired.max(number);
                    if let Err(error) = segment.close(self.sync) {
                        // Still correct for readers: its successor exists, its data ends
                        // at its first NUL.
                        tracing::warn!(%error, number, "audit journal segment not cut to its records");
                    }
                }
                #[cfg(test)]
                Job::Settle(done) => {
                    let _ = done.send(());
                }
            }
        }
    }

    fn prepare(&self, number: u64) {
        let mut spare = lock(&self.shared.spare);
        if spare.is_some() || self.shared.closing.load(Ordering::Relaxed) {
            return;
        }
        match Spare::create(&self.dir, number, self.segment_bytes) {
            Ok(ready) => *spare = Some(ready),
            // The rotation makes its own, and reports the error if it persists.
            Err(error) => {
                tracing::warn!(%error, number, "audit journal segment not prepared ahead");
            }
        }
    }
}

impl Journal {
    /// Starts segment (newest + 1) in `dir`, creating `dir` if needed, and the journal's
    /// thread. `first` is the lowest number to use (the indexer's position, in case every
    /// segment was removed). Spares left by a killed process are removed.
    pub(super) fn open(
        dir: &Path,
        first: u64,
        sync: AuditSync,
        segment_bytes: u64,
        growth: Option<Arc<Growth>>,
    ) -> io::Result<Self> {
        std::fs::create_dir_all(dir)?;
        remove_spares(dir)?;
        let newest = segment_numbers(dir)?.last().copied().unwrap_or(0);
        let number = (newest + 1).max(first);
        let segment_bytes = segment_bytes.max(1);
        let active = Spare::create(dir, number, segment_bytes)?
            .publish(dir, number)
            .map_err(|(spare, error)| {
                spare.discard();
                error
            })?;
        if sync == AuditSync::Full {
            sync_dir(dir)?;
        }
        let shared = Arc::new(Shared::default());
        let (jobs, queue) = mpsc::channel();
        let worker = Worker {
            dir: dir.to_owned(),
            sync,
            segment_bytes,
            shared: Arc::clone(&shared),
            retired: 0,
        };
        let thread = std::thread::Builder::new()
            .name("audit-journal".into())
            .spawn(move || worker.run(queue))?;
        let journal = Self {
            dir: dir.to_owned(),
            sync,
            segment_bytes,
            active: Mutex::new(active),
            synced: Mutex::new((number, 0)),
            shared,
            jobs: Some(jobs),
            thread: Some(thread),
            growth,
        };
        journal.send(Job::Prepare { number: number + 1 });
        Ok(journal)
    }

    /// Appends `event`; durable (at the journal's [`AuditSync`]) when this returns. Blocks for
    /// a copy into the page cache, plus an `fdatasync` at [`AuditSync::Full`].
    pub fn append(&self, event: &NewEvent) -> io::Result<()> {
        thread_local! {
            static LINE: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
        }
        LINE.with_borrow_mut(|buffer| {
            buffer.clear();
            line::encode(event, buffer);
            if buffer.contains(&0) {
                // It would read as the end of the segment and hide every record after it.
                return Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    "an audit journal line cannot contain a NUL byte",
                ));
            }
            let end = self.write(buffer)?;
            if self.sync == AuditSync::Full {
                self.sync_through(end)?;
            }
            Ok(())
        })
    }

    /// Copies one whole line in; returns (segment, end offset) of it.
    fn write(&self, line: &[u8]) -> io::Result<(u64, u64)> {
        let mut active = self.lock_active();
        if active.room(line.len()).is_none() {
            self.rotate(&mut active, line.len())?;
        }
        let start = active.room(line.len()).ok_or_else(|| {
            io::Error::other("a new audit journal segment has no room for the line")
        })?;
        // SAFETY: `start..start + line.len()` lies inside the mapping (`room`) and past every
        // byte written so far, and only the holder of the lock stores into it. Nothing else
        // changes the file's size while it is active: only roleplane touches the journal,
        // this process created the segment (`create_new`, and renamed it without replacing
        // another) and is its only writer, readers only read, retention never removes the
        // active segment, and it is cut only once a rotation has left it.
        unsafe {
            std::ptr::copy_nonoverlapping(
                line.as_ptr(),
                active.map.as_mut_ptr().add(start),
                line.len(),
            );
        }
        let end = start + line.len();
        let ahead = populate_ahead(start, end, active.map.len()).map(|range| Job::Populate {
            number: active.number,
            map: Arc::clone(&active.map),
            range,
        });
        active.len = end as u64;
        let written = (active.number, active.len);
        drop(active);
        if let Some(job) = ahead {
            self.send(job);
        }
        Ok(written)
    }

    /// Leaves the active segment for the next, big enough for a `line_len` line: the spare
    /// the journal's thread prepared if it is ready, else one made here.
    fn rotate(&self, active: &mut Segment, line_len: usize) -> io::Result<()> {
        if self.sync == AuditSync::Full {
            // A grouped sync only syncs the active segment: the one left must be synced
            // first. If that fails the segment stays active, so no later sync can claim to
            // cover its records.
            active.file.sync_data()?;
        }
        let number = active.number + 1;
        let size = self.segment_bytes.max(line_len as u64);
        let next = {
            let mut spare = lock(&self.shared.spare);
            let ready = match spare.take() {
                Some(ready) => ready,
                None => Spare::create(&self.dir, number, size)?,
            };
            match ready.fit(size)?.publish(&self.dir, number) {
                Ok(next) => next,
                Err((ready, error)) => {
                    // Kept for the next attempt; the active segment stays as it is.
                    *spare = Some(ready);
                    return Err(error);
                }
            }
        };
        let left = std::mem::replace(active, next);
        self.send(Job::Retire(left));
        self.send(Job::Prepare { number: number + 1 });
        if let Some(growth) = &self.growth {
            growth.grew();
        }
        if self.sync == AuditSync::Full {
            // Published whatever happens here, so the journal moves on; the append that
            // needed the segment fails, as its record may not survive a power loss.
            sync_dir(&self.dir)?;
        }
        Ok(())
    }

    /// Hands `job` to the journal's thread. Should it have died (a panic), its work is
    /// left undone: rotations then make their own segments, closed ones keep their NULs.
    fn send(&self, job: Job) {
        if let Some(jobs) = &self.jobs {
            let _ = jobs.send(job);
        }
    }

    /// Group `fdatasync`: one thread syncs everything written so far, the threads queued
    /// behind it find their bytes covered and return. `fdatasync` writes back the pages
    /// dirtied through the mapping like those of `write(2)`.
    fn sync_through(&self, (segment, end): (u64, u64)) -> io::Result<()> {
        let mut synced = lock(&self.synced);
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

    fn lock_active(&self) -> MutexGuard<'_, Segment> {
        // A panic while holding the lock cannot leave the segment inconsistent with the
        // file: `len` only grows after its bytes are copied in.
        lock(&self.active)
    }

    /// Makes sure the next segment exists already (the journal's thread prepares it after each
    /// rotation, but that can fail on a full disk): once this succeeds, the next rotation
    /// needs no new space, so a journal refused a line can tell when it can take lines again.
    pub fn ensure_spare(&self) -> io::Result<()> {
        let number = self.lock_active().number + 1;
        let mut spare = lock(&self.shared.spare);
        if spare.is_none() {
            *spare = Some(Spare::create(&self.dir, number, self.segment_bytes)?);
        }
        Ok(())
    }

    /// The segment being appended to.
    pub fn active_segment(&self) -> u64 {
        self.lock_active().number
    }

    /// Waits until the journal's thread has done every job asked of it so far.
    #[cfg(test)]
    pub(crate) fn settle(&self) {
        let (done, wait) = mpsc::channel();
        self.send(Job::Settle(done));
        wait.recv().unwrap();
    }
}

impl Drop for Journal {
    /// A clean shutdown closes the segments a rotation left, cuts the active one to its
    /// records like a closed one, and removes an unused spare.
    fn drop(&mut self) {
        self.shared.closing.store(true, Ordering::Relaxed);
        drop(self.jobs.take());
        if let Some(thread) = self.thread.take() {
            // Its jobs are best effort: a panic in one has nothing to report to.
            let _ = thread.join();
        }
        if let Some(spare) = lock(&self.shared.spare).take() {
            spare.discard();
        }
        let active = self.active.get_mut().unwrap_or_else(|e| e.into_inner());
        // No store or populate can touch the mapping any more (the thread has ended), so
        // cutting the file under it is safe. Nobody to report to: a segment left at full size
        // still reads correctly.
        let _ = cut(&active.file, active.len, AuditSync::Normal);
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // Every guarded value is whole between statements: a panic cannot leave it half-changed.
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}

/// Makes the names in `dir` survive a power loss.
fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}

/// Removes the spares in `dir`: left by a killed process, never published.
fn remove_spares(dir: &Path) -> io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let name = entry.file_name();
        let spare = name
            .to_str()
            .is_some_and(|n| n.starts_with("journal-") && n.ends_with(".jsonl.next"));
        if spare {
            std::fs::remove_file(entry.path())?;
        }
    }
    Ok(())
}

/// Renames `from` to `to` unless `to` exists (then `AlreadyExists`): replacing it would
/// destroy a segment.
fn rename_new(from: &Path, to: &Path) -> io::Result<()> {
    let c_from = CString::new(from.as_os_str().as_bytes())?;
    let c_to = CString::new(to.as_os_str().as_bytes())?;
    // SAFETY: both paths are NUL-terminated strings that outlive the call.
    let status = unsafe {
        libc::renameat2(
            libc::AT_FDCWD,
            c_from.as_ptr(),
            libc::AT_FDCWD,
            c_to.as_ptr(),
            libc::RENAME_NOREPLACE,
        )
    };
    if status == 0 {
        return Ok(());
    }
    let error = io::Error::last_os_error();
    if error.raw_os_error() != Some(libc::EINVAL) {
        return Err(error);
    }
    // A file system without RENAME_NOREPLACE: a new link fails if `to` exists too.
    std::fs::hard_link(from, to)?;
    std::fs::remove_file(from)
}

/// Sizes `file` to `size` bytes and allocates their blocks, so no store into its mapping can
/// meet a full disk.
fn reserve(file: &File, size: u64) -> io::Result<()> {
    let len = libc::off_t::try_from(size)
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "segment size too large"))?;
    // SAFETY: a plain system call on a descriptor `file` keeps open; no memory is passed.
    let status = unsafe { libc::posix_fallocate(file.as_raw_fd(), 0, len) };
    // posix_fallocate returns the error number instead of setting errno.
    match status {
        0 => Ok(()),
        errno => Err(io::Error::from_raw_os_error(errno)),
    }
}

fn map(file: &File, size: u64) -> io::Result<Arc<MmapRaw>> {
    let len = usize::try_from(size)
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "segment size too large"))?;
    let map = MmapOptions::new().len(len).map_raw(file)?;
    // No read-ahead: a fault would otherwise fill the page cache a read-ahead window at a
    // time (megabytes on some machines), on whichever thread took it, under the journal's lock.
    let _ = map.advise(Advice::Random);
    Ok(Arc::new(map))
}

/// The bytes of a `size`-byte segment to make present once a copy from `start` to `end` is
/// done, if it began the segment or entered a new chunk: the chunks up to [`CHUNKS_AHEAD`]
/// past the one it ended in that earlier copies did not ask for. The segment's creator made
/// its first chunk present.
fn populate_ahead(start: usize, end: usize, size: usize) -> Option<Range<usize>> {
    // Chunks below this one were asked for by the copies before (or by the creator).
    let asked = if start == 0 {
        1
    } else {
        start / CHUNK_BYTES + CHUNKS_AHEAD + 1
    };
    let wanted = end / CHUNK_BYTES + CHUNKS_AHEAD + 1;
    let from = asked * CHUNK_BYTES;
    (wanted > asked && from < size).then(|| from..size.min(wanted * CHUNK_BYTES))
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    /// Record `n` of writer `thread`, its line about `bytes` long.
    fn event(thread: u64, n: u64, bytes: usize) -> NewEvent {
        NewEvent {
            event_id: format!("{thread}-{n}"),
            event_time_ms: 1_000_000 + n as i64,
            account_id: "123456789012".into(),
            event_source: "iam.amazonaws.com".into(),
            event_name: "GetRole".into(),
            read_only: true,
            access_key_id: Some("AKIAIOSFODNN7EXAMPLE".into()),
            username: None,
            principal_arn: None,
            error_code: None,
            resources: "[]".into(),
            management: true,
            record: format!(r#"{{"pad":"{}"}}"#, "x".repeat(bytes.saturating_sub(150))),
        }
    }

    fn line_of(event: &NewEvent) -> Vec<u8> {
        let mut line = Vec::new();
        line::encode(event, &mut line);
        line
    }

    /// A segment's records, read as the indexer does: up to the first NUL, which must be
    /// followed by NULs only.
    fn records(bytes: &[u8]) -> Vec<NewEvent> {
        let end = bytes.iter().position(|&b| b == 0).unwrap_or(bytes.len());
        assert!(
            bytes[end..].iter().all(|&b| b == 0),
            "data after the first NUL"
        );
        let data = &bytes[..end];
        assert!(data.is_empty() || data.ends_with(b"\n"), "a torn last line");
        data.split_inclusive(|&b| b == b'\n')
            .map(|line| line::decode(&line[..line.len() - 1]).unwrap())
            .collect()
    }

    /// The names of the spares in `dir`, sorted.
    fn spares(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|entry| entry.unwrap().file_name().into_string().unwrap())
            .filter(|name| name.ends_with(".jsonl.next"))
            .collect();
        names.sort();
        names
    }

    fn read(dir: &Path, number: u64) -> Vec<u8> {
        std::fs::read(segment_path(dir, number)).unwrap()
    }

    /// Every segment in `dir` with its bytes, by number.
    fn segments(dir: &Path) -> BTreeMap<u64, Vec<u8>> {
        segment_numbers(dir)
            .unwrap()
            .into_iter()
            .map(|number| (number, read(dir, number)))
            .collect()
    }

    #[test]
    fn records_round_trip_in_order_and_the_rest_of_the_segment_is_nul() {
        let dir = tempfile::tempdir().unwrap();
        let journal = Journal::open(dir.path(), 1, AuditSync::Normal, 1 << 20, None).unwrap();
        let events: Vec<_> = (0..100).map(|n| event(0, n, 300 + n as usize)).collect();
        for event in &events {
            journal.append(event).unwrap();
        }

        let bytes = read(dir.path(), 1);
        assert_eq!(bytes.len(), 1 << 20, "created at its full size");
        assert_eq!(records(&bytes), events);
        assert_eq!(journal.active_segment(), 1);
    }

    #[test]
    fn drop_cuts_the_active_segment_to_its_records() {
        let dir = tempfile::tempdir().unwrap();
        let journal = Journal::open(dir.path(), 1, AuditSync::Normal, 1 << 20, None).unwrap();
        let events: Vec<_> = (0..10).map(|n| event(0, n, 500)).collect();
        for event in &events {
            journal.append(event).unwrap();
        }
        drop(journal);

        let expected: Vec<u8> = events.iter().flat_map(line_of).collect();
        assert_eq!(read(dir.path(), 1), expected);
    }

    #[test]
    fn a_journal_dropped_before_any_record_leaves_an_empty_segment() {
        let dir = tempfile::tempdir().unwrap();
        drop(Journal::open(dir.path(), 1, AuditSync::Normal, 4096, None).unwrap());
        assert_eq!(read(dir.path(), 1), b"");
    }

    #[test]
    fn a_killed_process_leaves_its_records_then_nuls() {
        let dir = tempfile::tempdir().unwrap();
        let journal = Journal::open(dir.path(), 1, AuditSync::Normal, 64 * 1024, None).unwrap();
        let events: Vec<_> = (0..20).map(|n| event(0, n, 1000)).collect();
        for event in &events {
            journal.append(event).unwrap();
        }
        // Its spare for segment 2 is on disk too.
        journal.settle();
        // No drop: the mapping and the files stay as the process left them.
        std::mem::forget(journal);

        let bytes = read(dir.path(), 1);
        assert_eq!(bytes.len(), 64 * 1024);
        assert_eq!(records(&bytes), events);
        assert_eq!(spares(dir.path()), ["journal-000000000002.jsonl.next"]);

        // The next process starts after the torn segment, with a spare of its own.
        let next = Journal::open(dir.path(), 1, AuditSync::Normal, 64 * 1024, None).unwrap();
        assert_eq!(next.active_segment(), 2);
        assert_eq!(records(&read(dir.path(), 1)), events, "left as it was");
    }

    #[test]
    fn open_removes_the_spares_of_a_killed_process() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(spare_path(dir.path(), 4), b"").unwrap();
        std::fs::write(spare_path(dir.path(), 9), vec![0; 4096]).unwrap();
        // Not a spare, not the journal's: left alone.
        std::fs::write(dir.path().join("notes.next"), b"").unwrap();
        let journal = Journal::open(dir.path(), 1, AuditSync::Normal, 4096, None).unwrap();
        assert_eq!(journal.active_segment(), 1);
        journal.settle();
        assert_eq!(spares(dir.path()), ["journal-000000000002.jsonl.next"]);
        assert!(dir.path().join("notes.next").exists());
        drop(journal);
        assert_eq!(spares(dir.path()), Vec::<String>::new());
    }

    #[test]
    fn a_rotation_publishes_the_prepared_spare() {
        use std::os::unix::fs::MetadataExt;

        let dir = tempfile::tempdir().unwrap();
        let journal = Journal::open(dir.path(), 1, AuditSync::Normal, 4096, None).unwrap();
        journal.settle();
        let spare = std::fs::metadata(spare_path(dir.path(), 2)).unwrap();
        assert_eq!(spare.len(), 4096, "reserved at its full size");

        let events: Vec<_> = (0..4).map(|n| event(0, n, 1500)).collect();
        for event in &events {
            journal.append(event).unwrap();
        }
        assert_eq!(journal.active_segment(), 2);
        let published = std::fs::metadata(segment_path(dir.path(), 2)).unwrap();
        assert_eq!(published.ino(), spare.ino(), "the spare, renamed");
        assert_eq!(segment_numbers(dir.path()).unwrap(), [1, 2]);

        // The thread prepares the next one and cuts the segment left.
        journal.settle();
        assert_eq!(spares(dir.path()), ["journal-000000000003.jsonl.next"]);
        let first: Vec<u8> = events[..2].iter().flat_map(line_of).collect();
        assert_eq!(read(dir.path(), 1), first);
        assert_eq!(records(&read(dir.path(), 2)), events[2..]);
    }

    #[test]
    fn drop_closes_every_segment_and_leaves_no_spare() {
        let dir = tempfile::tempdir().unwrap();
        let journal = Journal::open(dir.path(), 1, AuditSync::Normal, 4096, None).unwrap();
        let events: Vec<_> = (0..40)
            .map(|n| event(0, n, 300 + 50 * n as usize))
            .collect();
        // No settling: the thread may be behind with retiring and preparing.
        for event in &events {
            journal.append(event).unwrap();
        }
        let active = journal.active_segment();
        assert!(active > 5, "only {active} segments");
        drop(journal);

        assert_eq!(spares(dir.path()), Vec::<String>::new());
        let all = segments(dir.path());
        assert_eq!(
            all.keys().copied().collect::<Vec<_>>(),
            (1..=active).collect::<Vec<_>>()
        );
        let mut appended = Vec::new();
        for (number, bytes) in &all {
            assert!(!bytes.contains(&0), "segment {number} not cut");
            assert_eq!(bytes.last(), Some(&b'\n'), "segment {number}");
            appended.extend(records(bytes));
        }
        assert_eq!(appended, events);
    }

    #[test]
    fn open_starts_after_the_newest_segment_and_at_least_at_first() {
        let dir = tempfile::tempdir().unwrap();
        for number in [3, 7] {
            std::fs::write(segment_path(dir.path(), number), b"").unwrap();
        }
        let journal = Journal::open(dir.path(), 2, AuditSync::Normal, 4096, None).unwrap();
        assert_eq!(journal.active_segment(), 8);

        let empty = tempfile::tempdir().unwrap();
        let journal = Journal::open(empty.path(), 20, AuditSync::Normal, 4096, None).unwrap();
        assert_eq!(journal.active_segment(), 20);
    }

    /// `THREADS` writers append records of 100 B to 9 KB to `segment`-byte segments. Checks,
    /// with the journal open and after it is dropped, that every record is there once, each
    /// writer's in the order it appended them, and that closed segments end with a line.
    fn append_concurrently(segment: u64, per_thread: u64) -> u64 {
        const THREADS: u64 = 6;
        let dir = tempfile::tempdir().unwrap();
        let journal = Journal::open(dir.path(), 1, AuditSync::Normal, segment, None).unwrap();
        std::thread::scope(|scope| {
            for thread in 0..THREADS {
                let journal = &journal;
                scope.spawn(move || {
                    for n in 0..per_thread {
                        // A different mix of sizes per thread.
                        let bytes = 100 + ((n * 7919 + thread * 104_729) % 8_900) as usize;
                        journal.append(&event(thread, n, bytes)).unwrap();
                    }
                });
            }
        });
        let active = journal.active_segment();
        // The segments rotations left are cut by the journal's thread.
        journal.settle();

        let check = |segments: &BTreeMap<u64, Vec<u8>>, closed_below: u64| {
            let mut next = vec![0; THREADS as usize];
            for (&number, bytes) in segments {
                if number < closed_below {
                    assert!(bytes.len() as u64 <= segment, "segment {number} overgrew");
                    assert!(!bytes.contains(&0), "closed segment {number} holds a NUL");
                    assert_eq!(bytes.last(), Some(&b'\n'), "segment {number}");
                }
                for event in records(bytes) {
                    let (thread, n) = event.event_id.split_once('-').unwrap();
                    let thread: usize = thread.parse().unwrap();
                    assert_eq!(n.parse::<u64>().unwrap(), next[thread]);
                    next[thread] += 1;
                }
            }
            assert_eq!(next, vec![per_thread; THREADS as usize]);
        };
        let open = segments(dir.path());
        let numbers: Vec<u64> = open.keys().copied().collect();
        assert_eq!(numbers, (1..=active).collect::<Vec<_>>());
        assert_eq!(
            open[&active].len() as u64,
            segment,
            "the active segment is still mapped"
        );
        check(&open, active);

        drop(journal);
        check(&segments(dir.path()), active + 1);
        active
    }

    #[test]
    fn concurrent_appends_across_rotations_keep_every_record_once_and_in_order() {
        let segments = append_concurrently(64 * 1024, 600);
        assert!(segments > 20, "only {segments} segments");
    }

    #[test]
    fn records_copied_while_pages_are_populated_ahead_stay_intact() {
        // Several 1 MiB chunks per segment, so writers populate chunks while others copy.
        let segments = append_concurrently(3 << 20, 300);
        assert!(segments >= 2, "no rotation");
    }

    #[test]
    fn copies_entering_a_new_chunk_ask_for_the_chunks_ahead() {
        const MIB: usize = 1 << 20;
        let size = 9 * MIB / 2;
        // The creator made chunk 0 present; the first copy asks for the next two.
        assert_eq!(populate_ahead(0, 100, size), Some(MIB..3 * MIB));
        assert_eq!(populate_ahead(100, 200, size), None, "still in chunk 0");
        assert_eq!(
            populate_ahead(MIB - 10, MIB + 10, size),
            Some(3 * MIB..4 * MIB)
        );
        assert_eq!(
            populate_ahead(MIB, MIB + 10, size),
            None,
            "entered by the copy before"
        );
        assert_eq!(
            populate_ahead(2 * MIB - 1, 2 * MIB + 1, size),
            Some(4 * MIB..size),
            "cut at the segment's end"
        );
        assert_eq!(
            populate_ahead(3 * MIB - 1, 3 * MIB, size),
            None,
            "past the end"
        );
        // A line spanning chunks asks for every chunk the copies before did not.
        assert_eq!(
            populate_ahead(MIB - 10, 3 * MIB / 2 + MIB, size),
            Some(3 * MIB..size)
        );
        assert_eq!(populate_ahead(0, 100, MIB), None, "a one-chunk segment");
        assert_eq!(populate_ahead(0, 100, 3 * MIB / 2), Some(MIB..3 * MIB / 2));
    }

    #[test]
    fn a_line_longer_than_a_segment_gets_a_segment_of_its_own() {
        let dir = tempfile::tempdir().unwrap();
        let journal = Journal::open(dir.path(), 1, AuditSync::Normal, 1024, None).unwrap();
        let (small, big) = (event(0, 0, 300), event(0, 1, 5000));
        for event in [&big, &small, &big, &big, &small] {
            journal.append(event).unwrap();
        }
        let (small, big) = (line_of(&small), line_of(&big));
        assert!(big.len() > 1024);
        drop(journal);

        let expected: Vec<(u64, Vec<u8>)> = vec![
            // The first segment was empty when the big line came: closed with nothing in it.
            (1, vec![]),
            (2, big.clone()),
            (3, small.clone()),
            (4, big.clone()),
            (5, big),
            (6, small),
        ];
        assert_eq!(
            segments(dir.path()).into_iter().collect::<Vec<_>>(),
            expected
        );
    }

    #[test]
    fn a_line_holding_a_nul_is_refused_and_the_journal_goes_on() {
        let dir = tempfile::tempdir().unwrap();
        let journal = Journal::open(dir.path(), 1, AuditSync::Normal, 4096, None).unwrap();
        let mut bad = event(0, 0, 200);
        bad.record = "{\"a\":\"\0\"}".into();
        let error = journal.append(&bad).unwrap_err();
        assert_eq!(error.kind(), io::ErrorKind::InvalidData);

        let good = event(0, 1, 200);
        journal.append(&good).unwrap();
        drop(journal);
        assert_eq!(read(dir.path(), 1), line_of(&good));
    }

    #[test]
    fn a_segment_that_cannot_be_reserved_fails_open_and_leaves_no_file() {
        let dir = tempfile::tempdir().unwrap();
        // Far beyond any disk (and ext4's largest file).
        let error = Journal::open(dir.path(), 1, AuditSync::Normal, 1 << 60, None).unwrap_err();
        assert!(
            matches!(error.raw_os_error(), Some(libc::ENOSPC | libc::EFBIG)),
            "{error}"
        );
        assert_eq!(segment_numbers(dir.path()).unwrap(), Vec::<u64>::new());
        assert_eq!(spares(dir.path()), Vec::<String>::new());
    }

    #[test]
    fn a_failed_rotation_keeps_the_segment_and_the_next_append_retries() {
        let dir = tempfile::tempdir().unwrap();
        let journal = Journal::open(dir.path(), 1, AuditSync::Normal, 1024, None).unwrap();
        let (first, second) = (event(0, 0, 800), event(0, 1, 800));
        journal.append(&first).unwrap();
        // Segment 2 is in the way: the rotation cannot create it.
        let blocker = segment_path(dir.path(), 2);
        std::fs::write(&blocker, b"").unwrap();
        let error = journal.append(&second).unwrap_err();
        assert_eq!(error.kind(), io::ErrorKind::AlreadyExists);
        assert_eq!(read(dir.path(), 2), b"", "not replaced");
        // Still the active segment, nothing lost, nothing torn.
        assert_eq!(journal.active_segment(), 1);
        assert_eq!(records(&read(dir.path(), 1)), std::slice::from_ref(&first));

        std::fs::remove_file(&blocker).unwrap();
        journal.append(&second).unwrap();
        assert_eq!(journal.active_segment(), 2);
        drop(journal);
        assert_eq!(read(dir.path(), 1), line_of(&first));
        assert_eq!(read(dir.path(), 2), line_of(&second));
        assert_eq!(spares(dir.path()), Vec::<String>::new());
    }

    #[test]
    fn full_sync_from_several_threads_covers_every_append() {
        const THREADS: u64 = 4;
        const PER_THREAD: u64 = 40;
        let dir = tempfile::tempdir().unwrap();
        let journal = Journal::open(dir.path(), 1, AuditSync::Full, 16 * 1024, None).unwrap();
        std::thread::scope(|scope| {
            for thread in 0..THREADS {
                let journal = &journal;
                scope.spawn(move || {
                    for n in 0..PER_THREAD {
                        journal.append(&event(thread, n, 1000)).unwrap();
                    }
                });
            }
        });
        let end = {
            let active = journal.lock_active();
            (active.number, active.len)
        };
        assert!(end.0 > 2, "no rotation");
        assert_eq!(
            *journal.synced.lock().unwrap(),
            end,
            "the last append was synced"
        );

        drop(journal);
        let count: usize = segments(dir.path())
            .values()
            .map(|b| records(b).len())
            .sum();
        assert_eq!(count as u64, THREADS * PER_THREAD);
    }
}
