//! S3 (decision 0008): the `s3s` crate owns S3's wire (REST routing, XML, streaming bodies and
//! S3's signature variants); roleplane supplies who signed ([`auth`]), may they ([`access`],
//! with the same policy engine as every other service, the bucket policy as the resource
//! policy), the operations ([`ops`]) over bucket and object records in the store and object
//! bytes in blobs ([`blobs`]), and the audit record of every call.
//!
//! A request reaches [`serve`] from the server's pipeline when it is S3's ([`recognize`]):
//! signed for the `s3` service, or unsigned and shaped like S3. [`serve`] runs it through
//! s3s inside the task-local [`auth::Seam`], which carries what s3s does not pass on (the
//! session token, the peer, the request ID, the audit record) to the authentication hook, the
//! access check and the operations.

pub mod access;
pub mod actions;
pub mod auth;
pub mod blobs;
mod checksums;
mod conditions;
mod errors;
mod final_chunk;
mod host;
pub(crate) mod ops;
pub mod public;
pub mod recognize;
#[cfg(test)]
mod record_tests;
#[cfg(test)]
mod robustness_tests;
#[cfg(test)]
mod tests;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use s3s::auth::Credentials;
use s3s::service::{S3Service, S3ServiceBuilder};
use s3s::{HttpRequest, HttpResponse};
use store::Store;
use zeroize::Zeroizing;

use self::access::RoleplaneAccess;
use self::auth::{RoleplaneAuth, SEAM, Seam};
use self::blobs::BlobStore;
pub use self::errors::{service_unavailable, slow_down};
pub use self::host::DEFAULT_DOMAIN;
use self::host::S3Domain;
use self::ops::Objects;
use crate::audit::CallRecord;
use crate::request::{App, Caller};

/// The credential-scope service name S3 signs with.
pub const SERVICE: &str = "s3";

/// Every S3 operation served, by the name CloudTrail and IAM's policy simulator give it.
pub const OPERATIONS: &[&str] = actions::OPERATIONS;

/// The s3s service over `app`'s keys, sessions and policies and `blobs`' bytes; build it once
/// and share it. `domain` is the virtual-hosted-style suffix (`bucket.DOMAIN`).
pub fn service<S: Store, B: BlobStore>(
    app: Arc<App<S>>,
    blobs: Arc<B>,
    domain: Option<&str>,
) -> S3Service {
    let mut builder = S3ServiceBuilder::new(Objects::new(app.clone(), blobs));
    builder.set_auth(RoleplaneAuth::new(app.clone()));
    builder.set_access(RoleplaneAccess::new(app));
    builder.set_host(S3Domain::new(domain));
    builder.build()
}

/// What one S3 request carries besides its bytes.
pub struct Arrival {
    pub peer: SocketAddr,
    /// Seconds since the epoch when it arrived.
    pub now: u64,
    pub request_id: String,
    /// Who the head says signed it ([`recognize`]).
    pub signer: Option<recognize::Signer>,
}

/// Serves one S3 request. The body is not buffered: s3s streams it to the operation. The
/// result carries the call's audit record, for the caller to make durable before the
/// response leaves.
pub async fn serve(
    service: &S3Service,
    request: HttpRequest,
    arrival: Arrival,
    mut record: CallRecord,
) -> (HttpResponse, CallRecord) {
    let request_id = arrival.request_id.clone();
    if let Some(refusal) = presign_refusal(&request) {
        let mut response = refusal;
        errors::finish(&mut response, &request_id, &mut record);
        return (response, record);
    }
    if let Some(signer) = &arrival.signer {
        record.signed(SERVICE, &signer.region, &signer.access_key_id);
    }
    let seam = Seam {
        token: security_token(&request),
        now: arrival.now,
        peer: arrival.peer,
        request_id: arrival.request_id,
        region: arrival.signer.map(|signer| signer.region),
        caller: Mutex::new(None),
        record: Mutex::new(record),
    };
    let (result, mut record) = SEAM
        .scope(seam, async {
            let result = service.call(request).await;
            (result, SEAM.with(Seam::take_record))
        })
        .await;
    let mut response = match result {
        Ok(response) => response,
        // s3s answers every S3 error itself; this is only its failure to serialize one.
        Err(_) => {
            tracing::error!("s3s could not render an S3 response");
            let mut response = HttpResponse::new(s3s::Body::empty());
            *response.status_mut() = axum::http::StatusCode::INTERNAL_SERVER_ERROR;
            response
        }
    };
    errors::finish(&mut response, &request_id, &mut record);
    (response, record)
}

/// An S3 request as s3s takes it, its body still streaming. A signed aws-chunked body is
/// watched for its final chunk ([`final_chunk`]).
pub fn request_of(request: axum::extract::Request) -> HttpRequest {
    let signed_stream = request
        .headers()
        .get("x-amz-content-sha256")
        .and_then(|v| v.to_str().ok())
        .is_some_and(final_chunk::is_signed_stream);
    request.map(|body| match signed_stream {
        true => s3s::Body::http_body_unsync(final_chunk::FinalChunkWatch::new(body)),
        false => s3s::Body::http_body_unsync(body),
    })
}

/// The caller whose signature s3s verified for this request. `None` outside [`serve`], for an
/// anonymous request, or if the credentials s3s hands over are not the ones the seam resolved.
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

/// The longest a SigV4 presigned URL may live (S3's limit, which s3s does not check).
const MAX_PRESIGNED_SECONDS: u64 = 7 * 24 * 3600;

/// S3's answer to a presigned URL asking to live longer than a week.
fn presign_refusal(request: &HttpRequest) -> Option<HttpResponse> {
    let query = request.uri().query()?;
    let expires = query.split('&').find_map(|piece| {
        let (name, value) = piece.split_once('=')?;
        (name == "X-Amz-Expires").then_some(value)
    })?;
    if expires
        .parse::<u64>()
        .is_ok_and(|s| s <= MAX_PRESIGNED_SECONDS)
    {
        return None;
    }
    let body = format!(
        r#"<?xml version="1.0" encoding="UTF-8"?><Error><Code>AuthorizationQueryParametersError</Code><Message>X-Amz-Expires must be less than a week (in seconds) that is {MAX_PRESIGNED_SECONDS}</Message></Error>"#
    );
    let mut response = HttpResponse::new(s3s::Body::from(body));
    *response.status_mut() = axum::http::StatusCode::BAD_REQUEST;
    response.headers_mut().insert(
        axum::http::header::CONTENT_TYPE,
        axum::http::HeaderValue::from_static("application/xml"),
    );
    Some(response)
}

/// The region the request's SigV4 scope names, inside [`serve`].
fn signed_region() -> Option<String> {
    SEAM.try_with(|seam| seam.region.clone()).ok().flatten()
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
