//! Parsing one HTTP/1.x request head into the few facts IMDS acts on.

use std::net::IpAddr;

use crate::response::Status;

/// Request headers beyond this count are refused with 431.
pub const MAX_HEADERS: usize = 64;

const TOKEN_HEADER: &str = "x-aws-ec2-metadata-token";
const TOKEN_TTL_HEADER: &str = "x-aws-ec2-metadata-token-ttl-seconds";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    Get,
    Head,
    Put,
    Other,
}

/// The parts of a request head IMDS looks at, borrowed from the read buffer.
#[derive(Debug, Clone, Copy)]
pub struct RequestHead<'b> {
    pub method: Method,
    /// The raw request target, never decoded or normalised.
    pub target: &'b [u8],
    pub token: Option<&'b [u8]>,
    pub token_ttl: Option<&'b [u8]>,
    /// An `X-Forwarded-For` header is present: the request came through a proxy.
    pub forwarded: bool,
    /// The `Host` header names something other than an IP literal or `localhost`, the mark of a
    /// DNS-rebinding attack from a browser.
    pub foreign_host: bool,
    pub keep_alive: bool,
    /// Bytes of request body that follow the head (to be discarded).
    pub content_length: u64,
    /// Length of the head in the read buffer.
    pub head_len: usize,
}

/// The outcome of looking at the bytes received so far.
#[derive(Debug)]
pub enum Parsed<'b> {
    Complete(RequestHead<'b>),
    /// More bytes are needed.
    Partial,
    /// The request is unusable; answer with this status and close.
    Invalid(Status),
}

/// Parses the request head at the start of `buf`.
pub fn parse(buf: &[u8]) -> Parsed<'_> {
    let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut req = httparse::Request::new(&mut headers);
    let head_len = match req.parse(buf) {
        Ok(httparse::Status::Complete(len)) => len,
        Ok(httparse::Status::Partial) => return Parsed::Partial,
        Err(httparse::Error::TooManyHeaders) => return Parsed::Invalid(Status::HeadersTooLarge),
        Err(_) => return Parsed::Invalid(Status::BadRequest),
    };
    let (Some(method), Some(target), Some(version)) = (req.method, req.path, req.version) else {
        return Parsed::Invalid(Status::BadRequest);
    };
    let method = match method {
        "GET" => Method::Get,
        "HEAD" => Method::Head,
        "PUT" => Method::Put,
        _ => Method::Other,
    };
    let mut head = RequestHead {
        method,
        target: target.as_bytes(),
        token: None,
        token_ttl: None,
        forwarded: false,
        foreign_host: false,
        keep_alive: version == 1,
        content_length: 0,
        head_len,
    };
    let mut seen_length = false;
    let mut seen_host = false;
    for header in req.headers.iter() {
        let name = header.name;
        let value = header.value.trim_ascii();
        if name.eq_ignore_ascii_case(TOKEN_HEADER) {
            if head.token.replace(value).is_some() {
                return Parsed::Invalid(Status::BadRequest);
            }
        } else if name.eq_ignore_ascii_case(TOKEN_TTL_HEADER) {
            if head.token_ttl.replace(value).is_some() {
                return Parsed::Invalid(Status::BadRequest);
            }
        } else if name.eq_ignore_ascii_case("x-forwarded-for") {
            head.forwarded = true;
        } else if name.eq_ignore_ascii_case("host") {
            if seen_host {
                return Parsed::Invalid(Status::BadRequest);
            }
            seen_host = true;
            head.foreign_host = !is_literal_host(value);
        } else if name.eq_ignore_ascii_case("content-length") {
            let length = std::str::from_utf8(value)
                .ok()
                .filter(|v| !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit()))
                .and_then(|v| v.parse().ok());
            match length {
                Some(length) if !seen_length => head.content_length = length,
                _ => return Parsed::Invalid(Status::BadRequest),
            }
            seen_length = true;
        } else if name.eq_ignore_ascii_case("transfer-encoding") {
            // IMDS requests have no body; refusing chunked bodies rules out request smuggling.
            return Parsed::Invalid(Status::BadRequest);
        } else if name.eq_ignore_ascii_case("connection") {
            for option in value.split(|&b| b == b',') {
                let option = option.trim_ascii();
                if option.eq_ignore_ascii_case(b"close") {
                    head.keep_alive = false;
                } else if option.eq_ignore_ascii_case(b"keep-alive") {
                    head.keep_alive = true;
                }
            }
        }
    }
    Parsed::Complete(head)
}

