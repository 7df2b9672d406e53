//! `roleplane agent`: the metadata service of one Dedicated Host, serving EC2's IMDS to the
//! instances placed on it from a cache fed by the control plane's agent API (decision 0028),
//! and still serving while no control-plane replica answers (docs/AGENT.md).
//!
//! The wire is the `imds` crate's, exactly as `serve`'s metadata service has it (v1/v2, tokens
//! signed by the agent and bound to the instance, the hop limit, XFF rules, the options, the
//! tree); only the source differs. The agent needs no store and holds no key of the control
//! plane: it talks HTTP, signed with its host's agent credential.
//!
//! - [`client`]: the agent API's calls, on each replica in turn; the credential re-read when
//!   its file changes.
//! - [`cache`]: the host's instances and their credential sets, and the rules of what is
//!   served when (never an expired set).
//! - [`fetch`]: one fetch per set at a time.
//! - [`source`]: the `imds::MetadataSource` over the cache.
//! - [`sync`]: the long poll on the host's instances, and the refresher that fetches sets
//!   ahead of need and of rotation.
//! - [`report`]: the served sets, reported for the audit trail.
//! - [`listeners`]: `--instance-port`, one listener per instance's loopback address.
//! - [`health`]: the `--health-addr` endpoint.

pub mod cache;
pub mod client;
pub mod fetch;
pub mod health;
pub mod listeners;
pub mod report;
pub mod source;
pub mod sync;

use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use clap::Args;
use imds::{Imds, ImdsConfig, Mode};
use sha2::{Digest as _, Sha256};

use self::cache::Cache;
use self::client::{ControlPlane, Replica};
use self::fetch::Fetcher;
use self::source::AgentSource;
use self::sync::Link;
use crate::config::LogFormat;

/// What the agent calls itself to the control plane.
pub const USER_AGENT: &str = concat!("roleplane-agent/", env!("CARGO_PKG_VERSION"));

#[derive(Debug, Clone, Args)]
pub struct AgentArgs {
    /// The control plane's API, `http://HOST:PORT`, or `https://HOST:PORT` when `serve` has
    /// `--tls-cert` (the address `serve --api-addr` listens on). Repeatable, or
    /// comma-separated, for replicas: each is tried in turn until one answers.
    #[arg(long = "control-plane", env = "ROLEPLANE_CONTROL_PLANE", value_delimiter = ',', required = true, value_parser = Replica::parse)]
    pub control_plane: Vec<Replica>,

    /// PEM certificates an `https://` control plane's certificate must chain to (the
    /// operator's CA); without it, the Mozilla roots.
    #[arg(long, env = "ROLEPLANE_CONTROL_PLANE_CA")]
    pub control_plane_ca: Option<PathBuf>,

    /// The Dedicated Host this agent serves (`h-…`).
    #[arg(long, env = "ROLEPLANE_HOST_ID", value_parser = host_id)]
    pub host_id: String,

    /// The host's agent credential, as `roleplane host credentials` prints it (AWS
    /// shared-credentials format, the profile named after the host, or the file's only one).
    /// Read again whenever it changes, so a rotated credential needs no restart.
    #[arg(long, env = "ROLEPLANE_CREDENTIALS")]
    pub credentials: PathBuf,

    /// A metadata endpoint shared by the host's instances (`169.254.169.254:80`,
    /// `[fd00:ec2::254]:80`, or `127.0.0.1:PORT` on one machine): callers are told apart by
    /// their source address. Repeatable; the environment twin takes a comma-separated list.
    #[arg(long, env = "ROLEPLANE_LISTEN", value_delimiter = ',')]
    pub listen: Vec<SocketAddr>,

    /// Also serve each instance with a loopback address on `<its address>:PORT`, told apart by
    /// the address reached (as `serve`'s local mode; `roleplane run --host-id`); 0 picks a
    /// port.
    #[arg(long, env = "ROLEPLANE_INSTANCE_PORT")]
    pub instance_port: Option<u16>,

    /// The health endpoint (`GET /healthz`, `/readyz`, `/status`); off when unset.
    #[arg(long, env = "ROLEPLANE_HEALTH_ADDR")]
    pub health_addr: Option<SocketAddr>,

    /// The region the control plane answers for (its `--region`): the agent's signatures are
    /// scoped to it.
    #[arg(long, env = "ROLEPLANE_REGION", default_value = "us-east-1")]
    pub region: String,

    /// Seconds between reports of the credential sets served (for the audit trail).
    #[arg(long, env = "ROLEPLANE_REPORT_INTERVAL", default_value_t = 60, value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub report_interval: u64,

    /// How log lines are written to standard output.
    #[arg(long, env = "ROLEPLANE_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,
}

fn host_id(value: &str) -> Result<String, String> {
    let ok = value
        .strip_prefix("h-")
        .is_some_and(|hex| hex.len() == 17 && hex.bytes().all(|b| b.is_ascii_hexdigit()));
    if ok {
        Ok(value.to_owned())
    } else {
        Err("a host ID is h- and 17 hex digits".to_owned())
    }
}

