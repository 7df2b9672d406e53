//! The IAM policy language: parse, validate and evaluate policy documents the
//! way AWS IAM does, with no I/O, no async and no clock (time arrives in the
//! request context as `aws:CurrentTime` / `aws:EpochTime`).
//!
//! ```
//! use policy::{Policy, PolicyKind, PolicySet, Request, Principal, Context, Outcome, evaluate};
//!
//! let doc = r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:Get*","Resource":"*"}}"#;
//! let policies = PolicySet { identity: vec![Policy::parse(doc, PolicyKind::Identity)?], ..Default::default() };
//! let request = Request {
//!     principal: Principal::from_arn("arn:aws:iam::111122223333:user/alice").expect("user ARN"),
//!     action: "s3:GetObject".into(),
//!     resource: "arn:aws:s3:::bucket/key".into(),
//!     resource_account: "111122223333".into(),
//!     context: Context::new(),
//! };
//! assert_eq!(evaluate(&request, &policies).outcome, Outcome::Allowed);
//! # Ok::<(), policy::PolicyError>(())
//! ```

mod arn;
pub mod condition;
mod context;
mod document;
mod error;
pub mod eval_input;
mod evaluate;
mod findings;
#[doc(hidden)]
pub mod fuzzing;
mod json;
mod lenient;
mod parse;
mod pattern;
mod principal;
mod serialize;
mod validate;
mod variables;

pub use arn::Arn;
pub use context::{Context, ContextValue};
pub use document::{
    ActionElement, ActionPattern, Effect, Policy, PrincipalElement, PrincipalSet, PrincipalType,
    ResourceElement, ResourcePattern, Statement, Version,
};
pub use error::{ErrorCode, PolicyError};
pub use evaluate::{
    Decision, MatchedStatement, Outcome, PolicySet, PolicySource, Request, evaluate,
};
pub use findings::{Finding, FindingType, PathElement, validate};
pub use pattern::{MissingVariable, Pattern, Syntax};
pub use principal::{Principal, PrincipalKind, PrincipalMatch};
pub use validate::PolicyKind;
pub use variables::{NoVariables, Variables};

impl Policy {
    /// Parses and validates `json` as a policy of `kind`; errors carry IAM's
    /// `MalformedPolicyDocument` message.
    pub fn parse(json: &str, kind: PolicyKind) -> Result<Policy, PolicyError> {
        parse::parse(json, kind)
    }

    /// The document as JSON; parsing it again gives an equal `Policy`.
    pub fn to_json(&self) -> serde_json::Value {
        serialize::to_json(self)
    }
}

/// The document's size as IAM counts it for quotas: whitespace outside strings
/// is not counted [UG:reference_iam-quotas].
pub fn size_without_whitespace(json: &str) -> usize {
    let mut size = 0;
    let (mut in_string, mut escaped) = (false, false);
    for c in json.chars() {
        if in_string {
            size += 1;
            match c {
                _ if escaped => escaped = false,
                '\\' => escaped = true,
                '"' => in_string = false,
                _ => {}
            }
        } else if !c.is_whitespace() {
            size += 1;
            in_string = c == '"';
        }
    }
    size
}

#[cfg(test)]
mod tests {
    #[test]
    fn counts_size_without_whitespace() {
        let cases: &[(&str, usize)] = &[
            ("{}", 2),
            ("{ \"a b\" : 1 }\n", 9),
            ("{\"a\\\" b\":\t\"x\"}", 13),
            ("", 0),
        ];
        for (text, size) in cases {
            assert_eq!(super::size_without_whitespace(text), *size, "{text:?}");
        }
    }
}
