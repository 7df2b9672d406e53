//! TLS on the API listener (`--tls-cert`, `--tls-key`): rustls on ring, TLS 1.2 and 1.3,
//! HTTP/1.1 only, as the listener speaks no other.
//!
//! The certificate and key are read at start, and read again when either file changes (looked
//! at no more than once per [`RECHECK`], by the handshake that comes along), so a renewed
//! certificate (certbot, cert-manager) is served without a restart. A renewal caught half
//! written, or a pair that does not match, is logged and the pair in use is kept.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::Context as _;
use rustls::crypto::CryptoProvider;
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;
use rustls_pki_types::PrivateKeyDer;
use rustls_pki_types::pem::PemObject as _;
use tokio_rustls::TlsAcceptor;

/// How often the files' modification times are looked at.
pub const RECHECK: Duration = Duration::from_secs(1);

/// The acceptor for a PEM certificate chain (leaf first) and its PEM private key (PKCS#8,
/// PKCS#1 or SEC1); an error at start when they cannot be read or do not make a pair.
pub fn acceptor(cert: &Path, key: &Path) -> anyhow::Result<TlsAcceptor> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let resolver = ReloadingCert::open(cert, key, provider.clone())?;
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .context("TLS protocol versions")?
        .with_no_client_auth()
        .with_cert_resolver(Arc::new(resolver));
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(TlsAcceptor::from(Arc::new(config)))
}

/// The certificate served, read again when its files change.
#[derive(Debug)]
struct ReloadingCert {
    cert: PathBuf,
    key: PathBuf,
    provider: Arc<CryptoProvider>,
    /// Milliseconds since the epoch of the last look at the files.
    checked_ms: AtomicU64,
    current: Mutex<Loaded>,
}

#[derive(Debug)]
struct Loaded {
    /// The files' modification times when read.
    stamps: (Option<SystemTime>, Option<SystemTime>),
    key: Arc<CertifiedKey>,
}

impl ReloadingCert {
    fn open(cert: &Path, key: &Path, provider: Arc<CryptoProvider>) -> anyhow::Result<Self> {
        let stamps = stamps(cert, key);
        let certified = load(cert, key, &provider)?;
        Ok(ReloadingCert {
            cert: cert.to_owned(),
            key: key.to_owned(),
            provider,
            checked_ms: AtomicU64::new(now_ms()),
            current: Mutex::new(Loaded {
                stamps,
                key: Arc::new(certified),
            }),
        })
    }

    /// The pair to serve: the one in use, first read again if the files changed.
    fn certified(&self) -> Arc<CertifiedKey> {
        let now = now_ms();
        let checked = self.checked_ms.load(Ordering::Relaxed);
        let due = now.saturating_sub(checked) >= RECHECK.as_millis() as u64;
        // One handshake per period looks; the others serve what is held.
        if due
            && self
                .checked_ms
                .compare_exchange(checked, now, Ordering::Relaxed, Ordering::Relaxed)
                .is_ok()
        {
            self.reload_if_changed();
        }
        self.lock().key.clone()
    }

    fn reload_if_changed(&self) {
        let stamps = stamps(&self.cert, &self.key);
        if stamps == self.lock().stamps {
            return;
        }
        match load(&self.cert, &self.key, &self.provider) {
            Ok(certified) => {
                *self.lock() = Loaded {
                    stamps,
                    key: Arc::new(certified),
                };
                tracing::info!(cert = %self.cert.display(), "the API listener's TLS certificate was read again");
            }
            // Half written, or the key not yet replaced: the next change is tried again.
            Err(error) => {
                self.lock().stamps = stamps;
                tracing::warn!(error = %format!("{error:#}"), "the changed TLS certificate or key does not read; serving the one in use");
            }
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Loaded> {
        // Whole-value updates only: a poisoned lock still holds a usable pair.
        self.current.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl ResolvesServerCert for ReloadingCert {
    fn resolve(&self, _hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        Some(self.certified())
    }
}

/// The chain and key of the files, checked to make a pair. Errors name the file, never what
/// it holds.
fn load(cert: &Path, key: &Path, provider: &CryptoProvider) -> anyhow::Result<CertifiedKey> {
    let chain = crate::pem::certificates(cert).context("the TLS certificate")?;
    let private = PrivateKeyDer::from_pem_file(key)
        .map_err(|e| anyhow::anyhow!("reading the TLS private key {}: {e}", key.display()))?;
    CertifiedKey::from_der(chain, private, provider)
        .context("the TLS certificate and private key do not make a pair")
}

fn stamps(cert: &Path, key: &Path) -> (Option<SystemTime>, Option<SystemTime>) {
    let modified = |path: &Path| std::fs::metadata(path).and_then(|m| m.modified()).ok();
    (modified(cert), modified(key))
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Writes `text` to `path` with the modification time `at` seconds after the epoch (the
    /// kernel's own stamps are too coarse for writes a moment apart).
    fn write_at(path: &Path, text: &str, at: u64) {
        std::fs::write(path, text).unwrap();
        let file = std::fs::File::options().write(true).open(path).unwrap();
        file.set_modified(UNIX_EPOCH + Duration::from_secs(at))
            .unwrap();
    }

    #[test]
    fn a_changed_pair_is_read_again_and_one_that_does_not_read_leaves_the_one_in_use() {
        use base64::Engine as _;
        let signer = crate::instance_identity::test_signer();
        let cert_pem = crate::instance_identity::certificate::to_pem(signer.certificate()).unwrap();
        let der = signer.private_key_pkcs8().unwrap();
        let key_pem = format!(
            "-----BEGIN PRIVATE KEY-----\n{}\n-----END PRIVATE KEY-----\n",
            base64::engine::general_purpose::STANDARD.encode(&der[..])
        );
        let dir = tempfile::tempdir().unwrap();
        let (cert, key) = (dir.path().join("api.pem"), dir.path().join("api.key"));
        write_at(&cert, &cert_pem, 1_000);
        write_at(&key, &key_pem, 1_000);
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let resolver = ReloadingCert::open(&cert, &key, provider).unwrap();
        let first = resolver.certified();
        let look_now = || resolver.checked_ms.store(0, Ordering::Relaxed);

        // Not due yet: the files are not looked at.
        write_at(&cert, "-----BEGIN CERTIFICATE-----\nhalf writ", 2_000);
        assert!(Arc::ptr_eq(&resolver.certified(), &first));
        // Due, changed, and not a certificate: the pair in use stays.
        look_now();
        assert!(Arc::ptr_eq(&resolver.certified(), &first));
        // Written whole: read again.
        write_at(&cert, &cert_pem, 3_000);
        look_now();
        let renewed = resolver.certified();
        assert!(!Arc::ptr_eq(&renewed, &first));
        assert_eq!(renewed.cert, first.cert);
        // Unchanged since: the same pair, not read again.
        look_now();
        assert!(Arc::ptr_eq(&resolver.certified(), &renewed));
    }

    #[test]
    fn files_that_are_no_certificate_or_key_are_refused_at_start() {
        let dir = tempfile::tempdir().unwrap();
        let empty = dir.path().join("empty.pem");
        std::fs::write(&empty, "").unwrap();
        let junk = dir.path().join("junk.pem");
        std::fs::write(&junk, "-----BEGIN CERTIFICATE-----\nnot base64\n").unwrap();
        let missing = dir.path().join("missing.pem");
        for (cert, key) in [(&empty, &empty), (&junk, &empty), (&missing, &missing)] {
            let error = acceptor(cert, key).err().expect("refused");
            assert!(format!("{error:#}").contains(".pem"), "{error:#}");
        }
    }
}
