//! Entry points of the fuzz targets that need roleplane itself (`crates/roleplane/fuzz`: the
//! operations' reading of their input, S3, web identity tokens with their issuers' key sets,
//! and what a host's agent reads from the control plane), shared with the corpus replay tests
//! (`tests/fuzz_corpus.rs`) so that both run the very same code: one function per target, any
//! bytes in. Errors are fine; a panic (or a broken round trip a target asserts) is a bug. The
//! wire's own decoders are fuzzed in the `protocol` crate, whose build is minutes, not a
//! quarter of an hour. Not part of the API.

mod agent;
mod json_input;
mod query_input;
mod s3;
mod web_identity;

pub use agent::agent_answers;
pub use json_input::{lookup_events, validate_policy};
pub use query_input::query_input;
pub use s3::S3Target;
pub use web_identity::{WEB_IDENTITY_CLIENT_ID, WEB_IDENTITY_NOW, web_identity_token};
