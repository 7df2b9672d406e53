//! `userIdentity` as CloudTrail shapes it for each kind of caller, plus the lookup columns
//! (account, `Username`, the principal a session belongs to) taken from the same facts.
//!
//! Never reads a session's secret: only ids, ARNs, names and issue times leave the claims.

use super::dates::push_iso_seconds;
use super::json_text::Object;
use crate::credentials::{SessionClaims, SessionPrincipal};
use crate::request::{Caller, HostAgent, Identity};

/// Who made a call, as the record and its index columns need it.
#[derive(Debug, Clone, PartialEq)]
pub struct Identified {
    /// The record's `userIdentity`, JSON text.
    pub user_identity: String,
    pub account_id: String,
    /// LookupEvents' `Username`.
    pub username: Option<String>,
    /// The IAM identity whose activity this is (a session's role or user).
    pub principal_arn: Option<String>,
}

pub fn of_caller(caller: &Caller) -> Identified {
    let account = caller.account_id.as_str();
    let key = caller.access_key_id.as_str();
    match &caller.identity {
        Identity::User(user) => {
            let mut json = String::with_capacity(256);
            let mut identity = Object::open(&mut json);
            identity
                .str("type", "IAMUser")
                .str("principalId", &user.id)
                .str("arn", &user.arn)
                .str("accountId", account)
                .str("accessKeyId", key)
                .str("userName", &user.name);
            identity.end();
            Identified {
                user_identity: json,
                account_id: account.to_owned(),
                username: Some(user.name.clone()),
                principal_arn: Some(user.arn.clone()),
            }
        }
        Identity::Session(claims) => of_session(caller, claims),
        Identity::HostAgent(agent) => of_host_agent(caller, agent),
    }
}

/// A host's agent, signing with the host's agent credential (decision 0025). CloudTrail has no
/// such identity; the record names it for what it is: the host (its ID and ARN) and the key.
/// It is no IAM principal, so no policy generation follows its activity.
fn of_host_agent(caller: &Caller, agent: &HostAgent) -> Identified {
    let account = caller.account_id.as_str();
    let mut json = String::with_capacity(256);
    let mut identity = Object::open(&mut json);
    identity
        .str("type", "HostAgent")
        .str("principalId", &agent.host_id)
        .str("arn", caller.principal.arn())
        .str("accountId", account)
        .str("accessKeyId", &caller.access_key_id);
    identity.end();
    Identified {
        user_identity: json,
        account_id: account.to_owned(),
        username: Some(agent.host_id.clone()),
        principal_arn: None,
    }
}

