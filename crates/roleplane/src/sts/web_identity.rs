//! AssumeRoleWithWebIdentity: temporary credentials for a role in exchange for a token from an
//! OpenID Connect provider the role's account trusts (a Kubernetes service-account token, a
//! CI job's ID token). The request is unsigned, as on AWS: the token is the credential.
//!
//! Order of checks: model constraints → the token is a JWT naming an issuer → the role (a
//! missing one is AccessDenied, as for AssumeRole) → the role's account has a provider for
//! the issuer → the issuer's keys → signature → audience, validity, subject → the trust
//! policy (`sts:AssumeRoleWithWebIdentity` for the provider as `Federated` principal, with
//! `ISSUER:aud`, `ISSUER:sub`, …; `sts:TagSession` and `sts:SetSourceIdentity` when the token
//! carries tags or a source identity) → session duration → session policies → sealing.
//!
//! Wording: AWS's answers as clients report them (aws-actions/configure-aws-credentials,
//! aws-sdk-* issues); UNCONFIRMED where noted. The token never reaches a log, an error
//! message or the audit trail: only its issuer, subject and audience do, as CloudTrail's.

use std::net::SocketAddr;

use policy::{
    Context, ContextValue, Policy, PolicyKind, PolicySet, Principal, PrincipalKind, evaluate,
};
use protocol::{AwsError, Envelope, Params, Protocol, Violations};
use store::{OidcProvider, Role, Store, StoreError};

use super::assume_role::{EXCEEDS_ROLE_MAX, parse_role_arn, resolve_session_policies};
use super::credentials::{check_packed_size, new_claims, seal, write_credentials};
use super::input;
use crate::credentials::SessionPrincipal;
use crate::request::App;
use crate::request::authz::global_context;
use crate::tag_rules;
use crate::web_identity::token::{self, MAX_TOKEN_CHARS};
use crate::web_identity::{KeyError, TokenError, Verified};

pub const OPERATION: &str = "AssumeRoleWithWebIdentity";
const ACTION: &str = "sts:AssumeRoleWithWebIdentity";

const DEFAULT_DURATION: u32 = 3600;
const MIN_DURATION: i32 = 900;
const MAX_DURATION: i32 = 43200;

/// The refusal AWS gives for a role that does not exist or does not trust the token.
const NOT_AUTHORIZED: &str = "Not authorized to perform sts:AssumeRoleWithWebIdentity";
const NOT_A_JWT: &str = "The ID Token provided is not a valid JWT. (You may see this error if you sent an Access Token)";
/// Two spaces after the comma, as AWS sends it.
const NO_KEY: &str = "Couldn't retrieve verification key from your identity provider,  please \
                      reference AssumeRoleWithWebIdentity documentation for requirements";
// UNCONFIRMED: AWS's words for a signature that does not verify; this is the STS model's
// description of InvalidIdentityTokenException.
const NOT_VALIDATED: &str = "The web identity token that was passed could not be validated by \
                             AWS. Get a new identity token from the identity provider and then \
                             retry the request.";

fn invalid_token(message: impl Into<String>) -> AwsError {
    AwsError::sender("InvalidIdentityToken", 400, message)
}

/// Who a verified token speaks for, as CloudTrail's `WebIdentityUser` shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebIdentityUser {
    /// The role's account, where the call is recorded.
    pub account_id: String,
    pub provider_arn: String,
    /// `None` until the token verified.
    pub audience: Option<String>,
    pub subject: Option<String>,
}

/// What the request asks for, validated against the model.
struct Request<'a> {
    role_arn: &'a str,
    session_name: &'a str,
    token: &'a str,
    duration: Option<u32>,
    policy: Option<&'a str>,
    policy_arns: Vec<&'a str>,
}

