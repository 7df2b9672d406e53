//! Reads one principal's records of a window out of the audit trail into an [`Activity`]: keyset
//! pages over the log's `(principal_arn, event_time_ms)` index, with progress after every page
//! and a cancellation check between pages.
//!
//! Reading rows, not folding them, is the cost (the log hands back whole records), so the span
//! between the principal's first and last record is cut in two halves read at once on
//! separate connections, each into its own activity, merged at the end.

use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use store::AuditTrail;
use store::audit::{Event, EventFilter, EventQuery, Order};

use super::activity::{Activity, Window};

/// Records per page: large enough to amortise a query, small enough for steady progress.
const PAGE: u32 = 10_000;

#[derive(Debug, thiserror::Error)]
pub enum ScanError {
    #[error("reading the audit log: {0}")]
    Store(#[from] store::StoreError),
}

/// How far a scan has come.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Progress {
    pub scanned: u64,
    /// Share of the principal's records behind the scan, 0–1. The log keeps no count of them,
    /// but each slice is read in time order between known ends, so time read estimates it.
    pub fraction: f64,
    pub elapsed: Duration,
}

impl Progress {
    /// The number of records the scan will have read, estimated from [`Self::fraction`].
    pub fn estimated_total(&self) -> u64 {
        if self.fraction <= 0.0 {
            return self.scanned;
        }
        ((self.scanned as f64 / self.fraction) as u64).max(self.scanned)
    }

    /// Records per second so far.
    pub fn rate(&self) -> f64 {
        self.scanned as f64 / self.elapsed.as_secs_f64().max(1e-3)
    }
}

/// Folds every record of `activity`'s principal and window into it. Returns `false` when
/// `cancel` stopped the scan early.
pub async fn scan(
    log: &AuditTrail,
    activity: &mut Activity,
    cancel: &AtomicBool,
    progress: impl FnMut(&Progress) + Send,
) -> Result<bool, ScanError> {
    let started = Instant::now();
    let window = activity.window();
    let principal = activity.principal().to_owned();
    let (Some(first_ms), Some(last_ms)) = (
        end(log, &principal, window, Order::OldestFirst).await?,
        end(log, &principal, window, Order::NewestFirst).await?,
    ) else {
        return Ok(true);
    };
    let span = last_ms - first_ms + 1;
    let middle = first_ms + span / 2;
    let halves = [
        Window {
            start_ms: first_ms,
            end_ms: middle - 1,
        },
        Window {
            start_ms: middle,
            end_ms: last_ms,
        },
    ];
    // A mutex only to be `Sync` for the server's spawned jobs; the halves share one task.
    let meter = Mutex::new(Meter {
        scanned: [0; 2],
        read_ms: [0; 2],
        span,
        started,
        report: progress,
    });
    // One task, two reads in flight: each waits on its own connection's thread.
    let ((early, early_done), (late, late_done)) = tokio::try_join!(
        read_slice(log, &principal, window, halves[0], 0, cancel, &meter),
        read_slice(log, &principal, window, halves[1], 1, cancel, &meter),
    )?;
    activity.merge(early);
    activity.merge(late);
    Ok(early_done && late_done)
}

/// Reads one time slice into a fresh activity; `false` when canceled.
async fn read_slice(
    log: &AuditTrail,
    principal: &str,
    window: Window,
    slice: Window,
    index: usize,
    cancel: &AtomicBool,
    meter: &Mutex<Meter<impl FnMut(&Progress)>>,
) -> Result<(Activity, bool), ScanError> {
    let mut activity = Activity::new(principal, window);
    let mut query = EventQuery {
        account_id: None,
        filter: Some(EventFilter::PrincipalArn(principal)),
        start_ms: Some(slice.start_ms),
        end_ms: Some(slice.end_ms),
        order: Order::OldestFirst,
        after: None,
        limit: PAGE,
        // Data events too: S3 object-level calls are activity the policy must cover.
        management_only: false,
    };
    loop {
        let page: Vec<Event> = log.lookup(&query).await?;
        if cancel.load(Ordering::Relaxed) {
            return Ok((activity, false));
        }
        for event in &page {
            activity.add(event);
        }
        let Some(last) = page.last() else {
            return Ok((activity, true));
        };
        meter
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .update(
                index,
                activity.scanned(),
                last.event_time_ms - slice.start_ms + 1,
            );
        if page.len() < PAGE as usize {
            return Ok((activity, true));
        }
        query.after = Some(last.position());
    }
}

/// Progress of all slices together.
struct Meter<F> {
    scanned: [u64; 2],
    /// Milliseconds of its half each has read.
    read_ms: [i64; 2],
    span: i64,
    started: Instant,
    report: F,
}

impl<F: FnMut(&Progress)> Meter<F> {
    fn update(&mut self, slice: usize, scanned: u64, read_ms: i64) {
        if let (Some(s), Some(r)) = (self.scanned.get_mut(slice), self.read_ms.get_mut(slice)) {
            *s = scanned;
            *r = read_ms;
        }
        let read: i64 = self.read_ms.iter().sum();
        (self.report)(&Progress {
            scanned: self.scanned.iter().sum(),
            fraction: (read as f64 / self.span.max(1) as f64).clamp(0.0, 1.0),
            elapsed: self.started.elapsed(),
        });
    }
}

/// The event time of the principal's oldest or newest record in the window: one index probe.
async fn end(
    log: &AuditTrail,
    principal: &str,
    window: Window,
    order: Order,
) -> Result<Option<i64>, ScanError> {
    let page = log
        .lookup(&EventQuery {
            account_id: None,
            filter: Some(EventFilter::PrincipalArn(principal)),
            start_ms: Some(window.start_ms),
            end_ms: Some(window.end_ms),
            order,
            after: None,
            limit: 1,
            management_only: false,
        })
        .await?;
    Ok(page.first().map(|e| e.event_time_ms))
}
