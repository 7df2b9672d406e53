//! Target `web_identity_token`: what AssumeRoleWithWebIdentity reads from strangers. The token
//! comes from an unauthenticated caller and the key set from the issuer's server; both are read
//! and checked as `sts::web_identity` checks them (header and claims, the signature against
//! the set, then the claims against a client ID and a fixed clock).

use jsonwebtoken::jwk::JwkSet;

use crate::web_identity::token;

/// The client ID the target's provider lists (the seeds' tokens name it in `aud`).
pub const WEB_IDENTITY_CLIENT_ID: &str = "sts.amazonaws.com";
/// The target's clock, seconds since the epoch (the seeds' tokens are valid at it).
pub const WEB_IDENTITY_NOW: i64 = 1_800_000_000;

/// Input layout: the token, a newline, the key set's JSON (`{"keys":[…]}`); without a newline
/// the whole input is the token and the set is empty.
pub fn web_identity_token(data: &[u8]) {
    let (token, jwks) = match data.iter().position(|&b| b == b'\n') {
        Some(at) => (&data[..at], &data[at + 1..]),
        None => (data, &[][..]),
    };
    let Ok(token) = std::str::from_utf8(token) else {
        return;
    };
    let keys = serde_json::from_slice::<JwkSet>(jwks).unwrap_or(JwkSet { keys: Vec::new() });
    let Ok(unverified) = token::read(token) else {
        return;
    };
    let _ = token::verify_signature(token, &unverified, &keys);
    // The claims are checked only after a good signature in STS; here every token's claims
    // reach the checks, so the fuzzer need not forge a signature to explore them.
    let _ = token::check_claims(
        &unverified.claims,
        &[WEB_IDENTITY_CLIENT_ID.to_owned()],
        WEB_IDENTITY_NOW,
    );
}
