//! Errors as AWS words them: the typed error every service returns ([`AwsError`]), and the typed
//! decoding failures that turn into one ([`DecodeError`], [`ParamError`], [`Violations`]).

use std::borrow::Cow;
use std::fmt::Write as _;

use crate::Protocol;

/// Who is at fault: rendered as `<Type>` in awsQuery errors; EC2 has no such element.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    Sender,
    Receiver,
}

impl Fault {
    pub fn as_str(self) -> &'static str {
        match self {
            Fault::Sender => "Sender",
            Fault::Receiver => "Receiver",
        }
    }
}

/// An error as the client will see it: code, message, HTTP status and fault.
/// Services construct these; [`crate::Envelope::error`] renders them.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{code} ({status}): {message}")]
pub struct AwsError {
    pub code: Cow<'static, str>,
    pub message: String,
    pub status: u16,
    pub fault: Fault,
}

impl AwsError {
    /// A client error (`<Type>Sender</Type>`).
    pub fn sender(
        code: impl Into<Cow<'static, str>>,
        status: u16,
        message: impl Into<String>,
    ) -> Self {
        AwsError {
            code: code.into(),
            message: message.into(),
            status,
            fault: Fault::Sender,
        }
    }

    /// A server error (`<Type>Receiver</Type>`).
    pub fn receiver(
        code: impl Into<Cow<'static, str>>,
        status: u16,
        message: impl Into<String>,
    ) -> Self {
        AwsError {
            code: code.into(),
            message: message.into(),
            status,
            fault: Fault::Receiver,
        }
    }

    /// `ValidationError`/400, the awsQuery code for input that breaks a model constraint.
    pub fn validation(message: impl Into<String>) -> Self {
        Self::sender("ValidationError", 400, message)
    }

    /// `InvalidParameterValue`/400, the EC2 (and generic) code for a malformed value.
    pub fn invalid_parameter_value(message: impl Into<String>) -> Self {
        Self::sender("InvalidParameterValue", 400, message)
    }

    /// `AccessDenied`/403 with AWS's `User: … is not authorized to perform: …` message.
    pub fn access_denied(message: impl Into<String>) -> Self {
        Self::sender("AccessDenied", 403, message)
    }

    /// An Action this service does not implement. awsQuery wording from aws/aws-cli#37
    /// (`Could not find operation GetSendStatistics for version 2012-12-01`); EC2 wording from
    /// boto/boto#1282 (`The action DescribeLoadBalancers is not valid for this web service.`).
    pub fn invalid_action(protocol: Protocol, action: &str, version: &str) -> Self {
        let message = match protocol {
            Protocol::AwsQuery => {
                format!("Could not find operation {action} for version {version}")
            }
            Protocol::Ec2Query => format!("The action {action} is not valid for this web service."),
        };
        Self::sender("InvalidAction", 400, message)
    }

    /// An unexpected server-side failure: IAM's modeled `ServiceFailure`/500, EC2's
    /// `InternalError`/500. The message never carries internal detail.
    pub fn internal(protocol: Protocol) -> Self {
        match protocol {
            Protocol::AwsQuery => Self::receiver(
                "ServiceFailure",
                500,
                "The request processing has failed because of an unknown error, exception or failure.",
            ),
            Protocol::Ec2Query => {
                Self::receiver("InternalError", 500, "An internal error has occurred")
            }
        }
    }
}

/// The body or query string could not be read as a parameter set at all.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    #[error("request body exceeds {limit} bytes")]
    BodyTooLarge { limit: usize },
    #[error("malformed percent-encoding")]
    BadPercentEncoding,
    #[error("parameter is not valid UTF-8")]
    InvalidUtf8,
    #[error("parameter with an empty name")]
    EmptyName,
    #[error("parameter {0} appears more than once")]
    DuplicateParameter(String),
    #[error("the request has no Action")]
    MissingAction,
}

impl From<DecodeError> for AwsError {
    /// Codes and statuses from AWS's "Common Errors" page (e.g. the IAM/RDS API references):
    /// `MalformedQueryString` is documented as 404, odd as that is.
    fn from(err: DecodeError) -> Self {
        match err {
            DecodeError::BodyTooLarge { limit } => AwsError::sender(
                "RequestEntityTooLarge",
                413,
                format!("Request body must be no larger than {limit} bytes."),
            ),
            DecodeError::BadPercentEncoding | DecodeError::InvalidUtf8 | DecodeError::EmptyName => {
                AwsError::sender(
                    "MalformedQueryString",
                    404,
                    format!("The query string contains a syntax error: {err}."),
                )
            }
            DecodeError::DuplicateParameter(name) => AwsError::sender(
                "InvalidQueryParameter",
                400,
                format!("The parameter {name} appears more than once in the request."),
            ),
            DecodeError::MissingAction => AwsError::sender(
                "MissingAction",
                400,
                "The request is missing an action or a required parameter.",
            ),
        }
    }
}

