//! Targets `aws_json` (awsJson1_1, as CloudTrail speaks it) and `rest_json` (restJson1, routed
//! like Access Analyzer): a whole request decoded, its JSON body and members read, and the
//! answer rendered, an error in the dialect's shape included. The services' own reading of
//! these bodies (`LookupEvents`, `ValidatePolicy`) is fuzzed in `roleplane`.

use serde_json::{Value, json};
use sigv4::fuzzing::RawRequest;

use crate::aws_json::AwsJson;
use crate::markers::lookup_events;
use crate::rest_json::{FieldError, RestJson, RestJsonError, RestRequest, Route};
use crate::{AwsError, Dialect};

/// CloudTrail's `X-Amz-Target` prefix (`cloudtrail::TARGET_PREFIX` in roleplane).
const TARGET_PREFIX: &str = "com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101.";

/// A routing table of Access Analyzer's shape (`analyzer::ROUTES` in roleplane): literal
/// paths, and paths with a `{}` member.
const ROUTES: &[Route] = &[
    Route {
        method: "POST",
        path: "/policy/validation",
        operation: "ValidatePolicy",
    },
    Route {
        method: "PUT",
        path: "/policy/generation",
        operation: "StartPolicyGeneration",
    },
    Route {
        method: "GET",
        path: "/policy/generation",
        operation: "ListPolicyGenerations",
    },
    Route {
        method: "GET",
        path: "/policy/generation/{}",
        operation: "GetGeneratedPolicy",
    },
    Route {
        method: "PUT",
        path: "/policy/generation/{}",
        operation: "CancelPolicyGeneration",
    },
];

/// The request layout of `sigv4::fuzzing::RawRequest`: `METHOD TARGET`, `Name:value` lines, a
/// blank line, the body (`X-Amz-Target` names the operation).
pub fn aws_json(data: &[u8]) {
    let Some(raw) = RawRequest::parse(data) else {
        return;
    };
    let dialect = AwsJson {
        target_prefix: TARGET_PREFIX,
    };
    let result =
        dialect
            .decode(&raw.http())
            .and_then(|(operation, body)| match operation.as_str() {
                "LookupEvents" => lookup_events(&body),
                // A code of the shared layers' (`AccessDenied`, …) gets its JSON name.
                _ if operation.len() < 32 => Err(AwsError::sender(operation, 400, "refused")),
                _ => Err(dialect.unknown_operation(&operation)),
            });
    if let Err(error) = &result {
        let _ = dialect.shared_shape(error);
    }
    let _ = dialect.render(result, "FUZZ");
}

/// The body's `NextToken` as LookupEvents reads it (bound to the body's other members), and
/// the body echoed.
fn lookup_events(body: &Value) -> Result<String, AwsError> {
    let question = [
        &body["LookupAttributes"],
        &body["StartTime"],
        &body["EndTime"],
    ]
    .map(Value::to_string);
    let fingerprint = lookup_events::fingerprint(&question.each_ref().map(|s| s.as_bytes()));
    if let Some(token) = body.get("NextToken").and_then(Value::as_str) {
        let place = lookup_events::decode(token, fingerprint).ok_or_else(|| {
            AwsError::sender("InvalidNextTokenException", 400, "Invalid NextToken value.")
        })?;
        let again = lookup_events::decode(&lookup_events::encode(place, fingerprint), fingerprint);
        assert_eq!(again, Some(place), "NextToken round trip");
    }
    Ok(json!({ "Events": [], "Echo": body }).to_string())
}

/// The same request layout; the method and path pick the operation.
pub fn rest_json(data: &[u8]) {
    let Some(raw) = RawRequest::parse(data) else {
        return;
    };
    let dialect = RestJson { routes: ROUTES };
    let result = dialect
        .decode(&raw.http())
        .and_then(|(operation, request)| read(&operation, &request));
    if let Err(error) = &result {
        let _ = dialect.shared_shape(error);
    }
    let _ = dialect.render(result, "FUZZ");
}

/// What an operation reads: the JSON body, the query members (an empty one breaks the model,
/// reported with every other in one `ValidationException`), the path.
fn read(operation: &str, request: &RestRequest) -> Result<String, RestJsonError> {
    let body = match request.json_body() {
        Some(body) => body,
        None if request.body.is_empty() => Value::Null,
        None => {
            return Err(RestJsonError::cannot_parse(
                "Request body is not valid JSON",
            ));
        }
    };
    let empty: Vec<FieldError> = request
        .query
        .iter()
        .filter(|(_, value)| value.is_empty())
        .map(|(name, _)| FieldError {
            name: name.clone(),
            message: format!(
                "Value at '{name}' failed to satisfy constraint: Member must not be empty"
            ),
        })
        .collect();
    if !empty.is_empty() {
        return Err(RestJsonError::fields(empty));
    }
    let paging = (request.query("maxResults"), request.query("nextToken"));
    Ok(json!({
        "operation": operation,
        "path": request.path,
        "paging": [paging.0, paging.1],
        "body": body,
    })
    .to_string())
}
