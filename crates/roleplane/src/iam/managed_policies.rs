//! Customer managed policies and their versions (up to five, one of them the default).

use policy::Arn;
use protocol::AwsError;
use store::{EntityKind, ManagedPolicy, NewPolicy, Store};

use super::access::{Located, authorize, request_tags};
use super::aws_managed::{self, Write};
use super::paging;
use super::validate::{Input, KeyCase, LONG_NAME, reject_reserved_or_duplicate_keys};
use super::xml::{self, PolicyView};
use super::{Reply, account, arn, documents, done, respond, store_error};
use crate::request::Call;

/// Finds a managed policy by ARN for an operation on it, in the caller's account only: a policy
/// of another account is never read (the operation is refused as AWS refuses it). The read-only
/// `aws` namespace is the catalogue of AWS managed policies (`aws_managed`).
pub async fn locate<S: Store>(
    call: &Call<'_, S>,
    policy_arn: &str,
) -> Result<Located<ManagedPolicy>, AwsError> {
    let owner = owning_account(policy_arn)?;
    if owner != account(call) && owner != AWS_NAMESPACE {
        return Ok(Located::foreign(
            policy_arn.to_owned(),
            owner,
            EntityKind::Policy,
        ));
    }
    let found = match owner == AWS_NAMESPACE {
        true => aws_managed::policy(call, policy_arn).await,
        false => call.app.store().policy(account(call), policy_arn).await,
    };
    Located::new(found, policy_arn.to_owned())
}

/// The account field of AWS managed policies' ARNs.
const AWS_NAMESPACE: &str = crate::aws_policies::NAMESPACE;

/// Whether the ARN names a policy of AWS's read-only namespace.
fn is_aws(policy_arn: &str) -> bool {
    owning_account(policy_arn).is_ok_and(|owner| owner == AWS_NAMESPACE)
}

/// The account a policy ARN names. IAM refuses a policy ARN it cannot read before looking
/// anything up (`InvalidInput`, `ARN x is not valid.`).
fn owning_account(policy_arn: &str) -> Result<&str, AwsError> {
    Arn::parse(policy_arn)
        .filter(|arn| {
            !arn.partition.is_empty()
                && arn.service == "iam"
                && arn.region.is_empty()
                && !arn.account.is_empty()
                && arn.resource.starts_with("policy/")
        })
        .map(|arn| arn.account)
        .ok_or_else(|| {
            AwsError::sender(
                "InvalidInput",
                400,
                format!("ARN {policy_arn} is not valid."),
            )
        })
}

/// A permissions boundary must name a policy: anything else is `InvalidInput`, `ARN x is not
/// valid.` before any lookup (recorded AWS answers: LocalStack's test_iam_roles.py,
/// test_role_permissions_boundary_errors, for CreateRole and PutRolePermissionsBoundary).
pub fn check_boundary_arn(boundary: &str) -> Result<(), AwsError> {
    owning_account(boundary).map(|_| ())
}

/// Attach*Policy with a `PolicyArn` that is no ARN at all (a policy's name, say) is refused as
/// `ValidationError`, `ARN x is not valid.` (recorded AWS answers: test_iam_roles.py
/// test_role_managed_policy_errors, test_iam.py test_user_attach_policy); an ARN of anything
/// else is a missing policy.
pub fn check_attached_arn(policy_arn: &str) -> Result<(), AwsError> {
    match Arn::parse(policy_arn) {
        Some(_) => Ok(()),
        None => Err(AwsError::sender(
            "ValidationError",
            400,
            format!("ARN {policy_arn} is not valid."),
        )),
    }
}

pub async fn create<S: Store>(call: &Call<'_, S>) -> Reply {
    let mut input = Input::new(call.input);
    let name = input.name("PolicyName", LONG_NAME);
    let path = input.policy_path("Path");
    let document = input.document("PolicyDocument");
    let description = input.policy_description("Description");
    let tags = input.tags("Tags", false);
    input.finish()?;
    reject_reserved_or_duplicate_keys(&tags, KeyCase::Sensitive)?;
    authorize(call, &arn(call, "policy", path, name), request_tags(&tags)).await?;
    documents::managed(document)?;
    let policy = call
        .app
        .store()
        .create_policy(
            account(call),
            NewPolicy {
                name: name.to_owned(),
                path: path.to_owned(),
                document: document.to_owned(),
                description: description.map(str::to_owned),
                tags,
            },
        )
        .await
        .map_err(store_error)?;
    Ok(respond(call, |x| {
        x.node("Policy", |x| {
            xml::managed_policy(x, &policy, PolicyView::Created)
        });
    }))
}

pub async fn get<S: Store>(call: &Call<'_, S>) -> Reply {
    let mut input = Input::new(call.input);
    let policy_arn = input.arn("PolicyArn");
    input.finish()?;
    let policy = locate(call, policy_arn)
        .await?
        .authorize(call, Vec::new())
        .await?;
    Ok(respond(call, |x| {
        x.node("Policy", |x| {
            xml::managed_policy(x, &policy, PolicyView::Full)
        });
    }))
}

