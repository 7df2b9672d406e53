//! Least-privilege policy generation from the audit trail, the way IAM Access Analyzer does it
//! from CloudTrail, plus what CloudTrail cannot show AWS: the resources each action touched and
//! the roles the principal passed (`iam:PassRole`).
//!
//! The pipeline, pure in the middle:
//! - [`scan`]: pages through `audit.db` for one principal and time window (I/O, progress,
//!   cancellation) and feeds each record to an [`Activity`].
//! - [`Activity`]: what the principal did, folded record by record ([`observed`] reads one;
//!   S3's data events too, which AWS's Access Analyzer never reads).
//! - [`Directory`]: the ARNs behind names a record only spells (a role's path), loaded from
//!   the store once per rendering.
//! - [`render()`]: activity + directory + [`Options`] → policy documents, grouped by action
//!   set, validated by the policy engine; [`placeholders`] spells resources AWS's way, and
//!   [`key_prefixes`] writes the S3 objects of a bucket as exact keys or folder wildcards.
//! - [`output`]: the GetGeneratedPolicy response shape, shared by the API and the CLI.
//!
//! Which calls count: only calls that succeeded. A denied call is not granted (the principal
//! ran without it, and granting it would widen, not narrow, its permissions); a call that failed
//! for another reason (a missing entity, a bad parameter) proves no need either. Both are
//! counted in [`Activity::denied`] / [`Activity::failed`] so the CLI can say what was left out.

mod activity;
pub mod command;
mod directory;
pub mod key_prefixes;
pub mod observed;
pub mod output;
pub mod placeholders;
mod render;
mod s3_calls;
#[cfg(test)]
mod scale_tests;
pub mod scan;

use policy::Arn;

pub use activity::{Activity, Window};
pub use directory::{Directory, ResourceKind};
pub use render::{GenerateError, Options, render};
pub use scan::{Progress, ScanError, scan};

/// Access Analyzer's `PrincipalArn`: `arn:[^:]*:iam::[^:]*:(role|user)/.{1,576}`.
pub fn is_principal_arn(arn: &str) -> bool {
    let Some(arn) = Arn::parse(arn).filter(|a| a.service == "iam" && a.region.is_empty()) else {
        return false;
    };
    arn.resource
        .strip_prefix("role/")
        .or_else(|| arn.resource.strip_prefix("user/"))
        .is_some_and(|name| (1..=576).contains(&name.chars().count()))
}

#[cfg(test)]
mod tests {
    use super::is_principal_arn;

    #[test]
    fn principal_arns_follow_the_model_pattern() {
        assert!(is_principal_arn("arn:aws:iam::123456789012:role/app"));
        assert!(is_principal_arn(
            "arn:aws:iam::123456789012:user/team/alice"
        ));
        assert!(!is_principal_arn("arn:aws:iam::123456789012:group/g"));
        assert!(!is_principal_arn(
            "arn:aws:sts::123456789012:assumed-role/app/s"
        ));
        assert!(!is_principal_arn(
            "arn:aws:iam:us-east-1:123456789012:role/app"
        ));
        assert!(!is_principal_arn("arn:aws:iam::123456789012:role/"));
    }
}
