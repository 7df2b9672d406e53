//! The audit trail's size cap (`--audit-max-mib`, `--audit-at-cap`), kept by a thread of its
//! own. Journals preallocate whole segments, so the trail's disk use grows only when one rolls
//! over: the thread looks at the disk then (and once a second, to see space an operator or
//! retention freed), never per record.
//!
//! Over the cap, it first evicts the oldest segments of the journal of calls without an
//! authenticated caller, whatever the mode: strangers' records must never cost an
//! authenticated caller's record, nor make the server refuse calls. Then, if that was not
//! enough, `evict` removes the oldest segments of authenticated calls and `fail-closed` closes
//! the trail (every call answers 503) until the trail is below the cap again. Either way a log
//! line and the metrics say so. The goal is one segment below the cap, so the segment each
//! journal prepares ahead still fits.
//!
//! On PostgreSQL (decision 0027) the same rules hold over the running sums of the records'
//! bytes in the shared database, looked at once a second (the goal is the cap itself: nothing
//! is preallocated); eviction deletes the oldest rows in batches, by whichever replica takes
//! the pruning lock (the others see the result).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Weak};
use std::time::Duration;

use store::AuditLog;
use store::audit::{Caller, Evicted, IndexError, PgAuditLog};

use super::settings::AtCap;
use crate::metrics::{AuditMetrics, journal_label};

/// How often the disk is looked at without a rotation.
const LOOK_EVERY: Duration = Duration::from_secs(1);

#[derive(Debug, Clone, Copy)]
pub struct Cap {
    pub max_bytes: u64,
    pub at_cap: AtCap,
    /// Eviction makes the trail this much smaller than the cap: a journal segment (the one
    /// each journal prepares ahead must fit); nothing on PostgreSQL.
    pub slack_bytes: u64,
}

/// Where the trail's bytes are.
#[derive(Debug, Clone)]
pub enum Space {
    Files(AuditLog),
    /// The database's trail, reached from the keeper's thread through the server's runtime.
    Database {
        log: PgAuditLog,
        runtime: tokio::runtime::Handle,
    },
}

