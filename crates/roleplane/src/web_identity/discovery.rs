//! An issuer's keys from the network, as STS finds them: its OpenID configuration at
//! `https://ISSUER/.well-known/openid-configuration` names `jwks_uri`, which serves the key
//! set. HTTPS only, with bounded time and bytes, no redirects.
//!
//! Whom we trust (decision 0022): a server whose chain verifies against the Mozilla roots
//! (`webpki-roots`) plus the operator's `--oidc-ca-file`; or, when the provider lists
//! thumbprints, a server whose chain's top certificate (the highest one it sends: its top
//! intermediate, or its root) has one of those SHA-1 thumbprints and vouches for the server's
//! certificate and name. AWS itself now trusts public CAs and ignores thumbprints for
//! well-known issuers; a thumbprint here only adds a way in, for issuers under a private CA.

use std::sync::Arc;
use std::time::Duration;

use http_body_util::{BodyExt, Empty, Limited};
use hyper::body::Bytes;
use jsonwebtoken::jwk::JwkSet;
use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::{DigitallySignedStruct, RootCertStore, SignatureScheme};
use rustls_pki_types::{CertificateDer, ServerName, UnixTime};
use sha1::{Digest, Sha1};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;

/// Connecting to one server.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// The whole discovery: configuration and key set.
pub const FETCH_TIMEOUT: Duration = Duration::from_secs(10);
/// The largest configuration document or key set read.
const MAX_BODY_BYTES: usize = 256 * 1024;

/// Why an issuer's keys could not be fetched (logged, never shown to the caller).
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    #[error("not an https URL: {0}")]
    Url(String),
    #[error("connecting: {0}")]
    Connect(String),
    #[error("TLS: {0}")]
    Tls(String),
    #[error("HTTP: {0}")]
    Http(String),
    #[error("status {0}")]
    Status(u16),
    #[error("the response is not the JSON expected: {0}")]
    Document(String),
    #[error("timed out")]
    Timeout,
}

/// Fetches key sets over HTTPS under the trust described above.
#[derive(Clone)]
pub struct Fetcher {
    roots: Arc<RootCertStore>,
    provider: Arc<CryptoProvider>,
}

impl std::fmt::Debug for Fetcher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Fetcher")
            .field("roots", &self.roots.len())
            .finish()
    }
}

impl Fetcher {
    /// The Mozilla roots plus `extra` (PEM certificates the operator trusts).
    pub fn new(extra: &[CertificateDer<'static>]) -> anyhow::Result<Self> {
        let mut roots = RootCertStore {
            roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
        };
        for cert in extra {
            roots
                .add(cert.clone())
                .map_err(|e| anyhow::anyhow!("an OIDC CA certificate is not usable: {e}"))?;
        }
        Ok(Fetcher {
            roots: Arc::new(roots),
            provider: Arc::new(rustls::crypto::ring::default_provider()),
        })
    }

    /// The issuer's key set, through its OpenID configuration. `issuer` has no scheme.
    pub async fn jwks(&self, issuer: &str, thumbprints: &[String]) -> Result<JwkSet, FetchError> {
        tokio::time::timeout(FETCH_TIMEOUT, async {
            let configuration = format!(
                "https://{}/.well-known/openid-configuration",
                issuer.trim_end_matches('/')
            );
            let body = self.get(&configuration, thumbprints).await?;
            let document: serde_json::Value =
                serde_json::from_slice(&body).map_err(|e| FetchError::Document(e.to_string()))?;
            let jwks_uri = document
                .get("jwks_uri")
                .and_then(serde_json::Value::as_str)
                .ok_or_else(|| FetchError::Document("no jwks_uri".into()))?;
            let body = self.get(jwks_uri, thumbprints).await?;
            serde_json::from_slice::<JwkSet>(&body).map_err(|e| FetchError::Document(e.to_string()))
        })
        .await
        .map_err(|_| FetchError::Timeout)?
    }

    async fn get(&self, url: &str, thumbprints: &[String]) -> Result<Bytes, FetchError> {
        let target = Target::parse(url).ok_or_else(|| FetchError::Url(url.to_owned()))?;
        let server_name = ServerName::try_from(target.host.clone())
            .map_err(|_| FetchError::Url(url.to_owned()))?;
        let tcp = tokio::time::timeout(
            CONNECT_TIMEOUT,
            TcpStream::connect((target.host.as_str(), target.port)),
        )
        .await
        .map_err(|_| FetchError::Timeout)?
        .map_err(|e| FetchError::Connect(e.to_string()))?;
        let webpki =
            WebPkiServerVerifier::builder_with_provider(self.roots.clone(), self.provider.clone())
                .build()
                .map_err(|e| FetchError::Tls(e.to_string()))?;
        let verifier = Arc::new(PinnedOrRooted {
            webpki,
            thumbprints: thumbprints.to_vec(),
            provider: self.provider.clone(),
        });
        let config = rustls::ClientConfig::builder_with_provider(self.provider.clone())
            .with_safe_default_protocol_versions()
            .map_err(|e| FetchError::Tls(e.to_string()))?
            .dangerous()
            .with_custom_certificate_verifier(verifier)
            .with_no_client_auth();
        let tls = TlsConnector::from(Arc::new(config))
            .connect(server_name, tcp)
            .await
            .map_err(|e| FetchError::Tls(e.to_string()))?;
        let (mut sender, connection) =
            hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(tls))
                .await
                .map_err(|e| FetchError::Http(e.to_string()))?;
        let driver = tokio::spawn(connection);
        let request = hyper::Request::get(&target.path)
            .header(hyper::header::HOST, &target.authority)
            .header(hyper::header::ACCEPT, "application/json")
            .header(hyper::header::USER_AGENT, "roleplane")
            .body(Empty::<Bytes>::new())
            .map_err(|e| FetchError::Http(e.to_string()))?;
        let result = async {
            let response = sender
                .send_request(request)
                .await
                .map_err(|e| FetchError::Http(e.to_string()))?;
            if response.status() != hyper::StatusCode::OK {
                return Err(FetchError::Status(response.status().as_u16()));
            }
            Limited::new(response.into_body(), MAX_BODY_BYTES)
                .collect()
                .await
                .map(|body| body.to_bytes())
                .map_err(|e| FetchError::Http(e.to_string()))
        }
        .await;
        driver.abort();
        result
    }
}