pub async fn delete<S: Store>(call: &Call<'_, S>) -> Reply {
    let mut input = Input::new(call.input);
    let policy_arn = input.arn("PolicyArn");
    input.finish()?;
    let located = locate(call, policy_arn).await?;
    if is_aws(policy_arn) {
        located.authorize_only(call, Vec::new()).await?;
        return Err(aws_managed::refuse(Write::Delete));
    }
    located.authorize(call, Vec::new()).await?;
    call.app
        .store()
        .delete_policy(account(call), policy_arn)
        .await
        .map_err(store_error)?;
    done(call)
}

pub async fn list<S: Store>(call: &Call<'_, S>) -> Reply {
    let mut input = Input::new(call.input);
    let scope = input.optional_enumeration("Scope", &["All", "AWS", "Local"]);
    let only_attached = input.boolean("OnlyAttached").unwrap_or(false);
    let prefix = input.policy_path("PathPrefix");
    let usage = input.optional_enumeration(
        "PolicyUsageFilter",
        &["PermissionsPolicy", "PermissionsBoundary"],
    );
    let query = input.list_query(prefix);
    input.finish()?;
    authorize(call, &arn(call, "policy", prefix, ""), Vec::new()).await?;
    let filter = aws_managed::ListFilter {
        path_prefix: prefix,
        only_attached,
        usage,
    };
    let page = match scope {
        Some("AWS") => aws_managed::list(call, &filter, &query).await?,
        Some("Local") => local_page(call, &query, only_attached, usage).await?,
        // All: the account's own policies first, then AWS's (as LocalStack's AWS-validated
        // suite expects; AWS's own interleaving is not documented). A marker of the AWS part
        // says so; any other marker is the local part's.
        _ => match query.marker.as_deref().and_then(aws_managed::aws_marker) {
            Some(_) => aws_managed::list(call, &filter, &query).await?,
            None => {
                let mut page = local_page(call, &query, only_attached, usage).await?;
                if page.next_marker.is_none() && page.items.len() < query.max_items as usize {
                    let rest = store::ListQuery {
                        marker: None,
                        max_items: query.max_items - page.items.len() as u32,
                        ..query.clone()
                    };
                    let aws = aws_managed::list(call, &filter, &rest).await?;
                    page.items.extend(aws.items);
                    page.next_marker = aws.next_marker;
                } else if page.next_marker.is_none() {
                    page.next_marker = Some(aws_managed::FIRST_MARKER.to_owned());
                }
                page
            }
        },
    };
    Ok(respond(call, |x| {
        x.list("Policies", "member", &page.items, |x, policy| {
            xml::managed_policy(x, policy, PolicyView::Listed)
        })
        .truncation(page.next_marker.as_deref());
    }))
}

pub async fn create_version<S: Store>(call: &Call<'_, S>) -> Reply {
    let mut input = Input::new(call.input);
    let policy_arn = input.arn("PolicyArn");
    let document = input.document("PolicyDocument");
    let set_as_default = input.boolean("SetAsDefault").unwrap_or(false);
    input.finish()?;
    let located = locate(call, policy_arn).await?;
    if is_aws(policy_arn) {
        located.authorize_only(call, Vec::new()).await?;
        return Err(aws_managed::refuse(Write::CreateVersion));
    }
    located.authorize(call, Vec::new()).await?;
    documents::managed(document)?;
    let version = call
        .app
        .store()
        .create_policy_version(account(call), policy_arn, document, set_as_default)
        .await
        .map_err(store_error)?;
    Ok(respond(call, |x| {
        x.node("PolicyVersion", |x| xml::policy_version(x, &version, false));
    }))
}

pub async fn get_version<S: Store>(call: &Call<'_, S>) -> Reply {
    let mut input = Input::new(call.input);
    let policy_arn = input.arn("PolicyArn");
    let version_id = input.version_id("VersionId");
    input.finish()?;
    authorize_on_policy(call, policy_arn).await?;
    let version = match is_aws(policy_arn) {
        true => aws_managed::version(policy_arn, version_id)?,
        false => call
            .app
            .store()
            .policy_version(account(call), policy_arn, version_id)
            .await
            .map_err(store_error)?,
    };
    Ok(respond(call, |x| {
        x.node("PolicyVersion", |x| xml::policy_version(x, &version, true));
    }))
}

pub async fn list_versions<S: Store>(call: &Call<'_, S>) -> Reply {
    let mut input = Input::new(call.input);
    let policy_arn = input.arn("PolicyArn");
    let query = input.list_query("/");
    input.finish()?;
    locate(call, policy_arn)
        .await?
        .authorize(call, Vec::new())
        .await?;
    let versions = match is_aws(policy_arn) {
        true => aws_managed::published(policy_arn)?.versions(),
        false => call
            .app
            .store()
            .list_policy_versions(account(call), policy_arn)
            .await
            .map_err(store_error)?,
    };
    let (versions, next) = paging::page(versions, &query)?;
    Ok(respond(call, |x| {
        x.list("Versions", "member", &versions, |x, version| {
            xml::policy_version(x, version, false)
        })
        .truncation(next.as_deref());
    }))
}

