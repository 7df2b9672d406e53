//! Authorization of EC2 operations. A denial is `UnauthorizedOperation` (403) whose message ends
//! in an encoded authorization failure message: the decision as JSON (aws-apis.md §3), sealed so
//! that only STS DecodeAuthorizationMessage, in the caller's account, can read it.

use policy::{ContextValue, Decision, Outcome};
use serde_json::{Value, json};
use store::{Instance, Store, Tag};

use super::error::Ec2Error;
use crate::credentials::SessionPrincipal;
use crate::request::Call;
use crate::request::Identity;
use crate::request::authz::{Ask, decide, denial_message};
pub use crate::request::authz::{Conditions, request_tags, single};
use crate::sts::encode_authorization_message;

/// Allows `action` on `resource`, adding `ec2:Region` to the operation's condition keys.
pub async fn authorize<S: Store>(
    call: &Call<'_, S>,
    action: &str,
    resource: &str,
    mut context: Conditions,
) -> Result<(), Ec2Error> {
    context.push(single("ec2:Region", call.app.region()));
    let ask = Ask {
        action,
        resource,
        context: context.clone(),
        ..Ask::default()
    };
    let decision = decide(call, ask).await.map_err(|_| Ec2Error::Internal)?;
    if decision.is_allowed() {
        return Ok(());
    }
    let decoded = decoded_message(call, action, resource, &decision, &context);
    let blob =
        encode_authorization_message(call.app, &call.caller.account_id, &decoded.to_string())
            .map_err(|_| Ec2Error::Internal)?;
    let reason = denial_message(
        call.caller.principal.arn(),
        action,
        resource,
        &decision,
        false,
    );
    Err(Ec2Error::Unauthorized(format!(
        "You are not authorized to perform this operation. {reason}. Encoded authorization failure message: {blob}"
    )))
}

/// `iam:PassRole` on the role a profile carries to `instance_arn` (`…:instance/*` at launch).
pub async fn pass_role<S: Store>(
    call: &Call<'_, S>,
    role_arn: &str,
    instance_arn: &str,
) -> Result<(), Ec2Error> {
    let context = vec![
        single("iam:PassedToService", "ec2.amazonaws.com"),
        single("iam:AssociatedResourceArn", instance_arn),
    ];
    authorize(call, "iam:PassRole", role_arn, context).await
}

/// `arn:aws:ec2:REGION:ACCOUNT:instance/ID` (`*` for instances not yet launched).
pub fn instance_arn<S>(call: &Call<'_, S>, instance_id: &str) -> String {
    format!(
        "arn:aws:ec2:{}:{}:instance/{instance_id}",
        call.app.region(),
        call.caller.account_id
    )
}

/// `ec2:ResourceTag/KEY` for each of the instance's tags (and `aws:ResourceTag/KEY`).
pub fn resource_tags(instance: &Instance) -> Conditions {
    tag_conditions(&instance.tags)
}

/// `ec2:ResourceTag/KEY` and `aws:ResourceTag/KEY` for each of a resource's tags.
pub fn tag_conditions(tags: &[Tag]) -> Conditions {
    tags.iter()
        .flat_map(|t| {
            ["ec2", "aws"].map(|prefix| {
                (
                    format!("{prefix}:ResourceTag/{}", t.key),
                    ContextValue::Single(t.value.clone()),
                )
            })
        })
        .collect()
}

/// The decision in the shape DecodeAuthorizationMessage returns (aws-apis.md §3).
fn decoded_message<S>(
    call: &Call<'_, S>,
    action: &str,
    resource: &str,
    decision: &Decision,
    context: &Conditions,
) -> Value {
    let matched: Vec<Value> = decision
        .matched
        .iter()
        .map(|m| {
            json!({
                "statementId": m.sid.clone().unwrap_or_default(),
                "effect": m.effect.as_str().to_uppercase(),
                "source": m.source.to_string(),
            })
        })
        .collect();
    let mut conditions = vec![condition("aws:Region", &[call.app.region().to_owned()])];
    conditions.extend(context.iter().map(|(k, v)| condition(k, v.values())));
    let (id, name) = principal_id_and_name(call);
    json!({
        "allowed": false,
        "explicitDeny": decision.outcome == Outcome::ExplicitDeny,
        "matchedStatements": { "items": matched },
        "failures": { "items": [] },
        "context": {
            "principal": { "id": id, "name": name, "arn": call.caller.principal.arn() },
            "action": action,
            "resource": resource,
            "conditions": { "items": conditions },
        },
    })
}

fn condition(key: &str, values: &[String]) -> Value {
    let values: Vec<Value> = values.iter().map(|v| json!({ "value": v })).collect();
    json!({ "key": key, "values": { "items": values } })
}

fn principal_id_and_name<S>(call: &Call<'_, S>) -> (String, String) {
    match &call.caller.identity {
        Identity::User(user) => (user.id.clone(), user.name.clone()),
        Identity::Session(claims) => match &claims.principal {
            SessionPrincipal::AssumedRole {
                role_id,
                session_name,
                ..
            } => (format!("{role_id}:{session_name}"), session_name.clone()),
            SessionPrincipal::UserSession { user_id, user_arn } => (
                user_id.clone(),
                user_arn.rsplit('/').next().unwrap_or_default().to_owned(),
            ),
            SessionPrincipal::RootSession => (call.caller.account_id.clone(), "root".to_owned()),
            SessionPrincipal::FederatedUser { name, .. } => {
                (format!("{}:{name}", call.caller.account_id), name.clone())
            }
        },
        Identity::HostAgent(agent) => (agent.host_id.clone(), agent.host_id.clone()),
    }
}
