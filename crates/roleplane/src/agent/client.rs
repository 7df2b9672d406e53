//! The agent's side of the agent API (decision 0028): SigV4-signed calls to the control plane,
//! tried on each replica in turn until one answers, over TLS to an `https://` replica.
//!
//! A replica that cannot be reached, times out or answers 5xx is passed over for the next; an
//! answer of 4xx is the control plane's word and is returned. The replica that answered last is
//! tried first next time. Each call opens its own connection (the agent calls a few times a
//! minute). An `https://` replica's certificate must chain to `--control-plane-ca` when the
//! operator gives it (their own CA, and only it), else to the Mozilla roots.
//!
//! The key is read from the credentials file again whenever the file changes, so a rotated
//! credential (`roleplane host rotate-credentials`) is picked up without a restart.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::{Context as _, bail};
use http_body_util::{BodyExt as _, Full, Limited};
use hyper::body::Bytes;
use rustls_pki_types::ServerName;
use serde::de::DeserializeOwned;
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;

use crate::agent_api::SERVICE;
use crate::agent_api::wire::{
    CredentialsRequest, HostInstances, InstanceCredentials, PREFIX, ServedAnswer, ServedReport,
};
use crate::shared_credentials::{self, KeyPair};

/// Connecting to one replica.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);
/// A call's answer, beyond any wait it asked for.
const ANSWER_TIMEOUT: Duration = Duration::from_secs(10);
/// The largest answer read (a listing of a few hundred instances is well under it).
const MAX_ANSWER_BYTES: usize = 16 << 20;

/// Why a call got no answer.
#[derive(Debug, thiserror::Error)]
pub enum CallError {
    /// No replica answered (each one's reason, joined).
    #[error("no control-plane replica answered: {0}")]
    Unreachable(String),
    /// A replica refused the call (4xx): its status, error code and message.
    #[error("the control plane answered {status} {code}: {message}")]
    Refused {
        status: u16,
        code: String,
        message: String,
    },
    /// The answer is not the document expected.
    #[error("the control plane's answer does not read: {0}")]
    Unreadable(String),
    #[error("the agent credential: {0:#}")]
    Credentials(anyhow::Error),
}

/// One replica's address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Replica {
    /// As given (`http://10.0.0.5:9100`, `https://cp.example`).
    pub url: String,
    /// `https://`.
    tls: bool,
    host: String,
    port: u16,
    /// `host[:port]`, the Host header.
    authority: String,
}

impl Replica {
    pub fn parse(url: &str) -> anyhow::Result<Replica> {
        let url = url.trim().trim_end_matches('/');
        let (tls, rest) = match (url.strip_prefix("http://"), url.strip_prefix("https://")) {
            (Some(rest), _) => (false, rest),
            (_, Some(rest)) => (true, rest),
            _ => bail!("{url}: a control plane is http://HOST:PORT or https://HOST:PORT"),
        };
        if rest.is_empty() || rest.contains(['/', '?', '#', '@']) {
            bail!("{url}: a control plane URL names a host and port only");
        }
        let default_port = if tls { 443 } else { 80 };
        let (host, port) = match rest.strip_prefix('[') {
            Some(v6) => {
                let (host, after) = v6.split_once(']').context("an unclosed [")?;
                let port = match after.strip_prefix(':') {
                    Some(port) => port.parse().context("the port")?,
                    None if after.is_empty() => default_port,
                    None => bail!("{url}: what follows ] is not a port"),
                };
                (host.to_owned(), port)
            }
            None => match rest.rsplit_once(':') {
                Some((host, port)) => (host.to_owned(), port.parse().context("the port")?),
                None => (rest.to_owned(), default_port),
            },
        };
        if host.is_empty() {
            bail!("{url}: no host");
        }
        Ok(Replica {
            url: url.to_owned(),
            tls,
            host,
            port,
            authority: rest.to_owned(),
        })
    }
}

/// The TLS client of `https://` replicas: their certificates must chain to a certificate of
/// `ca_file` (PEM) when given, else to the Mozilla roots.
pub fn tls_connector(ca_file: Option<&Path>) -> anyhow::Result<TlsConnector> {
    let roots = match ca_file {
        Some(path) => {
            let mut roots = rustls::RootCertStore::empty();
            for cert in crate::pem::certificates(path)? {
                roots
                    .add(cert)
                    .map_err(|e| anyhow::anyhow!("a certificate of {}: {e}", path.display()))?;
            }
            roots
        }
        None => rustls::RootCertStore {
            roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
        },
    };
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .context("TLS protocol versions")?
        .with_root_certificates(roots)
        .with_no_client_auth();
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(TlsConnector::from(Arc::new(config)))
}

