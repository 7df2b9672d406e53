//! The agent's health endpoint (`--health-addr`), unauthenticated and apart from IMDS:
//! - `GET /healthz`: `200 ok` while the process serves (liveness);
//! - `GET /readyz`: `200 ready` once the agent holds its host's listing (it then serves, with
//!   or without the control plane), else `503` saying why;
//! - `GET /status`: JSON for people and probes: the host, the instances and servable sets
//!   held, whether the control plane answers, and when it last did.

use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::Context as _;
use axum::Router;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use tokio::net::TcpListener;

use super::fetch::{Fetcher, now};
use super::sync::Link;

/// Binds `addr`; the bound address and the task serving it until the agent stops.
pub async fn start(
    addr: SocketAddr,
    fetcher: Arc<Fetcher>,
    link: Arc<Link>,
) -> anyhow::Result<(SocketAddr, tokio::task::JoinHandle<()>)> {
    let listener = TcpListener::bind(addr)
        .await
        .with_context(|| format!("binding the health listener on {addr}"))?;
    let bound = listener.local_addr()?;
    let readiness = link.clone();
    let router = Router::new()
        .route("/healthz", get(|| async { "ok\n" }))
        .route(
            "/readyz",
            get(move || {
                let link = readiness.clone();
                async move { ready(&link) }
            }),
        )
        .route(
            "/status",
            get(move || {
                let (fetcher, link) = (fetcher.clone(), link.clone());
                async move { status(&fetcher, &link) }
            }),
        );
    let task = tokio::spawn(async move {
        if let Err(error) = axum::serve(listener, router).await {
            tracing::warn!(%error, "the health listener stopped");
        }
    });
    Ok((bound, task))
}

fn ready(link: &Link) -> Response {
    if *link.listed.borrow() {
        "ready\n".into_response()
    } else {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            "waiting for the host's first listing from the control plane\n",
        )
            .into_response()
    }
}

fn status(fetcher: &Fetcher, link: &Link) -> Response {
    let now = now();
    let (answering, last) = fetcher.control_plane.answering();
    let instances = fetcher.cache.instances();
    let body = serde_json::json!({
        "hostId": fetcher.control_plane.host_id(),
        "ready": *link.listed.borrow(),
        "instances": instances.len(),
        "version": instances.version,
        "servableSets": fetcher.cache.servable_sets(now),
        "controlPlane": {
            "answering": answering,
            "replica": fetcher.control_plane.preferred().url,
            "secondsSinceLastAnswer": (last > 0).then(|| now - last),
            "accessKeyId": fetcher.control_plane.access_key_id(),
        },
    });
    (
        [(axum::http::header::CONTENT_TYPE, "application/json")],
        body.to_string(),
    )
        .into_response()
}
