//! The request pipeline: one path for every service and protocol.
//!
//! S3 leaves it first: a request whose head is S3's ([`s3::recognize`]) goes to [`s3::serve`]
//! with its body still streaming, and comes back with its audit record, which is made durable
//! here like every other before the response leaves.
//!
//! bytes (≤ [`MAX_BODY_BYTES`]) → SigV4 claim → the routing table picks the service by the
//! credential scope ([`super::routes`]) → its dialect decodes the operation and input → the
//! caller is authenticated (a host agent is refused here, whatever it asks) → the operation
//! must be one the service lists → the service serves
//! the [`Call`] (authorizing before it touches the store) → the dialect encodes the result →
//! the call's audit record is durable → the response leaves.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use axum::Router;
use axum::body::Body;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use protocol::query::Query;
use protocol::{AwsError, Dialect, REQUEST_ID_HEADER, Rendered};
use sigv4::{Authorization, HttpRequest};
use store::Store;

use super::routes;
use crate::audit::{AuditedInput, CallRecord};
use crate::metrics::CallLabels;
use crate::request::{App, Call, Failure, Service, authenticate, host_agent, request_id};
use crate::s3::recognize::Recognized;
use crate::{s3, sts};
use s3s::service::S3Service;

/// Larger bodies are refused before any work: the largest legitimate requests (a policy document
/// of 131,072 characters, URL-encoded) stay well under it.
pub const MAX_BODY_BYTES: usize = 1 << 20;

/// What the pipeline serves with: the application, and S3 (its s3s service and the
/// virtual-hosted-style domain).
pub struct Served<S> {
    pub app: Arc<App<S>>,
    pub s3: S3Service,
    pub s3_domain: String,
}

pub fn router<S: Store>(served: Arc<Served<S>>) -> Router {
    Router::new().fallback(handle::<S>).with_state(served)
}

/// What every request carries through the pipeline besides its bytes.
pub struct Arrival<'a> {
    pub peer: SocketAddr,
    /// Seconds since the epoch (one clock read per request).
    pub now: u64,
    pub request_id: &'a str,
}

async fn handle<S: Store>(
    State(served): State<Arc<Served<S>>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    request: Request,
) -> Response {
    // The request metrics' one place: every answer passes here, with what served it.
    let started = Instant::now();
    let mut labels = CallLabels::UNROUTED;
    let response = answer(&served, peer, request, &mut labels).await;
    let metrics = &served.app.metrics().requests;
    metrics.observe(labels, response.status().as_u16(), started.elapsed());
    response
}

/// The answer to one request; `labels` says what served it, for the request metrics.
async fn answer<S: Store>(
    served: &Served<S>,
    peer: SocketAddr,
    request: Request,
    labels: &mut CallLabels,
) -> Response {
    let app = &served.app;
    let request_id = request_id::new();
    // One clock read per request (a system call on some virtual machines): the signature's
    // freshness and the record's eventTime share it.
    let received = SystemTime::now();
    let user_agent = request.headers().get(header::USER_AGENT);
    let mut record = match app.audit() {
        Some(audit) if audit.is_recording() => CallRecord::new(
            received,
            peer.ip(),
            user_agent.and_then(|v| v.to_str().ok()),
        ),
        _ => CallRecord::off(),
    };
    let now = received
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let recognized = recognize_s3(&request, &served.s3_domain);
    let is_s3 = matches!(recognized, Recognized::S3 { .. });
    if is_s3 {
        record.served_by(s3::SERVICE);
        *labels = record.labels();
    }
    // The trail fails closed: nothing is done that could not be recorded.
    if let Some(audit) = app.audit()
        && !audit.is_writable()
    {
        audit.refuse_call();
        return unavailable(is_s3, &request_id);
    }
    if let Recognized::S3 { signer } = recognized {
        let arrival = s3::Arrival {
            peer,
            now,
            request_id: request_id.clone(),
            signer,
        };
        let request = s3::request_of(request);
        let (response, record) = s3::serve(&served.s3, request, arrival, record).await;
        *labels = record.labels();
        return match replaced(app, peer, record, &request_id, true).await {
            Some(replacement) => replacement,
            None => response.map(Body::new),
        };
    }
    let arrival = Arrival {
        peer,
        now,
        request_id: &request_id,
    };
    let rendered = read_and_route(app, request, &arrival, &mut record).await;
    *labels = record.labels();
    match replaced(app, peer, record, &request_id, false).await {
        Some(replacement) => replacement,
        None => respond(rendered, &request_id),
    }
}

