//! The background indexer: a thread at the lowest CPU priority that indexes the journal into
//! `audit.db` (a row per block of lines). Under saturation it yields the CPU to requests and
//! falls behind; it catches up when load drops. Nothing waits for it: a lookup catches the
//! index up itself first (`store::AuditLog::lookup`), so it only keeps those catch-ups short.
//! At start it simply begins with what an earlier run left unindexed (lazy: the server is
//! ready before).

use std::sync::{Arc, Weak};
use std::time::Duration;

use store::AuditLog;
use store::audit::Journal;

/// Pause once the index has reached the journal's end.
const IDLE: Duration = Duration::from_millis(100);

/// A pass that indexed this many records may have left more behind: no pause after it.
const BACKLOG: u64 = 10_000;

/// Starts the indexer; it ends once `journal` (the server's) is dropped.
pub fn spawn(log: AuditLog, journal: &Arc<Journal>) -> std::io::Result<()> {
    let alive = Arc::downgrade(journal);
    std::thread::Builder::new()
        .name("audit-indexer".into())
        .spawn(move || {
            lower_priority();
            run(&log, &alive);
        })?;
    Ok(())
}

fn run(log: &AuditLog, alive: &Weak<Journal>) {
    while alive.strong_count() > 0 {
        match log.catch_up_blocking() {
            // A backlog: keep going.
            Ok(indexed) if indexed >= BACKLOG => {}
            // Caught up. Waiting lets the next pass take ~100 ms of records in a few large
            // transactions instead of a transaction per handful.
            Ok(_) => std::thread::sleep(IDLE),
            Err(error) => {
                tracing::warn!(%error, "audit indexing failed; retrying");
                std::thread::sleep(IDLE);
            }
        }
    }
    // What the last appends left, so a clean shutdown leaves nothing to index.
    if let Err(error) = log.catch_up_blocking() {
        tracing::warn!(%error, "audit indexing failed at shutdown");
    }
}

/// Nice 19 for this thread alone (on Linux a thread is a schedulable process of its own).
fn lower_priority() {
    // SAFETY: plain syscalls on the calling thread's own ID, no memory handed over.
    let failed = unsafe {
        let tid = libc::gettid();
        libc::setpriority(libc::PRIO_PROCESS, tid.unsigned_abs(), 19) != 0
    };
    if failed {
        tracing::debug!("audit indexer runs at normal priority (setpriority refused)");
    }
}