impl<'a> Request<'a> {
    fn read(params: &'a Params) -> Result<Self, AwsError> {
        let p = params.root();
        let mut v = Violations::new();
        let role_arn = p.optional_str("RoleArn");
        let session_name = p.optional_str("RoleSessionName");
        let token = p.optional_str("WebIdentityToken");
        match role_arn {
            Some(arn) => input::ROLE_ARN.check(arn, &mut v),
            None => v.null("roleArn"),
        }
        match session_name {
            Some(name) => input::ROLE_SESSION_NAME.check(name, &mut v),
            None => v.null("roleSessionName"),
        }
        // `clientTokenType`: 4–20,000 characters. Its value is a credential: never echoed.
        match token {
            Some(t) if t.chars().count() < 4 => v.unshown(
                "webIdentityToken",
                "Member must have length greater than or equal to 4",
            ),
            Some(t) if t.chars().count() > MAX_TOKEN_CHARS => v.unshown(
                "webIdentityToken",
                "Member must have length less than or equal to 20000",
            ),
            Some(_) => {}
            None => v.null("webIdentityToken"),
        }
        let duration = p.optional_i32("DurationSeconds", MIN_DURATION..=MAX_DURATION)?;
        let policy = p.optional_str("Policy");
        if let Some(doc) = policy {
            input::SESSION_POLICY.check(doc, &mut v);
        }
        let policy_arns = input::policy_arns(p.clone(), &mut v)?;
        v.into_result()?;
        Ok(Request {
            role_arn: role_arn.unwrap_or_default(),
            session_name: session_name.unwrap_or_default(),
            token: token.unwrap_or_default(),
            duration: duration.and_then(|d| u32::try_from(d).ok()),
            policy,
            policy_arns,
        })
    }
}

/// Serves one AssumeRoleWithWebIdentity call: the response body or the error, and who the
/// token spoke for once its provider was found (for the audit record).
pub async fn serve<S: Store>(
    app: &App<S>,
    params: &Params,
    peer: SocketAddr,
    now: u64,
    request_id: &str,
) -> (Result<String, AwsError>, Option<WebIdentityUser>) {
    let mut who = None;
    let result = assume(app, params, peer, now, request_id, &mut who).await;
    (result, who)
}

async fn assume<S: Store>(
    app: &App<S>,
    params: &Params,
    peer: SocketAddr,
    now: u64,
    request_id: &str,
    who: &mut Option<WebIdentityUser>,
) -> Result<String, AwsError> {
    let request = Request::read(params)?;
    let unverified = token::read(request.token).map_err(|_| invalid_token(NOT_A_JWT))?;
    let role = find_role(app, request.role_arn).await?;
    let issuer = unverified.issuer();
    let provider = find_provider(app, &role.account_id, issuer).await?;
    *who = Some(WebIdentityUser {
        account_id: role.account_id.clone(),
        provider_arn: provider.arn.clone(),
        audience: None,
        subject: None,
    });

    let keys = app
        .issuer_keys()
        .keys(
            &provider.url,
            &provider.thumbprints,
            unverified.header.kid.as_deref(),
        )
        .await
        .map_err(|KeyError::Unreachable| AwsError::sender("IDPCommunicationError", 400, NO_KEY))?;
    let now_secs = i64::try_from(now).unwrap_or(i64::MAX);
    let verified = token::verify_signature(request.token, &unverified, &keys)
        .and_then(|()| token::check_claims(&unverified.claims, &provider.client_ids, now_secs))
        .map_err(token_error)?;
    *who = Some(WebIdentityUser {
        account_id: role.account_id.clone(),
        provider_arn: provider.arn.clone(),
        audience: Some(verified.audience.clone()),
        subject: Some(verified.subject.clone()),
    });

    check_tags(&verified)?;
    authorize(app, peer, now, &request, &role, &provider, &verified)?;

    let duration = request.duration.unwrap_or(DEFAULT_DURATION);
    if duration > role.max_session_duration {
        return Err(AwsError::validation(EXCEEDS_ROLE_MAX));
    }
    let session_policies =
        resolve_session_policies(app, &role.account_id, request.policy, &request.policy_arns)
            .await?;
    let principal = SessionPrincipal::AssumedRole {
        role_arn: role.arn.clone(),
        role_id: role.id.clone(),
        session_name: request.session_name.to_owned(),
    };
    let mut claims = new_claims(&role.account_id, principal, now, duration)?;
    claims.session_policies = session_policies;
    // The role's tags, overridden by the token's (IAM User Guide, session tags).
    let mut tags: Vec<(String, String)> = role
        .tags
        .iter()
        .map(|t| (t.key.clone(), t.value.clone()))
        .collect();
    for (key, value) in &verified.tags {
        match tags.iter_mut().find(|(k, _)| k.eq_ignore_ascii_case(key)) {
            Some(slot) => *slot = (key.clone(), value.clone()),
            None => tags.push((key.clone(), value.clone())),
        }
    }
    claims.tags = tags;
    claims.transitive_tag_keys = verified.transitive_tag_keys.clone();
    claims.source_identity = verified.source_identity.clone();
    claims.context = vec![("aws:FederatedProvider".to_owned(), provider.arn.clone())];

    let token = seal(app, &claims)?;
    let has_policies = !claims.session_policies.is_empty();
    let packed = check_packed_size(&token, has_policies)?;
    let report_packed = has_policies || !verified.tags.is_empty();
    app.last_use().role_used(
        &role.id,
        u64::try_from(claims.issued_at).unwrap_or(0),
        app.region(),
    );

    let assumed_role_id = format!("{}:{}", role.id, request.session_name);
    let assumed_role_arn = format!(
        "arn:aws:sts::{}:assumed-role/{}/{}",
        role.account_id, role.name, request.session_name
    );
    Ok(Envelope::STS.success(OPERATION, request_id, |x| {
        x.elem("SubjectFromWebIdentityToken", &verified.subject);
        x.elem("Audience", &verified.audience);
        x.node("AssumedRoleUser", |x| {
            x.elem("AssumedRoleId", &assumed_role_id)
                .elem("Arn", &assumed_role_arn);
        });
        write_credentials(x, &claims, &token);
        x.opt_elem("SourceIdentity", claims.source_identity.as_deref());
        x.elem("Provider", &provider.arn);
        if report_packed {
            x.elem("PackedPolicySize", packed);
        }
    }))
}

