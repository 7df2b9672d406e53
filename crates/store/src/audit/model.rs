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
    /// `managementEvent`: `false` for a data event (S3's object-level calls), which CloudTrail's
    /// LookupEvents never returns ([`EventQuery::management_only`]).
    pub management: bool,
    /// The CloudTrail record, compact JSON on one line.
    pub record: String,
}

/// A stored record with its place in the log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    /// Its place in its journal (segment and byte offset), increasing in journal order.
    pub seq: i64,
    /// Where a page ending with this event continues: its place in both journals' merged
    /// order ([`super::merge`]).
    pub(super) place: Position,
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
    pub management: bool,
    pub record: String,
}

impl Event {
    /// `e` found at `seq` in a journal (a page of one journal alone).
    pub fn new(seq: i64, e: NewEvent) -> Self {
        Self {
            seq,
            place: Position {
                event_time_ms: e.event_time_ms,
                seq,
                unauthenticated_seq: None,
            },
            event_id: e.event_id,
            event_time_ms: e.event_time_ms,
            account_id: e.account_id,
            event_source: e.event_source,
            event_name: e.event_name,
            read_only: e.read_only,
            access_key_id: e.access_key_id,
            username: e.username,
            principal_arn: e.principal_arn,
            error_code: e.error_code,
            resources: e.resources,
            management: e.management,
            record: e.record,
        }
    }

    pub fn position(&self) -> Position {
        self.place
    }
}

/// A place in the log's order: journal order within each of the two journals (the order
/// records became durable), the two merged by event time ([`super::merge`]; event times are
/// the calls' start times, so neighbours may differ by a call's duration). Pages continue
/// after one; the seqs alone decide, the time is carried for callers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Position {
    pub event_time_ms: i64,
    /// Place reached in the journal of authenticated calls.
    pub seq: i64,
    /// Place reached in the journal of calls without an authenticated caller; `None`: not
    /// started (a position made before there were two journals).
    pub unauthenticated_seq: Option<i64>,
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
    /// Inclusive bounds on event time, epoch milliseconds.
    pub start_ms: Option<i64>,
    pub end_ms: Option<i64>,
    pub order: Order,
    /// Continue strictly after this position (in `order`).
    pub after: Option<Position>,
    pub limit: u32,
    /// Management events only, as CloudTrail's LookupEvents answers; data events are left out
    /// while the page is filled, so a page is never short for them.
    pub management_only: bool,
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
            management_only: false,
        }
    }
}

/// An [`EventQuery`] owning its strings, to cross onto a blocking thread.
#[derive(Debug, Clone)]
pub(super) struct OwnedQuery {
    account_id: Option<String>,
    filter: Option<OwnedFilter>,
    start_ms: Option<i64>,
    end_ms: Option<i64>,
    order: Order,
    after: Option<Position>,
    limit: u32,
    management_only: bool,
}

#[derive(Debug, Clone)]
enum OwnedFilter {
    ReadOnly(bool),
    /// Every other attribute: its constructor and value.
    Text(for<'a> fn(&'a str) -> EventFilter<'a>, String),
}

impl From<&EventQuery<'_>> for OwnedQuery {
    fn from(query: &EventQuery<'_>) -> Self {
        fn text(make: for<'a> fn(&'a str) -> EventFilter<'a>, value: &str) -> OwnedFilter {
            OwnedFilter::Text(make, value.to_owned())
        }
        let filter = query.filter.map(|filter| match filter {
            EventFilter::ReadOnly(read_only) => OwnedFilter::ReadOnly(read_only),
            EventFilter::EventId(v) => text(|v| EventFilter::EventId(v), v),
            EventFilter::EventName(v) => text(|v| EventFilter::EventName(v), v),
            EventFilter::Username(v) => text(|v| EventFilter::Username(v), v),
            EventFilter::ResourceType(v) => text(|v| EventFilter::ResourceType(v), v),
            EventFilter::ResourceName(v) => text(|v| EventFilter::ResourceName(v), v),
            EventFilter::EventSource(v) => text(|v| EventFilter::EventSource(v), v),
            EventFilter::AccessKeyId(v) => text(|v| EventFilter::AccessKeyId(v), v),
            EventFilter::PrincipalArn(v) => text(|v| EventFilter::PrincipalArn(v), v),
        });
        Self {
            account_id: query.account_id.map(str::to_owned),
            filter,
            start_ms: query.start_ms,
            end_ms: query.end_ms,
            order: query.order,
            after: query.after,
            limit: query.limit,
            management_only: query.management_only,
        }
    }
}

impl OwnedQuery {
    pub fn borrow(&self) -> EventQuery<'_> {
        EventQuery {
            account_id: self.account_id.as_deref(),
            filter: self.filter.as_ref().map(|filter| match filter {
                OwnedFilter::ReadOnly(read_only) => EventFilter::ReadOnly(*read_only),
                OwnedFilter::Text(make, value) => make(value),
            }),
            start_ms: self.start_ms,
            end_ms: self.end_ms,
            order: self.order,
            after: self.after,
            limit: self.limit,
            management_only: self.management_only,
        }
    }
}
