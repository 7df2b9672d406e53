//! The EC2 instance metadata service, wire-exact: what an application on an instance talks to for
//! its role credentials.
//!
//! The server implements [`MetadataSource`] (instances, associations, credential issuance);
//! [`Imds`] does everything on the wire: IMDSv2 session tokens (stateless HMAC tokens bound to
//! the instance), the PUT response hop limit as a real IP TTL, EC2's status codes, headers, error
//! pages and JSON layout, and the metadata tree.
//!
//! Choices where EC2's behaviour is unknown or deliberately not copied:
//! - Keep-alive is on by default; EC2 closes every connection (`Connection: close`). Set
//!   [`Limits::close_after_response`] for byte-identical headers.
//! - An invalid token is refused with 401 even when tokens are optional (EC2 unconfirmed).
//! - GET/POST/... on `/latest/api/token` get 405 with `Allow: OPTIONS, PUT` (a third-party
//!   mock's claim); other methods on metadata paths get 405 with `Allow: GET, HEAD`.
//! - A token-bearing request with `X-Forwarded-For` gets 403, like the token PUT (users report it).
//! - A `Host` header that is a DNS name (not an IP literal or `localhost`) gets 403: on a
//!   loopback endpoint this stops DNS-rebinding attacks from browsers.
//! - Every dated version serves the same tree as `latest`; `dynamic/instance-identity/` serves
//!   `document`, `signature`, `rsa2048` and `pkcs7` (signed by the server, see
//!   [`MetadataSource::identity_signatures`]), not `dsa2048`.
//! - Error pages other than 404 reuse EC2's 404 template with their own title.
//! - A connection over IPv6 from an instance whose `HttpProtocolIpv6` is disabled is answered
//!   as one from no instance (404); EC2's IPv6 endpoint simply does not answer it. Tokens are
//!   bound to the instance, not the endpoint: one minted over IPv4 works over IPv6 (EC2's rule
//!   here is unknown).

mod config;
mod conn;
mod format;
#[doc(hidden)]
pub mod fuzzing;
mod handler;
mod hop;
mod request;
mod response;
mod server;
mod source;
mod token;
mod tree;

pub use config::{Clock, ImdsConfig, Limits, Mode, SystemClock, TtlObserver};
pub use handler::MAX_TOKEN_TTL;
pub use server::Imds;
pub use source::{
    Credentials, CredentialsResult, HttpTokens, IamView, IdentitySignatures, InstanceView,
    InterfaceView, MetadataOptions, MetadataSource, RoleDelivery,
};
pub use token::{TOKEN_LEN, TokenError};
pub use tree::identity_document;
