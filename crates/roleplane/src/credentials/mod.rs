//! Credentials: the sealing primitive, temporary-credential session tokens and their key ring
//! (the `protocol` crate's: a session token is request input, fuzzed there), and secret
//! generation.
//!
//! Temporary credentials (ASIA…) are self-contained: the session token is the session's claims
//! (including its secret key) sealed under a key-ring key, so any node holding the ring can verify
//! a request signed with them without a database lookup.

mod secret;

pub use protocol::seal::{SealError, SealingKey};
pub use protocol::session_token::{KeyRing, SessionClaims, SessionPrincipal, TokenError};
pub use secret::new_secret_access_key;
