//! The trail a server or a reader works with: the data dir's journals and their index
//! ([`AuditLog`], the embedded default), or the table replicas share in PostgreSQL
//! ([`PgAuditLog`], with `--store postgres://…`). The one place outside the two that knows
//! there are two: LookupEvents, `audit export`, policy generation and retention read through
//! it.

use super::model::{Event, EventQuery};
use super::{AuditLog, PgAuditLog};
use crate::error::Result;

#[derive(Debug, Clone)]
pub enum AuditTrail {
    Files(AuditLog),
    Postgres(PgAuditLog),
}

impl AuditTrail {
    /// One page of events matching `query`, in its order; every record made durable before
    /// the call is seen (the journals' index catches up first; PostgreSQL's rows are
    /// committed before their calls are answered).
    pub async fn lookup(&self, query: &EventQuery<'_>) -> Result<Vec<Event>> {
        match self {
            Self::Files(log) => log.lookup(query).await,
            Self::Postgres(log) => log.lookup(query).await,
        }
    }

    /// Removes every event older than `cutoff_ms`; how many, or `None` when another replica
    /// is pruning the shared trail.
    pub async fn prune_before(&self, cutoff_ms: i64) -> Result<Option<u64>> {
        match self {
            Self::Files(log) => log.prune_before(cutoff_ms).await.map(Some),
            Self::Postgres(log) => log.prune_before(cutoff_ms).await,
        }
    }

    /// Waits for in-flight work and closes every connection.
    pub async fn close(&self) {
        match self {
            Self::Files(log) => log.close().await,
            Self::Postgres(log) => log.close().await,
        }
    }
}

impl From<AuditLog> for AuditTrail {
    fn from(log: AuditLog) -> Self {
        Self::Files(log)
    }
}

impl From<PgAuditLog> for AuditTrail {
    fn from(log: PgAuditLog) -> Self {
        Self::Postgres(log)
    }
}
