//! CloudTrail's `LookupEvents` over the audit trail (awsJson1_1 on the shared API listener,
//! routed by the SigV4 scope service `cloudtrail`), so `aws cloudtrail lookup-events` works.

pub(crate) mod input;
pub(crate) mod token;

use protocol::AwsError;
use protocol::aws_json::AwsJson;
use serde_json::{Map, Value, json};
use store::Store;
use store::audit::{Event, EventQuery, Order};

use crate::request::{Call, Service, authz};
use input::LookupInput;

/// CloudTrail's signing name.
pub const SERVICE: &str = "cloudtrail";
pub(crate) const TARGET_PREFIX: &str = "com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101.";
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

/// CloudTrail on the request pipeline.
pub struct CloudTrail;

impl<S: Store> Service<S> for CloudTrail {
    type Dialect = AwsJson;
    const NAME: &'static str = SERVICE;

    fn dialect(&self) -> &AwsJson {
        const DIALECT: AwsJson = AwsJson {
            target_prefix: TARGET_PREFIX,
        };
        &DIALECT
    }

    fn operations(&self) -> &'static [&'static str] {
        OPERATIONS
    }

    async fn call(&self, call: &Call<'_, S, Value>) -> Result<String, AwsError> {
        lookup_events(call).await
    }
}

async fn lookup_events<S: Store>(call: &Call<'_, S, Value>) -> Result<String, AwsError> {
    authz::authorize(call, ACTION, "*").await?;
    let body = call.input;
    let input = LookupInput::parse(body)?;
    let fingerprint = input.fingerprint();
    let after = match &input.next_token {
        Some(token) => Some(token::decode(token, fingerprint).ok_or(LookupError::NextToken)?),
        None => None,
    };
    if input.insights {
        return Ok(json!({"Events": []}).to_string());
    }
    let query = EventQuery {
        account_id: Some(&call.caller.account_id),
        filter: input.filter(),
        start_ms: input.start_ms,
        end_ms: input.end_ms,
        order: Order::NewestFirst,
        after,
        limit: input.max_results + 1,
        // CloudTrail's LookupEvents returns management events only, never S3's data events.
        management_only: true,
    };
    let Some(audit) = call.app.audit() else {
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
