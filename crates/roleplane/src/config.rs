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

    /// Lifetime of an instance's role credential set, in seconds (EC2's are about 6 h).
    #[arg(long, env = "ROLEPLANE_IMDS_CREDENTIAL_LIFETIME", default_value_t = 6 * 3600, value_parser = clap::value_parser!(u64).range(60..=7 * 24 * 3600))]
    pub imds_credential_lifetime: u64,

    /// Age in seconds at which an instance gets a new credential set; at least 15 minutes
    /// below the lifetime, so the next set always exists well before the current one expires.
    #[arg(long, env = "ROLEPLANE_IMDS_CREDENTIAL_REFRESH", default_value_t = 3600, value_parser = clap::value_parser!(u64).range(1..))]
    pub imds_credential_refresh: u64,

    /// The account created on first start of an empty data dir.
    #[arg(long, env = "ROLEPLANE_ACCOUNT_ID", default_value = "123456789012", value_parser = account_id)]
    pub account_id: String,

    #[arg(long, env = "ROLEPLANE_REGION", default_value = "us-east-1")]
    pub region: String,

    /// Virtual-hosted-style S3: a host `BUCKET.DOMAIN` addresses the bucket; any other host
    /// (an IP address, `localhost`) is path-style.
    #[arg(long, env = "ROLEPLANE_S3_DOMAIN", default_value = crate::s3::DEFAULT_DOMAIN)]
    pub s3_domain: String,

    #[command(flatten)]
    pub connections: ConnectionArgs,
}

/// How long slow, idle and lingering API connections may hold their place, and how many there
/// may be (`server::connections`). Defaults never hurt a client that is sending.
#[derive(Debug, Clone, Args)]
pub struct ConnectionArgs {
    /// Seconds a request head may take to arrive whole, counted from when the server starts
    /// waiting for it; an idle keep-alive connection is closed after as long.
    #[arg(long, env = "ROLEPLANE_HEADER_TIMEOUT", default_value_t = 20, value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub header_timeout: u64,

    /// Minimum request body rate in bytes per second, over windows of time spent waiting for the
    /// client (`--body-rate-window`); a slower client is cut off. 0 turns it off.
    #[arg(long, env = "ROLEPLANE_BODY_MIN_RATE", default_value_t = 1024)]
    pub body_min_rate: u64,

    /// Seconds of waiting for a request body over which `--body-min-rate` is averaged.
    #[arg(long, env = "ROLEPLANE_BODY_RATE_WINDOW", default_value_t = 20, value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub body_rate_window: u64,

    /// Open API connections at most; at the cap, new ones wait in the listen backlog.
    #[arg(long, env = "ROLEPLANE_MAX_CONNECTIONS", default_value_t = 4096, value_parser = clap::value_parser!(u64).range(1..=1_000_000))]
    pub max_connections: u64,

    /// Seconds open connections get to finish after SIGTERM before they are dropped.
    #[arg(long, env = "ROLEPLANE_SHUTDOWN_GRACE", default_value_t = 10, value_parser = clap::value_parser!(u64).range(0..=3600))]
    pub shutdown_grace: u64,
}

impl ConnectionArgs {
    pub fn limits(&self) -> crate::server::ConnectionLimits {
        use std::time::Duration;
        crate::server::ConnectionLimits {
            header_timeout: Duration::from_secs(self.header_timeout),
            body_min_rate: crate::request::min_rate::MinRate {
                bytes_per_second: self.body_min_rate,
                window: Duration::from_secs(self.body_rate_window),
            },
            max_connections: usize::try_from(self.max_connections).unwrap_or(usize::MAX),
            shutdown_grace: Duration::from_secs(self.shutdown_grace),
        }
    }
}

impl ServeArgs {
    /// Where IMDS listens: `--imds-listen` (host mode) wins over `--imds-port` (local mode).
    pub fn imds_listen(&self) -> crate::metadata::Listen {
        match self.imds_listen {
            Some(addr) => crate::metadata::Listen::Host { addr },
            None => crate::metadata::Listen::Local {
                port: self.imds_port,
            },
        }
    }

    /// Which private addresses instances may be given: real ones only in host mode.
    pub fn addressing(&self) -> crate::ec2::addresses::Addressing {
        match self.imds_listen {
            Some(_) => crate::ec2::addresses::Addressing::Host,
            None => crate::ec2::addresses::Addressing::Local,
        }
    }

    /// The credential rotation schedule of `--imds-credential-lifetime` and `-refresh`.
    pub fn rotation(&self) -> Result<crate::metadata::Rotation, String> {
        crate::metadata::Rotation::new(
            std::time::Duration::from_secs(self.imds_credential_lifetime),
            std::time::Duration::from_secs(self.imds_credential_refresh),
        )
    }
}

fn account_id(value: &str) -> Result<String, String> {
    if value.len() == 12 && value.bytes().all(|b| b.is_ascii_digit()) {
        Ok(value.to_owned())
    } else {
        Err("an AWS account ID is exactly 12 digits".to_owned())
    }
}