/// The answer while the audit trail cannot take records: AWS's `ServiceUnavailable` (503), in
/// S3's shape for an S3 request.
fn unavailable(s3: bool, request_id: &str) -> Response {
    if s3 {
        return s3::service_unavailable(request_id).map(Body::new);
    }
    let error = AwsError::receiver(
        "ServiceUnavailable",
        503,
        "The request has failed due to a temporary failure of the server.",
    );
    respond(
        Query(protocol::Envelope::IAM).render(Err(error), request_id),
        request_id,
    )
}

/// What answers a served call instead of its own response, if anything: `Throttling` (S3:
/// `SlowDown`) for a failing unauthenticated caller past the failure limits, which leaves no
/// record; 503 when the trail refuses the record. Otherwise the record is durable when this
/// returns `None` (the audit contract: before the response leaves).
async fn replaced<S: Store>(
    app: &App<S>,
    peer: SocketAddr,
    record: CallRecord,
    request_id: &str,
    s3: bool,
) -> Option<Response> {
    if !admitted(app, peer, &record) {
        if s3 {
            return Some(s3::slow_down(request_id).map(Body::new));
        }
        let throttled = AwsError::sender("Throttling", 400, "Rate exceeded".to_owned());
        let rendered = Query(protocol::Envelope::IAM).render(Err(throttled), request_id);
        return Some(respond(rendered, request_id));
    }
    match app.audit() {
        Some(audit) if audit.record(record, request_id).await.is_err() => {
            Some(unavailable(s3, request_id))
        }
        _ => None,
    }
}

/// Whether a call's answer may leave as it is: a failing unauthenticated call beyond the
/// failure limits is answered `Throttling` instead and leaves no audit record.
fn admitted<S: Store>(app: &App<S>, peer: SocketAddr, record: &CallRecord) -> bool {
    !record.failed_unauthenticated()
        || app
            .failure_limits()
            .admit(peer.ip(), record.claimed_key(), std::time::Instant::now())
}

fn recognize_s3(request: &Request, domain: &str) -> Recognized {
    let header = |name| {
        request
            .headers()
            .get(name)
            .and_then(|v: &HeaderValue| v.to_str().ok())
    };
    s3::recognize::recognize(
        request.uri().path(),
        request.uri().query().unwrap_or(""),
        header(header::AUTHORIZATION),
        header(header::HOST),
        domain,
    )
}

async fn read_and_route<S: Store>(
    app: &App<S>,
    request: Request,
    arrival: &Arrival<'_>,
    record: &mut CallRecord,
) -> Rendered {
    let (parts, body) = request.into_parts();
    let body = match axum::body::to_bytes(body, MAX_BODY_BYTES).await {
        Ok(body) => body,
        Err(e) => return unrouted(record, body_error(&e), arrival.request_id),
    };
    let headers: Vec<(&str, &str)> = parts
        .headers
        .iter()
        .filter_map(|(name, value)| Some((name.as_str(), value.to_str().ok()?)))
        .collect();
    let http = HttpRequest {
        method: parts.method.as_str(),
        path: parts.uri.path(),
        query: parts.uri.query().unwrap_or(""),
        headers: &headers,
        body: &body,
    };
    match sigv4::parse(&http) {
        Ok(claim) => {
            let scope = claim.scope();
            record.signed(scope.service, scope.region, claim.access_key_id());
            match routes::serve(app, &http, &claim, arrival, record).await {
                Some(rendered) => rendered,
                None => unrouted(
                    record,
                    AwsError::sender(
                        "InvalidAction",
                        400,
                        "The service named in the credential scope is not served here",
                    ),
                    arrival.request_id,
                ),
            }
        }
        // Unsigned or malformed: the routing table says who answers.
        Err(e) => routes::serve_unsigned(app, &http, e, arrival, record).await,
    }
}

