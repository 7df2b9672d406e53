//! Hand-made HTTP requests, signed by `aws-sigv4`, for what SDKs will not send: malformed bodies,
//! unknown actions, oversized payloads, signatures for another region, presigned URLs, a session
//! token next to a long-term key. Also S3's REST requests, signed ([`Signer::s3`]) or not
//! ([`unsigned`]), which no SDK of this crate sends.

use std::io::{Read as _, Write as _};
use std::net::TcpStream;
use std::time::{Duration, SystemTime};

use aws_credential_types::Credentials;
use aws_sigv4::http_request::{
    PayloadChecksumKind, PercentEncodingMode, SignableBody, SignableRequest, SignatureLocation,
    SigningInstructions, SigningSettings, UriPathNormalizationMode, sign,
};
use aws_sigv4::sign::v4;

pub struct RawResponse {
    pub status: u16,
    pub head: String,
    pub body: String,
}

/// POSTs `body` to `/` of `endpoint` (`http://host:port`), signed for `service` with the key pair.
pub fn signed_post(endpoint: &str, service: &str, key: (&str, &str), body: &[u8]) -> RawResponse {
    Signer::new(service, key).post(endpoint, FORM, &[], body)
}

/// The awsQuery and ec2Query request body's content type.
pub const FORM: &str = "application/x-www-form-urlencoded; charset=utf-8";

/// How a hand-made request is signed: the credential scope's service and region (default
/// [`crate::REGION`]), the key pair, and the session token sent with it, if any.
#[derive(Clone, Copy)]
pub struct Signer<'a> {
    service: &'a str,
    region: &'a str,
    key: (&'a str, &'a str),
    token: Option<&'a str>,
    time: Option<SystemTime>,
}

impl<'a> Signer<'a> {
    pub fn new(service: &'a str, key: (&'a str, &'a str)) -> Self {
        Signer {
            service,
            region: crate::REGION,
            key,
            token: None,
            time: None,
        }
    }

    /// Signs as of `time` instead of now.
    pub fn at(self, time: SystemTime) -> Self {
        Signer {
            time: Some(time),
            ..self
        }
    }

    /// The key that signs this signer's requests on `time`'s day (for aws-chunked chunk
    /// signatures).
    pub fn signing_key(&self, time: SystemTime) -> impl AsRef<[u8]> {
        v4::generate_signing_key(self.key.1, time, self.region, self.service)
    }

    /// `region/service/aws4_request` after the date in a credential scope.
    pub fn scope_tail(&self) -> String {
        format!("{}/{}/aws4_request", self.region, self.service)
    }

    /// Scopes the signature to `region` instead.
    pub fn region(self, region: &'a str) -> Self {
        Signer { region, ..self }
    }

    /// Sends `token` as `X-Amz-Security-Token` (a header, or a query parameter when presigned).
    pub fn token(self, token: &'a str) -> Self {
        Signer {
            token: Some(token),
            ..self
        }
    }

