//! The IMDS rules: endpoint switch, token issuance and checks, methods, then the tree.

use std::net::IpAddr;

use crate::config::Clock;
use crate::format::unix_secs;
use crate::request::{Method, RequestHead};
use crate::response::{Head, Status};
use crate::source::{HttpTokens, MetadataSource, RoleDelivery};
use crate::token::TokenKey;
use crate::tree::{self, Route};

/// Longest session token lifetime EC2 grants (six hours).
pub const MAX_TOKEN_TTL: u64 = 21_600;
const TOKEN_PATH: &[u8] = b"/latest/api/token";
/// An identity document is about 480 bytes.
const IDENTITY_DOCUMENT_CAPACITY: usize = 640;

/// Everything a request is answered from.
pub struct Context<'a, S> {
    pub source: &'a S,
    pub tokens: &'a TokenKey,
    pub clock: &'a dyn Clock,
}

/// Answers one request from the instance attributed to `addr`, writing the body into `body`.
pub async fn handle<S: MetadataSource>(
    cx: &Context<'_, S>,
    addr: IpAddr,
    req: &RequestHead<'_>,
    body: &mut Vec<u8>,
) -> Head {
    let head = decide(cx, addr, req, body).await;
    if head.status != Status::Ok {
        body.clear();
        head.status.write_error_page(body);
    }
    head
}

async fn decide<S: MetadataSource>(
    cx: &Context<'_, S>,
    addr: IpAddr,
    req: &RequestHead<'_>,
    body: &mut Vec<u8>,
) -> Head {
    // A browser led here by DNS rebinding must not read credentials; EC2 has no such check
    // because 169.254.169.254 is never a browser's same-origin target, but loopback is.
    if req.foreign_host {
        return Head::new(Status::Forbidden);
    }
    // Nobody on this address (e.g. an instance terminated mid-connection): nothing exists here.
    let Some(view) = cx.source.instance(addr) else {
        return Head::new(Status::NotFound);
    };
    // EC2's IPv6 endpoint does not answer an instance whose `HttpProtocolIpv6` is disabled:
    // to it, the caller is nobody, exactly as an address no instance holds.
    if addr.is_ipv6() && !view.options.http_protocol_ipv6 {
        return Head::new(Status::NotFound);
    }
    if !view.options.http_endpoint_enabled {
        return Head::new(Status::Forbidden);
    }
    let now = unix_secs(cx.clock.now());

    if req.target == TOKEN_PATH {
        return issue_token(
            cx,
            &view.instance_id,
            view.options.put_response_hop_limit,
            req,
            now,
            body,
        );
    }
    if req.method == Method::Put && is_versioned_token_path(req.target) {
        return Head::new(Status::Forbidden);
    }
    if !matches!(req.method, Method::Get | Method::Head) {
        return Head::new(Status::MethodNotAllowed { allow: "GET, HEAD" });
    }

    let (delivery, token_ttl) = match req.token {
        Some(token) => match cx.tokens.verify(token, &view.instance_id, now) {
            // Token traffic through a proxy is refused like the token PUT (reported EC2
            // behaviour; it keeps SSRF through forwarding proxies away from credentials).
            Ok(_) if req.forwarded => return Head::new(Status::Forbidden),
            Ok(remaining) => (RoleDelivery::V2, Some(remaining)),
            // An invalid token is refused even when tokens are optional (EC2 behaviour here
            // is unconfirmed; refusing is the safe reading).
            Err(_) => return Head::new(Status::Unauthorized),
        },
        None if view.options.http_tokens == HttpTokens::Required => {
            return Head::new(Status::Unauthorized);
        }
        None => (RoleDelivery::V1, None),
    };

    let mut head = Head::new(Status::Ok);
    head.token_ttl = token_ttl;
    match tree::route(req.target, &view, body) {
        Route::Written { last_modified } => head.last_modified = Some(last_modified),
        Route::UserData { last_modified } => {
            head.last_modified = Some(last_modified);
            head.octet_stream = true;
        }
        Route::IdentitySignature(which) => {
            let mut document = Vec::with_capacity(IDENTITY_DOCUMENT_CAPACITY);
            tree::identity_document(&view, &mut document);
            match cx.source.identity_signatures(&view, &document) {
                Some(signatures) => {
                    body.extend_from_slice(signatures.rendered(which));
                    head.last_modified = Some(view.pending_time);
                }
                None => head.status = Status::NotFound,
            }
        }
        Route::Credentials { extended } => {
            let result = cx.source.credentials(&view.instance_id, delivery).await;
            let account = extended.then_some(view.account_id.as_str());
            match tree::write_credentials(body, &result, account) {
                Some(last_updated) => head.last_modified = Some(last_updated),
                None => head.status = Status::NotFound,
            }
        }
        Route::NotFound => head.status = Status::NotFound,
    }
    head
}

/// `PUT /latest/api/token`: a token for this instance, sent back with the instance's hop limit.
fn issue_token<S>(
    cx: &Context<'_, S>,
    instance_id: &str,
    hop_limit: u8,
    req: &RequestHead<'_>,
    now: u64,
    body: &mut Vec<u8>,
) -> Head {
    if req.method != Method::Put {
        // The only source for this status is a third-party mock claiming to mirror EC2.
        return Head::new(Status::MethodNotAllowed {
            allow: "OPTIONS, PUT",
        });
    }
    // "PUT requests are rejected if they contain an X-Forwarded-For header."
    if req.forwarded {
        return Head::new(Status::Forbidden);
    }
    let Some(ttl) = req.token_ttl.and_then(parse_ttl) else {
        return Head::new(Status::BadRequest);
    };
    body.extend_from_slice(cx.tokens.issue(instance_id, now + ttl).as_bytes());
    let mut head = Head::new(Status::Ok);
    head.token_ttl = Some(ttl);
    head.hop_limit = Some(hop_limit.clamp(1, 64));
    head
}

/// A TTL of 1..=21600 whole seconds, plain decimal digits only.
fn parse_ttl(value: &[u8]) -> Option<u64> {
    if value.is_empty() || value.len() > 5 || !value.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let ttl = value
        .iter()
        .fold(0u64, |acc, &d| acc * 10 + u64::from(d - b'0'));
    (1..=MAX_TOKEN_TTL).contains(&ttl).then_some(ttl)
}

/// `/<version>/api/token` for a version other than `latest` (EC2 answers 403).
fn is_versioned_token_path(target: &[u8]) -> bool {
    target
        .strip_suffix(b"/api/token")
        .and_then(|prefix| prefix.strip_prefix(b"/"))
        .is_some_and(|version| !version.is_empty() && !version.contains(&b'/'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ttl_bounds() {
        assert_eq!(parse_ttl(b"1"), Some(1));
        assert_eq!(parse_ttl(b"21600"), Some(21_600));
        assert_eq!(parse_ttl(b"021600"), None);
        for bad in [
            &b""[..],
            b"0",
            b"21601",
            b"-5",
            b"+5",
            b"1.5",
            b"1e3",
            b"99999999999",
        ] {
            assert_eq!(parse_ttl(bad), None, "{:?}", String::from_utf8_lossy(bad));
        }
    }

    #[test]
    fn versioned_token_paths() {
        assert!(is_versioned_token_path(b"/2021-03-23/api/token"));
        assert!(!is_versioned_token_path(b"/latest/meta-data/api/token"));
        assert!(!is_versioned_token_path(b"//api/token"));
    }
}
