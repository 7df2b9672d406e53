//! Roles: create, read, list, update, delete, and the trust policy.

use protocol::{AwsError, Envelope};
use store::{NewRole, Role, RoleUpdate, Store};

use super::access::{Located, authorize, request_tags, single};
use super::validate::{Input, KeyCase, SHORT_NAME, reject_reserved_or_duplicate_keys};
use super::xml::{self, RoleView};
use super::{
    Reply, account, arn, documents, done, listing, managed_policies, respond, store_error, trust,
};
use crate::request::Call;

/// Finds a role by name for an operation on it.
pub async fn locate<S: Store>(call: &Call<'_, S>, name: &str) -> Result<Located<Role>, AwsError> {
    let found = call.app.store().role_by_name(account(call), name).await;
    Located::new(found, arn(call, "role", "/", name))
}

pub async fn create<S: Store>(call: &Call<'_, S>) -> Reply {
    let mut input = Input::new(call.input);
    let path = input.path("Path");
    let name = input.name("RoleName", SHORT_NAME);
    let document = input.document("AssumeRolePolicyDocument");
    let description = input.role_description("Description");
    let max_session_duration = input.integer("MaxSessionDuration", 3600, 43200);
    let boundary = input.optional_arn("PermissionsBoundary");
    let tags = input.tags("Tags", false);
    input.finish()?;
    if let Some(boundary) = boundary {
        managed_policies::check_boundary_arn(boundary)?;
    }
    reject_reserved_or_duplicate_keys(&tags, KeyCase::Insensitive)?;

    let mut context = request_tags(&tags);
    if let Some(boundary) = boundary {
        context.push(single("iam:PermissionsBoundary", boundary));
    }
    authorize(call, &arn(call, "role", path, name), context).await?;
    let trust_principals = trust::bind(call, &documents::trust(document)?).await?;
    if let Some(boundary) = boundary {
        super::aws_managed::require_exists(boundary, store::EntityKind::PermissionsBoundary)?;
    }

    let role = call
        .app
        .store()
        .create_role(
            account(call),
            NewRole {
                name: name.to_owned(),
                path: path.to_owned(),
                assume_role_policy: document.to_owned(),
                trust_principals,
                description: description.map(str::to_owned),
                max_session_duration: max_session_duration.map(|d| d as u32),
                permissions_boundary_arn: boundary.map(str::to_owned),
                tags,
            },
        )
        .await
        .map_err(store_error)?;
    Ok(respond(call, |x| {
        x.node("Role", |x| xml::role(x, &role, RoleView::Created));
    }))
}

pub async fn get<S: Store>(call: &Call<'_, S>) -> Reply {
    let mut input = Input::new(call.input);
    let name = input.name("RoleName", SHORT_NAME);
    input.finish()?;
    let role = locate(call, name)
        .await?
        .authorize(call, Vec::new())
        .await?;
    let mut role = with_last_use(call, role);
    role.assume_role_policy = trust::shown(
        call.app.store(),
        &role.assume_role_policy,
        &role.trust_principals,
    )
    .await?;
    Ok(respond(call, |x| {
        x.node("Role", |x| xml::role(x, &role, RoleView::Full));
    }))
}

/// `RoleLastUsed` as this node knows it: the stored use or a newer one not yet written.
fn with_last_use<S>(call: &Call<'_, S>, mut role: Role) -> Role {
    role.last_used = call.app.last_use().role(&role.id, role.last_used.take());
    role
}

pub async fn list<S: Store>(call: &Call<'_, S>) -> Reply {
    let query = listing::query(call, "role").await?;
    let page = call
        .app
        .store()
        .list_roles(account(call), &query)
        .await
        .map_err(store_error)?;
    Ok(listing::page(call, "Roles", &page, |x, role| {
        xml::role(x, role, RoleView::Listed)
    }))
}

pub async fn update<S: Store>(call: &Call<'_, S>) -> Reply {
    let mut input = Input::new(call.input);
    let name = input.name("RoleName", SHORT_NAME);
    let description = input.role_description("Description");
    let max_session_duration = input.integer("MaxSessionDuration", 3600, 43200);
    input.finish()?;
    locate(call, name)
        .await?
        .authorize(call, Vec::new())
        .await?;
    let update = RoleUpdate {
        description: description.map(str::to_owned),
        max_session_duration: max_session_duration.map(|d| d as u32),
    };
    call.app
        .store()
        .update_role(account(call), name, update)
        .await
        .map_err(store_error)?;
    // UpdateRole's output is an empty structure, sent as `<UpdateRoleResult/>`.
    Ok(Envelope::IAM.empty_result(call.operation, call.request_id))
}

/// The older form of UpdateRole: the description only, answered with the whole role.
pub async fn update_description<S: Store>(call: &Call<'_, S>) -> Reply {
    let mut input = Input::new(call.input);
    let name = input.name("RoleName", SHORT_NAME);
    let description = input.role_description("Description");
    if description.is_none() {
        input.missing("Description");
    }
    input.finish()?;
    locate(call, name)
        .await?
        .authorize(call, Vec::new())
        .await?;
    let update = RoleUpdate {
        description: description.map(str::to_owned),
        max_session_duration: None,
    };
    let store = call.app.store();
    store
        .update_role(account(call), name, update)
        .await
        .map_err(store_error)?;
    let role = store
        .role_by_name(account(call), name)
        .await
        .map_err(store_error)?;
    let mut role = role;
    role.assume_role_policy = trust::shown(
        call.app.store(),
        &role.assume_role_policy,
        &role.trust_principals,
    )
    .await?;
    Ok(respond(call, |x| {
        x.node("Role", |x| {
            xml::role(x, &role, RoleView::DescriptionUpdated)
        });
    }))
}

pub async fn delete<S: Store>(call: &Call<'_, S>) -> Reply {
    let mut input = Input::new(call.input);
    let name = input.name("RoleName", SHORT_NAME);
    input.finish()?;
    locate(call, name)
        .await?
        .authorize(call, Vec::new())
        .await?;
    call.app
        .store()
        .delete_role(account(call), name)
        .await
        .map_err(store_error)?;
    done(call)
}

pub async fn update_assume_role_policy<S: Store>(call: &Call<'_, S>) -> Reply {
    let mut input = Input::new(call.input);
    let name = input.name("RoleName", SHORT_NAME);
    let document = input.document("PolicyDocument");
    input.finish()?;
    locate(call, name)
        .await?
        .authorize(call, Vec::new())
        .await?;
    let bindings = trust::bind(call, &documents::trust(document)?).await?;
    call.app
        .store()
        .update_assume_role_policy(account(call), name, document, &bindings)
        .await
        .map_err(store_error)?;
    done(call)
}
