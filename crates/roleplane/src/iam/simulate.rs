//! The IAM policy simulator: SimulatePrincipalPolicy (a user's, group's or role's stored
//! policies, a user's groups' included, plus any given) and SimulateCustomPolicy (only the given ones), both answered by the same engine
//! that authorizes real calls.
//!
//! Only the context the request supplies is evaluated (plus what the principal itself
//! determines, such as `aws:username`): keys a matching statement tests but nobody supplied are
//! reported as `MissingContextValues`, as AWS does.

use std::net::IpAddr;

use policy::{
    Arn, Context, ContextValue, Decision, Outcome, PathElement, Policy, PolicyKind, PolicySet,
    PolicySource, Principal, PrincipalKind, Request, Statement, evaluate,
};
use protocol::{AwsError, Scope, XmlWriter};
use store::{EntityKind, IdentityPolicies, ListQuery, Store};

use super::access::{Located, authorize};
use super::paging::page;
use super::validate::Input;
use super::{Reply, groups, respond, roles, store_error, users};
use crate::analyzer::span;
use crate::request::Call;

/// A policy taking part, with what the answer says about where it came from.
struct Source {
    /// `SourcePolicyId`: the policy's name, or its place in the input (`PolicyInputList.1`).
    id: String,
    /// `SourcePolicyType`: `user`, `role`, `aws-managed`, `IAM Policy`, `resource`, `none`.
    kind: &'static str,
    document: String,
    policy: Policy,
}

/// Everything one simulation evaluates.
struct Simulation {
    principal: Principal,
    identity: Vec<Source>,
    /// The boundary documents; the engine sees their statements as one policy.
    boundary: Vec<Source>,
    resource: Option<Source>,
    context: Context,
    resource_owner: Option<String>,
}

/// One (action, resource) pair's outcome.
struct Outcome1 {
    action: String,
    resource: String,
    decision: Decision,
    missing: Vec<String>,
    allowed_by_boundary: Option<bool>,
}

pub async fn principal<S: Store>(call: &Call<'_, S>) -> Reply {
    let mut input = Input::new(call.input);
    let source_arn = input.arn("PolicySourceArn");
    let common = read_common(call, &mut input, false)?;
    input.finish()?;
    let common = common?;

    let (account, kind, name) = entity_of(source_arn)?;
    if account != call.caller.account_id {
        // Another account's principal is never read: refused as every IAM resource of another
        // account is (no resource-based policy can allow it).
        let kind_of = match kind {
            "user" => EntityKind::User,
            "group" => EntityKind::Group,
            _ => EntityKind::Role,
        };
        Located::<store::User>::foreign(source_arn.to_owned(), account, kind_of)
            .authorize_only(call, Vec::new())
            .await?;
        return Err(no_such_entity(kind, name));
    }
    let (principal, stored, inline_kind) = match kind {
        "user" => {
            let user = users::locate(call, name)
                .await?
                .authorize(call, Vec::new())
                .await?;
            let principal = Principal::new(PrincipalKind::IamUser {
                account: user.account_id.clone(),
                path: user.path.clone(),
                name: user.name.clone(),
                user_id: Some(user.id.clone()),
            });
            (principal, identity_policies(call, &user.id).await?, "user")
        }
        "group" => {
            let group = groups::locate(call, name)
                .await?
                .authorize(call, Vec::new())
                .await?;
            // A group is no principal: its policies are simulated for a user of its path and
            // name in its account, as for a member that has no policies of its own.
            let principal = Principal::new(PrincipalKind::IamUser {
                account: group.account_id.clone(),
                path: group.path.clone(),
                name: group.name.clone(),
                user_id: None,
            });
            (
                principal,
                identity_policies(call, &group.id).await?,
                "group",
            )
        }
        _ => {
            let role = roles::locate(call, name)
                .await?
                .authorize(call, Vec::new())
                .await?;
            let principal = Principal::new(PrincipalKind::AssumedRole {
                account: role.account_id.clone(),
                role_path: role.path.clone(),
                role_name: role.name.clone(),
                session_name: role.name.clone(),
                role_id: Some(role.id.clone()),
            });
            (principal, identity_policies(call, &role.id).await?, "role")
        }
    };
    let mut identity = stored_identity(&stored, inline_kind);
    identity.extend(common.inputs);
    let boundary = if common.boundary_inputs.is_empty() {
        stored_boundary(&stored)
    } else {
        common.boundary_inputs
    };
    let simulation = Simulation {
        principal: common.caller.unwrap_or(principal),
        identity,
        boundary,
        resource: common.resource_policy,
        context: common.context,
        resource_owner: common.resource_owner,
    };
    answer(
        call,
        &simulation,
        &common.actions,
        &common.resources,
        &common.query,
    )
}

