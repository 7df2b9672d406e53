//! The permissions of roles, users and groups alike: inline policies, attached managed policies
//! and (roles and users) the permissions boundary. One function per operation, parameterised by
//! [`Kind`].

use protocol::{AwsError, UrlEncoded};
use store::{EntityKind, InlinePolicy, Principal, Store};

use super::access::{Located, Resource, single};
use super::aws_managed;
use super::documents::{self, GROUP_INLINE_QUOTA, ROLE_INLINE_QUOTA, USER_INLINE_QUOTA};
use super::validate::{Input, LONG_NAME, Name, SHORT_NAME};
use super::{Reply, account, done, groups, managed_policies, respond, roles, store_error, users};
use crate::request::Call;

/// Whose permissions an operation changes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Role,
    User,
    Group,
}

/// A located role or user, reduced to what authorization needs.
pub struct Entity {
    arn: String,
    tags: Vec<store::Tag>,
}

impl Resource for Entity {
    fn arn(&self) -> &str {
        &self.arn
    }
    fn tags(&self) -> &[store::Tag] {
        &self.tags
    }
}

impl Kind {
    /// `RoleName` / `UserName`.
    fn name_member(self) -> &'static str {
        match self {
            Kind::Role => "RoleName",
            Kind::User => "UserName",
            Kind::Group => "GroupName",
        }
    }

    /// The name's model shape. User operations on inline policies take `existingUserNameType`
    /// (up to 128); the others `userNameType` (64), like every role name; group names are
    /// `groupNameType` (128).
    fn name_shape(self, inline: bool) -> Name {
        match (self, inline) {
            (Kind::User, true) | (Kind::Group, _) => LONG_NAME,
            _ => SHORT_NAME,
        }
    }

    fn principal(self, name: &str) -> Principal<'_> {
        match self {
            Kind::Role => Principal::Role(name),
            Kind::User => Principal::User(name),
            Kind::Group => Principal::Group(name),
        }
    }

    /// The aggregate size quota of the principal's inline policies.
    fn inline_quota(self) -> u64 {
        match self {
            Kind::Role => ROLE_INLINE_QUOTA,
            Kind::User => USER_INLINE_QUOTA,
            Kind::Group => GROUP_INLINE_QUOTA,
        }
    }

    async fn locate<S: Store>(
        self,
        call: &Call<'_, S>,
        name: &str,
    ) -> Result<Located<Entity>, AwsError> {
        let entity = |arn: &str, tags: &[store::Tag]| Entity {
            arn: arn.to_owned(),
            tags: tags.to_vec(),
        };
        match self {
            Kind::Role => roles::locate(call, name)
                .await
                .map(|l| l.map(|r| entity(&r.arn, &r.tags))),
            Kind::User => users::locate(call, name)
                .await
                .map(|l| l.map(|u| entity(&u.arn, &u.tags))),
            // Groups carry no tags.
            Kind::Group => groups::locate(call, name)
                .await
                .map(|l| l.map(|g| entity(&g.arn, &[]))),
        }
    }
}

pub async fn put_inline<S: Store>(call: &Call<'_, S>, kind: Kind) -> Reply {
    let mut input = Input::new(call.input);
    let name = input.name(kind.name_member(), kind.name_shape(true));
    let policy_name = input.name("PolicyName", LONG_NAME);
    let document = input.document("PolicyDocument");
    input.finish()?;
    kind.locate(call, name)
        .await?
        .authorize(call, Vec::new())
        .await?;
    let size = documents::inline(document)?;
    let policy = InlinePolicy {
        name: policy_name.to_owned(),
        document: document.to_owned(),
        size,
    };
    call.app
        .store()
        .put_inline_policy(
            account(call),
            kind.principal(name),
            policy,
            kind.inline_quota(),
        )
        .await
        .map_err(store_error)?;
    done(call)
}

pub async fn get_inline<S: Store>(call: &Call<'_, S>, kind: Kind) -> Reply {
    let mut input = Input::new(call.input);
    let name = input.name(kind.name_member(), kind.name_shape(true));
    let policy_name = input.name("PolicyName", LONG_NAME);
    input.finish()?;
    kind.locate(call, name)
        .await?
        .authorize(call, Vec::new())
        .await?;
    let policy = call
        .app
        .store()
        .inline_policy(account(call), kind.principal(name), policy_name)
        .await
        .map_err(store_error)?;
    Ok(respond(call, |x| {
        x.elem(kind.name_member(), name)
            .elem("PolicyName", &policy.name)
            .elem("PolicyDocument", UrlEncoded(&policy.document));
    }))
}

pub async fn delete_inline<S: Store>(call: &Call<'_, S>, kind: Kind) -> Reply {
    let mut input = Input::new(call.input);
    let name = input.name(kind.name_member(), kind.name_shape(true));
    let policy_name = input.name("PolicyName", LONG_NAME);
    input.finish()?;
    kind.locate(call, name)
        .await?
        .authorize(call, Vec::new())
        .await?;
    call.app
        .store()
        .delete_inline_policy(account(call), kind.principal(name), policy_name)
        .await
        .map_err(store_error)?;
    done(call)
}

