//! Access Analyzer's findings for a document: the policy engine's validator, a few more of AWS's
//! checks that are cheap and certain, and AWS's own issue codes, wording and links
//! (`access-analyzer-reference-policy-checks`, IAM User Guide).

use policy::{ActionPattern, Finding, FindingType, PathElement, PolicyKind};
use serde_json::{Value, json};

use super::span;

const REFERENCE: &str =
    "https://docs.aws.amazon.com/IAM/latest/UserGuide/access-analyzer-reference-policy-checks.html";

/// Every finding for `document` read as a `kind` policy, in document order of discovery.
pub fn findings(document: &str, kind: PolicyKind) -> Vec<Finding> {
    let mut findings: Vec<Finding> = policy::validate(document, kind)
        .into_iter()
        .map(in_aws_terms)
        .collect();
    // The engine parsed the document; only then are its statements worth a closer look.
    let parsed = !findings
        .iter()
        .any(|f| f.finding_type == FindingType::Error);
    if parsed && let Ok(json) = serde_json::from_str::<Value>(document) {
        refine_pass_role(&mut findings, &json);
        findings.extend(statement_checks(&json));
    }
    findings
}

/// The engine's issue codes renamed to the ones AWS's check reference uses, with its wording
/// where that wording is fixed text.
fn in_aws_terms(mut finding: Finding) -> Finding {
    let (code, details): (&'static str, Option<&str>) = match finding.issue_code {
        "JSON_SYNTAX_ERROR" => ("JSON_SYNTAX_ERROR", Some("Fix the JSON syntax error.")),
        "INVALID_SID" => (
            "UNSUPPORTED_SID",
            Some(
                "Update the characters in the Sid element to use one of the following character types: [a-z, A-Z, 0-9]",
            ),
        ),
        "INVALID_OPERATOR" => ("INVALID_CONDITION_OPERATOR", None),
        "MISSING_ACTION" => (
            "MISSING_ACTION",
            Some("Add an Action or NotAction element to the policy statement."),
        ),
        "MISSING_RESOURCE" => (
            "MISSING_RESOURCE",
            Some("Add a Resource or NotResource element to the policy statement."),
        ),
        "MISSING_PRINCIPAL" => (
            "MISSING_PRINCIPAL",
            Some("Add a Principal element to the policy statement."),
        ),
        "MISSING_VERSION" => (
            "MISSING_VERSION",
            Some(
                "We recommend that you specify the Version element to help you with debugging permission issues.",
            ),
        ),
        "PASS_ROLE_WITH_STAR_IN_RESOURCE" => (
            "PASS_ROLE_WITH_STAR_IN_RESOURCE",
            Some(
                "Using the iam:PassRole action with wildcards (*) in the resource can be overly permissive because it allows iam:PassRole permissions on multiple resources. We recommend that you specify resource ARNs or add the iam:PassedToService condition key to your statement.",
            ),
        ),
        other => (other, None),
    };
    finding.issue_code = code;
    if let Some(details) = details {
        finding.details = details.to_owned();
    }
    finding
}

/// AWS names the PassRole warning by how the action reached iam:PassRole: spelled out, or
/// through a wildcard (`*`, `iam:*`, `iam:Pass*`).
fn refine_pass_role(findings: &mut [Finding], json: &Value) {
    for finding in findings
        .iter_mut()
        .filter(|f| f.issue_code == "PASS_ROLE_WITH_STAR_IN_RESOURCE")
    {
        let Some(PathElement::Index(i)) = finding.path.get(1) else {
            continue;
        };
        let names_pass_role = statements(json)
            .nth(*i)
            .map(|s| strings(s.get("Action")))
            .is_some_and(|actions| {
                actions
                    .iter()
                    .any(|a| a.eq_ignore_ascii_case("iam:PassRole"))
            });
        if !names_pass_role {
            finding.issue_code = "PASS_ROLE_WITH_STAR_IN_ACTION_AND_RESOURCE";
            finding.details = "Using wildcards (*) in the action and the resource can be overly permissive because it allows iam:PassRole permissions on all resources. We recommend that you specify resource ARNs or add the iam:PassedToService condition key to your statement.".to_owned();
        }
    }
}

