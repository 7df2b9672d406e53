//! Hand-made HTTP requests, signed by `aws-sigv4`, for what SDKs will not send: malformed bodies,
//! unknown actions, oversized payloads.

use std::io::{Read as _, Write as _};
use std::net::TcpStream;
use std::time::{Duration, SystemTime};

use aws_credential_types::Credentials;
use aws_sigv4::http_request::{SignableBody, SignableRequest, SigningSettings, sign};
use aws_sigv4::sign::v4;

pub struct RawResponse {
    pub status: u16,
    pub head: String,
    pub body: String,
}

/// POSTs `body` to `/` of `endpoint` (`http://host:port`), signed for `service` with the key pair.
pub fn signed_post(endpoint: &str, service: &str, key: (&str, &str), body: &[u8]) -> RawResponse {
    let content_type = "application/x-www-form-urlencoded; charset=utf-8";
    signed_request(
        endpoint,
        service,
        key,
        "POST",
        "/",
        &[("content-type", content_type)],
        body,
    )
}

/// Any request to `endpoint`, signed for `service` with the key pair: the JSON protocols'
/// `x-amz-target` POSTs and restJson1's routes alike. `path` may carry a query string.
pub fn signed_request(
    endpoint: &str,
    service: &str,
    key: (&str, &str),
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> RawResponse {
    signed_request_with_token(endpoint, service, key, None, method, path, headers, body)
}

/// [`signed_request`] with temporary credentials' session token.
#[allow(clippy::too_many_arguments)]
pub fn signed_request_with_token(
    endpoint: &str,
    service: &str,
    key: (&str, &str),
    token: Option<&str>,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> RawResponse {
    let host = endpoint.trim_start_matches("http://");
    let identity = Credentials::new(key.0, key.1, token.map(str::to_owned), None, "raw").into();
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region(crate::REGION)
        .name(service)
        .time(SystemTime::now())
        .settings(SigningSettings::default())
        .build()
        .expect("signing params")
        .into();
    let mut all_headers = vec![("host", host)];
    all_headers.extend_from_slice(headers);
    let signable = SignableRequest::new(
        method,
        format!("http://{host}{path}"),
        all_headers.iter().copied(),
        SignableBody::Bytes(body),
    )
    .expect("signable request");
    let (instructions, _) = sign(signable, &params).expect("sign").into_parts();
    let mut request = format!("{method} {path} HTTP/1.1\r\n");
    for (name, value) in &all_headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    request.push_str(&format!(
        "content-length: {}\r\nconnection: close\r\n",
        body.len()
    ));
    for (name, value) in instructions.headers() {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    request.push_str("\r\n");
    let mut bytes = request.into_bytes();
    bytes.extend_from_slice(body);
    send(host, &bytes)
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
