//! The decision: which layers allow, which deny, and the statements that decided.
//!
//! Layers follow [UG:reference_policies_evaluation-logic] (policy.md §1.6–1.7):
//! an explicit Deny anywhere wins; every SCP level must allow; then resource-based
//! policy, identity policies, permissions boundary and session policy, with
//! AWS's same-account and cross-account rules.

use std::fmt;

use crate::arn::Arn;
use crate::condition::{ConditionContext, KeyValues};
use crate::context::{Context, ContextValue};
use crate::document::{Effect, Policy};
use crate::principal::{Principal, PrincipalKind, PrincipalMatch};
use crate::validate::TRUST_ACTIONS;
use crate::variables::Variables;

/// One request to authorize.
#[derive(Debug, Clone)]
pub struct Request {
    pub principal: Principal,
    /// `service:Action`, any case.
    pub action: String,
    /// The resource ARN, or `*` for actions without a resource.
    pub resource: String,
    /// The account that owns the resource (decides same- vs cross-account).
    pub resource_account: String,
    /// Condition keys. Keys the principal determines (`aws:PrincipalArn`,
    /// `aws:userid`, …) are derived unless present here.
    pub context: Context,
}

/// Every policy that applies to a request.
#[derive(Debug, Clone, Default)]
pub struct PolicySet {
    pub identity: Vec<Policy>,
    /// The resource-based policy; for sts:AssumeRole on a role, its trust policy.
    pub resource: Option<Policy>,
    pub permissions_boundary: Option<Policy>,
    pub session: Option<Policy>,
    /// SCPs per organization level, root first; each level must allow.
    pub service_control: Vec<Vec<Policy>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Allowed,
    ImplicitDeny,
    ExplicitDeny,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Allowed => "allowed",
            Outcome::ImplicitDeny => "implicitDeny",
            Outcome::ExplicitDeny => "explicitDeny",
        }
    }
}

/// Which policy of the [`PolicySet`] a statement came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PolicySource {
    Identity(usize),
    Resource,
    PermissionsBoundary,
    Session,
    ServiceControl { level: usize, index: usize },
}

impl fmt::Display for PolicySource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PolicySource::Identity(i) => write!(f, "identityPolicies[{i}]"),
            PolicySource::Resource => f.write_str("resourcePolicy"),
            PolicySource::PermissionsBoundary => f.write_str("permissionsBoundary"),
            PolicySource::Session => f.write_str("sessionPolicy"),
            PolicySource::ServiceControl { level, index } => {
                write!(f, "serviceControlPolicies[{level}][{index}]")
            }
        }
    }
}

/// A statement that applied to the request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MatchedStatement {
    pub source: PolicySource,
    pub statement_index: usize,
    pub sid: Option<String>,
    pub effect: Effect,
}

/// The outcome and why: the matching Deny statements for an explicit deny, else
/// every matching Allow statement (possibly none for an implicit deny).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    pub outcome: Outcome,
    pub matched: Vec<MatchedStatement>,
}

impl Decision {
    pub fn is_allowed(&self) -> bool {
        self.outcome == Outcome::Allowed
    }

    pub fn to_json(&self) -> serde_json::Value {
        let matched: Vec<serde_json::Value> = self
            .matched
            .iter()
            .map(|m| {
                serde_json::json!({
                    "source": m.source.to_string(),
                    "statementIndex": m.statement_index,
                    "sid": m.sid,
                    "effect": m.effect.as_str(),
                })
            })
            .collect();
        serde_json::json!({ "decision": self.outcome.as_str(), "matchedStatements": matched })
    }
}

/// What a request looks like to conditions and variables.
struct Env<'a> {
    request: &'a Request,
    action: String,
}

impl Variables for Env<'_> {
    fn variable(&self, key: &str) -> Option<&str> {
        match self.request.context.get_lowercase(key) {
            Some(ContextValue::Single(v)) => Some(v),
            Some(ContextValue::Multi(_)) => None,
            None => self.request.principal.global_key(key),
        }
    }
}

impl ConditionContext for Env<'_> {
    fn values(&self, key: &str) -> KeyValues<'_> {
        match self.request.context.get_lowercase(key) {
            Some(ContextValue::Single(v)) => KeyValues::Single(v),
            Some(ContextValue::Multi(vs)) => KeyValues::Multi(vs),
            None => self
                .request
                .principal
                .global_key(key)
                .map_or(KeyValues::Absent, KeyValues::Single),
        }
    }
}

/// The statements of one layer that applied.
#[derive(Default)]
struct Layer {
    allows: Vec<MatchedStatement>,
    /// For resource policies: the strongest way an Allow named the caller.
    best_principal_match: Option<PrincipalMatch>,
}

impl Layer {
    fn allows(&self) -> bool {
        !self.allows.is_empty()
    }
}