/// Which model constraint a parameter value broke.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Constraint {
    /// Not an integer (or out of the integer type's range).
    Integer,
    /// Not a floating-point number.
    Number,
    /// Neither `true` nor `false`.
    Boolean,
    /// Not an ISO 8601 date-time.
    Timestamp,
    /// Below the model's minimum.
    Min(i64),
    /// Above the model's maximum.
    Max(i64),
    /// A list or map index that is not a positive decimal without leading zeros.
    Index,
}

impl Constraint {
    /// The awsQuery (Coral) wording. Min/Max are AWS's own; the type mismatches are ours
    /// (UNCONFIRMED: SDKs never send them).
    fn query_text(&self) -> String {
        match self {
            Constraint::Integer => "Member must be an integer".into(),
            Constraint::Number => "Member must be a number".into(),
            Constraint::Boolean => "Member must be a boolean".into(),
            Constraint::Timestamp => "Member must be an ISO 8601 timestamp".into(),
            Constraint::Min(n) => format!("Member must have value greater than or equal to {n}"),
            Constraint::Max(n) => format!("Member must have value less than or equal to {n}"),
            Constraint::Index => "Member must have a positive list index".into(),
        }
    }

    /// The EC2 wording, appended to `Value (v) for parameter p is invalid.`
    fn ec2_text(&self) -> String {
        match self {
            Constraint::Integer => "Expecting an integer.".into(),
            Constraint::Number => "Expecting a number.".into(),
            Constraint::Boolean => "Expecting true or false.".into(),
            Constraint::Timestamp => "Expecting an ISO 8601 timestamp.".into(),
            Constraint::Min(n) => format!("Expecting a value greater than or equal to {n}."),
            Constraint::Max(n) => format!("Expecting a value less than or equal to {n}."),
            Constraint::Index => "Expecting a positive list index.".into(),
        }
    }
}

/// A parameter that is missing or malformed. Carries the wire name and the protocol, so it
/// converts into the [`AwsError`] that protocol's services answer with.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParamError {
    #[error("missing required parameter {name}")]
    Missing { protocol: Protocol, name: String },
    #[error("invalid value {value:?} for parameter {name}: {constraint:?}")]
    Invalid {
        protocol: Protocol,
        name: String,
        value: String,
        constraint: Constraint,
    },
}

impl From<ParamError> for AwsError {
    fn from(err: ParamError) -> Self {
        match err {
            ParamError::Missing {
                protocol: Protocol::AwsQuery,
                name,
            } => {
                let mut v = Violations::new();
                v.null(&query_member_path(&name));
                v.into_error()
            }
            ParamError::Missing {
                protocol: Protocol::Ec2Query,
                name,
            } => AwsError::sender(
                "MissingParameter",
                400,
                format!("The request must contain the parameter {name}"),
            ),
            ParamError::Invalid {
                protocol: Protocol::AwsQuery,
                name,
                value,
                constraint,
            } => {
                let mut v = Violations::new();
                v.value(&query_member_path(&name), &value, &constraint.query_text());
                v.into_error()
            }
            ParamError::Invalid {
                protocol: Protocol::Ec2Query,
                name,
                value,
                constraint,
            } => AwsError::invalid_parameter_value(format!(
                "Value ({value}) for parameter {} is invalid. {}",
                ec2_member_path(&name),
                constraint.ec2_text()
            )),
        }
    }
}

/// Collects model-constraint violations and renders them the way AWS's awsQuery services do:
/// `1 validation error detected: Value null at 'roleName' failed to satisfy constraint: Member
/// must not be null`, several joined by `; ` under `N validation errors detected: `.
#[derive(Debug, Default, Clone)]
pub struct Violations {
    items: Vec<String>,
}

impl Violations {
    pub fn new() -> Self {
        Self::default()
    }

    /// A required member is absent.
    pub fn null(&mut self, path: &str) {
        self.items.push(format!(
            "Value null at '{path}' failed to satisfy constraint: Member must not be null"
        ));
    }

    /// A member's value breaks `constraint` (e.g. `Member must have length less than or equal to 64`).
    pub fn value(&mut self, path: &str, value: &str, constraint: &str) {
        self.items.push(format!(
            "Value '{value}' at '{path}' failed to satisfy constraint: {constraint}"
        ));
    }

