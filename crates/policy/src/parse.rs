//! JSON text → [`Policy`], with IAM's `MalformedPolicyDocument` messages.
//!
//! Checks run in the order IAM reports them (as mirrored by moto's validator,
//! [MOTO:moto/iam/policy_validation.py]): JSON, syntax, version, legacy parsing,
//! Sid uniqueness, actions, resources, resource format, action vendors; then the
//! rules of the policy kind (see `validate.rs`).

use crate::condition::{Condition, Family, Operator, date};
use crate::document::{
    ActionElement, ActionPattern, Effect, Policy, PrincipalElement, PrincipalSet, PrincipalType,
    ResourceElement, ResourcePattern, Statement, Version,
};
use crate::error::{ErrorCode, PolicyError};
use crate::json::Json;
use crate::validate::{self, PolicyKind};

/// A statement after the syntax pass, before its values are checked.
struct RawStatement<'a> {
    sid: Option<&'a str>,
    effect: &'a str,
    principal: Option<(bool, &'a Json)>,
    action: Option<(bool, Vec<&'a str>)>,
    resource: Option<(bool, Vec<&'a str>)>,
    condition: RawCondition<'a>,
}

const STATEMENT_ELEMENTS: &[&str] = &[
    "Sid",
    "Effect",
    "Principal",
    "NotPrincipal",
    "Action",
    "NotAction",
    "Resource",
    "NotResource",
    "Condition",
];

/// Parses and validates `text` as a policy of `kind`.
pub fn parse(text: &str, kind: PolicyKind) -> Result<Policy, PolicyError> {
    let json = Json::parse(text).ok_or_else(|| PolicyError::invalid_json(kind))?;
    parse_json(&json, kind)
}

/// Validates an already-read JSON document as a policy of `kind`.
pub fn parse_json(json: &Json, kind: PolicyKind) -> Result<Policy, PolicyError> {
    let (version, id, raw) = syntax(json).ok_or_else(PolicyError::syntax)?;
    if kind.requires_current_version() && version != Some(Version::V2012_10_17) {
        return Err(PolicyError::new(
            ErrorCode::UnsupportedVersion,
            "Policy document must be version 2012-10-17 or greater.",
        ));
    }
    legacy_parsing(&raw)?;
    let resource_error = resource_format_error(&raw)?;
    check_sids(&raw, kind)?;
    for s in &raw {
        if s.action.as_ref().is_none_or(|(_, a)| a.is_empty()) {
            return Err(PolicyError::new(
                ErrorCode::MissingAction,
                "Policy statement must contain actions.",
            ));
        }
    }
    validate::check_elements(
        kind,
        raw.iter()
            .map(|s| (s.principal.map(|p| p.0), s.resource.is_some())),
    )?;
    if kind.requires_resource() {
        for s in &raw {
            if s.resource.as_ref().is_none_or(|(_, r)| r.is_empty()) {
                return Err(PolicyError::new(
                    ErrorCode::MissingResource,
                    "Policy statement must contain resources.",
                ));
            }
        }
    }
    if let Some(message) = resource_error {
        return Err(PolicyError::new(ErrorCode::InvalidResource, message));
    }
    for s in &raw {
        for action in s.action.iter().flat_map(|(_, a)| a) {
            check_vendor(action)?;
        }
    }
    // Condition keys need no vendor: IAM takes `{"StringEqualsIfExists": {"a": "x"}}`
    // (LocalStack's AWS-validated corpus, valid-32..37).
    let variables = version == Some(Version::V2012_10_17);
    let statements = raw
        .iter()
        .map(|s| build(s, variables))
        .collect::<Result<Vec<_>, _>>()?;
    let policy = Policy {
        version,
        id,
        statements,
    };
    validate::check_policy(kind, &policy)?;
    Ok(policy)
}

type Syntax<'a> = (Option<Version>, Option<String>, Vec<RawStatement<'a>>);

/// The shape checks that fail with `Syntax errors in policy.`.
fn syntax(json: &Json) -> Option<Syntax<'_>> {
    let Json::Object(top) = json else { return None };
    let mut version = None;
    let mut id = None;
    let mut statements = None;
    for (key, value) in top {
        match key.as_str() {
            "Version" => {
                version = Some(match value.as_str()? {
                    "2012-10-17" => Version::V2012_10_17,
                    "2008-10-17" => Version::V2008_10_17,
                    _ => return None,
                })
            }
            "Id" => id = Some(value.as_str()?.to_owned()),
            "Statement" => {
                statements = Some(match value {
                    Json::Object(_) => vec![statement_syntax(value)?],
                    Json::Array(items) if !items.is_empty() => items
                        .iter()
                        .map(statement_syntax)
                        .collect::<Option<Vec<_>>>()?,
                    _ => return None,
                })
            }
            _ => return None,
        }
    }
    Some((version, id, statements?))
}

