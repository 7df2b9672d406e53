//! The `roleplane policy eval` input format (the interface contract, `docs/INTERFACE.md`):
//!
//! ```json
//! {"principal": ARN, "action": "svc:Name", "resource": ARN|"*", "resourceAccount"?: ID,
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
use crate::json::Json;
use crate::parse::parse_json;
use crate::principal::Principal;
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

/// Reads an eval input into the request and the policies that apply to it.
pub fn parse(text: &str) -> Result<(Request, PolicySet), InputError> {
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
    let principal_text = string("principal")?;
    let principal = Principal::from_arn(principal_text).ok_or_else(|| {
        field_error("principal", "must be a root, user, assumed-role or federated-user ARN, a service principal, or \"*\"")
    })?;
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

    let policy = |field: &str, value: &Json, kind: PolicyKind| -> Result<Policy, InputError> {
        let parsed = match value {
            Json::String(text) => crate::parse::parse(text, kind),
            other => parse_json(other, kind),
        };
        parsed.map_err(|error| InputError::Policy {
            field: field.into(),
            error,
        })
    };
    let optional = |field: &str, kind: PolicyKind| -> Result<Option<Policy>, InputError> {
        json.get(field).map(|v| policy(field, v, kind)).transpose()
    };
    let array = |field: &str| -> Result<&[Json], InputError> {
        match json.get(field) {
            None => Ok(&[]),
            Some(Json::Array(items)) => Ok(items),
            Some(_) => Err(field_error(field, "must be an array")),
        }
    };
    // Identity policies may be inline ones, where Version is optional.
    let identity = array("identityPolicies")?
        .iter()
        .enumerate()
        .map(|(i, v)| {
            policy(
                &format!("identityPolicies[{i}]"),
                v,
                PolicyKind::InlineIdentity,
            )
        })
        .collect::<Result<Vec<_>, _>>()?;
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
        let level_policies = items
            .iter()
            .enumerate()
            .map(|(i, v)| {
                policy(
                    &format!("serviceControlPolicies[{level}][{i}]"),
                    v,
                    PolicyKind::ServiceControl,
                )
            })
            .collect::<Result<Vec<_>, _>>()?;
        service_control.push(level_policies);
    }
    let policies = PolicySet {
        identity,
        resource: optional("resourcePolicy", resource_kind)?,
        permissions_boundary: optional("permissionsBoundary", PolicyKind::PermissionsBoundary)?,
        session: optional("sessionPolicy", PolicyKind::Session)?,
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
