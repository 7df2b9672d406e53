//! awsQuery (IAM, STS) and ec2Query (EC2): form-encoded parameters in the body or the query
//! string, XML in the service's envelope back.

use sigv4::HttpRequest;

use crate::dialect::{Dialect, Rendered};
use crate::{AwsError, CONTENT_TYPE, Envelope, Params, Protocol, decode_form};

/// The largest form a query request may carry (the HTTP layer's body limit).
pub const MAX_FORM_BYTES: usize = 1 << 20;

/// A query service's dialect: its envelope (protocol, namespace, version).
pub struct Query(pub Envelope);

impl Dialect for Query {
    type Input = Params;
    type Error = AwsError;

    fn decode(&self, http: &HttpRequest<'_>) -> Result<(String, Params), AwsError> {
        let params = decode_params(self.0.protocol, http)?;
        Ok((params.action().to_owned(), params))
    }

    fn error_protocol(&self) -> Protocol {
        self.0.protocol
    }

    fn unknown_operation(&self, operation: &str) -> AwsError {
        AwsError::invalid_action(self.0.protocol, operation, self.0.version)
    }

    fn shared_shape(&self, error: &AwsError) -> AwsError {
        error.clone()
    }

    fn render(&self, result: Result<String, AwsError>, request_id: &str) -> Rendered {
        let (status, body) = match result {
            Ok(body) => (200, body),
            Err(err) => self.0.error(&err, request_id),
        };
        Rendered {
            status,
            content_type: CONTENT_TYPE,
            error_type: None,
            body,
        }
    }
}

/// Parameters come from the body of a POST and from the query string (presigned requests put
/// them there); both are decoded strictly.
fn decode_params(protocol: Protocol, http: &HttpRequest<'_>) -> Result<Params, AwsError> {
    let mut pairs = decode_form(http.query.as_bytes(), MAX_FORM_BYTES)?;
    pairs.retain(|(name, _)| !name.starts_with("X-Amz-"));
    pairs.extend(decode_form(http.body, MAX_FORM_BYTES)?);
    Ok(Params::from_pairs(protocol, pairs)?)
}

/// Before a credential scope is known (an unsigned or malformed request), the API version in the
/// body says which query service's error dialect the client will parse.
pub fn envelope_for_body(http: &HttpRequest<'_>) -> Envelope {
    let source = if http.body.is_empty() {
        http.query.as_bytes()
    } else {
        http.body
    };
    let has = |needle: &[u8]| source.windows(needle.len()).any(|w| w == needle);
    if has(b"Version=2016-11-15") {
        Envelope::EC2
    } else if has(b"Version=2011-06-15") {
        Envelope::STS
    } else {
        Envelope::IAM
    }
}