/// An `https://` URL split for a request.
struct Target {
    host: String,
    port: u16,
    /// `host[:port]` as the Host header carries it.
    authority: String,
    /// The path and query (`/` at least).
    path: String,
}

impl Target {
    fn parse(url: &str) -> Option<Target> {
        let rest = url.strip_prefix("https://")?;
        let (authority, path) = match rest.find(['/', '?']) {
            Some(i) => (&rest[..i], &rest[i..]),
            None => (rest, "/"),
        };
        let path = if path.starts_with('?') {
            format!("/{path}")
        } else {
            path.to_owned()
        };
        if authority.is_empty() || authority.contains('@') || path.contains('#') {
            return None;
        }
        let (host, port) = match authority.strip_prefix('[') {
            Some(v6) => {
                let (host, after) = v6.split_once(']')?;
                let port = match after.strip_prefix(':') {
                    Some(p) => p.parse().ok()?,
                    None if after.is_empty() => 443,
                    None => return None,
                };
                (host.to_owned(), port)
            }
            None => match authority.rsplit_once(':') {
                Some((host, port)) => (host.to_owned(), port.parse().ok()?),
                None => (authority.to_owned(), 443),
            },
        };
        if host.is_empty() {
            return None;
        }
        Some(Target {
            host,
            port,
            authority: authority.to_owned(),
            path,
        })
    }
}

/// The SHA-1 thumbprint IAM shows for a certificate: 40 hex digits.
pub fn thumbprint(cert: &[u8]) -> String {
    hex::encode(Sha1::digest(cert))
}

/// Verifies a server against the roots, or else against the top certificate of its chain
/// when that certificate's thumbprint is one the provider lists.
#[derive(Debug)]
struct PinnedOrRooted {
    webpki: Arc<WebPkiServerVerifier>,
    thumbprints: Vec<String>,
    provider: Arc<CryptoProvider>,
}

impl ServerCertVerifier for PinnedOrRooted {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let rooted = self.webpki.verify_server_cert(
            end_entity,
            intermediates,
            server_name,
            ocsp_response,
            now,
        );
        let Err(error) = rooted else {
            return rooted;
        };
        let (top, below) = match intermediates.split_last() {
            Some((top, below)) => (top, below),
            None => (end_entity, intermediates),
        };
        let print = thumbprint(top.as_ref());
        if !self
            .thumbprints
            .iter()
            .any(|t| t.eq_ignore_ascii_case(&print))
        {
            return Err(error);
        }
        let mut anchor = RootCertStore::empty();
        anchor.add(top.clone().into_owned())?;
        let pinned =
            WebPkiServerVerifier::builder_with_provider(Arc::new(anchor), self.provider.clone())
                .build()
                .map_err(|e| rustls::Error::General(e.to_string()))?;
        pinned.verify_server_cert(end_entity, below, server_name, ocsp_response, now)
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.webpki.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.webpki.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.webpki.supported_verify_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_split_into_host_port_and_path() {
        type Split<'a> = Option<(&'a str, u16, &'a str, &'a str)>;
        let cases: &[(&str, Split)] = &[
            (
                "https://issuer.example",
                Some(("issuer.example", 443, "issuer.example", "/")),
            ),
            (
                "https://issuer.example/a/.well-known/openid-configuration",
                Some((
                    "issuer.example",
                    443,
                    "issuer.example",
                    "/a/.well-known/openid-configuration",
                )),
            ),
            (
                "https://127.0.0.1:8443/keys?x=1",
                Some(("127.0.0.1", 8443, "127.0.0.1:8443", "/keys?x=1")),
            ),
            (
                "https://[::1]:8443/k",
                Some(("::1", 8443, "[::1]:8443", "/k")),
            ),
            ("https://[::1]/k", Some(("::1", 443, "[::1]", "/k"))),
            ("http://issuer.example/", None),
            ("https://", None),
            ("https://user@issuer.example/", None),
            ("https://issuer.example:port/", None),
            ("https://issuer.example/#f", None),
        ];
        for (url, expected) in cases {
            let got = Target::parse(url);
            let got = got.as_ref().map(|t| {
                (
                    t.host.as_str(),
                    t.port,
                    t.authority.as_str(),
                    t.path.as_str(),
                )
            });
            assert_eq!(got, *expected, "{url}");
        }
    }
}
