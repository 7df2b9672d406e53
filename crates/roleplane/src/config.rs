//! `roleplane serve` settings: the interface contract's flags, each with an `ROLEPLANE_<FLAG>` twin,
//! and a TOML file of the same settings ([`file`], `--config`). A setting that holds a secret is
//! declared `hide_env_values = true`: `roleplane config show` ([`show`]) prints it redacted.

pub mod file;
pub mod show;

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Args, ValueEnum};

#[derive(Debug, Clone, Args)]
pub struct ServeArgs {
    /// A TOML file of these settings, keyed by their long flag names (`api-addr =
    /// "127.0.0.1:9100"`); a flag or environment variable overrides the file. Unknown keys are
    /// refused.
    #[arg(long = file::CONFIG_ARG, env = "ROLEPLANE_CONFIG")]
    pub config: Option<PathBuf>,

    /// Where the embedded store, the master key and the admin credentials file live.
    #[arg(long, env = "ROLEPLANE_DATA_DIR", default_value = "roleplane-data")]
    pub data_dir: PathBuf,

    /// Run on this PostgreSQL database instead of the data dir's SQLite:
    /// `postgres://USER[:PASSWORD]@HOST[:PORT]/DB`, with libpq's parameters such as
    /// `sslmode=verify-full&sslrootcert=PATH`. Replicas on one database serve the same IAM, STS
    /// and EC2 state; give them all the same `ROLEPLANE_MASTER_KEY`, and one `--s3-dir`. The
    /// password is never printed.
    #[arg(long, env = "ROLEPLANE_STORE", hide_env_values = true)]
    pub store: Option<store::DatabaseUrl>,

    /// Where S3 object bytes live (their records are in the store): `DATA_DIR/s3` by default.
    /// Replicas on one `--store` name one directory they all mount (NFS, CephFS, …): a
    /// replica reads what another wrote, because a blob is written to a temporary, fsynced and
    /// renamed into place under a new name, and never changed after.
    #[arg(long, env = "ROLEPLANE_S3_DIR")]
    pub s3_dir: Option<PathBuf>,

    /// The AWS API listener (IAM, STS, EC2, …, routed by the SigV4 credential scope).
    #[arg(long, env = "ROLEPLANE_API_ADDR", default_value = "127.0.0.1:9100")]
    pub api_addr: SocketAddr,

    /// Local-mode IMDS port, served on each instance's own loopback address.
    #[arg(long, env = "ROLEPLANE_IMDS_PORT", default_value_t = 9169)]
    pub imds_port: u16,

    /// Host-mode IMDS listener (e.g. `169.254.169.254:80`, `[fd00:ec2::254]:80`): callers are
    /// attributed by source address. Repeatable, one listener each; the environment twin takes
    /// a comma-separated list.
    #[arg(long, env = "ROLEPLANE_IMDS_LISTEN", value_delimiter = ',')]
    pub imds_listen: Vec<SocketAddr>,

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

    /// The admin listener (`GET /healthz`, `/readyz`, `/metrics` in Prometheus text), e.g.
    /// `127.0.0.1:9190`; off when unset. Keep it off networks the API serves: it is
    /// unauthenticated.
    #[arg(long, env = "ROLEPLANE_ADMIN_ADDR")]
    pub admin_addr: Option<SocketAddr>,

    /// How log lines are written to standard output: `text` for people, `json` (one object
    /// per line) for log collectors.
    #[arg(long, env = "ROLEPLANE_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,

    #[command(flatten)]
    pub tls: TlsArgs,

    #[command(flatten)]
    pub connections: ConnectionArgs,

    #[command(flatten)]
    pub web_identity: WebIdentityArgs,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

/// HTTPS on the API listener. Both or neither: with them the listener speaks TLS only.
#[derive(Debug, Clone, Args)]
pub struct TlsArgs {
    /// The API listener's certificate chain, PEM, leaf first; read again when it changes.
    #[arg(long, env = "ROLEPLANE_TLS_CERT", requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,

    /// The private key of `--tls-cert`, PEM (PKCS#8, PKCS#1 or SEC1); read again when it
    /// changes.
    #[arg(long, env = "ROLEPLANE_TLS_KEY", requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
}

/// Where AssumeRoleWithWebIdentity finds an issuer's keys (decision 0022).
#[derive(Debug, Clone, Args)]
pub struct WebIdentityArgs {
    /// An issuer's keys from a local JWK set file instead of its discovery document, for hosts
    /// without network: `ISSUER=PATH` (`https://oidc.example.com/id/X=/etc/jwks.json`).
    /// Repeatable; the environment twin takes a comma-separated list.
    #[arg(long = "oidc-jwks", env = "ROLEPLANE_OIDC_JWKS", value_delimiter = ',')]
    pub oidc_jwks: Vec<String>,

