//! `roleplane serve` settings: the interface contract's flags, each with an `ROLEPLANE_<FLAG>` twin.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::Args;

#[derive(Debug, Clone, Args)]
pub struct ServeArgs {
    /// Where the embedded store, the master key and the admin credentials file live.
    #[arg(long, env = "ROLEPLANE_DATA_DIR", default_value = "roleplane-data")]
    pub data_dir: PathBuf,

    /// The AWS API listener (IAM, STS, EC2, …, routed by the SigV4 credential scope).
    #[arg(long, env = "ROLEPLANE_API_ADDR", default_value = "127.0.0.1:9100")]
    pub api_addr: SocketAddr,

    /// Local-mode IMDS port, served on each instance's own loopback address.
    #[arg(long, env = "ROLEPLANE_IMDS_PORT", default_value_t = 9169)]
    pub imds_port: u16,

    /// Host-mode IMDS listener (e.g. `169.254.169.254:80`): callers are attributed by source address.
    #[arg(long, env = "ROLEPLANE_IMDS_LISTEN")]
    pub imds_listen: Option<SocketAddr>,

    /// The account created on first start of an empty data dir.
    #[arg(long, env = "ROLEPLANE_ACCOUNT_ID", default_value = "123456789012", value_parser = account_id)]
    pub account_id: String,

    #[arg(long, env = "ROLEPLANE_REGION", default_value = "us-east-1")]
    pub region: String,
}

fn account_id(value: &str) -> Result<String, String> {
    if value.len() == 12 && value.bytes().all(|b| b.is_ascii_digit()) {
        Ok(value.to_owned())
    } else {
        Err("an AWS account ID is exactly 12 digits".to_owned())
    }
}
