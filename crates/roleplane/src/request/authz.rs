//! Authorization: may the caller do this? Builds the request context and the caller's policies,
//! asks the policy engine, and words a denial as AWS does.
//!
//! Policies are as of request time, so a change to a role's permissions applies at once to every
//! live session of that role (as the issue requires, and as AWS does after its propagation
//! delay): they are parsed once per principal and kept only while the store has not changed
//! (`policy_cache.rs`).

use std::net::SocketAddr;
use std::sync::Arc;

use policy::{
    Context, ContextValue, Decision, Outcome, Policy, PolicyKind, PolicySet, PolicySource,
    Principal, PrincipalKind, Request, Version, evaluate,
};
use protocol::AwsError;
use store::{IdentityPolicies, Store, StoreError};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::auth::Identity;
use super::policy_cache::IdentityPolicySet;
use super::{App, Call};
use crate::aws_policies;
use crate::credentials::SessionPrincipal;

/// One authorization question beyond the plain (action, resource) pair.
#[derive(Default)]
pub struct Ask<'a> {
    pub action: &'a str,
    pub resource: &'a str,
    /// The account owning the resource; the caller's own when `None`.
    pub resource_account: Option<&'a str>,
    /// The resource's own policy (a role's trust policy for sts:AssumeRole).
    pub resource_policy: Option<Policy>,
    /// Condition keys the operation sets (`aws:RequestTag/…`, `iam:PassedToService`, …).
    pub context: Vec<(String, ContextValue)>,
}

/// Condition keys set by one request.
pub type Conditions = Vec<(String, ContextValue)>;

/// A single-valued condition key.
pub fn single(key: &str, value: &str) -> (String, ContextValue) {
    (key.to_owned(), ContextValue::Single(value.to_owned()))
}

/// `aws:RequestTag/KEY` for each tag and `aws:TagKeys` for all of them.
pub fn request_tags(tags: &[store::Tag]) -> Conditions {
    let mut context: Conditions = tags
        .iter()
        .map(|t| {
            (
                format!("aws:RequestTag/{}", t.key),
                ContextValue::Single(t.value.clone()),
            )
        })
        .collect();
    if !tags.is_empty() {
        context.push(tag_keys(tags.iter().map(|t| t.key.clone()).collect()));
    }
    context
}

/// `aws:TagKeys`, the keys a request adds or removes.
pub fn tag_keys(keys: Vec<String>) -> (String, ContextValue) {
    ("aws:TagKeys".to_owned(), ContextValue::Multi(keys))
}

/// Allows the call, or answers AccessDenied with AWS's message.
pub async fn authorize<S: Store, I: Sync>(
    call: &Call<'_, S, I>,
    action: &str,
    resource: &str,
) -> Result<(), AwsError> {
    require(
        call,
        Ask {
            action,
            resource,
            ..Ask::default()
        },
    )
    .await
}

pub async fn require<S: Store, I: Sync>(
    call: &Call<'_, S, I>,
    ask: Ask<'_>,
) -> Result<(), AwsError> {
    let action = ask.action.to_owned();
    let resource = ask.resource.to_owned();
    let cross_account = ask
        .resource_account
        .is_some_and(|owner| owner != call.caller.account_id);
    let decision = decide(call, ask).await?;
    if decision.is_allowed() {
        Ok(())
    } else {
        Err(AwsError::access_denied(denial_message(
            call.caller.principal.arn(),
            &action,
            &resource,
            &decision,
            cross_account,
        )))
    }
}

