//! Minting temporary credentials: a fresh ASIA… key and secret, the claims sealed into the
//! session token under the key ring's active key, and the `<Credentials>` element.
//!
//! **PackedPolicySize.** AWS reports how much of a session token's fixed space the session
//! policies and tags use, without saying how it packs them. Ours are packed by sealing: the
//! token carries every claim, so what limits them is the length of the token the key ring will
//! open ([`PACKED_LIMIT`] characters). PackedPolicySize is the sealed token's length as a
//! percentage of that limit, rounded up; over 100 % the request fails with
//! `PackedPolicyTooLarge`, so no credential is ever issued that no node could open.

use protocol::{AwsError, Iso8601, Protocol, XmlWriter};
use time::OffsetDateTime;

use crate::credentials::{SessionClaims, SessionPrincipal};
use crate::request::App;

/// The longest session token the key ring opens (`protocol::session_token`'s `MAX_TOKEN_LEN`).
pub const PACKED_LIMIT: usize = 8192;

/// A session's claims, before the policies and tags of the request are added.
pub fn new_claims(
    account_id: &str,
    principal: SessionPrincipal,
    now: u64,
    duration_secs: u32,
) -> Result<SessionClaims, AwsError> {
    let issued_at = i64::try_from(now).unwrap_or(i64::MAX);
    Ok(SessionClaims {
        access_key_id: store::ids::session_access_key_id(),
        secret_access_key: new_secret()?,
        account_id: account_id.to_owned(),
        principal,
        issued_at,
        expires_at: issued_at.saturating_add(i64::from(duration_secs)),
        session_policies: Vec::new(),
        tags: Vec::new(),
        transitive_tag_keys: Vec::new(),
        source_identity: None,
        context: Vec::new(),
        chained: false,
    })
}

fn new_secret() -> Result<String, AwsError> {
    crate::credentials::new_secret_access_key().map_err(|_| {
        tracing::error!("the random source failed while minting a session secret");
        AwsError::internal(Protocol::AwsQuery)
    })
}

/// The sealed session token.
pub fn seal<S>(app: &App<S>, claims: &SessionClaims) -> Result<String, AwsError> {
    app.keyring().seal(claims).map_err(|e| {
        tracing::error!(error = %e, "sealing a session token");
        AwsError::internal(Protocol::AwsQuery)
    })
}

/// The token's length as a whole percentage of [`PACKED_LIMIT`], rounded up.
pub fn packed_policy_size(token: &str) -> usize {
    (token.len() * 100).div_ceil(PACKED_LIMIT)
}

/// `PackedPolicyTooLarge` in AWS's two wordings (re:Post knowledge-center
/// iam-role-aws-sts-error): one for policies, one for session tags alone.
pub fn check_packed_size(token: &str, has_policies: bool) -> Result<usize, AwsError> {
    let percent = packed_policy_size(token);
    if percent <= 100 {
        return Ok(percent);
    }
    let message = if has_policies {
        format!("Packed policy consumes {percent}% of allotted space, please use smaller policy.")
    } else {
        format!("Packed size of session tags consumes {percent}% of allotted space.")
    };
    Err(AwsError::sender("PackedPolicyTooLarge", 400, message))
}

/// `<Credentials>` with the expiration in ISO 8601 UTC.
pub fn write_credentials(x: &mut XmlWriter, claims: &SessionClaims, token: &str) {
    let expiration = OffsetDateTime::from_unix_timestamp(claims.expires_at)
        .unwrap_or(OffsetDateTime::UNIX_EPOCH);
    x.node("Credentials", |x| {
        x.elem("AccessKeyId", &claims.access_key_id)
            .elem("SecretAccessKey", &claims.secret_access_key)
            .elem("SessionToken", token)
            .elem("Expiration", Iso8601(expiration));
    });
}