fn statement_syntax(json: &Json) -> Option<RawStatement<'_>> {
    let Json::Object(entries) = json else {
        return None;
    };
    if entries
        .iter()
        .any(|(k, _)| !STATEMENT_ELEMENTS.contains(&k.as_str()))
    {
        return None;
    }
    let either = |a: &str, b: &str| -> Option<Option<(bool, &Json)>> {
        match (json.get(a), json.get(b)) {
            (Some(_), Some(_)) => None,
            (Some(v), None) => Some(Some((false, v))),
            (None, Some(v)) => Some(Some((true, v))),
            (None, None) => Some(None),
        }
    };
    let effect = json.get("Effect")?.as_str()?;
    if !effect.eq_ignore_ascii_case("allow") && !effect.eq_ignore_ascii_case("deny") {
        return None;
    }
    let principal = either("Principal", "NotPrincipal")?;
    if let Some((_, p)) = principal {
        principal_syntax(p)?;
    }
    Some(RawStatement {
        sid: match json.get("Sid") {
            None => None,
            Some(sid) => Some(sid.as_str()?),
        },
        effect,
        principal,
        action: strings(either("Action", "NotAction")?)?,
        resource: match either("Resource", "NotResource")? {
            None => None,
            Some((negated, value)) => Some((negated, resource_list(value)?)),
        },
        condition: match json.get("Condition") {
            None => Vec::new(),
            Some(c) => condition_syntax(c)?,
        },
    })
}

fn strings(pair: Option<(bool, &Json)>) -> Option<Option<(bool, Vec<&str>)>> {
    match pair {
        None => Some(None),
        Some((negated, value)) => Some(Some((negated, string_list(value)?))),
    }
}

fn string_list(json: &Json) -> Option<Vec<&str>> {
    match json {
        Json::String(s) => Some(vec![s]),
        Json::Array(items) => items.iter().map(Json::as_str).collect(),
        _ => None,
    }
}

/// A resource list may hold `null`s, which IAM takes and which name nothing (moto's corpus of
/// documents IAM accepts has `["arn:aws:kms:*:123456789012:key/*", null]`).
fn resource_list(json: &Json) -> Option<Vec<&str>> {
    match json {
        Json::Array(items) => items
            .iter()
            .filter(|item| !matches!(item, Json::Null))
            .map(Json::as_str)
            .collect(),
        _ => string_list(json),
    }
}

fn principal_syntax(json: &Json) -> Option<()> {
    match json {
        Json::String(s) if s == "*" => Some(()),
        Json::Object(entries) if !entries.is_empty() => entries
            .iter()
            .all(|(k, v)| {
                PrincipalType::parse(k).is_some() && string_list(v).is_some_and(|l| !l.is_empty())
            })
            .then_some(()),
        _ => None,
    }
}

type RawCondition<'a> = Vec<(&'a str, Vec<(&'a str, Vec<String>)>)>;

/// `{Operator: {key: value | [values]}}`; booleans and numbers are read as
/// their text, as IAM does (`"aws:MultiFactorAuthPresent": true`).
fn condition_syntax(json: &Json) -> Option<RawCondition<'_>> {
    let Json::Object(operators) = json else {
        return None;
    };
    operators
        .iter()
        .filter_map(|(op, keys)| {
            let Json::Object(keys) = keys else {
                return Some(None);
            };
            // An operator IAM does not know is a syntax error unless its block is empty
            // (`{"x": {}}` is accepted and means nothing: AWS-validated corpus, valid-19/31).
            if Operator::parse(op).is_none() {
                return if keys.is_empty() { None } else { Some(None) };
            }
            let keys = keys
                .iter()
                .map(|(key, values)| Some((key.as_str(), condition_values(values)?)))
                .collect::<Option<Vec<_>>>();
            Some(keys.map(|keys| (op.as_str(), keys)))
        })
        .collect()
}

fn condition_values(json: &Json) -> Option<Vec<String>> {
    let scalar = |v: &Json| match v {
        Json::String(s) => Some(s.clone()),
        Json::Bool(b) => Some(b.to_string()),
        Json::Number(n) => Some(n.clone()),
        _ => None,
    };
    match json {
        Json::Array(items) => items.iter().map(scalar).collect(),
        other => Some(vec![scalar(other)?]),
    }
}

