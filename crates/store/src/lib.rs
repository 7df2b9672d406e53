//! roleplane's durable store: the persistence layer under the IAM, STS and EC2 services.
//!
//! - [`Store`] is the backend-neutral interface (see its module for the concurrency and
//!   durability contract); [`SqliteStore`] is the embedded default backend, [`PgStore`] the
//!   backend replicas share (decision 0026).
//! - [`model`] holds the plain records; [`StoreError`] the typed failures, each knowing the AWS
//!   code, status and message it becomes on the wire.
//! - [`ids`] mints the unique IDs and ARNs entities are born with.
//!
//! Validation of names, paths and policy documents, XML and authorization live in the server;
//! the store enforces the invariants that need the stored state.

pub mod audit;
pub mod copy;
pub mod error;
pub mod groups;
pub mod hosts;
pub mod ids;
pub mod model;
pub mod page;
mod postgres;
pub mod s3;
mod sqlite;
mod store;

pub use audit::{AUDIT_DATABASE_FILE, AuditLog, AuditTrail, PgAuditLog};
pub use error::{Conflict, Ec2Rejection, EntityKind, NUL_REFUSED, Quota, Result, StoreError};
pub use groups::*;
pub use hosts::*;
pub use model::*;
pub use page::{ListQuery, Page};
pub use postgres::{DatabaseUrl, PgStore};
pub use s3::*;
pub use sqlite::{DATABASE_FILE, SqliteStore, assignable_loopback};
pub use store::{
    ACCESS_KEYS_PER_USER, EC2_TAGS_PER_RESOURCE, MANAGED_POLICIES_PER_PRINCIPAL, PoolUse, Store,
    VERSIONS_PER_POLICY,
};
