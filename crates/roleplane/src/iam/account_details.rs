//! GetAccountAuthorizationDetails: every user, group, role and customer managed policy of the
//! caller's account, and the AWS managed policies in use there, with everything that grants
//! permissions, as security tooling reads it. The four lists page as one sequence (users,
//! groups, roles, policies), `MaxItems` entries at a time.
//!
//! Shapes as AWS returns them (recorded answers: LocalStack's
//! test_iam_account_authorization_details.py): a user without inline policies has no
//! `UserPolicyList` at all while groups and roles show empty lists; users and roles always
//! carry `Tags`; roles carry `RoleLastUsed` but no `Description` or `MaxSessionDuration`.

use protocol::{AwsError, UrlEncoded, XmlWriter};
use store::{
    AttachedPolicy, DetailsQuery, GroupDetail, InlinePolicy, PolicyDetail, RoleDetail, Store,
    UserDetail,
};

use super::access::authorize;
use super::paging;
use super::trust;
use super::xml::{self, TagsMember};
use super::{Reply, account, respond, store_error};
use crate::request::Call;

/// The filter values, as IAM's model lists them.
const FILTERS: [&str; 5] = [
    "User",
    "Role",
    "Group",
    "LocalManagedPolicy",
    "AWSManagedPolicy",
];

/// One entry of the combined sequence that pages.
enum Entry {
    User(UserDetail),
    Group(GroupDetail),
    Role(RoleDetail),
    Policy(PolicyDetail),
}

pub async fn get<S: Store>(call: &Call<'_, S>) -> Reply {
    let mut input = super::validate::Input::new(call.input);
    let query = input.list_query("/");
    input.finish()?;
    let filter = call.input.list_str("Filter")?;
    if let Some(bad) = filter.iter().find(|f| !FILTERS.contains(f)) {
        return Err(AwsError::validation(format!(
            "1 validation error detected: Value '[{bad}]' at 'filter' failed to satisfy \
             constraint: Member must satisfy constraint: [Member must satisfy enum value set: \
             [{}]]",
            FILTERS.join(", ")
        )));
    }
    authorize(call, "*", Vec::new()).await?;
    let wants = |kind: &str| filter.is_empty() || filter.contains(&kind);
    let details_query = DetailsQuery {
        users: wants("User"),
        groups: wants("Group"),
        roles: wants("Role"),
        local_policies: wants("LocalManagedPolicy"),
    };
    let mut details = call
        .app
        .store()
        .account_details(account(call), details_query)
        .await
        .map_err(store_error)?;
    for detail in &mut details.roles {
        let role = &mut detail.role;
        role.last_used = call.app.last_use().role(&role.id, role.last_used.take());
        role.assume_role_policy = trust::shown(
            call.app.store(),
            &role.assume_role_policy,
            &role.trust_principals,
        )
        .await?;
        for profile in &mut detail.instance_profiles {
            for in_profile in &mut profile.roles {
                in_profile.assume_role_policy = role.assume_role_policy.clone();
            }
        }
    }
    // AWS managed policies are not the store's: those in use in the account follow the
    // customer's own (decision 0020: which ones AWS lists is not documented).
    if wants("AWSManagedPolicy") {
        let in_use = super::aws_managed::in_use_details(call)
            .await
            .map_err(store_error)?;
        details.policies.extend(in_use);
    }
    let entries: Vec<Entry> = (details.users.into_iter().map(Entry::User))
        .chain(details.groups.into_iter().map(Entry::Group))
        .chain(details.roles.into_iter().map(Entry::Role))
        .chain(details.policies.into_iter().map(Entry::Policy))
        .collect();
    let (page, next) = paging::page(entries, &query)?;
    Ok(respond(call, |x| {
        let users = page.iter().filter_map(|e| match e {
            Entry::User(u) => Some(u),
            _ => None,
        });
        x.list("UserDetailList", "member", users, user_detail);
        let groups = page.iter().filter_map(|e| match e {
            Entry::Group(g) => Some(g),
            _ => None,
        });
        x.list("GroupDetailList", "member", groups, group_detail);
        let roles = page.iter().filter_map(|e| match e {
            Entry::Role(r) => Some(r),
            _ => None,
        });
        x.list("RoleDetailList", "member", roles, role_detail);
        let policies = page.iter().filter_map(|e| match e {
            Entry::Policy(p) => Some(p),
            _ => None,
        });
        x.list("Policies", "member", policies, policy_detail);
        x.truncation(next.as_deref());
    }))
}