/// The control plane as one agent sees it.
pub struct ControlPlane {
    replicas: Vec<Replica>,
    tls: TlsConnector,
    /// The replica tried first: the last that answered.
    preferred: AtomicUsize,
    host_id: String,
    region: String,
    key: Mutex<LoadedKey>,
    /// Whether the last call got an answer from a replica.
    answering: AtomicBool,
    /// Epoch seconds of the last answer from any replica; 0 before the first.
    last_answer: AtomicI64,
}

/// The key pair and the credentials file it was read from, as of its modification time.
struct LoadedKey {
    path: PathBuf,
    modified: Option<SystemTime>,
    pair: Arc<KeyPair>,
}

impl ControlPlane {
    pub fn new(
        replicas: Vec<Replica>,
        tls: TlsConnector,
        host_id: &str,
        region: &str,
        credentials: &Path,
    ) -> anyhow::Result<ControlPlane> {
        anyhow::ensure!(!replicas.is_empty(), "no control plane given");
        let (pair, modified) = read_key(credentials, host_id)?;
        Ok(ControlPlane {
            replicas,
            tls,
            preferred: AtomicUsize::new(0),
            host_id: host_id.to_owned(),
            region: region.to_owned(),
            key: Mutex::new(LoadedKey {
                path: credentials.to_owned(),
                modified,
                pair: Arc::new(pair),
            }),
            answering: AtomicBool::new(false),
            last_answer: AtomicI64::new(0),
        })
    }

    pub fn host_id(&self) -> &str {
        &self.host_id
    }

    /// The replica that answered last.
    pub fn preferred(&self) -> &Replica {
        &self.replicas[self.preferred.load(Ordering::Relaxed) % self.replicas.len()]
    }

    /// Whether the last call was answered, and the epoch seconds of the last answer (0:
    /// never).
    pub fn answering(&self) -> (bool, i64) {
        (
            self.answering.load(Ordering::Relaxed),
            self.last_answer.load(Ordering::Relaxed),
        )
    }

    /// The access key ID the agent signs with now.
    pub fn access_key_id(&self) -> String {
        self.lock_key().pair.access_key_id.clone()
    }

    /// The host's instances; with `version`, waits up to `wait` seconds for a change.
    pub async fn instances(
        &self,
        version: Option<&str>,
        wait: u64,
    ) -> Result<HostInstances, CallError> {
        let query = {
            let mut query = form_urlencoded::Serializer::new(String::new());
            if let Some(version) = version {
                query.append_pair("version", version);
                query.append_pair("wait", &wait.to_string());
            }
            query.finish()
        };
        let path = format!("{PREFIX}/hosts/{}/instances", self.host_id);
        let waited = Duration::from_secs(if version.is_some() { wait } else { 0 });
        self.call("GET", &path, &query, Vec::new(), waited).await
    }

    /// An instance's current credential set for `delivery` (`1.0`, `2.0`).
    pub async fn credentials(
        &self,
        instance_id: &str,
        delivery: &str,
    ) -> Result<InstanceCredentials, CallError> {
        let body = serde_json::to_vec(&CredentialsRequest {
            instance_id: instance_id.to_owned(),
            delivery: delivery.to_owned(),
        })
        .map_err(|e| CallError::Unreadable(e.to_string()))?;
        let path = format!("{PREFIX}/hosts/{}/credentials", self.host_id);
        self.call("POST", &path, "", body, Duration::ZERO).await
    }

    /// Reports served sets.
    pub async fn report(&self, report: &ServedReport) -> Result<ServedAnswer, CallError> {
        let body = serde_json::to_vec(report).map_err(|e| CallError::Unreadable(e.to_string()))?;
        let path = format!("{PREFIX}/hosts/{}/served-credentials", self.host_id);
        self.call("POST", &path, "", body, Duration::ZERO).await
    }