/// The checks on each statement's own text.
fn statement_checks(json: &Value) -> Vec<Finding> {
    let mut out = Vec::new();
    for (i, statement) in statements(json).enumerate() {
        let at = |element: &str| {
            vec![
                PathElement::Key("Statement".into()),
                PathElement::Index(i),
                PathElement::Key(element.into()),
            ]
        };
        let mut add = |finding_type, issue_code, details: &str, path| {
            out.push(Finding {
                finding_type,
                issue_code,
                details: details.to_owned(),
                path,
            });
        };
        if statement.get("Sid").and_then(Value::as_str) == Some("") {
            add(
                FindingType::Suggestion,
                "EMPTY_SID_VALUE",
                "Add a value to the empty string in the Sid element.",
                at("Sid"),
            );
        }
        for (element, code, noun) in [
            ("Action", "EMPTY_ARRAY_ACTION", "actions"),
            ("Resource", "EMPTY_ARRAY_RESOURCE", "resources"),
        ] {
            if statement
                .get(element)
                .and_then(Value::as_array)
                .is_some_and(Vec::is_empty)
            {
                let details = format!(
                    "This statement includes no {noun} and does not affect the policy. Specify {noun}."
                );
                add(FindingType::Suggestion, code, &details, at(element));
            }
        }
        if statement
            .get("Condition")
            .and_then(Value::as_object)
            .is_some_and(|c| c.is_empty())
        {
            add(
                FindingType::Suggestion,
                "EMPTY_OBJECT_CONDITION",
                "This condition block is empty and it does not affect the policy. Specify conditions.",
                at("Condition"),
            );
        }
        if statement.get("Effect").and_then(Value::as_str) == Some("Allow")
            && statement.get("NotPrincipal").is_some()
        {
            add(
                FindingType::SecurityWarning,
                "ALLOW_WITH_NOT_PRINCIPAL",
                "Using Allow with NotPrincipal can be overly permissive. We recommend that you use Principal instead.",
                at("NotPrincipal"),
            );
        }
        for (j, redundant, covering) in redundant_actions(&strings(statement.get("Action"))) {
            let mut path = at("Action");
            path.push(PathElement::Index(j));
            let details = format!(
                "The {redundant} action(s) are redundant because they provide similar permissions. Update the policy to remove the redundant action such as: {covering}."
            );
            add(FindingType::Suggestion, "REDUNDANT_ACTION", &details, path);
        }
    }
    out
}

/// Each action another entry of the same list already covers: (its index, it, the cover).
/// Of two equal entries the later one is the redundant one.
fn redundant_actions(actions: &[&str]) -> Vec<(usize, String, String)> {
    let mut out = Vec::new();
    for (j, action) in actions.iter().enumerate() {
        let lower = action.to_ascii_lowercase();
        let cover = actions.iter().enumerate().find(|(k, other)| {
            let equal = other.eq_ignore_ascii_case(action);
            *k != j && ActionPattern::new(other).matches(&lower) && (!equal || *k < j)
        });
        if let Some((_, cover)) = cover {
            out.push((j, (*action).to_owned(), (*cover).to_owned()));
        }
    }
    out
}

/// The statements, whether `Statement` is a list or a single object.
fn statements(json: &Value) -> Box<dyn Iterator<Item = &Value> + '_> {
    match json.get("Statement") {
        Some(Value::Array(list)) => Box::new(list.iter()),
        Some(single @ Value::Object(_)) => Box::new(std::iter::once(single)),
        _ => Box::new(std::iter::empty()),
    }
}

/// A string-or-list element's strings.
fn strings(element: Option<&Value>) -> Vec<&str> {
    match element {
        Some(Value::String(s)) => vec![s.as_str()],
        Some(Value::Array(items)) => items.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    }
}

/// A finding as ValidatePolicy returns it, placed in `document`'s text.
pub fn to_wire(finding: &Finding, document: &str) -> Value {
    let path: Vec<Value> = finding
        .path
        .iter()
        .map(|p| match p {
            PathElement::Key(k) => json!({ "value": k }),
            PathElement::Index(i) => json!({ "index": i }),
        })
        .collect();
    let span = span::locate(document, &finding.path).unwrap_or_else(|| span::whole(document));
    let position =
        |p: span::Position| json!({ "line": p.line, "column": p.column, "offset": p.offset });
    json!({
        "findingDetails": finding.details,
        "findingType": finding.finding_type.as_str(),
        "issueCode": finding.issue_code,
        "learnMoreLink": learn_more_link(finding),
        "locations": [{
            "path": path,
            "span": { "start": position(span.start), "end": position(span.end) },
        }],
    })
}

/// Issue codes with their own section in AWS's check reference.
const DOCUMENTED: &[&str] = &[
    "JSON_SYNTAX_ERROR",
    "INVALID_VERSION",
    "INVALID_ACTION",
    "INVALID_ARN_RESOURCE",
    "INVALID_CONDITION_OPERATOR",
    "MISSING_ACTION",
    "MISSING_RESOURCE",
    "MISSING_PRINCIPAL",
    "UNSUPPORTED_SID",
    "MISSING_VERSION",
    "PASS_ROLE_WITH_STAR_IN_RESOURCE",
    "PASS_ROLE_WITH_STAR_IN_ACTION_AND_RESOURCE",
    "ALLOW_WITH_NOT_PRINCIPAL",
    "EMPTY_SID_VALUE",
    "EMPTY_ARRAY_ACTION",
    "EMPTY_ARRAY_RESOURCE",
    "EMPTY_OBJECT_CONDITION",
    "REDUNDANT_ACTION",
];