fn token_error(error: TokenError) -> AwsError {
    match error {
        TokenError::Expired { now, exp } => AwsError::sender(
            "ExpiredTokenException",
            400,
            format!(
                "Token expired: current date/time {now} must be before the expiration date/time {exp}"
            ),
        ),
        TokenError::Audience => invalid_token("Incorrect token audience"),
        TokenError::NoKey => invalid_token(NO_KEY),
        TokenError::Malformed => invalid_token(NOT_A_JWT),
        TokenError::Algorithm
        | TokenError::Signature
        | TokenError::Subject
        | TokenError::Validity
        | TokenError::Tags => invalid_token(NOT_VALIDATED),
    }
}

/// The role an ARN names, if it exists at exactly that ARN; anything else is refused the way
/// an untrusting role is, so the role's existence is not revealed.
async fn find_role<S: Store>(app: &App<S>, role_arn: &str) -> Result<Role, AwsError> {
    let Some((account, name)) = parse_role_arn(role_arn) else {
        return Err(AwsError::validation(format!("{role_arn} is invalid")));
    };
    match app.store().role_by_name(account, name).await {
        Ok(role) if role.arn == role_arn => Ok(role),
        Ok(_) | Err(StoreError::NotFound { .. }) => Err(AwsError::access_denied(NOT_AUTHORIZED)),
        Err(e) => {
            tracing::error!(error = %e, "looking up a role to assume with a web identity");
            Err(AwsError::internal(Protocol::AwsQuery))
        }
    }
}

/// The provider of `account` for the token's issuer: its URL is the issuer without
/// `https://`.
async fn find_provider<S: Store>(
    app: &App<S>,
    account: &str,
    issuer: &str,
) -> Result<OidcProvider, AwsError> {
    let missing = || {
        invalid_token(format!(
            "No OpenIDConnect provider found in your account for {issuer}"
        ))
    };
    let Some(url) = issuer.strip_prefix("https://").filter(|u| !u.is_empty()) else {
        return Err(missing());
    };
    let arn = format!("arn:aws:iam::{account}:oidc-provider/{url}");
    match app.store().oidc_provider(account, &arn).await {
        Ok(provider) => Ok(provider),
        Err(StoreError::NotFound { .. }) => Err(missing()),
        Err(e) => {
            tracing::error!(error = %e, "looking up an OIDC provider");
            Err(AwsError::internal(Protocol::AwsQuery))
        }
    }
}

