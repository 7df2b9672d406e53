//! Reading a policy IAM would refuse, for an offline evaluation that should still say what
//! the document grants (`policy eval`, which an operator runs on drafts and on documents
//! found elsewhere).
//!
//! Each statement is read on its own, as a one-statement document with the document's
//! Version: one that IAM would refuse keeps its place (so statement indices stay those of
//! the document) but matches nothing. A Version that is not one IAM knows counts as absent;
//! other bad top-level elements are ignored. Every problem is a [`Finding`], at its path;
//! rules that span statements (Sids unique in the document) are reported for the whole
//! document without dropping anything.

use crate::document::{ActionElement, Effect, Policy, Statement, Version};
use crate::findings::{Finding, FindingType, PathElement, error_finding, warnings};
use crate::json::Json;
use crate::parse::parse_json;
use crate::validate::PolicyKind;

/// The policy as far as it reads, and what is wrong with it (empty when IAM would accept it
/// without remark).
pub fn read(json: &Json, kind: PolicyKind) -> (Policy, Vec<Finding>) {
    let whole = parse_json(json, kind);
    if let Ok(policy) = whole {
        let findings = warnings(&policy);
        return (policy, findings);
    }
    let mut findings = Vec::new();
    let mut policy = Policy {
        version: None,
        id: None,
        statements: Vec::new(),
    };
    let Json::Object(top) = json else {
        findings.push(syntax(
            "The policy document must be a JSON object.",
            Vec::new(),
        ));
        return (policy, findings);
    };
    let mut version_json = None;
    let mut statements = None;
    for (key, value) in top {
        match (key.as_str(), value) {
            ("Version", Json::String(v)) if v == "2012-10-17" || v == "2008-10-17" => {
                policy.version = Some(if v == "2012-10-17" {
                    Version::V2012_10_17
                } else {
                    Version::V2008_10_17
                });
                version_json = Some(value.clone());
            }
            ("Version", _) => findings.push(syntax(
                "The Version element must be 2012-10-17 or 2008-10-17; it is read as absent.",
                vec![PathElement::Key("Version".into())],
            )),
            ("Id", Json::String(id)) => policy.id = Some(id.clone()),
            ("Id", _) => findings.push(syntax(
                "The Id element must be a string; it is ignored.",
                vec![PathElement::Key("Id".into())],
            )),
            ("Statement", value) => statements = Some(value),
            (other, _) => findings.push(syntax(
                &format!("The element {other} is not a policy element; it is ignored."),
                vec![PathElement::Key(other.into())],
            )),
        }
    }
    let items: Vec<&Json> = match statements {
        Some(Json::Object(_)) => statements.into_iter().collect(),
        Some(Json::Array(items)) if !items.is_empty() => items.iter().collect(),
        _ => {
            findings.push(syntax(
                "The policy has no Statement element, or it is empty.",
                Vec::new(),
            ));
            Vec::new()
        }
    };
    for (index, item) in items.iter().enumerate() {
        let mut alone = Vec::with_capacity(2);
        if let Some(version) = &version_json {
            alone.push(("Version".to_owned(), version.clone()));
        }
        alone.push(("Statement".to_owned(), Json::Array(vec![(*item).clone()])));
        match parse_json(&Json::Object(alone), kind) {
            Ok(mut one) if one.statements.len() == 1 => {
                policy.statements.append(&mut one.statements);
            }
            Ok(_) => policy.statements.push(matches_nothing(item)),
            Err(error) => {
                let mut finding = error_finding(&error);
                finding.path = vec![
                    PathElement::Key("Statement".into()),
                    PathElement::Index(index),
                ];
                findings.push(finding);
                policy.statements.push(matches_nothing(item));
            }
        }
    }
    // Every element reads on its own, yet the document does not: a rule across statements.
    if findings.is_empty()
        && let Err(error) = &whole
    {
        findings.push(error_finding(error));
    }
    // A Version that does not read was reported above; no second word on it.
    findings.extend(
        warnings(&policy)
            .into_iter()
            .filter(|w| !(w.issue_code == "MISSING_VERSION" && has_version(top))),
    );
    (policy, findings)
}

fn has_version(top: &[(String, Json)]) -> bool {
    top.iter().any(|(k, _)| k == "Version")
}

fn syntax(details: &str, path: Vec<PathElement>) -> Finding {
    Finding {
        finding_type: FindingType::Error,
        issue_code: "POLICY_SYNTAX_ERROR",
        details: details.to_owned(),
        path,
    }
}