/// A request no service took: answered in IAM's dialect.
fn unrouted(record: &mut CallRecord, err: AwsError, request_id: &str) -> Rendered {
    record.failed(&err);
    Query(protocol::Envelope::IAM).render(Err(err), request_id)
}

/// Serves one signed request with `service`: decode, authenticate, check the operation, call,
/// render, noting each step in the audit record.
pub async fn serve<S, V>(
    app: &App<S>,
    service: &V,
    http: &HttpRequest<'_>,
    claim: &Authorization<'_>,
    arrival: &Arrival<'_>,
    record: &mut CallRecord,
) -> Rendered
where
    S: Store,
    V: Service<S>,
    <V::Dialect as Dialect>::Input: AuditedInput,
{
    let dialect = service.dialect();
    record.served_by(V::NAME);
    let result: Result<String, Failure<V, S>> = async {
        let (operation, input) = dialect.decode(http)?;
        record.input(&operation, &input);
        let listed = service
            .operations()
            .iter()
            .find(|listed| **listed == operation);
        if let Some(listed) = listed {
            record.listed_operation(listed);
        }
        let caller = authenticate(app, http, claim, arrival.now, dialect.error_protocol())
            .await
            .map_err(|e| dialect.auth_error(e))?;
        record.caller(&caller);
        sts::restrict_session_token_credentials(&caller, V::NAME, &operation)
            .map_err(|e| dialect.auth_error(e))?;
        // A host's agent credential opens none of the AWS APIs, whatever the operation, and
        // the agent API opens to nothing else.
        host_agent::admit(
            &caller,
            V::CALLERS,
            V::NAME,
            &operation,
            dialect.error_protocol(),
        )
        .map_err(|e| dialect.auth_error(e))?;
        if listed.is_none() {
            return Err(dialect.unknown_operation(&operation));
        }
        let call = Call {
            app,
            caller: &caller,
            operation: &operation,
            input: &input,
            request_id: arrival.request_id,
            peer: arrival.peer,
            now: arrival.now,
        };
        service.call(&call).await
    }
    .await;
    match &result {
        Ok(body) => record.succeeded(body),
        Err(error) => record.failed(&dialect.shared_shape(error)),
    }
    dialect.render(result, arrival.request_id)
}

fn respond(rendered: Rendered, request_id: &str) -> Response {
    let status = StatusCode::from_u16(rendered.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut response = (status, Body::from(rendered.body)).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(rendered.content_type),
    );
    if let Some(code) = rendered.error_type
        && let Ok(value) = HeaderValue::from_str(&code)
    {
        headers.insert("x-amzn-ErrorType", value);
    }
    if let Ok(value) = HeaderValue::from_str(request_id) {
        headers.insert(REQUEST_ID_HEADER, value);
    }
    response
}

/// Why a body could not be read: its client fell below the minimum rate, or it is too large.
fn body_error(error: &axum::Error) -> AwsError {
    if crate::request::min_rate::TooSlow::caused(error) {
        // S3's code and words for the same condition; the connection closes after it.
        return AwsError::sender(
            "RequestTimeout",
            400,
            "Your socket connection to the server was not read from or written to within the \
             timeout period. Idle connections will be closed."
                .to_owned(),
        );
    }
    AwsError::sender(
        "RequestEntityTooLarge",
        413,
        format!("Request body must be at most {MAX_BODY_BYTES} bytes"),
    )
}
