//! Authentication: who signed this request. Long-term keys (AKIA…) are looked up in the store,
//! among IAM users' keys and then host agents' (`host_agent`); temporary ones (ASIA…) are
//! verified from their self-contained session token alone.

use std::sync::Arc;

use policy::{Arn, Principal, PrincipalKind};
use protocol::{AwsError, Protocol};
use sigv4::{Authorization, ErrorDialect, HttpRequest, SigV4Error};
use store::{AccessKeyStatus, Store, StoreError, User};

use super::app::App;
use super::host_agent::{CachedHostKey, HostAgent, caller_of_host_key};
use super::key_cache::CachedKey;
use super::scope_region::valid_regions;
use crate::credentials::{SessionClaims, SessionPrincipal, TokenError};

/// What signed the request.
#[derive(Debug, Clone)]
pub enum Identity {
    User(User),
    Session(SessionClaims),
    /// A host's agent credential: no IAM identity, refused every AWS operation
    /// (`host_agent::refuse`).
    HostAgent(HostAgent),
}

/// An authenticated caller.
#[derive(Debug, Clone)]
pub struct Caller {
    pub account_id: String,
    pub access_key_id: String,
    pub principal: Principal,
    pub identity: Identity,
}

/// STS ends this sentence with a period and IAM does not (raw bodies: STS in
/// aws/aws-sdk-php#1622 and broamski/aws-mfa#56, IAM in aws/aws-cli#8918 and 99designs/aws-vault#15).
pub fn invalid_token(service: &str) -> AwsError {
    let message = if service == "iam" {
        "The security token included in the request is invalid"
    } else {
        "The security token included in the request is invalid."
    };
    AwsError::sender("InvalidClientTokenId", 403, message)
}

// UNCONFIRMED status: STS and IAM answer an expired session token with code `ExpiredToken`; we
// send 403 like the other authentication failures of these services.
const EXPIRED_TOKEN: &str = "The security token included in the request is expired";

pub async fn authenticate<S: Store>(
    app: &App<S>,
    req: &HttpRequest<'_>,
    claim: &Authorization<'_>,
    now: u64,
    protocol: Protocol,
) -> Result<Caller, AwsError> {
    let dialect = match protocol {
        Protocol::AwsQuery => ErrorDialect::Query,
        Protocol::Ec2Query => ErrorDialect::Ec2,
    };
    let sig_error =
        |e: SigV4Error| AwsError::sender(e.code(dialect), e.status(dialect), e.message(dialect));
    let invalid = || match protocol {
        Protocol::AwsQuery => invalid_token(claim.scope().service),
        Protocol::Ec2Query => AwsError::sender(
            "AuthFailure",
            401,
            "AWS was not able to validate the provided access credentials",
        ),
    };
    claim
        .check_region(&valid_regions(claim.scope().service, app.region()))
        .map_err(sig_error)?;
    let key_id = claim.access_key_id();
    if key_id.starts_with("ASIA") {
        let claims =
            open_session(app, key_id, claim.session_token(), now).map_err(|e| match e {
                SessionRefusal::Expired => AwsError::sender("ExpiredToken", 403, EXPIRED_TOKEN),
                SessionRefusal::Missing | SessionRefusal::Invalid | SessionRefusal::OtherKey => {
                    invalid()
                }
            })?;
        claim
            .verify(
                req,
                claims.secret_access_key.as_bytes(),
                now,
                Some(app.signing_keys()),
            )
            .map_err(sig_error)?;
        return Ok(caller_of_session(claims));
    }
    // A long-term key with a session token (a stale AWS_SESSION_TOKEN) is refused, not taken
    // with the token ignored: AWS answers it as an invalid token.
    if sigv4::carries_security_token(req) {
        return Err(invalid());
    }
    let key = long_term_key(app, key_id).await.map_err(|e| match e {
        KeyRefusal::Unknown | KeyRefusal::Inactive => invalid(),
        KeyRefusal::Internal => AwsError::internal(protocol),
    })?;
    claim
        .verify(req, key.secret(), now, Some(app.signing_keys()))
        .map_err(sig_error)?;
    if let LongTermKey::User(_) = &key {
        let scope = claim.scope();
        app.last_use()
            .key_used(key_id, now, scope.service, scope.region);
    }
    Ok(key.caller(app.region()))
}