/// The token's session tags must be tags STS would take in a request (AWS refuses such a token
/// as invalid; UNCONFIRMED wording).
fn check_tags(verified: &Verified) -> Result<(), AwsError> {
    let broken = verified.tags.len() > input::MAX_TAGS
        || verified.tags.iter().any(|(k, v)| {
            !tag_rules::key_violations(k).is_empty()
                || !tag_rules::value_violations(v).is_empty()
                || tag_rules::is_reserved_key(k)
        })
        || verified
            .transitive_tag_keys
            .iter()
            .any(|k| !verified.tags.iter().any(|(t, _)| t.eq_ignore_ascii_case(k)));
    if broken {
        return Err(invalid_token(NOT_VALIDATED));
    }
    Ok(())
}

/// The trust policy's condition keys for a verified token: `ISSUER:aud`, `ISSUER:oaud`,
/// `ISSUER:sub`, `ISSUER:amr` (IAM User Guide, "Available keys for AWS OIDC federation"; the
/// issuer is the provider URL), the session name and the token's session tags.
fn context(request: &Request<'_>, provider: &OidcProvider, verified: &Verified) -> Context {
    let mut context = Context::new();
    let issuer = &provider.url;
    // With an authorized party, `aud` is the authorized party and `oaud` the token's audience.
    match &verified.authorized_party {
        Some(azp) => {
            context.insert(&format!("{issuer}:aud"), ContextValue::Single(azp.clone()));
            context.insert(
                &format!("{issuer}:oaud"),
                ContextValue::Single(verified.audience.clone()),
            );
        }
        None => context.insert(
            &format!("{issuer}:aud"),
            ContextValue::Single(verified.audience.clone()),
        ),
    }
    context.insert(
        &format!("{issuer}:sub"),
        ContextValue::Single(verified.subject.clone()),
    );
    if !verified.amr.is_empty() {
        context.insert(
            &format!("{issuer}:amr"),
            ContextValue::Multi(verified.amr.clone()),
        );
    }
    context.insert(
        "sts:RoleSessionName",
        ContextValue::Single(request.session_name.to_owned()),
    );
    if let Some(id) = &verified.source_identity {
        context.insert("sts:SourceIdentity", ContextValue::Single(id.clone()));
    }
    if !verified.tags.is_empty() {
        for (key, value) in &verified.tags {
            context.insert(
                &format!("aws:RequestTag/{key}"),
                ContextValue::Single(value.clone()),
            );
        }
        let keys = verified.tags.iter().map(|(k, _)| k.clone()).collect();
        context.insert("aws:TagKeys", ContextValue::Multi(keys));
    }
    if !verified.transitive_tag_keys.is_empty() {
        context.insert(
            "sts:TransitiveTagKeys",
            ContextValue::Multi(verified.transitive_tag_keys.clone()),
        );
    }
    context
}

/// The role's trust policy alone decides: a web identity has no policies of its own.
fn authorize<S>(
    app: &App<S>,
    peer: SocketAddr,
    now: u64,
    request: &Request<'_>,
    role: &Role,
    provider: &OidcProvider,
    verified: &Verified,
) -> Result<(), AwsError> {
    // A stored trust policy was validated when written; one that no longer parses trusts no one.
    let Ok(trust) = Policy::parse(&role.assume_role_policy, PolicyKind::Trust) else {
        tracing::warn!(role = %role.arn, "a stored trust policy does not parse");
        return Err(AwsError::access_denied(NOT_AUTHORIZED));
    };
    let principal = Principal::new(PrincipalKind::WebIdentity {
        provider: provider.arn.clone(),
        subject: verified.subject.clone(),
    });
    let mut actions = vec![ACTION];
    if !verified.tags.is_empty() || !verified.transitive_tag_keys.is_empty() {
        actions.push("sts:TagSession");
    }
    if verified.source_identity.is_some() {
        actions.push("sts:SetSourceIdentity");
    }
    for action in actions {
        let mut context = context(request, provider, verified);
        global_context(app, peer, now, &mut context);
        let ask = policy::Request {
            principal: principal.clone(),
            action: action.to_owned(),
            resource: role.arn.clone(),
            resource_account: role.account_id.clone(),
            context,
        };
        let policies = PolicySet {
            resource: Some(trust.clone()),
            ..PolicySet::default()
        };
        let decision = evaluate(&ask, &policies);
        let metrics = &app.metrics().authorization;
        metrics.observe(&ask.action, decision.outcome);
        if !decision.is_allowed() {
            return Err(AwsError::access_denied(NOT_AUTHORIZED));
        }
    }
    Ok(())
}
