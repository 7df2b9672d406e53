//! Instance profiles: the container that carries one role (a hard limit) to an EC2 instance.

use protocol::AwsError;
use store::{InstanceProfile, NewInstanceProfile, Store};

use super::access::{Located, authorize, authorize_action, request_tags, single};
use super::validate::{Input, KeyCase, LONG_NAME, SHORT_NAME, reject_reserved_or_duplicate_keys};
use super::xml::{self, TagsMember};
use super::{Reply, account, arn, done, listing, respond, roles, store_error};
use crate::request::Call;

/// Finds an instance profile by name for an operation on it.
pub async fn locate<S: Store>(
    call: &Call<'_, S>,
    name: &str,
) -> Result<Located<InstanceProfile>, AwsError> {
    let found = call.app.store().instance_profile(account(call), name).await;
    Located::new(found, arn(call, "instance-profile", "/", name))
}

pub async fn create<S: Store>(call: &Call<'_, S>) -> Reply {
    let mut input = Input::new(call.input);
    let name = input.name("InstanceProfileName", LONG_NAME);
    let path = input.path("Path");
    let tags = input.tags("Tags", false);
    input.finish()?;
    reject_reserved_or_duplicate_keys(&tags, KeyCase::Insensitive)?;
    let resource = arn(call, "instance-profile", path, name);
    authorize(call, &resource, request_tags(&tags)).await?;
    let profile = call
        .app
        .store()
        .create_instance_profile(
            account(call),
            NewInstanceProfile {
                name: name.to_owned(),
                path: path.to_owned(),
                tags,
            },
        )
        .await
        .map_err(store_error)?;
    Ok(respond(call, |x| {
        x.node("InstanceProfile", |x| {
            xml::instance_profile(x, &profile, TagsMember::IfAny)
        });
    }))
}

pub async fn get<S: Store>(call: &Call<'_, S>) -> Reply {
    let mut input = Input::new(call.input);
    let name = input.name("InstanceProfileName", LONG_NAME);
    input.finish()?;
    let profile = locate(call, name)
        .await?
        .authorize(call, Vec::new())
        .await?;
    Ok(respond(call, |x| {
        x.node("InstanceProfile", |x| {
            xml::instance_profile(x, &profile, TagsMember::Always)
        });
    }))
}

pub async fn list<S: Store>(call: &Call<'_, S>) -> Reply {
    let query = listing::query(call, "instance-profile").await?;
    let page = call
        .app
        .store()
        .list_instance_profiles(account(call), &query)
        .await
        .map_err(store_error)?;
    Ok(listing::page(
        call,
        "InstanceProfiles",
        &page,
        |x, profile| xml::instance_profile(x, profile, TagsMember::Never),
    ))
}

pub async fn delete<S: Store>(call: &Call<'_, S>) -> Reply {
    let mut input = Input::new(call.input);
    let name = input.name("InstanceProfileName", LONG_NAME);
    input.finish()?;
    locate(call, name)
        .await?
        .authorize(call, Vec::new())
        .await?;
    call.app
        .store()
        .delete_instance_profile(account(call), name)
        .await
        .map_err(store_error)?;
    done(call)
}

/// Putting a role in a profile hands it to whatever instance gets the profile, so the caller
/// also needs `iam:PassRole` on the role (the API reference says so).
pub async fn add_role<S: Store>(call: &Call<'_, S>) -> Reply {
    let mut input = Input::new(call.input);
    let profile_name = input.name("InstanceProfileName", LONG_NAME);
    let role_name = input.name("RoleName", SHORT_NAME);
    input.finish()?;
    let profile = locate(call, profile_name).await?;
    let profile_arn = profile.arn.clone();
    profile.authorize(call, Vec::new()).await?;
    let role = roles::locate(call, role_name).await?;
    // UNCONFIRMED: which PassRole condition keys AWS sets here; these are the documented ones.
    let context = vec![
        single("iam:PassedToService", "ec2.amazonaws.com"),
        single("iam:AssociatedResourceArn", &profile_arn),
    ];
    authorize_action(call, "iam:PassRole", &role.arn, context).await?;
    call.app
        .store()
        .add_role_to_instance_profile(account(call), profile_name, role_name)
        .await
        .map_err(store_error)?;
    done(call)
}

pub async fn remove_role<S: Store>(call: &Call<'_, S>) -> Reply {
    let mut input = Input::new(call.input);
    let profile_name = input.name("InstanceProfileName", LONG_NAME);
    let role_name = input.name("RoleName", SHORT_NAME);
    input.finish()?;
    locate(call, profile_name)
        .await?
        .authorize(call, Vec::new())
        .await?;
    call.app
        .store()
        .remove_role_from_instance_profile(account(call), profile_name, role_name)
        .await
        .map_err(store_error)?;
    done(call)
}

pub async fn list_for_role<S: Store>(call: &Call<'_, S>) -> Reply {
    let mut input = Input::new(call.input);
    let role_name = input.name("RoleName", SHORT_NAME);
    let query = input.list_query("/");
    input.finish()?;
    roles::locate(call, role_name)
        .await?
        .authorize(call, Vec::new())
        .await?;
    let page = call
        .app
        .store()
        .list_instance_profiles_for_role(account(call), role_name, &query)
        .await
        .map_err(store_error)?;
    Ok(respond(call, |x| {
        x.list("InstanceProfiles", "member", &page.items, |x, profile| {
            xml::instance_profile(x, profile, TagsMember::Never)
        })
        .truncation(page.next_marker.as_deref());
    }))
}
