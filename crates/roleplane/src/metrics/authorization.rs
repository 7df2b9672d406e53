//! Authorization decisions, by the service namespace of the action asked about (`iam`, `s3`,
//! …; an EC2 RunInstances that passes a role counts an `iam` decision for `iam:PassRole`) and
//! by outcome. Counted where the engine is asked about an API call (`request::authz`, STS's
//! web identity trust); every series exists from the start, and an observation indexes a
//! pre-made counter, taking no lock.

use policy::Outcome;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;

/// The namespaces of the actions the services ask about; any other counts as `other`.
const NAMESPACES: [&str; 7] = [
    "iam",
    "sts",
    "ec2",
    "s3",
    "cloudtrail",
    "access-analyzer",
    "other",
];

const DECISIONS: [&str; 3] = ["allow", "explicit_deny", "implicit_deny"];

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
pub struct DecisionLabels {
    service: &'static str,
    decision: &'static str,
}

#[derive(Debug, Clone)]
pub struct AuthorizationMetrics {
    pub family: Family<DecisionLabels, Counter>,
    /// `family`'s counters by [`NAMESPACES`] index, then [`DECISIONS`] index.
    counters: Vec<[Counter; 3]>,
}

impl Default for AuthorizationMetrics {
    fn default() -> Self {
        let family = Family::<DecisionLabels, Counter>::default();
        let counters = NAMESPACES
            .iter()
            .map(|&service| {
                DECISIONS.map(|decision| {
                    family.get_or_create_owned(&DecisionLabels { service, decision })
                })
            })
            .collect();
        Self { family, counters }
    }
}

impl AuthorizationMetrics {
    /// The engine answered `outcome` about `action` (`service:Name`).
    pub fn observe(&self, action: &str, outcome: Outcome) {
        let namespace = action
            .split_once(':')
            .map_or("", |(namespace, _)| namespace);
        let service = NAMESPACES
            .iter()
            .position(|&n| n == namespace)
            .unwrap_or(NAMESPACES.len() - 1);
        let decision = match outcome {
            Outcome::Allowed => 0,
            Outcome::ExplicitDeny => 1,
            Outcome::ImplicitDeny => 2,
        };
        if let Some(counters) = self.counters.get(service) {
            counters[decision].inc();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decisions_count_under_their_action_namespace() {
        let metrics = AuthorizationMetrics::default();
        metrics.observe("iam:PassRole", Outcome::Allowed);
        metrics.observe("iam:CreateUser", Outcome::ImplicitDeny);
        metrics.observe("s3:GetObject", Outcome::ExplicitDeny);
        metrics.observe("bogus", Outcome::Allowed);
        let count = |service, decision| {
            metrics
                .family
                .get_or_create(&DecisionLabels { service, decision })
                .get()
        };
        assert_eq!(count("iam", "allow"), 1);
        assert_eq!(count("iam", "implicit_deny"), 1);
        assert_eq!(count("s3", "explicit_deny"), 1);
        assert_eq!(count("other", "allow"), 1);
        assert_eq!(count("sts", "allow"), 0);
    }
}