pub async fn custom<S: Store>(call: &Call<'_, S>) -> Reply {
    let mut input = Input::new(call.input);
    let common = read_common(call, &mut input, true)?;
    input.finish()?;
    let common = common?;
    authorize(call, "*", Vec::new()).await?;
    // Without CallerArn the policies are simulated for the caller; a root caller would pass
    // every identity check, so it stands in as an IAM user of its account.
    let principal = common
        .caller
        .unwrap_or_else(|| match call.caller.principal.kind() {
            PrincipalKind::Root { account } => Principal::new(PrincipalKind::IamUser {
                account: account.clone(),
                path: "/".into(),
                name: "root".into(),
                user_id: None,
            }),
            _ => call.caller.principal.clone(),
        });
    let simulation = Simulation {
        principal,
        identity: common.inputs,
        boundary: common.boundary_inputs,
        resource: common.resource_policy,
        context: common.context,
        resource_owner: common.resource_owner,
    };
    answer(
        call,
        &simulation,
        &common.actions,
        &common.resources,
        &common.query,
    )
}

/// The members both operations share.
struct Common {
    inputs: Vec<Source>,
    boundary_inputs: Vec<Source>,
    actions: Vec<String>,
    /// `ResourceArns`, or `*` when none were given.
    resources: Vec<String>,
    query: ListQuery,
    resource_policy: Option<Source>,
    resource_owner: Option<String>,
    caller: Option<Principal>,
    context: Context,
}

/// Reads the shared members; model violations go to `input`, semantic errors come back inside.
fn read_common<S>(
    call: &Call<'_, S>,
    input: &mut Input<'_>,
    inputs_required: bool,
) -> Result<Result<Common, AwsError>, AwsError> {
    let params = call.input;
    let documents = params.list_str("PolicyInputList")?;
    if inputs_required && documents.is_empty() {
        input.missing("PolicyInputList");
    }
    let boundaries = params.list_str("PermissionsBoundaryPolicyInputList")?;
    let actions = params.list_str("ActionNames")?;
    if actions.is_empty() {
        input.missing("ActionNames");
    }
    let resources = params.list_str("ResourceArns")?;
    let resource_policy = params.optional_str("ResourcePolicy");
    let resource_owner = params.optional_str("ResourceOwner");
    let caller_arn = params.optional_str("CallerArn");
    let entries = params.list("ContextEntries", context_entry)?;
    let query = input.list_query("/");
    let read = || -> Result<Common, AwsError> {
        let inputs = documents
            .iter()
            .enumerate()
            .map(|(i, d)| given(d, "PolicyInputList", i, PolicyKind::InlineIdentity))
            .collect::<Result<_, _>>()?;
        let boundary_inputs = boundaries
            .iter()
            .enumerate()
            .map(|(i, d)| {
                given(
                    d,
                    "PermissionsBoundaryPolicyInputList",
                    i,
                    PolicyKind::PermissionsBoundary,
                )
            })
            .collect::<Result<_, _>>()?;
        let resource_policy = resource_policy
            .map(|d| {
                let policy = Policy::parse(d, PolicyKind::Resource).map_err(malformed)?;
                Ok::<_, AwsError>(Source {
                    id: "ResourcePolicy".into(),
                    kind: "resource",
                    document: d.to_owned(),
                    policy,
                })
            })
            .transpose()?;
        let caller = caller_arn
            .map(|arn| {
                Principal::from_arn(arn).ok_or_else(|| {
                    invalid_input(format!("Invalid CallerArn: {arn} is not a principal ARN."))
                })
            })
            .transpose()?;
        let mut context = Context::new();
        for (key, value) in entries {
            context.insert(&key, value?);
        }
        let resources = if resources.is_empty() {
            vec!["*".to_owned()]
        } else {
            resources.iter().map(|r| (*r).to_owned()).collect()
        };
        Ok(Common {
            inputs,
            boundary_inputs,
            actions: actions.iter().map(|a| (*a).to_owned()).collect(),
            resources,
            query,
            resource_policy,
            resource_owner: resource_owner.map(owner_account),
            caller,
            context,
        })
    };
    Ok(read())
}