/// A statement with no actions: it applies to no request. It keeps the statement's Sid and
/// Effect where they read, so that the document's statements keep their indices and names.
fn matches_nothing(item: &Json) -> Statement {
    let sid = item.get("Sid").and_then(Json::as_str).map(str::to_owned);
    let effect = match item.get("Effect").and_then(Json::as_str) {
        Some("Deny") => Effect::Deny,
        _ => Effect::Allow,
    };
    Statement {
        sid,
        effect,
        principal: None,
        action: ActionElement {
            negated: false,
            actions: Vec::new(),
        },
        resource: None,
        conditions: Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read_text(text: &str, kind: PolicyKind) -> (Policy, Vec<Finding>) {
        read(&Json::parse(text).expect("JSON"), kind)
    }

    /// An issue code at a path.
    type Located = (&'static str, Vec<PathElement>);

    fn codes(findings: &[Finding]) -> Vec<Located> {
        findings
            .iter()
            .map(|f| (f.issue_code, f.path.clone()))
            .collect()
    }

    fn at(index: usize) -> Vec<PathElement> {
        vec![
            PathElement::Key("Statement".into()),
            PathElement::Index(index),
        ]
    }

    #[test]
    fn a_policy_iam_accepts_reads_whole_with_its_warnings_only() {
        let text = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}"#;
        let (policy, findings) = read_text(text, PolicyKind::Identity);
        assert_eq!(policy, Policy::parse(text, PolicyKind::Identity).unwrap());
        assert!(findings.is_empty(), "{findings:?}");
    }

    #[test]
    fn each_statement_that_does_not_read_matches_nothing_in_its_place() {
        // (document, kind, statements that read, findings)
        let cases: &[(&str, PolicyKind, usize, Vec<Located>)] = &[
            (
                r#"{"Version":"2012-10-17","Statement":[
                    {"Effect":"Allow","Action":"nope","Resource":"*"},
                    {"Effect":"Allow","Action":"s3:GetObject","Resource":"*"},
                    {"Effect":"Deny","Action":"s3:GetObject"}]}"#,
                PolicyKind::Identity,
                1,
                vec![("INVALID_ACTION", at(0)), ("MISSING_RESOURCE", at(2))],
            ),
            (
                r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:*","Resource":"*",
                    "Condition":{"StringEqualz":{"aws:username":"a"}}}}"#,
                PolicyKind::Identity,
                0,
                vec![("POLICY_SYNTAX_ERROR", at(0))],
            ),
            (
                // A trust policy's statement without a principal, beside a good one.
                r#"{"Version":"2012-10-17","Statement":[
                    {"Effect":"Allow","Action":"sts:AssumeRole"},
                    {"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#,
                PolicyKind::Trust,
                1,
                vec![("MISSING_PRINCIPAL", at(0))],
            ),
            (
                // Sids must be unique in the document: both statements stay.
                r#"{"Version":"2012-10-17","Statement":[
                    {"Sid":"A","Effect":"Allow","Action":"s3:GetObject","Resource":"*"},
                    {"Sid":"A","Effect":"Allow","Action":"s3:PutObject","Resource":"*"}]}"#,
                PolicyKind::Identity,
                2,
                vec![("INVALID_SID", vec![])],
            ),
            (
                r#"{"Version":"2019-01-01","Extra":1,"Statement":[
                    {"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}"#,
                PolicyKind::InlineIdentity,
                1,
                vec![
                    (
                        "POLICY_SYNTAX_ERROR",
                        vec![PathElement::Key("Version".into())],
                    ),
                    (
                        "POLICY_SYNTAX_ERROR",
                        vec![PathElement::Key("Extra".into())],
                    ),
                ],
            ),
            (
                r#"{"Version":"2012-10-17"}"#,
                PolicyKind::Identity,
                0,
                vec![("POLICY_SYNTAX_ERROR", vec![])],
            ),
            (
                r#"[1]"#,
                PolicyKind::Identity,
                0,
                vec![("POLICY_SYNTAX_ERROR", vec![])],
            ),
        ];
        for (text, kind, usable, expected) in cases {
            let (policy, findings) = read_text(text, *kind);
            assert_eq!(codes(&findings), *expected, "{text}");
            let reads = policy
                .statements
                .iter()
                .filter(|s| !s.action.actions.is_empty())
                .count();
            assert_eq!(reads, *usable, "{text}");
        }
    }

    #[test]
    fn a_statement_that_does_not_read_keeps_its_index_sid_and_effect() {
        let (policy, _) = read_text(
            r#"{"Version":"2012-10-17","Statement":[
                {"Sid":"Bad","Effect":"Deny","Action":"nope","Resource":"*"},
                {"Sid":"Good","Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}"#,
            PolicyKind::Identity,
        );
        assert_eq!(policy.statements.len(), 2);
        assert_eq!(policy.statements[0].sid.as_deref(), Some("Bad"));
        assert_eq!(policy.statements[0].effect, Effect::Deny);
        assert!(!policy.statements[0].action.matches("nope"));
        assert!(!policy.statements[0].action.matches("s3:getobject"));
        assert_eq!(policy.statements[1].sid.as_deref(), Some("Good"));
    }
}
