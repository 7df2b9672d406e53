//! Roles and users named by ARN in a trust policy are pinned to their unique IDs.
//!
//! IAM resolves such a principal to its `AROA…`/`AIDA…` ID when the policy is written. A
//! principal deleted and recreated under the same name is a different principal: the old trust
//! does not pass to it, and once the original is gone IAM shows its ID where the ARN was (IAM
//! User Guide, "Specifying a principal": "If you delete the role and recreate it … the role
//! has a different principal ID"). roleplane keeps the pins beside the document
//! ([`PrincipalBinding`]) and applies them where trust is evaluated and where it is shown.

use policy::{Arn, Policy, Principal, PrincipalKind, PrincipalSet, PrincipalType};
use protocol::AwsError;
use serde_json::Value;
use store::{PrincipalBinding, Store, StoreError};

use super::store_error;
use crate::request::Call;

/// The role or user ARNs the trust policy names, each resolved to its unique ID. A name with no
/// principal behind it is refused as AWS refuses it.
pub async fn bind<S: Store>(
    call: &Call<'_, S>,
    trust: &Policy,
) -> Result<Vec<PrincipalBinding>, AwsError> {
    let mut bindings: Vec<PrincipalBinding> = Vec::new();
    for entry in aws_entries(trust) {
        if bindings.iter().any(|b| b.arn == entry) {
            continue;
        }
        // A group is no principal ("You cannot identify a user group as a principal in a
        // policy", IAM User Guide): refused as a principal that does not exist.
        if names_group(entry) {
            return Err(invalid_principal(entry));
        }
        let Some((account, kind, name)) = iam_principal(entry) else {
            continue;
        };
        let store = call.app.store();
        let found = match kind {
            Kind::Role => store
                .role_by_name(account, name)
                .await
                .map(|r| (r.arn, r.id)),
            Kind::User => store.user(account, name).await.map(|u| (u.arn, u.id)),
        };
        match found {
            Ok((arn, id)) if arn == entry => bindings.push(PrincipalBinding { arn, id }),
            Ok(_) | Err(StoreError::NotFound { .. }) => return Err(invalid_principal(entry)),
            Err(e) => return Err(store_error(e)),
        }
    }
    Ok(bindings)
}

/// `MalformedPolicyDocument`, as IAM words a principal that does not exist.
fn invalid_principal(entry: &str) -> AwsError {
    AwsError::sender(
        "MalformedPolicyDocument",
        400,
        format!("Invalid principal in policy: \"AWS\":\"{entry}\""),
    )
}

/// Replaces, in a parsed trust policy, every entry naming the caller's role or user by an ARN
/// pinned to another principal (one deleted since) with that principal's ID, which names no
/// caller. Entries naming other principals cannot match this caller either way.
pub fn unpin_stale(trust: &mut Policy, bindings: &[PrincipalBinding], caller: &Principal) {
    let Some((account, kind, name, id)) = caller_identity(caller) else {
        return;
    };
    let stale: Vec<&PrincipalBinding> = bindings
        .iter()
        .filter(|b| {
            b.id != id
                && iam_principal(&b.arn)
                    .is_some_and(|(a, k, n)| a == account && k == kind && n == name)
        })
        .collect();
    if stale.is_empty() {
        return;
    }
    for statement in &mut trust.statements {
        let Some(element) = statement.principal.as_mut() else {
            continue;
        };
        let PrincipalSet::Map(entries) = &mut element.set else {
            continue;
        };
        for (kind, values) in entries.iter_mut() {
            if *kind != PrincipalType::Aws {
                continue;
            }
            for value in values.iter_mut() {
                if let Some(binding) = stale.iter().find(|b| b.arn == *value) {
                    value.clone_from(&binding.id);
                }
            }
        }
    }
}

/// The trust policy as GetRole shows it: an ARN whose pinned principal no longer exists is
/// replaced by that principal's ID. Unchanged text when every pinned principal still exists.
pub async fn shown<S: Store>(
    store: &S,
    document: &str,
    bindings: &[PrincipalBinding],
) -> Result<String, AwsError> {
    let mut gone = Vec::new();
    for binding in bindings {
        match store.identity_policies(&binding.id).await {
            Ok(_) => {}
            Err(StoreError::NotFound { .. }) => gone.push(binding),
            Err(e) => return Err(store_error(e)),
        }
    }
    if gone.is_empty() {
        return Ok(document.to_owned());
    }
    let Ok(mut value) = serde_json::from_str::<Value>(document) else {
        return Ok(document.to_owned());
    };
    let replace = |entry: &mut Value| {
        if let Value::String(text) = entry
            && let Some(binding) = gone.iter().find(|b| b.arn == *text)
        {
            text.clone_from(&binding.id);
        }
    };
    for statement in statements(&mut value) {
        for element in ["Principal", "NotPrincipal"] {
            match statement.get_mut(element).and_then(|p| p.get_mut("AWS")) {
                Some(Value::Array(entries)) => entries.iter_mut().for_each(replace),
                Some(entry) => replace(entry),
                None => {}
            }
        }
    }
    Ok(serde_json::to_string(&value).unwrap_or_else(|_| document.to_owned()))
}

