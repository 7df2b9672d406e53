//! What the audit log stores and how it is asked for it.

/// A record to append. The indexed columns are copies of fields of `record` (the CloudTrail
/// JSON), taken by the caller so the store never parses JSON.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewEvent {
    /// `eventID`, a UUID.
    pub event_id: String,
    /// Epoch milliseconds of `eventTime`.
    pub event_time_ms: i64,
    /// `recipientAccountId`.
    pub account_id: String,
    /// `eventSource`, e.g. `iam.amazonaws.com`.
    pub event_source: String,
    pub event_name: String,
    pub read_only: bool,
    pub access_key_id: Option<String>,
    /// LookupEvents' `Username`: the user name, or an assumed role's session name.
    pub username: Option<String>,
    /// The IAM identity behind the call (user ARN; a session's role or user ARN).
    pub principal_arn: Option<String>,
    pub error_code: Option<String>,
    /// JSON array of `{"ResourceType": …, "ResourceName": …}` as LookupEvents returns them.
    pub resources: String,
    /// The CloudTrail record, compact JSON on one line.
    pub record: String,
}

/// A stored record with its place in the log.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Event {
    pub seq: i64,
    pub event_id: String,
    pub event_time_ms: i64,
    pub account_id: String,
    pub event_source: String,
    pub event_name: String,
    pub read_only: bool,
    pub access_key_id: Option<String>,
    pub username: Option<String>,
    pub principal_arn: Option<String>,
    pub error_code: Option<String>,
    pub resources: String,
    pub record: String,
}

impl Event {
    pub fn position(&self) -> Position {
        Position {
            event_time_ms: self.event_time_ms,
            seq: self.seq,
        }
    }
}

/// A place in the log's order: event time, then commit order. Pages continue after one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Position {
    pub event_time_ms: i64,
    pub seq: i64,
}

/// LookupEvents' attributes, plus the principal scan policy generation needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventFilter<'a> {
    EventId(&'a str),
    EventName(&'a str),
    ReadOnly(bool),
    Username(&'a str),
    ResourceType(&'a str),
    ResourceName(&'a str),
    EventSource(&'a str),
    AccessKeyId(&'a str),
    PrincipalArn(&'a str),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Order {
    /// LookupEvents' order.
    #[default]
    NewestFirst,
    /// Exports and scans.
    OldestFirst,
}

/// One page's worth of question.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EventQuery<'a> {
    /// Only this account's events; every account's when `None`.
    pub account_id: Option<&'a str>,
    pub filter: Option<EventFilter<'a>>,
    /// Inclusive bounds, epoch milliseconds.
    pub start_ms: Option<i64>,
    pub end_ms: Option<i64>,
    pub order: Order,
    /// Continue strictly after this position (in `order`).
    pub after: Option<Position>,
    pub limit: u32,
}

impl Default for EventQuery<'_> {
    fn default() -> Self {
        Self {
            account_id: None,
            filter: None,
            start_ms: None,
            end_ms: None,
            order: Order::NewestFirst,
            after: None,
            limit: 50,
        }
    }
}
