//! TLS on the API listener (`--tls-cert`, `--tls-key`): rustls on ring, TLS 1.2 and 1.3,
//! HTTP/1.1 only, as the listener speaks no other.

use std::path::Path;
use std::sync::Arc;

use anyhow::Context as _;
use rustls_pki_types::PrivateKeyDer;
use rustls_pki_types::pem::PemObject as _;
use tokio_rustls::TlsAcceptor;

/// The acceptor for a PEM certificate chain (leaf first) and its PEM private key (PKCS#8,
/// PKCS#1 or SEC1). Read once, at start: a renewed certificate takes a restart (replicas
/// behind a load balancer restart one at a time).
pub fn acceptor(cert: &Path, key: &Path) -> anyhow::Result<TlsAcceptor> {
    let chain = crate::pem::certificates(cert).context("the TLS certificate")?;
    // The error names the file, never what it holds.
    let key = PrivateKeyDer::from_pem_file(key)
        .map_err(|e| anyhow::anyhow!("reading the TLS private key {}: {e}", key.display()))?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .context("TLS protocol versions")?
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .context("the TLS certificate and private key do not make a pair")?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(TlsAcceptor::from(Arc::new(config)))
}

#[cfg(test)]
mod tests {
    use super::*;

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