/// `Host` values a legitimate IMDS client sends: an IP literal (the endpoint address) or
/// `localhost`, with an optional port. A DNS name means a browser was pointed here by a
/// rebinding attack, so such requests are refused.
fn is_literal_host(value: &[u8]) -> bool {
    let Ok(value) = std::str::from_utf8(value) else {
        return false;
    };
    let host = if let Some(rest) = value.strip_prefix('[') {
        match rest.split_once(']') {
            Some((v6, "")) => return v6.parse::<std::net::Ipv6Addr>().is_ok(),
            Some((v6, port)) if port.strip_prefix(':').is_some_and(is_port) => {
                return v6.parse::<std::net::Ipv6Addr>().is_ok();
            }
            _ => return false,
        }
    } else {
        match value.rsplit_once(':') {
            Some((host, port)) if is_port(port) => host,
            Some(_) => return false,
            None => value,
        }
    };
    host.eq_ignore_ascii_case("localhost") || host.parse::<IpAddr>().is_ok()
}

fn is_port(digits: &str) -> bool {
    !digits.is_empty() && digits.len() <= 5 && digits.bytes().all(|b| b.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn complete(raw: &[u8]) -> RequestHead<'_> {
        match parse(raw) {
            Parsed::Complete(head) => head,
            other => panic!("expected a complete head, got {other:?}"),
        }
    }

    #[test]
    fn extracts_imds_headers() {
        let head = complete(
            b"PUT /latest/api/token HTTP/1.1\r\nHost: 127.0.0.2:8080\r\n\
              X-aws-ec2-metadata-token-ttl-seconds:  21600 \r\nContent-Length: 0\r\n\r\n",
        );
        assert_eq!(head.method, Method::Put);
        assert_eq!(head.target, b"/latest/api/token");
        assert_eq!(head.token_ttl, Some(&b"21600"[..]));
        assert!(head.keep_alive && !head.forwarded && !head.foreign_host);
    }

    #[test]
    fn keep_alive_rules() {
        assert!(!complete(b"GET / HTTP/1.0\r\n\r\n").keep_alive);
        assert!(complete(b"GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n").keep_alive);
        assert!(!complete(b"GET / HTTP/1.1\r\nConnection: close\r\n\r\n").keep_alive);
    }

    #[test]
    fn refuses_ambiguous_or_smuggling_heads() {
        for raw in [
            &b"GET / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"[..],
            b"GET / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
            b"GET / HTTP/1.1\r\nContent-Length: -1\r\n\r\n",
            b"GET / HTTP/1.1\r\nX-aws-ec2-metadata-token: a\r\nX-aws-ec2-metadata-token: b\r\n\r\n",
            b"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n",
            b"GET / HTTP/2.0\r\n\r\n",
            b"\x00\x01\x02 garbage\r\n\r\n",
        ] {
            assert!(
                matches!(parse(raw), Parsed::Invalid(Status::BadRequest)),
                "{:?}",
                String::from_utf8_lossy(raw)
            );
        }
    }

    #[test]
    fn host_literals() {
        for ok in [
            "169.254.169.254",
            "127.0.0.5:1338",
            "[fd00:ec2::254]",
            "[::1]:80",
            "localhost",
            "LOCALHOST:9",
        ] {
            assert!(is_literal_host(ok.as_bytes()), "{ok}");
        }
        for bad in [
            "evil.example",
            "evil.example:80",
            "127.0.0.1.nip.io",
            "[::1",
            "1.2.3.4:",
            "1.2.3.4:x",
        ] {
            assert!(!is_literal_host(bad.as_bytes()), "{bad}");
        }
    }
}
