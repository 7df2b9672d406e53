//! Group commit: requests hand their record to one writer thread, which commits whatever is
//! queued in a single transaction and then wakes every request of the batch. A request answers
//! its client only after that wake-up, so an acknowledged call is always committed (at the
//! log's sync level: see `docs/decisions/0003-audit-durability.md`); under load each commit
//! carries many records.
//!
//! The writer is a plain thread with its own SQLite connection and a prepared INSERT: a batch
//! costs SQLite's work and two thread wake-ups, no async round trips per statement, and the
//! runtime's workers never block on the disk. A second thread checkpoints the WAL (the only
//! fsyncs at the default sync level), so no batch waits for one.

use std::time::Duration;

use store::audit::{Appender, Checkpointer, NewEvent};
use tokio::sync::{mpsc, oneshot};

/// Records waiting for the writer. When full, requests wait to enqueue (backpressure) instead
/// of growing memory without bound.
pub const QUEUE_CAPACITY: usize = 8192;

/// The most records one transaction takes; more wait for the next one.
const MAX_BATCH: usize = 2048;

/// How often the WAL is copied into the database. Between checkpoints the WAL grows by what
/// was written meanwhile (megabytes at full load); the writer checkpoints itself only past
/// the store's cap.
const CHECKPOINT_EVERY: Duration = Duration::from_millis(200);

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
    /// Starts the writer and checkpointer threads; both end when the last `Writer` is dropped.
    pub fn spawn(appender: Appender, checkpointer: Checkpointer) -> std::io::Result<Writer> {
        let (queue, incoming) = mpsc::channel(QUEUE_CAPACITY);
        std::thread::Builder::new()
            .name("audit-writer".into())
            .spawn(move || run(appender, incoming))?;
        let open = queue.downgrade();
        std::thread::Builder::new()
            .name("audit-checkpoint".into())
            .spawn(move || checkpoint_while_open(&checkpointer, &open))?;
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

fn checkpoint_while_open(checkpointer: &Checkpointer, open: &mpsc::WeakSender<Pending>) {
    loop {
        std::thread::sleep(CHECKPOINT_EVERY);
        if open.upgrade().is_none() {
            return;
        }
        if let Err(error) = checkpointer.checkpoint() {
            tracing::warn!(%error, "audit log checkpoint failed; the writer will checkpoint");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use store::AuditLog;
    use store::audit::{EventQuery, Order};

    fn event(n: u32) -> NewEvent {
        NewEvent {
            event_id: format!("00000000-0000-7000-8000-{n:012}"),
            event_time_ms: i64::from(n),
            account_id: "123456789012".into(),
            event_source: "sts.amazonaws.com".into(),
            event_name: "GetCallerIdentity".into(),
            read_only: true,
            access_key_id: None,
            username: None,
            principal_arn: None,
            error_code: None,
            resources: "[]".into(),
            record: "{}".into(),
        }
    }

    /// Many concurrent writers: every acknowledged record is in the log, none twice, and a
    /// failing batch reports failure to each of its writers.
    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn every_acknowledged_record_is_committed() {
        let dir = tempfile::tempdir().unwrap();
        let log = AuditLog::open(dir.path()).await.unwrap();
        let writer = Writer::spawn(log.appender().unwrap(), log.checkpointer().unwrap()).unwrap();
        let tasks: Vec<_> = (1..=2000)
            .map(|n| {
                let writer = writer.clone();
                tokio::spawn(async move { writer.write(event(n)).await })
            })
            .collect();
        for task in tasks {
            assert_eq!(task.await.unwrap(), Ok(()));
        }
        let all = log
            .lookup(&EventQuery {
                order: Order::OldestFirst,
                limit: 5000,
                ..EventQuery::default()
            })
            .await
            .unwrap();
        let times: Vec<i64> = all.iter().map(|e| e.event_time_ms).collect();
        assert_eq!(times, (1..=2000).collect::<Vec<i64>>());
        assert_eq!(writer.write(event(7)).await, Err(WriteError::Failed));
        assert_eq!(writer.write(event(2001)).await, Ok(()));
    }
}