    /// One call, on each replica in turn from the preferred one.
    async fn call<T: DeserializeOwned>(
        &self,
        method: &str,
        path: &str,
        query: &str,
        body: Vec<u8>,
        waited: Duration,
    ) -> Result<T, CallError> {
        let key = self.key().map_err(CallError::Credentials)?;
        let first = self.preferred.load(Ordering::Relaxed);
        let mut failures = Vec::new();
        for step in 0..self.replicas.len() {
            let index = (first + step) % self.replicas.len();
            let replica = &self.replicas[index];
            let sent = tokio::time::timeout(
                waited + ANSWER_TIMEOUT,
                self.send(replica, &key, method, path, query, &body),
            )
            .await;
            let Answer {
                status,
                error_type,
                body: answer,
            } = match sent {
                Ok(Ok(answered)) => answered,
                Ok(Err(error)) => {
                    failures.push(format!("{}: {error:#}", replica.url));
                    continue;
                }
                Err(_) => {
                    failures.push(format!("{}: no answer in time", replica.url));
                    continue;
                }
            };
            if status >= 500 {
                failures.push(format!(
                    "{}: {status} {}",
                    replica.url,
                    String::from_utf8_lossy(&answer).trim()
                ));
                continue;
            }
            self.preferred.store(index, Ordering::Relaxed);
            self.answering.store(true, Ordering::Relaxed);
            self.last_answer
                .store(super::fetch::now(), Ordering::Relaxed);
            if status != 200 {
                let message = serde_json::from_slice::<serde_json::Value>(&answer)
                    .ok()
                    .and_then(|v| v.get("message")?.as_str().map(str::to_owned))
                    .unwrap_or_else(|| String::from_utf8_lossy(&answer).into_owned());
                return Err(CallError::Refused {
                    status,
                    code: error_type.unwrap_or_default(),
                    message,
                });
            }
            return serde_json::from_slice(&answer)
                .map_err(|e| CallError::Unreadable(e.to_string()));
        }
        self.answering.store(false, Ordering::Relaxed);
        Err(CallError::Unreachable(failures.join("; ")))
    }

    async fn send(
        &self,
        replica: &Replica,
        key: &KeyPair,
        method: &str,
        path: &str,
        query: &str,
        body: &[u8],
    ) -> anyhow::Result<Answer> {
        let tcp = tokio::time::timeout(
            CONNECT_TIMEOUT,
            TcpStream::connect((replica.host.as_str(), replica.port)),
        )
        .await
        .context("connecting timed out")?
        .context("connecting")?;
        let _ = tcp.set_nodelay(true);
        let content_type = "application/json";
        let unsigned = [
            ("host", replica.authority.as_str()),
            ("content-type", content_type),
        ];
        let request = sigv4::HttpRequest {
            method,
            path,
            query,
            headers: &unsigned,
            body,
        };
        let who = sigv4::SigningIdentity {
            access_key_id: &key.access_key_id,
            secret_access_key: key.secret_access_key.as_str(),
            session_token: None,
            region: &self.region,
            service: SERVICE,
        };
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        let target = if query.is_empty() {
            path.to_owned()
        } else {
            format!("{path}?{query}")
        };
        let mut builder = hyper::Request::builder()
            .method(method)
            .uri(target)
            .header(hyper::header::HOST, &replica.authority)
            .header(hyper::header::CONTENT_TYPE, content_type)
            .header(hyper::header::USER_AGENT, super::USER_AGENT);
        for (name, value) in sigv4::sign(&request, &who, now) {
            builder = builder.header(name, value);
        }
        let request = builder.body(Full::new(Bytes::copy_from_slice(body)))?;
        if !replica.tls {
            return exchange(hyper_util::rt::TokioIo::new(tcp), request).await;
        }
        let name = ServerName::try_from(replica.host.clone())
            .with_context(|| format!("{} is no TLS server name", replica.host))?;
        let tls = tokio::time::timeout(CONNECT_TIMEOUT, self.tls.connect(name, tcp))
            .await
            .context("the TLS handshake timed out")?
            .context("the TLS handshake")?;
        exchange(hyper_util::rt::TokioIo::new(tls), request).await
    }

