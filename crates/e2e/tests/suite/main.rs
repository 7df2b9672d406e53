//! The end-to-end tests, one module per capability, linked into one test binary: each binary
//! links the AWS SDKs (~700 MB unstripped in a debug build), so one binary instead of nineteen
//! keeps a clean build small on disk and links once.

mod analyzer;
mod api_robustness;
mod audit;
mod audit_cap;
mod audit_durability;
mod auth_scope;
mod connections;
mod disk_full;
mod ec2;
mod ec2_addresses;
mod ec2_cli;
mod ec2_existence;
mod ec2_network;
mod ec2_pass_role;
mod ec2_tags;
mod failure_limits;
mod generate_api;
mod generate_s3;
mod generate_scenario;
mod iam;
mod iam_cli;
mod imds;
mod imds_clients;
mod imds_host_mode;
mod imds_identity;
mod imds_ipv6;
mod imds_tree;
mod isolation;
mod key_pairs;
mod readme;
mod revoke;
mod run;
mod s3_authz;
mod s3_bad_input;
mod s3_boto3;
mod s3_cli;
mod s3_durability;
mod s3_sdk;
mod simulate;
mod sts;
mod sts_assume_role;
mod tag_rules;
mod web_identity;