    /// PEM certificates trusted, beside the Mozilla roots, for fetching issuers' keys over HTTPS.
    #[arg(long, env = "ROLEPLANE_OIDC_CA_FILE")]
    pub oidc_ca_file: Option<PathBuf>,
}

impl WebIdentityArgs {
    /// The issuers' keys as these settings describe them; a file that cannot be read stops
    /// the server at start rather than failing every call.
    pub fn issuer_keys(&self) -> anyhow::Result<crate::web_identity::IssuerKeys> {
        let files = crate::web_identity::IssuerKeys::read_files(&self.oidc_jwks)?;
        let extra = match &self.oidc_ca_file {
            Some(path) => crate::pem::certificates(path)?,
            None => Vec::new(),
        };
        let fetcher = crate::web_identity::Fetcher::new(&extra)?;
        Ok(crate::web_identity::IssuerKeys::new(files, Some(fetcher)))
    }
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

    /// Failing unauthenticated calls per second allowed from one source address with one
    /// claimed access key id (bursts of ten seconds' worth; ten times as many per address,
    /// whatever the key). Beyond it they are answered `Throttling` (S3: `SlowDown`) and leave
    /// no audit record. A valid signature is never counted. 0 turns it off.
    #[arg(long, env = "ROLEPLANE_AUTH_FAILURE_RATE", default_value_t = 5.0)]
    pub auth_failure_rate: f64,

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
        if self.imds_listen.is_empty() {
            crate::metadata::Listen::Local {
                port: self.imds_port,
            }
        } else {
            crate::metadata::Listen::Host {
                addrs: self.imds_listen.clone(),
            }
        }
    }

    /// Which private addresses instances may be given: real ones only in host mode.
    pub fn addressing(&self) -> crate::ec2::addresses::Addressing {
        if self.imds_listen.is_empty() {
            crate::ec2::addresses::Addressing::Local
        } else {
            crate::ec2::addresses::Addressing::Host
        }
    }

