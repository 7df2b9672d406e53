//! CloudTrail's `LookupEvents` over the audit trail (awsJson1_1 on the shared API listener,
//! routed by the SigV4 scope service `cloudtrail`), so `aws cloudtrail lookup-events` works.

mod input;
mod token;

use std::net::SocketAddr;

use axum::body::Body;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};
use sigv4::{Authorization, HttpRequest};
use store::Store;
use store::audit::{Event, EventQuery, Order};

use crate::audit::CallRecord;
use crate::protocol::{AwsError, Params, Protocol, REQUEST_ID_HEADER};
use crate::server::App;
use crate::server::api::Call;
use crate::server::{authenticate, authz};
use input::LookupInput;

pub const CONTENT_TYPE: &str = "application/x-amz-json-1.1";
const TARGET_PREFIX: &str = "com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101.";
const ACTION: &str = "cloudtrail:LookupEvents";

/// Every operation served (see `iam::OPERATIONS`).
pub const OPERATIONS: &[&str] = &["LookupEvents"];

/// A LookupEvents refusal: `__type` and message as awsJson clients parse them.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LookupError {
    #[error("Occurs when a lookup attribute is specified that is not valid. {0}")]
    Attributes(String),
    #[error(
        "Occurs if the timestamp values are not valid. Either the start time occurs after the end time, or the time range is outside the range of possible values."
    )]
    TimeRange,
    #[error("This exception is thrown if the limit specified is not valid.")]
    MaxResults,
    #[error(
        "A token that is not valid, or a token that was previously used in a request with different parameters. This exception is thrown if the token is not valid."
    )]
    NextToken,
    #[error(
        "Occurs if an event category that is not valid is specified as a value of EventCategory."
    )]
    EventCategory,
    #[error("The request body is not a valid LookupEvents request.")]
    Serialization,
}

impl LookupError {
    fn attributes(detail: impl Into<String>) -> Self {
        Self::Attributes(detail.into())
    }

    fn code(&self) -> &'static str {
        match self {
            Self::Attributes(_) => "InvalidLookupAttributesException",
            Self::TimeRange => "InvalidTimeRangeException",
            Self::MaxResults => "InvalidMaxResultsException",
            Self::NextToken => "InvalidNextTokenException",
            Self::EventCategory => "InvalidEventCategoryException",
            Self::Serialization => "SerializationException",
        }
    }
}

impl From<LookupError> for AwsError {
    fn from(e: LookupError) -> Self {
        AwsError::sender(e.code(), 400, e.to_string())
    }
}

/// Serves one signed CloudTrail request, noting what it learns in `record`.
pub async fn handle<S: Store>(
    app: &App<S>,
    peer: SocketAddr,
    http: &HttpRequest<'_>,
    claim: &Authorization<'_>,
    now: u64,
    request_id: &str,
    record: &mut CallRecord,
) -> Response {
    let result = lookup_events(app, peer, http, claim, now, request_id, record).await;
    match &result {
        Ok(body) => record.succeeded(body),
        Err(error) => record.failed(error),
    }
    render(result, request_id)
}

