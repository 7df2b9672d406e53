//! What each kind of policy may contain.

use crate::document::Policy;
use crate::error::{ErrorCode, PolicyError};

/// Where a policy document is used; the rules differ per kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PolicyKind {
    /// A managed identity policy (CreatePolicy / CreatePolicyVersion).
    Identity,
    /// An inline identity policy (PutUserPolicy / PutRolePolicy / PutGroupPolicy).
    /// Version may be absent or 2008-10-17; variables are then literal.
    InlineIdentity,
    /// A resource-based policy such as a bucket or key policy.
    Resource,
    /// A role trust policy (AssumeRolePolicyDocument).
    Trust,
    /// A session policy passed to AssumeRole / GetFederationToken.
    Session,
    /// A managed policy used as a permissions boundary.
    PermissionsBoundary,
    /// An Organizations service control policy.
    ServiceControl,
}

/// Actions a trust policy may name [UG:id_session-tags, id_credentials_temp_control-access_monitor].
pub const TRUST_ACTIONS: &[&str] = &[
    "sts:assumerole",
    "sts:assumerolewithsaml",
    "sts:assumerolewithwebidentity",
    "sts:tagsession",
    "sts:setsourceidentity",
];

impl PolicyKind {
    /// Managed policies, boundaries and SCPs reject a missing or 2008 Version with
    /// `Policy document must be version 2012-10-17 or greater.` (moto's corpus;
    /// Meteor-CollectionFS#630 shows IAM's CreatePolicy doing it). Inline, trust,
    /// resource and session policies accept both and read variables literally
    /// [UG:reference_policies_elements_version].
    pub fn requires_current_version(self) -> bool {
        matches!(
            self,
            PolicyKind::Identity | PolicyKind::PermissionsBoundary | PolicyKind::ServiceControl
        )
    }

    /// Every kind but trust policies needs Resource or NotResource in each statement.
    pub fn requires_resource(self) -> bool {
        self != PolicyKind::Trust
    }

    /// Resource and trust policies say whom they apply to.
    pub fn takes_principal(self) -> bool {
        matches!(self, PolicyKind::Resource | PolicyKind::Trust)
    }
}

/// Principal / Resource presence per statement: (`Some(negated)` if a
/// Principal or NotPrincipal is present, whether a Resource is present).
pub(crate) fn check_elements(
    kind: PolicyKind,
    statements: impl Iterator<Item = (Option<bool>, bool)>,
) -> Result<(), PolicyError> {
    let prohibited = |field: &str| {
        PolicyError::new(
            ErrorCode::ProhibitedField,
            format!("Has prohibited field {field}"),
        )
    };
    for (principal, has_resource) in statements {
        match (kind, principal) {
            // terraform#13449, terraform-provider-aws#10419.
            (
                PolicyKind::Identity
                | PolicyKind::InlineIdentity
                | PolicyKind::PermissionsBoundary
                | PolicyKind::Session,
                Some(_),
            ) => {
                return Err(PolicyError::new(
                    ErrorCode::ProhibitedField,
                    "Policy document should not specify a principal.",
                ));
            }
            // SCPs are Organizations documents; the generic prohibited-field
            // message (terraform PR #4730) is our choice there (UNCONFIRMED).
            (PolicyKind::ServiceControl, Some(_)) => {
                return Err(prohibited("Principal"));
            }
            // NotPrincipal is forbidden in trust policies [UG:reference_policies_elements_notprincipal].
            (PolicyKind::Trust, Some(true)) => return Err(prohibited("NotPrincipal")),
            // IAM's text for a trust statement with no principals
            // (terraform-aws-modules/terraform-aws-iam#47).
            (PolicyKind::Trust, None) => {
                return Err(PolicyError::new(
                    ErrorCode::MissingPrincipal,
                    "Invalid principal in policy: com.amazon.balsa.error.InvalidPolicyException: \
                     The passed in policy has a statement with no principals!",
                ));
            }
            // S3's wording for a bucket policy statement without Principal (UNCONFIRMED).
            (PolicyKind::Resource, None) => {
                return Err(PolicyError::new(
                    ErrorCode::MissingPrincipal,
                    "Missing required field Principal",
                ));
            }
            _ => {}
        }
        // eks-pod-identity#34.
        if kind == PolicyKind::Trust && has_resource {
            return Err(prohibited("Resource"));
        }
    }
    Ok(())
}

/// Rules that need the built model.
pub(crate) fn check_policy(kind: PolicyKind, policy: &Policy) -> Result<(), PolicyError> {
    if kind == PolicyKind::Trust {
        for statement in &policy.statements {
            let allowed = !statement.action.negated
                && statement.action.actions.iter().all(|a| {
                    a.source.to_ascii_lowercase().starts_with("sts:")
                        && TRUST_ACTIONS.iter().any(|t| a.matches(t))
                });
            if !allowed {
                return Err(PolicyError::new(
                    ErrorCode::TrustPolicyAction,
                    "AssumeRole policy may only specify STS AssumeRole actions.",
                ));
            }
        }
    }
    Ok(())
}