    /// A member breaks `constraint` and AWS does not echo it (lists, e.g. more than 50 tags).
    pub fn unshown(&mut self, path: &str, constraint: &str) {
        self.items.push(format!(
            "Value at '{path}' failed to satisfy constraint: {constraint}"
        ));
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// `Ok(())` when nothing was recorded, else one `ValidationError` naming every violation.
    pub fn into_result(self) -> Result<(), AwsError> {
        if self.items.is_empty() {
            Ok(())
        } else {
            Err(self.into_error())
        }
    }

    fn into_error(self) -> AwsError {
        let n = self.items.len();
        let mut message = format!(
            "{n} validation error{} detected: ",
            if n == 1 { "" } else { "s" }
        );
        message.push_str(&self.items.join("; "));
        AwsError::validation(message)
    }
}

/// The member path awsQuery errors use for a wire name: `RoleName` → `roleName`,
/// `Tags.member.1.Key` → `tags.1.member.key`.
pub fn query_member_path(wire: &str) -> String {
    let segments: Vec<&str> = wire.split('.').collect();
    let mut out = String::with_capacity(wire.len());
    let mut i = 0;
    while i < segments.len() {
        if !out.is_empty() {
            out.push('.');
        }
        let seg = segments[i];
        let next_is_index = segments.get(i + 1).is_some_and(|s| is_digits(s));
        if (seg == "member" || seg == "entry") && next_is_index {
            let _ = write!(out, "{}.{seg}", segments[i + 1]);
            i += 2;
        } else {
            push_lower_first(&mut out, seg);
            i += 1;
        }
    }
    out
}

/// The parameter path EC2 errors use: `IamInstanceProfile.Name` → `iamInstanceProfile.name`.
pub fn ec2_member_path(wire: &str) -> String {
    let mut out = String::with_capacity(wire.len());
    for (i, seg) in wire.split('.').enumerate() {
        if i > 0 {
            out.push('.');
        }
        push_lower_first(&mut out, seg);
    }
    out
}

fn push_lower_first(out: &mut String, seg: &str) {
    let mut chars = seg.chars();
    if let Some(first) = chars.next() {
        out.extend(first.to_lowercase());
        out.push_str(chars.as_str());
    }
}

fn is_digits(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn member_paths_follow_aws_spelling() {
        assert_eq!(query_member_path("RoleName"), "roleName");
        assert_eq!(query_member_path("Tags.member.1.Key"), "tags.1.member.key");
        assert_eq!(query_member_path("TagKeys.member.3"), "tagKeys.3.member");
        assert_eq!(query_member_path("X.entry.2.value"), "x.2.entry.value");
        assert_eq!(
            ec2_member_path("IamInstanceProfile.Name"),
            "iamInstanceProfile.name"
        );
        assert_eq!(ec2_member_path("Filter.1.Value.2"), "filter.1.value.2");
    }

    #[test]
    fn missing_member_renders_per_protocol() {
        let query: AwsError = ParamError::Missing {
            protocol: Protocol::AwsQuery,
            name: "RoleName".into(),
        }
        .into();
        assert_eq!(query.code, "ValidationError");
        assert_eq!(query.status, 400);
        assert_eq!(
            query.message,
            "1 validation error detected: Value null at 'roleName' failed to satisfy constraint: Member must not be null"
        );
        let ec2: AwsError = ParamError::Missing {
            protocol: Protocol::Ec2Query,
            name: "InstanceId".into(),
        }
        .into();
        assert_eq!(ec2.code, "MissingParameter");
        assert_eq!(
            ec2.message,
            "The request must contain the parameter InstanceId"
        );
    }

    #[test]
    fn invalid_values_render_per_protocol() {
        let query: AwsError = ParamError::Invalid {
            protocol: Protocol::AwsQuery,
            name: "MaxItems".into(),
            value: "0".into(),
            constraint: Constraint::Min(1),
        }
        .into();
        assert_eq!(
            query.message,
            "1 validation error detected: Value '0' at 'maxItems' failed to satisfy constraint: Member must have value greater than or equal to 1"
        );
        let ec2: AwsError = ParamError::Invalid {
            protocol: Protocol::Ec2Query,
            name: "MaxResults".into(),
            value: "2000".into(),
            constraint: Constraint::Max(1000),
        }
        .into();
        assert_eq!(ec2.code, "InvalidParameterValue");
        assert_eq!(
            ec2.message,
            "Value (2000) for parameter maxResults is invalid. Expecting a value less than or equal to 1000."
        );
    }

    #[test]
    fn violations_join_like_coral() {
        assert_eq!(Violations::new().into_result(), Ok(()));
        let mut v = Violations::new();
        v.unshown("tags", "Member must have length less than or equal to 50");
        v.value(
            "roleSessionName",
            "a b",
            "Member must satisfy regular expression pattern: [\\w+=,.@-]*",
        );
        let err = v.into_result().expect_err("two violations");
        assert_eq!(
            err.message,
            "2 validation errors detected: Value at 'tags' failed to satisfy constraint: Member must have length less than or equal to 50; Value 'a b' at 'roleSessionName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]*"
        );
    }

    #[test]
    fn invalid_action_wording() {
        let q = AwsError::invalid_action(Protocol::AwsQuery, "Frob", "2010-05-08");
        assert_eq!(
            q.message,
            "Could not find operation Frob for version 2010-05-08"
        );
        let e = AwsError::invalid_action(Protocol::Ec2Query, "Frob", "2016-11-15");
        assert_eq!(
            e.message,
            "The action Frob is not valid for this web service."
        );
        assert_eq!((q.code.as_ref(), q.status), ("InvalidAction", 400));
    }

    #[test]
    fn decode_errors_are_4xx() {
        for err in [
            DecodeError::BodyTooLarge { limit: 10 },
            DecodeError::BadPercentEncoding,
            DecodeError::InvalidUtf8,
            DecodeError::EmptyName,
            DecodeError::DuplicateParameter("a".into()),
            DecodeError::MissingAction,
        ] {
            let aws = AwsError::from(err);
            assert!((400..500).contains(&aws.status), "{aws}");
            assert_eq!(aws.fault, Fault::Sender);
        }
    }
}
