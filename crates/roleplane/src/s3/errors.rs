//! S3's errors as AWS words them, and the finishing touches every S3 response gets: the
//! request ID headers, `RequestId`/`HostId` in an error body (s3s leaves them out of the
//! errors it raises itself), and the outcome in the audit record.

use axum::http::HeaderValue;
use protocol::AwsError;
use s3s::{HttpResponse, S3Error, S3ErrorCode, s3_error};
use store::{EntityKind, StoreError};

use crate::audit::CallRecord;

pub const NO_SUCH_BUCKET: &str = "The specified bucket does not exist";
pub const NO_SUCH_KEY: &str = "The specified key does not exist.";
pub const NO_SUCH_UPLOAD: &str = "The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed.";
pub const BUCKET_NOT_EMPTY: &str = "The bucket you tried to delete is not empty";
pub const BUCKET_EXISTS: &str = "The requested bucket name is not available. The bucket namespace is shared by all users of the system. Please select a different name and try again.";
pub const ACCESS_DENIED: &str = "Access Denied";
const METHOD_NOT_ALLOWED: &str = r#"<?xml version="1.0" encoding="UTF-8"?><Error><Code>MethodNotAllowed</Code><Message>The specified method is not allowed against this resource.</Message></Error>"#;

/// A store failure as S3 answers it.
pub fn from_store(error: StoreError) -> S3Error {
    match error {
        StoreError::NotFound { kind, .. } => match kind {
            EntityKind::Bucket => s3_error!(NoSuchBucket, "{NO_SUCH_BUCKET}"),
            EntityKind::Upload => s3_error!(NoSuchUpload, "{NO_SUCH_UPLOAD}"),
            _ => s3_error!(NoSuchKey, "{NO_SUCH_KEY}"),
        },
        StoreError::AlreadyExists { .. } => s3_error!(BucketAlreadyExists, "{BUCKET_EXISTS}"),
        StoreError::DeleteConflict { .. } => s3_error!(BucketNotEmpty, "{BUCKET_NOT_EMPTY}"),
        // A value the store cannot keep (U+0000 on PostgreSQL): the request's fault.
        StoreError::InvalidInput(message) => s3_error!(InvalidArgument, "{message}"),
        other => internal(&other),
    }
}

/// An error S3 has and s3s's code list lacks.
pub fn custom(code: &'static str, status: u16, message: &str) -> S3Error {
    let mut error = S3Error::with_message(S3ErrorCode::Custom(code.into()), message.to_owned());
    if let Ok(status) = axum::http::StatusCode::from_u16(status) {
        error.set_status_code(status);
    }
    error
}

/// An internal failure, logged here and answered without its detail.
pub fn internal(error: &dyn std::fmt::Display) -> S3Error {
    tracing::error!(error = %error, "S3 operation failed");
    s3_error!(
        InternalError,
        "We encountered an internal error. Please try again."
    )
}

/// roleplane's authorization refusal (IAM's wording) as S3's AccessDenied.
pub fn access_denied(denied: AwsError) -> S3Error {
    S3Error::with_message(S3ErrorCode::AccessDenied, denied.message)
}

/// Adds the request ID headers, completes an error body, and notes the outcome in `record`.
/// S3's answer to a client over the failure limits (`request::failure_limits`).
pub fn slow_down(request_id: &str) -> HttpResponse {
    error_response("SlowDown", "Please reduce your request rate.", request_id)
}

/// S3's answer while the audit trail cannot take records.
pub fn service_unavailable(request_id: &str) -> HttpResponse {
    error_response(
        "ServiceUnavailable",
        "The request has failed due to a temporary failure of the server.",
        request_id,
    )
}

/// A 503 error document in S3's shape.
fn error_response(code: &str, message: &str, request_id: &str) -> HttpResponse {
    let body = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>{code}</Code>\
         <Message>{message}</Message><RequestId>{request_id}</RequestId>\
         <HostId>{}</HostId></Error>",
        host_id(request_id)
    );
    let mut response = HttpResponse::new(s3s::Body::from(body));
    *response.status_mut() = axum::http::StatusCode::SERVICE_UNAVAILABLE;
    let headers = response.headers_mut();
    headers.insert(
        axum::http::header::CONTENT_TYPE,
        HeaderValue::from_static("application/xml"),
    );
    if let Ok(value) = HeaderValue::from_str(request_id) {
        headers.insert("x-amz-request-id", value);
    }
    response
}