/// A policy given in the request, named by its place in the list (1-based, as AWS names it).
fn given(document: &str, list: &str, index: usize, kind: PolicyKind) -> Result<Source, AwsError> {
    let policy = Policy::parse(document, kind).map_err(malformed)?;
    Ok(Source {
        id: format!("{list}.{}", index + 1),
        kind: "none",
        document: document.to_owned(),
        policy,
    })
}

/// One `ContextEntries` member: its key, and its values typed as `ContextKeyType` says.
fn context_entry(
    entry: Scope<'_>,
) -> Result<(String, Result<ContextValue, AwsError>), protocol::ParamError> {
    let key = entry.required_str("ContextKeyName")?.to_owned();
    let values: Vec<String> = entry
        .list_str("ContextKeyValues")?
        .into_iter()
        .map(str::to_owned)
        .collect();
    let kind = entry.optional_str("ContextKeyType");
    let typed = typed_value(&key, kind, values);
    Ok((key, typed))
}

const CONTEXT_KEY_TYPES: &[&str] = &[
    "string",
    "stringList",
    "numeric",
    "numericList",
    "boolean",
    "booleanList",
    "ip",
    "ipList",
    "binary",
    "binaryList",
    "date",
    "dateList",
];

fn typed_value(
    key: &str,
    kind: Option<&str>,
    values: Vec<String>,
) -> Result<ContextValue, AwsError> {
    let kind = kind.unwrap_or(if values.len() == 1 {
        "string"
    } else {
        "stringList"
    });
    if !CONTEXT_KEY_TYPES.contains(&kind) {
        return Err(invalid_input(format!(
            "Invalid ContextKeyType {kind} for context key {key}."
        )));
    }
    let scalar = kind.trim_end_matches("List");
    for value in &values {
        let valid = match scalar {
            "numeric" => value.parse::<f64>().is_ok(),
            "boolean" => value.eq_ignore_ascii_case("true") || value.eq_ignore_ascii_case("false"),
            "date" => policy::condition::date::parse(value).is_some(),
            "ip" => is_ip_or_cidr(value),
            _ => true,
        };
        if !valid {
            return Err(invalid_input(format!(
                "Invalid value {value} for context key {key} of type {kind}."
            )));
        }
    }
    if kind.ends_with("List") {
        Ok(ContextValue::Multi(values))
    } else if let [one] = values.as_slice() {
        Ok(ContextValue::Single(one.clone()))
    } else {
        Err(invalid_input(format!(
            "Context key {key} of type {kind} takes exactly one value."
        )))
    }
}

fn is_ip_or_cidr(value: &str) -> bool {
    match value.split_once('/') {
        None => value.parse::<IpAddr>().is_ok(),
        Some((ip, bits)) => match (ip.parse::<IpAddr>(), bits.parse::<u8>()) {
            (Ok(IpAddr::V4(_)), Ok(bits)) => bits <= 32,
            (Ok(IpAddr::V6(_)), Ok(bits)) => bits <= 128,
            _ => false,
        },
    }
}

/// `ResourceOwner` is an account ARN (`arn:aws:iam::ACCOUNT:root`) or the bare account ID.
fn owner_account(owner: &str) -> String {
    Arn::parse(owner)
        .map(|a| a.account.to_owned())
        .unwrap_or_else(|| owner.to_owned())
}

