//! AssumeRole: temporary credentials for a role, if its trust policy (the role's resource
//! policy) and, where AWS requires it, the caller's own policies allow.
//!
//! Order of checks: model constraints → role lookup (an unknown role is `AccessDenied`, as on
//! AWS, so callers cannot probe for role names) → `sts:AssumeRole`, then `sts:TagSession` and
//! `sts:SetSourceIdentity` when the request needs them → session duration → session policies →
//! sealing and the packed-size limit.

use policy::{
    Arn, ContextValue, Decision, Effect, Outcome, Policy, PolicyKind, PrincipalMatch, Statement,
};
use protocol::{AwsError, Envelope, Protocol, Violations};
use store::{Role, Store, StoreError};

use super::credentials::{check_packed_size, new_claims, seal, write_credentials};
use super::input::{self, Tag};
use crate::credentials::{SessionClaims, SessionPrincipal};
use crate::request::authz::{Ask, decide, denial_message};
use crate::request::{App, Call};
use crate::request::{Identity, host_agent};

const DEFAULT_DURATION: u32 = 3600;
/// AWS's limit for a role session that assumes another role.
const CHAINED_MAX_DURATION: u32 = 3600;
const MIN_DURATION: i32 = 900;
const MAX_DURATION: i32 = 43200;

pub(super) const EXCEEDS_ROLE_MAX: &str =
    "The requested DurationSeconds exceeds the MaxSessionDuration set for this role.";
/// As STS words it (seen in aws/eks-anywhere#9485, 99designs/aws-vault#263).
const EXCEEDS_CHAINED_MAX: &str = "The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining.";

/// What the request asks for, validated against the model.
struct Request<'a> {
    role_arn: &'a str,
    session_name: &'a str,
    duration: Option<u32>,
    policy: Option<&'a str>,
    policy_arns: Vec<&'a str>,
    tags: Vec<Tag<'a>>,
    transitive_tag_keys: Vec<&'a str>,
    external_id: Option<&'a str>,
    source_identity: Option<&'a str>,
}

impl<'a> Request<'a> {
    fn read<S>(call: &Call<'a, S>) -> Result<Self, AwsError> {
        let p = call.input.root();
        let mut v = Violations::new();
        let role_arn = p.optional_str("RoleArn");
        let session_name = p.optional_str("RoleSessionName");
        match role_arn {
            Some(arn) => input::ROLE_ARN.check(arn, &mut v),
            None => v.null("roleArn"),
        }
        match session_name {
            Some(name) => input::ROLE_SESSION_NAME.check(name, &mut v),
            None => v.null("roleSessionName"),
        }
        let duration = p.optional_i32("DurationSeconds", MIN_DURATION..=MAX_DURATION)?;
        let policy = p.optional_str("Policy");
        if let Some(doc) = policy {
            input::SESSION_POLICY.check(doc, &mut v);
        }
        let policy_arns = input::policy_arns(p.clone(), &mut v)?;
        let tags = input::tags(p.clone(), &mut v)?;
        let transitive_tag_keys = input::transitive_tag_keys(p.clone(), &mut v)?;
        let external_id = p.optional_str("ExternalId");
        if let Some(id) = external_id {
            input::EXTERNAL_ID.check(id, &mut v);
        }
        let source_identity = p.optional_str("SourceIdentity");
        if let Some(id) = source_identity {
            input::SOURCE_IDENTITY.check(id, &mut v);
        }
        v.into_result()?;
        input::reject_reserved_tag_keys(&tags)?;
        Ok(Request {
            role_arn: role_arn.unwrap_or_default(),
            session_name: session_name.unwrap_or_default(),
            duration: duration.and_then(|d| u32::try_from(d).ok()),
            policy,
            policy_arns,
            tags,
            transitive_tag_keys,
            external_id,
            source_identity,
        })
    }

