//! What roleplane reads from the network, decoded without I/O, and the shapes it answers in.
//!
//! AWS wire protocols, one [`Dialect`] each: awsQuery (IAM, STS) and ec2Query (EC2) in
//! [`query`], awsJson1_1 (CloudTrail) in [`aws_json`], restJson1 (Access Analyzer) in
//! [`rest_json`]: request decoding, response and error encoding. Pure: bytes in, strings out;
//! the HTTP layer sets the headers and the status a [`Rendered`] response names.
//!
//! - [`Params`] / [`Scope`]: the decoded request, with typed accessors for handlers.
//! - [`XmlWriter`], [`Iso8601`], [`UrlEncoded`]: building an operation's output.
//! - [`Envelope`]: wrapping output or an [`AwsError`] the way each service does.
//! - [`session_token`]: temporary credentials' claims sealed ([`seal`]) under a key ring, the
//!   `X-Amz-Security-Token` a request carries.
//! - [`markers`]: the pagination tokens clients hand back.
//!
//! Kept small (no async runtime, HTTP server, store or S3 stack) so that its fuzz targets
//! (`fuzz/`, the hidden `fuzzing` module) build in minutes.

pub mod aws_json;
mod dialect;
mod envelope;
mod error;
mod form;
#[doc(hidden)]
pub mod fuzzing;
pub mod markers;
mod params;
pub mod query;
pub mod rest_json;
pub mod seal;
pub mod session_token;
mod xml;

pub use dialect::{Dialect, Rendered};
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
