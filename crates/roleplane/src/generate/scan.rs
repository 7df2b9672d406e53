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
    pub window: Window,
    pub elapsed: Duration,
}

impl Progress {
    /// Share of the window behind the scan, 0–1: the log has no cheap count of a principal's
    /// records, but it is read in time order, so time read is the honest measure of work done.
    pub fn fraction(&self) -> f64 {
        let span = (self.window.end_ms - self.window.start_ms).max(1) as f64;
        ((self.position_ms - self.window.start_ms) as f64 / span).clamp(0.0, 1.0)
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
        if let Some(last) = page.last() {
            progress(&Progress {
                scanned: activity.scanned(),
                position_ms: last.event_time_ms,
                window,
                elapsed: started.elapsed(),
            });
        }
    }
    Ok(true)
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