fn statements(document: &mut Value) -> Vec<&mut Value> {
    match document.get_mut("Statement") {
        Some(Value::Array(list)) => list.iter_mut().collect(),
        Some(single @ Value::Object(_)) => vec![single],
        _ => Vec::new(),
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Role,
    User,
}

/// Every `AWS` entry of `Principal` and `NotPrincipal` elements.
fn aws_entries(policy: &Policy) -> impl Iterator<Item = &str> {
    policy
        .statements
        .iter()
        .filter_map(|s| s.principal.as_ref())
        .filter_map(|p| match &p.set {
            PrincipalSet::Map(entries) => Some(entries),
            PrincipalSet::Any => None,
        })
        .flatten()
        .filter(|(kind, _)| *kind == PrincipalType::Aws)
        .flat_map(|(_, values)| values.iter().map(String::as_str))
}

/// (account, kind, name) of an IAM role or user ARN.
fn names_group(entry: &str) -> bool {
    Arn::parse(entry)
        .is_some_and(|arn| arn.service == "iam" && arn.path_and_name("group").is_some())
}

fn iam_principal(entry: &str) -> Option<(&str, Kind, &str)> {
    let arn = Arn::parse(entry)?;
    if arn.service != "iam" || !arn.region.is_empty() {
        return None;
    }
    let (kind, (_, name)) = match arn.path_and_name("role") {
        Some(role) => (Kind::Role, role),
        None => (Kind::User, arn.path_and_name("user")?),
    };
    (!name.is_empty()).then_some((arn.account, kind, name))
}

/// (account, kind, name, unique ID) of a caller that is a role session or an IAM user.
fn caller_identity(caller: &Principal) -> Option<(&str, Kind, &str, &str)> {
    match caller.kind() {
        PrincipalKind::AssumedRole {
            account,
            role_name,
            role_id: Some(id),
            ..
        } => Some((account, Kind::Role, role_name, id)),
        PrincipalKind::IamUser {
            account,
            name,
            user_id: Some(id),
            ..
        } => Some((account, Kind::User, name, id)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use policy::PolicyKind;

    const TRUST: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":["arn:aws:iam::111122223333:role/app/R","arn:aws:iam::111122223333:user/u"]},"Action":"sts:AssumeRole"}]}"#;

    fn session(role_id: &str) -> Principal {
        Principal::new(PrincipalKind::AssumedRole {
            account: "111122223333".into(),
            role_path: "/app/".into(),
            role_name: "R".into(),
            session_name: "s".into(),
            role_id: Some(role_id.into()),
        })
    }

    fn pinned() -> Vec<PrincipalBinding> {
        vec![PrincipalBinding {
            arn: "arn:aws:iam::111122223333:role/app/R".into(),
            id: "AROAOLD".into(),
        }]
    }

    fn aws(policy: &Policy) -> Vec<String> {
        aws_entries(policy).map(str::to_owned).collect()
    }

    #[test]
    fn a_recreated_role_loses_the_old_roles_trust() {
        let mut trust = Policy::parse(TRUST, PolicyKind::Trust).unwrap();
        unpin_stale(&mut trust, &pinned(), &session("AROANEW"));
        assert_eq!(aws(&trust), ["AROAOLD", "arn:aws:iam::111122223333:user/u"]);
    }

    #[test]
    fn the_pinned_role_keeps_its_trust() {
        let original = Policy::parse(TRUST, PolicyKind::Trust).unwrap();
        let mut trust = original.clone();
        unpin_stale(&mut trust, &pinned(), &session("AROAOLD"));
        assert_eq!(trust, original);
    }

    #[test]
    fn role_and_user_arns_are_told_apart() {
        assert_eq!(
            iam_principal("arn:aws:iam::111122223333:role/a/b/R"),
            Some(("111122223333", Kind::Role, "R"))
        );
        assert_eq!(
            iam_principal("arn:aws:iam::111122223333:user/u"),
            Some(("111122223333", Kind::User, "u"))
        );
        for other in [
            "arn:aws:iam::111122223333:root",
            "111122223333",
            "*",
            "arn:aws:sts::111122223333:assumed-role/R/s",
            "arn:aws:iam::111122223333:role/",
        ] {
            assert_eq!(iam_principal(other), None, "{other}");
        }
    }
}