async fn lookup_events<S: Store>(
    app: &App<S>,
    peer: SocketAddr,
    http: &HttpRequest<'_>,
    claim: &Authorization<'_>,
    now: u64,
    request_id: &str,
    record: &mut CallRecord,
) -> Result<String, AwsError> {
    let target = http
        .headers
        .iter()
        .find(|(name, _)| name.eq_ignore_ascii_case("x-amz-target"))
        .map(|(_, value)| *value)
        .unwrap_or_default();
    let operation = target.strip_prefix(TARGET_PREFIX).unwrap_or(target);
    let body: Value = if http.body.is_empty() {
        Value::Object(Map::new())
    } else {
        serde_json::from_slice(http.body).map_err(|_| LookupError::Serialization)?
    };
    if operation.is_empty() {
        return Err(AwsError::sender(
            "UnknownOperationException",
            400,
            "The X-Amz-Target header names no operation",
        ));
    }
    record.json(operation, &body);
    let caller = authenticate(app, http, claim, now, Protocol::AwsQuery)
        .await
        .map_err(json_auth_error)?;
    record.caller(&caller);
    if !OPERATIONS.contains(&operation) {
        return Err(AwsError::sender(
            "UnknownOperationException",
            400,
            format!("The operation {operation} is not served here"),
        ));
    }
    let params = Params::from_pairs(
        Protocol::AwsQuery,
        vec![("Action".to_owned(), operation.to_owned())],
    )
    .map_err(|_| AwsError::internal(Protocol::AwsQuery))?;
    let call = Call {
        app,
        caller: &caller,
        params: &params,
        request_id,
        peer,
        now,
    };
    authz::authorize(&call, ACTION, "*")
        .await
        .map_err(json_auth_error)?;

    let input = LookupInput::parse(&body)?;
    let fingerprint = input.fingerprint();
    let after = match &input.next_token {
        Some(token) => Some(token::decode(token, fingerprint).ok_or(LookupError::NextToken)?),
        None => None,
    };
    if input.insights {
        return Ok(json!({"Events": []}).to_string());
    }
    let query = EventQuery {
        account_id: Some(&caller.account_id),
        filter: input.filter(),
        start_ms: input.start_ms,
        end_ms: input.end_ms,
        order: Order::NewestFirst,
        after,
        limit: input.max_results + 1,
    };
    let Some(audit) = app.audit() else {
        return Ok(json!({"Events": []}).to_string());
    };
    let mut events = audit.log().lookup(&query).await.map_err(|error| {
        tracing::error!(%error, "reading the audit log");
        AwsError::receiver("InternalFailure", 500, "An internal error occurred")
    })?;
    let more = events.len() > input.max_results as usize;
    events.truncate(input.max_results as usize);
    let mut out = Map::new();
    out.insert(
        "Events".into(),
        Value::Array(events.iter().map(event_json).collect()),
    );
    if more && let Some(last) = events.last() {
        out.insert(
            "NextToken".into(),
            token::encode(last.position(), fingerprint).into(),
        );
    }
    Ok(Value::Object(out).to_string())
}

fn event_json(event: &Event) -> Value {
    let mut out = Map::with_capacity(9);
    out.insert("EventId".into(), event.event_id.as_str().into());
    out.insert("EventName".into(), event.event_name.as_str().into());
    out.insert(
        "ReadOnly".into(),
        if event.read_only { "true" } else { "false" }.into(),
    );
    if let Some(key) = &event.access_key_id {
        out.insert("AccessKeyId".into(), key.as_str().into());
    }
    out.insert(
        "EventTime".into(),
        event.event_time_ms.div_euclid(1000).into(),
    );
    out.insert("EventSource".into(), event.event_source.as_str().into());
    if let Some(name) = &event.username {
        out.insert("Username".into(), name.as_str().into());
    }
    let resources = serde_json::from_str(&event.resources).unwrap_or(Value::Array(Vec::new()));
    out.insert("Resources".into(), resources);
    out.insert("CloudTrailEvent".into(), event.record.as_str().into());
    Value::Object(out)
}

/// Authentication and authorization errors in awsJson's names for them.
fn json_auth_error(mut error: AwsError) -> AwsError {
    let code = match &*error.code {
        "InvalidClientTokenId" => "UnrecognizedClientException",
        "SignatureDoesNotMatch" => "InvalidSignatureException",
        "ExpiredToken" => "ExpiredTokenException",
        "IncompleteSignature" => "IncompleteSignatureException",
        "AccessDenied" => "AccessDeniedException",
        _ => return error,
    };
    error.code = code.into();
    error
}

fn render(result: Result<String, AwsError>, request_id: &str) -> Response {
    let (status, body) = match result {
        Ok(body) => (200, body),
        Err(error) => (
            error.status,
            json!({"__type": error.code, "message": error.message}).to_string(),
        ),
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
