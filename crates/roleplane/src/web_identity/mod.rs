//! Web identity tokens as STS verifies them for `AssumeRoleWithWebIdentity`
//! (`sts::web_identity`): the token itself ([`token`]: header, claims, signature, validity),
//! and where its issuer's keys come from ([`keys`]: the operator's files or a bounded cache of
//! what [`discovery`] fetches over HTTPS; decision 0022).
//!
//! A token is a credential: it is never logged or recorded. Only its issuer, subject and
//! audience leave this module, as CloudTrail records them.

pub mod discovery;
pub mod keys;
pub mod token;

pub use discovery::Fetcher;
pub use keys::{IssuerKeys, KeyError};
pub use token::{TokenError, Unverified, Verified};
