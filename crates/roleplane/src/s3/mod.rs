//! S3, seam only (decision 0008): how S3 will sit on roleplane with the `s3s` crate as it is.
//! s3s owns S3's wire (streaming bodies, REST routing, XML) and its signature variants; roleplane
//! supplies the secrets ([`auth::RoleplaneAuth`]) and, later, the operations, which authorize
//! and audit through `request` like every other service. Not routed from the live server yet.
//!
//! Here: [`service`] builds the s3s service once per app, [`serve`] runs one request through it
//! with the request's session token in the task-local seam, and [`caller`] gives an operation
//! the caller s3s verified. The S3 implementation holds nothing: ListBuckets answers an empty
//! list owned by the caller, every other operation s3s's `NotImplemented`.
//!
//! [`blobs`] is where object bytes will live: immutable, durable blobs by random ID.

pub mod auth;
pub mod blobs;
#[cfg(test)]
mod tests;

use std::sync::{Arc, Mutex};

use s3s::auth::Credentials;
use s3s::dto::{ListBucketsInput, ListBucketsOutput, Owner};
use s3s::service::{S3Service, S3ServiceBuilder};
use s3s::{HttpRequest, HttpResponse, S3, S3Request, S3Response, S3Result, s3_error};
use store::Store;
use zeroize::Zeroizing;

use self::auth::{RoleplaneAuth, SEAM, Seam};
use crate::request::{App, Caller};

/// The credential-scope service name S3 signs with.
pub const SERVICE: &str = "s3";

/// The s3s service over `app`'s keys and session tokens; build it once and share it.
pub fn service<S: Store>(app: Arc<App<S>>) -> S3Service {
    let mut builder = S3ServiceBuilder::new(Bucketless);
    builder.set_auth(RoleplaneAuth::new(app));
    builder.build()
}

/// Serves one S3 request that arrived at `now` (seconds since the epoch). The body is not
/// buffered: s3s streams it to the operation.
pub async fn serve(service: &S3Service, request: HttpRequest, now: u64) -> HttpResponse {
    let seam = Seam {
        token: security_token(&request),
        now,
        caller: Mutex::new(None),
    };
    match SEAM.scope(seam, service.call(request)).await {
        Ok(response) => response,
        // s3s answers every S3 error itself; this is only its failure to serialize one.
        Err(_) => {
            tracing::error!("s3s could not render an S3 response");
            let mut response = HttpResponse::new(s3s::Body::empty());
            *response.status_mut() = axum::http::StatusCode::INTERNAL_SERVER_ERROR;
            response
        }
    }
}

/// The caller whose signature s3s verified for this request, for an operation to authorize
/// and audit with (`request::Call`). `None` outside [`serve`], for an anonymous request, or if
/// the credentials s3s hands the operation are not the ones the seam resolved.
pub fn caller(credentials: Option<&Credentials>) -> Option<Caller> {
    let credentials = credentials?;
    SEAM.try_with(|seam| {
        let slot = seam.caller.lock().ok()?;
        slot.as_ref()
            .filter(|caller| caller.access_key_id == credentials.access_key)
            .cloned()
    })
    .ok()
    .flatten()
}

/// `x-amz-security-token` (header), else `X-Amz-Security-Token` (query parameter, as presigned
/// URLs carry it), percent-decoded.
fn security_token(request: &HttpRequest) -> Option<Zeroizing<String>> {
    if let Some(value) = request.headers().get("x-amz-security-token") {
        return value.to_str().ok().map(|v| Zeroizing::new(v.to_owned()));
    }
    request.uri().query()?.split('&').find_map(|piece| {
        let (name, value) = piece.split_once('=')?;
        (name == "X-Amz-Security-Token").then(|| {
            Zeroizing::new(
                percent_encoding::percent_decode_str(value)
                    .decode_utf8_lossy()
                    .into_owned(),
            )
        })
    })
}

/// An S3 with no storage: what the S3 issue will replace with real operations.
struct Bucketless;

#[async_trait::async_trait]
impl S3 for Bucketless {
    async fn list_buckets(
        &self,
        req: S3Request<ListBucketsInput>,
    ) -> S3Result<S3Response<ListBucketsOutput>> {
        let caller = caller(req.credentials.as_ref()).ok_or_else(|| s3_error!(AccessDenied))?;
        Ok(S3Response::new(ListBucketsOutput {
            buckets: Some(Vec::new()),
            owner: Some(Owner {
                id: Some(caller.account_id),
                ..Owner::default()
            }),
            ..ListBucketsOutput::default()
        }))
    }
}
