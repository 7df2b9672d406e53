//! AWS Signature Version 4 verification, server side (and signing, for roleplane's own client
//! commands). Pure: no I/O, no clock (`now` is an
//! argument), no async.
//!
//! Verification takes two steps because the server must find the secret first:
//!
//! ```
//! # use sigv4::{HttpRequest, SigV4Error, SigningKeyCache};
//! # fn lookup(_: &str) -> Option<Vec<u8>> { None }
//! # fn handle(req: &HttpRequest, now: u64, cache: &SigningKeyCache) -> Result<(), SigV4Error> {
//! let claim = sigv4::parse(req)?;                         // who claims to have signed
//! let secret = lookup(claim.access_key_id()).ok_or(SigV4Error::InvalidClientTokenId)?;
//! claim.verify(req, &secret, now, Some(cache))?;          // did they?
//! # Ok(()) }
//! ```
//!
//! Both header-signed (`Authorization: AWS4-HMAC-SHA256 …`) and presigned (`X-Amz-Signature` in
//! the query) requests are supported, with AWS's canonicalization for non-S3 services (the path
//! is normalized and encoded a second time). Errors carry AWS's codes, statuses and messages.

mod amz_date;
mod authorization;
mod canonical;
mod error;
#[doc(hidden)]
pub mod fuzzing;
mod sign;
mod signing_key;
mod verify;

pub use authorization::{
    Authorization, CredentialScope, SignatureLocation, carries_security_token, parse,
};
pub use error::{ErrorDialect, SigV4Error};
pub use sign::{SigningIdentity, sign};
pub use signing_key::SigningKeyCache;

/// The only algorithm SigV4 (as opposed to SigV4a) defines.
pub const ALGORITHM: &str = "AWS4-HMAC-SHA256";

/// How far a request's `X-Amz-Date` may be from the server's clock: 15 minutes.
pub const CLOCK_SKEW_SECS: u64 = 15 * 60;

/// The longest a presigned URL may be valid: 7 days.
pub const MAX_PRESIGNED_EXPIRES_SECS: u64 = 7 * 24 * 60 * 60;

/// An HTTP request as it arrived, before any decoding.
#[derive(Clone, Copy, Debug)]
pub struct HttpRequest<'a> {
    /// `GET`, `POST`, … exactly as sent.
    pub method: &'a str,
    /// The raw path, still percent-encoded as on the wire.
    pub path: &'a str,
    /// The raw query, without the `?`.
    pub query: &'a str,
    /// Every header, names in any case, repeated names kept in order.
    pub headers: &'a [(&'a str, &'a str)],
    pub body: &'a [u8],
}

/// Formats Unix seconds as SigV4's `YYYYMMDDTHHMMSSZ`.
pub fn format_amz_date(epoch_secs: u64) -> String {
    amz_date::format(epoch_secs)
}

/// Parses SigV4's `YYYYMMDDTHHMMSSZ` into Unix seconds.
pub fn parse_amz_date(text: &str) -> Option<u64> {
    amz_date::parse(text)
}
