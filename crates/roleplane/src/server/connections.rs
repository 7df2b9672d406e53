//! The API listener's connections: how many there may be, how long a slow or idle one may hold
//! its place, and how shutdown ends them.
//!
//! hyper serves each connection (HTTP/1.1); this module owns the accept loop around it so that
//! every bound holds for callers who never authenticate:
//! - a request head must arrive whole within `header_timeout` of the server starting to wait for
//!   it, which also closes a keep-alive connection left idle that long (hyper's one timer covers
//!   both: between requests the server is waiting for the next head);
//! - a body must keep `body_min_rate` ([`MinRateBody`]);
//! - at most `max_connections` are open; at the cap the listener stops accepting (new
//!   connections wait in the kernel's bounded backlog) until one closes;
//! - on shutdown the listener closes, open connections finish their current request, and any
//!   still open after `shutdown_grace` are dropped;
//! - with TLS, the handshake runs in the connection's own task and must end within
//!   `header_timeout` too, so a client that stalls it holds one connection's place that long.

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tokio::task::JoinSet;
use tokio_rustls::TlsAcceptor;
use tower::ServiceExt as _;

use crate::request::min_rate::{MinRate, MinRateBody};

/// The bounds of [`serve`]; `config::ConnectionArgs` fills them from flags.
#[derive(Debug, Clone, Copy)]
pub struct ConnectionLimits {
    pub header_timeout: Duration,
    pub body_min_rate: MinRate,
    pub max_connections: usize,
    pub shutdown_grace: Duration,
}

/// Serves `router` on `listener` (over TLS when `tls` is given) until `shutdown` completes,
/// then winds down within `limits.shutdown_grace`.
pub async fn serve(
    listener: TcpListener,
    tls: Option<TlsAcceptor>,
    router: Router,
    limits: ConnectionLimits,
    shutdown: impl Future<Output = ()>,
) {
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(limits.header_timeout)
        .keep_alive(true);
    let permits = Arc::new(Semaphore::new(limits.max_connections.max(1)));
    let at_cap_logged = Arc::new(AtomicBool::new(false));
    let graceful = GracefulShutdown::new();
    let mut connections = JoinSet::new();
    tokio::pin!(shutdown);
    loop {
        // Reap finished connections so the set stays as small as the open ones.
        while connections.try_join_next().is_some() {}
        if permits.available_permits() == 0 && !at_cap_logged.swap(true, Ordering::Relaxed) {
            tracing::warn!(
                max_connections = limits.max_connections,
                "the API listener is at its connection cap; new connections wait until one closes"
            );
        }
        let permit = tokio::select! {
            () = &mut shutdown => break,
            permit = permits.clone().acquire_owned() => match permit {
                Ok(permit) => permit,
                Err(_) => break,
            },
        };
        let (stream, peer) = tokio::select! {
            () = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    // Out of file descriptors, or a connection reset before it was accepted:
                    // neither ends the listener. A short pause keeps EMFILE from spinning.
                    tracing::debug!(error = %e, "accepting an API connection");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        // Responses that stream (S3's objects) leave as a header write and body writes; with
        // Nagle's algorithm on, the body waits ~40 ms for the client's delayed ACK of the headers.
        if let Err(e) = stream.set_nodelay(true) {
            tracing::debug!(error = %e, "setting TCP_NODELAY on an API connection");
        }
        let router = router.clone();
        let body_min_rate = limits.body_min_rate;
        // The router, with the peer address (`ConnectInfo`, as axum's own server gives it) and
        // every request body held to the minimum rate.
        let service = hyper::service::service_fn(move |request: hyper::Request<Incoming>| {
            let mut request = request.map(|body| Body::new(MinRateBody::new(body, body_min_rate)));
            request.extensions_mut().insert(ConnectInfo(peer));
            router.clone().oneshot(request)
        });
        let watcher = graceful.watcher();
        let (http, tls) = (http.clone(), tls.clone());
        let header_timeout = limits.header_timeout;
        let at_cap_logged = at_cap_logged.clone();
        connections.spawn(async move {
            let served = match tls {
                None => {
                    let connection = http.serve_connection(TokioIo::new(stream), service);
                    watcher.watch(connection).await
                }
                Some(tls) => match tokio::time::timeout(header_timeout, tls.accept(stream)).await {
                    Ok(Ok(stream)) => {
                        let connection = http.serve_connection(TokioIo::new(stream), service);
                        watcher.watch(connection).await
                    }
                    Ok(Err(e)) => {
                        tracing::debug!(error = %e, %peer, "TLS handshake on the API listener");
                        Ok(())
                    }
                    Err(_) => {
                        tracing::debug!(%peer, "TLS handshake on the API listener timed out");
                        Ok(())
                    }
                },
            };
            if let Err(e) = served {
                tracing::debug!(error = %e, %peer, "API connection ended with an error");
            }
            drop(permit);
            at_cap_logged.store(false, Ordering::Relaxed);
        });
    }
    drop(listener);
    let open = graceful.count();
    if tokio::time::timeout(limits.shutdown_grace, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!(
            open,
            grace_secs = limits.shutdown_grace.as_secs_f64(),
            "API connections still open after the shutdown grace period are dropped"
        );
    }
    connections.shutdown().await;
}
