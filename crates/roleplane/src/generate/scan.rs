//! Reads one principal's records of a window out of `audit.db` into an [`Activity`]: keyset
//! pages over the log's `(principal_arn, event_time_ms)` index, the next page fetched while the
//! current one is folded, with progress after every page and a cancellation check between
//! pages.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use store::AuditLog;
use store::audit::{Event, EventFilter, EventQuery, Order, Position};

use super::activity::{Activity, Window};

/// Records per page: large enough to amortise a query, small enough for steady progress.
const PAGE: u32 = 10_000;

#[derive(Debug, thiserror::Error)]
pub enum ScanError {
    #[error("reading the audit log: {0}")]
    Store(#[from] store::StoreError),
    #[error("the audit log reader stopped: {0}")]
    Reader(#[from] tokio::task::JoinError),
}

/// How far a scan has come.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Progress {
    pub scanned: u64,
    /// Event time of the last record read; the scan runs oldest first.
    pub position_ms: i64,
    /// Event times of the principal's first and last records in the window.
    pub first_ms: i64,
    pub last_ms: i64,
    pub elapsed: Duration,
}

impl Progress {
    /// Share of the principal's records behind the scan, 0–1. The log keeps no count of them,
    /// but it is read in time order between two known ends, so the time read estimates it.
    pub fn fraction(&self) -> f64 {
        if self.last_ms <= self.first_ms {
            return 1.0;
        }
        let span = (self.last_ms - self.first_ms) as f64;
        ((self.position_ms - self.first_ms) as f64 / span).clamp(0.0, 1.0)
    }

    /// The number of records the scan will have read, estimated from [`Self::fraction`].
    pub fn estimated_total(&self) -> u64 {
        let fraction = self.fraction();
        if fraction <= 0.0 {
            return self.scanned;
        }
        ((self.scanned as f64 / fraction) as u64).max(self.scanned)
    }

    /// Records per second so far.
    pub fn rate(&self) -> f64 {
        self.scanned as f64 / self.elapsed.as_secs_f64().max(1e-3)
    }
}

/// Folds every record of `activity`'s principal and window into it. Returns `false` when
/// `cancel` stopped the scan early.
pub async fn scan(
    log: &AuditLog,
    activity: &mut Activity,
    cancel: &AtomicBool,
    mut progress: impl FnMut(&Progress),
) -> Result<bool, ScanError> {
    let started = Instant::now();
    let window = activity.window();
    let principal = activity.principal().to_owned();
    let last_ms = newest(log, &principal, window).await?;
    let mut first_ms = None;
    let mut next = Some(fetch(log, &principal, window, None));
    while let Some(pending) = next.take() {
        let page = pending.await??;
        if cancel.load(Ordering::Relaxed) {
            return Ok(false);
        }
        if page.len() == PAGE as usize
            && let Some(last) = page.last()
        {
            next = Some(fetch(log, &principal, window, Some(last.position())));
        }
        for event in &page {
            activity.add(event);
        }
        if let (Some(first), Some(last)) = (page.first(), page.last()) {
            progress(&Progress {
                scanned: activity.scanned(),
                position_ms: last.event_time_ms,
                first_ms: *first_ms.get_or_insert(first.event_time_ms),
                last_ms: last_ms.unwrap_or(last.event_time_ms),
                elapsed: started.elapsed(),
            });
        }
    }
    Ok(true)
}

/// The event time of the principal's newest record in the window: one index probe.
async fn newest(log: &AuditLog, principal: &str, window: Window) -> Result<Option<i64>, ScanError> {
    let page = log
        .lookup(&EventQuery {
            account_id: None,
            filter: Some(EventFilter::PrincipalArn(principal)),
            start_ms: Some(window.start_ms),
            end_ms: Some(window.end_ms),
            order: Order::NewestFirst,
            after: None,
            limit: 1,
        })
        .await?;
    Ok(page.first().map(|e| e.event_time_ms))
}

type PageTask = tokio::task::JoinHandle<Result<Vec<Event>, store::StoreError>>;

fn fetch(log: &AuditLog, principal: &str, window: Window, after: Option<Position>) -> PageTask {
    let log = log.clone();
    let principal = principal.to_owned();
    tokio::spawn(async move {
        log.lookup(&EventQuery {
            account_id: None,
            filter: Some(EventFilter::PrincipalArn(&principal)),
            start_ms: Some(window.start_ms),
            end_ms: Some(window.end_ms),
            order: Order::OldestFirst,
            after,
            limit: PAGE,
        })
        .await
    })
}