pub async fn delete_version<S: Store>(call: &Call<'_, S>) -> Reply {
    let mut input = Input::new(call.input);
    let policy_arn = input.arn("PolicyArn");
    let version_id = input.version_id("VersionId");
    input.finish()?;
    authorize_on_policy(call, policy_arn).await?;
    if is_aws(policy_arn) {
        return Err(aws_managed::refuse(Write::DeleteVersion));
    }
    call.app
        .store()
        .delete_policy_version(account(call), policy_arn, version_id)
        .await
        .map_err(store_error)?;
    done(call)
}

pub async fn set_default_version<S: Store>(call: &Call<'_, S>) -> Reply {
    let mut input = Input::new(call.input);
    let policy_arn = input.arn("PolicyArn");
    let version_id = input.version_id("VersionId");
    input.finish()?;
    authorize_on_policy(call, policy_arn).await?;
    if is_aws(policy_arn) {
        return Err(aws_managed::refuse(Write::SetDefaultVersion));
    }
    call.app
        .store()
        .set_default_policy_version(account(call), policy_arn, version_id)
        .await
        .map_err(store_error)?;
    done(call)
}

/// Authorizes a version operation on the policy without insisting that it exists: for a
/// missing policy AWS names the version in its NoSuchEntity message, which the store's
/// version lookup produces.
async fn authorize_on_policy<S: Store>(
    call: &Call<'_, S>,
    policy_arn: &str,
) -> Result<(), AwsError> {
    locate(call, policy_arn)
        .await?
        .authorize_only(call, Vec::new())
        .await
}

/// The account's own policies, narrowed by the usage filter after the store cut the page, so
/// a page may come back short while still truncated, as IAM documents its own pages may.
async fn local_page<S: Store>(
    call: &Call<'_, S>,
    query: &store::ListQuery,
    only_attached: bool,
    usage: Option<&str>,
) -> Result<store::Page<ManagedPolicy>, AwsError> {
    let mut page = call
        .app
        .store()
        .list_policies(account(call), query, only_attached)
        .await
        .map_err(store_error)?;
    match usage {
        Some("PermissionsPolicy") => page.items.retain(|p| p.attachment_count > 0),
        Some("PermissionsBoundary") => page
            .items
            .retain(|p| p.permissions_boundary_usage_count > 0),
        _ => {}
    }
    Ok(page)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policy_arns_are_checked_for_shape_table() {
        // Accepted exactly as before `policy::Arn` did the split.
        let cases: &[(&str, Option<&str>)] = &[
            ("arn:aws:iam::123456789012:policy/p", Some("123456789012")),
            (
                "arn:aws:iam::123456789012:policy/path/p",
                Some("123456789012"),
            ),
            ("arn:aws:iam::aws:policy/ReadOnlyAccess", Some("aws")),
            ("arn:aws:iam::aws:policy/service-role/X", Some("aws")),
            // Any partition, any non-empty account: the lookup decides whether it exists.
            (
                "arn:aws-cn:iam::123456789012:policy/p",
                Some("123456789012"),
            ),
            ("arn:aws:iam::12:policy/p", Some("12")),
            ("arn:aws:iam::123456789012:policy/", Some("123456789012")),
            // Colons after the account belong to the resource.
            ("arn:aws:iam::123456789012:policy/a:b", Some("123456789012")),
            ("arn:aws:iam:::policy/p", None),
            ("arn::iam::123456789012:policy/p", None),
            ("arn:aws:iam:us-east-1:123456789012:policy/p", None),
            ("arn:aws:sts::123456789012:policy/p", None),
            ("arn:aws:iam::123456789012:policy", None),
            ("arn:aws:iam::123456789012:policyx/p", None),
            ("arn:aws:iam::123456789012:role/", None),
            ("arn:aws:iam::123456789012", None),
            ("ARN:aws:iam::123456789012:policy/p", None),
            ("", None),
        ];
        for (arn, expected) in cases {
            assert_eq!(owning_account(arn).ok(), *expected, "{arn}");
        }
    }

    #[test]
    fn policy_arns_are_checked_for_shape() {
        assert_eq!(
            owning_account("arn:aws:iam::123456789012:policy/p").ok(),
            Some("123456789012")
        );
        assert_eq!(
            owning_account("arn:aws:iam::aws:policy/AdministratorAccess").ok(),
            Some("aws")
        );
        for bad in [
            "p",
            "arn:aws:s3:::bucket/policy/x",
            "arn:aws:iam::123456789012:role/r",
        ] {
            assert_eq!(
                owning_account(bad).expect_err(bad).message,
                format!("ARN {bad} is not valid.")
            );
        }
    }
}