/// (account, `user`|`group`|`role`, name) of a user, group or role ARN.
fn entity_of(arn: &str) -> Result<(&str, &'static str, &str), AwsError> {
    let invalid = || {
        invalid_input(format!(
            "Invalid Entity Arn: {arn} does not clearly define entity type and name."
        ))
    };
    let parsed = Arn::parse(arn)
        .filter(|a| a.service == "iam")
        .ok_or_else(invalid)?;
    let (kind, name) = ["user", "group", "role"]
        .into_iter()
        .find_map(|kind| Some((kind, parsed.path_and_name(kind)?.1)))
        .filter(|(_, name)| !name.is_empty())
        .ok_or_else(invalid)?;
    Ok((parsed.account, kind, name))
}

async fn identity_policies<S: Store>(
    call: &Call<'_, S>,
    principal_id: &str,
) -> Result<IdentityPolicies, AwsError> {
    let mut stored = call
        .app
        .store()
        .identity_policies(principal_id)
        .await
        .map_err(store_error)?;
    // The store keeps AWS managed policies' ARNs only; their documents come from the catalogue.
    crate::aws_policies::resolve(&mut stored);
    Ok(stored)
}

/// The stored inline and attached policies, each parsed as its kind (as `server::authz` does).
fn stored_identity(stored: &IdentityPolicies, inline_kind: &'static str) -> Vec<Source> {
    let own = stored.inline.iter().map(|p| (p, inline_kind));
    let of_groups = stored.group_inline.iter().map(|p| (p, "group"));
    let inline = own.chain(of_groups).filter_map(|(p, kind)| {
        let policy = Policy::parse(&p.document, PolicyKind::InlineIdentity).ok()?;
        Some(Source {
            id: p.name.clone(),
            kind,
            document: p.document.clone(),
            policy,
        })
    });
    let managed = stored.managed.iter().filter_map(|m| {
        let document = m.document.clone()?;
        let policy = Policy::parse(&document, PolicyKind::Identity).ok()?;
        Some(Source {
            id: managed_name(&m.arn),
            kind: managed_kind(&m.arn),
            document,
            policy,
        })
    });
    inline.chain(managed).collect()
}

/// The entity's boundary; one that cannot be resolved or parsed allows nothing (as in authz).
fn stored_boundary(stored: &IdentityPolicies) -> Vec<Source> {
    let Some(boundary) = &stored.permissions_boundary else {
        return Vec::new();
    };
    let document = boundary.document.clone().unwrap_or_default();
    let policy = Policy::parse(&document, PolicyKind::PermissionsBoundary).unwrap_or(Policy {
        version: None,
        id: None,
        statements: Vec::new(),
    });
    vec![Source {
        id: managed_name(&boundary.arn),
        kind: managed_kind(&boundary.arn),
        document,
        policy,
    }]
}

fn managed_name(arn: &str) -> String {
    arn.rsplit('/').next().unwrap_or(arn).to_owned()
}

/// A customer managed policy is an `IAM Policy` in AWS's answers today, not the documented
/// `user-managed` (recorded AWS answer: LocalStack's test_iam.py, test_simulate_principle_policy);
/// no recording shows the other kinds, which keep their documented names.
fn managed_kind(arn: &str) -> &'static str {
    if arn.contains(":aws:policy/") {
        "aws-managed"
    } else {
        "IAM Policy"
    }
}

/// Evaluates every (action, resource) pair and writes the page the request asked for.
fn answer<S>(
    call: &Call<'_, S>,
    simulation: &Simulation,
    actions: &[String],
    resources: &[String],
    query: &ListQuery,
) -> Reply {
    let explicit_resources = !(resources.len() == 1 && resources[0] == "*");
    let (set, boundary_origin) = policy_set(simulation);
    let mut outcomes = Vec::with_capacity(actions.len() * resources.len());
    for action in actions {
        for resource in resources {
            outcomes.push(simulate_one(simulation, &set, action, resource));
        }
    }
    let (items, next) = page(outcomes, query)?;
    Ok(respond(call, |x| {
        x.list("EvaluationResults", "member", &items, |x, o| {
            x.elem("EvalActionName", &o.action)
                .elem("EvalResourceName", &o.resource)
                .elem("EvalDecision", o.decision.outcome.as_str());
            matched(x, simulation, &boundary_origin, &o.decision);
            // Sent even when empty, and beside ResourceSpecificResults' own (recorded).
            missing(x, &o.missing);
            boundary_detail(x, o.allowed_by_boundary);
            // No service control policies apply here; AWS's recorded answer carries this
            // detail for a same-account simulation.
            x.node("OrganizationsDecisionDetail", |x| {
                x.elem("AllowedByOrganizations", true);
            });
            if explicit_resources {
                // AWS fills this only for cross-account simulations (not modelled here) and
                // sends it empty for same-account ones with named resources.
                x.node("EvalDecisionDetails", |_| {});
                x.list("ResourceSpecificResults", "member", [o], |x, o| {
                    x.elem("EvalResourceName", &o.resource)
                        .elem("EvalResourceDecision", o.decision.outcome.as_str());
                    matched(x, simulation, &boundary_origin, &o.decision);
                    missing(x, &o.missing);
                    boundary_detail(x, o.allowed_by_boundary);
                });
            }
        })
        .truncation(next.as_deref());
    }))
}

