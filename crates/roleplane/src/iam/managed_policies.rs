//! Customer managed policies and their versions (up to five, one of them the default).

use store::{ManagedPolicy, NewPolicy, Store};

use super::access::{Located, authorize, request_tags};
use super::paging;
use super::validate::{Input, LONG_NAME, reject_reserved_or_duplicate_keys};
use super::xml::{self, TagsMember};
use super::{Reply, account, arn, documents, done, respond, store_error};
use crate::protocol::AwsError;
use crate::server::api::Call;

/// Finds a managed policy by ARN for an operation on it.
pub async fn locate<S: Store>(
    call: &Call<'_, S>,
    policy_arn: &str,
) -> Result<Located<ManagedPolicy>, AwsError> {
    valid_arn(policy_arn)?;
    let found = call.app.store().policy(policy_arn).await;
    Located::new(found, policy_arn.to_owned())
}

/// IAM refuses a policy ARN it cannot read before looking anything up
/// (`InvalidInput`, `ARN x is not valid.`).
fn valid_arn(policy_arn: &str) -> Result<(), AwsError> {
    let mut parts = policy_arn.splitn(6, ':');
    let well_formed = parts.next() == Some("arn")
        && parts.next().is_some_and(|p| !p.is_empty())
        && parts.next() == Some("iam")
        && parts.next() == Some("")
        && parts.next().is_some_and(|a| !a.is_empty())
        && parts.next().is_some_and(|r| r.starts_with("policy/"));
    if well_formed {
        Ok(())
    } else {
        Err(AwsError::sender(
            "InvalidInput",
            400,
            format!("ARN {policy_arn} is not valid."),
        ))
    }
}

pub async fn create<S: Store>(call: &Call<'_, S>) -> Reply {
    let mut input = Input::new(call.params);
    let name = input.name("PolicyName", LONG_NAME);
    let path = input.policy_path("Path");
    let document = input.document("PolicyDocument");
    let description = input.policy_description("Description");
    let tags = input.tags("Tags", false);
    input.finish()?;
    reject_reserved_or_duplicate_keys(&tags)?;
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
            xml::managed_policy(x, &policy, TagsMember::IfAny)
        });
    }))
}

pub async fn get<S: Store>(call: &Call<'_, S>) -> Reply {
    let mut input = Input::new(call.params);
    let policy_arn = input.arn("PolicyArn");
    input.finish()?;
    let policy = locate(call, policy_arn)
        .await?
        .authorize(call, Vec::new())
        .await?;
    Ok(respond(call, |x| {
        x.node("Policy", |x| {
            xml::managed_policy(x, &policy, TagsMember::Always)
        });
    }))
}

pub async fn delete<S: Store>(call: &Call<'_, S>) -> Reply {
    let mut input = Input::new(call.params);
    let policy_arn = input.arn("PolicyArn");
    input.finish()?;
    locate(call, policy_arn)
        .await?
        .authorize(call, Vec::new())
        .await?;
    call.app
        .store()
        .delete_policy(policy_arn)
        .await
        .map_err(store_error)?;
    done(call)
}

pub async fn list<S: Store>(call: &Call<'_, S>) -> Reply {
    let mut input = Input::new(call.params);
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
    // AWS managed policies are not served here, so Scope=AWS lists nothing.
    let mut page = if scope == Some("AWS") {
        store::Page {
            items: Vec::new(),
            next_marker: None,
        }
    } else {
        call.app
            .store()
            .list_policies(account(call), &query, only_attached)
            .await
            .map_err(store_error)?
    };
    // The usage filter narrows a page after the store cut it, so a page may come back short
    // while still truncated, as IAM documents its own pages may.
    match usage {
        Some("PermissionsPolicy") => page.items.retain(|p| p.attachment_count > 0),
        Some("PermissionsBoundary") => page
            .items
            .retain(|p| p.permissions_boundary_usage_count > 0),
        _ => {}
    }
    Ok(respond(call, |x| {
        x.list("Policies", "member", &page.items, |x, policy| {
            xml::managed_policy(x, policy, TagsMember::Never)
        })
        .truncation(page.next_marker.as_deref());
    }))
}

pub async fn create_version<S: Store>(call: &Call<'_, S>) -> Reply {
    let mut input = Input::new(call.params);
    let policy_arn = input.arn("PolicyArn");
    let document = input.document("PolicyDocument");
    let set_as_default = input.boolean("SetAsDefault").unwrap_or(false);
    input.finish()?;
    locate(call, policy_arn)
        .await?
        .authorize(call, Vec::new())
        .await?;
    documents::managed(document)?;
    let version = call
        .app
        .store()
        .create_policy_version(policy_arn, document, set_as_default)
        .await
        .map_err(store_error)?;
    Ok(respond(call, |x| {
        x.node("PolicyVersion", |x| xml::policy_version(x, &version, false));
    }))
}

pub async fn get_version<S: Store>(call: &Call<'_, S>) -> Reply {
    let mut input = Input::new(call.params);
    let policy_arn = input.arn("PolicyArn");
    let version_id = input.version_id("VersionId");
    input.finish()?;
    authorize_on_policy(call, policy_arn).await?;
    let version = call
        .app
        .store()
        .policy_version(policy_arn, version_id)
        .await
        .map_err(store_error)?;
    Ok(respond(call, |x| {
        x.node("PolicyVersion", |x| xml::policy_version(x, &version, true));
    }))
}

pub async fn list_versions<S: Store>(call: &Call<'_, S>) -> Reply {
    let mut input = Input::new(call.params);
    let policy_arn = input.arn("PolicyArn");
    let query = input.list_query("/");
    input.finish()?;
    locate(call, policy_arn)
        .await?
        .authorize(call, Vec::new())
        .await?;
    let versions = call
        .app
        .store()
        .list_policy_versions(policy_arn)
        .await
        .map_err(store_error)?;
    let (versions, next) = paging::page(versions, &query)?;
    Ok(respond(call, |x| {
        x.list("Versions", "member", &versions, |x, version| {
            xml::policy_version(x, version, false)
        })
        .truncation(next.as_deref());
    }))
}

pub async fn delete_version<S: Store>(call: &Call<'_, S>) -> Reply {
    let mut input = Input::new(call.params);
    let policy_arn = input.arn("PolicyArn");
    let version_id = input.version_id("VersionId");
    input.finish()?;
    authorize_on_policy(call, policy_arn).await?;
    call.app
        .store()
        .delete_policy_version(policy_arn, version_id)
        .await
        .map_err(store_error)?;
    done(call)
}

pub async fn set_default_version<S: Store>(call: &Call<'_, S>) -> Reply {
    let mut input = Input::new(call.params);
    let policy_arn = input.arn("PolicyArn");
    let version_id = input.version_id("VersionId");
    input.finish()?;
    authorize_on_policy(call, policy_arn).await?;
    call.app
        .store()
        .set_default_policy_version(policy_arn, version_id)
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
    let located = locate(call, policy_arn).await?;
    let context = located.resource_tags();
    authorize(call, &located.arn, context).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policy_arns_are_checked_for_shape() {
        assert!(valid_arn("arn:aws:iam::123456789012:policy/p").is_ok());
        assert!(valid_arn("arn:aws:iam::aws:policy/AdministratorAccess").is_ok());
        for bad in [
            "p",
            "arn:aws:s3:::bucket/policy/x",
            "arn:aws:iam::123456789012:role/r",
        ] {
            assert_eq!(
                valid_arn(bad).expect_err(bad).message,
                format!("ARN {bad} is not valid.")
            );
        }
    }
}