#[derive(Debug, thiserror::Error)]
pub enum CapError {
    #[error(transparent)]
    Files(#[from] IndexError),
    #[error(transparent)]
    Database(#[from] store::StoreError),
}

impl Space {
    /// Bytes the trail holds: the journals' files, or the database's records.
    fn total(&self) -> Result<u64, CapError> {
        match self {
            Self::Files(log) => Ok(log.disk_use().map_err(IndexError::from)?.total()),
            Self::Database { log, runtime } => Ok(runtime.block_on(log.usage())?.total()),
        }
    }

    /// Removes `caller`'s oldest records until `over` bytes are gone or none is left; on
    /// PostgreSQL nothing when another replica is pruning.
    fn evict(&self, caller: Caller, over: u64) -> Result<Evicted, CapError> {
        match self {
            Self::Files(log) => Ok(log.evict_blocking(caller, over)?),
            Self::Database { log, runtime } => Ok(runtime
                .block_on(log.evict(caller, over))?
                .unwrap_or_default()),
        }
    }

    /// Waits for the trail to grow (a journal's rotation) or `LOOK_EVERY`; `seen` is the count
    /// of growths seen so far, and the new count is returned.
    fn wait(&self, seen: u64) -> u64 {
        match self {
            Self::Files(log) => log.growth().wait(seen, LOOK_EVERY),
            Self::Database { .. } => {
                std::thread::sleep(LOOK_EVERY);
                seen
            }
        }
    }
}

/// What the thread shares with [`super::Audit`].
#[derive(Debug, Clone)]
pub struct Keeper {
    pub space: Space,
    pub cap: Option<Cap>,
    pub metrics: AuditMetrics,
    /// Set while `fail-closed` holds the trail shut.
    pub closed: Arc<AtomicBool>,
}

/// Starts the thread; it ends once `alive` (held by the server's `Audit`) is dropped. Not the
/// trail's own handles: the keeper holds one of those itself.
pub fn spawn(keeper: Keeper, alive: &Arc<()>) -> std::io::Result<()> {
    let alive = Arc::downgrade(alive);
    std::thread::Builder::new()
        .name("audit-cap".into())
        .spawn(move || run(&keeper, &alive))?;
    Ok(())
}

fn run(keeper: &Keeper, alive: &Weak<()>) {
    let mut seen = 0;
    while alive.strong_count() > 0 {
        if let Err(error) = keeper.look() {
            tracing::warn!(%error, "checking the audit trail's size failed; retrying");
        }
        seen = keeper.space.wait(seen);
    }
}

impl Keeper {
    /// Measures the trail and, over the cap, evicts or closes it. Blocks.
    pub fn look(&self) -> Result<(), CapError> {
        let total = self.space.total()?;
        self.metrics.trail_bytes.set(gauge(total));
        let Some(cap) = self.cap else {
            return Ok(());
        };
        let goal = cap.max_bytes.saturating_sub(cap.slack_bytes);
        let mut over = total.saturating_sub(goal);
        if over > 0 {
            let evicted = self.space.evict(Caller::Unauthenticated, over)?;
            over = over.saturating_sub(evicted.bytes);
            self.report(&evicted, true, cap);
        }
        if over > 0 && cap.at_cap == AtCap::Evict {
            let evicted = self.space.evict(Caller::Authenticated, over)?;
            over = over.saturating_sub(evicted.bytes);
            self.report(&evicted, false, cap);
        }
        let total = self.space.total()?;
        self.metrics.trail_bytes.set(gauge(total));
        let full = over > 0 && cap.at_cap == AtCap::FailClosed;
        match (full, self.closed.swap(full, Ordering::Relaxed)) {
            (true, false) => tracing::error!(
                trail_bytes = total,
                max_bytes = cap.max_bytes,
                "the audit trail is at its size cap with only authenticated calls' records \
                 left (--audit-at-cap fail-closed): every API call is answered 503 until \
                 retention or an operator frees space"
            ),
            (false, true) => tracing::info!(
                trail_bytes = total,
                max_bytes = cap.max_bytes,
                "the audit trail is below its size cap again; API calls are served"
            ),
            _ => {}
        }
        Ok(())
    }

    fn report(&self, evicted: &Evicted, unauthenticated: bool, cap: Cap) {
        if evicted.records == 0 && evicted.segments == 0 {
            return;
        }
        let label = journal_label(unauthenticated);
        let m = &self.metrics;
        m.evicted_bytes.get_or_create(&label).inc_by(evicted.bytes);
        m.evicted_records
            .get_or_create(&label)
            .inc_by(evicted.records);
        m.evicted_segments
            .get_or_create(&label)
            .inc_by(evicted.segments);
        let span = (time_text(evicted.oldest_ms), time_text(evicted.newest_ms));
        if unauthenticated {
            tracing::info!(
                bytes = evicted.bytes,
                records = evicted.records,
                segments = evicted.segments,
                oldest = %span.0,
                newest = %span.1,
                max_bytes = cap.max_bytes,
                "audit trail at its size cap: evicted the oldest records of calls without an \
                 authenticated caller"
            );
        } else {
            tracing::warn!(
                bytes = evicted.bytes,
                records = evicted.records,
                segments = evicted.segments,
                oldest = %span.0,
                newest = %span.1,
                max_bytes = cap.max_bytes,
                "audit trail at its size cap: evicted the oldest records of authenticated calls"
            );
        }
    }
}

fn gauge(bytes: u64) -> i64 {
    i64::try_from(bytes).unwrap_or(i64::MAX)
}

/// An event time as RFC 3339, or `-` when unknown.
fn time_text(ms: Option<i64>) -> String {
    ms.and_then(|ms| {
        time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000).ok()
    })
    .and_then(|t| {
        t.format(&time::format_description::well_known::Rfc3339)
            .ok()
    })
    .unwrap_or_else(|| "-".to_owned())
}
