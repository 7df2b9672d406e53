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
