//! One API call's CloudTrail record, filled in as the request is understood (who signed it,
//! what it asked, how it ended) and finished into a [`NewEvent`] before the response goes out.

use std::net::{IpAddr, Ipv4Addr};

use protocol::rest_json::RestRequest;
use protocol::{AwsError, Params};
use serde_json::Value;
use store::audit::NewEvent;
use time::OffsetDateTime;

use super::dates::push_event_time;
use super::identity::{self, Identified};
use super::json_text::Object;
use super::{event_id, parameters, resources, response};
use crate::metrics::CallLabels;
use crate::request::Caller;

/// CloudTrail's current record version.
pub const EVENT_VERSION: &str = "1.11";

const S3_EVENT_SOURCE: &str = "s3.amazonaws.com";

/// What an S3 request names, as its record shows it.
#[derive(Debug, Clone, Copy, Default)]
pub struct S3Names<'a> {
    pub bucket: Option<&'a str>,
    pub key: Option<&'a str>,
    /// CopyObject's `x-amz-copy-source` header, as sent (`bucket/key`, URL-encoded).
    pub copy_source: Option<&'a str>,
}

/// User agents longer than this are cut: the header is the client's to choose.
const MAX_USER_AGENT: usize = 1024;
/// What an unauthenticated request claims (key id, region, operation) is cut to this length.
const MAX_CLAIMED: usize = 128;
/// Error messages can quote the request (an unknown operation's name): cut to this length.
const MAX_MESSAGE: usize = 1024;

/// A record under construction. Nothing is recorded for a request that never named an access
/// key and an operation: CloudTrail has no caller or event to attribute it to. The exception
/// is S3's anonymous calls on an existing bucket, recorded for the bucket's owner.
#[derive(Debug)]
pub struct CallRecord {
    at: OffsetDateTime,
    source_ip: IpAddr,
    user_agent: Option<String>,
    /// `eventSource`: `iam.amazonaws.com`.
    event_source: Option<String>,
    region: String,
    access_key_id: Option<String>,
    event_name: Option<String>,
    /// JSON text; `None` is `null`.
    request_parameters: Option<String>,
    resources: resources::Resources,
    identity: Option<Identified>,
    outcome: Outcome,
    /// `eventCategory`: S3's object-level calls are data events.
    data_event: bool,
    /// `false` when recording is off: every step is skipped, so the benchmark knob measures
    /// a server that builds no record at all.
    recording: bool,
    /// Kept even when recording is off: the failure limits need them.
    authenticated: bool,
    /// The identity names a caller who did not prove it (a web identity token that did not
    /// verify): recorded like an unauthenticated caller, without the request's parameters.
    unproven: bool,
    failed: bool,
    /// What the request metrics count the call under; kept even when recording is off.
    labels: CallLabels,
}

#[derive(Debug)]
enum Outcome {
    Pending,
    /// `responseElements` as JSON text; `None` is `null`.
    Succeeded(Option<String>),
    Failed {
        code: String,
        message: String,
    },
}

impl CallRecord {
    /// A record of a call received `at`.
    pub fn new(at: std::time::SystemTime, source_ip: IpAddr, user_agent: Option<&str>) -> Self {
        Self {
            at: OffsetDateTime::from(at),
            source_ip,
            user_agent: user_agent.map(|ua| truncate(ua, MAX_USER_AGENT).to_owned()),
            event_source: None,
            region: String::new(),
            access_key_id: None,
            event_name: None,
            request_parameters: None,
            resources: resources::Resources::default(),
            identity: None,
            outcome: Outcome::Pending,
            data_event: false,
            recording: true,
            authenticated: false,
            unproven: false,
            failed: false,
            labels: CallLabels::UNROUTED,
        }
    }