/// Decides `request` against `policies`. Pure: no I/O, no clock.
pub fn evaluate(request: &Request, policies: &PolicySet) -> Decision {
    let env = Env {
        request,
        action: request.action.to_ascii_lowercase(),
    };
    // A host agent is no IAM identity: nothing allows it, whatever the policies say.
    if matches!(request.principal.kind(), PrincipalKind::HostAgent { .. }) {
        return Decision {
            outcome: Outcome::ImplicitDeny,
            matched: Vec::new(),
        };
    }
    // Always allowed, even under an explicit Deny [SIM:StsServiceAuthorizer; MOTO:access_control].
    if env.action == "sts:getcalleridentity" {
        return Decision {
            outcome: Outcome::Allowed,
            matched: Vec::new(),
        };
    }
    let mut denies = Vec::new();
    let mut scan = |policy: &Policy, source: PolicySource, principals: bool| {
        scan_policy(policy, source, principals, &env, &mut denies)
    };
    let identity: Vec<Layer> = policies
        .identity
        .iter()
        .enumerate()
        .map(|(i, p)| scan(p, PolicySource::Identity(i), false))
        .collect();
    let resource = policies
        .resource
        .as_ref()
        .map(|p| scan(p, PolicySource::Resource, true));
    let boundary = policies
        .permissions_boundary
        .as_ref()
        .map(|p| scan(p, PolicySource::PermissionsBoundary, false));
    let session = policies
        .session
        .as_ref()
        .map(|p| scan(p, PolicySource::Session, false));
    let scps: Vec<Vec<Layer>> = policies
        .service_control
        .iter()
        .enumerate()
        .map(|(level, ps)| {
            ps.iter()
                .enumerate()
                .map(|(index, p)| scan(p, PolicySource::ServiceControl { level, index }, false))
                .collect()
        })
        .collect();
    if !denies.is_empty() {
        return Decision {
            outcome: Outcome::ExplicitDeny,
            matched: denies,
        };
    }

    let allowed = decide(
        request,
        &env,
        &identity,
        resource.as_ref(),
        boundary.as_ref(),
        session.as_ref(),
        &scps,
    );
    let layers = identity
        .iter()
        .chain(&resource)
        .chain(&boundary)
        .chain(&session)
        .chain(scps.iter().flatten());
    let matched = layers.flat_map(|l| l.allows.iter().cloned()).collect();
    let outcome = if allowed {
        Outcome::Allowed
    } else {
        Outcome::ImplicitDeny
    };
    Decision { outcome, matched }
}

/// Whether the layers allow, given that nothing denied explicitly.
fn decide(
    request: &Request,
    env: &Env,
    identity: &[Layer],
    resource: Option<&Layer>,
    boundary: Option<&Layer>,
    session: Option<&Layer>,
    scps: &[Vec<Layer>],
) -> bool {
    let principal = &request.principal;
    let resource_match = resource.and_then(|r| r.best_principal_match);
    match principal.kind() {
        // Services, anonymous callers and web identities have no identity policies and no
        // SCPs: only a resource policy naming them (or "*") lets them in.
        PrincipalKind::Service(_)
        | PrincipalKind::Anonymous
        | PrincipalKind::WebIdentity { .. } => {
            return resource_match.is_some();
        }
        PrincipalKind::HostAgent { .. } => return false,
        _ => {}
    }
    // SCPs bind every principal of the account, the root user included.
    if !scps.iter().all(|level| level.iter().any(Layer::allows)) {
        return false;
    }
    let is_root = matches!(principal.kind(), PrincipalKind::Root { .. });
    let identity_allows = is_root || identity.iter().any(Layer::allows);
    let boundary_ok = is_root || boundary.is_none_or(Layer::allows);
    // A role session without a session policy keeps the role's permissions; a
    // federated-user session without one has none [UG:evaluation-logic step 6].
    let session_ok = match session {
        Some(layer) => layer.allows(),
        None => !matches!(principal.kind(), PrincipalKind::FederatedUser { .. }),
    };
    let same_account = principal.account() == Some(request.resource_account.as_str());
    let bounded = |allowed: bool| allowed && boundary_ok && session_ok;

    if is_trust_request(env, request) {
        // A trust policy must allow explicitly, even in the same account.
        return match resource_match {
            None => false,
            Some(PrincipalMatch::Exact) if same_account => true,
            Some(_) => bounded(identity_allows),
        };
    }
    if !same_account {
        // Both the caller's account and the resource's account must allow.
        return resource_match.is_some() && bounded(identity_allows);
    }
    match resource_match {
        // Naming the user, role-session or federated-user ARN is final, even
        // past a boundary or session policy [UG:evaluation-logic step 3].
        Some(PrincipalMatch::Exact) => true,
        // Naming the role ARN (or "*") allows, within boundary and session policy.
        Some(PrincipalMatch::RoleArn | PrincipalMatch::Wildcard) => bounded(true),
        // Naming the account delegates to the identity policies.
        Some(PrincipalMatch::Account) | None => bounded(identity_allows),
    }
}

/// sts:AssumeRole* / TagSession / SetSourceIdentity on a role: the resource
/// policy is the role's trust policy.
fn is_trust_request(env: &Env, request: &Request) -> bool {
    TRUST_ACTIONS.contains(&env.action.as_str())
        && Arn::parse(&request.resource)
            .is_some_and(|a| a.service == "iam" && a.resource.starts_with("role/"))
}

/// Collects the statements of `policy` that apply; Denies go to `denies`.
fn scan_policy(
    policy: &Policy,
    source: PolicySource,
    check_principal: bool,
    env: &Env,
    denies: &mut Vec<MatchedStatement>,
) -> Layer {
    let mut layer = Layer::default();
    let request = env.request;
    for (index, statement) in policy.statements.iter().enumerate() {
        if !statement.action.matches(&env.action) {
            continue;
        }
        if let Some(resource) = &statement.resource
            && !resource.matches(&request.resource, env)
        {
            continue;
        }
        let principal_match = match (&statement.principal, check_principal) {
            (_, false) => None,
            (Some(element), true) => match element.matches(&request.principal) {
                Some(m) => Some(m),
                None => continue,
            },
            // A resource-policy statement that names no one applies to no one.
            (None, true) => continue,
        };
        if !statement.conditions.iter().all(|c| c.evaluate(env)) {
            continue;
        }
        let matched = MatchedStatement {
            source,
            statement_index: index,
            sid: statement.sid.clone(),
            effect: statement.effect,
        };
        match statement.effect {
            Effect::Deny => denies.push(matched),
            Effect::Allow => {
                layer.allows.push(matched);
                layer.best_principal_match = layer.best_principal_match.max(principal_match);
            }
        }
    }
    layer
}