    /// Sends `method /path` to `endpoint` with `content_type`, the extra `headers` and `body`,
    /// signed in the `Authorization` header.
    pub fn send(
        &self,
        endpoint: &str,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> RawResponse {
        let bytes = self.request_bytes(endpoint, method, path, headers, body);
        send(endpoint.trim_start_matches("http://"), &bytes)
    }

    /// The bytes of `method /path` signed as [`Signer::send`] signs it, for a test that sends
    /// them its own way (slowly, in pieces).
    pub fn request_bytes(
        &self,
        endpoint: &str,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> Vec<u8> {
        let host = endpoint.trim_start_matches("http://");
        let mut all = vec![("host", host)];
        all.extend_from_slice(headers);
        let signed = self.sign(
            method,
            &format!("http://{host}{path}"),
            &all,
            SignableBody::Bytes(body),
            SigningSettings::default(),
        );
        let signature: Vec<_> = signed.headers().collect();
        request(method, path, &all, &signature, body)
    }

    /// Sends an S3 REST request: `method target` (a path and its query) with the extra
    /// `headers` and `body`, signed in the `Authorization` header as S3 clients sign it: the
    /// path encoded once and not normalized, the payload unsigned
    /// (`x-amz-content-sha256: UNSIGNED-PAYLOAD`).
    pub fn s3(
        &self,
        endpoint: &str,
        method: &str,
        target: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> RawResponse {
        let host = endpoint.trim_start_matches("http://");
        let mut all = vec![("host", host)];
        all.extend_from_slice(headers);
        let mut settings = SigningSettings::default();
        settings.percent_encoding_mode = PercentEncodingMode::Single;
        settings.uri_path_normalization_mode = UriPathNormalizationMode::Disabled;
        settings.payload_checksum_kind = PayloadChecksumKind::XAmzSha256;
        let signed = self.sign(
            method,
            &format!("http://{host}{target}"),
            &all,
            SignableBody::UnsignedPayload,
            settings,
        );
        let signature: Vec<_> = signed.headers().collect();
        send(host, &request(method, target, &all, &signature, body))
    }

    /// POSTs `body` of `content_type` (and the extra `headers`) to `/`.
    pub fn post(
        &self,
        endpoint: &str,
        content_type: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> RawResponse {
        let mut all = vec![("content-type", content_type)];
        all.extend_from_slice(headers);
        self.send(endpoint, "POST", "/", &all, body)
    }

    /// GETs `/?{query}` as a presigned URL: the signature, and the token if any, in the query.
    pub fn presigned_get(&self, endpoint: &str, query: &str) -> RawResponse {
        let host = endpoint.trim_start_matches("http://");
        let mut settings = SigningSettings::default();
        settings.signature_location = SignatureLocation::QueryParams;
        settings.expires_in = Some(Duration::from_secs(300));
        let signed = self.sign(
            "GET",
            &format!("http://{host}/?{query}"),
            &[("host", host)],
            SignableBody::Bytes(b""),
            settings,
        );
        let mut target = format!("/?{query}");
        for (name, value) in signed.params() {
            target.push_str(&format!("&{name}={}", percent_encode(value)));
        }
        let request = format!("GET {target} HTTP/1.1\r\nhost: {host}\r\nconnection: close\r\n\r\n");
        send(host, request.as_bytes())
    }

    /// GETs the S3 object at `path` (no query of its own) through a presigned URL, as S3
    /// clients presign it: the payload unsigned, the path encoded once; the signature, and the
    /// token if any, in the query.
    pub fn presigned_s3_get(&self, endpoint: &str, path: &str) -> RawResponse {
        let host = endpoint.trim_start_matches("http://");
        let mut settings = SigningSettings::default();
        settings.signature_location = SignatureLocation::QueryParams;
        settings.expires_in = Some(Duration::from_secs(300));
        settings.percent_encoding_mode = PercentEncodingMode::Single;
        settings.uri_path_normalization_mode = UriPathNormalizationMode::Disabled;
        let signed = self.sign(
            "GET",
            &format!("http://{host}{path}"),
            &[("host", host)],
            SignableBody::UnsignedPayload,
            settings,
        );
        let query: Vec<String> = signed
            .params()
            .iter()
            .map(|(name, value)| format!("{name}={}", percent_encode(value)))
            .collect();
        let target = format!("{path}?{}", query.join("&"));
        send(host, &request("GET", &target, &[("host", host)], &[], b""))
    }

    fn sign(
        &self,
        method: &str,
        url: &str,
        headers: &[(&str, &str)],
        body: SignableBody<'_>,
        settings: SigningSettings,
    ) -> SigningInstructions {
        let credentials = Credentials::new(
            self.key.0,
            self.key.1,
            self.token.map(str::to_owned),
            None,
            "raw",
        );
        let identity = credentials.into();
        let params = v4::SigningParams::builder()
            .identity(&identity)
            .region(self.region)
            .name(self.service)
            .time(self.time.unwrap_or_else(SystemTime::now))
            .settings(settings)
            .build()
            .expect("signing params")
            .into();
        let signable = SignableRequest::new(method, url, headers.iter().copied(), body)
            .expect("signable request");
        let (instructions, _) = sign(signable, &params).expect("sign").into_parts();
        instructions
    }
}

/// What an S3 request's signature says of its body (`x-amz-content-sha256`).
pub enum Payload<'a> {
    /// The SHA-256 of these bytes (the body sent, or other bytes for a mismatch).
    HashOf(&'a [u8]),
    /// A literal such as `UNSIGNED-PAYLOAD` or `STREAMING-UNSIGNED-PAYLOAD-TRAILER`.
    Literal(&'a str),
}

impl Signer<'_> {
    /// The head of an S3 request (request line, headers, blank line), signed in the
    /// `Authorization` header as S3 signs: paths encoded once and never normalized, and
    /// `x-amz-content-sha256` naming `payload`. `host` is the Host header; `content_length`
    /// is declared as is, whatever body follows.
    pub fn s3_head(
        &self,
        host: &str,
        method: &str,
        target: &str,
        headers: &[(&str, &str)],
        payload: Payload<'_>,
        content_length: usize,
    ) -> Vec<u8> {
        let mut all = vec![("host", host)];
        all.extend_from_slice(headers);
        let signed = self.sign(
            method,
            &format!("http://{host}{target}"),
            &all,
            match payload {
                Payload::HashOf(bytes) => SignableBody::Bytes(bytes),
                Payload::Literal(literal) => SignableBody::Precomputed(literal.to_owned()),
            },
            s3_settings(),
        );
        let mut request = format!("{method} {target} HTTP/1.1\r\n");
        for (name, value) in &all {
            request.push_str(&format!("{name}: {value}\r\n"));
        }
        request.push_str(&format!(
            "content-length: {content_length}\r\nconnection: close\r\n"
        ));
        for (name, value) in signed.headers() {
            request.push_str(&format!("{name}: {value}\r\n"));
        }
        request.push_str("\r\n");
        request.into_bytes()
    }

    /// A presigned S3 URL's path and query for `method target` on Host `host`, valid for
    /// `expires`.
    pub fn s3_presigned(
        &self,
        host: &str,
        method: &str,
        target: &str,
        expires: Duration,
    ) -> String {
        let mut settings = s3_settings();
        settings.signature_location = SignatureLocation::QueryParams;
        settings.expires_in = Some(expires);
        settings.payload_checksum_kind = PayloadChecksumKind::NoHeader;
        let signed = self.sign(
            method,
            &format!("http://{host}{target}"),
            &[("host", host)],
            SignableBody::UnsignedPayload,
            settings,
        );
        let mut url = target.to_owned();
        let mut separator = if target.contains('?') { '&' } else { '?' };
        for (name, value) in signed.params() {
            url.push_str(&format!("{separator}{name}={}", percent_encode(value)));
            separator = '&';
        }
        url
    }
}

fn s3_settings() -> SigningSettings {
    let mut settings = SigningSettings::default();
    settings.percent_encoding_mode = PercentEncodingMode::Single;
    settings.uri_path_normalization_mode = UriPathNormalizationMode::Disabled;
    settings.payload_checksum_kind = PayloadChecksumKind::XAmzSha256;
    settings
}

/// Sends an S3 REST request with no signature at all: the anonymous principal's.
pub fn unsigned(
    endpoint: &str,
    method: &str,
    target: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> RawResponse {
    let host = endpoint.trim_start_matches("http://");
    let mut all = vec![("host", host)];
    all.extend_from_slice(headers);
    send(host, &request(method, target, &all, &[], body))
}

/// The bytes of an HTTP/1.1 request: its line, `headers`, the length of `body`, the
/// `signature` headers, and `body`. The connection closes after the response.
fn request(
    method: &str,
    target: &str,
    headers: &[(&str, &str)],
    signature: &[(&str, &str)],
    body: &[u8],
) -> Vec<u8> {
    let mut head = format!("{method} {target} HTTP/1.1\r\n");
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str(&format!(
        "content-length: {}\r\nconnection: close\r\n",
        body.len()
    ));
    for (name, value) in signature {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    let mut bytes = head.into_bytes();
    bytes.extend_from_slice(body);
    bytes
}

/// SigV4's encoding of a query value: everything but `A-Za-z0-9-_.~` as `%XX`.
pub fn percent_encode(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Sends raw bytes and reads until the server closes (or 10 s pass).
pub fn send(host: &str, bytes: &[u8]) -> RawResponse {
    let mut stream = TcpStream::connect(host).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    // The server may answer and close before reading everything (e.g. an oversized body).
    let _ = stream.write_all(bytes);
    let mut response = Vec::new();
    let _ = stream.read_to_end(&mut response);
    let text = String::from_utf8_lossy(&response).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    RawResponse {
        status,
        head: head.to_owned(),
        body: body.to_owned(),
    }
}