/// The caller a long-term key speaks for.
pub fn caller_of_key(cached: &CachedKey) -> Caller {
    Caller {
        account_id: cached.user.account_id.clone(),
        access_key_id: cached.key.access_key_id.clone(),
        principal: user_principal(&cached.user),
        identity: Identity::User(cached.user.clone()),
    }
}

/// The caller a temporary key's session speaks for.
pub fn caller_of_session(claims: SessionClaims) -> Caller {
    Caller {
        account_id: claims.account_id.clone(),
        access_key_id: claims.access_key_id.clone(),
        principal: session_principal(&claims),
        identity: Identity::Session(claims),
    }
}

/// Why a temporary key's session token was refused. Each protocol words these itself (the
/// query services say `InvalidClientTokenId`, S3 `InvalidAccessKeyId`/`InvalidToken`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionRefusal {
    /// No session token came with the temporary key.
    Missing,
    /// The token does not open under the key ring (not ours, a retired key, altered).
    Invalid,
    /// The token opens but was issued for another access key id.
    OtherKey,
    Expired,
}

/// A temporary (ASIA…) key's session, from its self-contained token alone: the token opens under
/// the key ring, was issued for `key_id`, and has not expired at `now`. The signature is not
/// checked here; the caller verifies it with the claims' secret. Revocation
/// (`AWSRevokeOlderSessions`) is a policy, applied at authorization.
pub fn open_session<S>(
    app: &App<S>,
    key_id: &str,
    token: Option<&str>,
    now: u64,
) -> Result<SessionClaims, SessionRefusal> {
    let token = token.ok_or(SessionRefusal::Missing)?;
    let claims = app.keyring().open(token).map_err(|e| match e {
        TokenError::Invalid | TokenError::Seal(_) => SessionRefusal::Invalid,
    })?;
    if claims.access_key_id != key_id {
        return Err(SessionRefusal::OtherKey);
    }
    if now >= u64::try_from(claims.expires_at).unwrap_or(0) {
        return Err(SessionRefusal::Expired);
    }
    Ok(claims)
}

/// Why a long-term (AKIA…) key was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyRefusal {
    /// No such key.
    Unknown,
    /// The key exists but is not `Active`.
    Inactive,
    /// The store failed, or the key's secret does not open under the master key (logged here).
    Internal,
}

/// Who holds a long-term key: an IAM user, or a host's agent.
pub enum LongTermKey {
    User(Arc<CachedKey>),
    HostAgent(Arc<CachedHostKey>),
}

impl LongTermKey {
    /// The opened secret the request's signature is checked with.
    pub fn secret(&self) -> &[u8] {
        match self {
            Self::User(cached) => &cached.secret,
            Self::HostAgent(cached) => &cached.secret,
        }
    }

    /// The caller the key speaks for; `region` is the server's.
    pub fn caller(&self, region: &str) -> Caller {
        match self {
            Self::User(cached) => caller_of_key(cached),
            Self::HostAgent(cached) => caller_of_host_key(cached, region),
        }
    }
}

/// A long-term key with its holder and its opened secret, through the key caches: an IAM
/// user's key, else a host agent's. The signature is not checked here.
pub async fn long_term_key<S: Store>(
    app: &App<S>,
    key_id: &str,
) -> Result<LongTermKey, KeyRefusal> {
    match user_key(app, key_id).await {
        Err(KeyRefusal::Unknown) => host_agent_key(app, key_id)
            .await
            .map(LongTermKey::HostAgent),
        found => found.map(LongTermKey::User),
    }
}

/// An agent key of an available host. Hosts are EC2 data, so the entry follows the EC2
/// counter: the ReleaseHosts that deletes the key is seen by the next request.
async fn host_agent_key<S: Store>(
    app: &App<S>,
    key_id: &str,
) -> Result<Arc<CachedHostKey>, KeyRefusal> {
    // Read before the key, so a write racing the read leaves the entry outdated.
    let generation = app.store().changes().ec2;
    // A key a rotation retired is unknown from its retirement time on (decision 0029); no
    // write marks that moment, so the time is checked on every use.
    let current = |cached: Arc<CachedHostKey>| {
        if cached.key.is_current_at(time::OffsetDateTime::now_utc()) {
            Ok(cached)
        } else {
            Err(KeyRefusal::Unknown)
        }
    };
    if let Some(cached) = app.host_key_cache().get(key_id, generation) {
        return current(cached);
    }
    let key = match app.store().host_agent_key(key_id).await {
        Ok(key) => key,
        Err(StoreError::NotFound { .. }) => return Err(KeyRefusal::Unknown),
        Err(e) => {
            tracing::error!(error = %e, "looking up a host agent's key");
            return Err(KeyRefusal::Internal);
        }
    };
    let secret = app
        .open_secret(&key.access_key_id, &key.secret_ciphertext)
        .map_err(|_| {
            tracing::error!(access_key_id = %key.access_key_id, "a host agent key's secret does not open under the master key");
            KeyRefusal::Internal
        })?;
    current(
        app.host_key_cache()
            .insert(generation, key_id, CachedHostKey { key, secret }),
    )
}

