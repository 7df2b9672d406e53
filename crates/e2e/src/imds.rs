//! Raw HTTP/1.1 to an instance's metadata service: every status and header visible, nothing
//! retried or interpreted, one connection per request (`Connection: close`).

use std::io::{Read as _, Write as _};
use std::net::TcpStream;
use std::time::Duration;

#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    /// Header names lowercased.
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Reply {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {:?}", self.body))
    }
}

/// `method path` at `ip:port` with the given extra headers.
pub fn request(ip: &str, port: u16, method: &str, path: &str, headers: &[(&str, &str)]) -> Reply {
    let mut head =
        format!("{method} {path} HTTP/1.1\r\nHost: {ip}:{port}\r\nConnection: close\r\n");
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    exchange(ip, port, head.as_bytes())
}

/// Sends raw bytes and parses what comes back (status 0 when the server closed without a
/// response).
pub fn exchange(ip: &str, port: u16, bytes: &[u8]) -> Reply {
    try_exchange(ip, port, bytes).expect("connect to IMDS")
}

/// [`exchange`], or the error of a connection that could not be made or written (a metadata
/// service that does not listen on the address yet).
pub fn try_exchange(ip: &str, port: u16, bytes: &[u8]) -> std::io::Result<Reply> {
    let mut stream = TcpStream::connect((ip, port))?;
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    stream.write_all(bytes)?;
    let mut raw = Vec::new();
    let _ = stream.read_to_end(&mut raw);
    Ok(parse(&raw))
}

/// A raw HTTP/1.1 response.
pub fn parse(raw: &[u8]) -> Reply {
    let text = String::from_utf8_lossy(raw);
    let Some((head, body)) = text.split_once("\r\n\r\n") else {
        return Reply {
            status: 0,
            headers: Vec::new(),
            body: text.into_owned(),
        };
    };
    let mut lines = head.lines();
    let status = lines
        .next()
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    Reply {
        status,
        headers,
        body: body.to_owned(),
    }
}

/// An IMDSv2 session token for the instance at `ip`.
pub fn token(ip: &str, port: u16) -> String {
    let reply = request(
        ip,
        port,
        "PUT",
        "/latest/api/token",
        &[("X-aws-ec2-metadata-token-ttl-seconds", "21600")],
    );
    assert_eq!(reply.status, 200, "token PUT: {reply:?}");
    reply.body
}

/// GET `path`, with the token when given.
pub fn get(ip: &str, port: u16, path: &str, token: Option<&str>) -> Reply {
    match token {
        Some(token) => request(
            ip,
            port,
            "GET",
            path,
            &[("X-aws-ec2-metadata-token", token)],
        ),
        None => request(ip, port, "GET", path, &[]),
    }
}

/// The role credentials document for `role`, IMDSv2 when `v2`.
pub fn credentials(ip: &str, port: u16, role: &str, v2: bool) -> serde_json::Value {
    let token = v2.then(|| token(ip, port));
    let path = format!("/latest/meta-data/iam/security-credentials/{role}");
    let reply = get(ip, port, &path, token.as_deref());
    assert_eq!(reply.status, 200, "{path}: {reply:?}");
    reply.json()
}