    /// The trust policy's condition keys for this request.
    fn context(&self) -> Vec<(String, ContextValue)> {
        let mut context = vec![(
            "sts:RoleSessionName".to_owned(),
            ContextValue::Single(self.session_name.to_owned()),
        )];
        if let Some(id) = self.external_id {
            context.push(("sts:ExternalId".into(), ContextValue::Single(id.into())));
        }
        if let Some(id) = self.source_identity {
            context.push(("sts:SourceIdentity".into(), ContextValue::Single(id.into())));
        }
        if !self.tags.is_empty() {
            for tag in &self.tags {
                context.push((
                    format!("aws:RequestTag/{}", tag.key),
                    ContextValue::Single(tag.value.to_owned()),
                ));
            }
            let keys = self.tags.iter().map(|t| t.key.to_owned()).collect();
            context.push(("aws:TagKeys".into(), ContextValue::Multi(keys)));
        }
        if !self.transitive_tag_keys.is_empty() {
            let keys = self.transitive_tag_keys.iter().map(|k| k.to_string());
            context.push((
                "sts:TransitiveTagKeys".into(),
                ContextValue::Multi(keys.collect()),
            ));
        }
        context
    }
}

pub async fn assume_role<S: Store>(call: &Call<'_, S>) -> Result<String, AwsError> {
    let request = Request::read(call)?;
    super::refuse_mfa(call)?;
    let caller_session = match &call.caller.identity {
        Identity::Session(claims) => Some(claims),
        Identity::User(_) => None,
        Identity::HostAgent(_) => {
            return Err(host_agent::denial(
                call.caller,
                super::SERVICE,
                call.operation,
                Protocol::AwsQuery,
            ));
        }
    };
    let chained =
        caller_session.is_some_and(|c| matches!(c.principal, SessionPrincipal::AssumedRole { .. }));

    let role = find_role(call, request.role_arn).await?;
    authorize(call, &request, &role).await?;

    let duration = request.duration.unwrap_or(DEFAULT_DURATION);
    if chained && duration > CHAINED_MAX_DURATION {
        return Err(AwsError::validation(EXCEEDS_CHAINED_MAX));
    }
    if duration > role.max_session_duration {
        return Err(AwsError::validation(EXCEEDS_ROLE_MAX));
    }
    let session_policies = session_policies(call, &request, &role).await?;

    let principal = SessionPrincipal::AssumedRole {
        role_arn: role.arn.clone(),
        role_id: role.id.clone(),
        session_name: request.session_name.to_owned(),
    };
    let mut claims = new_claims(&role.account_id, principal, call.now, duration)?;
    claims.chained = chained;
    claims.session_policies = session_policies;
    session_tags(&mut claims, &request, &role, caller_session)?;
    claims.source_identity = source_identity(&request, caller_session)?;

    let token = seal(call.app, &claims)?;
    let has_policies = !claims.session_policies.is_empty();
    let packed = check_packed_size(&token, has_policies)?;
    let report_packed = has_policies || !request.tags.is_empty();

    call.app.last_use().role_used(
        &role.id,
        u64::try_from(claims.issued_at).unwrap_or(0),
        call.app.region(),
    );

    let assumed_role_id = format!("{}:{}", role.id, request.session_name);
    let assumed_role_arn = format!(
        "arn:aws:sts::{}:assumed-role/{}/{}",
        role.account_id, role.name, request.session_name
    );
    Ok(Envelope::STS.success("AssumeRole", call.request_id, |x| {
        x.opt_elem("SourceIdentity", claims.source_identity.as_deref());
        x.node("AssumedRoleUser", |x| {
            x.elem("AssumedRoleId", &assumed_role_id)
                .elem("Arn", &assumed_role_arn);
        });
        write_credentials(x, &claims, &token);
        if report_packed {
            x.elem("PackedPolicySize", packed);
        }
    }))
}

/// `arn:aws:iam::ACCOUNT:role/PATH/NAME` → the role, if it exists at exactly that ARN.
async fn find_role<S: Store>(call: &Call<'_, S>, role_arn: &str) -> Result<Role, AwsError> {
    let Some((account, name)) = parse_role_arn(role_arn) else {
        // Recorded AWS answers (LocalStack's test_sts.py, test_sts_invalid_parameters):
        // `nothing-valid-in-here is invalid`, `arn:a:a::aaaaaaaaaa: is invalid`.
        return Err(AwsError::validation(format!("{role_arn} is invalid")));
    };
    match call.app.store().role_by_name(account, name).await {
        Ok(role) if role.arn == role_arn => Ok(role),
        Ok(_) | Err(StoreError::NotFound { .. }) => Err(not_authorized(call, role_arn)),
        Err(e) => {
            tracing::error!(error = %e, "looking up a role to assume");
            Err(AwsError::internal(Protocol::AwsQuery))
        }
    }
}

