//! awsJson1_1 (CloudTrail): the operation in `X-Amz-Target` (`Prefix.Operation`), a JSON body,
//! errors as `{"__type": code, "message": …}`.

use serde_json::{Map, Value, json};
use sigv4::HttpRequest;

use crate::AwsError;
use crate::dialect::{Dialect, Rendered};

pub const CONTENT_TYPE: &str = "application/x-amz-json-1.1";

/// A JSON service's dialect: the prefix its `X-Amz-Target` values carry.
pub struct AwsJson {
    pub target_prefix: &'static str,
}

impl Dialect for AwsJson {
    type Input = Value;
    type Error = AwsError;

    fn decode(&self, http: &HttpRequest<'_>) -> Result<(String, Value), AwsError> {
        let target = http
            .headers
            .iter()
            .find(|(name, _)| name.eq_ignore_ascii_case("x-amz-target"))
            .map(|(_, value)| *value)
            .unwrap_or_default();
        let operation = target.strip_prefix(self.target_prefix).unwrap_or(target);
        if operation.is_empty() {
            return Err(AwsError::sender(
                "UnknownOperationException",
                400,
                "The X-Amz-Target header names no operation",
            ));
        }
        let body = if http.body.is_empty() {
            Value::Object(Map::new())
        } else {
            serde_json::from_slice(http.body).map_err(|_| {
                AwsError::sender(
                    "SerializationException",
                    400,
                    "The request body is not valid JSON.",
                )
            })?
        };
        Ok((operation.to_owned(), body))
    }

    fn unknown_operation(&self, operation: &str) -> AwsError {
        AwsError::sender(
            "UnknownOperationException",
            400,
            format!("The operation {operation} is not served here"),
        )
    }

    fn shared_shape(&self, error: &AwsError) -> AwsError {
        json_names(error.clone())
    }

    fn render(&self, result: Result<String, AwsError>, _request_id: &str) -> Rendered {
        let (status, body, error_type) = match result {
            Ok(body) => (200, body, None),
            Err(error) => {
                let error = json_names(error);
                (
                    error.status,
                    json!({"__type": error.code, "message": error.message}).to_string(),
                    None,
                )
            }
        };
        Rendered {
            status,
            content_type: CONTENT_TYPE,
            error_type,
            body,
        }
    }
}

/// Query-style codes from the shared authentication and authorization layers become the names
/// JSON services use for the same failures.
fn json_names(mut error: AwsError) -> AwsError {
    let code = match &*error.code {
        "InvalidClientTokenId" => "UnrecognizedClientException",
        "SignatureDoesNotMatch" => "InvalidSignatureException",
        "ExpiredToken" => "ExpiredTokenException",
        "IncompleteSignature" => "IncompleteSignatureException",
        "AccessDenied" => "AccessDeniedException",
        _ => return error,
    };
    error.code = code.into();
    error
}
