//! The top layer: `roleplane serve` opens the data dir and store (SQLite in the data dir, or
//! PostgreSQL with `--store`, `crate::any_store`), bootstraps the admin, and runs
//! the listeners; [`pipeline`] serves every API request through the services [`routes`] names.

mod admin;
pub(crate) mod bootstrap;
mod connections;
mod tls;

pub use connections::ConnectionLimits;
pub mod pipeline;
pub mod routes;
#[cfg(test)]
pub(crate) mod test_support;
#[cfg(test)]
mod toy_service_tests;

use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context as _;
use store::Store as _;
use tokio::net::TcpListener;

use crate::any_store::AnyStore;
use crate::request::{App, last_use};

use crate::audit::{Audit, AuditArgs};
use crate::config::{LogFormat, ServeArgs, TlsArgs};
use crate::datadir::DataDir;
use crate::metadata::{self, MetadataService};

pub fn run(args: ServeArgs, audit: AuditArgs) -> anyhow::Result<ExitCode> {
    init_tracing(args.log_format);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    runtime.block_on(serve(args, audit))?;
    Ok(ExitCode::SUCCESS)
}

async fn serve(args: ServeArgs, audit: AuditArgs) -> anyhow::Result<()> {
    let dir = DataDir::open(&args.data_dir)?;
    let master = dir.master_key()?;
    let store = AnyStore::open(args.store.as_ref(), dir.path()).await?;
    let admin = bootstrap::ensure(&store, &dir, &master, &args.account_id).await?;
    if let Some(path) = admin {
        tracing::info!(credentials = %path.display(), "created account {} and user admin", args.account_id);
    }
    let keyring = bootstrap::token_keyring(&store, &master, &args.account_id).await?;
    let signer = crate::instance_identity::stored::load_or_create(&store, &master)
        .await
        .context("loading the instance identity signing key")?;
    let audit = Audit::start(dir.path(), args.store.as_ref(), &audit, &args.account_id)
        .await
        .context("opening the audit trail")?;
    let imds_token_key = metadata::token_key(&master);
    let issuer_keys = args
        .web_identity
        .issuer_keys()
        .context("loading the OIDC issuers' keys settings")?;
    let app = Arc::new(
        App::new(store, master, keyring, args.region.clone())
            .with_issuer_keys(issuer_keys)
            .with_audit(audit)
            .with_addressing(args.addressing())
            .with_failure_limits(crate::request::failure_limits::FailureLimits::new(
                crate::request::failure_limits::FailureRate(args.connections.auth_failure_rate),
            )),
    );

    crate::analyzer::restore_jobs(&app)
        .await
        .context("restoring policy generation jobs")?;

    let tls = match &args.tls {
        TlsArgs {
            tls_cert: Some(cert),
            tls_key: Some(key),
        } => Some(tls::acceptor(cert, key)?),
        _ => None,
    };
    let listener = TcpListener::bind(args.api_addr)
        .await
        .with_context(|| format!("binding the API listener on {}", args.api_addr))?;
    let api_addr = listener.local_addr()?;
    let metadata = start_metadata(&app, &args, imds_token_key, Arc::new(signer)).await?;
    let s3_dir = args.s3_dir.clone().unwrap_or_else(|| dir.path().join("s3"));
    if args.store.is_some() && args.s3_dir.is_none() {
        tracing::warn!(
            "S3 object bytes are kept in this replica's data dir ({}): other replicas on the \
             store will not read them; give every replica one shared --s3-dir",
            s3_dir.display()
        );
    }
    let blobs = crate::s3::blobs::DirBlobs::open(&s3_dir)
        .with_context(|| format!("opening the S3 object directory {}", s3_dir.display()))?;
    let served = pipeline::Served {
        app: app.clone(),
        s3: crate::s3::service(app.clone(), Arc::new(blobs), Some(&args.s3_domain)),
        s3_domain: args.s3_domain.clone(),
    };
    crate::run::Endpoints {
        api: format!(
            "{}://{api_addr}",
            if tls.is_some() { "https" } else { "http" }
        ),
        imds_port: metadata.port(),
        region: args.region.clone(),
    }
    .write(dir.path())?;
    let (admin_stop, admin_stopped) = tokio::sync::oneshot::channel::<()>();
    let admin = match args.admin_addr {
        Some(addr) => {
            let store = app.store().clone();
            let pool = crate::metrics::PoolCollector(Box::new(move || store.pool_use()));
            let audit = app.audit().map(Audit::metrics);
            let metrics = crate::metrics::Metrics::new(app.metrics(), audit, pool);
            let stopped = async move {
                let _ = admin_stopped.await;
            };
            Some(admin::start(addr, app.clone(), Arc::new(metrics), stopped).await?)
        }
        None => None,
    };
    // Both listeners accept from here on (bound sockets queue connections until served).
    // The addresses are in the message itself, so the line reads the same in either log
    // format: `roleplane ready api=… imds_port=…` (the interface contract).
    tracing::info!(
        "roleplane ready api={api_addr} imds_port={}",
        metadata.port()
    );
    let last_use = tokio::spawn(write_last_use(app.clone()));
    let stopping = app.clone();
    connections::serve(
        listener,
        tls,
        pipeline::router(Arc::new(served)),
        args.connections.limits(),
        async move {
            shutdown_signal().await;
            // Agents' long polls answer now rather than hold the shutdown for their wait.
            stopping.begin_stopping();
        },
    )
    .await;
    metadata.shutdown().await;
    let _ = admin_stop.send(());
    if let Some(admin) = admin {
        let _ = admin.await;
    }
    // Last, once neither listener can note another use (the metadata service notes roles').
    // An aborted periodic flush rolls back and keeps its notes for this one.
    last_use.abort();
    if let Err(e) = app.last_use().flush(app.store()).await {
        tracing::error!(error = %e, "writing access keys' and roles' last use at shutdown");
    }
    app.store().close().await;
    if let Some(audit) = app.audit() {
        audit.close().await;
    }
    Ok(())
}

