//! The AWS API listener: one port for every service, routed by the SigV4 credential scope.
//!
//! bytes → SigV4 claim → protocol decode → authenticate → service operation → XML.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use axum::Router;
use axum::body::Body;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use sigv4::HttpRequest;
use store::Store;

use super::app::App;
use super::auth::authenticate;
use super::request_id;
use crate::audit::CallRecord;
use crate::protocol::{self, AwsError, CONTENT_TYPE, Envelope, Params, REQUEST_ID_HEADER};
use crate::{ec2, iam, sts};

/// Larger bodies are refused before any work: the largest legitimate requests (a policy document
/// of 131,072 characters, URL-encoded) stay well under it.
pub const MAX_BODY_BYTES: usize = 1 << 20;

pub fn router<S: Store>(app: Arc<App<S>>) -> Router {
    Router::new().fallback(handle::<S>).with_state(app)
}

/// What the handler of a service gets.
pub struct Call<'a, S> {
    pub app: &'a App<S>,
    pub caller: &'a super::Caller,
    pub params: &'a Params,
    pub request_id: &'a str,
    pub peer: SocketAddr,
    pub now: u64,
}

async fn handle<S: Store>(
    State(app): State<Arc<App<S>>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    request: Request,
) -> Response {
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
    let response = serve_call(&app, peer, request, received, &request_id, &mut record).await;
    // Audit contract: the call's record is durable before its response leaves.
    if let Some(audit) = app.audit() {
        audit.record(record, &request_id).await;
    }
    response
}

async fn serve_call<S: Store>(
    app: &App<S>,
    peer: SocketAddr,
    request: Request,
    received: SystemTime,
    request_id: &str,
    record: &mut CallRecord,
) -> Response {
    let (parts, body) = request.into_parts();
    let body = match axum::body::to_bytes(body, MAX_BODY_BYTES).await {
        Ok(body) => body,
        Err(_) => {
            let err = AwsError::sender(
                "RequestEntityTooLarge",
                413,
                format!("Request body must be at most {MAX_BODY_BYTES} bytes"),
            );
            return reply(record, Envelope::IAM, Err(err), request_id);
        }
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
    let now = received
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);

    let claim = sigv4::parse(&http);
    if let Ok(claim) = &claim
        && claim.scope().service == "cloudtrail"
    {
        let scope = claim.scope();
        record.signed(scope.service, scope.region, claim.access_key_id());
        return crate::cloudtrail::handle(app, peer, &http, claim, now, request_id, record).await;
    }
    // Access Analyzer is restJson1: routed by method and path, answered in JSON.
    if let Ok(claim) = &claim
        && claim.scope().service == crate::analyzer::SERVICE
    {
        let scope = claim.scope();
        record.signed(scope.service, scope.region, claim.access_key_id());
        return crate::analyzer::serve(app, peer, &http, claim, now, request_id, record).await;
    }
    let envelope = match &claim {
        Ok(claim) => envelope_for_service(claim.scope().service),
        Err(_) => envelope_for_body(&http),
    };
    let Some(envelope) = envelope else {
        let err = AwsError::sender(
            "InvalidAction",
            400,
            "The service named in the credential scope is not served here",
        );
        return reply(record, Envelope::IAM, Err(err), request_id);
    };
    let dialect = match envelope.protocol {
        protocol::Protocol::AwsQuery => sigv4::ErrorDialect::Query,
        protocol::Protocol::Ec2Query => sigv4::ErrorDialect::Ec2,
    };
    let claim = match claim {
        Ok(claim) => {
            let scope = claim.scope();
            record.signed(scope.service, scope.region, claim.access_key_id());
            claim
        }
        Err(e) => {
            let err = AwsError::sender(e.code(dialect), e.status(dialect), e.message(dialect));
            return reply(record, envelope, Err(err), request_id);
        }
    };
    let params = match decode_params(envelope, &http) {
        Ok(params) => {
            record.query(&params);
            params
        }
        Err(err) => return reply(record, envelope, Err(err), request_id),
    };
    let caller = match authenticate(app, &http, &claim, now, envelope.protocol).await {
        Ok(caller) => {
            record.caller(&caller);
            caller
        }
        Err(err) => return reply(record, envelope, Err(err), request_id),
    };
    if let Err(err) =
        sts::restrict_session_token_credentials(&caller, claim.scope().service, params.action())
    {
        return reply(record, envelope, Err(err), request_id);
    }
    let call = Call {
        app,
        caller: &caller,
        params: &params,
        request_id,
        peer,
        now,
    };
    let result = match envelope {
        e if e == Envelope::STS => sts::handle(&call).await,
        e if e == Envelope::EC2 => ec2::handle(&call).await,
        e if e == Envelope::IAM => {
            let result = iam::handle(&call).await;
            if result.is_ok() && !is_read_only(params.action()) {
                // Users, keys, tags or policies may have changed: resolve keys afresh.
                app.key_cache().bump();
            }
            result
        }
        e => Err(AwsError::invalid_action(
            e.protocol,
            params.action(),
            params.version().unwrap_or(e.version),
        )),
    };
    reply(record, envelope, result, request_id)
}

/// IAM's read-only operations, by AWS's naming convention.
fn is_read_only(action: &str) -> bool {
    ["Get", "List", "Simulate", "Generate"]
        .iter()
        .any(|prefix| action.starts_with(prefix))
}

fn envelope_for_service(service: &str) -> Option<Envelope> {
    match service {
        "iam" => Some(Envelope::IAM),
        "sts" => Some(Envelope::STS),
        "ec2" => Some(Envelope::EC2),
        _ => None,
    }
}

/// Before a credential scope is known (an unsigned or malformed request), the API version in the
/// body says which service's error dialect the client will parse.
fn envelope_for_body(http: &HttpRequest<'_>) -> Option<Envelope> {
    let source = if http.body.is_empty() {
        http.query.as_bytes()
    } else {
        http.body
    };
    let has = |needle: &[u8]| source.windows(needle.len()).any(|w| w == needle);
    Some(if has(b"Version=2016-11-15") {
        Envelope::EC2
    } else if has(b"Version=2011-06-15") {
        Envelope::STS
    } else {
        Envelope::IAM
    })
}

/// Parameters come from the body of a POST and from the query string (presigned requests put
/// them there); both are decoded strictly.
fn decode_params(envelope: Envelope, http: &HttpRequest<'_>) -> Result<Params, AwsError> {
    let mut pairs = protocol::decode_form(http.query.as_bytes(), MAX_BODY_BYTES)?;
    pairs.retain(|(name, _)| !name.starts_with("X-Amz-"));
    pairs.extend(protocol::decode_form(http.body, MAX_BODY_BYTES)?);
    Ok(Params::from_pairs(envelope.protocol, pairs)?)
}

/// Notes how the call ended in its audit record, then renders it.
fn reply(
    record: &mut CallRecord,
    envelope: Envelope,
    result: Result<String, AwsError>,
    request_id: &str,
) -> Response {
    match &result {
        Ok(body) => record.succeeded(body),
        Err(err) => record.failed(err),
    }
    render(envelope, result, request_id)
}

fn render(envelope: Envelope, result: Result<String, AwsError>, request_id: &str) -> Response {
    let (status, body) = match result {
        Ok(body) => (200, body),
        Err(err) => envelope.error(&err, request_id),
    };
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut response = (status, Body::from(body)).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(CONTENT_TYPE));
    if let Ok(value) = HeaderValue::from_str(request_id) {
        headers.insert(REQUEST_ID_HEADER, value);
    }
    response
}
