//! ListEntitiesForPolicy: the groups, users and roles of the caller's account that a managed
//! policy is attached to (or bounds), one page across the three lists.

use protocol::XmlWriter;
use store::{EntityQuery, EntityRef, Store};

use super::managed_policies;
use super::paging;
use super::validate::Input;
use super::{Reply, account, respond, store_error};
use crate::request::Call;

/// One entity of the combined list, which pages as one.
enum Entity {
    Group(EntityRef),
    User(EntityRef),
    Role(EntityRef),
}

pub async fn list<S: Store>(call: &Call<'_, S>) -> Reply {
    let mut input = Input::new(call.input);
    let policy_arn = input.arn("PolicyArn");
    let filter = input.optional_enumeration(
        "EntityFilter",
        &[
            "User",
            "Role",
            "Group",
            "LocalManagedPolicy",
            "AWSManagedPolicy",
        ],
    );
    let usage = input.optional_enumeration(
        "PolicyUsageFilter",
        &["PermissionsPolicy", "PermissionsBoundary"],
    );
    let prefix = input.path("PathPrefix");
    let query = input.list_query(prefix);
    input.finish()?;
    managed_policies::check_attached_arn(policy_arn)?;
    managed_policies::locate(call, policy_arn)
        .await?
        .authorize_only(call, Vec::new())
        .await?;
    // The policy filters name no entity kind: AWS answers them with empty lists (recorded AWS
    // answer: LocalStack's test_iam_policies.py, filter-local-managed-policy).
    let all = filter.is_none();
    let entity_query = EntityQuery {
        groups: all || filter == Some("Group"),
        users: all || filter == Some("User"),
        roles: all || filter == Some("Role"),
        attached: usage != Some("PermissionsBoundary"),
        boundary: usage != Some("PermissionsPolicy"),
        path_prefix: prefix.to_owned(),
    };
    let found = call
        .app
        .store()
        .policy_entities(account(call), policy_arn, &entity_query)
        .await
        .map_err(store_error)?;
    let combined: Vec<Entity> = (found.groups.into_iter().map(Entity::Group))
        .chain(found.users.into_iter().map(Entity::User))
        .chain(found.roles.into_iter().map(Entity::Role))
        .collect();
    let (page, next) = paging::page(combined, &query)?;
    let of = |pick: fn(&Entity) -> Option<&EntityRef>| page.iter().filter_map(pick).collect();
    let groups: Vec<&EntityRef> = of(|e| match e {
        Entity::Group(g) => Some(g),
        _ => None,
    });
    let users: Vec<&EntityRef> = of(|e| match e {
        Entity::User(u) => Some(u),
        _ => None,
    });
    let roles: Vec<&EntityRef> = of(|e| match e {
        Entity::Role(r) => Some(r),
        _ => None,
    });
    let member = |name: &'static str, id: &'static str| {
        move |x: &mut XmlWriter, entity: &&EntityRef| {
            x.elem(name, &entity.name).elem(id, &entity.id);
        }
    };
    Ok(respond(call, |x| {
        x.list(
            "PolicyGroups",
            "member",
            &groups,
            member("GroupName", "GroupId"),
        )
        .list(
            "PolicyUsers",
            "member",
            &users,
            member("UserName", "UserId"),
        )
        .list(
            "PolicyRoles",
            "member",
            &roles,
            member("RoleName", "RoleId"),
        )
        .truncation(next.as_deref());
    }))
}
