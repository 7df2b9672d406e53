//! IAM's operations on AWS managed policies (`arn:aws:iam::aws:policy/…`): read from the
//! compiled-in catalogue (`crate::aws_policies`), counted in the caller's account only, and
//! refused for every write with AWS's errors (decision 0019).

use std::collections::HashMap;

use store::{AwsPolicyUsage, EntityKind, ManagedPolicy, Store, StoreError};

use super::{account, store_error};
use crate::aws_policies::{self, AwsPolicy};
use crate::request::Call;
use protocol::AwsError;

fn not_found(kind: EntityKind, name: &str) -> StoreError {
    StoreError::NotFound {
        kind,
        name: name.to_owned(),
    }
}

/// The policy as GetPolicy shows it, with the caller's account's usage; `NotFound` when AWS
/// publishes no such policy.
pub async fn policy<S: Store>(call: &Call<'_, S>, arn: &str) -> Result<ManagedPolicy, StoreError> {
    let policy = aws_policies::get(arn).ok_or_else(|| not_found(EntityKind::Policy, arn))?;
    let usage = usage(call).await?;
    let (attachments, boundaries) = usage.get(arn).copied().unwrap_or((0, 0));
    Ok(policy.to_managed(attachments, boundaries))
}

/// Attachments and boundaries per AWS policy ARN in the caller's account.
pub async fn usage<S: Store>(
    call: &Call<'_, S>,
) -> Result<HashMap<String, (u32, u32)>, StoreError> {
    let rows = call.app.store().aws_policy_usage(account(call)).await?;
    Ok(rows
        .into_iter()
        .map(
            |AwsPolicyUsage {
                 arn,
                 attachments,
                 boundaries,
             }| (arn, (attachments, boundaries)),
        )
        .collect())
}

/// The AWS policies in use in the caller's account (attached, or a boundary), as
/// GetAccountAuthorizationDetails lists them: every version, newest first, by name.
pub async fn in_use_details<S: Store>(
    call: &Call<'_, S>,
) -> Result<Vec<store::PolicyDetail>, StoreError> {
    let usage = usage(call).await?;
    let mut details: Vec<_> = usage
        .iter()
        .filter(|(_, (attachments, boundaries))| attachments + boundaries > 0)
        .filter_map(|(arn, &(attachments, boundaries))| {
            let policy = aws_policies::get(arn)?;
            Some(store::PolicyDetail {
                policy: policy.to_managed(attachments, boundaries),
                versions: policy.versions(),
            })
        })
        .collect();
    details.sort_by_cached_key(|d| d.policy.name.to_lowercase());
    Ok(details)
}

/// Refuses an ARN in AWS's namespace that names no AWS managed policy, in the words the store
/// uses for a missing policy of `kind` (attach: "does not exist or is not attachable", a
/// boundary: "Scope ARN: … does not exist or is not attachable"). Other ARNs pass: the store
/// checks those itself.
pub fn require_exists(arn: &str, kind: EntityKind) -> Result<(), AwsError> {
    if aws_policies::in_namespace(arn) && aws_policies::get(arn).is_none() {
        return Err(store_error(not_found(kind, arn)));
    }
    Ok(())
}

/// The published policy an ARN of AWS's namespace names, or NoSuchEntity.
pub fn published(arn: &str) -> Result<&'static AwsPolicy, AwsError> {
    aws_policies::get(arn).ok_or_else(|| store_error(not_found(EntityKind::Policy, arn)))
}

/// A version of an AWS policy, or NoSuchEntity in the store's words for a missing version.
pub fn version(arn: &str, version_id: &str) -> Result<store::PolicyVersion, AwsError> {
    let missing = || {
        store_error(not_found(
            EntityKind::PolicyVersion {
                policy_arn: arn.to_owned(),
            },
            version_id,
        ))
    };
    aws_policies::get(arn)
        .ok_or_else(missing)?
        .version(version_id)
        .ok_or_else(missing)
}

/// The write refusals AWS answers for policies outside the caller's account, recorded in
/// LocalStack's AWS-validated snapshots (DeletePolicy, DeletePolicyVersion,
/// SetDefaultPolicyVersion). CreatePolicyVersion's is not recorded: chosen by analogy.
pub enum Write {
    Delete,
    CreateVersion,
    DeleteVersion,
    SetDefaultVersion,
}

pub fn refuse(write: Write) -> AwsError {
    AwsError::access_denied(match write {
        Write::Delete => "Cannot delete policies outside your own account.",
        Write::CreateVersion => {
            "Cannot create policy versions for policies outside your own account."
        }
        Write::DeleteVersion => {
            "Cannot delete policy versions for policies outside your own account."
        }
        Write::SetDefaultVersion => "Cannot update policies outside your own account.",
    })
}

/// ListPolicies' filters as they apply to AWS managed policies.
pub struct ListFilter<'a> {
    pub path_prefix: &'a str,
    pub only_attached: bool,
    pub usage: Option<&'a str>,
}

/// The marker of the AWS part of a listing: this prefix, then the hex of the last returned
/// policy's ARN (empty: from the first).
const MARKER_PREFIX: &str = "aws:";
pub const FIRST_MARKER: &str = MARKER_PREFIX;

/// The hex part of a marker of the AWS part; `None` for a marker of the local part.
pub fn aws_marker(marker: &str) -> Option<&str> {
    marker.strip_prefix(MARKER_PREFIX)
}

/// One page of AWS managed policies (in the catalogue's order, by creation) with the caller's
/// account's counts; the filters apply before the page is cut, so every page but the last is
/// full. A marker naming a policy the catalogue no longer has is refused.
pub async fn list<S: Store>(
    call: &Call<'_, S>,
    filter: &ListFilter<'_>,
    query: &store::ListQuery,
) -> Result<store::Page<ManagedPolicy>, AwsError> {
    let invalid = || AwsError::sender("InvalidInput", 400, "Invalid Marker.");
    let policies = aws_policies::catalog().policies();
    let start = match query.marker.as_deref() {
        None => 0,
        Some(marker) => {
            let after = unhex(aws_marker(marker).ok_or_else(invalid)?).ok_or_else(invalid)?;
            match after.as_str() {
                "" => 0,
                arn => {
                    1 + policies
                        .iter()
                        .position(|p| p.arn == arn)
                        .ok_or_else(invalid)?
                }
            }
        }
    };
    let usage = usage(call).await.map_err(store_error)?;
    let max = query.max_items as usize;
    let mut items = Vec::new();
    let mut truncated = false;
    for policy in &policies[start..] {
        if !policy.path.starts_with(filter.path_prefix) {
            continue;
        }
        let (attachments, boundaries) = usage.get(&policy.arn).copied().unwrap_or((0, 0));
        let wanted = match filter.usage {
            Some("PermissionsPolicy") => attachments > 0,
            Some("PermissionsBoundary") => boundaries > 0,
            _ => true,
        };
        if !wanted || (filter.only_attached && attachments == 0) {
            continue;
        }
        if items.len() == max {
            truncated = true;
            break;
        }
        items.push(policy.to_managed(attachments, boundaries));
    }
    let next_marker = truncated.then(|| {
        let last = items.last().map(|p: &ManagedPolicy| p.arn.as_str());
        format!("{MARKER_PREFIX}{}", hex::encode(last.unwrap_or_default()))
    });
    Ok(store::Page { items, next_marker })
}

fn unhex(text: &str) -> Option<String> {
    String::from_utf8(hex::decode(text).ok()?).ok()
}
