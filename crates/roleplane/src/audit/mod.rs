//! The audit trail: a CloudTrail record for every API call, allowed or denied, written durably
//! before the response it describes is sent; instance credential issuance recorded as EC2's
//! `AssumeRole`; retention pruning; JSON-lines export.
//!
//! - [`CallRecord`]: one call's record, filled in along the request path (`server/api.rs`).
//! - [`Audit`]: the running trail: [`Audit::record`] waits for the group commit ([`writer`]).
//! - [`instance_credentials`]: the record the metadata service's credential issuance makes.
//! - Storage is `store::AuditLog` (`DATA_DIR/audit.db`); reads go through `cloudtrail`.
//!
//! Secrets never reach a record: identities carry ids and ARNs only, request parameters hide
//! passwords, keys and tokens, and response elements copy named, non-secret fields only.

mod dates;
mod event_id;
pub mod export;
mod identity;
pub mod instance_credentials;
mod json_text;
mod parameters;
mod record;
mod resources;
mod response;
mod settings;
#[cfg(test)]
mod test_callers;
mod writer;

use std::path::Path;
use std::time::Duration;

use store::AuditLog;

pub use instance_credentials::InstanceCredentials;
pub use record::{CallRecord, EVENT_VERSION, is_read_only};
pub use settings::{AuditArgs, AuditMode, SyncLevel};
pub use writer::WriteError;

use writer::Writer;

/// How often retention pruning runs; the first run is at start.
const PRUNE_EVERY: Duration = Duration::from_secs(3600);

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("opening the audit log: {0}")]
    Open(#[from] store::StoreError),
    #[error("opening the audit log's writer: {0}")]
    Writer(#[from] store::audit::AppendError),
    #[error("starting the audit writer threads: {0}")]
    Thread(std::io::Error),
}

pub struct Audit {
    log: AuditLog,
    /// `None` when recording is off (the benchmark knob).
    writer: Option<Writer>,
    /// Where records of callers that failed authentication go.
    home_account: String,
}

impl Audit {
    /// Opens `DATA_DIR/audit.db`, starts the writer (unless off) and retention pruning.
    pub async fn start(
        data_dir: &Path,
        args: &AuditArgs,
        home_account: &str,
    ) -> Result<Audit, StartError> {
        let log = AuditLog::open_with(data_dir, args.audit_sync.into()).await?;
        let writer = match args.mode {
            AuditMode::On => Some(
                Writer::spawn(log.appender()?, log.checkpointer()?).map_err(StartError::Thread)?,
            ),
            AuditMode::Off => {
                tracing::warn!(
                    "audit recording is off (a benchmark setting): API calls leave no record"
                );
                None
            }
        };
        tokio::spawn(prune_forever(log.clone(), args.audit_retention_days));
        Ok(Audit {
            log,
            writer,
            home_account: home_account.to_owned(),
        })
    }

    pub fn log(&self) -> &AuditLog {
        &self.log
    }

    /// Finishes `record` and returns once it is durable. A record that cannot be written is
    /// logged: the operation it describes has already happened, and hiding its response would
    /// not undo it.
    pub async fn record(&self, record: CallRecord, request_id: &str) {
        let Some(writer) = &self.writer else { return };
        let Some(event) = record.finish(request_id, &self.home_account) else {
            return;
        };
        if let Err(error) = writer.write(event).await {
            tracing::error!(%error, request_id, "API call not recorded in the audit trail");
        }
    }

    /// Records EC2 issuing an instance's role credentials; returns once it is durable.
    pub async fn record_instance_credentials(
        &self,
        issue: &InstanceCredentials<'_>,
    ) -> Result<(), WriteError> {
        match &self.writer {
            Some(writer) => writer.write(issue.to_event()).await,
            None => Ok(()),
        }
    }

    pub async fn close(&self) {
        self.log.close().await;
    }
}

async fn prune_forever(log: AuditLog, retention_days: u32) {
    let mut every = tokio::time::interval(PRUNE_EVERY);
    loop {
        every.tick().await;
        let cutoff = time::OffsetDateTime::now_utc() - time::Duration::days(retention_days.into());
        match log.prune_before(record::epoch_ms(cutoff)).await {
            Ok(0) => {}
            Ok(pruned) => tracing::info!(pruned, retention_days, "pruned old audit records"),
            Err(error) => tracing::warn!(%error, "audit retention pruning failed"),
        }
    }
}

pub(crate) fn new_uuid() -> String {
    crate::server::request_id::new()
}