/// Effect case and Date values: `The policy failed legacy parsing`.
fn legacy_parsing(raw: &[RawStatement]) -> Result<(), PolicyError> {
    for s in raw {
        if s.effect != "Allow" && s.effect != "Deny" {
            return Err(PolicyError::legacy());
        }
        for (op, keys) in &s.condition {
            let Some(op) = Operator::parse(op) else {
                continue;
            };
            if op.family == Family::Date {
                let bad = keys
                    .iter()
                    .flat_map(|(_, v)| v)
                    .any(|v| !date::legacy_accepts(v) && date::parse(v).is_none());
                if bad {
                    return Err(PolicyError::legacy());
                }
            }
        }
    }
    Ok(())
}

/// The resource-format problem to report, reported after the existence checks
/// (IAM's order); resources IAM's legacy parser rejects fail at once.
fn resource_format_error(raw: &[RawStatement]) -> Result<Option<String>, PolicyError> {
    // IAM checks each list in descending order and the last problem found wins.
    let mut found = None;
    for s in raw {
        let Some((_, resources)) = &s.resource else {
            continue;
        };
        let mut sorted = resources.clone();
        sorted.sort_unstable_by(|a, b| b.cmp(a));
        for r in sorted {
            if let Some(message) = resource_format(r) {
                found = Some(message);
            }
        }
        if found.is_none() {
            for r in resources.iter().filter(|r| **r != "*") {
                let colons = r.matches(':').count();
                let third_empty = r.split(':').nth(2).is_none_or(str::is_empty);
                if (colons < 5 && r.contains("::")) || third_empty {
                    return Err(PolicyError::legacy());
                }
            }
        }
    }
    Ok(found)
}

const IAM_RESOURCE_PREFIXES: &[&str] = &[
    "user/",
    "federated-user/",
    "role/",
    "group/",
    "instance-profile/",
    "mfa/",
    "server-certificate/",
    "policy/",
    "sms-mfa/",
    "saml-provider/",
    "oidc-provider/",
    "report/",
    "access-report/",
];

/// The partitions a resource ARN may name. `*` is in AWS's own managed policies
/// (`arn:*:ec2:*:*:instance/*` in AWSServiceRoleForAmazonEKSNodegroup, among 50), so IAM
/// takes it; the named partitions are the ones moto's IAM mimic takes. A resource in another
/// partition never matches a request here, so accepting it grants nothing.
const RESOURCE_PARTITIONS: &[&str] = &[
    "*",
    "aws",
    "aws-cn",
    "aws-us-gov",
    "aws-iso",
    "aws-iso-b",
    "aws-iso-e",
    "aws-iso-f",
    "aws-eusc",
];

/// S3's resource types that live in a region (Service Authorization Reference, Amazon S3):
/// their ARNs carry one; every other S3 ARN must not.
const S3_REGIONAL_RESOURCES: &[&str] = &[
    "accesspoint/",
    "access-grants/",
    "job/",
    "storage-lens/",
    "storage-lens-group/",
    "async-request/",
];

/// IAM's message for a malformed resource, if any.
fn resource_format(resource: &str) -> Option<String> {
    if resource == "*" {
        return None;
    }
    let Some((_, rest)) = resource.split_once(':') else {
        return Some(format!(
            "Resource {resource} must be in ARN format or \"*\"."
        ));
    };
    let (partition, after_partition) = match rest.split_once(':') {
        Some((p, a)) => (p, Some(a)),
        None => (rest, None),
    };
    if !RESOURCE_PARTITIONS.contains(&partition) {
        let parts: Vec<&str> = after_partition.unwrap_or("").split(':').collect();
        let part = |i: usize| match parts.get(i) {
            Some(p) if !p.is_empty() || parts.len() > 1 => *p,
            _ => "*",
        };
        let tail = if parts.len() > 3 {
            parts[3..].join(":")
        } else {
            "*".into()
        };
        let (a, b, c) = (part(0), part(1), part(2));
        return Some(format!(
            "Partition \"{partition}\" is not valid for resource \"arn:{partition}:{a}:{b}:{c}:{tail}\"."
        ));
    }
    let Some(after_partition) = after_partition else {
        return Some("Resource vendor must be fully qualified and cannot contain regexes.".into());
    };
    let (service, after_service) = after_partition
        .split_once(':')
        .unwrap_or((after_partition, ""));
    // No wildcards in the service segment [UG:reference_policies_elements_resource];
    // moto shows this message only for a missing vendor, its wording fits here too.
    if service.contains(['*', '?']) {
        return Some("Resource vendor must be fully qualified and cannot contain regexes.".into());
    }
    match service {
        "iam" if !after_service.starts_with(':') => {
            return Some(format!(
                "IAM resource {resource} cannot contain region information."
            ));
        }
        // e.g. `arn:aws:s3:REGION:ACCOUNT:accesspoint/NAME`.
        "s3" if !after_service.starts_with(':')
            && !after_service
                .splitn(3, ':')
                .nth(2)
                .is_some_and(|r| S3_REGIONAL_RESOURCES.iter().any(|kind| r.starts_with(kind))) =>
        {
            return Some(format!(
                "Resource {resource} can not contain region information."
            ));
        }
        _ => {}
    }
    if service == "iam" {
        let path = after_service.splitn(3, ':').nth(2).unwrap_or("");
        if path != "*"
            && path != "root"
            && !IAM_RESOURCE_PREFIXES.iter().any(|p| path.starts_with(p))
        {
            return Some(format!(
                "IAM resource path must either be \"*\", root, or start with {}.",
                IAM_RESOURCE_PREFIXES.join(", ")
            ));
        }
    }
    None
}

