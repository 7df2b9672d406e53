//! One API call's CloudTrail record, filled in as the request is understood (who signed it,
//! what it asked, how it ended) and finished into a [`NewEvent`] before the response goes out.

use std::net::IpAddr;

use serde_json::{Map, Value};
use store::audit::NewEvent;
use time::OffsetDateTime;

use super::dates::iso_seconds;
use super::identity::{self, Identified};
use super::{parameters, resources, response};
use crate::protocol::{AwsError, Params};
use crate::server::Caller;

/// CloudTrail's current record version.
pub const EVENT_VERSION: &str = "1.11";

/// User agents longer than this are cut: the header is the client's to choose.
const MAX_USER_AGENT: usize = 1024;

/// A record under construction. Nothing is recorded for a request that never named an access
/// key and an operation: CloudTrail has no caller or event to attribute it to.
#[derive(Debug)]
pub struct CallRecord {
    at: OffsetDateTime,
    source_ip: IpAddr,
    user_agent: Option<String>,
    service: Option<String>,
    region: String,
    access_key_id: Option<String>,
    event_name: Option<String>,
    request_parameters: Value,
    resources: resources::Resources,
    identity: Option<Identified>,
    outcome: Outcome,
}

#[derive(Debug)]
enum Outcome {
    Pending,
    Succeeded(Value),
    Failed { code: String, message: String },
}

impl CallRecord {
    pub fn new(source_ip: IpAddr, user_agent: Option<&str>) -> Self {
        Self {
            at: OffsetDateTime::now_utc(),
            source_ip,
            user_agent: user_agent.map(|ua| truncate(ua, MAX_USER_AGENT).to_owned()),
            service: None,
            region: String::new(),
            access_key_id: None,
            event_name: None,
            request_parameters: Value::Null,
            resources: resources::Resources::default(),
            identity: None,
            outcome: Outcome::Pending,
        }
    }

    /// The SigV4 credential scope: which service, in which region, under which key.
    pub fn signed(&mut self, service: &str, region: &str, access_key_id: &str) {
        self.service = Some(service.to_owned());
        self.region = region.to_owned();
        self.access_key_id = Some(access_key_id.to_owned());
    }

    /// A decoded awsQuery/ec2Query request.
    pub fn query(&mut self, params: &Params) {
        self.event_name = Some(params.action().to_owned());
        self.request_parameters = parameters::from_query(params);
        self.resources = resources::from_query(params);
    }

    /// A decoded awsJson request for `operation`.
    pub fn json(&mut self, operation: &str, body: &Value) {
        self.event_name = Some(operation.to_owned());
        self.request_parameters = parameters::from_json(body);
    }

    pub fn caller(&mut self, caller: &Caller) {
        self.identity = Some(identity::of_caller(caller));
    }

    /// The call succeeded with this response body (XML for query protocols).
    pub fn succeeded(&mut self, body: &str) {
        let elements = match &self.event_name {
            Some(name) => response::elements(name, body),
            None => Value::Null,
        };
        self.outcome = Outcome::Succeeded(elements);
    }

    pub fn failed(&mut self, error: &AwsError) {
        let code = match self.service.as_deref() {
            // CloudTrail prefixes EC2's codes with who was at fault.
            Some("ec2") if error.status >= 500 => format!("Server.{}", error.code),
            Some("ec2") => format!("Client.{}", error.code),
            _ => error.code.to_string(),
        };
        self.outcome = Outcome::Failed {
            code,
            message: error.message.clone(),
        };
    }

    /// The finished record, or `None` when the request named no key or no operation.
    /// `home_account` receives records whose caller could not be authenticated.
    pub fn finish(self, request_id: &str, home_account: &str) -> Option<NewEvent> {
        let service = self.service?;
        let event_name = self.event_name?;
        let access_key_id = self.access_key_id?;
        let who = self
            .identity
            .unwrap_or_else(|| identity::unknown(&access_key_id, home_account));
        let event_time_ms = epoch_ms(self.at);
        let event_id = super::new_event_id(event_time_ms);
        let read_only = is_read_only(&event_name);
        let event_source = format!("{service}.amazonaws.com");
        let mut record = Map::with_capacity(20);
        record.insert("eventVersion".into(), EVENT_VERSION.into());
        record.insert("userIdentity".into(), who.user_identity);
        record.insert("eventTime".into(), iso_seconds(self.at).into());
        record.insert("eventSource".into(), event_source.as_str().into());
        record.insert("eventName".into(), event_name.as_str().into());
        record.insert("awsRegion".into(), self.region.as_str().into());
        record.insert("sourceIPAddress".into(), self.source_ip.to_string().into());
        record.insert(
            "userAgent".into(),
            self.user_agent.unwrap_or_default().into(),
        );
        let (error_code, response_elements) = match self.outcome {
            Outcome::Failed { code, message } => {
                record.insert("errorCode".into(), code.as_str().into());
                record.insert("errorMessage".into(), message.into());
                (Some(code), Value::Null)
            }
            Outcome::Succeeded(elements) => (None, elements),
            Outcome::Pending => (None, Value::Null),
        };
        record.insert("requestParameters".into(), self.request_parameters);
        record.insert("responseElements".into(), response_elements);
        record.insert("requestID".into(), request_id.into());
        record.insert("eventID".into(), event_id.as_str().into());
        record.insert("readOnly".into(), read_only.into());
        let arns = self.resources.record_entries(&who.account_id, &self.region);
        if !arns.is_empty() {
            record.insert("resources".into(), Value::Array(arns));
        }
        record.insert("eventType".into(), "AwsApiCall".into());
        record.insert("managementEvent".into(), true.into());
        record.insert("recipientAccountId".into(), who.account_id.as_str().into());
        record.insert("eventCategory".into(), "Management".into());
        Some(NewEvent {
            event_id,
            event_time_ms,
            account_id: who.account_id,
            event_source,
            event_name,
            read_only,
            access_key_id: Some(access_key_id),
            username: who.username,
            principal_arn: who.principal_arn,
            error_code,
            resources: self.resources.lookup_json(),
            record: Value::Object(record).to_string(),
        })
    }
}

/// CloudTrail's `readOnly`: reads by AWS's naming convention, and STS's credential calls,
/// which CloudTrail also counts as reads.
pub fn is_read_only(event_name: &str) -> bool {
    const READS: &[&str] = &[
        "Get",
        "List",
        "Describe",
        "Lookup",
        "Simulate",
        "Generate",
        "Decode",
        "AssumeRole",
    ];
    READS.iter().any(|prefix| event_name.starts_with(prefix))
}

pub fn epoch_ms(at: OffsetDateTime) -> i64 {
    i64::try_from(at.unix_timestamp_nanos() / 1_000_000).unwrap_or(i64::MAX)
}

fn truncate(text: &str, max: usize) -> &str {
    if text.len() <= max {
        return text;
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}