    /// A record that notes nothing and finishes to nothing (recording is off).
    pub fn off() -> Self {
        let at = std::time::SystemTime::UNIX_EPOCH;
        Self {
            recording: false,
            ..Self::new(at, IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED), None)
        }
    }

    /// The SigV4 credential scope: which service, in which region, under which key.
    pub fn signed(&mut self, service: &str, region: &str, access_key_id: &str) {
        self.access_key_id = Some(truncate(access_key_id, MAX_CLAIMED).to_owned());
        if !self.recording {
            return;
        }
        const DOMAIN: &str = ".amazonaws.com";
        let mut event_source = String::with_capacity(service.len() + DOMAIN.len());
        event_source.push_str(service);
        event_source.push_str(DOMAIN);
        self.event_source = Some(event_source);
        self.region = truncate(region, MAX_CLAIMED).to_owned();
    }

    /// A decoded awsQuery/ec2Query request.
    pub fn query(&mut self, params: &Params) {
        if !self.recording {
            return;
        }
        self.event_name = Some(params.action().to_owned());
        self.request_parameters = parameters::from_query(params);
        self.resources = resources::from_query(params);
    }

    /// A decoded awsJson request for `operation`.
    pub fn json(&mut self, operation: &str, body: &Value) {
        if !self.recording {
            return;
        }
        self.event_name = Some(operation.to_owned());
        self.request_parameters = parameters::from_json(body);
    }

    /// Any decoded request, by what its protocol carries.
    pub fn input(&mut self, operation: &str, input: &impl AuditedInput) {
        if self.recording {
            input.note(operation, self);
        }
    }

    /// An S3 call: its operation, the bucket and key it names, and whether CloudTrail counts
    /// it as a data event (object-level activity) rather than a management event. Only names
    /// are noted: S3's bodies (object contents) and its query (a presigned URL's signature and
    /// token) never reach the record.
    pub fn s3_call(&mut self, operation: &str, names: &S3Names<'_>, data: bool) {
        if !self.recording {
            return;
        }
        // Unsigned and SigV2 requests name no credential scope; their source is S3 all the same.
        if self.event_source.is_none() {
            self.event_source = Some(S3_EVENT_SOURCE.to_owned());
        }
        self.event_name = Some(operation.to_owned());
        self.data_event = data;
        let mut json = String::new();
        let mut parameters = Object::open(&mut json);
        if let Some(bucket) = names.bucket {
            parameters.str("bucketName", bucket);
        }
        if let Some(key) = names.key {
            parameters.str("key", key);
        }
        if let Some(source) = names.copy_source {
            parameters.str("x-amz-copy-source", source);
        }
        parameters.end();
        self.request_parameters = Some(json);
        self.resources = resources::s3(names.bucket, names.key);
    }

    /// Where an S3 call landed: the bucket's owner and region when it exists (`None`, and the
    /// server's region, for ListBuckets or a bucket that does not). A call without a SigV4
    /// scope takes the region; an anonymous one is recorded for the owner, as S3 delivers it
    /// to the bucket owner's trail, and not at all without one.
    pub fn s3_destination(&mut self, owner: Option<&str>, region: &str) {
        if !self.recording {
            return;
        }
        if self.region.is_empty() {
            self.region = region.to_owned();
        }
        if let Some(owner) = owner
            && self.identity.is_none()
            && self.access_key_id.is_none()
        {
            self.identity = Some(identity::anonymous(owner));
        }
    }

    /// An unsigned call a service takes (STS's AssumeRoleWithWebIdentity): where it went.
    pub fn unsigned(&mut self, service: &str, region: &str) {
        if !self.recording {
            return;
        }
        self.event_source = Some(format!("{service}.amazonaws.com"));
        self.region = region.to_owned();
    }

    /// The web identity an AssumeRoleWithWebIdentity token names, in the role's account;
    /// `audience` and `subject` once the token verified, which makes it an authenticated
    /// caller.
    pub fn web_identity(
        &mut self,
        account_id: &str,
        provider_arn: &str,
        audience: Option<&str>,
        subject: Option<&str>,
    ) {
        let verified = audience.zip(subject);
        self.authenticated = verified.is_some();
        self.unproven = verified.is_none();
        if self.recording {
            self.identity = Some(identity::web_identity(account_id, provider_arn, verified));
        }
    }

    pub fn caller(&mut self, caller: &Caller) {
        self.authenticated = true;
        if !self.recording {
            return;
        }
        // S3's SigV2 names its key only to s3s, which verified it for this caller.
        if self.access_key_id.is_none() {
            self.access_key_id = Some(caller.access_key_id.clone());
        }
        self.identity = Some(identity::of_caller(caller));
    }

    /// The call succeeded with this response body (XML for query protocols).
    pub fn succeeded(&mut self, body: &str) {
        if !self.recording {
            return;
        }
        let elements = match &self.event_name {
            Some(name) => match response::elements(name, body) {
                Value::Null => None,
                elements => Some(elements.to_string()),
            },
            None => None,
        };
        self.outcome = Outcome::Succeeded(elements);
    }

    /// The call succeeded with no response elements worth recording (S3's bodies are objects).
    pub fn succeeded_without_elements(&mut self) {
        if self.recording {
            self.outcome = Outcome::Succeeded(None);
        }
    }

    /// The call failed with this code and message, in a protocol without `AwsError` (S3).
    pub fn failed_with(&mut self, code: &str, message: &str) {
        self.failed = true;
        if self.recording {
            self.outcome = Outcome::Failed {
                code: code.to_owned(),
                message: message.to_owned(),
            };
        }
    }

    pub fn failed(&mut self, error: &AwsError) {
        self.failed = true;
        if !self.recording {
            return;
        }
        // CloudTrail prefixes EC2's codes with who was at fault.
        let fault = match self.event_source.as_deref() {
            Some("ec2.amazonaws.com") if error.status >= 500 => "Server.",
            Some("ec2.amazonaws.com") => "Client.",
            _ => "",
        };
        let mut code = String::with_capacity(fault.len() + error.code.len());
        code.push_str(fault);
        code.push_str(&error.code);
        self.outcome = Outcome::Failed {
            code,
            message: error.message.clone(),
        };
    }

    /// The service that took the call, for the request metrics (not the record's
    /// `eventSource`, which a signature names even when no service takes the call).
    pub fn served_by(&mut self, service: &'static str) {
        self.labels = CallLabels::service(service);
    }

    /// The operation of the service's list the call named, for the request metrics.
    pub fn listed_operation(&mut self, operation: &'static str) {
        self.labels.operation = operation;
    }

    pub fn labels(&self) -> CallLabels {
        self.labels
    }

    /// Whether a caller was authenticated (a valid signature); an anonymous S3 call, a failed
    /// authentication and an unknown key had none.
    pub fn has_authenticated_caller(&self) -> bool {
        self.authenticated
    }

    /// Whether the call failed without an authenticated caller: what the failure limits
    /// count (`request::failure_limits`). An anonymous call a policy allowed did not fail.
    pub fn failed_unauthenticated(&self) -> bool {
        self.failed && !self.authenticated
    }

    /// The access key id the request claimed (cut to a bounded length), if any.
    pub fn claimed_key(&self) -> Option<&str> {
        self.access_key_id.as_deref()
    }

    /// The finished record, or `None` when the request named no operation, or neither a key
    /// nor a bucket owner. `home_account` receives records whose caller could not be
    /// authenticated.
    pub fn finish(self, request_id: &str, home_account: &str) -> Option<NewEvent> {
        let event_source = self.event_source?;
        let event_name = self.event_name?;
        let access_key_id = self.access_key_id;
        // A caller who could not be authenticated costs a small record: the request's
        // parameters (its body, up to a megabyte) and resources are left out, and what it chose
        // to send in the event's name is cut short.
        let known = self.identity.is_some() && !self.unproven;
        let who = match (self.identity, &access_key_id) {
            (Some(who), _) => who,
            (None, Some(key)) => identity::unknown(key, home_account),
            (None, None) => return None,
        };
        let event_name = if known {
            event_name
        } else {
            truncate(&event_name, MAX_CLAIMED).to_owned()
        };
        let event_time_ms = epoch_ms(self.at);
        let event_id = event_id::new(event_time_ms);
        let read_only = is_read_only(&event_name);
        let (error_code, error_message, response_elements) = match self.outcome {
            Outcome::Failed { code, message } => (Some(code), Some(message), None),
            Outcome::Succeeded(elements) => (None, None, elements),
            Outcome::Pending => (None, None, None),
        };
        let user_agent = self.user_agent.as_deref().unwrap_or_default();
        let request_parameters = match &self.request_parameters {
            Some(parameters) if known => parameters.as_str(),
            _ => "null",
        };
        let error_message = error_message.map(|m| truncate(&m, MAX_MESSAGE).to_owned());
        let response_elements = response_elements.as_deref().unwrap_or("null");
        let resources = if known {
            self.resources.record_json(&who.account_id, &self.region)
        } else {
            None
        };
        // The fixed keys and short values (time, address, ids) take about 500 bytes; escapes may
        // still grow it.
        let variable = [
            who.user_identity.as_str(),
            &event_source,
            &event_name,
            &self.region,
            user_agent,
            error_message.as_deref().unwrap_or_default(),
            request_parameters,
            response_elements,
            request_id,
            resources.as_deref().unwrap_or_default(),
        ];
        let mut json = String::with_capacity(512 + variable.iter().map(|s| s.len()).sum::<usize>());
        let mut record = Object::open(&mut json);
        record
            .str("eventVersion", EVENT_VERSION)
            .raw("userIdentity", &who.user_identity)
            .plain("eventTime", |out| push_event_time(out, self.at))
            .str("eventSource", &event_source)
            .str("eventName", &event_name)
            .str("awsRegion", &self.region)
            .plain("sourceIPAddress", |out| push_ip(out, self.source_ip))
            .str("userAgent", user_agent);
        if let (Some(code), Some(message)) = (&error_code, &error_message) {
            record.str("errorCode", code).str("errorMessage", message);
        }
        record
            .raw("requestParameters", request_parameters)
            .raw("responseElements", response_elements)
            .str("requestID", request_id)
            .str("eventID", &event_id)
            .bool("readOnly", read_only);
        if let Some(arns) = &resources {
            record.raw("resources", arns);
        }
        record
            .str("eventType", "AwsApiCall")
            .bool("managementEvent", !self.data_event)
            .str("recipientAccountId", &who.account_id)
            .str(
                "eventCategory",
                if self.data_event {
                    "Data"
                } else {
                    "Management"
                },
            );
        record.end();
        Some(NewEvent {
            event_id,
            event_time_ms,
            account_id: who.account_id,
            event_source,
            event_name,
            read_only,
            access_key_id,
            username: who.username,
            principal_arn: who.principal_arn,
            error_code,
            resources: if known {
                self.resources.lookup_json()
            } else {
                "[]".to_owned()
            },
            management: !self.data_event,
            record: json,
        })
    }
}

