//! Why a policy document was rejected, with the message IAM puts on the wire.

use thiserror::Error;

use crate::validate::PolicyKind;

/// A rejected policy document. `Display` is the exact `MalformedPolicyDocument`
/// message IAM returns, so the server can put it on the wire unchanged.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("{message}")]
pub struct PolicyError {
    /// Which rule failed; stable, for findings and tests.
    pub code: ErrorCode,
    /// The AWS message text.
    pub message: String,
}

/// The rule a document broke, one per distinct AWS message family.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorCode {
    /// Not JSON, or JSON with duplicate keys.
    InvalidJson,
    /// JSON, but not the shape of a policy (unknown element, wrong type, …).
    SyntaxError,
    /// Values IAM's legacy parser rejects (effect case, date values, resource shape).
    LegacyParsing,
    /// Version missing or older than this kind of policy allows.
    UnsupportedVersion,
    /// Two statements share a Sid, or a Sid has characters IAM refuses.
    InvalidSid,
    /// A statement without Action/NotAction.
    MissingAction,
    /// A statement without Resource/NotResource where one is required.
    MissingResource,
    /// A statement without Principal/NotPrincipal where one is required.
    MissingPrincipal,
    /// An element this kind of policy may not carry.
    ProhibitedField,
    /// An action without vendor, with two colons or with a bad vendor.
    InvalidAction,
    /// A resource that is not `*` or a well-formed ARN.
    InvalidResource,
    /// A principal entry IAM cannot resolve.
    InvalidPrincipal,
    /// A condition operator IAM does not know, or a value it cannot read.
    InvalidCondition,
    /// A trust policy allowing something other than the STS role actions.
    TrustPolicyAction,
}

impl PolicyError {
    pub(crate) fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        PolicyError {
            code,
            message: message.into(),
        }
    }
    /// IAM words unreadable JSON differently per API: CreatePolicy says
    /// `Syntax errors in policy.` (aws-samples/amazon-ecs-firelens-examples#50),
    /// CreateRole's trust policy `This policy contains invalid Json`
    /// (AWSCookbook/Security#2), as do resource policies. Duplicate keys are
    /// reported the same way (UNCONFIRMED: IAM's text for them is not recorded).
    pub(crate) fn invalid_json(kind: PolicyKind) -> Self {
        let message = match kind {
            PolicyKind::Trust | PolicyKind::Resource => "This policy contains invalid Json",
            _ => "Syntax errors in policy.",
        };
        Self::new(ErrorCode::InvalidJson, message)
    }
    pub(crate) fn syntax() -> Self {
        Self::new(ErrorCode::SyntaxError, "Syntax errors in policy.")
    }
    pub(crate) fn legacy() -> Self {
        Self::new(ErrorCode::LegacyParsing, "The policy failed legacy parsing")
    }
}
