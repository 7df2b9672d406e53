//! restJson1 errors, the shape Access Analyzer (and any restJson1 service) answers in:
//! `x-amzn-ErrorType: <code>` and a JSON body with `message` (and, for `ValidationException`,
//! `reason` and `fieldList`).

use serde_json::{Value, json};

use crate::AwsError;

/// `ValidationExceptionReason`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reason {
    UnknownOperation,
    CannotParse,
    FieldValidationFailed,
    Other,
}

impl Reason {
    pub fn as_str(self) -> &'static str {
        match self {
            Reason::UnknownOperation => "unknownOperation",
            Reason::CannotParse => "cannotParse",
            Reason::FieldValidationFailed => "fieldValidationFailed",
            Reason::Other => "other",
        }
    }
}

/// One member that failed validation (`ValidationExceptionField`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    pub name: String,
    pub message: String,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RestJsonError {
    #[error("ValidationException: {message}")]
    Validation {
        message: String,
        reason: Reason,
        fields: Vec<FieldError>,
    },
    /// Authentication and authorization failures, already worded by the shared layers.
    #[error("{0}")]
    Aws(#[from] AwsError),
}

impl RestJsonError {
    /// Members that break the model, reported together in Coral's wording.
    pub fn fields(fields: Vec<FieldError>) -> Self {
        let n = fields.len();
        let message = format!(
            "{n} validation error{} detected: {}",
            if n == 1 { "" } else { "s" },
            fields
                .iter()
                .map(|f| f.message.as_str())
                .collect::<Vec<_>>()
                .join("; ")
        );
        RestJsonError::Validation {
            message,
            reason: Reason::FieldValidationFailed,
            fields,
        }
    }

    /// A body that is not the operation's JSON input.
    pub fn cannot_parse(message: impl Into<String>) -> Self {
        RestJsonError::Validation {
            message: message.into(),
            reason: Reason::CannotParse,
            fields: Vec::new(),
        }
    }

    pub fn unknown_operation(method: &str, path: &str) -> Self {
        RestJsonError::Validation {
            message: format!("No operation matches {method} {path}"),
            reason: Reason::UnknownOperation,
            fields: Vec::new(),
        }
    }

    /// The error code, as the `x-amzn-ErrorType` header names it. Query-style codes from the
    /// shared authentication layer become the names JSON services use for the same failures.
    pub fn code(&self) -> &str {
        match self {
            RestJsonError::Validation { .. } => "ValidationException",
            RestJsonError::Aws(err) => match err.code.as_ref() {
                "AccessDenied" => "AccessDeniedException",
                "InvalidClientTokenId" => "UnrecognizedClientException",
                "SignatureDoesNotMatch" => "InvalidSignatureException",
                "ServiceFailure" | "InternalError" => "InternalServerException",
                other => other,
            },
        }
    }

    /// The same error in the shared shape (what the audit record keeps).
    pub fn to_aws(&self) -> AwsError {
        let message = match self {
            RestJsonError::Validation { message, .. } => message.clone(),
            RestJsonError::Aws(err) => err.message.clone(),
        };
        AwsError::sender(self.code().to_owned(), self.status(), message)
    }

    pub fn status(&self) -> u16 {
        match self {
            RestJsonError::Validation { .. } => 400,
            RestJsonError::Aws(err) => err.status,
        }
    }

    pub fn body(&self) -> Value {
        match self {
            RestJsonError::Validation {
                message,
                reason,
                fields,
            } => {
                let mut body = json!({ "message": message, "reason": reason.as_str() });
                if !fields.is_empty() {
                    body["fieldList"] = fields
                        .iter()
                        .map(|f| json!({ "name": f.name, "message": f.message }))
                        .collect();
                }
                body
            }
            RestJsonError::Aws(err) => json!({ "message": err.message }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validation_bodies_name_reason_and_fields() {
        let err = RestJsonError::fields(vec![FieldError {
            name: "policyType".into(),
            message: "Value 'X' at 'policyType' failed to satisfy constraint".into(),
        }]);
        assert_eq!((err.code(), err.status()), ("ValidationException", 400));
        assert_eq!(
            err.body(),
            json!({
                "message": "1 validation error detected: Value 'X' at 'policyType' failed to satisfy constraint",
                "reason": "fieldValidationFailed",
                "fieldList": [{"name": "policyType", "message": "Value 'X' at 'policyType' failed to satisfy constraint"}]
            })
        );
    }

    #[test]
    fn shared_errors_take_json_service_codes() {
        let denied = RestJsonError::from(AwsError::access_denied("User: x is not authorized"));
        assert_eq!(
            (denied.code(), denied.status()),
            ("AccessDeniedException", 403)
        );
        assert_eq!(
            denied.body(),
            json!({ "message": "User: x is not authorized" })
        );
    }
}