pub fn finish(response: &mut HttpResponse, request_id: &str, record: &mut CallRecord) {
    let host_id = host_id(request_id);
    if let Ok(value) = HeaderValue::from_str(request_id) {
        response.headers_mut().insert("x-amz-request-id", value);
    }
    if let Ok(value) = HeaderValue::from_str(&host_id) {
        response.headers_mut().insert("x-amz-id-2", value);
    }
    let status = response.status();
    if status == axum::http::StatusCode::NOT_MODIFIED {
        // A 304 has no body (RFC 9110); s3s renders NotModified as an error document.
        *response.body_mut() = s3s::Body::empty();
        response.headers_mut().remove("content-length");
        response.headers_mut().remove("content-type");
        record.succeeded_without_elements();
        return;
    }
    if !status.is_client_error() && !status.is_server_error() {
        record.succeeded_without_elements();
        return;
    }
    let Some(body) = response.body().bytes() else {
        record.failed_with(&status.as_u16().to_string(), "");
        return;
    };
    let Ok(text) = std::str::from_utf8(&body) else {
        return;
    };
    // s3s answers a request no S3 operation matches (`PUT /`, `POST /bucket/key` without a
    // subresource) with 501 "Unknown operation"; S3 calls that a method not allowed on the
    // resource, a 4xx. 501 stays for operations S3 has and roleplane does not serve.
    if text.contains("<Message>Unknown operation</Message>") {
        *response.status_mut() = axum::http::StatusCode::METHOD_NOT_ALLOWED;
        let text = METHOD_NOT_ALLOWED.to_owned();
        *response.body_mut() = s3s::Body::from(text);
        return finish(response, request_id, record);
    }
    let code = element(text, "Code").unwrap_or_default();
    let message = element(text, "Message")
        .or_else(|| default_message(code))
        .unwrap_or_default();
    record.failed_with(code, message);
    if text.contains("<RequestId>") || !text.contains("</Error>") {
        return;
    }
    let mut completed = text.to_owned();
    if !text.contains("<Message>")
        && let Some(message) = default_message(code)
    {
        let end_of_code = "</Code>";
        if let Some(at) = completed.find(end_of_code) {
            completed.insert_str(
                at + end_of_code.len(),
                &format!("<Message>{message}</Message>"),
            );
        }
    }
    let completed = completed.replacen(
        "</Error>",
        &format!("<RequestId>{request_id}</RequestId><HostId>{host_id}</HostId></Error>"),
        1,
    );
    let length = completed.len();
    *response.body_mut() = s3s::Body::from(completed);
    if let Ok(value) = HeaderValue::from_str(&length.to_string()) {
        response.headers_mut().insert("content-length", value);
    }
}

/// S3's message for the errors s3s raises without one (signature checks, path parsing).
fn default_message(code: &str) -> Option<&'static str> {
    Some(match code {
        "SignatureDoesNotMatch" => {
            "The request signature we calculated does not match the signature you provided. \
             Check your key and signing method."
        }
        "AccessDenied" => ACCESS_DENIED,
        "InvalidAccessKeyId" => "The AWS Access Key Id you provided does not exist in our records.",
        "RequestTimeTooSkewed" => {
            "The difference between the request time and the current time is too large."
        }
        "XAmzContentSHA256Mismatch" => {
            "The provided 'x-amz-content-sha256' header does not match what was computed."
        }
        "InvalidBucketName" => "The specified bucket is not valid.",
        "KeyTooLongError" => "Your key is too long",
        "MalformedXML" => {
            "The XML you provided was not well-formed or did not validate against our \
             published schema"
        }
        "MissingContentLength" => "You must provide the Content-Length HTTP header.",
        "IncompleteBody" => {
            "You did not provide the number of bytes specified by the Content-Length HTTP header."
        }
        "AuthorizationQueryParametersError" => {
            "Query-string authentication requires the Signature, Expires and AWSAccessKeyId \
             parameters"
        }
        "NotModified" => "Not Modified",
        _ => return None,
    })
}

/// `x-amz-id-2`: S3's extended request ID. roleplane has one host; the request ID stands for it.
fn host_id(request_id: &str) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(request_id.as_bytes())
}

/// The text of the first `<NAME>…</NAME>` in `xml` (still escaped).
fn element<'a>(xml: &'a str, name: &str) -> Option<&'a str> {
    let open = format!("<{name}>");
    let start = xml.find(&open)? + open.len();
    let end = xml[start..].find(&format!("</{name}>"))? + start;
    Some(&xml[start..end])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn store_failures_become_s3_errors() {
        let missing = |kind| StoreError::NotFound {
            kind,
            name: "x".into(),
        };
        assert_eq!(
            from_store(missing(EntityKind::Bucket)).code(),
            &S3ErrorCode::NoSuchBucket
        );
        assert_eq!(
            from_store(missing(EntityKind::Object)).code(),
            &S3ErrorCode::NoSuchKey
        );
        assert_eq!(
            from_store(missing(EntityKind::Upload)).code(),
            &S3ErrorCode::NoSuchUpload
        );
    }

    #[test]
    fn an_error_body_gets_its_request_id_and_host_id() {
        let body = r#"<?xml version="1.0" encoding="UTF-8"?><Error><Code>NoSuchKey</Code><Message>m</Message></Error>"#;
        let mut response = HttpResponse::new(s3s::Body::from(body.to_owned()));
        *response.status_mut() = axum::http::StatusCode::NOT_FOUND;
        let mut record = CallRecord::off();
        finish(&mut response, "REQ1", &mut record);
        let text = String::from_utf8(response.body().bytes().unwrap().to_vec()).unwrap();
        assert!(
            text.ends_with(
                "<Message>m</Message><RequestId>REQ1</RequestId><HostId>UkVRMQ==</HostId></Error>"
            ),
            "{text}"
        );
        assert_eq!(response.headers()["x-amz-request-id"], "REQ1");
        assert_eq!(element(&text, "Code"), Some("NoSuchKey"));
    }

    #[test]
    fn an_error_s3s_raised_without_a_message_gets_s3s_words() {
        let body = r#"<?xml version="1.0" encoding="UTF-8"?><Error><Code>SignatureDoesNotMatch</Code></Error>"#;
        let mut response = HttpResponse::new(s3s::Body::from(body.to_owned()));
        *response.status_mut() = axum::http::StatusCode::FORBIDDEN;
        finish(&mut response, "REQ2", &mut CallRecord::off());
        let text = String::from_utf8(response.body().bytes().unwrap().to_vec()).unwrap();
        assert!(
            text.contains("<Code>SignatureDoesNotMatch</Code><Message>The request signature we calculated does not match"),
            "{text}"
        );
    }
}