/// The check's section (`#access-analyzer-reference-policy-checks-suggestion-empty-sid-value`),
/// or the reference page itself for checks it does not describe.
fn learn_more_link(finding: &Finding) -> String {
    if !DOCUMENTED.contains(&finding.issue_code) {
        return REFERENCE.to_owned();
    }
    let kind = match finding.finding_type {
        FindingType::Error => "error",
        FindingType::SecurityWarning => "security-warning",
        FindingType::Warning => "general-warning",
        FindingType::Suggestion => "suggestion",
    };
    let check = finding.issue_code.to_ascii_lowercase().replace('_', "-");
    format!("{REFERENCE}#access-analyzer-reference-policy-checks-{kind}-{check}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn codes(document: &str, kind: PolicyKind) -> Vec<&'static str> {
        findings(document, kind)
            .iter()
            .map(|f| f.issue_code)
            .collect()
    }

    #[test]
    fn pass_role_warning_depends_on_how_the_action_is_named() {
        let named = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iam:PassRole","Resource":"*"}]}"#;
        assert_eq!(
            codes(named, PolicyKind::Identity),
            ["PASS_ROLE_WITH_STAR_IN_RESOURCE"]
        );
        let star = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iam:*","Resource":"*"}]}"#;
        assert_eq!(
            codes(star, PolicyKind::Identity),
            ["PASS_ROLE_WITH_STAR_IN_ACTION_AND_RESOURCE"]
        );
    }

    #[test]
    fn statement_checks_find_empty_and_redundant_parts() {
        let doc = r#"{"Version":"2012-10-17","Statement":[{"Sid":"","Effect":"Allow","Action":["s3:*","s3:GetObject","ec2:Describe*","ec2:DescribeInstances","ec2:describe*"],"Resource":"*","Condition":{}}]}"#;
        let found = findings(doc, PolicyKind::Identity);
        let summary: Vec<_> = found
            .iter()
            .map(|f| (f.issue_code, f.path.last().cloned()))
            .collect();
        assert_eq!(
            summary,
            [
                ("EMPTY_SID_VALUE", Some(PathElement::Key("Sid".into()))),
                (
                    "EMPTY_OBJECT_CONDITION",
                    Some(PathElement::Key("Condition".into()))
                ),
                ("REDUNDANT_ACTION", Some(PathElement::Index(1))),
                ("REDUNDANT_ACTION", Some(PathElement::Index(3))),
                ("REDUNDANT_ACTION", Some(PathElement::Index(4))),
            ]
        );
        assert_eq!(
            found[2].details,
            "The s3:GetObject action(s) are redundant because they provide similar permissions. Update the policy to remove the redundant action such as: s3:*."
        );
        let clean = r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":["s3:GetObject","s3:PutObject"],"Resource":"arn:aws:s3:::b/*"}}"#;
        assert!(findings(clean, PolicyKind::Identity).is_empty());
    }

    #[test]
    fn wire_findings_carry_links_and_spans() {
        let doc = "{\"Version\":\"2012-10-17\",\n\"Statement\":[{\"Sid\":\"\",\"Effect\":\"Allow\",\"Action\":\"s3:GetObject\",\"Resource\":\"*\"}]}";
        let found = findings(doc, PolicyKind::Identity);
        let wire = to_wire(&found[0], doc);
        assert_eq!(wire["issueCode"], "EMPTY_SID_VALUE");
        assert_eq!(wire["findingType"], "SUGGESTION");
        assert_eq!(
            wire["learnMoreLink"],
            "https://docs.aws.amazon.com/IAM/latest/UserGuide/access-analyzer-reference-policy-checks.html#access-analyzer-reference-policy-checks-suggestion-empty-sid-value"
        );
        assert_eq!(
            wire["locations"][0]["path"],
            json!([{"value":"Statement"},{"index":0},{"value":"Sid"}])
        );
        assert_eq!(
            wire["locations"][0]["span"],
            json!({"start":{"line":2,"column":20,"offset":45},"end":{"line":2,"column":22,"offset":47}})
        );
        let broken = to_wire(&findings("{", PolicyKind::Identity)[0], "{");
        assert_eq!(broken["issueCode"], "JSON_SYNTAX_ERROR");
        assert_eq!(broken["findingDetails"], "Fix the JSON syntax error.");
        assert_eq!(broken["locations"][0]["path"], json!([]));
        assert_eq!(broken["locations"][0]["span"]["end"]["offset"], 1);
    }
}