/// Writes access keys' and roles' last uses every `last_use::FLUSH_INTERVAL`.
async fn write_last_use(app: Arc<App<AnyStore>>) {
    let mut ticks = tokio::time::interval(last_use::FLUSH_INTERVAL);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        if let Err(e) = app.last_use().flush(app.store()).await {
            tracing::warn!(error = %e, "writing last uses; kept for the next try");
        }
    }
}

/// The instance metadata service, in local or host mode as the flags say.
async fn start_metadata(
    app: &Arc<App<AnyStore>>,
    args: &ServeArgs,
    token_key: [u8; 32],
    signer: Arc<crate::instance_identity::IdentitySigner>,
) -> anyhow::Result<MetadataService<AnyStore>> {
    metadata::raise_open_file_limit();
    let settings = metadata::Settings {
        listen: args.imds_listen(),
        rotation: args.rotation().map_err(anyhow::Error::msg)?,
        clock: Arc::new(imds::SystemClock),
        limits: imds::Limits::default(),
        ttl_observer: None,
        signer,
    };
    MetadataService::start(app.clone(), settings, token_key)
        .await
        .with_context(|| {
            format!(
                "starting the instance metadata service ({:?})",
                args.imds_listen()
            )
        })
}

pub(crate) fn init_tracing(format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_env("ROLEPLANE_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    // s3s logs whole requests at debug level, authorization headers and session tokens
    // included: secrets never reach logs, whatever ROLEPLANE_LOG asks for.
    let filter = match "s3s=info".parse() {
        Ok(directive) => filter.add_directive(directive),
        Err(_) => filter,
    };
    // A second call (tests that run the server in-process twice) keeps the first subscriber.
    let logs = tracing_subscriber::fmt().with_env_filter(filter);
    let _ = match format {
        LogFormat::Text => {
            let ansi = std::io::IsTerminal::is_terminal(&std::io::stdout());
            logs.with_ansi(ansi).try_init()
        }
        // One object per line: `timestamp`, `level`, `message`, the event's own fields, and
        // `target`, all at the top level where collectors look for them.
        LogFormat::Json => logs
            .json()
            .flatten_event(true)
            .with_current_span(false)
            .with_span_list(false)
            .try_init(),
    };
}

/// SIGINT or SIGTERM (`serve` and `agent` stop on either).
pub(crate) async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        _ = ctrl_c => {},
        _ = terminate => {},
    }
    tracing::info!("shutting down");
}
