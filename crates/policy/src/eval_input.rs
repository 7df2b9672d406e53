//! The `roleplane policy eval` input format (the interface contract, `docs/INTERFACE.md`):
//!
//! ```json
//! {"principal"?: ARN, "action": "svc:Name", "resource": ARN|"*", "resourceAccount"?: ID,
//!  "context"?: {KEY: STRING | [STRING...]}, "identityPolicies"?: [POLICY...],
//!  "resourcePolicy"?: POLICY, "permissionsBoundary"?: POLICY, "sessionPolicy"?: POLICY,
//!  "serviceControlPolicies"?: [[POLICY...] per level, root first]}
//! ```

use thiserror::Error;

use crate::arn::Arn;
use crate::context::{Context, ContextValue};
use crate::document::Policy;
use crate::error::PolicyError;
use crate::evaluate::{PolicySet, Request};
use crate::findings::Finding;
use crate::json::Json;
use crate::lenient;
use crate::parse::parse_json;
use crate::principal::{Principal, PrincipalKind};
use crate::validate::PolicyKind;

/// Why an eval input was rejected.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum InputError {
    #[error("This input contains invalid Json")]
    InvalidJson,
    #[error("{field}: {problem}")]
    Field { field: String, problem: String },
    #[error("{field}: MalformedPolicyDocument: {error}")]
    Policy { field: String, error: PolicyError },
}

fn field_error(field: &str, problem: &str) -> InputError {
    InputError::Field {
        field: field.into(),
        problem: problem.into(),
    }
}

const FIELDS: &[&str] = &[
    "principal",
    "action",
    "resource",
    "resourceAccount",
    "context",
    "identityPolicies",
    "resourcePolicy",
    "permissionsBoundary",
    "sessionPolicy",
    "serviceControlPolicies",
];

/// Reads an eval input into the request and the policies that apply to it; a policy IAM
/// would refuse is an error (`policy eval --strict`).
pub fn parse(text: &str) -> Result<(Request, PolicySet), InputError> {
    let (request, policies, _) = read(text, true)?;
    Ok((request, policies))
}

/// A problem of one of the input's policies.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourcedFinding {
    /// The input field holding the policy: `identityPolicies[0]`, `resourcePolicy`, …
    pub source: String,
    pub finding: Finding,
}

impl SourcedFinding {
    /// The finding as `policy validate` prints it, with its `source` first.
    pub fn to_json(&self) -> serde_json::Value {
        let mut value = serde_json::json!({ "source": self.source });
        if let (Some(out), serde_json::Value::Object(fields)) =
            (value.as_object_mut(), self.finding.to_json())
        {
            out.extend(fields);
        }
        value
    }
}

/// Reads an eval input and reports every problem of its policies as findings (with the
/// warnings of those IAM would accept). `strict`: a policy IAM would refuse is an error, as
/// [`parse`] has it. Otherwise only a policy that is not JSON at all is an error; one that IAM
/// would refuse still takes part, each statement that does not read matching nothing (see
/// `lenient`), and its problems are findings (`policy eval` without `--strict`).
pub fn parse_with_findings(
    text: &str,
    strict: bool,
) -> Result<(Request, PolicySet, Vec<SourcedFinding>), InputError> {
    read(text, strict)
}

/// Reads each policy of the input, strictly or leniently, collecting findings.
struct PolicyReader {
    strict: bool,
    findings: Vec<SourcedFinding>,
}

impl PolicyReader {
    fn read(&mut self, field: &str, value: &Json, kind: PolicyKind) -> Result<Policy, InputError> {
        let refused = |error: PolicyError| InputError::Policy {
            field: field.into(),
            error,
        };
        let parsed;
        let json = match value {
            Json::String(text) => {
                parsed =
                    Json::parse(text).ok_or_else(|| refused(PolicyError::invalid_json(kind)))?;
                &parsed
            }
            other => other,
        };
        if self.strict {
            parse_json(json, kind).map_err(refused)?;
        }
        let (policy, findings) = lenient::read(json, kind);
        self.findings
            .extend(findings.into_iter().map(|finding| SourcedFinding {
                source: field.to_owned(),
                finding,
            }));
        Ok(policy)
    }
}

