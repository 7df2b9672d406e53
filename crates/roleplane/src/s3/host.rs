//! Virtual-hosted-style addressing: `BUCKET.DOMAIN` names the bucket; any other host (an IP
//! address, `localhost`) is path-style. s3s's own `SingleDomain` would read any other valid
//! domain as a bucket (a CNAME), so `localhost:9100` would address a bucket named `localhost`.

use s3s::S3Result;
use s3s::host::{S3Host, VirtualHost};

use super::recognize::{bucket_of_host, strip_port};

/// The default `--s3-domain`.
pub const DEFAULT_DOMAIN: &str = "s3.localhost";

pub struct S3Domain {
    domain: String,
}

impl S3Domain {
    pub fn new(domain: Option<&str>) -> Self {
        Self {
            domain: domain.unwrap_or(DEFAULT_DOMAIN).to_ascii_lowercase(),
        }
    }
}

impl S3Host for S3Domain {
    fn parse_host_header<'a>(&'a self, host: &'a str) -> S3Result<VirtualHost<'a>> {
        Ok(match bucket_of_host(host, &self.domain) {
            Some(bucket) => VirtualHost::new(self.domain.as_str()).with_bucket(bucket),
            None => VirtualHost::new(strip_port(host)),
        })
    }
}