/// (account, role name) of a role ARN in the `aws` partition.
pub(super) fn parse_role_arn(arn: &str) -> Option<(&str, &str)> {
    let arn = Arn::parse(arn)
        .filter(|a| a.partition == "aws" && a.service == "iam" && a.region.is_empty())?;
    let (_, name) = arn.path_and_name("role")?;
    let valid_account = arn.account.len() == 12 && arn.account.bytes().all(|b| b.is_ascii_digit());
    (valid_account && !name.is_empty()).then_some((arn.account, name))
}

/// AWS words a refused AssumeRole without a reason clause (aws-apis.md §3).
fn not_authorized<S>(call: &Call<'_, S>, role_arn: &str) -> AwsError {
    AwsError::access_denied(format!(
        "User: {} is not authorized to perform: sts:AssumeRole on resource: {role_arn}",
        call.caller.principal.arn()
    ))
}

/// `sts:AssumeRole`, and `sts:TagSession` / `sts:SetSourceIdentity` when the request passes
/// tags or a source identity, each against the trust policy and the caller's policies.
async fn authorize<S: Store>(
    call: &Call<'_, S>,
    request: &Request<'_>,
    role: &Role,
) -> Result<(), AwsError> {
    // A stored trust policy was validated when written; one that no longer parses trusts no one.
    let Ok(mut trust) = Policy::parse(&role.assume_role_policy, PolicyKind::Trust) else {
        tracing::warn!(role = %role.arn, "a stored trust policy does not parse");
        return Err(not_authorized(call, &role.arn));
    };
    crate::iam::trust::unpin_stale(&mut trust, &role.trust_principals, &call.caller.principal);
    if assumes_itself(call, role) {
        // Since 2022 a role may assume itself only where its trust policy names it: "specify
        // the role ARN or AWS account ARN as a principal" (IAM User Guide, "Update a role trust
        // policy"). An Allow that trusts anyone (`*`) no longer counts (AWS Security Blog,
        // "Announcing an update to IAM role trust policy behavior"); one that trusts the account
        // delegates to the role's own policies, which must then allow it.
        trust
            .statements
            .retain(|s| s.effect == Effect::Deny || names_caller_role(s, call));
    }
    let mut actions = vec!["sts:AssumeRole"];
    if !request.tags.is_empty() || !request.transitive_tag_keys.is_empty() {
        actions.push("sts:TagSession");
    }
    if request.source_identity.is_some() {
        actions.push("sts:SetSourceIdentity");
    }
    for action in actions {
        let ask = Ask {
            action,
            resource: &role.arn,
            resource_account: Some(&role.account_id),
            resource_policy: Some(trust.clone()),
            context: request.context(),
        };
        let decision = decide(call, ask).await?;
        if !decision.is_allowed() {
            return Err(denied(call, action, &role.arn, &decision));
        }
    }
    Ok(())
}

fn denied<S>(call: &Call<'_, S>, action: &str, role_arn: &str, decision: &Decision) -> AwsError {
    let caller = call.caller.principal.arn();
    match decision.outcome {
        Outcome::ExplicitDeny => {
            AwsError::access_denied(denial_message(caller, action, role_arn, decision, false))
        }
        _ => AwsError::access_denied(format!(
            "User: {caller} is not authorized to perform: {action} on resource: {role_arn}"
        )),
    }
}

fn assumes_itself<S>(call: &Call<'_, S>, role: &Role) -> bool {
    match &call.caller.identity {
        Identity::Session(claims) => matches!(
            &claims.principal,
            SessionPrincipal::AssumedRole { role_id, .. } if *role_id == role.id
        ),
        Identity::User(_) | Identity::HostAgent(_) => false,
    }
}

fn names_caller_role<S>(statement: &Statement, call: &Call<'_, S>) -> bool {
    statement
        .principal
        .as_ref()
        .and_then(|p| p.matches(&call.caller.principal))
        .is_some_and(|m| m != PrincipalMatch::Wildcard)
}

