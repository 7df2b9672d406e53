//! The audit trail: a CloudTrail record for every API call, allowed or denied, written durably
//! before the response it describes is sent; instance credential issuance recorded as EC2's
//! `AssumeRole`; retention pruning; JSON-lines export.
//!
//! - [`CallRecord`]: one call's record, filled in along the request path (`server/api.rs`).
//! - [`Audit`]: the running trail: [`Audit::record`] appends to the journal on the request's
//!   own thread (one `write(2)`), the [`indexer`] thread summarises it into `audit.db` later.
//! - [`instance_credentials`]: the record the metadata service's credential issuance makes.
//! - Storage is `store::AuditLog` (`DATA_DIR/audit/journal-*.jsonl`, indexed in
//!   `DATA_DIR/audit.db`); reads go through `cloudtrail`. Why this shape:
//!   `docs/decisions/0003-audit-durability.md`.
//! - On PostgreSQL (`--store postgres://…`) the trail is that database's instead
//!   (`store::PgAuditLog`, decision 0027): [`Audit::record`] waits for its record's group
//!   commit, so every replica's lookups see it once the response leaves. Readers go through
//!   `store::AuditTrail`, either backend.
//!
//! The trail fails closed: once the journal cannot take a record (a full disk; on PostgreSQL a
//! commit that failed), [`Audit`] says so (`is_writable`) and the pipeline answers every call
//! 503 until a probe finds room (the database) again.
//!
//! Records of calls without an authenticated caller go to a journal of their own, which the
//! size cap ([`cap`]) evicts first; `--audit-at-cap fail-closed` closes the trail the same way
//! once only authenticated calls' records are left at the cap.
//!
//! Secrets never reach a record: identities carry ids and ARNs only, request parameters hide
//! passwords, keys and tokens, and response elements copy named, non-secret fields only.

mod cap;
#[cfg(test)]
mod cap_tests;
mod dates;
mod event_id;
pub mod export;
mod identity;
mod indexer;
pub mod instance_credentials;
mod json_text;
mod parameters;
mod record;
mod resources;
mod response;
mod settings;
#[cfg(test)]
mod test_callers;
#[cfg(test)]
mod tests;

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use store::audit::{AuditSync, AuditTrail, Caller, CommitError, Journal, NewEvent, PgAuditLog};
use store::{AuditLog, DatabaseUrl};

use crate::metrics::AuditMetrics;

pub use instance_credentials::InstanceCredentials;
pub use record::{AuditedInput, CallRecord, EVENT_VERSION, S3Names, is_read_only};
pub use settings::{AtCap, AuditArgs, AuditMode, SyncLevel};

