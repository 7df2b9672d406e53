//! Entry points of the fuzz targets (`crates/sigv4/fuzz`), shared with the corpus replay test
//! (`tests/fuzz_corpus.rs`) so that both run the very same code. Any bytes in: errors are fine,
//! a panic is a bug. Not part of the API.

use crate::{
    ErrorDialect, HttpRequest, SigV4Error, SigningKeyCache, carries_security_token, parse,
    parse_amz_date,
};

/// The secret every seed is signed with: the AWS signing test suite's.
pub const SECRET: &str = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";

/// The host a presigned seed was signed for.
pub const PRESIGNED_HOST: &str = "example.amazonaws.com";

/// A request read from fuzz input: a `METHOD TARGET [VERSION]` line, `Name: value` lines, a
/// blank line, the body (the signing test suite's `*-signed-request.txt` layout). Values lose
/// their surrounding blanks as an HTTP server's parser drops them.
#[derive(Debug)]
pub struct RawRequest<'a> {
    pub method: &'a str,
    pub path: &'a str,
    pub query: &'a str,
    pub headers: Vec<(&'a str, &'a str)>,
    pub body: &'a [u8],
}

impl<'a> RawRequest<'a> {
    /// `None` when the head is not UTF-8 or has no request line.
    pub fn parse(data: &'a [u8]) -> Option<Self> {
        let split = data
            .windows(2)
            .position(|w| w == b"\n\n")
            .unwrap_or(data.len());
        let (head, body) = data.split_at(split);
        let body = body.get(2..).unwrap_or_default();
        let head = std::str::from_utf8(head).ok()?;
        let mut lines = head.split('\n').map(|line| line.trim_end_matches('\r'));
        let mut request_line = lines.next()?.split(' ');
        let method = request_line.next()?;
        let (path, query) = split_target(request_line.next()?);
        let headers = lines
            .map(|line| {
                let (name, value) = line.split_once(':').unwrap_or((line, ""));
                (name, value.trim_matches([' ', '\t']))
            })
            .collect();
        Some(RawRequest {
            method,
            path,
            query,
            headers,
            body,
        })
    }

    pub fn http(&self) -> HttpRequest<'_> {
        HttpRequest {
            method: self.method,
            path: self.path,
            query: self.query,
            headers: &self.headers,
            body: self.body,
        }
    }
}

fn split_target(target: &str) -> (&str, &str) {
    target.split_once('?').unwrap_or((target, ""))
}

/// Target `header`: a whole request, usually header-signed.
pub fn header(data: &[u8]) {
    if let Some(raw) = RawRequest::parse(data) {
        check(&raw.http());
    }
}

/// Target `presigned`: a request target (`/path?X-Amz-Algorithm=…`) fetched with GET from
/// [`PRESIGNED_HOST`], as a browser follows a presigned URL.
pub fn presigned(data: &[u8]) {
    let Ok(target) = std::str::from_utf8(data) else {
        return;
    };
    let (path, query) = split_target(target);
    let headers = [("Host", PRESIGNED_HOST)];
    check(&HttpRequest {
        method: "GET",
        path,
        query,
        headers: &headers,
        body: b"",
    });
}

/// Everything the server does with a claim: parse it, read it, verify it, word the error.
fn check(req: &HttpRequest<'_>) {
    let _ = carries_security_token(req);
    let claim = match parse(req) {
        Ok(claim) => claim,
        Err(error) => return word(&error),
    };
    let _ = (claim.access_key_id(), claim.scope(), claim.session_token());
    let _ = (claim.location(), claim.signed_headers());
    let _ = parse_amz_date(&crate::format_amz_date(claim.signed_at()));
    if let Err(error) = claim.check_region(&["us-east-1"]) {
        word(&error);
    }
    let _ = claim.canonical_request(req);
    // At the instant it claims, so that any date reaches the signature check; then at a fixed
    // clock, with a key cache, for the time-window arithmetic.
    let cache = SigningKeyCache::new(2);
    for (now, cache) in [(claim.signed_at(), None), (1_800_000_000, Some(&cache))] {
        if let Err(error) = claim.verify(req, SECRET.as_bytes(), now, cache) {
            word(&error);
        }
    }
}

fn word(error: &SigV4Error) {
    for dialect in [ErrorDialect::Query, ErrorDialect::Ec2] {
        let _ = (
            error.code(dialect),
            error.status(dialect),
            error.message(dialect),
        );
    }
}