/// The inline `Policy` and the default versions of `PolicyArns`, resolved now so the session
/// keeps them even if the managed policies change later, as on AWS.
async fn session_policies<S: Store>(
    call: &Call<'_, S>,
    request: &Request<'_>,
    role: &Role,
) -> Result<Vec<String>, AwsError> {
    resolve_session_policies(
        call.app,
        &role.account_id,
        request.policy,
        &request.policy_arns,
    )
    .await
}

/// Session policies as a request names them: the inline document (checked as a session
/// policy) and each managed policy's default version in `account` (the role's).
pub(super) async fn resolve_session_policies<S: Store>(
    app: &App<S>,
    account: &str,
    policy: Option<&str>,
    policy_arns: &[&str],
) -> Result<Vec<String>, AwsError> {
    let mut documents = Vec::with_capacity(policy_arns.len() + 1);
    if let Some(doc) = policy {
        Policy::parse(doc, PolicyKind::Session)
            .map_err(|e| AwsError::sender("MalformedPolicyDocument", 400, e.message))?;
        documents.push(doc.to_owned());
    }
    for arn in policy_arns {
        documents.push(managed_document(app, account, arn).await?);
    }
    Ok(documents)
}

pub(super) async fn managed_document<S: Store>(
    app: &App<S>,
    account: &str,
    arn: &str,
) -> Result<String, AwsError> {
    let store = app.store();
    let missing = || {
        // UNCONFIRMED: the wording IAM uses for an ARN that names no attachable policy.
        AwsError::sender(
            "MalformedPolicyDocument",
            400,
            format!("Policy {arn} does not exist or is not attachable."),
        )
    };
    let internal = |e: StoreError| {
        tracing::error!(error = %e, "resolving a session policy ARN");
        AwsError::internal(Protocol::AwsQuery)
    };
    // A session policy is a managed policy of the role's own account, or one of AWS's.
    if crate::aws_policies::in_namespace(arn) {
        return crate::aws_policies::get(arn)
            .and_then(|policy| policy.default_document())
            .map(str::to_owned)
            .ok_or_else(missing);
    }
    let policy = match store.policy(account, arn).await {
        Ok(policy) => policy,
        Err(StoreError::NotFound { .. }) => return Err(missing()),
        Err(e) => return Err(internal(e)),
    };
    match store
        .policy_version(account, arn, &policy.default_version_id)
        .await
    {
        Ok(version) => Ok(version.document),
        Err(StoreError::NotFound { .. }) => Err(missing()),
        Err(e) => Err(internal(e)),
    }
}

/// The session's tags, as `aws:PrincipalTag/…` will see them: the role's tags, overridden by
/// the tags a chained caller passes on transitively, overridden by the request's own tags.
/// Role tags are copied at issue time, so a later TagRole reaches new sessions only.
fn session_tags(
    claims: &mut SessionClaims,
    request: &Request<'_>,
    role: &Role,
    caller: Option<&SessionClaims>,
) -> Result<(), AwsError> {
    let mut tags: Vec<(String, String)> = role
        .tags
        .iter()
        .map(|t| (t.key.clone(), t.value.clone()))
        .collect();
    let mut transitive: Vec<String> = Vec::new();
    if let Some(caller) = caller {
        for key in &caller.transitive_tag_keys {
            if let Some((k, v)) = caller
                .tags
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(key))
            {
                set_tag(&mut tags, k, v);
                transitive.push(k.clone());
            }
        }
    }
    for tag in &request.tags {
        if transitive.iter().any(|k| k.eq_ignore_ascii_case(tag.key)) {
            // Recorded AWS answer (test_sts.py, test_iam_role_chaining_override_transitive_tags).
            return Err(AwsError::invalid_parameter_value(
                "One of the specified transitive tag keys can't be set because it conflicts \
                 with a transitive tag key from the calling session.",
            ));
        }
        if request
            .tags
            .iter()
            .filter(|t| t.key.eq_ignore_ascii_case(tag.key))
            .count()
            > 1
        {
            // STS words IAM's message under its own code (recorded AWS responses).
            return Err(AwsError::invalid_parameter_value(
                "Duplicate tag keys found. Please note that Tag keys are case insensitive.",
            ));
        }
        set_tag(&mut tags, tag.key, tag.value);
    }
    for key in &request.transitive_tag_keys {
        if !request.tags.iter().any(|t| t.key.eq_ignore_ascii_case(key)) {
            // Recorded AWS answer (test_sts.py, test_assume_role_tag_validation).
            return Err(AwsError::invalid_parameter_value(
                "The specified transitive tag key must be included in the requested tags.",
            ));
        }
        transitive.push((*key).to_owned());
    }
    claims.tags = tags;
    claims.transitive_tag_keys = transitive;
    Ok(())
}