/// A record that could not be made durable.
#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    #[error("appending to the audit journal: {0}")]
    Journal(#[from] std::io::Error),
    #[error("the audit journal's sync task stopped: {0}")]
    Stopped(#[from] tokio::task::JoinError),
    #[error(transparent)]
    Database(#[from] CommitError),
}

/// How often a journal that refused a record is asked whether it can take records again.
const PROBE_EVERY: Duration = Duration::from_secs(1);

/// How often retention pruning runs; the first run is at start.
const PRUNE_EVERY: Duration = Duration::from_secs(3600);

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("opening the audit log: {0}")]
    Open(#[from] store::StoreError),
    #[error("starting the audit indexer thread: {0}")]
    Thread(std::io::Error),
    #[error("{0}")]
    Settings(String),
}

/// Where this process's records go.
#[derive(Debug, Clone)]
enum Sink {
    /// The data dir's two journals.
    Journals(Journals),
    /// The PostgreSQL database replicas share, through this process's group commit.
    Database(PgAuditLog),
}

/// This process's two journals.
#[derive(Debug, Clone)]
struct Journals {
    authenticated: Arc<Journal>,
    unauthenticated: Arc<Journal>,
}

impl Journals {
    fn of(&self, caller: Caller) -> &Arc<Journal> {
        match caller {
            Caller::Authenticated => &self.authenticated,
            Caller::Unauthenticated => &self.unauthenticated,
        }
    }
}

pub struct Audit {
    trail: AuditTrail,
    /// `None` when recording is off (the benchmark knob).
    sink: Option<Sink>,
    sync: AuditSync,
    /// Where records of callers that failed authentication go.
    home_account: String,
    /// `false` from a refused record until the journal has room again.
    writable: Arc<AtomicBool>,
    /// `true` while the size cap holds the trail shut (`--audit-at-cap fail-closed`).
    capped: Arc<AtomicBool>,
    metrics: AuditMetrics,
    /// The size cap's thread runs while this lives.
    _keeper_alive: Arc<()>,
}

impl Audit {
    /// Opens the audit trail where the store is (the data dir's journals, or the PostgreSQL
    /// database at `store_url`, as `AnyStore::open` chooses), starts recording (unless off),
    /// the size cap's keeper and retention pruning.
    pub async fn start(
        data_dir: &Path,
        store_url: Option<&DatabaseUrl>,
        args: &AuditArgs,
        home_account: &str,
    ) -> Result<Audit, StartError> {
        match store_url {
            Some(url) => Self::start_on_database(url, args, home_account).await,
            None => Self::start_in(data_dir, args, home_account).await,
        }
    }

    /// The data dir's journals and their index.
    async fn start_in(
        data_dir: &Path,
        args: &AuditArgs,
        home_account: &str,
    ) -> Result<Audit, StartError> {
        let sync = args.audit_sync.into();
        let max_bytes = args.max_bytes().map_err(StartError::Settings)?;
        let log = AuditLog::open_with(data_dir, sync).await?;
        let metrics = AuditMetrics::default();
        let capped = Arc::new(AtomicBool::new(false));
        let keeper_alive = Arc::new(());
        let journals = match args.mode {
            AuditMode::On => {
                let segment_bytes = args.segment_bytes();
                let journals = Journals {
                    authenticated: log
                        .journal_for(Caller::Authenticated, segment_bytes)
                        .await?,
                    unauthenticated: log
                        .journal_for(Caller::Unauthenticated, segment_bytes)
                        .await?,
                };
                indexer::spawn(log.clone(), &journals.authenticated).map_err(StartError::Thread)?;
                let keeper = cap::Keeper {
                    space: cap::Space::Files(log.clone()),
                    cap: max_bytes.map(|max_bytes| cap::Cap {
                        max_bytes,
                        at_cap: args.audit_at_cap,
                        slack_bytes: segment_bytes,
                    }),
                    metrics: metrics.clone(),
                    closed: capped.clone(),
                };
                cap::spawn(keeper, &keeper_alive).map_err(StartError::Thread)?;
                Some(Sink::Journals(journals))
            }
            AuditMode::Off => {
                warn_off();
                None
            }
        };
        let trail = AuditTrail::Files(log);
        tokio::spawn(prune_forever(trail.clone(), args.audit_retention_days));
        Ok(Audit {
            trail,
            sink: journals,
            sync,
            home_account: home_account.to_owned(),
            writable: Arc::new(AtomicBool::new(true)),
            capped,
            metrics,
            _keeper_alive: keeper_alive,
        })
    }

    /// The trail in the PostgreSQL database replicas share (decision 0027): `--audit-sync`
    /// and `--audit-segment-mib` have no say there (the database's commit is the durability
    /// point); the size cap counts the records' bytes.
    async fn start_on_database(
        url: &DatabaseUrl,
        args: &AuditArgs,
        home_account: &str,
    ) -> Result<Audit, StartError> {
        let log = PgAuditLog::connect(url).await?;
        let metrics = AuditMetrics {
            commits: Some(log.commit_counts().clone()),
            ..AuditMetrics::default()
        };
        let capped = Arc::new(AtomicBool::new(false));
        let keeper_alive = Arc::new(());
        let sink = match args.mode {
            AuditMode::On => {
                let keeper = cap::Keeper {
                    space: cap::Space::Database {
                        log: log.clone(),
                        runtime: tokio::runtime::Handle::current(),
                    },
                    cap: args.max_database_bytes().map(|max_bytes| cap::Cap {
                        max_bytes,
                        at_cap: args.audit_at_cap,
                        slack_bytes: 0,
                    }),
                    metrics: metrics.clone(),
                    closed: capped.clone(),
                };
                cap::spawn(keeper, &keeper_alive).map_err(StartError::Thread)?;
                Some(Sink::Database(log.clone()))
            }
            AuditMode::Off => {
                warn_off();
                None
            }
        };
        let trail = AuditTrail::Postgres(log);
        tokio::spawn(prune_forever(trail.clone(), args.audit_retention_days));
        Ok(Audit {
            trail,
            sink,
            sync: AuditSync::default(),
            home_account: home_account.to_owned(),
            writable: Arc::new(AtomicBool::new(true)),
            capped,
            metrics,
            _keeper_alive: keeper_alive,
        })
    }

    /// Whether the journal takes records. While it does not (a full disk, or the size cap
    /// with `--audit-at-cap fail-closed`), nothing may be acknowledged: callers answer 503
    /// without doing the work, and say so ([`Audit::refuse_call`]).
    pub fn is_writable(&self) -> bool {
        self.writable.load(Ordering::Relaxed) && !self.capped.load(Ordering::Relaxed)
    }

    /// Counts a call answered 503 because the trail could not take its record.
    pub fn refuse_call(&self) {
        self.metrics.refused.inc();
    }

    /// The trail's metrics, for the admin listener's registry.
    pub fn metrics(&self) -> &AuditMetrics {
        &self.metrics
    }

    /// Whether API calls are recorded (always, except under the benchmark knob).
    pub fn is_recording(&self) -> bool {
        self.sink.is_some()
    }

    /// The trail, for lookups (LookupEvents, policy generation).
    pub fn log(&self) -> &AuditTrail {
        &self.trail
    }

    /// Finishes `record` and returns once it is durable. A record that cannot be written fails
    /// the call (the caller answers 503: its operation may have happened, as after any 503)
    /// and closes the trail until the journal has room again.
    pub async fn record(&self, record: CallRecord, request_id: &str) -> Result<(), WriteError> {
        if self.sink.is_none() {
            return Ok(());
        }
        // Strangers' records go where the size cap evicts first; an anonymous S3 call counts
        // as a stranger's even when a bucket policy allowed it (decision 0017).
        let caller = if record.has_authenticated_caller() {
            Caller::Authenticated
        } else {
            Caller::Unauthenticated
        };
        let Some(event) = record.finish(request_id, &self.home_account) else {
            return Ok(());
        };
        self.append(caller, event).await.inspect_err(|error| {
            tracing::error!(%error, request_id, "API call not recorded in the audit trail");
            self.refuse_call();
            self.refused(caller);
        })
    }

    /// `caller`'s journal (or the database) refused a record: closed until a probe finds it
    /// can take records again.
    fn refused(&self, caller: Caller) {
        let Some(sink) = &self.sink else {
            return;
        };
        if !self.writable.swap(false, Ordering::Relaxed) {
            return; // A probe is already running.
        }
        tracing::error!(
            "the audit trail cannot take records: every API call is answered 503 until it can"
        );
        let sink = sink.clone();
        let writable = self.writable.clone();
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(PROBE_EVERY).await;
                match probe(&sink, caller).await {
                    Ok(()) => break,
                    Err(error) => {
                        tracing::debug!(%error, "the audit trail cannot take records yet")
                    }
                }
            }
            writable.store(true, Ordering::Relaxed);
            tracing::info!("the audit trail takes records again; API calls are served");
        });
    }

    /// Records EC2 issuing an instance's role credentials; returns once it is durable.
    pub async fn record_instance_credentials(
        &self,
        issue: &InstanceCredentials<'_>,
    ) -> Result<(), WriteError> {
        self.append(Caller::Authenticated, issue.to_event()).await
    }

    /// At `normal`, a `write(2)` to the page cache right here on the request's worker: a few
    /// microseconds, cheaper than any hand-off. At `full` the `fdatasync` would stall every
    /// connection on this worker, so it runs on the blocking pool. On PostgreSQL, the wait for
    /// the group commit that holds the record.
    async fn append(&self, caller: Caller, event: NewEvent) -> Result<(), WriteError> {
        let Some(sink) = &self.sink else {
            return Ok(());
        };
        let _pending = self.metrics.pending_record();
        let journals = match sink {
            Sink::Journals(journals) => journals,
            Sink::Database(log) => return Ok(log.append(caller, event).await?),
        };
        let journal = journals.of(caller);
        match self.sync {
            AuditSync::Normal => journal.append(&event)?,
            AuditSync::Full => {
                let journal = journal.clone();
                tokio::task::spawn_blocking(move || journal.append(&event)).await??;
            }
        }
        Ok(())
    }

    pub async fn close(&self) {
        self.trail.close().await;
    }
}

