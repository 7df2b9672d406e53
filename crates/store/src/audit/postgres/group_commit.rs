//! Group commit: each call's record is committed before its response leaves, and concurrent
//! calls share the commit. A request hands its row to the writer task and awaits a oneshot;
//! the task takes everything queued (up to [`MAX_BATCH`]), inserts it in one statement, which
//! is one transaction, and answers each waiter with the outcome. Whatever arrives while a
//! commit runs forms the next batch, so the batch grows with the load and the commits per
//! second stay about one per commit latency.
//!
//! The statement also adds the batch's bytes and records to this writer's `audit_usage` row
//! (the size cap's running sums), so the sums never disagree with the rows.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use sqlx::PgPool;
use tokio::sync::{mpsc, oneshot};

use super::keys;
use crate::audit::{Caller, NewEvent};

/// Rows per statement at most: under a backlog larger batches would only make each commit
/// (and every waiter's answer) later.
const MAX_BATCH: usize = 1_000;

/// A record that could not be committed. Its call must not be acknowledged.
#[derive(Debug, Clone, thiserror::Error)]
pub enum CommitError {
    #[error("committing audit records to PostgreSQL: {0}")]
    Database(Arc<sqlx::Error>),
    #[error("the audit trail's writer task stopped")]
    Stopped,
}

/// How many commits ran and how many records they held: their ratio is the average batch.
#[derive(Debug, Default)]
pub struct CommitCounts {
    commits: AtomicU64,
    records: AtomicU64,
}

impl CommitCounts {
    /// Successful commits.
    pub fn commits(&self) -> u64 {
        self.commits.load(Ordering::Relaxed)
    }

    /// Records those commits held.
    pub fn records(&self) -> u64 {
        self.records.load(Ordering::Relaxed)
    }
}

struct Pending {
    caller: Caller,
    event: NewEvent,
    done: oneshot::Sender<Result<(), CommitError>>,
}

/// The sending side; the task ends once every clone of it is dropped.
#[derive(Debug, Clone)]
pub(super) struct GroupCommit {
    queue: mpsc::UnboundedSender<Pending>,
    counts: Arc<CommitCounts>,
}

impl GroupCommit {
    /// Starts the writer task on `pool`, adding to `shard`'s usage rows.
    pub fn start(pool: PgPool, shard: i32) -> Self {
        let (queue, received) = mpsc::unbounded_channel();
        let counts = Arc::new(CommitCounts::default());
        tokio::spawn(run(pool, shard, received, counts.clone()));
        Self { queue, counts }
    }

    /// Returns once `event` is committed, or why it was not.
    pub async fn commit(&self, caller: Caller, event: NewEvent) -> Result<(), CommitError> {
        self.submit(caller, event)?.await
    }

    /// Queues `event`; the answer says once it is committed, or why it was not.
    pub fn submit(
        &self,
        caller: Caller,
        event: NewEvent,
    ) -> Result<impl Future<Output = Result<(), CommitError>> + use<>, CommitError> {
        let (done, answer) = oneshot::channel();
        self.queue
            .send(Pending {
                caller,
                event,
                done,
            })
            .map_err(|_| CommitError::Stopped)?;
        Ok(async move { answer.await.map_err(|_| CommitError::Stopped)? })
    }

    pub fn counts(&self) -> &Arc<CommitCounts> {
        &self.counts
    }
}

impl std::fmt::Debug for Pending {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pending")
            .field("event_id", &self.event.event_id)
            .finish_non_exhaustive()
    }
}

async fn run(
    pool: PgPool,
    shard: i32,
    mut received: mpsc::UnboundedReceiver<Pending>,
    counts: Arc<CommitCounts>,
) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    // Waits for the first record, then takes whatever else is queued.
    while received.recv_many(&mut batch, MAX_BATCH).await > 0 {
        let records = batch.len() as u64;
        let mut columns = Columns::default();
        let waiters: Vec<_> = batch
            .drain(..)
            .map(|pending| {
                columns.push(pending.caller, pending.event);
                pending.done
            })
            .collect();
        let outcome = insert(&pool, shard, columns)
            .await
            .map_err(|e| CommitError::Database(Arc::new(e)));
        if outcome.is_ok() {
            counts.commits.fetch_add(1, Ordering::Relaxed);
            counts.records.fetch_add(records, Ordering::Relaxed);
        }
        for done in waiters {
            // A waiter that went away (its connection closed) needs no answer.
            let _ = done.send(outcome.clone());
        }
    }
}

/// The bytes the size cap counts for a row: its record and its columns.
pub(super) fn stored_bytes(event: &NewEvent) -> i32 {
    let optional = |text: &Option<String>| text.as_ref().map_or(0, String::len);
    let bytes = event.record.len()
        + event.resources.len()
        + event.event_id.len()
        + event.account_id.len()
        + event.event_source.len()
        + event.event_name.len()
        + optional(&event.access_key_id)
        + optional(&event.username)
        + optional(&event.principal_arn)
        + optional(&event.error_code)
        // The time, the id, the flags and the size itself.
        + 24;
    i32::try_from(bytes).unwrap_or(i32::MAX)
}

