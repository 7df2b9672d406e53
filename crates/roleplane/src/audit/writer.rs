//! Group commit: requests hand their record to one writer task, which commits whatever is
//! queued in a single transaction (one fsync for the lot) and then wakes every request of the
//! batch. A request answers its client only after that wake-up, so an acknowledged call is
//! always on disk; under load each fsync carries many records, so durability costs little
//! throughput.

use store::AuditLog;
use store::audit::NewEvent;
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
    /// Starts the writer task on the current runtime.
    pub fn spawn(log: AuditLog) -> Writer {
        let (queue, incoming) = mpsc::channel(QUEUE_CAPACITY);
        tokio::spawn(run(log, incoming));
        Writer { queue }
    }

    /// Returns once `event` is durable.
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

async fn run(log: AuditLog, mut incoming: mpsc::Receiver<Pending>) {
    let mut batch: Vec<Pending> = Vec::with_capacity(MAX_BATCH);
    while incoming.recv_many(&mut batch, MAX_BATCH).await > 0 {
        let (events, waiters): (Vec<NewEvent>, Vec<_>) =
            batch.drain(..).map(|p| (p.event, p.done)).unzip();
        let committed = match log.append(&events).await {
            Ok(()) => true,
            Err(error) => {
                tracing::error!(%error, records = events.len(), "audit batch not committed");
                false
            }
        };
        for waiter in waiters {
            // A request that gave up waiting has nothing left to wake.
            let _ = waiter.send(committed);
        }
    }
}