fn warn_off() {
    tracing::warn!("audit recording is off (a benchmark setting): API calls leave no record");
}

/// Whether a trail that refused a record for `caller` can take records again: the journal
/// can prepare its next segment, or the database answers.
async fn probe(sink: &Sink, caller: Caller) -> Result<(), String> {
    match sink {
        Sink::Journals(journals) => {
            let journal = journals.of(caller).clone();
            match tokio::task::spawn_blocking(move || journal.ensure_spare()).await {
                Ok(outcome) => outcome.map_err(|e| e.to_string()),
                Err(error) => Err(error.to_string()),
            }
        }
        Sink::Database(log) => log.probe().await.map_err(|e| e.to_string()),
    }
}

async fn prune_forever(trail: AuditTrail, retention_days: u32) {
    let mut every = tokio::time::interval(PRUNE_EVERY);
    loop {
        every.tick().await;
        let cutoff = time::OffsetDateTime::now_utc() - time::Duration::days(retention_days.into());
        match trail.prune_before(record::epoch_ms(cutoff)).await {
            Ok(Some(0)) => {}
            Ok(Some(pruned)) => {
                tracing::info!(pruned, retention_days, "pruned old audit records");
            }
            // Another replica prunes the shared trail this time.
            Ok(None) => {}
            Err(error) => tracing::warn!(%error, "audit retention pruning failed"),
        }
    }
}

pub(crate) fn new_uuid() -> String {
    crate::request::request_id::new()
}
