//! The change counters on PostgreSQL (decision 0006): one row per topic in `changes`, bumped by
//! every committed write of the topic inside its own transaction and announced on the
//! `roleplane_changes` channel, which PostgreSQL delivers at commit.
//!
//! Each replica keeps the counters in memory, so `Store::changes` stays one atomic load per
//! topic: a write moves its own replica's copy right after its commit, a listener moves it when
//! another replica's announcement arrives, and a poll of the table every [`POLL`] covers what a
//! listener may miss (while it reconnects). Copies only move to values read from the table or
//! announced after a commit, so a view is never kept under a counter newer than its data. The
//! staleness bound for another replica's write is the notification's latency, at most `POLL`.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Weak};
use std::time::Duration;

use sqlx::postgres::PgListener;
use sqlx::{PgConnection, PgPool};
use tokio::task::JoinHandle;

use crate::error::Result;
use crate::model::{Changes, Topic};

const CHANNEL: &str = "roleplane_changes";
/// The backstop for announcements a listener missed.
const POLL: Duration = Duration::from_secs(1);

/// The topics as `changes` names them, in the order of [`Counters`]' cells.
const TOPICS: [&str; 5] = ["iam", "ec2", "buckets", "objects", "bookkeeping"];

fn cell_of(topic: Topic) -> usize {
    match topic {
        Topic::Iam => 0,
        Topic::Ec2 => 1,
        Topic::Buckets => 2,
        Topic::Objects => 3,
        Topic::Bookkeeping => 4,
    }
}

/// This replica's copy of the counters: the highest value seen of each topic.
#[derive(Debug, Default)]
pub(super) struct Counters {
    cells: [AtomicU64; 5],
}

impl Counters {
    /// `any` is the sum of every topic's counter: it moves with each commit, bookkeeping's too.
    pub(super) fn load(&self) -> Changes {
        let [iam, ec2, buckets, objects, bookkeeping] = self
            .cells
            .each_ref()
            .map(|cell| cell.load(Ordering::Acquire));
        Changes {
            any: iam + ec2 + buckets + objects + bookkeeping,
            iam,
            ec2,
            buckets,
            objects,
        }
    }

    /// A value of the topic's counter read after the commit that wrote it.
    pub(super) fn observe(&self, topic: Topic, value: i64) {
        self.observe_cell(cell_of(topic), value);
    }

    fn observe_cell(&self, cell: usize, value: i64) {
        self.cells[cell].fetch_max(value.unsigned_abs(), Ordering::AcqRel);
    }

    /// An announcement's payload: `topic:value`.
    fn observe_payload(&self, payload: &str) {
        let Some((topic, value)) = payload.split_once(':') else {
            return;
        };
        if let (Some(cell), Ok(value)) = (
            TOPICS.iter().position(|t| *t == topic),
            value.parse::<i64>(),
        ) {
            self.observe_cell(cell, value);
        }
    }
}

/// Inside a write's transaction, as its last statements: moves the topic's counter and
/// announces the new value (delivered only if the transaction commits). The row stays locked
/// until the commit, so counter values commit in the order they were taken.
pub(super) async fn bump(conn: &mut PgConnection, topic: Topic) -> Result<i64, sqlx::Error> {
    let name = TOPICS[cell_of(topic)];
    let value: i64 =
        sqlx::query_scalar("UPDATE changes SET value = value + 1 WHERE topic = $1 RETURNING value")
            .bind(name)
            .fetch_one(&mut *conn)
            .await?;
    sqlx::query("SELECT pg_notify($1, $2)")
        .bind(CHANNEL)
        .bind(format!("{name}:{value}"))
        .execute(&mut *conn)
        .await?;
    Ok(value)
}

/// Reads every counter from the table.
pub(super) async fn refresh(pool: &PgPool, counters: &Counters) -> Result<()> {
    let rows: Vec<(String, i64)> = sqlx::query_as("SELECT topic, value FROM changes")
        .fetch_all(pool)
        .await?;
    for (topic, value) in rows {
        if let Some(cell) = TOPICS.iter().position(|t| *t == topic) {
            counters.observe_cell(cell, value);
        }
    }
    Ok(())
}

/// The tasks that move this replica's counters for the other replicas' writes.
pub(super) struct Follower {
    tasks: [JoinHandle<()>; 2],
}

impl Follower {
    pub(super) fn stop(&self) {
        for task in &self.tasks {
            task.abort();
        }
    }
}

impl Drop for Follower {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Starts listening (before it returns, so no announcement after it is missed) and polling.
/// The tasks hold the counters weakly and end with the store.
pub(super) async fn follow(pool: &PgPool, counters: &Arc<Counters>) -> Result<Follower> {
    let mut listener = PgListener::connect_with(pool).await?;
    listener.listen(CHANNEL).await?;
    let listening = tokio::spawn(listen(listener, pool.clone(), Arc::downgrade(counters)));
    let polling = tokio::spawn(poll(pool.clone(), Arc::downgrade(counters)));
    Ok(Follower {
        tasks: [listening, polling],
    })
}

async fn listen(mut listener: PgListener, pool: PgPool, counters: Weak<Counters>) {
    loop {
        let received = listener.try_recv().await;
        let Some(counters) = counters.upgrade() else {
            return;
        };
        match received {
            Ok(Some(notification)) => counters.observe_payload(notification.payload()),
            // The connection dropped (the listener reconnects on the next call): what was
            // announced meanwhile is lost, so read the table.
            Ok(None) => {
                if let Err(error) = refresh(&pool, &counters).await {
                    tracing::warn!(%error, "change counters: refresh after reconnect failed");
                }
            }
            Err(sqlx::Error::PoolClosed) => return,
            Err(error) => {
                tracing::warn!(%error, "change counters: listener failed; retrying");
                tokio::time::sleep(POLL).await;
            }
        }
    }
}

async fn poll(pool: PgPool, counters: Weak<Counters>) {
    // The first read is a period away: `connect` has just read the table (and a read at once
    // would open a second connection while the store may already be in use, or dropped).
    let mut ticks = tokio::time::interval_at(tokio::time::Instant::now() + POLL, POLL);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        let Some(counters) = counters.upgrade() else {
            return;
        };
        if pool.is_closed() {
            return;
        }
        if let Err(error) = refresh(&pool, &counters).await {
            tracing::warn!(%error, "change counters: poll failed");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counters_only_grow_and_any_sums_every_topic() {
        let counters = Counters::default();
        counters.observe(Topic::Iam, 3);
        counters.observe_payload("ec2:2");
        counters.observe_payload("bookkeeping:4");
        counters.observe(Topic::Iam, 1); // an older value, seen late
        counters.observe_payload("nonsense");
        counters.observe_payload("iam:x");
        let seen = counters.load();
        assert_eq!((seen.iam, seen.ec2, seen.any), (3, 2, 9));
    }
}
