//! How an [`Imds`](crate::Imds) is set up: attribution mode, token key, clock and limits.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

/// How a connection is attributed to an instance. Nothing the client sends (header, path, token
/// content) ever selects the instance.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// One listener per instance on its own loopback address: the address the connection
    /// *reached* names the instance.
    Local,
    /// One shared listener (e.g. 169.254.169.254:80): the connection's *source* address, the
    /// instance's private IP, names the instance.
    Host,
}

/// A source of wall-clock time, injectable so tests can move time without sleeping.
pub trait Clock: Send + Sync + 'static {
    fn now(&self) -> SystemTime;
}

/// The real clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> SystemTime {
        SystemTime::now()
    }
}

impl<F: Fn() -> SystemTime + Send + Sync + 'static> Clock for F {
    fn now(&self) -> SystemTime {
        self()
    }
}

/// Resource caps: everything a client can make the server hold is bounded by these.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Request line plus headers. Larger heads, or more than 64 headers, get 431 and a close.
    pub max_header_bytes: usize,
    /// A request body (IMDS requests carry none) larger than this gets 413 and a close.
    pub max_body_bytes: usize,
    /// Time allowed to receive a complete request head once its first byte has arrived
    /// (slowloris guard). On expiry the connection closes without a response.
    pub header_timeout: Duration,
    /// How long an idle keep-alive connection is kept open.
    pub idle_timeout: Duration,
    /// Concurrent connections per listener; further connections wait in the kernel backlog.
    pub max_connections_per_listener: usize,
    /// Answer every request with `Connection: close` and close, as EC2 does. Off by default:
    /// keep-alive is several times faster and every SDK copes with both.
    pub close_after_response: bool,
    /// How long `remove_listener`/`shutdown` wait for in-flight responses before dropping them.
    pub drain_timeout: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_header_bytes: 8 * 1024,
            max_body_bytes: 16 * 1024,
            header_timeout: Duration::from_secs(5),
            idle_timeout: Duration::from_secs(30),
            max_connections_per_listener: 256,
            close_after_response: false,
            drain_timeout: Duration::from_secs(5),
        }
    }
}

/// Observes the IP TTL (IPv6 hop limit) read back from a socket right after IMDS set it for a
/// response: `(peer, status code, ttl)`. A test hook: it proves the hop limit reached the kernel.
pub type TtlObserver = Arc<dyn Fn(SocketAddr, u16, u32) + Send + Sync>;

/// Everything an [`Imds`](crate::Imds) needs besides its [`MetadataSource`](crate::MetadataSource).
#[derive(Clone)]
pub struct ImdsConfig {
    pub mode: Mode,
    /// Secret keying the session-token MAC. Tokens survive a restart only with the same key.
    pub token_key: [u8; 32],
    pub clock: Arc<dyn Clock>,
    pub limits: Limits,
    pub ttl_observer: Option<TtlObserver>,
}

impl ImdsConfig {
    /// A configuration with the system clock and default limits.
    pub fn new(mode: Mode, token_key: [u8; 32]) -> Self {
        Self {
            mode,
            token_key,
            clock: Arc::new(SystemClock),
            limits: Limits::default(),
            ttl_observer: None,
        }
    }
}

impl std::fmt::Debug for ImdsConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ImdsConfig")
            .field("mode", &self.mode)
            .field("limits", &self.limits)
            .finish_non_exhaustive()
    }
}
