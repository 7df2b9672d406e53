//! AWS-style findings for `policy validate`, shaped like Access Analyzer's
//! ValidatePolicy findings [LIVE:API_ValidatePolicyFinding].

use serde_json::{Value, json};

use crate::condition::{Family, Operand};
use crate::document::Policy;
use crate::error::{ErrorCode, PolicyError};
use crate::validate::PolicyKind;

/// Severity, as Access Analyzer names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FindingType {
    Error,
    SecurityWarning,
    Warning,
    Suggestion,
}

impl FindingType {
    pub fn as_str(self) -> &'static str {
        match self {
            FindingType::Error => "ERROR",
            FindingType::SecurityWarning => "SECURITY_WARNING",
            FindingType::Warning => "WARNING",
            FindingType::Suggestion => "SUGGESTION",
        }
    }
}

/// A path step into the document: a key or an array index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PathElement {
    Key(String),
    Index(usize),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    pub finding_type: FindingType,
    pub issue_code: &'static str,
    pub details: String,
    /// Where in the document; empty for whole-document problems.
    pub path: Vec<PathElement>,
}

impl Finding {
    pub fn to_json(&self) -> Value {
        let path: Vec<Value> = self
            .path
            .iter()
            .map(|p| match p {
                PathElement::Key(k) => json!({ "value": k }),
                PathElement::Index(i) => json!({ "index": i }),
            })
            .collect();
        let locations = if path.is_empty() {
            json!([])
        } else {
            json!([{ "path": path }])
        };
        json!({
            "findingType": self.finding_type.as_str(),
            "issueCode": self.issue_code,
            "findingDetails": self.details,
            "locations": locations,
        })
    }
}

/// Parses `json` as a `kind` policy and reports what is wrong or risky. An
/// empty list means IAM would accept it with nothing to remark on.
pub fn validate(json: &str, kind: PolicyKind) -> Vec<Finding> {
    match Policy::parse(json, kind) {
        Err(error) => vec![error_finding(&error)],
        Ok(policy) => warnings(&policy),
    }
}

pub(crate) fn error_finding(error: &PolicyError) -> Finding {
    let issue_code = match error.code {
        ErrorCode::InvalidJson => "JSON_SYNTAX_ERROR",
        ErrorCode::SyntaxError => "POLICY_SYNTAX_ERROR",
        ErrorCode::LegacyParsing => "LEGACY_PARSING_ERROR",
        ErrorCode::UnsupportedVersion => "INVALID_VERSION",
        ErrorCode::InvalidSid => "INVALID_SID",
        ErrorCode::MissingAction => "MISSING_ACTION",
        ErrorCode::MissingResource => "MISSING_RESOURCE",
        ErrorCode::MissingPrincipal => "MISSING_PRINCIPAL",
        ErrorCode::ProhibitedField => "UNSUPPORTED_ELEMENT",
        ErrorCode::InvalidAction => "INVALID_ACTION",
        ErrorCode::InvalidResource => "INVALID_ARN_RESOURCE",
        ErrorCode::InvalidPrincipal => "INVALID_PRINCIPAL",
        ErrorCode::InvalidCondition => "INVALID_OPERATOR",
        ErrorCode::TrustPolicyAction => "INVALID_ACTION",
    };
    Finding {
        finding_type: FindingType::Error,
        issue_code,
        details: error.message.clone(),
        path: Vec::new(),
    }
}

pub(crate) fn warnings(policy: &Policy) -> Vec<Finding> {
    let mut findings = Vec::new();
    if policy.version.is_none() {
        findings.push(Finding {
            finding_type: FindingType::Warning,
            issue_code: "MISSING_VERSION",
            details: "We recommend that you specify the Version element: without it, policy variables are literal text."
                .into(),
            path: Vec::new(),
        });
    }
    for (i, statement) in policy.statements.iter().enumerate() {
        let at = |element: &str| {
            vec![
                PathElement::Key("Statement".into()),
                PathElement::Index(i),
                PathElement::Key(element.into()),
            ]
        };
        for condition in &statement.conditions {
            for (value, operand) in condition.values.iter().zip(&condition.operands) {
                if *operand == Operand::Invalid {
                    findings.push(Finding {
                        finding_type: FindingType::Error,
                        issue_code: "INVALID_CONDITION_VALUE",
                        details: format!(
                            "The value {value} is not valid for operator {}.",
                            condition.operator.name
                        ),
                        path: at("Condition"),
                    });
                }
            }
            if condition.operator.family == Family::Null && condition.operator.set.is_some() {
                findings.push(Finding {
                    finding_type: FindingType::Warning,
                    issue_code: "NULL_WITH_SET_OPERATOR",
                    details: "Null ignores ForAnyValue/ForAllValues.".into(),
                    path: at("Condition"),
                });
            }
        }
        let passes_role = statement
            .action
            .actions
            .iter()
            .any(|a| a.matches("iam:passrole"));
        let any_resource = statement
            .resource
            .as_ref()
            .is_some_and(|r| !r.negated && r.resources.iter().any(|p| p.source == "*"));
        if statement.effect == crate::Effect::Allow
            && !statement.action.negated
            && passes_role
            && any_resource
        {
            findings.push(Finding {
                finding_type: FindingType::SecurityWarning,
                issue_code: "PASS_ROLE_WITH_STAR_IN_RESOURCE",
                details: "Using iam:PassRole with a wildcard (*) in the resource can be overly permissive.".into(),
                path: at("Resource"),
            });
        }
    }
    findings
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reports_errors_and_warnings() {
        let bad = validate("{", PolicyKind::Identity);
        assert_eq!(bad.len(), 1);
        assert_eq!(bad[0].finding_type, FindingType::Error);
        assert_eq!(
            bad[0].to_json()["findingDetails"],
            "Syntax errors in policy."
        );

        let pass_role = r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"iam:PassRole","Resource":"*"}}"#;
        let findings = validate(pass_role, PolicyKind::Identity);
        assert_eq!(findings.len(), 1);
        assert_eq!(findings[0].issue_code, "PASS_ROLE_WITH_STAR_IN_RESOURCE");
        assert_eq!(findings[0].to_json()["locations"][0]["path"][1]["index"], 0);

        let clean = r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:Get*","Resource":"*"}}"#;
        assert!(validate(clean, PolicyKind::Identity).is_empty());

        let no_version = r#"{"Statement":{"Effect":"Allow","Action":"s3:Get*","Resource":"*"}}"#;
        assert_eq!(
            validate(no_version, PolicyKind::InlineIdentity)[0].issue_code,
            "MISSING_VERSION"
        );

        let bad_ip = r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:*","Resource":"*","Condition":{"IpAddress":{"aws:SourceIp":"nope"}}}}"#;
        assert_eq!(
            validate(bad_ip, PolicyKind::Identity)[0].issue_code,
            "INVALID_CONDITION_VALUE"
        );
    }
}
