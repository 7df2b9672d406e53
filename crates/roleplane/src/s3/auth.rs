//! Who signed an S3 request, as s3s asks it: s3s verifies S3's signature variants itself
//! (header, presigned URL, chunked `STREAMING-AWS4-HMAC-SHA256-PAYLOAD`, unsigned payloads with
//! trailers, SigV2) and asks [`S3Auth::get_secret_key`] for the secret of an access key id.
//!
//! A long-term key's secret is in the store (through the key cache). A temporary key's secret is
//! in its session token, which s3s does not pass on: [`super::serve`] puts the request's token
//! in the task-local [`Seam`] for the length of the call, and [`RoleplaneAuth`] opens it with
//! the key ring, exactly as `request::authenticate` does (`request::open_session`). The caller
//! it resolves is kept in the seam too, for the S3 operations (`super::caller`), which run only
//! once s3s has verified the signature with the secret returned here.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};

use s3s::auth::{S3Auth, SecretKey};
use s3s::{S3Result, s3_error};
use store::Store;
use zeroize::Zeroizing;

use crate::audit::CallRecord;
use crate::request::{
    App, Caller, KeyRefusal, SessionRefusal, caller_of_session, long_term_key, open_session,
};

/// What one S3 request carries past s3s to roleplane's side: set by [`super::serve`] around the
/// call into s3s, read by [`RoleplaneAuth`] and by the S3 operations.
pub struct Seam {
    /// `x-amz-security-token` (header) or `X-Amz-Security-Token` (query), decoded.
    pub(super) token: Option<Zeroizing<String>>,
    /// Seconds since the epoch when the request arrived (one clock read per request).
    pub(super) now: u64,
    pub(super) peer: SocketAddr,
    pub(super) request_id: String,
    /// The region the SigV4 scope names (`None` for SigV2 and unsigned requests).
    pub(super) region: Option<String>,
    /// Set by `get_secret_key` for the key it resolved.
    pub(super) caller: Mutex<Option<Caller>>,
    /// The call's audit record, noted by the access check and the operations.
    pub(super) record: Mutex<CallRecord>,
}

impl Seam {
    /// The audit record, for a step of the call to note what it learned.
    pub(super) fn record(&self) -> MutexGuard<'_, CallRecord> {
        // A panic while the lock was held leaves a record still worth writing.
        self.record.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The finished call's record (the seam is done with it).
    pub(super) fn take_record(&self) -> CallRecord {
        std::mem::replace(&mut *self.record(), CallRecord::off())
    }
}

tokio::task_local! {
    pub(super) static SEAM: Seam;
}

/// s3s's authentication provider over roleplane's keys and session tokens.
pub struct RoleplaneAuth<S> {
    app: Arc<App<S>>,
}

impl<S> RoleplaneAuth<S> {
    pub fn new(app: Arc<App<S>>) -> Self {
        Self { app }
    }
}

// S3's words (AWS S3 error responses): an unknown key id is 403 InvalidAccessKeyId, a session
// token that is not one is 400 InvalidToken, an expired one 400 ExpiredToken.
const UNKNOWN_KEY: &str = "The AWS Access Key Id you provided does not exist in our records.";
const BAD_TOKEN: &str = "The provided token is malformed or otherwise invalid.";
const EXPIRED_TOKEN: &str = "The provided token has expired.";

#[async_trait::async_trait]
impl<S: Store> S3Auth for RoleplaneAuth<S> {
    async fn get_secret_key(&self, access_key: &str) -> S3Result<SecretKey> {
        // Outside `serve` there is no request to read a token from: refuse rather than guess.
        let Ok((token, now)) = SEAM.try_with(|seam| (seam.token.clone(), seam.now)) else {
            tracing::error!("S3 authentication outside roleplane's S3 entry point");
            return Err(s3_error!(InternalError));
        };
        let (caller, secret) = if access_key.starts_with("ASIA") {
            let claims = open_session(
                &self.app,
                access_key,
                token.as_deref().map(String::as_str),
                now,
            )
            .map_err(|e| match e {
                SessionRefusal::Missing | SessionRefusal::OtherKey => {
                    s3_error!(InvalidAccessKeyId, "{UNKNOWN_KEY}")
                }
                SessionRefusal::Invalid => s3_error!(InvalidToken, "{BAD_TOKEN}"),
                SessionRefusal::Expired => s3_error!(ExpiredToken, "{EXPIRED_TOKEN}"),
            })?;
            let secret = SecretKey::from(claims.secret_access_key.as_str());
            (caller_of_session(claims), secret)
        } else {
            // A long-term key with a session token is refused, as `request::authenticate` does.
            if token.is_some() {
                return Err(s3_error!(InvalidToken, "{BAD_TOKEN}"));
            }
            let key = long_term_key(&self.app, access_key)
                .await
                .map_err(|e| match e {
                    KeyRefusal::Unknown | KeyRefusal::Inactive => {
                        s3_error!(InvalidAccessKeyId, "{UNKNOWN_KEY}")
                    }
                    KeyRefusal::Internal => s3_error!(InternalError),
                })?;
            let Ok(secret) = std::str::from_utf8(key.secret()) else {
                tracing::error!(access_key_id = %access_key, "an access key's secret is not text");
                return Err(s3_error!(InternalError));
            };
            // A host agent's caller is refused by the access check (`access.rs`).
            (key.caller(self.app.region()), SecretKey::from(secret))
        };
        SEAM.with(|seam| {
            if let Ok(mut slot) = seam.caller.lock() {
                *slot = Some(caller);
            }
        });
        Ok(secret)
    }
}
