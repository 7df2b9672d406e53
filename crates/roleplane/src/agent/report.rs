//! Reporting the sets the agent served (issue 17 item 5): every interval, the serves counted
//! since the last report go to the control plane, one entry per (instance, set, delivery) with
//! its count and first and last serve, and land in the audit trail as the report's
//! `requestParameters`. Serves counted while no replica answers are kept (at most
//! [`MAX_UNSENT`] entries, the oldest dropped first) and sent with the next report that goes
//! through.

use std::sync::Arc;
use std::time::Duration;

use super::client::CallError;
use super::fetch::Fetcher;
use crate::agent_api::served::MAX_SETS;
use crate::agent_api::wire::{ServedReport, ServedSet};

/// Entries kept while the control plane does not answer.
pub const MAX_UNSENT: usize = 10_000;

/// Reports every `interval` until the agent stops.
pub async fn report_every(fetcher: Arc<Fetcher>, interval: Duration) {
    let mut unsent = Vec::new();
    let mut ticks = tokio::time::interval(interval);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    ticks.tick().await;
    loop {
        ticks.tick().await;
        report_once(&fetcher, &mut unsent).await;
    }
}

/// Sends what was served since the last report, with what earlier reports could not send;
/// what cannot be sent now stays in `unsent`.
pub async fn report_once(fetcher: &Fetcher, unsent: &mut Vec<ServedSet>) {
    unsent.extend(fetcher.cache.take_served());
    while !unsent.is_empty() {
        let batch: Vec<ServedSet> = unsent.iter().take(MAX_SETS).cloned().collect();
        let sent = batch.len();
        match fetcher
            .control_plane
            .report(&ServedReport { sets: batch })
            .await
        {
            Ok(_) => {
                unsent.drain(..sent);
            }
            Err(CallError::Refused {
                status, message, ..
            }) if status == 400 => {
                // The control plane will never take this batch (an instance it does not place
                // on this host): keeping it would block every later report.
                tracing::error!(status, %message, dropped = sent, "the control plane refused a report of served credentials");
                unsent.drain(..sent);
            }
            Err(error) => {
                tracing::warn!(%error, pending = unsent.len(), "reporting served credentials; kept for the next report");
                if unsent.len() > MAX_UNSENT {
                    let excess = unsent.len() - MAX_UNSENT;
                    tracing::warn!(
                        dropped = excess,
                        "too many unsent served-credential entries; the oldest are dropped"
                    );
                    unsent.drain(..excess);
                }
                return;
            }
        }
    }
}
