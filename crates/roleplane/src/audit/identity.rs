//! `userIdentity` as CloudTrail shapes it for each kind of caller, plus the lookup columns
//! (account, `Username`, the principal a session belongs to) taken from the same facts.
//!
//! Never reads a session's secret: only ids, ARNs, names and issue times leave the claims.

use serde_json::{Map, Value, json};

use super::dates::iso_epoch;
use crate::credentials::{SessionClaims, SessionPrincipal};
use crate::server::{Caller, Identity};

/// Who made a call, as the record and its index columns need it.
#[derive(Debug, Clone, PartialEq)]
pub struct Identified {
    pub user_identity: Value,
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
        Identity::User(user) => Identified {
            user_identity: json!({
                "type": "IAMUser",
                "principalId": user.id,
                "arn": user.arn,
                "accountId": account,
                "accessKeyId": key,
                "userName": user.name,
            }),
            account_id: account.to_owned(),
            username: Some(user.name.clone()),
            principal_arn: Some(user.arn.clone()),
        },
        Identity::Session(claims) => of_session(caller, claims),
    }
}

fn of_session(caller: &Caller, claims: &SessionClaims) -> Identified {
    let account = caller.account_id.as_str();
    let key = caller.access_key_id.as_str();
    let mut context = Map::new();
    let attributes = json!({
        "creationDate": iso_epoch(claims.issued_at),
        "mfaAuthenticated": "false",
    });
    let (identity, username, principal_arn) = match &claims.principal {
        SessionPrincipal::AssumedRole {
            role_arn,
            role_id,
            session_name,
        } => {
            let role_name = role_arn.rsplit('/').next().unwrap_or_default();
            context.insert(
                "sessionIssuer".into(),
                json!({
                    "type": "Role",
                    "principalId": role_id,
                    "arn": role_arn,
                    "accountId": account,
                    "userName": role_name,
                }),
            );
            let identity = json!({
                "type": "AssumedRole",
                "principalId": format!("{role_id}:{session_name}"),
                "arn": caller.principal.arn(),
                "accountId": account,
                "accessKeyId": key,
            });
            (identity, session_name.clone(), role_arn.clone())
        }
        SessionPrincipal::UserSession { user_arn, user_id } => {
            let user_name = user_arn.rsplit('/').next().unwrap_or_default();
            let identity = json!({
                "type": "IAMUser",
                "principalId": user_id,
                "arn": user_arn,
                "accountId": account,
                "accessKeyId": key,
                "userName": user_name,
            });
            (identity, user_name.to_owned(), user_arn.clone())
        }
        SessionPrincipal::RootSession => {
            let arn = format!("arn:aws:iam::{account}:root");
            let identity = json!({
                "type": "Root",
                "principalId": account,
                "arn": arn,
                "accountId": account,
                "accessKeyId": key,
            });
            (identity, "root".to_owned(), arn)
        }
    };
    context.insert("attributes".into(), attributes);
    if let Some(source_identity) = &claims.source_identity {
        context.insert("sourceIdentity".into(), source_identity.as_str().into());
    }
    if let Some((_, delivery)) = claims.context.iter().find(|(k, _)| k == "ec2:RoleDelivery") {
        context.insert("ec2RoleDelivery".into(), delivery.as_str().into());
    }
    let mut identity = identity;
    if let Value::Object(fields) = &mut identity {
        fields.insert("sessionContext".into(), Value::Object(context));
    }
    Identified {
        user_identity: identity,
        account_id: account.to_owned(),
        username: Some(username),
        principal_arn: Some(principal_arn),
    }
}

/// A caller that failed authentication: only the key it named is known.
// UNCONFIRMED: the exact userIdentity CloudTrail writes for a rejected key.
pub fn unknown(access_key_id: &str, home_account: &str) -> Identified {
    Identified {
        user_identity: json!({"type": "Unknown", "accessKeyId": access_key_id}),
        account_id: home_account.to_owned(),
        username: None,
        principal_arn: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::test_callers::{session_caller, user_caller};

    #[test]
    fn iam_user_identity() {
        let caller = user_caller();
        let id = of_caller(&caller);
        assert_eq!(
            id.user_identity,
            json!({"type": "IAMUser", "principalId": "AIDAEXAMPLEEXAMPLE001",
                   "arn": "arn:aws:iam::123456789012:user/alice", "accountId": "123456789012",
                   "accessKeyId": "AKIAEXAMPLEEXAMPLE01", "userName": "alice"})
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
        );
        assert_eq!(id.username.as_deref(), Some("i-0123456789abcdef0"));
        assert_eq!(
            id.principal_arn.as_deref(),
            Some("arn:aws:iam::123456789012:role/app")
        );
        assert!(
            !id.user_identity
                .to_string()
                .contains(crate::audit::test_callers::SESSION_SECRET)
        );
    }
}