/// The batch's rows and its usage, one statement: one transaction, one commit.
const INSERT: &str = "\
WITH batch AS (
    INSERT INTO audit_events (event_time_ms, bytes, read_only, management, authenticated,
        event_id, account_id, event_source, event_name, access_key_id, username,
        principal_arn, error_code, resources, lookup_keys, record)
    SELECT t, b, ro, m, a, eid, acct, src, name, akid, uname, p, err, res,
        ARRAY(SELECT jsonb_array_elements_text(k::jsonb)), rec
    FROM UNNEST($1::BIGINT[], $2::INTEGER[], $3::BOOLEAN[], $4::BOOLEAN[], $5::BOOLEAN[],
        $6::TEXT[], $7::TEXT[], $8::TEXT[], $9::TEXT[], $10::TEXT[], $11::TEXT[], $12::TEXT[],
        $13::TEXT[], $14::TEXT[], $15::TEXT[], $16::TEXT[])
        WITH ORDINALITY AS r (t, b, ro, m, a, eid, acct, src, name, akid, uname, p, err, res,
            k, rec, n)
    ORDER BY n
    RETURNING authenticated, bytes
)
INSERT INTO audit_usage (shard, authenticated, bytes, records)
SELECT $17, authenticated, SUM(bytes), COUNT(*) FROM batch GROUP BY authenticated
ON CONFLICT (shard, authenticated) DO UPDATE
SET bytes = audit_usage.bytes + EXCLUDED.bytes, records = audit_usage.records + EXCLUDED.records";

/// Column arrays of a batch, in `INSERT`'s order.
#[derive(Default)]
struct Columns {
    time: Vec<i64>,
    bytes: Vec<i32>,
    read_only: Vec<bool>,
    management: Vec<bool>,
    authenticated: Vec<bool>,
    event_id: Vec<String>,
    account: Vec<String>,
    source: Vec<String>,
    name: Vec<String>,
    access_key: Vec<Option<String>>,
    username: Vec<Option<String>>,
    principal: Vec<Option<String>>,
    error_code: Vec<Option<String>>,
    resources: Vec<String>,
    keys: Vec<String>,
    record: Vec<String>,
}

impl Columns {
    fn push(&mut self, caller: Caller, event: NewEvent) {
        let event = without_nuls(event);
        self.time.push(event.event_time_ms);
        self.bytes.push(stored_bytes(&event));
        self.read_only.push(event.read_only);
        self.management.push(event.management);
        self.authenticated.push(caller == Caller::Authenticated);
        // Keys are read out of the resources' JSON, whose escaped NULs come back as NULs: a
        // NUL there would reach `jsonb`, which refuses `\u0000`, and fail the whole batch.
        let keys: Vec<String> = keys::of_event(&event)
            .into_iter()
            .map(without_nul)
            .collect();
        // A list of strings always serializes.
        let keys = serde_json::to_string(&keys).unwrap_or_default();
        self.keys.push(keys);
        self.event_id.push(event.event_id);
        self.account.push(event.account_id);
        self.source.push(event.event_source);
        self.name.push(event.event_name);
        self.access_key.push(event.access_key_id);
        self.username.push(event.username);
        self.principal.push(event.principal_arn);
        self.error_code.push(event.error_code);
        self.resources.push(event.resources);
        self.record.push(event.record);
    }
}

/// `event` with every NUL replaced (see [`without_nul`]).
fn without_nuls(event: NewEvent) -> NewEvent {
    NewEvent {
        event_id: without_nul(event.event_id),
        account_id: without_nul(event.account_id),
        event_source: without_nul(event.event_source),
        event_name: without_nul(event.event_name),
        access_key_id: event.access_key_id.map(without_nul),
        username: event.username.map(without_nul),
        principal_arn: event.principal_arn.map(without_nul),
        error_code: event.error_code.map(without_nul),
        resources: without_nul(event.resources),
        record: without_nul(event.record),
        ..event
    }
}

/// PostgreSQL's text cannot hold a NUL, and one row refused would fail its whole batch. JSON
/// escapes NUL (the record, the resources), but a column copied from the request (a claimed
/// access key) might hold one: it is replaced, as a journal line's JSON would have escaped it.
fn without_nul(text: String) -> String {
    if text.contains('\0') {
        text.replace('\0', "\u{fffd}")
    } else {
        text
    }
}

async fn insert(pool: &PgPool, shard: i32, c: Columns) -> Result<(), sqlx::Error> {
    sqlx::query(INSERT)
        .bind(c.time)
        .bind(c.bytes)
        .bind(c.read_only)
        .bind(c.management)
        .bind(c.authenticated)
        .bind(c.event_id)
        .bind(c.account)
        .bind(c.source)
        .bind(c.name)
        .bind(c.access_key)
        .bind(c.username)
        .bind(c.principal)
        .bind(c.error_code)
        .bind(c.resources)
        .bind(c.keys)
        .bind(c.record)
        .bind(shard)
        .execute(pool)
        .await?;
    Ok(())
}
