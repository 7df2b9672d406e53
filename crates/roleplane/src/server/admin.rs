//! The admin listener (`--admin-addr`, off by default): operators' endpoints, kept apart from
//! the AWS API so they are never exposed where the API is.
//! - `GET /healthz`: 200 while the process serves HTTP at all (liveness).
//! - `GET /readyz`: 200 when API calls can be served: the store answers and its schema is this
//!   build's (`Store::ready`), and the audit trail takes records (while it does not, every API
//!   call is answered 503 anyway); else 503 with a line saying why (readiness).
//! - `GET /metrics`: the process's metrics in the Prometheus text format ([`crate::metrics`]).

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use axum::Router;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use store::Store;
use tokio::net::TcpListener;

use crate::metrics::Metrics;
use crate::request::App;

/// OpenMetrics text, which Prometheus asks for and reads.
const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// A store that takes longer than this to answer is not ready: a probe must not hang.
const READY_TIMEOUT: Duration = Duration::from_secs(2);

/// Binds `addr` and serves until `shutdown` completes.
pub async fn start<S: Store>(
    addr: SocketAddr,
    app: Arc<App<S>>,
    metrics: Arc<Metrics>,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> anyhow::Result<tokio::task::JoinHandle<()>> {
    let listener = TcpListener::bind(addr)
        .await
        .with_context(|| format!("binding the admin listener on {addr}"))?;
    // Never the word the `roleplane ready` line is found by (the interface contract).
    tracing::info!(
        admin = %listener.local_addr()?,
        "admin listener serving the health, readiness and metrics endpoints"
    );
    let router =
        Router::new()
            .route("/healthz", get(|| async { "ok\n" }))
            .route(
                "/readyz",
                get(move || {
                    let app = app.clone();
                    async move { readiness(&app).await }
                }),
            )
            .route(
                "/metrics",
                get(move || {
                    let metrics = metrics.clone();
                    async move {
                        ([(header::CONTENT_TYPE, CONTENT_TYPE)], metrics.render()).into_response()
                    }
                }),
            );
    Ok(tokio::spawn(async move {
        if let Err(error) = axum::serve(listener, router)
            .with_graceful_shutdown(shutdown)
            .await
        {
            tracing::warn!(%error, "the admin listener stopped");
        }
    }))
}

async fn readiness<S: Store>(app: &App<S>) -> Response {
    let not_ready =
        |why: String| (StatusCode::SERVICE_UNAVAILABLE, format!("{why}\n")).into_response();
    match tokio::time::timeout(READY_TIMEOUT, app.store().ready()).await {
        Err(_) => return not_ready(format!("store: no answer within {READY_TIMEOUT:?}")),
        Ok(Err(error)) => return not_ready(format!("store: {error}")),
        Ok(Ok(())) => {}
    }
    if let Some(audit) = app.audit()
        && !audit.is_writable()
    {
        return not_ready("audit trail: cannot take records (API calls answer 503)".to_owned());
    }
    "ready\n".into_response()
}