pub async fn list_inline<S: Store>(call: &Call<'_, S>, kind: Kind) -> Reply {
    let mut input = Input::new(call.input);
    let name = input.name(kind.name_member(), kind.name_shape(true));
    let query = input.list_query("/");
    input.finish()?;
    kind.locate(call, name)
        .await?
        .authorize(call, Vec::new())
        .await?;
    let page = call
        .app
        .store()
        .list_inline_policies(account(call), kind.principal(name), &query)
        .await
        .map_err(store_error)?;
    Ok(respond(call, |x| {
        x.list("PolicyNames", "member", &page.items, |x, name| {
            x.text(name);
        })
        .truncation(page.next_marker.as_deref());
    }))
}

pub async fn attach<S: Store>(call: &Call<'_, S>, kind: Kind) -> Reply {
    let mut input = Input::new(call.input);
    let name = input.name(kind.name_member(), kind.name_shape(false));
    let policy_arn = input.arn("PolicyArn");
    input.finish()?;
    managed_policies::check_attached_arn(policy_arn)?;
    let context = vec![single("iam:PolicyARN", policy_arn)];
    kind.locate(call, name)
        .await?
        .authorize(call, context)
        .await?;
    aws_managed::require_exists(policy_arn, EntityKind::AttachablePolicy)?;
    call.app
        .store()
        .attach_policy(account(call), kind.principal(name), policy_arn)
        .await
        .map_err(store_error)?;
    done(call)
}

pub async fn detach<S: Store>(call: &Call<'_, S>, kind: Kind) -> Reply {
    let mut input = Input::new(call.input);
    let name = input.name(kind.name_member(), kind.name_shape(false));
    let policy_arn = input.arn("PolicyArn");
    input.finish()?;
    let context = vec![single("iam:PolicyARN", policy_arn)];
    kind.locate(call, name)
        .await?
        .authorize(call, context)
        .await?;
    call.app
        .store()
        .detach_policy(account(call), kind.principal(name), policy_arn)
        .await
        .map_err(store_error)?;
    done(call)
}

pub async fn list_attached<S: Store>(call: &Call<'_, S>, kind: Kind) -> Reply {
    let mut input = Input::new(call.input);
    let name = input.name(kind.name_member(), kind.name_shape(false));
    let prefix = input.policy_path("PathPrefix");
    let query = input.list_query(prefix);
    input.finish()?;
    kind.locate(call, name)
        .await?
        .authorize(call, Vec::new())
        .await?;
    let page = call
        .app
        .store()
        .list_attached_policies(account(call), kind.principal(name), &query)
        .await
        .map_err(store_error)?;
    Ok(respond(call, |x| {
        x.list("AttachedPolicies", "member", &page.items, |x, policy| {
            x.elem("PolicyName", &policy.name)
                .elem("PolicyArn", &policy.arn);
        })
        .truncation(page.next_marker.as_deref());
    }))
}

pub async fn put_boundary<S: Store>(call: &Call<'_, S>, kind: Kind) -> Reply {
    let mut input = Input::new(call.input);
    let name = input.name(kind.name_member(), kind.name_shape(false));
    let boundary = input.arn("PermissionsBoundary");
    input.finish()?;
    managed_policies::check_boundary_arn(boundary)?;
    let context = vec![single("iam:PermissionsBoundary", boundary)];
    kind.locate(call, name)
        .await?
        .authorize(call, context)
        .await?;
    aws_managed::require_exists(boundary, EntityKind::PermissionsBoundary)?;
    set_boundary(call, kind, name, Some(boundary)).await?;
    done(call)
}

pub async fn delete_boundary<S: Store>(call: &Call<'_, S>, kind: Kind) -> Reply {
    let mut input = Input::new(call.input);
    let name = input.name(kind.name_member(), kind.name_shape(false));
    input.finish()?;
    kind.locate(call, name)
        .await?
        .authorize(call, Vec::new())
        .await?;
    set_boundary(call, kind, name, None).await?;
    done(call)
}

async fn set_boundary<S: Store>(
    call: &Call<'_, S>,
    kind: Kind,
    name: &str,
    boundary: Option<&str>,
) -> Result<(), AwsError> {
    let store = call.app.store();
    match kind {
        Kind::Role => {
            store
                .set_role_permissions_boundary(account(call), name, boundary)
                .await
        }
        Kind::User => {
            store
                .set_user_permissions_boundary(account(call), name, boundary)
                .await
        }
        // Groups have no boundary; no operation dispatches here with a group.
        Kind::Group => {
            tracing::error!("a permissions boundary asked of a group");
            return Err(AwsError::internal(protocol::Protocol::AwsQuery));
        }
    }
    .map_err(store_error)
}
