//! roleplane: IAM roles for compute instances, self-hosted.

pub mod cli;
pub mod credentials;
pub mod protocol;
