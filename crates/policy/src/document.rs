//! The typed policy model, and how each element matches a request.

use crate::arn::ArnPattern;
use crate::condition::Condition;
use crate::pattern::{Pattern, Syntax};
use crate::principal::{Principal, PrincipalKind, PrincipalMatch};
use crate::variables::{NoVariables, Variables};

/// The policy language version. Variables are only substituted under 2012-10-17.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Version {
    V2012_10_17,
    V2008_10_17,
}

impl Version {
    pub fn as_str(self) -> &'static str {
        match self {
            Version::V2012_10_17 => "2012-10-17",
            Version::V2008_10_17 => "2008-10-17",
        }
    }
}

/// A parsed policy document.
#[derive(Debug, Clone, PartialEq)]
pub struct Policy {
    /// `None` when the document has no Version element.
    pub version: Option<Version>,
    pub id: Option<String>,
    pub statements: Vec<Statement>,
}

impl Policy {
    /// Whether `${…}` is substituted in this policy.
    pub fn variables_enabled(&self) -> bool {
        self.version == Some(Version::V2012_10_17)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Effect {
    Allow,
    Deny,
}

impl Effect {
    pub fn as_str(self) -> &'static str {
        match self {
            Effect::Allow => "Allow",
            Effect::Deny => "Deny",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Statement {
    pub sid: Option<String>,
    pub effect: Effect,
    /// Principal / NotPrincipal; only in resource and trust policies.
    pub principal: Option<PrincipalElement>,
    /// Action / NotAction.
    pub action: ActionElement,
    /// Resource / NotResource; absent in trust policies.
    pub resource: Option<ResourceElement>,
    /// ANDed together.
    pub conditions: Vec<Condition>,
}

/// Principal or NotPrincipal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrincipalElement {
    pub negated: bool,
    pub set: PrincipalSet,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PrincipalSet {
    /// `"Principal": "*"`.
    Any,
    /// `{"AWS": [...], "Service": [...], ...}` in document order.
    Map(Vec<(PrincipalType, Vec<String>)>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PrincipalType {
    Aws,
    Service,
    Federated,
    CanonicalUser,
}

impl PrincipalType {
    pub fn as_str(self) -> &'static str {
        match self {
            PrincipalType::Aws => "AWS",
            PrincipalType::Service => "Service",
            PrincipalType::Federated => "Federated",
            PrincipalType::CanonicalUser => "CanonicalUser",
        }
    }

    pub fn parse(name: &str) -> Option<PrincipalType> {
        [
            PrincipalType::Aws,
            PrincipalType::Service,
            PrincipalType::Federated,
            PrincipalType::CanonicalUser,
        ]
        .into_iter()
        .find(|t| t.as_str() == name)
    }
}

/// Action or NotAction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActionElement {
    pub negated: bool,
    pub actions: Vec<ActionPattern>,
}

/// One action such as `s3:Get*`, matched case-insensitively.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActionPattern {
    pub source: String,
    pattern: Pattern,
}

impl ActionPattern {
    pub fn new(source: &str) -> ActionPattern {
        ActionPattern {
            source: source.into(),
            pattern: Pattern::compile(&source.to_ascii_lowercase(), Syntax::GLOB),
        }
    }

    /// `action` must already be lowercase (evaluation lowercases it once per request).
    pub fn matches(&self, action_lowercase: &str) -> bool {
        self.pattern
            .matches(action_lowercase, &NoVariables)
            .unwrap_or(false)
    }
}

/// Resource or NotResource.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResourceElement {
    pub negated: bool,
    pub resources: Vec<ResourcePattern>,
}

/// One resource ARN pattern; variables only count after the fifth colon.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResourcePattern {
    pub source: String,
    pattern: ArnPattern,
}

impl ResourcePattern {
    pub fn new(source: &str, variables: bool) -> ResourcePattern {
        ResourcePattern {
            source: source.into(),
            pattern: ArnPattern::compile(source, variables, false),
        }
    }

    /// A pattern whose variable has no value matches nothing
    /// [UG:reference_policies_variables §no value].
    pub fn matches(&self, resource: &str, vars: &dyn Variables) -> bool {
        self.pattern.matches(resource, vars).unwrap_or(false)
    }
}

impl ActionElement {
    pub fn matches(&self, action_lowercase: &str) -> bool {
        self.actions.iter().any(|a| a.matches(action_lowercase)) != self.negated
    }
}

impl ResourceElement {
    pub fn matches(&self, resource: &str, vars: &dyn Variables) -> bool {
        self.resources.iter().any(|r| r.matches(resource, vars)) != self.negated
    }
}

impl PrincipalElement {
    /// How the element names `principal`, or `None` if the statement does not apply to it.
    pub fn matches(&self, principal: &Principal) -> Option<PrincipalMatch> {
        if !self.negated {
            return self.set.best_match(principal);
        }
        // NotPrincipal leaves the caller out only when every identity it carries
        // (its ARN, its role ARN for a session, its account) is listed
        // [UG:reference_policies_elements_notprincipal].
        let listed = |kind: PrincipalMatch| self.set.names(principal, kind);
        let required: &[PrincipalMatch] = match principal.kind() {
            PrincipalKind::IamUser { .. } | PrincipalKind::FederatedUser { .. } => {
                &[PrincipalMatch::Exact, PrincipalMatch::Account]
            }
            PrincipalKind::AssumedRole { .. } => &[
                PrincipalMatch::Exact,
                PrincipalMatch::RoleArn,
                PrincipalMatch::Account,
            ],
            PrincipalKind::Root { .. } | PrincipalKind::Service(_) => &[PrincipalMatch::Exact],
            PrincipalKind::Anonymous => &[PrincipalMatch::Wildcard],
            PrincipalKind::WebIdentity { .. } => &[PrincipalMatch::Exact],
            // Named by nothing, so left out by nothing either: no statement applies to it.
            PrincipalKind::HostAgent { .. } => &[],
        };
        let excluded = listed(PrincipalMatch::Wildcard) || required.iter().all(|k| listed(*k));
        (!excluded).then_some(PrincipalMatch::Wildcard)
    }
}

impl PrincipalSet {
    fn entries(&self) -> impl Iterator<Item = (PrincipalType, &str)> {
        let map: &[(PrincipalType, Vec<String>)] = match self {
            PrincipalSet::Any => &[],
            PrincipalSet::Map(map) => map,
        };
        map.iter()
            .flat_map(|(t, values)| values.iter().map(move |v| (*t, v.as_str())))
    }

    fn entry_match(
        principal: &Principal,
        kind: PrincipalType,
        entry: &str,
    ) -> Option<PrincipalMatch> {
        match kind {
            PrincipalType::Aws => principal.match_aws(entry),
            PrincipalType::Service => principal.match_service(entry),
            PrincipalType::Federated => principal.match_federated(entry),
            // No caller here is an S3 canonical user.
            PrincipalType::CanonicalUser => None,
        }
    }

    /// The strongest way any entry names the caller.
    pub fn best_match(&self, principal: &Principal) -> Option<PrincipalMatch> {
        if *self == PrincipalSet::Any {
            return Some(PrincipalMatch::Wildcard);
        }
        self.entries()
            .filter_map(|(t, e)| Self::entry_match(principal, t, e))
            .max()
    }

    fn names(&self, principal: &Principal, kind: PrincipalMatch) -> bool {
        *self == PrincipalSet::Any
            || self
                .entries()
                .any(|(t, e)| Self::entry_match(principal, t, e) == Some(kind))
    }
}
