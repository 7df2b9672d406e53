//! roleplane: IAM roles for compute instances, self-hosted.

pub mod analyzer;
pub mod audit;
pub mod cli;
pub mod cloudtrail;
pub mod config;
pub mod credentials;
pub mod datadir;
pub mod ec2;
pub mod generate;
pub mod iam;
pub mod metadata;
pub mod protocol;
pub mod run;
pub mod server;
pub mod sts;
pub mod tag_rules;

/// Every operation served, by the signing name of the service that serves it. Tests that must
/// cover every operation (the cross-account walk) check themselves against this list.
pub fn operations() -> Vec<(&'static str, Vec<&'static str>)> {
    vec![
        ("iam", iam::OPERATIONS.to_vec()),
        ("sts", sts::OPERATIONS.to_vec()),
        ("ec2", ec2::OPERATIONS.to_vec()),
        ("cloudtrail", cloudtrail::OPERATIONS.to_vec()),
        (analyzer::SERVICE, analyzer::operations()),
    ]
}
