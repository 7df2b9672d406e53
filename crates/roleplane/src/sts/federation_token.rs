//! GetFederationToken: temporary credentials for a federated user, issued by an IAM user with
//! long-term credentials (STS API reference: session credentials are refused).
//!
//! The federated user is `arn:aws:sts::ACCOUNT:federated-user/NAME` (user ID `ACCOUNT:NAME`).
//! Its permissions are the intersection of the issuing user's policies and the session
//! policies (`Policy`, `PolicyArns`); without a session policy it has none, and only a
//! resource policy naming it can let it in (IAM UG, "Permissions for GetFederationToken";
//! `request::authz` gives such a session a session policy that allows nothing). The issuing
//! user needs `sts:GetFederationToken` on the federated user's ARN, and `sts:TagSession` when
//! the request passes tags.
//!
//! Its credentials may call no IAM operation and, of STS, only GetCallerIdentity (STS API
//! reference, GetFederationToken); [`restrict`] enforces that before any operation runs.

use policy::{ContextValue, Policy, PolicyKind};
use protocol::{AwsError, Envelope, Protocol, Violations};
use store::Store;

use super::credentials::{check_packed_size, new_claims, seal, write_credentials};
use super::input::{self, Tag};
use crate::credentials::SessionPrincipal;
use crate::request::Call;
use crate::request::authz::{Ask, require};
use crate::request::{Identity, host_agent, invalid_token};

const DEFAULT_DURATION: i32 = 43200;
const MIN_DURATION: i32 = 900;
const MAX_DURATION: i32 = 129_600;

/// STS's wording for session credentials (aws/aws-sdk-net#1704 quotes it beside
/// GetSessionToken's).
const FROM_SESSION: &str = "Cannot call GetFederationToken with session credentials";

/// `Name`: 2–32 characters of `[\w+=,.@-]`.
pub const NAME: input::Text = input::Text {
    path: "name",
    min: 2,
    max: 32,
    ..input::ROLE_SESSION_NAME
};

/// Refuses what a federated user's credentials may not call, before the operation runs.
pub fn restrict(service: &str, action: &str) -> Result<(), AwsError> {
    match (service, action) {
        // UNCONFIRMED: IAM's answer to a federated user's credentials, taken to be the one it
        // gives GetSessionToken's credentials without MFA (a token it does not accept).
        ("iam", _) => Err(invalid_token("iam")),
        ("sts", "GetCallerIdentity") => Ok(()),
        // GetFederationToken and GetSessionToken refuse every session in their own words.
        ("sts", "GetFederationToken" | "GetSessionToken") => Ok(()),
        // UNCONFIRMED wording, after GetFederationToken's own.
        ("sts", other) => Err(AwsError::access_denied(format!(
            "Cannot call {other} with session credentials from GetFederationToken"
        ))),
        _ => Ok(()),
    }
}

/// What the request asks for, validated against the model.
struct Request<'a> {
    name: &'a str,
    duration: u32,
    policy: Option<&'a str>,
    policy_arns: Vec<&'a str>,
    tags: Vec<Tag<'a>>,
}

impl<'a> Request<'a> {
    fn read<S>(call: &Call<'a, S>) -> Result<Self, AwsError> {
        let p = call.input.root();
        let mut v = Violations::new();
        let name = p.optional_str("Name");
        match name {
            Some(name) => NAME.check(name, &mut v),
            None => v.null("name"),
        }
        let duration = p.optional_i32("DurationSeconds", MIN_DURATION..=MAX_DURATION)?;
        let policy = p.optional_str("Policy");
        if let Some(doc) = policy {
            input::SESSION_POLICY.check(doc, &mut v);
        }
        let policy_arns = input::policy_arns(p.clone(), &mut v)?;
        let tags = input::tags(p.clone(), &mut v)?;
        v.into_result()?;
        input::reject_reserved_tag_keys(&tags)?;
        let duration = duration.unwrap_or(DEFAULT_DURATION);
        Ok(Request {
            name: name.unwrap_or_default(),
            duration: u32::try_from(duration).unwrap_or(43200),
            policy,
            policy_arns,
            tags,
        })
    }