/// The engine's policy set; the boundary documents become one policy, and `origin` maps each
/// of its statements back to (boundary document, statement index).
fn policy_set(simulation: &Simulation) -> (PolicySet, Vec<(usize, usize)>) {
    let mut origin = Vec::new();
    let boundary = (!simulation.boundary.is_empty()).then(|| {
        let mut statements: Vec<Statement> = Vec::new();
        for (b, source) in simulation.boundary.iter().enumerate() {
            for (s, statement) in source.policy.statements.iter().enumerate() {
                origin.push((b, s));
                statements.push(statement.clone());
            }
        }
        Policy {
            version: simulation.boundary[0].policy.version,
            id: None,
            statements,
        }
    });
    let set = PolicySet {
        identity: simulation
            .identity
            .iter()
            .map(|s| s.policy.clone())
            .collect(),
        resource: simulation.resource.as_ref().map(|s| s.policy.clone()),
        permissions_boundary: boundary,
        ..PolicySet::default()
    };
    (set, origin)
}

fn simulate_one(
    simulation: &Simulation,
    set: &PolicySet,
    action: &str,
    resource: &str,
) -> Outcome1 {
    let request = Request {
        principal: simulation.principal.clone(),
        action: action.to_owned(),
        resource: resource.to_owned(),
        resource_account: resource_account(simulation, resource).to_owned(),
        context: simulation.context.clone(),
    };
    let decision = evaluate(&request, set);
    let allowed_by_boundary = set.permissions_boundary.as_ref().map(|boundary| {
        let alone = PolicySet {
            identity: vec![boundary.clone()],
            ..PolicySet::default()
        };
        evaluate(&request, &alone).outcome == Outcome::Allowed
    });
    Outcome1 {
        action: action.to_owned(),
        resource: resource.to_owned(),
        decision,
        missing: missing_context(simulation, &request),
        allowed_by_boundary,
    }
}

/// `ResourceOwner`, else the account in the resource's ARN, else the principal's.
fn resource_account<'a>(simulation: &'a Simulation, resource: &'a str) -> &'a str {
    if let Some(owner) = &simulation.resource_owner {
        return owner;
    }
    Arn::parse(resource)
        .map(|a| a.account)
        .filter(|a| !a.is_empty())
        .or(simulation.principal.account())
        .unwrap_or("")
}

/// Condition keys tested by statements that apply to the action, which neither the context nor
/// the principal supplies.
fn missing_context(simulation: &Simulation, request: &Request) -> Vec<String> {
    let action = request.action.to_ascii_lowercase();
    let sources = simulation
        .identity
        .iter()
        .chain(&simulation.boundary)
        .chain(&simulation.resource);
    let mut out: Vec<String> = Vec::new();
    for source in sources {
        for statement in &source.policy.statements {
            if !statement.action.matches(&action) {
                continue;
            }
            for condition in &statement.conditions {
                let lower = condition.key.to_ascii_lowercase();
                let supplied = request.context.get_lowercase(&lower).is_some()
                    || request.principal.global_key(&lower).is_some();
                if !supplied && !out.iter().any(|k| k.eq_ignore_ascii_case(&condition.key)) {
                    out.push(condition.key.clone());
                }
            }
        }
    }
    out
}

