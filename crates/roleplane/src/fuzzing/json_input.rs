//! Targets `lookup_events` (CloudTrail's LookupEvents over awsJson1_1) and `validate_policy`
//! (Access Analyzer's ValidatePolicy over restJson1): a whole request, decoded and read as the
//! operation reads it, up to the point where it would touch the store. (The dialects alone are
//! `protocol`'s `aws_json` and `rest_json` targets.)

use protocol::Dialect;
use protocol::aws_json::AwsJson;
use protocol::rest_json::{RestJson, RestJsonError};
use sigv4::fuzzing::RawRequest;

use crate::analyzer::{self, checks, validate_policy};
use crate::cloudtrail::input::LookupInput;
use crate::cloudtrail::{self, token};

/// The request layout of `sigv4::fuzzing::RawRequest`: `METHOD TARGET`, `Name:value` lines, a
/// blank line, the body (`X-Amz-Target` names the operation).
pub fn lookup_events(data: &[u8]) {
    let Some(raw) = RawRequest::parse(data) else {
        return;
    };
    let dialect = AwsJson {
        target_prefix: cloudtrail::TARGET_PREFIX,
    };
    let result = dialect.decode(&raw.http()).and_then(|(_, body)| {
        let input = LookupInput::parse(&body)?;
        let fingerprint = input.fingerprint();
        let _ = input.filter();
        if let Some(position) = input
            .next_token
            .as_deref()
            .and_then(|t| token::decode(t, fingerprint))
        {
            let again = token::decode(&token::encode(position, fingerprint), fingerprint);
            assert_eq!(again, Some(position), "NextToken round trip");
        }
        Ok(String::new())
    });
    let _ = dialect.render(result, "FUZZ");
}

/// The same request layout; the method and path pick the operation.
pub fn validate_policy(data: &[u8]) {
    let Some(raw) = RawRequest::parse(data) else {
        return;
    };
    let dialect = RestJson {
        routes: analyzer::ROUTES,
    };
    let result: Result<String, RestJsonError> =
        dialect
            .decode(&raw.http())
            .and_then(|(operation, request)| {
                if operation != analyzer::VALIDATE_POLICY {
                    return Ok(String::new());
                }
                let input = validate_policy::read(&request)?;
                for finding in checks::findings(&input.document, input.kind) {
                    let _ = checks::to_wire(&finding, &input.document);
                }
                Ok(String::new())
            });
    let _ = dialect.render(result, "FUZZ");
}