/// Replaces the value of `key` (matched case-insensitively, as tag keys are) or adds it.
fn set_tag(tags: &mut Vec<(String, String)>, key: &str, value: &str) {
    match tags.iter_mut().find(|(k, _)| k.eq_ignore_ascii_case(key)) {
        Some(slot) => *slot = (key.to_owned(), value.to_owned()),
        None => tags.push((key.to_owned(), value.to_owned())),
    }
}

/// A source identity, once set, follows the session through every chained AssumeRole and
/// cannot be changed (IAM UG id_credentials_temp_control-access_monitor).
fn source_identity(
    request: &Request<'_>,
    caller: Option<&SessionClaims>,
) -> Result<Option<String>, AwsError> {
    let inherited = caller.and_then(|c| c.source_identity.as_deref());
    match (inherited, request.source_identity) {
        (Some(old), Some(new)) if old != new => Err(AwsError::access_denied(
            // UNCONFIRMED wording.
            format!("The source identity {old} of the calling session cannot be changed to {new}."),
        )),
        (Some(old), _) => Ok(Some(old.to_owned())),
        (None, new) => Ok(new.map(str::to_owned)),
    }
}

#[cfg(test)]
mod unit {
    use super::*;

    #[test]
    fn role_arns_name_an_account_and_a_role() {
        // Accepted exactly as before `policy::Arn` did the split.
        let cases: &[(&str, Option<(&str, &str)>)] = &[
            (
                "arn:aws:iam::123456789012:role/app",
                Some(("123456789012", "app")),
            ),
            (
                "arn:aws:iam::123456789012:role/a/b/c",
                Some(("123456789012", "c")),
            ),
            (
                "arn:aws:iam::123456789012:role//r",
                Some(("123456789012", "r")),
            ),
            // Colons after the account belong to the resource.
            (
                "arn:aws:iam::123456789012:role/a:b",
                Some(("123456789012", "a:b")),
            ),
            (
                "arn:aws:iam::123456789012:role/p/a:b:c",
                Some(("123456789012", "a:b:c")),
            ),
            ("arn:aws:iam::123456789012:role/", None),
            ("arn:aws:iam::123456789012:role/team/", None),
            ("arn:aws:iam::123456789012:role", None),
            ("arn:aws:iam::123456789012:roles/r", None),
            ("arn:aws:iam::123456789012", None),
            ("arn:aws:iam:::role/r", None),
            ("arn:aws:iam::aws:role/r", None),
            ("arn:aws:iam::1234567890123:role/r", None),
            ("arn:aws:iam::12345678901a:role/r", None),
            ("arn:aws:iam:us-east-1:123456789012:role/r", None),
            ("arn:aws:sts::123456789012:role/r", None),
            ("arn::iam::123456789012:role/r", None),
            ("ARN:aws:iam::123456789012:role/r", None),
            ("", None),
        ];
        for (arn, expected) in cases {
            assert_eq!(parse_role_arn(arn), *expected, "{arn}");
        }
        assert_eq!(
            parse_role_arn("arn:aws:iam::123456789012:role/team/dev"),
            Some(("123456789012", "dev"))
        );
        assert_eq!(
            parse_role_arn("arn:aws:iam::123456789012:role/r"),
            Some(("123456789012", "r"))
        );
        for bad in [
            "arn:aws:iam::123456789012:user/r",
            "arn:aws:iam::12345:role/r",
            "arn:aws:iam::123456789012:role/",
            "arn:aws-cn:iam::123456789012:role/r",
            "role/r",
        ] {
            assert_eq!(parse_role_arn(bad), None, "{bad}");
        }
    }
}
