//! roleplane: IAM roles for compute instances, self-hosted.

pub mod agent;
pub mod agent_api;
pub mod analyzer;
pub mod any_store;
pub mod audit;
pub mod aws_policies;
pub mod cli;
pub mod cloudtrail;
pub mod config;
pub mod credentials;
pub mod datadir;
pub mod ec2;
#[doc(hidden)]
pub mod fuzzing;
pub mod generate;
pub mod iam;
pub mod instance_identity;
pub mod metadata;
pub mod metrics;
pub mod pem;
pub mod request;
pub mod run;
pub mod s3;
pub mod server;
pub mod shared_credentials;
pub mod sts;
pub mod tag_rules;
pub mod web_identity;

/// Every operation served, by the signing name of the service that serves it (the routing
/// table's). Tests that must cover every operation (the cross-account walk) check themselves
/// against this list.
pub fn operations() -> Vec<(&'static str, &'static [&'static str])> {
    server::routes::operations()
}

/// The agent API's signing name and operations: what a host's agent credential may call.
pub fn agent_operations() -> (&'static str, &'static [&'static str]) {
    server::routes::agent_operations()
}