/// `roleplane agent`.
pub fn run(args: AgentArgs) -> anyhow::Result<ExitCode> {
    crate::server::init_tracing(args.log_format);
    anyhow::ensure!(
        !args.listen.is_empty() || args.instance_port.is_some(),
        "give --listen ADDR (an endpoint shared by the host's instances) or --instance-port PORT"
    );
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    runtime.block_on(agent(args))?;
    Ok(ExitCode::SUCCESS)
}

async fn agent(args: AgentArgs) -> anyhow::Result<()> {
    let control_plane = Arc::new(ControlPlane::new(
        args.control_plane.clone(),
        client::tls_connector(args.control_plane_ca.as_deref())?,
        &args.host_id,
        &args.region,
        &args.credentials,
    )?);
    let token_key = token_key(&args.credentials, &args.host_id)?;
    let cache = Arc::new(Cache::default());
    let fetcher = Arc::new(Fetcher::new(cache.clone(), control_plane.clone()));
    let link = Arc::new(Link::default());

    // Bound first, so a port taken fails the start at once.
    let shared = Arc::new(Imds::new(
        AgentSource(fetcher.clone()),
        ImdsConfig::new(Mode::Host, token_key),
    ));
    let mut endpoints = Vec::with_capacity(args.listen.len());
    for addr in &args.listen {
        let bound = shared
            .add_listener(*addr)
            .with_context(|| format!("listening on {addr}"))?;
        endpoints.push(bound);
    }
    let per_instance = match args.instance_port {
        Some(port) => {
            crate::metadata::raise_open_file_limit();
            let imds = Arc::new(Imds::new(
                AgentSource(fetcher.clone()),
                ImdsConfig::new(Mode::Local, token_key),
            ));
            let anchor = imds
                .add_listener(SocketAddr::new(IpAddr::from([127, 0, 0, 1]), port))
                .with_context(|| format!("listening on 127.0.0.1:{port}"))?;
            Some((imds, anchor))
        }
        None => None,
    };
    let health = match args.health_addr {
        Some(addr) => Some(health::start(addr, fetcher.clone(), link.clone()).await?),
        None => None,
    };

    let mut tasks = tokio::task::JoinSet::new();
    tasks.spawn(sync::follow_instances(fetcher.clone(), link.clone()));
    tasks.spawn(sync::refresh(fetcher.clone(), link.clone()));
    tasks.spawn(report::report_every(
        fetcher.clone(),
        Duration::from_secs(args.report_interval),
    ));
    if let Some((imds, anchor)) = &per_instance {
        tasks.spawn(listeners::follow(
            imds.clone(),
            cache.clone(),
            link.clone(),
            *anchor,
        ));
    }

    // Ready once the host's instances are held (and, in local mode, their listeners open).
    let mut listed = link.listed.subscribe();
    tokio::select! {
        waited = listed.wait_for(|listed| *listed) => { waited.context("the agent stopped")?; }
        () = crate::server::shutdown_signal() => return Ok(()),
    }
    if let Some((imds, anchor)) = &per_instance {
        listeners::sync_once(imds, &cache, *anchor).await;
    }
    let shown = |addrs: &[SocketAddr]| {
        addrs
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(",")
    };
    // The interface contract's line (docs/INTERFACE.md): every address as bound.
    tracing::info!(
        "roleplane agent ready host={} listen={} instance_port={} health={} instances={}",
        args.host_id,
        shown(&endpoints),
        per_instance
            .as_ref()
            .map_or_else(String::new, |(_, anchor)| anchor.port().to_string()),
        health
            .as_ref()
            .map_or_else(String::new, |(addr, _)| addr.to_string()),
        cache.instances().len(),
    );

    crate::server::shutdown_signal().await;
    tasks.abort_all();
    shared.shutdown().await;
    if let Some((imds, _)) = per_instance {
        imds.shutdown().await;
    }
    // What was served since the last report, before leaving (bounded: the control plane may
    // be away).
    let mut unsent = Vec::new();
    let _ = tokio::time::timeout(
        Duration::from_secs(5),
        report::report_once(&fetcher, &mut unsent),
    )
    .await;
    if let Some((_, task)) = health {
        task.abort();
    }
    Ok(())
}

/// The key of the agent's IMDSv2 session tokens: derived from the host's agent credential, so
/// tokens survive an agent restart (not a rotation) and no two hosts share a key. The control
/// plane's own token key never leaves it.
fn token_key(credentials: &std::path::Path, host_id: &str) -> anyhow::Result<[u8; 32]> {
    let text = std::fs::read_to_string(credentials)
        .with_context(|| format!("reading {}", credentials.display()))?;
    let names = crate::shared_credentials::profiles(&text);
    let name = if names.contains(&host_id) {
        host_id
    } else {
        names.first().copied().unwrap_or(host_id)
    };
    let pair = crate::shared_credentials::profile(&text, name)
        .with_context(|| format!("the agent credential in {}", credentials.display()))?;
    let mut hash = Sha256::new();
    hash.update(b"roleplane/agent-imds-session-token-key/v1\0");
    hash.update(host_id.as_bytes());
    hash.update(b"\0");
    hash.update(pair.secret_access_key.as_bytes());
    Ok(hash.finalize().into())
}
