//! ValidatePolicy: `POST /policy/validation` with `{policyDocument, policyType, locale,
//! validatePolicyResourceType}` in the body and `maxResults`/`nextToken` in the query string;
//! answers `{findings: […], nextToken?}`.

use policy::PolicyKind;
use serde_json::{Map, Value, json};
use store::Store;

use super::{FieldError, Reply, RestJsonError, RestRequest, checks};
use crate::request::Call;
use crate::request::authz::authorize;

const POLICY_TYPES: &[&str] = &[
    "IDENTITY_POLICY",
    "RESOURCE_POLICY",
    "SERVICE_CONTROL_POLICY",
    "RESOURCE_CONTROL_POLICY",
];
const LOCALES: &[&str] = &[
    "DE", "EN", "ES", "FR", "IT", "JA", "KO", "PT_BR", "ZH_CN", "ZH_TW",
];
const RESOURCE_TYPES: &[&str] = &[
    "AWS::S3::Bucket",
    "AWS::S3::AccessPoint",
    "AWS::S3::MultiRegionAccessPoint",
    "AWS::S3ObjectLambda::AccessPoint",
    "AWS::IAM::AssumeRolePolicyDocument",
    "AWS::DynamoDB::Table",
];

/// The operation's input, checked against the model.
#[derive(Debug)]
pub(crate) struct Input {
    pub(crate) document: String,
    pub(crate) kind: PolicyKind,
    max_results: Option<usize>,
    start: usize,
}

pub async fn handle<S: Store>(call: &Call<'_, S, RestRequest>, request: &RestRequest) -> Reply {
    let input = read(request)?;
    authorize(call, "access-analyzer:ValidatePolicy", "*").await?;
    let findings = checks::findings(&input.document, input.kind);
    let end = input
        .max_results
        .map_or(findings.len(), |n| input.start.saturating_add(n))
        .min(findings.len());
    let page: Vec<Value> = findings
        .get(input.start..end)
        .unwrap_or_default()
        .iter()
        .map(|f| checks::to_wire(f, &input.document))
        .collect();
    let mut output = json!({ "findings": page });
    if end < findings.len() {
        output["nextToken"] = Value::String(end.to_string());
    }
    Ok(output)
}

pub(crate) fn read(request: &RestRequest) -> Result<Input, RestJsonError> {
    let body: Map<String, Value> = if request.body.is_empty() {
        Map::new()
    } else {
        serde_json::from_slice(&request.body)
            .map_err(|_| RestJsonError::cannot_parse("Request body is not a valid JSON object"))?
    };
    let mut errors = Vec::new();
    let mut string = |name: &str, allowed: Option<&[&str]>, required: bool| -> Option<String> {
        match body.get(name) {
            None | Some(Value::Null) => {
                if required {
                    errors.push(field(name, format!("Value null at '{name}' failed to satisfy constraint: Member must not be null")));
                }
                None
            }
            Some(Value::String(s)) => match allowed {
                Some(set) if !set.contains(&s.as_str()) => {
                    errors.push(field(name, format!(
                        "Value '{s}' at '{name}' failed to satisfy constraint: Member must satisfy enum value set: [{}]",
                        set.join(", ")
                    )));
                    None
                }
                _ => Some(s.clone()),
            },
            Some(_) => {
                errors.push(field(
                    name,
                    format!(
                        "Value at '{name}' failed to satisfy constraint: Member must be a string"
                    ),
                ));
                None
            }
        }
    };
    let document = string("policyDocument", None, true);
    let policy_type = string("policyType", Some(POLICY_TYPES), true);
    string("locale", Some(LOCALES), false);
    let resource_type = string("validatePolicyResourceType", Some(RESOURCE_TYPES), false);

    let max_results = match request.query("maxResults") {
        None => None,
        Some(text) => match text.parse::<usize>() {
            Ok(n) if n >= 1 => Some(n),
            _ => {
                errors.push(field(
                    "maxResults",
                    format!("Value '{text}' at 'maxResults' failed to satisfy constraint: Member must be a positive integer"),
                ));
                None
            }
        },
    };
    let start = match request.query("nextToken") {
        None => 0,
        Some(token) => match token.parse::<usize>() {
            Ok(n) => n,
            Err(_) => {
                errors.push(field("nextToken", "Invalid nextToken".to_owned()));
                0
            }
        },
    };
    if !errors.is_empty() {
        return Err(RestJsonError::fields(errors));
    }
    let (Some(document), Some(policy_type)) = (document, policy_type) else {
        return Err(RestJsonError::cannot_parse("Missing required members"));
    };
    Ok(Input {
        document,
        kind: kind(&policy_type, resource_type.as_deref()),
        max_results,
        start,
    })
}

/// The engine's policy kind for AWS's policy type (a role trust policy is a resource policy
/// whose resource type says so).
fn kind(policy_type: &str, resource_type: Option<&str>) -> PolicyKind {
    match (policy_type, resource_type) {
        ("RESOURCE_POLICY", Some("AWS::IAM::AssumeRolePolicyDocument")) => PolicyKind::Trust,
        ("RESOURCE_POLICY" | "RESOURCE_CONTROL_POLICY", _) => PolicyKind::Resource,
        ("SERVICE_CONTROL_POLICY", _) => PolicyKind::ServiceControl,
        _ => PolicyKind::Identity,
    }
}

fn field(name: &str, message: String) -> FieldError {
    FieldError {
        name: name.to_owned(),
        message,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(body: &[u8], query: &[(&str, &str)]) -> RestRequest {
        RestRequest {
            method: "POST".into(),
            path: "/policy/validation".into(),
            query: query
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
            body: body.to_vec(),
        }
    }

    #[test]
    fn reads_the_model_input() {
        let body = br#"{"policyDocument":"{}","policyType":"RESOURCE_POLICY","validatePolicyResourceType":"AWS::IAM::AssumeRolePolicyDocument","locale":"EN"}"#;
        let input =
            read(&request(body, &[("maxResults", "2"), ("nextToken", "4")])).expect("valid input");
        assert_eq!(input.kind, PolicyKind::Trust);
        assert_eq!((input.max_results, input.start), (Some(2), 4));
    }

    #[test]
    fn rejects_what_the_model_rejects() {
        let err = read(&request(
            br#"{"policyDocument":"{}","policyType":"GROUP_POLICY"}"#,
            &[],
        ))
        .expect_err("bad enum");
        let RestJsonError::Validation {
            message, fields, ..
        } = &err
        else {
            panic!("{err:?}");
        };
        assert_eq!(fields[0].name, "policyType");
        assert!(message.starts_with("1 validation error detected: Value 'GROUP_POLICY' at 'policyType' failed to satisfy constraint: Member must satisfy enum value set: [IDENTITY_POLICY,"), "{message}");

        let err = read(&request(br#"{}"#, &[("maxResults", "0")])).expect_err("missing");
        let RestJsonError::Validation { fields, .. } = &err else {
            panic!("{err:?}");
        };
        let names: Vec<_> = fields.iter().map(|f| f.name.as_str()).collect();
        assert_eq!(names, ["policyDocument", "policyType", "maxResults"]);

        let err = read(&request(b"not json", &[])).expect_err("body");
        assert_eq!(err.body()["reason"], "cannotParse");
    }
}