/// An IAM user's key with the user, through the key cache.
async fn user_key<S: Store>(app: &App<S>, key_id: &str) -> Result<Arc<CachedKey>, KeyRefusal> {
    // Read before the key, so a write racing the read leaves the entry outdated.
    let generation = app.store().changes().iam;
    let cached = match app.key_cache().get(key_id, generation) {
        Some(cached) => cached,
        None => {
            let (key, user) = match app.store().access_key(key_id).await {
                Ok(found) => found,
                Err(StoreError::NotFound { .. }) => return Err(KeyRefusal::Unknown),
                Err(e) => {
                    tracing::error!(error = %e, "looking up an access key");
                    return Err(KeyRefusal::Internal);
                }
            };
            let secret = app
                .open_secret(&key.access_key_id, &key.secret_ciphertext)
                .map_err(|_| {
                    tracing::error!(access_key_id = %key.access_key_id, "an access key's secret does not open under the master key");
                    KeyRefusal::Internal
                })?;
            app.key_cache()
                .insert(generation, key_id, CachedKey { key, user, secret })
        }
    };
    if cached.key.status != AccessKeyStatus::Active {
        return Err(KeyRefusal::Inactive);
    }
    Ok(cached)
}

pub fn user_principal(user: &User) -> Principal {
    Principal::new(PrincipalKind::IamUser {
        account: user.account_id.clone(),
        path: user.path.clone(),
        name: user.name.clone(),
        user_id: Some(user.id.clone()),
    })
}

pub fn session_principal(claims: &SessionClaims) -> Principal {
    let account = claims.account_id.clone();
    match &claims.principal {
        SessionPrincipal::AssumedRole {
            role_arn,
            role_id,
            session_name,
        } => {
            let (role_path, role_name) = split_role_arn(role_arn);
            Principal::new(PrincipalKind::AssumedRole {
                account,
                role_path,
                role_name,
                session_name: session_name.clone(),
                role_id: Some(role_id.clone()),
            })
        }
        SessionPrincipal::UserSession { user_arn, user_id } => {
            let (path, name) = split_resource_path(user_arn, "user");
            Principal::new(PrincipalKind::IamUser {
                account,
                path,
                name,
                user_id: Some(user_id.clone()),
            })
        }
        SessionPrincipal::RootSession => Principal::new(PrincipalKind::Root { account }),
        SessionPrincipal::FederatedUser { name, .. } => {
            Principal::new(PrincipalKind::FederatedUser {
                account,
                name: name.clone(),
            })
        }
    }
}

/// `arn:aws:iam::A:role/path/name` → (`/path/`, `name`).
fn split_role_arn(arn: &str) -> (String, String) {
    split_resource_path(arn, "role")
}

/// The path and name of a session's own role or user ARN, which STS wrote (so it is one).
fn split_resource_path(arn: &str, resource_type: &str) -> (String, String) {
    let (path, name) = Arn::parse(arn)
        .and_then(|arn| arn.path_and_name(resource_type))
        .unwrap_or(("/", ""));
    (path.to_owned(), name.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn role_arns_split_into_path_and_name() {
        assert_eq!(
            split_role_arn("arn:aws:iam::123456789012:role/s3access"),
            ("/".to_owned(), "s3access".to_owned())
        );
        assert_eq!(
            split_role_arn("arn:aws:iam::123456789012:role/team/a/dev"),
            ("/team/a/".to_owned(), "dev".to_owned())
        );
        assert_eq!(
            split_resource_path("arn:aws:iam::123456789012:user/ops/alice", "user"),
            ("/ops/".to_owned(), "alice".to_owned())
        );
    }
}
