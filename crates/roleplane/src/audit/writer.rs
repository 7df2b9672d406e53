//! Group commit without a writer thread: a request queues its record, and if no commit is in
//! progress it becomes the leader, commits everything queued in one transaction and wakes the
//! requests of that batch; records queued meanwhile go in the leader's next transaction. A
//! request answers its client only after its batch committed, so an acknowledged call is always
//! in the log (at the log's sync level: `docs/decisions/0003-audit-durability.md`).
//!
//! Committing on the request's own thread is what makes this cheap: a lone request costs no
//! thread wake-ups at all, and a batch costs one wake per follower. With `synchronous=NORMAL` a
//! commit is a `write(2)` of the WAL, microseconds; the occasional WAL checkpoint (an fsync,
//! a few milliseconds) is paid by whichever leader triggers it.

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use store::audit::{Appender, NewEvent};
use tokio::sync::oneshot;

/// The most records one transaction takes; more go in the leader's next one.
const MAX_BATCH: usize = 2048;

struct Pending {
    event: NewEvent,
    done: oneshot::Sender<bool>,
}

/// The request side of the log; clones share one queue and one connection.
#[derive(Clone)]
pub struct Writer {
    shared: Arc<Shared>,
}

struct Shared {
    queue: Mutex<Vec<Pending>>,
    /// Held by the leader for as long as it commits.
    appender: Mutex<Appender>,
}

impl std::fmt::Debug for Writer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Writer").finish_non_exhaustive()
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum WriteError {
    #[error("the audit writer has stopped")]
    Stopped,
    #[error("the audit log could not commit the batch")]
    Failed,
}

impl Writer {
    pub fn new(appender: Appender) -> Writer {
        Writer {
            shared: Arc::new(Shared {
                queue: Mutex::new(Vec::with_capacity(MAX_BATCH)),
                appender: Mutex::new(appender),
            }),
        }
    }

    /// Returns once `event` is committed.
    pub async fn write(&self, event: NewEvent) -> Result<(), WriteError> {
        let (done, committed) = oneshot::channel();
        lock(&self.shared.queue).push(Pending { event, done });
        self.shared.lead();
        match committed.await {
            Ok(true) => Ok(()),
            Ok(false) => Err(WriteError::Failed),
            Err(_) => Err(WriteError::Stopped),
        }
    }
}

impl Shared {
    /// Commits the queue until it is empty, unless another request is already doing so. That
    /// one looks at the queue again after letting go of the connection, so a record queued
    /// while it committed is never left behind.
    fn lead(&self) {
        let mut batch = Vec::new();
        loop {
            let Ok(mut appender) = self.appender.try_lock() else {
                return;
            };
            loop {
                {
                    let mut queue = lock(&self.queue);
                    let take = queue.len().min(MAX_BATCH);
                    batch.extend(queue.drain(..take));
                }
                if batch.is_empty() {
                    break;
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
            drop(appender);
            if lock(&self.queue).is_empty() {
                return;
            }
        }
    }
}

/// A panic while a lock was held leaves a queue or a connection that is still usable (the
/// transaction of a batch that panicked rolls back), so poisoning is ignored.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
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
        let writer = Writer::new(log.appender().unwrap());
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