fn matched(
    x: &mut XmlWriter,
    simulation: &Simulation,
    boundary_origin: &[(usize, usize)],
    decision: &Decision,
) {
    let statements: Vec<(&Source, usize)> = decision
        .matched
        .iter()
        .filter_map(|m| match m.source {
            PolicySource::Identity(i) => Some((simulation.identity.get(i)?, m.statement_index)),
            PolicySource::Resource => Some((simulation.resource.as_ref()?, m.statement_index)),
            PolicySource::PermissionsBoundary => {
                let (b, s) = *boundary_origin.get(m.statement_index)?;
                Some((simulation.boundary.get(b)?, s))
            }
            _ => None,
        })
        .collect();
    x.list(
        "MatchedStatements",
        "member",
        statements,
        |x, (source, index)| {
            x.elem("SourcePolicyId", &source.id)
                .elem("SourcePolicyType", source.kind);
            let path = [
                PathElement::Key("Statement".into()),
                PathElement::Index(index),
            ];
            if let Some(span) = span::locate(&source.document, &path) {
                // AWS's positions point one column past each brace (its own examples show it).
                x.node("StartPosition", |x| {
                    x.elem("Line", span.start.line)
                        .elem("Column", span.start.column + 2);
                })
                .node("EndPosition", |x| {
                    x.elem("Line", span.end.line)
                        .elem("Column", span.end.column + 1);
                });
            }
        },
    );
}

fn missing(x: &mut XmlWriter, keys: &[String]) {
    x.list("MissingContextValues", "member", keys, |x, key| {
        x.text(key);
    });
}

fn boundary_detail(x: &mut XmlWriter, allowed: Option<bool>) {
    if let Some(allowed) = allowed {
        x.node("PermissionsBoundaryDecisionDetail", |x| {
            x.elem("AllowedByPermissionsBoundary", allowed);
        });
    }
}

fn malformed(err: policy::PolicyError) -> AwsError {
    AwsError::sender("MalformedPolicyDocument", 400, err.message)
}

fn invalid_input(message: String) -> AwsError {
    AwsError::sender("InvalidInput", 400, message)
}

fn no_such_entity(kind: &str, name: &str) -> AwsError {
    let noun = if kind == "user" { "user" } else { "role" };
    AwsError::sender(
        "NoSuchEntity",
        404,
        format!("The {noun} with name {name} cannot be found."),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entity_arns_name_users_groups_and_roles() {
        assert_eq!(
            entity_of("arn:aws:iam::123456789012:role/team/app").expect("role"),
            ("123456789012", "role", "app")
        );
        assert_eq!(
            entity_of("arn:aws:iam::123456789012:user/alice").expect("user"),
            ("123456789012", "user", "alice")
        );
        assert_eq!(
            entity_of("arn:aws:iam::123456789012:group/eng/g").expect("group"),
            ("123456789012", "group", "g")
        );
        for bad in [
            "arn:aws:iam::123456789012:instance-profile/p",
            "arn:aws:s3:::b",
            "nope",
            "arn:aws:iam::1:role/",
        ] {
            let err = entity_of(bad).expect_err(bad);
            assert_eq!(err.code, "InvalidInput");
        }
    }

    #[test]
    fn context_values_are_typed() {
        let one = |kind, v: &[&str]| {
            typed_value("k:k", kind, v.iter().map(|s| (*s).to_owned()).collect())
        };
        assert_eq!(
            one(Some("date"), &["2019-04-25T11:00:00Z"]),
            Ok(ContextValue::Single("2019-04-25T11:00:00Z".into()))
        );
        assert_eq!(
            one(Some("stringList"), &["a", "b"]),
            Ok(ContextValue::Multi(vec!["a".into(), "b".into()]))
        );
        assert_eq!(one(None, &["a"]), Ok(ContextValue::Single("a".into())));
        assert!(one(Some("numeric"), &["x"]).is_err());
        assert!(one(Some("boolean"), &["yes"]).is_err());
        assert!(one(Some("ip"), &["10.0.0.0/8"]).is_ok());
        assert!(one(Some("ip"), &["ten"]).is_err());
        assert!(one(Some("string"), &["a", "b"]).is_err());
        assert!(one(Some("colour"), &["a"]).is_err());
    }
}
