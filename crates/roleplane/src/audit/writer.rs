//! Group commit: requests hand their record to one writer thread, which commits whatever is
//! queued in a single transaction and then wakes every request of the batch. A request answers
//! its client only after that wake-up, so an acknowledged call is always committed (at the
//! log's sync level: see `docs/decisions/0003-audit-durability.md`); under load each commit
//! carries many records.
//!
//! The writer is a plain thread with its own SQLite connection and a prepared INSERT: a batch
//! costs SQLite's work and two thread wake-ups, no async round trips per statement.

use store::audit::{Appender, NewEvent};
use tokio::sync::{mpsc, oneshot};

/// Records waiting for the writer. When full, requests wait to enqueue (backpressure) instead
/// of growing memory without bound.
pub const QUEUE_CAPACITY: usize = 8192;

/// The most records one transaction takes; more wait for the next one.
const MAX_BATCH: usize = 2048;

struct Pending {
    event: NewEvent,
    done: oneshot::Sender<bool>,
}

/// The request side of the writer.
#[derive(Debug, Clone)]
pub struct Writer {
    queue: mpsc::Sender<Pending>,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum WriteError {
    #[error("the audit writer has stopped")]
    Stopped,
    #[error("the audit log could not commit the batch")]
    Failed,
}

impl std::fmt::Debug for Pending {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pending")
            .field("event", &self.event.event_id)
            .finish()
    }
}

impl Writer {
    /// Starts the writer thread; it ends when the last `Writer` is dropped.
    pub fn spawn(appender: Appender) -> std::io::Result<Writer> {
        let (queue, incoming) = mpsc::channel(QUEUE_CAPACITY);
        std::thread::Builder::new()
            .name("audit-writer".into())
            .spawn(move || run(appender, incoming))?;
        Ok(Writer { queue })
    }

    /// Returns once `event` is committed.
    pub async fn write(&self, event: NewEvent) -> Result<(), WriteError> {
        let (done, committed) = oneshot::channel();
        self.queue
            .send(Pending { event, done })
            .await
            .map_err(|_| WriteError::Stopped)?;
        match committed.await {
            Ok(true) => Ok(()),
            Ok(false) => Err(WriteError::Failed),
            Err(_) => Err(WriteError::Stopped),
        }
    }
}

fn run(mut appender: Appender, mut incoming: mpsc::Receiver<Pending>) {
    let mut batch: Vec<Pending> = Vec::with_capacity(MAX_BATCH);
    while let Some(first) = incoming.blocking_recv() {
        batch.push(first);
        while batch.len() < MAX_BATCH {
            match incoming.try_recv() {
                Ok(next) => batch.push(next),
                Err(_) => break,
            }
        }
        let committed = match appender.append(batch.iter().map(|p| &p.event)) {
            Ok(()) => true,
            Err(error) => {
                tracing::error!(%error, records = batch.len(), "audit batch not committed");
                false
            }
        };
        for pending in batch.drain(..) {
            // A request that gave up waiting has nothing left to wake.
            let _ = pending.done.send(committed);
        }
    }
}