fn check_sids(raw: &[RawStatement], kind: PolicyKind) -> Result<(), PolicyError> {
    let mut seen: Vec<&str> = Vec::new();
    for sid in raw.iter().filter_map(|s| s.sid).filter(|s| !s.is_empty()) {
        if seen.contains(&sid) {
            return Err(PolicyError::new(
                ErrorCode::InvalidSid,
                "Statement IDs (SID) in a single policy must be unique.",
            ));
        }
        seen.push(sid);
    }
    // IAM's grammar allows only [A-Za-z0-9] in Sids; resource policies are
    // owned by other services, which are more lenient.
    if kind != PolicyKind::Resource
        && seen
            .iter()
            .any(|s| !s.chars().all(|c| c.is_ascii_alphanumeric()))
    {
        return Err(PolicyError::new(
            ErrorCode::InvalidSid,
            "Statement IDs (SID) must be alpha-numeric. Check that your input satisfies the regular expression [0-9A-Za-z]*",
        ));
    }
    Ok(())
}

fn check_vendor(action: &str) -> Result<(), PolicyError> {
    let parts: Vec<&str> = action.split(':').collect();
    if parts.len() == 1 && parts[0] != "*" {
        return Err(PolicyError::new(
            ErrorCode::InvalidAction,
            "Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc.",
        ));
    }
    if parts.len() > 2 {
        return Err(PolicyError::new(
            ErrorCode::InvalidAction,
            "Actions/Condition can contain only one colon.",
        ));
    }
    let vendor = parts[0];
    if vendor != "*"
        && !vendor
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.')
    {
        return Err(PolicyError::new(
            ErrorCode::InvalidAction,
            format!("Vendor {vendor} is not valid"),
        ));
    }
    Ok(())
}

fn build(raw: &RawStatement, variables: bool) -> Result<Statement, PolicyError> {
    let principal = raw.principal.map(|(negated, json)| PrincipalElement {
        negated,
        set: match json {
            Json::Object(entries) => PrincipalSet::Map(
                entries
                    .iter()
                    .filter_map(|(k, v)| {
                        let values = string_list(v)?.into_iter().map(str::to_owned).collect();
                        Some((PrincipalType::parse(k)?, values))
                    })
                    .collect(),
            ),
            _ => PrincipalSet::Any,
        },
    });
    let (negated, actions) = raw.action.clone().unwrap_or_default();
    let action = ActionElement {
        negated,
        actions: actions.into_iter().map(ActionPattern::new).collect(),
    };
    let resource = raw
        .resource
        .as_ref()
        .map(|(negated, resources)| ResourceElement {
            negated: *negated,
            resources: resources
                .iter()
                .map(|r| ResourcePattern::new(r, variables))
                .collect(),
        });
    let mut conditions = Vec::new();
    for (op, keys) in &raw.condition {
        // Unknown operators were rejected by the syntax pass.
        let operator = Operator::parse(op).ok_or_else(|| {
            PolicyError::new(ErrorCode::InvalidCondition, "Syntax errors in policy.")
        })?;
        for (key, values) in keys {
            conditions.push(Condition::new(
                operator.clone(),
                key,
                values.clone(),
                variables,
            ));
        }
    }
    Ok(Statement {
        sid: raw.sid.map(str::to_owned),
        effect: if raw.effect == "Allow" {
            Effect::Allow
        } else {
            Effect::Deny
        },
        principal,
        action,
        resource,
        conditions,
    })
}