    /// The key pair, read again when its file changed since it was last read.
    fn key(&self) -> anyhow::Result<Arc<KeyPair>> {
        let mut loaded = self.lock_key();
        let modified = std::fs::metadata(&loaded.path)
            .and_then(|m| m.modified())
            .ok();
        if modified != loaded.modified {
            match read_key(&loaded.path, &self.host_id) {
                Ok((pair, modified)) => {
                    if pair.access_key_id != loaded.pair.access_key_id {
                        tracing::info!(
                            access_key_id = %pair.access_key_id,
                            "the agent credential changed; signing with the new key"
                        );
                    }
                    loaded.pair = Arc::new(pair);
                    loaded.modified = modified;
                }
                // A file being replaced may read short for a moment: keep the key we have.
                Err(error) => {
                    tracing::warn!(error = %format!("{error:#}"), "re-reading the agent credential")
                }
            }
        }
        Ok(loaded.pair.clone())
    }

    fn lock_key(&self) -> std::sync::MutexGuard<'_, LoadedKey> {
        self.key.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// A replica's answer.
struct Answer {
    status: u16,
    /// `x-amzn-ErrorType` of an error.
    error_type: Option<String>,
    body: Bytes,
}

/// Sends one request on a fresh connection and reads the whole answer.
async fn exchange<I>(io: I, request: hyper::Request<Full<Bytes>>) -> anyhow::Result<Answer>
where
    I: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
{
    let (mut sender, connection) = hyper::client::conn::http1::handshake(io).await?;
    let driver = tokio::spawn(connection);
    let result = async {
        let response = sender.send_request(request).await?;
        let status = response.status().as_u16();
        let error_type = response
            .headers()
            .get("x-amzn-errortype")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let body = Limited::new(response.into_body(), MAX_ANSWER_BYTES)
            .collect()
            .await
            .map_err(|e| anyhow::anyhow!("reading the answer: {e}"))?
            .to_bytes();
        anyhow::Ok(Answer {
            status,
            error_type,
            body,
        })
    }
    .await;
    driver.abort();
    result
}

/// The host's key pair from a shared-credentials file: the profile named after the host, or
/// the file's only profile.
fn read_key(path: &Path, host_id: &str) -> anyhow::Result<(KeyPair, Option<SystemTime>)> {
    let modified = std::fs::metadata(path).and_then(|m| m.modified()).ok();
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let names = shared_credentials::profiles(&text);
    let name = if names.contains(&host_id) {
        host_id
    } else if let [only] = names.as_slice() {
        only
    } else {
        bail!(
            "{} has no profile [{host_id}] (profiles: {})",
            path.display(),
            names.join(", ")
        );
    };
    let pair = shared_credentials::profile(&text, name)
        .with_context(|| format!("profile {name} in {}", path.display()))?;
    Ok((pair, modified))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replica_urls() {
        let r = Replica::parse("http://10.0.0.5:9100/").unwrap();
        assert_eq!((r.host.as_str(), r.port), ("10.0.0.5", 9100));
        assert_eq!(r.authority, "10.0.0.5:9100");
        let r = Replica::parse("http://cp.example").unwrap();
        assert_eq!((r.host.as_str(), r.port), ("cp.example", 80));
        let r = Replica::parse("http://[fd00::1]:9100").unwrap();
        assert_eq!((r.host.as_str(), r.port, r.tls), ("fd00::1", 9100, false));
        let r = Replica::parse("https://cp.example").unwrap();
        assert_eq!((r.host.as_str(), r.port, r.tls), ("cp.example", 443, true));
        assert_eq!(r.authority, "cp.example");
        let r = Replica::parse("https://127.0.0.1:9443").unwrap();
        assert_eq!((r.host.as_str(), r.port, r.tls), ("127.0.0.1", 9443, true));
        for bad in [
            "10.0.0.5:9100",
            "ftp://x",
            "https//cp.example",
            "https://",
            "http://",
            "http://h:port",
            "http://h/path",
            "http://u@h",
        ] {
            assert!(Replica::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_hosts_profile_or_the_only_one_is_read() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c");
        std::fs::write(
            &path,
            "[h-1]\naws_access_key_id = AKIA1\naws_secret_access_key = s1\n[h-2]\naws_access_key_id = AKIA2\naws_secret_access_key = s2\n",
        )
        .unwrap();
        assert_eq!(read_key(&path, "h-2").unwrap().0.access_key_id, "AKIA2");
        assert!(read_key(&path, "h-3").is_err());
        std::fs::write(
            &path,
            "[default]\naws_access_key_id = AKIA9\naws_secret_access_key = s9\n",
        )
        .unwrap();
        assert_eq!(read_key(&path, "h-3").unwrap().0.access_key_id, "AKIA9");
    }
}
