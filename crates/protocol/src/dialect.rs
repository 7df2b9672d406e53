//! A wire protocol as the request pipeline sees it: how a request names its operation and
//! carries its input, and how a result or an error goes back. One implementation per protocol
//! (awsQuery and ec2Query in [`crate::query`], awsJson1_1 in [`crate::aws_json`], restJson1 in
//! [`crate::rest_json`]); S3's restXml will be the next.

use sigv4::HttpRequest;

use crate::{AwsError, Protocol};

/// A response as the HTTP layer sends it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    pub status: u16,
    pub content_type: &'static str,
    /// restJson1 and awsJson name an error's code in `x-amzn-ErrorType` as well.
    pub error_type: Option<String>,
    pub body: String,
}

pub trait Dialect: Send + Sync {
    /// The decoded request an operation reads.
    type Input: Send + Sync;
    /// How this protocol's operations fail (the shared [`AwsError`] or a richer shape).
    type Error: From<AwsError> + Send;

    /// The operation the request names and its input.
    fn decode(&self, http: &HttpRequest<'_>) -> Result<(String, Self::Input), Self::Error>;

    /// The query protocol whose wording authentication errors start from.
    fn error_protocol(&self) -> Protocol {
        Protocol::AwsQuery
    }

    /// An authentication or authorization failure as this protocol's clients name it.
    fn auth_error(&self, error: AwsError) -> Self::Error {
        error.into()
    }

    /// A well-formed request naming an operation the service does not serve.
    fn unknown_operation(&self, operation: &str) -> Self::Error;

    /// The error in the shared shape: what the audit record keeps.
    fn shared_shape(&self, error: &Self::Error) -> AwsError;

    /// The response for an operation's output (already encoded) or its failure.
    fn render(&self, result: Result<String, Self::Error>, request_id: &str) -> Rendered;
}