/// The engine's decision for `ask` by the caller of `call`.
pub async fn decide<S: Store, I: Sync>(
    call: &Call<'_, S, I>,
    ask: Ask<'_>,
) -> Result<Decision, AwsError> {
    let caller = call.caller;
    let mut context = Context::new();
    for (key, value) in ask.context {
        context.insert(&key, value);
    }
    request_context(call, &mut context);

    let mut policies = PolicySet {
        resource: ask.resource_policy,
        ..PolicySet::default()
    };
    match &caller.identity {
        Identity::User(user) => {
            load_identity(call, &user.id, &mut policies).await?;
        }
        Identity::Session(claims) => {
            match &claims.principal {
                SessionPrincipal::AssumedRole { role_id, .. } => {
                    load_identity(call, role_id, &mut policies).await?;
                }
                SessionPrincipal::UserSession { user_id, .. } => {
                    load_identity(call, user_id, &mut policies).await?;
                }
                SessionPrincipal::RootSession => {}
                SessionPrincipal::FederatedUser { user_id, .. } => {
                    load_identity(call, user_id, &mut policies).await?;
                }
            }
            policies.session = merge_session_policies(&claims.session_policies);
            if matches!(claims.principal, SessionPrincipal::FederatedUser { .. }) {
                // A federated user without session policies has no permissions of its own
                // (IAM UG, "Permissions for GetFederationToken"): its session policy is then
                // one that allows nothing, so only a resource policy naming it can let it in.
                policies.session.get_or_insert_with(allow_nothing);
            }
        }
        // A host agent is no IAM identity: denied without a look at any policy, so none can
        // let it in (the engine would deny it too: `PrincipalKind::HostAgent`).
        Identity::HostAgent(_) => {
            return Ok(Decision {
                outcome: Outcome::ImplicitDeny,
                matched: Vec::new(),
            });
        }
    }
    let request = Request {
        principal: caller.principal.clone(),
        action: ask.action.to_owned(),
        resource: ask.resource.to_owned(),
        resource_account: ask
            .resource_account
            .unwrap_or(&caller.account_id)
            .to_owned(),
        context,
    };
    let decision = evaluate(&request, &policies);
    let metrics = &call.app.metrics().authorization;
    metrics.observe(&request.action, decision.outcome);
    Ok(decision)
}

async fn load_identity<S: Store, I: Sync>(
    call: &Call<'_, S, I>,
    principal_id: &str,
    policies: &mut PolicySet,
) -> Result<(), AwsError> {
    // Read before the policies, so a write racing this read leaves the entry outdated.
    let generation = call.app.store().changes().iam;
    let cache = call.app.policy_cache();
    let loaded = match cache.get(principal_id, generation) {
        Some(loaded) => loaded,
        None => {
            let loaded = Arc::new(read_identity(call, principal_id).await?);
            cache.insert(principal_id, generation, loaded.clone());
            loaded
        }
    };
    policies.identity = loaded.identity.clone();
    policies.permissions_boundary = loaded.boundary.clone();
    Ok(())
}

/// A principal's identity policies from the store, parsed.
async fn read_identity<S: Store, I: Sync>(
    call: &Call<'_, S, I>,
    principal_id: &str,
) -> Result<IdentityPolicySet, AwsError> {
    let mut stored: IdentityPolicies = match call.app.store().identity_policies(principal_id).await
    {
        Ok(stored) => stored,
        // A session outliving its role or user (deleted, perhaps recreated under the same name
        // with a new ID) has no permissions left: every call it makes is denied as AWS denies
        // it, and the empty set is cached like any other, so it costs no store read either.
        Err(StoreError::NotFound { .. }) => IdentityPolicies::default(),
        Err(e) => {
            tracing::error!(error = %e, "loading identity policies");
            return Err(AwsError::internal(protocol::Protocol::AwsQuery));
        }
    };
    // AWS managed policies come parsed from their catalogue: the store keeps their ARNs only.
    let aws = stored
        .managed
        .iter()
        .filter_map(|m| aws_policies::get(&m.arn)?.default_policy().cloned())
        .collect::<Vec<_>>();
    aws_policies::resolve(&mut stored);
    // Inline and managed documents follow different Version rules, so each parses as its kind.
    // A user's groups' inline policies are inline identity policies like its own.
    let documents = stored
        .inline
        .iter()
        .chain(&stored.group_inline)
        .map(|p| (p.document.as_str(), PolicyKind::InlineIdentity))
        .chain(
            stored
                .managed
                .iter()
                .filter(|m| !aws_policies::in_namespace(&m.arn))
                .filter_map(|m| Some((m.document.as_deref()?, PolicyKind::Identity))),
        );
    // Stored documents were validated when written; one that no longer parses grants nothing.
    let identity = documents
        .filter_map(|(doc, kind)| Policy::parse(doc, kind).ok())
        .chain(aws)
        .collect();
    // An unresolvable or unparsable boundary denies everything rather than vanishing.
    let boundary = stored.permissions_boundary.map(|boundary| {
        boundary
            .document
            .and_then(|doc| Policy::parse(&doc, PolicyKind::PermissionsBoundary).ok())
            .unwrap_or_else(allow_nothing)
    });
    Ok(IdentityPolicySet { identity, boundary })
}