/// CloudTrail's `readOnly`: reads by AWS's naming convention, and STS's credential calls,
/// which CloudTrail also counts as reads.
pub fn is_read_only(event_name: &str) -> bool {
    const READS: &[&str] = &[
        "Get",
        "Head",
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

/// The address as `IpAddr`'s `Display` spells it; IPv4, every caller on a v4 listener, without
/// the formatting machinery.
fn push_ip(out: &mut String, ip: IpAddr) {
    match ip {
        IpAddr::V4(v4) => push_ipv4(out, v4),
        IpAddr::V6(v6) => {
            use std::fmt::Write as _;
            let _ = write!(out, "{v6}");
        }
    }
}

fn push_ipv4(out: &mut String, ip: Ipv4Addr) {
    for (i, octet) in ip.octets().into_iter().enumerate() {
        if i > 0 {
            out.push('.');
        }
        if octet >= 100 {
            out.push(char::from(b'0' + octet / 100));
        }
        if octet >= 10 {
            out.push(char::from(b'0' + octet / 10 % 10));
        }
        out.push(char::from(b'0' + octet % 10));
    }
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

/// A decoded request whose parameters a CloudTrail record shows.
pub trait AuditedInput {
    fn note(&self, operation: &str, record: &mut CallRecord);
}

impl AuditedInput for Params {
    fn note(&self, _operation: &str, record: &mut CallRecord) {
        record.query(self);
    }
}

impl AuditedInput for Value {
    fn note(&self, operation: &str, record: &mut CallRecord) {
        record.json(operation, self);
    }
}

impl AuditedInput for RestRequest {
    fn note(&self, operation: &str, record: &mut CallRecord) {
        match self.json_body() {
            Some(body) => record.json(operation, &body),
            None => record.json(operation, &Value::Object(Default::default())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::test_callers::{ACCOUNT, SESSION_SECRET, session_caller, user_caller};
    use protocol::Protocol;

    fn keys(record: &Value) -> Vec<&str> {
        record
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect()
    }

    #[test]
    fn a_denied_call_is_recorded_with_its_error_in_cloudtrail_order() {
        let mut call = CallRecord::new(
            std::time::SystemTime::now(),
            "10.0.0.7".parse().unwrap(),
            Some("aws-cli/2 \"x\""),
        );
        call.signed("iam", "us-east-1", "ASIAEXAMPLEEXAMPLE01");
        let body = b"Action=GetRole&Version=2010-05-08&RoleName=app";
        call.query(&Params::decode(Protocol::AwsQuery, body, 1 << 20).unwrap());
        call.caller(&session_caller());
        call.failed(&AwsError::sender(
            "AccessDenied",
            403,
            "User: x is not authorized",
        ));
        let event = call.finish("req-1", "999999999999").unwrap();
        let text = event.record.clone();
        let record: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(
            keys(&record),
            [
                "eventVersion",
                "userIdentity",
                "eventTime",
                "eventSource",
                "eventName",
                "awsRegion",
                "sourceIPAddress",
                "userAgent",
                "errorCode",
                "errorMessage",
                "requestParameters",
                "responseElements",
                "requestID",
                "eventID",
                "readOnly",
                "eventType",
                "managementEvent",
                "recipientAccountId",
                "eventCategory",
            ]
        );
        assert_eq!(record["userAgent"], "aws-cli/2 \"x\"");
        assert_eq!(record["sourceIPAddress"], "10.0.0.7");
        assert_eq!(record["errorCode"], "AccessDenied");
        assert_eq!(record["errorMessage"], "User: x is not authorized");
        assert_eq!(
            record["requestParameters"],
            serde_json::json!({"roleName": "app"})
        );
        assert_eq!(record["responseElements"], Value::Null);
        assert_eq!(record["userIdentity"]["type"], "AssumedRole");
        assert_eq!(record["eventID"], event.event_id.as_str());
        assert_eq!(record["recipientAccountId"], ACCOUNT);
        assert_eq!(record["readOnly"], true);
        let time = record["eventTime"].as_str().unwrap();
        assert_eq!((time.len(), &time[10..11], &time[19..]), (20, "T", "Z"));
        assert_eq!(event.error_code.as_deref(), Some("AccessDenied"));
        assert_eq!(event.event_source, "iam.amazonaws.com");
        assert_eq!(
            event.principal_arn.as_deref(),
            Some("arn:aws:iam::123456789012:role/app")
        );
        assert!(!text.contains(SESSION_SECRET));
    }

    #[test]
    fn an_unauthenticated_call_goes_to_the_home_account_and_ec2_codes_get_a_fault_prefix() {
        let mut call = CallRecord::new(std::time::SystemTime::now(), "::1".parse().unwrap(), None);
        call.signed("ec2", "eu-west-1", "AKIANOSUCHKEY0000001");
        let body = b"Action=TerminateInstances&Version=2016-11-15&InstanceId.1=i-1";
        call.query(&Params::decode(Protocol::Ec2Query, body, 1 << 20).unwrap());
        call.failed(&AwsError::sender("AuthFailure", 401, "bad key"));
        let event = call.finish("req-2", "999999999999").unwrap();
        let record: Value = serde_json::from_str(&event.record).unwrap();
        assert_eq!(
            record["userIdentity"],
            serde_json::json!({"type": "Unknown", "accessKeyId": "AKIANOSUCHKEY0000001"})
        );
        assert_eq!(record["errorCode"], "Client.AuthFailure");
        assert_eq!(record["recipientAccountId"], "999999999999");
        assert_eq!(record["userAgent"], "");
        // Whatever the unauthenticated caller sent stays out: a small record, whatever the body.
        assert_eq!(record["requestParameters"], Value::Null);
        assert!(record.get("resources").is_none());
        assert_eq!(event.resources, "[]");
        assert_eq!(record["readOnly"], false);
    }

    #[test]
    fn what_an_unauthenticated_call_claims_is_cut_short() {
        let mut call = CallRecord::new(std::time::SystemTime::now(), "::1".parse().unwrap(), None);
        let long = "A".repeat(10_000);
        call.signed("iam", &long, &long);
        let body = format!("Action={long}&Version=2010-05-08");
        call.query(&Params::decode(Protocol::AwsQuery, body.as_bytes(), 1 << 20).unwrap());
        call.failed(&AwsError::sender(
            "InvalidAction",
            400,
            format!("Could not find {long}"),
        ));
        let event = call.finish("req-3", "999999999999").unwrap();
        assert!(event.record.len() < 2048, "{} bytes", event.record.len());
        assert!(event.event_name.len() <= MAX_CLAIMED);
    }

    #[test]
    fn addresses_are_spelled_as_display_spells_them() {
        let mut samples: Vec<IpAddr> = ["::1", "::ffff:10.1.2.3", "2001:db8::8a2e:370:7334"]
            .iter()
            .map(|ip| ip.parse().unwrap())
            .collect();
        for octet in 0..=255u8 {
            samples.push(IpAddr::V4(Ipv4Addr::new(octet, 255 - octet, octet / 2, 7)));
        }
        for ip in samples {
            let mut out = String::new();
            push_ip(&mut out, ip);
            assert_eq!(out, ip.to_string());
        }
    }

    #[test]
    fn a_record_made_while_recording_is_off_notes_nothing() {
        let mut call = CallRecord::off();
        call.signed("iam", "us-east-1", "ASIAEXAMPLEEXAMPLE01");
        let body = b"Action=GetRole&Version=2010-05-08&RoleName=app";
        call.query(&Params::decode(Protocol::AwsQuery, body, 1 << 20).unwrap());
        call.caller(&session_caller());
        call.succeeded("<GetRoleResponse/>");
        assert_eq!(call.event_name, None);
        assert_eq!(call.finish("req-4", "1"), None);
    }

    #[test]
    fn an_s3_call_without_a_sigv4_scope_takes_its_key_from_the_caller_and_the_bucket_region() {
        // SigV2: only s3s saw the key; the caller it verified names it.
        let mut call = CallRecord::new(std::time::SystemTime::now(), "::1".parse().unwrap(), None);
        let names = S3Names {
            bucket: Some("data"),
            key: Some("k"),
            copy_source: None,
        };
        call.s3_call("GetObject", &names, true);
        call.caller(&user_caller());
        call.s3_destination(Some("210987654321"), "eu-west-1");
        call.succeeded_without_elements();
        let event = call.finish("req-5", "999999999999").unwrap();
        let record: Value = serde_json::from_str(&event.record).unwrap();
        assert_eq!(event.access_key_id.as_deref(), Some("AKIAEXAMPLEEXAMPLE01"));
        assert_eq!(event.event_source, "s3.amazonaws.com");
        assert!(!event.management);
        assert_eq!(record["awsRegion"], "eu-west-1");
        assert_eq!(record["userIdentity"]["type"], "IAMUser");
        // A signed caller's record stays in its own account, whoever owns the bucket.
        assert_eq!(record["recipientAccountId"], ACCOUNT);
        assert_eq!(
            (
                record["eventCategory"].as_str(),
                record["managementEvent"].as_bool()
            ),
            (Some("Data"), Some(false))
        );
    }

    #[test]
    fn a_copy_records_its_source_as_s3_does() {
        let mut call = CallRecord::new(std::time::SystemTime::now(), "::1".parse().unwrap(), None);
        call.signed("s3", "us-east-1", "AKIAEXAMPLEEXAMPLE01");
        let names = S3Names {
            bucket: Some("dst"),
            key: Some("copy.txt"),
            copy_source: Some("src/dir/a%20b.txt"),
        };
        call.s3_call("CopyObject", &names, true);
        call.caller(&user_caller());
        let event = call.finish("req-7", "1").unwrap();
        let record: Value = serde_json::from_str(&event.record).unwrap();
        assert_eq!(
            record["requestParameters"],
            serde_json::json!({"bucketName": "dst", "key": "copy.txt",
                               "x-amz-copy-source": "src/dir/a%20b.txt"})
        );
    }

    #[test]
    fn an_unsigned_s3_call_without_a_bucket_owner_is_not_recorded() {
        let mut call = CallRecord::new(std::time::SystemTime::now(), "::1".parse().unwrap(), None);
        call.s3_call("ListBuckets", &S3Names::default(), false);
        call.s3_destination(None, "us-east-1");
        assert_eq!(call.finish("req-6", "1"), None);
    }

    #[test]
    fn nothing_is_recorded_without_a_key_and_an_operation() {
        let call = CallRecord::new(std::time::SystemTime::now(), "::1".parse().unwrap(), None);
        assert_eq!(call.finish("req-3", "1"), None);
    }
}