    /// The credential rotation schedule of `--imds-credential-lifetime` and `-refresh`.
    pub fn rotation(&self) -> Result<crate::metadata::Rotation, String> {
        use crate::metadata::Rotation;
        // Test-only: tests of expiry (the host agent's static stability) need sets that expire
        // within a minute, which the 15-minute margin forbids. Not a flag: no operator should
        // find it in `--help` or `config show`.
        let margin = match std::env::var("ROLEPLANE_TEST_ROTATION_MARGIN") {
            Ok(secs) => std::time::Duration::from_secs(
                secs.parse()
                    .map_err(|_| format!("ROLEPLANE_TEST_ROTATION_MARGIN={secs} is not seconds"))?,
            ),
            Err(_) => Rotation::MARGIN,
        };
        Rotation::with_margin(
            std::time::Duration::from_secs(self.imds_credential_lifetime),
            std::time::Duration::from_secs(self.imds_credential_refresh),
            margin,
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

#[cfg(test)]
mod tests {
    use std::net::SocketAddr;

    use clap::Parser;

    use super::ServeArgs;
    use crate::ec2::addresses::Addressing;
    use crate::metadata::Listen;

    #[derive(Parser)]
    struct Serve {
        #[command(flatten)]
        args: ServeArgs,
    }

    /// `serve` with its audit flags too, as the CLI has it.
    #[derive(Parser)]
    #[command(name = "serve")]
    struct FullServe {
        #[command(flatten)]
        args: ServeArgs,
        #[command(flatten)]
        audit: crate::audit::AuditArgs,
    }

    /// `serve FLAGS` with `file` as its `--config`: the settings, and those the file gave.
    fn with_file(
        file: &str,
        flags: &[&str],
    ) -> anyhow::Result<(ServeArgs, crate::audit::AuditArgs, Vec<String>)> {
        use clap::{CommandFactory as _, FromArgMatches as _};
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("roleplane.toml");
        std::fs::write(&path, file).unwrap();
        let mut argv: Vec<std::ffi::OsString> = vec!["serve".into(), "--config".into()];
        argv.push(path.into_os_string());
        argv.extend(flags.iter().map(|f| f.into()));
        let command = FullServe::command();
        let matches = command.clone().try_get_matches_from(&argv)?;
        let merged = super::file::merge(&command, &argv, matches)?;
        let serve = FullServe::from_arg_matches(&merged.matches)?;
        Ok((
            serve.args,
            serve.audit,
            merged.from_file.into_iter().collect(),
        ))
    }

    #[test]
    fn a_flag_beats_the_file_and_the_file_beats_the_default() {
        let file = r#"
            api-addr = "127.0.0.2:9200"
            imds-port = 9300
            imds-listen = ["169.254.169.254:80", "[fd00:ec2::254]:80"]
            auth-failure-rate = 2.5
            audit-max-mib = 2048
            log-format = "json"
        "#;
        let (args, audit, from_file) = with_file(file, &["--imds-port", "9400"]).unwrap();
        assert_eq!(args.api_addr, "127.0.0.2:9200".parse().unwrap());
        assert_eq!(args.imds_port, 9400, "the flag wins");
        assert_eq!(
            args.imds_listen,
            addrs(&["169.254.169.254:80", "[fd00:ec2::254]:80"])
        );
        assert_eq!(args.connections.auth_failure_rate, 2.5);
        assert_eq!(audit.audit_max_mib, 2048);
        assert_eq!(args.log_format, super::LogFormat::Json);
        // Untouched: the defaults.
        assert_eq!(args.region, "us-east-1");
        assert_eq!(audit.audit_segment_mib, 64);
        assert_eq!(
            from_file,
            [
                "api_addr",
                "audit_max_mib",
                "auth_failure_rate",
                "imds_listen",
                "log_format"
            ]
        );
        // The same flag repeated on the command line replaces the file's list whole.
        let (args, _, _) = with_file(file, &["--imds-listen", "10.0.0.1:80"]).unwrap();
        assert_eq!(args.imds_listen, addrs(&["10.0.0.1:80"]));
    }

    #[test]
    fn the_file_is_refused_for_an_unknown_key_or_a_value_its_flag_refuses() {
        let cases = [
            (r#"api-adr = "127.0.0.1:1""#, "unknown key `api-adr`"),
            // Underscores are not the flags' spelling.
            (r#"api_addr = "127.0.0.1:1""#, "unknown key `api_addr`"),
            // Neither is the file itself, nor clap's own flags.
            (r#"config = "other.toml""#, "unknown key `config`"),
            ("help = true", "unknown key `help`"),
            (r#"imds-port = "x""#, "key `imds-port`: invalid value 'x'"),
            (
                "imds-credential-lifetime = 5",
                "key `imds-credential-lifetime`: invalid value '5'",
            ),
            (
                r#"account-id = "12""#,
                "key `account-id`: invalid value '12'",
            ),
            (
                r#"log-format = "xml""#,
                "key `log-format`: invalid value 'xml'",
            ),
            (r#"region = ["a", "b"]"#, "key `region` takes one value"),
            // Groups are flattened as the flags are: no tables.
            (
                "[connections]\nheader-timeout = 3",
                "unknown key `connections`",
            ),
            (
                "region = { name = \"x\" }",
                "key `region`: expected a string",
            ),
            ("api-addr = ", "TOML parse error"),
        ];
        for (file, expected) in cases {
            let error = format!("{:#}", with_file(file, &[]).expect_err(file));
            assert!(error.contains(expected), "{file}: {error}");
            assert!(error.starts_with("config file "), "{file}: {error}");
        }
        // A bad value is refused even where a flag overrides it.
        let error = with_file(r#"imds-port = "x""#, &["--imds-port", "1"]).unwrap_err();
        assert!(
            format!("{error:#}").contains("key `imds-port`"),
            "{error:#}"
        );
    }

    fn parse(flags: &[&str]) -> Result<ServeArgs, clap::Error> {
        let argv = std::iter::once("serve").chain(flags.iter().copied());
        Serve::try_parse_from(argv).map(|s| s.args)
    }

    fn addrs(list: &[&str]) -> Vec<SocketAddr> {
        list.iter().map(|a| a.parse().unwrap()).collect()
    }

    #[test]
    fn imds_listen_is_repeatable_and_a_single_one_is_host_mode_as_before() {
        let cases: &[(&[&str], Option<&[&str]>)] = &[
            (&[], None),
            (&["--imds-port", "9300"], None),
            (
                &["--imds-listen", "169.254.169.254:80"],
                Some(&["169.254.169.254:80"]),
            ),
            (
                &[
                    "--imds-listen",
                    "169.254.169.254:80",
                    "--imds-listen",
                    "[fd00:ec2::254]:80",
                ],
                Some(&["169.254.169.254:80", "[fd00:ec2::254]:80"]),
            ),
            // The environment twin's comma-separated form works in a flag too.
            (
                &["--imds-listen=[fd00:ec2::254]:80,169.254.169.254:80"],
                Some(&["[fd00:ec2::254]:80", "169.254.169.254:80"]),
            ),
            (
                &["--imds-port", "9300", "--imds-listen", "10.0.0.1:8080"],
                Some(&["10.0.0.1:8080"]),
            ),
        ];
        for (flags, host) in cases {
            let args = parse(flags).unwrap();
            match host {
                None => {
                    let port = if flags.is_empty() { 9169 } else { 9300 };
                    assert_eq!(args.imds_listen(), Listen::Local { port }, "{flags:?}");
                    assert_eq!(args.addressing(), Addressing::Local, "{flags:?}");
                }
                Some(list) => {
                    let expected = Listen::Host { addrs: addrs(list) };
                    assert_eq!(args.imds_listen(), expected, "{flags:?}");
                    assert_eq!(args.addressing(), Addressing::Host, "{flags:?}");
                }
            }
        }
    }

    #[test]
    fn an_imds_listen_address_needs_a_port_and_ipv6_needs_brackets() {
        for bad in [
            "169.254.169.254",
            "fd00:ec2::254:80",
            "[fd00:ec2::254]",
            "metadata:80",
            "",
        ] {
            assert!(
                parse(&["--imds-listen", bad]).is_err(),
                "{bad:?} was accepted"
            );
        }
    }
}
