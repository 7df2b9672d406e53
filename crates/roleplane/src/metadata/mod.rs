//! The server side of the instance metadata service: which instance a connection belongs to,
//! the role credentials EC2 issues on each instance's behalf, and the signatures of each
//! instance's identity document.
//!
//! - [`index`]: running instances in memory, by address (the per-request lookup).
//! - [`source`]: [`InstanceMetadata`], the `imds::MetadataSource`: attribution and issuance.
//! - [`credentials`]: the rotation schedule, the per-(instance, role, delivery) set cache and
//!   the EC2 trust check.
//! - [`signed_documents`]: identity document signatures, made once per document with the
//!   deployment's key (`crate::instance_identity`).
//! - [`listeners`]: keeping the index and the per-instance listeners in step with EC2 writes.
//!
//! The wire (tokens, hop limit, status codes, the tree) is the `imds` crate's.

pub mod credentials;
pub mod index;
pub mod listeners;
pub mod signed_documents;
pub mod source;
#[cfg(test)]
mod tests;

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use imds::{Clock, Imds, ImdsConfig, Limits, Mode, TtlObserver};
use sha2::{Digest as _, Sha256};
use store::Store;
use tokio::task::JoinHandle;

pub use credentials::Rotation;
pub use listeners::InstanceSync;
pub use source::{InstanceMetadata, Served};

use crate::credentials::SealingKey;
use crate::instance_identity::IdentitySigner;
use crate::request::App;

/// Where the metadata service listens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Listen {
    /// Each running instance on `<its loopback address>:port`; port 0 picks one port at start
    /// (bound on 127.0.0.1 for the server's lifetime) that every instance then shares.
    Local { port: u16 },
    /// Endpoints shared by all (e.g. `169.254.169.254:80` and `[fd00:ec2::254]:80`), callers
    /// told apart by source address; at least one.
    Host { addrs: Vec<SocketAddr> },
}

/// How the metadata service is set up.
#[derive(Clone)]
pub struct Settings {
    pub listen: Listen,
    pub rotation: Rotation,
    /// The clock of token TTLs and credential issue times (tests move it).
    pub clock: Arc<dyn Clock>,
    pub limits: Limits,
    /// Test hook: sees the IP TTL each response left with (see `imds::TtlObserver`).
    pub ttl_observer: Option<TtlObserver>,
    /// The deployment's identity document signer.
    pub signer: Arc<IdentitySigner>,
}

/// A running metadata service.
pub struct MetadataService<S: Store> {
    imds: Arc<Imds<Served<S>>>,
    metadata: Arc<InstanceMetadata<S>>,
    reconciler: JoinHandle<()>,
    port: u16,
}

impl<S: Store> MetadataService<S> {
    /// Binds the endpoint, loads the running instances (their listeners come back after a
    /// restart), and keeps following EC2 writes until [`shutdown`](Self::shutdown).
    pub async fn start(
        app: Arc<App<S>>,
        settings: Settings,
        token_key: [u8; 32],
    ) -> std::io::Result<Self> {
        let wanted = app.instance_sync().subscribe();
        let metadata = Arc::new(InstanceMetadata::new(
            app.clone(),
            settings.rotation,
            settings.clock.clone(),
            settings.signer,
        ));
        let (mode, endpoints) = match settings.listen {
            Listen::Local { port } => (
                Mode::Local,
                vec![SocketAddr::new(IpAddr::from([127, 0, 0, 1]), port)],
            ),
            Listen::Host { addrs } => (Mode::Host, addrs),
        };
        let config = ImdsConfig {
            mode,
            token_key,
            clock: settings.clock,
            limits: settings.limits,
            ttl_observer: settings.ttl_observer,
        };
        app.attach_instance_metadata(&metadata);
        let imds = Arc::new(Imds::new(Served(metadata.clone()), config));
        let mut bound = Vec::with_capacity(endpoints.len());
        for endpoint in endpoints {
            let addr = imds.add_listener(endpoint).map_err(|e| {
                std::io::Error::new(e.kind(), format!("listening on {endpoint}: {e}"))
            })?;
            bound.push(addr);
        }
        // The ready line's `imds_port`: the local anchor's, or the first host endpoint's.
        let port = bound.first().map_or(0, SocketAddr::port);
        let placement = match mode {
            Mode::Local => listeners::Placement::PerInstance { port },
            Mode::Host => listeners::Placement::Shared,
        };
        listeners::sync_once(&imds, &metadata, placement, source::Refresh::Everything)
            .await
            .map_err(std::io::Error::other)?;
        let reconciler = tokio::spawn(listeners::reconcile(
            imds.clone(),
            metadata.clone(),
            placement,
            wanted,
        ));
        Ok(Self {
            imds,
            metadata,
            reconciler,
            port,
        })
    }

    /// The port every instance's metadata service answers on (in host mode, the first
    /// endpoint's).
    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn metadata(&self) -> &Arc<InstanceMetadata<S>> {
        &self.metadata
    }

    /// The addresses served right now.
    pub fn listening(&self) -> Vec<SocketAddr> {
        self.imds.listening()
    }

    /// Stops following EC2 and closes every listener, letting in-flight responses finish.
    pub async fn shutdown(self) {
        self.reconciler.abort();
        self.imds.shutdown().await;
    }
}

/// Local mode holds one listening socket per running instance: lift the soft limit on open
/// files to the hard one, so thousands of instances do not starve the API of descriptors.
pub fn raise_open_file_limit() {
    #[cfg(unix)]
    {
        let mut limit = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        // SAFETY: plain syscalls on a properly initialised struct we own.
        unsafe {
            if libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) == 0
                && limit.rlim_cur < limit.rlim_max
            {
                limit.rlim_cur = limit.rlim_max;
                if libc::setrlimit(libc::RLIMIT_NOFILE, &limit) != 0 {
                    tracing::warn!("could not raise the open-file limit");
                }
            }
        }
    }
}

/// The IMDS session-token key, derived from the master key so that tokens survive a restart
/// and no second secret has to be stored. The label keeps it apart from every other use.
pub fn token_key(master: &SealingKey) -> [u8; 32] {
    let mut hash = Sha256::new();
    hash.update(b"roleplane/imds-session-token-key/v1\0");
    hash.update(master.as_bytes());
    hash.finalize().into()
}
