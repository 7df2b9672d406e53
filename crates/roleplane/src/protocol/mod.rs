//! AWS wire protocols: awsQuery (IAM, STS) and ec2Query (EC2) request decoding, XML response
//! encoding, and AWS-shaped errors. Pure: bytes in, strings out; the HTTP layer sets
//! [`CONTENT_TYPE`], [`REQUEST_ID_HEADER`] and the status.
//!
//! - [`Params`] / [`Scope`]: the decoded request, with typed accessors for handlers.
//! - [`XmlWriter`], [`Iso8601`], [`UrlEncoded`]: building an operation's output.
//! - [`Envelope`]: wrapping output or an [`AwsError`] the way each service does.

mod envelope;
mod error;
mod form;
mod params;
mod xml;

pub use envelope::{CONTENT_TYPE, Envelope, REQUEST_ID_HEADER};
pub use error::{
    AwsError, Constraint, DecodeError, Fault, ParamError, Violations, ec2_member_path,
    query_member_path,
};
pub use form::decode_form;
pub use params::{ListLayout, MapLayout, Page, Params, Scope};
pub use xml::{Iso8601, UrlEncoded, XmlWriter, escape_into};

/// The two query-style wire protocols. They share the form encoding and differ in list
/// spelling, response envelopes and error wording.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Protocol {
    /// IAM and STS: `Name.member.N` lists, `<OpResult>` wrapper, `<ErrorResponse>` errors.
    AwsQuery,
    /// EC2: `Name.N` lists, no result wrapper, `<Response><Errors>` errors.
    Ec2Query,
}
