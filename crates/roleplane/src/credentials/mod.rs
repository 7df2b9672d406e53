//! Credentials: the sealing primitive, temporary-credential session tokens and their key ring.
//!
//! Temporary credentials (ASIA…) are self-contained: the session token is the session's claims
//! (including its secret key) sealed under a key-ring key, so any node holding the ring can verify
//! a request signed with them without a database lookup.

mod seal;
mod secret;
mod session_token;

pub use seal::{SealError, SealingKey};
pub use secret::new_secret_access_key;
pub use session_token::{KeyRing, SessionClaims, SessionPrincipal, TokenError};