    fn tag_context(&self) -> Vec<(String, ContextValue)> {
        let mut context: Vec<(String, ContextValue)> = self
            .tags
            .iter()
            .map(|tag| {
                (
                    format!("aws:RequestTag/{}", tag.key),
                    ContextValue::Single(tag.value.to_owned()),
                )
            })
            .collect();
        if !self.tags.is_empty() {
            let keys = self.tags.iter().map(|t| t.key.to_owned()).collect();
            context.push(("aws:TagKeys".into(), ContextValue::Multi(keys)));
        }
        context
    }
}

pub async fn get_federation_token<S: Store>(call: &Call<'_, S>) -> Result<String, AwsError> {
    let request = Request::read(call)?;
    let user = match &call.caller.identity {
        Identity::User(user) => user,
        Identity::Session(_) => return Err(AwsError::access_denied(FROM_SESSION)),
        Identity::HostAgent(_) => {
            return Err(host_agent::denial(
                call.caller,
                super::SERVICE,
                call.operation,
                Protocol::AwsQuery,
            ));
        }
    };
    let account = &user.account_id;
    let federated_arn = format!("arn:aws:sts::{account}:federated-user/{}", request.name);
    let mut actions = vec!["sts:GetFederationToken"];
    if !request.tags.is_empty() {
        actions.push("sts:TagSession");
    }
    for action in actions {
        require(
            call,
            Ask {
                action,
                resource: &federated_arn,
                context: request.tag_context(),
                ..Ask::default()
            },
        )
        .await?;
    }

    let mut session_policies = Vec::with_capacity(request.policy_arns.len() + 1);
    if let Some(doc) = request.policy {
        Policy::parse(doc, PolicyKind::Session)
            .map_err(|e| AwsError::sender("MalformedPolicyDocument", 400, e.message))?;
        session_policies.push(doc.to_owned());
    }
    for arn in &request.policy_arns {
        session_policies.push(super::assume_role::managed_document(call.app, account, arn).await?);
    }

    let principal = SessionPrincipal::FederatedUser {
        user_arn: user.arn.clone(),
        user_id: user.id.clone(),
        name: request.name.to_owned(),
    };
    let mut claims = new_claims(account, principal, call.now, request.duration)?;
    claims.session_policies = session_policies;
    claims.tags = session_tags(user, &request.tags)?;

    let token = seal(call.app, &claims)?;
    let has_policies = !claims.session_policies.is_empty();
    let packed = check_packed_size(&token, has_policies)?;
    // Nothing packed, nothing reported: AWS answers 0 for a request without session policies
    // or tags (recorded AWS answer: LocalStack's test_sts.py, test_get_federation_token).
    let packed = if has_policies || !request.tags.is_empty() {
        packed
    } else {
        0
    };
    let federated_user_id = format!("{account}:{}", request.name);
    Ok(
        Envelope::STS.success("GetFederationToken", call.request_id, |x| {
            write_credentials(x, &claims, &token);
            x.node("FederatedUser", |x| {
                x.elem("FederatedUserId", &federated_user_id)
                    .elem("Arn", &federated_arn);
            });
            x.elem("PackedPolicySize", packed);
        }),
    )
}

/// The user's tags, each overridden by a session tag of the same key (STS API reference,
/// GetFederationToken: "the session tag overrides the user tag with the same key").
fn session_tags(user: &store::User, tags: &[Tag<'_>]) -> Result<Vec<(String, String)>, AwsError> {
    let mut session: Vec<(String, String)> = user
        .tags
        .iter()
        .map(|t| (t.key.clone(), t.value.clone()))
        .collect();
    for tag in tags {
        if tags
            .iter()
            .filter(|t| t.key.eq_ignore_ascii_case(tag.key))
            .count()
            > 1
        {
            // As AssumeRole answers it (recorded AWS responses).
            return Err(AwsError::invalid_parameter_value(
                "Duplicate tag keys found. Please note that Tag keys are case insensitive.",
            ));
        }
        match session
            .iter_mut()
            .find(|(k, _)| k.eq_ignore_ascii_case(tag.key))
        {
            Some(slot) => *slot = (tag.key.to_owned(), tag.value.to_owned()),
            None => session.push((tag.key.to_owned(), tag.value.to_owned())),
        }
    }
    Ok(session)
}