/// A session's inline policy and its `PolicyArns` documents form one layer: a statement in any
/// of them can allow.
fn merge_session_policies(documents: &[String]) -> Option<Policy> {
    if documents.is_empty() {
        return None;
    }
    let mut merged = allow_nothing();
    for doc in documents {
        if let Ok(policy) = Policy::parse(doc, PolicyKind::Session) {
            merged.version = policy.version;
            merged.statements.extend(policy.statements);
        }
    }
    Some(merged)
}

fn allow_nothing() -> Policy {
    Policy {
        version: Some(Version::V2012_10_17),
        id: None,
        statements: Vec::new(),
    }
}

/// The decision for an unsigned request (S3's anonymous callers): only a resource policy
/// that lets everyone in can allow it.
pub fn decide_anonymous<S>(app: &App<S>, peer: SocketAddr, now: u64, ask: Ask<'_>) -> Decision {
    let mut context = Context::new();
    for (key, value) in ask.context {
        context.insert(&key, value);
    }
    global_context(app, peer, now, &mut context);
    let policies = PolicySet {
        resource: ask.resource_policy,
        ..PolicySet::default()
    };
    let request = Request {
        principal: Principal::new(PrincipalKind::Anonymous),
        action: ask.action.to_owned(),
        resource: ask.resource.to_owned(),
        resource_account: ask.resource_account.unwrap_or_default().to_owned(),
        context,
    };
    let decision = evaluate(&request, &policies);
    let metrics = &app.metrics().authorization;
    metrics.observe(&request.action, decision.outcome);
    decision
}

/// The condition keys AWS sets on every request, whoever sent it.
pub(crate) fn global_context<S>(app: &App<S>, peer: SocketAddr, now: u64, context: &mut Context) {
    let now = i64::try_from(now).unwrap_or(i64::MAX);
    context.insert_default("aws:CurrentTime", iso8601(now));
    context.insert_default("aws:EpochTime", now.to_string());
    context.insert_default("aws:SourceIp", peer.ip().to_string());
    context.insert_default("aws:SecureTransport", "false");
    context.insert_default("aws:RequestedRegion", app.region());
    context.insert_default("aws:ViaAWSService", "false");
}

/// The global condition keys AWS sets on every request, and those the caller implies.
fn request_context<S, I>(call: &Call<'_, S, I>, context: &mut Context) {
    global_context(call.app, call.peer, call.now, context);
    match &call.caller.identity {
        Identity::User(user) => {
            for tag in &user.tags {
                context.insert_default(&format!("aws:PrincipalTag/{}", tag.key), tag.value.clone());
            }
        }
        Identity::Session(claims) => {
            context.insert_default("aws:TokenIssueTime", iso8601(claims.issued_at));
            context.insert_default("aws:MultiFactorAuthPresent", "false");
            for (key, value) in &claims.tags {
                context.insert_default(&format!("aws:PrincipalTag/{key}"), value.clone());
            }
            if let Some(source_identity) = &claims.source_identity {
                context.insert_default("aws:SourceIdentity", source_identity.clone());
            }
            for (key, value) in &claims.context {
                context.insert_default(key, value.clone());
            }
        }
        Identity::HostAgent(_) => {}
    }
}

fn iso8601(epoch_secs: i64) -> String {
    OffsetDateTime::from_unix_timestamp(epoch_secs)
        .ok()
        .and_then(|t| t.format(&Rfc3339).ok())
        .unwrap_or_default()
}

/// `User: ARN is not authorized to perform: ACTION on resource: ARN because …`, as IAM and STS
/// word it (aws-apis.md §3). A resource of another account that nothing let in is refused for
/// want of a resource-based policy, whatever the caller's own policies say.
pub fn denial_message(
    caller_arn: &str,
    action: &str,
    resource: &str,
    decision: &Decision,
    cross_account: bool,
) -> String {
    let reason = match decision.outcome {
        Outcome::ExplicitDeny => {
            let kind = decision
                .matched
                .first()
                .map(|m| match m.source {
                    PolicySource::Identity(_) => "an identity-based",
                    PolicySource::Resource => "a resource-based",
                    PolicySource::PermissionsBoundary => "a permissions boundary",
                    PolicySource::Session => "a session",
                    PolicySource::ServiceControl { .. } => "a service control",
                })
                .unwrap_or("an identity-based");
            format!("with an explicit deny in {kind} policy")
        }
        _ if cross_account => {
            format!("because no resource-based policy allows the {action} action")
        }
        _ => format!("because no identity-based policy allows the {action} action"),
    };
    format!(
        "User: {caller_arn} is not authorized to perform: {action} on resource: {resource} {reason}"
    )
}