fn of_session(caller: &Caller, claims: &SessionClaims) -> Identified {
    let account = caller.account_id.as_str();
    let key = caller.access_key_id.as_str();
    let mut json = String::with_capacity(512);
    let mut identity = Object::open(&mut json);
    let (username, principal_arn) = match &claims.principal {
        SessionPrincipal::AssumedRole {
            role_arn,
            role_id,
            session_name,
        } => {
            identity
                .str("type", "AssumedRole")
                .concat("principalId", &[role_id, ":", session_name])
                .str("arn", caller.principal.arn())
                .str("accountId", account)
                .str("accessKeyId", key);
            (session_name.clone(), role_arn.clone())
        }
        SessionPrincipal::UserSession { user_arn, user_id } => {
            let user_name = user_arn.rsplit('/').next().unwrap_or_default();
            identity
                .str("type", "IAMUser")
                .str("principalId", user_id)
                .str("arn", user_arn)
                .str("accountId", account)
                .str("accessKeyId", key)
                .str("userName", user_name);
            (user_name.to_owned(), user_arn.clone())
        }
        SessionPrincipal::RootSession => {
            let arn = format!("arn:aws:iam::{account}:root");
            identity
                .str("type", "Root")
                .str("principalId", account)
                .str("arn", &arn)
                .str("accountId", account)
                .str("accessKeyId", key);
            ("root".to_owned(), arn)
        }
        SessionPrincipal::FederatedUser { name, .. } => {
            identity
                .str("type", "FederatedUser")
                .concat("principalId", &[account, ":", name])
                .str("arn", caller.principal.arn())
                .str("accountId", account)
                .str("accessKeyId", key);
            (name.clone(), caller.principal.arn().to_owned())
        }
    };
    identity.object("sessionContext", |context| {
        if let SessionPrincipal::AssumedRole {
            role_arn, role_id, ..
        } = &claims.principal
        {
            let role_name = role_arn.rsplit('/').next().unwrap_or_default();
            context.object("sessionIssuer", |issuer| {
                issuer
                    .str("type", "Role")
                    .str("principalId", role_id)
                    .str("arn", role_arn)
                    .str("accountId", account)
                    .str("userName", role_name);
            });
        }
        // CloudTrail names the IAM user a federated session was issued to.
        if let SessionPrincipal::FederatedUser {
            user_arn, user_id, ..
        } = &claims.principal
        {
            let user_name = user_arn.rsplit('/').next().unwrap_or_default();
            context.object("sessionIssuer", |issuer| {
                issuer
                    .str("type", "IAMUser")
                    .str("principalId", user_id)
                    .str("arn", user_arn)
                    .str("accountId", account)
                    .str("userName", user_name);
            });
        }
        context.object("attributes", |attributes| {
            attributes
                .plain("creationDate", |out| {
                    push_iso_seconds(out, claims.issued_at)
                })
                .str("mfaAuthenticated", "false");
        });
        if let Some(source_identity) = &claims.source_identity {
            context.str("sourceIdentity", source_identity);
        }
        if let Some((_, delivery)) = claims.context.iter().find(|(k, _)| k == "ec2:RoleDelivery") {
            context.str("ec2RoleDelivery", delivery);
        }
    });
    identity.end();
    Identified {
        user_identity: json,
        account_id: account.to_owned(),
        username: Some(username),
        principal_arn: Some(principal_arn),
    }
}

/// A web identity (AssumeRoleWithWebIdentity), as CloudTrail's `WebIdentityUser`: the provider,
/// and once the token verified, its audience and subject. The token itself never appears.
pub fn web_identity(
    account_id: &str,
    provider_arn: &str,
    verified: Option<(&str, &str)>,
) -> Identified {
    let mut json = String::with_capacity(256);
    let mut identity = Object::open(&mut json);
    identity.str("type", "WebIdentityUser");
    if let Some((audience, subject)) = verified {
        identity
            .concat("principalId", &[provider_arn, ":", audience, ":", subject])
            .str("userName", subject);
    }
    identity.str("identityProvider", provider_arn);
    identity.end();
    Identified {
        user_identity: json,
        account_id: account_id.to_owned(),
        username: verified.map(|(_, subject)| subject.to_owned()),
        principal_arn: None,
    }
}

/// A caller that failed authentication: only the key it named is known.
// UNCONFIRMED: the exact userIdentity CloudTrail writes for a rejected key.
pub fn unknown(access_key_id: &str, home_account: &str) -> Identified {
    let mut json = String::with_capacity(64);
    let mut identity = Object::open(&mut json);
    identity
        .str("type", "Unknown")
        .str("accessKeyId", access_key_id);
    identity.end();
    Identified {
        user_identity: json,
        account_id: home_account.to_owned(),
        username: None,
        principal_arn: None,
    }
}

/// An unsigned S3 request, as S3 records it in the bucket owner's trail. The owner is the
/// record's account (`recipientAccountId`); the caller has none.
// S3 writes `ANONYMOUS_PRINCIPAL` as the account (awsdocs/amazon-s3-userguide#69, confirmed
// there by AWS); CloudTrail's own guide documents no anonymous identity.
pub fn anonymous(bucket_owner: &str) -> Identified {
    let mut json = String::with_capacity(80);
    let mut identity = Object::open(&mut json);
    identity
        .str("type", "AWSAccount")
        .str("principalId", "")
        .str("accountId", ANONYMOUS_PRINCIPAL);
    identity.end();
    Identified {
        user_identity: json,
        account_id: bucket_owner.to_owned(),
        username: None,
        principal_arn: None,
    }
}

