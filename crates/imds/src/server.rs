//! The IMDS server: listeners added and removed on demand, graceful shutdown.

use std::collections::HashMap;
use std::io;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use tokio::net::{TcpListener, TcpSocket};
use tokio::sync::{Semaphore, watch};
use tokio::task::{JoinHandle, JoinSet};
use tokio::time::{sleep, timeout};

use crate::config::{Clock, ImdsConfig, Limits, Mode, TtlObserver};
use crate::conn;
use crate::source::MetadataSource;
use crate::token::TokenKey;

/// Pending connections the kernel queues per listener while all connection slots are busy.
const BACKLOG: u32 = 1024;
/// Pause after a failed `accept` (e.g. out of file descriptors) so the loop does not spin.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(20);

/// State every connection reads.
pub(crate) struct Shared<S> {
    pub source: S,
    pub tokens: TokenKey,
    pub clock: Arc<dyn Clock>,
    pub limits: Limits,
    pub mode: Mode,
    pub ttl_observer: Option<TtlObserver>,
}

/// An instance metadata service. It listens only where [`add_listener`](Self::add_listener)
/// tells it to; dropping it stops every listener without waiting.
pub struct Imds<S: MetadataSource> {
    shared: Arc<Shared<S>>,
    listeners: Mutex<HashMap<SocketAddr, Listener>>,
}

struct Listener {
    stop: watch::Sender<bool>,
    task: JoinHandle<()>,
}

impl<S: MetadataSource> Imds<S> {
    pub fn new(source: S, config: ImdsConfig) -> Self {
        let shared = Shared {
            source,
            tokens: TokenKey::new(&config.token_key),
            clock: config.clock,
            limits: config.limits,
            mode: config.mode,
            ttl_observer: config.ttl_observer,
        };
        Self {
            shared: Arc::new(shared),
            listeners: Mutex::new(HashMap::new()),
        }
    }

    /// Starts serving on `addr` and returns the bound address (useful with port 0).
    ///
    /// Local mode binds one instance's loopback address (on Linux any 127.0.0.0/8 address
    /// binds without configuration); host mode binds the shared endpoint. Must be called from
    /// within a Tokio runtime.
    pub fn add_listener(&self, addr: SocketAddr) -> io::Result<SocketAddr> {
        let listener = bind(addr)?;
        let bound = listener.local_addr()?;
        let mut listeners = self.listeners();
        if listeners.contains_key(&bound) {
            return Err(io::Error::new(
                io::ErrorKind::AddrInUse,
                format!("IMDS already listens on {bound}"),
            ));
        }
        let (stop, stopped) = watch::channel(false);
        let task = tokio::spawn(accept_loop(self.shared.clone(), listener, stopped));
        listeners.insert(bound, Listener { stop, task });
        Ok(bound)
    }

    /// Stops listening on `addr` (a bound address returned by [`add_listener`]); idle
    /// connections close, in-flight responses finish within the drain timeout. Returns whether
    /// such a listener existed.
    ///
    /// [`add_listener`]: Self::add_listener
    pub async fn remove_listener(&self, addr: SocketAddr) -> bool {
        let listener = self.listeners().remove(&addr);
        match listener {
            Some(listener) => {
                stop(listener).await;
                true
            }
            None => false,
        }
    }

    /// The addresses currently served.
    pub fn listening(&self) -> Vec<SocketAddr> {
        self.listeners().keys().copied().collect()
    }

    /// Stops every listener gracefully (see [`remove_listener`](Self::remove_listener)).
    pub async fn shutdown(&self) {
        let all: Vec<Listener> = self.listeners().drain().map(|(_, l)| l).collect();
        for listener in &all {
            let _ = listener.stop.send(true);
        }
        for listener in all {
            stop(listener).await;
        }
    }

    fn listeners(&self) -> MutexGuard<'_, HashMap<SocketAddr, Listener>> {
        // A panic while holding this lock cannot leave the map inconsistent (single inserts
        // and removes), so a poisoned lock is still usable.
        self.listeners.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl<S: MetadataSource> Drop for Imds<S> {
    fn drop(&mut self) {
        for (_, listener) in self.listeners().drain() {
            listener.task.abort();
        }
    }
}

async fn stop(listener: Listener) {
    let _ = listener.stop.send(true);
    let _ = listener.task.await;
}

fn bind(addr: SocketAddr) -> io::Result<TcpListener> {
    let socket = match addr {
        SocketAddr::V4(_) => TcpSocket::new_v4()?,
        SocketAddr::V6(_) => TcpSocket::new_v6()?,
    };
    // A restarted server must rebind at once despite connections in TIME_WAIT.
    socket.set_reuseaddr(true)?;
    socket.bind(addr)?;
    socket.listen(BACKLOG)
}

async fn accept_loop<S: MetadataSource>(
    shared: Arc<Shared<S>>,
    listener: TcpListener,
    mut stopped: watch::Receiver<bool>,
) {
    let slots = Arc::new(Semaphore::new(shared.limits.max_connections_per_listener));
    let mut connections = JoinSet::new();
    loop {
        while connections.try_join_next().is_some() {}
        // Take a slot first: when all are busy, new clients wait in the kernel backlog.
        let slot = tokio::select! {
            slot = slots.clone().acquire_owned() => slot,
            _ = stopped.changed() => break,
        };
        let Ok(slot) = slot else { break };
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            _ = stopped.changed() => break,
        };
        let (stream, peer) = match accepted {
            Ok(accepted) => accepted,
            Err(_) => {
                sleep(ACCEPT_BACKOFF).await;
                continue;
            }
        };
        let shared = shared.clone();
        let stop = stopped.clone();
        connections.spawn(async move {
            conn::serve(&shared, stream, peer, stop).await;
            drop(slot);
        });
    }
    drop(listener);
    let drain = shared.limits.drain_timeout;
    if timeout(drain, async {
        while connections.join_next().await.is_some() {}
    })
    .await
    .is_err()
    {
        connections.abort_all();
    }
}