fn inline_list(x: &mut XmlWriter, element: &str, policies: &[InlinePolicy]) {
    x.list(element, "member", policies, |x, policy| {
        x.elem("PolicyName", &policy.name)
            .elem("PolicyDocument", UrlEncoded(&policy.document));
    });
}

fn attached_list(x: &mut XmlWriter, policies: &[AttachedPolicy]) {
    x.list(
        "AttachedManagedPolicies",
        "member",
        policies,
        |x, policy| {
            x.elem("PolicyName", &policy.name)
                .elem("PolicyArn", &policy.arn);
        },
    );
}

fn user_detail(x: &mut XmlWriter, detail: &UserDetail) {
    let user = &detail.user;
    x.elem("Path", &user.path)
        .elem("UserName", &user.name)
        .elem("UserId", &user.id)
        .elem("Arn", &user.arn)
        .elem("CreateDate", xml::date(user.created));
    if !detail.inline.is_empty() {
        inline_list(x, "UserPolicyList", &detail.inline);
    }
    x.list("GroupList", "member", &detail.groups, |x, group| {
        x.text(group);
    });
    attached_list(x, &detail.attached);
    xml::boundary(x, user.permissions_boundary_arn.as_deref());
    xml::tags(x, &user.tags);
}

fn group_detail(x: &mut XmlWriter, detail: &GroupDetail) {
    let group = &detail.group;
    x.elem("Path", &group.path)
        .elem("GroupName", &group.name)
        .elem("GroupId", &group.id)
        .elem("Arn", &group.arn)
        .elem("CreateDate", xml::date(group.created));
    inline_list(x, "GroupPolicyList", &detail.inline);
    attached_list(x, &detail.attached);
}

fn role_detail(x: &mut XmlWriter, detail: &RoleDetail) {
    let role = &detail.role;
    x.elem("Path", &role.path)
        .elem("RoleName", &role.name)
        .elem("RoleId", &role.id)
        .elem("Arn", &role.arn)
        .elem("CreateDate", xml::date(role.created))
        .elem(
            "AssumeRolePolicyDocument",
            UrlEncoded(&role.assume_role_policy),
        )
        .list(
            "InstanceProfileList",
            "member",
            &detail.instance_profiles,
            |x, profile| xml::instance_profile(x, profile, TagsMember::Never),
        );
    inline_list(x, "RolePolicyList", &detail.inline);
    attached_list(x, &detail.attached);
    xml::boundary(x, role.permissions_boundary_arn.as_deref());
    xml::tags(x, &role.tags);
    x.node("RoleLastUsed", |x| {
        if let Some(used) = &role.last_used {
            x.elem("LastUsedDate", xml::date(used.date))
                .opt_elem("Region", used.region.as_deref());
        }
    });
}

fn policy_detail(x: &mut XmlWriter, detail: &PolicyDetail) {
    let policy = &detail.policy;
    x.elem("PolicyName", &policy.name)
        .elem("PolicyId", &policy.id)
        .elem("Arn", &policy.arn)
        .elem("Path", &policy.path)
        .elem("DefaultVersionId", &policy.default_version_id)
        .elem("AttachmentCount", policy.attachment_count)
        .elem(
            "PermissionsBoundaryUsageCount",
            policy.permissions_boundary_usage_count,
        )
        .elem("IsAttachable", true)
        .opt_elem("Description", policy.description.as_deref())
        .elem("CreateDate", xml::date(policy.created))
        .elem("UpdateDate", xml::date(policy.updated))
        .list("PolicyVersionList", "member", &detail.versions, |x, v| {
            xml::policy_version(x, v, true)
        });
}
