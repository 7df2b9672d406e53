//! IAM groups and their members. A group's inline and attached policies are handled with the
//! roles' and users' in [`super::principal_policies`]; they take part in every evaluation of its
//! members (`store::Store::identity_policies`).

use protocol::AwsError;
use store::{Group, GroupUpdate, NewGroup, Store, Tag};

use super::access::{Located, Resource, authorize};
use super::validate::{Input, LONG_NAME};
use super::xml::{self, UserView};
use super::{Reply, account, arn, done, listing, respond, store_error, users};
use crate::request::Call;

impl Resource for Group {
    fn arn(&self) -> &str {
        &self.arn
    }
    /// Groups carry no tags on AWS.
    fn tags(&self) -> &[Tag] {
        &[]
    }
}

/// Finds a group by name for an operation on it.
pub async fn locate<S: Store>(call: &Call<'_, S>, name: &str) -> Result<Located<Group>, AwsError> {
    let found = call.app.store().group(account(call), name).await;
    Located::new(found, arn(call, "group", "/", name))
}

pub async fn create<S: Store>(call: &Call<'_, S>) -> Reply {
    let mut input = Input::new(call.input);
    let path = input.path("Path");
    let name = input.name("GroupName", LONG_NAME);
    input.finish()?;
    authorize(call, &arn(call, "group", path, name), Vec::new()).await?;
    let group = call
        .app
        .store()
        .create_group(
            account(call),
            NewGroup {
                name: name.to_owned(),
                path: path.to_owned(),
            },
        )
        .await
        .map_err(store_error)?;
    Ok(respond(call, |x| {
        x.node("Group", |x| xml::group(x, &group));
    }))
}

/// The group and one page of its members.
pub async fn get<S: Store>(call: &Call<'_, S>) -> Reply {
    let mut input = Input::new(call.input);
    let name = input.name("GroupName", LONG_NAME);
    let query = input.list_query("/");
    input.finish()?;
    locate(call, name)
        .await?
        .authorize(call, Vec::new())
        .await?;
    let (group, members) = call
        .app
        .store()
        .group_with_members(account(call), name, &query)
        .await
        .map_err(store_error)?;
    Ok(respond(call, |x| {
        x.node("Group", |x| xml::group(x, &group))
            .list("Users", "member", &members.items, |x, user| {
                xml::user(x, user, UserView::Listed)
            })
            .truncation(members.next_marker.as_deref());
    }))
}

pub async fn list<S: Store>(call: &Call<'_, S>) -> Reply {
    let query = listing::query(call, "group").await?;
    let page = call
        .app
        .store()
        .list_groups(account(call), &query)
        .await
        .map_err(store_error)?;
    Ok(listing::page(call, "Groups", &page, xml::group))
}

/// Renames or moves a group. The caller needs `iam:UpdateGroup` on the group as it is and as it
/// will be, as AWS documents for UpdateGroup.
pub async fn update<S: Store>(call: &Call<'_, S>) -> Reply {
    let mut input = Input::new(call.input);
    let name = input.name("GroupName", LONG_NAME);
    let new_name = input.optional_name("NewGroupName", LONG_NAME);
    let new_path = call
        .input
        .optional_str("NewPath")
        .map(|_| input.path("NewPath"));
    input.finish()?;
    let group = locate(call, name)
        .await?
        .authorize(call, Vec::new())
        .await?;
    let target = arn(
        call,
        "group",
        new_path.unwrap_or(&group.path),
        new_name.unwrap_or(&group.name),
    );
    if target != group.arn {
        authorize(call, &target, Vec::new()).await?;
    }
    let update = GroupUpdate {
        new_name: new_name.map(str::to_owned),
        new_path: new_path.map(str::to_owned),
    };
    call.app
        .store()
        .update_group(account(call), name, update)
        .await
        .map_err(store_error)?;
    done(call)
}

pub async fn delete<S: Store>(call: &Call<'_, S>) -> Reply {
    let mut input = Input::new(call.input);
    let name = input.name("GroupName", LONG_NAME);
    input.finish()?;
    locate(call, name)
        .await?
        .authorize(call, Vec::new())
        .await?;
    call.app
        .store()
        .delete_group(account(call), name)
        .await
        .map_err(store_error)?;
    done(call)
}

/// AddUserToGroup and RemoveUserFromGroup: authorized on the group; the store then reports a
/// missing user before a missing group, as AWS does (recorded answers: LocalStack's
/// test_iam_groups.py, remove-from-unknown-group names the user).
pub async fn add_user<S: Store>(call: &Call<'_, S>) -> Reply {
    let (group, user) = membership(call).await?;
    call.app
        .store()
        .add_user_to_group(account(call), group, user)
        .await
        .map_err(store_error)?;
    done(call)
}

pub async fn remove_user<S: Store>(call: &Call<'_, S>) -> Reply {
    let (group, user) = membership(call).await?;
    call.app
        .store()
        .remove_user_from_group(account(call), group, user)
        .await
        .map_err(store_error)?;
    done(call)
}

async fn membership<'c, S: Store>(call: &Call<'c, S>) -> Result<(&'c str, &'c str), AwsError> {
    let mut input = Input::new(call.input);
    let group = input.name("GroupName", LONG_NAME);
    let user = input.name("UserName", LONG_NAME);
    input.finish()?;
    locate(call, group)
        .await?
        .authorize_only(call, Vec::new())
        .await?;
    Ok((group, user))
}

pub async fn list_for_user<S: Store>(call: &Call<'_, S>) -> Reply {
    let mut input = Input::new(call.input);
    let user = input.name("UserName", LONG_NAME);
    let query = input.list_query("/");
    input.finish()?;
    users::locate(call, user)
        .await?
        .authorize(call, Vec::new())
        .await?;
    let page = call
        .app
        .store()
        .list_groups_for_user(account(call), user, &query)
        .await
        .map_err(store_error)?;
    Ok(listing::page(call, "Groups", &page, xml::group))
}