fn read(text: &str, strict: bool) -> Result<(Request, PolicySet, Vec<SourcedFinding>), InputError> {
    let json = Json::parse(text).ok_or(InputError::InvalidJson)?;
    let Json::Object(entries) = &json else {
        return Err(field_error("input", "must be a JSON object"));
    };
    if let Some((key, _)) = entries.iter().find(|(k, _)| !FIELDS.contains(&k.as_str())) {
        return Err(field_error(key, "unknown field"));
    }
    let string = |field: &str| -> Result<&str, InputError> {
        json.get(field)
            .and_then(Json::as_str)
            .ok_or_else(|| field_error(field, "must be a string"))
    };
    let principal = match json.get("principal") {
        // No principal: an anonymous (unsigned) request.
        None | Some(Json::Null) => Principal::new(PrincipalKind::Anonymous),
        Some(_) => read_principal(string("principal")?)?,
    };
    let action = string("action")?.to_owned();
    if !action.contains(':') {
        return Err(field_error("action", "must look like service:Action"));
    }
    let resource = string("resource")?.to_owned();
    let resource_account = match json.get("resourceAccount") {
        Some(_) => string("resourceAccount")?.to_owned(),
        None => default_resource_account(&resource, &principal),
    };
    let context = match json.get("context") {
        None => Context::new(),
        Some(value) => read_context(value)?,
    };

    let mut reader = PolicyReader {
        strict,
        findings: Vec::new(),
    };
    let array = |field: &str| -> Result<&[Json], InputError> {
        match json.get(field) {
            None => Ok(&[]),
            Some(Json::Array(items)) => Ok(items),
            Some(_) => Err(field_error(field, "must be an array")),
        }
    };
    // Identity policies may be inline ones, where Version is optional.
    let mut identity = Vec::new();
    for (i, v) in array("identityPolicies")?.iter().enumerate() {
        identity.push(reader.read(
            &format!("identityPolicies[{i}]"),
            v,
            PolicyKind::InlineIdentity,
        )?);
    }
    let resource_kind = if is_role_arn(&resource) {
        PolicyKind::Trust
    } else {
        PolicyKind::Resource
    };
    let mut service_control = Vec::new();
    for (level, value) in array("serviceControlPolicies")?.iter().enumerate() {
        let Json::Array(items) = value else {
            return Err(field_error(
                &format!("serviceControlPolicies[{level}]"),
                "must be an array",
            ));
        };
        let mut level_policies = Vec::new();
        for (i, v) in items.iter().enumerate() {
            level_policies.push(reader.read(
                &format!("serviceControlPolicies[{level}][{i}]"),
                v,
                PolicyKind::ServiceControl,
            )?);
        }
        service_control.push(level_policies);
    }
    let mut optional = |field: &str, kind: PolicyKind| -> Result<Option<Policy>, InputError> {
        json.get(field)
            .map(|v| reader.read(field, v, kind))
            .transpose()
    };
    let resource_policy = optional("resourcePolicy", resource_kind)?;
    let permissions_boundary = optional("permissionsBoundary", PolicyKind::PermissionsBoundary)?;
    let session = optional("sessionPolicy", PolicyKind::Session)?;
    let policies = PolicySet {
        identity,
        resource: resource_policy,
        permissions_boundary,
        session,
        service_control,
    };
    Ok((
        Request {
            principal,
            action,
            resource,
            resource_account,
            context,
        },
        policies,
        reader.findings,
    ))
}

/// The principal's ARN, or a role's: a role ARN stands for a session of that role, as
/// IAM's SimulatePrincipalPolicy simulates it with `PolicySourceArn` (the session's name is
/// the role's, roleplane's simulator does the same).
fn read_principal(text: &str) -> Result<Principal, InputError> {
    if let Some(principal) = Principal::from_arn(text) {
        return Ok(principal);
    }
    let role = Arn::parse(text).filter(|a| a.service == "iam" && a.region.is_empty());
    if let Some(arn) = role
        && !arn.account.is_empty()
        && let Some((path, name)) = arn.path_and_name("role")
        && !name.is_empty()
    {
        return Ok(Principal::new(PrincipalKind::AssumedRole {
            account: arn.account.to_owned(),
            role_path: path.to_owned(),
            role_name: name.to_owned(),
            session_name: name.to_owned(),
            role_id: None,
        }));
    }
    Err(field_error(
        "principal",
        "must be a root, user, role, assumed-role or federated-user ARN, a service principal, or \"*\"",
    ))
}

/// The resource ARN's account, or the caller's when the ARN has none (S3) or
/// the resource is `*`.
fn default_resource_account(resource: &str, principal: &Principal) -> String {
    match Arn::parse(resource) {
        Some(arn) if !arn.account.is_empty() => arn.account.to_owned(),
        _ => principal.account().unwrap_or_default().to_owned(),
    }
}

/// A trust policy is validated as one only when the resource is a role; a role
/// ARN used as the resource of another action is rare enough to accept that.
fn is_role_arn(resource: &str) -> bool {
    Arn::parse(resource).is_some_and(|a| a.service == "iam" && a.resource.starts_with("role/"))
}

fn read_context(value: &Json) -> Result<Context, InputError> {
    let Json::Object(entries) = value else {
        return Err(field_error("context", "must be an object"));
    };
    let scalar = |v: &Json| match v {
        Json::String(s) => Some(s.clone()),
        Json::Bool(b) => Some(b.to_string()),
        Json::Number(n) => Some(n.clone()),
        _ => None,
    };
    let mut context = Context::new();
    for (key, v) in entries {
        let value = match v {
            Json::Array(items) => items
                .iter()
                .map(scalar)
                .collect::<Option<Vec<_>>>()
                .map(ContextValue::Multi),
            other => scalar(other).map(ContextValue::Single),
        }
        .ok_or_else(|| {
            field_error(
                &format!("context.{key}"),
                "must be a string or an array of strings",
            )
        })?;
        context.insert(key, value);
    }
    Ok(context)
}