/// `userIdentity.accountId` of an anonymous S3 request.
pub const ANONYMOUS_PRINCIPAL: &str = "ANONYMOUS_PRINCIPAL";

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::test_callers::{session_caller, user_caller};
    use serde_json::json;

    #[test]
    fn iam_user_identity() {
        let caller = user_caller();
        let id = of_caller(&caller);
        assert_eq!(
            id.user_identity,
            json!({"type": "IAMUser", "principalId": "AIDAEXAMPLEEXAMPLE001",
                   "arn": "arn:aws:iam::123456789012:user/alice", "accountId": "123456789012",
                   "accessKeyId": "AKIAEXAMPLEEXAMPLE01", "userName": "alice"})
            .to_string(),
            "the same fields in the same order"
        );
        assert_eq!(id.username.as_deref(), Some("alice"));
    }

    #[test]
    fn assumed_role_identity_has_session_context_and_no_secret() {
        let caller = session_caller();
        let id = of_caller(&caller);
        assert_eq!(
            id.user_identity,
            json!({"type": "AssumedRole", "principalId": "AROAEXAMPLEEXAMPLE001:i-0123456789abcdef0",
                   "arn": "arn:aws:sts::123456789012:assumed-role/app/i-0123456789abcdef0",
                   "accountId": "123456789012", "accessKeyId": "ASIAEXAMPLEEXAMPLE01",
                   "sessionContext": {
                       "sessionIssuer": {"type": "Role", "principalId": "AROAEXAMPLEEXAMPLE001",
                           "arn": "arn:aws:iam::123456789012:role/app", "accountId": "123456789012",
                           "userName": "app"},
                       "attributes": {"creationDate": "2023-11-14T22:13:20Z", "mfaAuthenticated": "false"},
                       "ec2RoleDelivery": "2.0"}})
            .to_string()
        );
        assert_eq!(id.username.as_deref(), Some("i-0123456789abcdef0"));
        assert_eq!(
            id.principal_arn.as_deref(),
            Some("arn:aws:iam::123456789012:role/app")
        );
        assert!(
            !id.user_identity
                .contains(crate::audit::test_callers::SESSION_SECRET)
        );
    }

    #[test]
    fn host_agent_identity_names_the_host_and_no_iam_principal() {
        let caller = crate::audit::test_callers::host_agent_caller();
        let id = of_caller(&caller);
        assert_eq!(
            id.user_identity,
            json!({"type": "HostAgent", "principalId": "h-0123456789abcdef0",
                   "arn": "arn:aws:ec2:us-east-1:123456789012:dedicated-host/h-0123456789abcdef0",
                   "accountId": "123456789012", "accessKeyId": "AKIAHOSTAGENT0000001"})
            .to_string()
        );
        assert_eq!(id.username.as_deref(), Some("h-0123456789abcdef0"));
        assert_eq!(id.principal_arn, None);
    }

    #[test]
    fn federated_user_identity_names_the_issuing_user() {
        let mut caller = session_caller();
        let Identity::Session(claims) = &mut caller.identity else {
            unreachable!()
        };
        claims.principal = SessionPrincipal::FederatedUser {
            user_arn: "arn:aws:iam::123456789012:user/ops/alice".into(),
            user_id: "AIDAEXAMPLEEXAMPLE001".into(),
            name: "app".into(),
        };
        claims.context.clear();
        caller.principal = policy::Principal::new(policy::PrincipalKind::FederatedUser {
            account: "123456789012".into(),
            name: "app".into(),
        });
        let id = of_caller(&caller);
        assert_eq!(
            id.user_identity,
            json!({"type": "FederatedUser", "principalId": "123456789012:app",
                   "arn": "arn:aws:sts::123456789012:federated-user/app",
                   "accountId": "123456789012", "accessKeyId": "ASIAEXAMPLEEXAMPLE01",
                   "sessionContext": {
                       "sessionIssuer": {"type": "IAMUser", "principalId": "AIDAEXAMPLEEXAMPLE001",
                           "arn": "arn:aws:iam::123456789012:user/ops/alice", "accountId": "123456789012",
                           "userName": "alice"},
                       "attributes": {"creationDate": "2023-11-14T22:13:20Z", "mfaAuthenticated": "false"}}})
            .to_string()
        );
        assert_eq!(id.username.as_deref(), Some("app"));
        assert!(
            !id.user_identity
                .contains(crate::audit::test_callers::SESSION_SECRET)
        );
    }
}
