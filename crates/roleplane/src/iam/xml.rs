//! The IAM response shapes, written the way AWS writes them for each operation: a Create call
//! returns less than a Get, and List calls less again (aws-apis.md §1, from recorded responses).

use protocol::{Iso8601, UrlEncoded, XmlWriter};
use store::{AccessKey, Group, InstanceProfile, ManagedPolicy, PolicyVersion, Role, Tag, User};
use time::OffsetDateTime;

/// IAM's own examples carry whole seconds (`2013-04-18T05:01:58Z`); the store keeps milliseconds.
pub fn date(t: OffsetDateTime) -> Iso8601 {
    Iso8601(t.replace_millisecond(0).unwrap_or(t))
}

/// Which operation a role is written for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RoleView {
    /// CreateRole: no Description, MaxSessionDuration or RoleLastUsed (recorded AWS answers:
    /// LocalStack's test_iam_roles.py create-role-with-boundary, create-role-N).
    Created,
    /// UpdateRoleDescription: the Description, but no MaxSessionDuration or RoleLastUsed
    /// (recorded: test_update_role, update-role-description-response).
    DescriptionUpdated,
    /// GetRole, UpdateRoleDescription: everything, `RoleLastUsed` even when empty.
    Full,
    /// ListRoles: no PermissionsBoundary, Tags or RoleLastUsed.
    Listed,
    /// A role inside an instance profile: the identifying members and the trust policy.
    InProfile,
}

pub fn role(x: &mut XmlWriter, role: &Role, view: RoleView) {
    x.elem("Path", &role.path)
        .elem("RoleName", &role.name)
        .elem("RoleId", &role.id)
        .elem("Arn", &role.arn)
        .elem("CreateDate", date(role.created))
        .elem(
            "AssumeRolePolicyDocument",
            UrlEncoded(&role.assume_role_policy),
        );
    if view == RoleView::InProfile {
        return;
    }
    if view != RoleView::Created {
        x.opt_elem("Description", role.description.as_deref());
    }
    if matches!(view, RoleView::Full | RoleView::Listed) {
        x.elem("MaxSessionDuration", role.max_session_duration);
    }
    if view != RoleView::Listed {
        boundary(x, role.permissions_boundary_arn.as_deref());
        if !role.tags.is_empty() {
            tags(x, &role.tags);
        }
    }
    if view == RoleView::Full {
        x.node("RoleLastUsed", |x| {
            if let Some(used) = &role.last_used {
                x.elem("LastUsedDate", date(used.date))
                    .opt_elem("Region", used.region.as_deref());
            }
        });
    }
}

/// Which operation a user is written for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UserView {
    /// CreateUser and GetUser: the boundary and tags when set.
    Single,
    /// ListUsers: no boundary, no tags.
    Listed,
}

pub fn user(x: &mut XmlWriter, user: &User, view: UserView) {
    x.elem("Path", &user.path)
        .elem("UserName", &user.name)
        .elem("UserId", &user.id)
        .elem("Arn", &user.arn)
        .elem("CreateDate", date(user.created));
    if view == UserView::Single {
        boundary(x, user.permissions_boundary_arn.as_deref());
        if !user.tags.is_empty() {
            tags(x, &user.tags);
        }
    }
}

/// A group, the same in every answer (CreateGroup, GetGroup, ListGroups, ListGroupsForUser).
pub fn group(x: &mut XmlWriter, group: &Group) {
    x.elem("Path", &group.path)
        .elem("GroupName", &group.name)
        .elem("GroupId", &group.id)
        .elem("Arn", &group.arn)
        .elem("CreateDate", date(group.created));
}

pub(super) fn boundary(x: &mut XmlWriter, arn: Option<&str>) {
    if let Some(arn) = arn {
        x.node("PermissionsBoundary", |x| {
            x.elem("PermissionsBoundaryType", "Policy")
                .elem("PermissionsBoundaryArn", arn);
        });
    }
}

/// Whether the `Tags` member is written when there are none.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TagsMember {
    /// Get calls of profiles and policies: `<Tags></Tags>` even when empty.
    Always,
    /// Create calls: only when tags were given.
    IfAny,
    /// List calls: never.
    Never,
}

impl TagsMember {
    fn write(self, x: &mut XmlWriter, list: &[Tag]) {
        match self {
            TagsMember::Always => tags(x, list),
            TagsMember::IfAny if !list.is_empty() => tags(x, list),
            _ => {}
        }
    }
}

pub fn instance_profile(x: &mut XmlWriter, profile: &InstanceProfile, tags_member: TagsMember) {
    x.elem("Path", &profile.path)
        .elem("InstanceProfileName", &profile.name)
        .elem("InstanceProfileId", &profile.id)
        .elem("Arn", &profile.arn)
        .elem("CreateDate", date(profile.created))
        .list("Roles", "member", &profile.roles, |x, r| {
            role(x, r, RoleView::InProfile)
        });
    tags_member.write(x, &profile.tags);
}

/// Which operation a managed policy is written for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PolicyView {
    /// CreatePolicy: tags when given, no Description (recorded AWS answer:
    /// LocalStack's test_iam_policies.py test_policy_tag_lifecycle, create-with-tags).
    Created,
    /// GetPolicy: the Description and `<Tags>` even when empty.
    Full,
    /// ListPolicies: neither Description nor Tags (the `Policy` type's documentation).
    Listed,
}

pub fn managed_policy(x: &mut XmlWriter, policy: &ManagedPolicy, view: PolicyView) {
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
        .elem("IsAttachable", true);
    if view == PolicyView::Full {
        x.opt_elem("Description", policy.description.as_deref());
    }
    x.elem("CreateDate", date(policy.created))
        .elem("UpdateDate", date(policy.updated));
    let tags_member = match view {
        PolicyView::Created => TagsMember::IfAny,
        PolicyView::Full => TagsMember::Always,
        PolicyView::Listed => TagsMember::Never,
    };
    tags_member.write(x, &policy.tags);
}

/// A policy version; `Document` only where AWS sends it (GetPolicyVersion).
pub fn policy_version(x: &mut XmlWriter, version: &PolicyVersion, with_document: bool) {
    if with_document {
        x.elem("Document", UrlEncoded(&version.document));
    }
    x.elem("VersionId", &version.version_id)
        .elem("IsDefaultVersion", version.is_default)
        .elem("CreateDate", date(version.created));
}

/// `AccessKeyMetadata` (ListAccessKeys): never the secret.
pub fn access_key_metadata(x: &mut XmlWriter, key: &AccessKey) {
    x.elem("UserName", &key.user_name)
        .elem("AccessKeyId", &key.access_key_id)
        .elem("Status", key.status.as_str())
        .elem("CreateDate", date(key.created));
}

pub fn tags(x: &mut XmlWriter, list: &[Tag]) {
    x.list("Tags", "member", list, |x, tag| {
        x.elem("Key", &tag.key).elem("Value", &tag.value);
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    fn sample_role() -> Role {
        Role {
            account_id: "123456789012".into(),
            id: "AROAEXAMPLE0000000001".into(),
            name: "s3access".into(),
            path: "/".into(),
            arn: "arn:aws:iam::123456789012:role/s3access".into(),
            created: datetime!(2026-01-02 03:04:05.678 UTC),
            assume_role_policy: r#"{"Version":"2012-10-17"}"#.into(),
            trust_principals: Vec::new(),
            description: None,
            max_session_duration: 3600,
            permissions_boundary_arn: None,
            tags: Vec::new(),
            last_used: None,
        }
    }

    #[test]
    fn created_role_omits_what_aws_omits() {
        let mut x = XmlWriter::new();
        role(&mut x, &sample_role(), RoleView::Created);
        assert_eq!(
            x.as_str(),
            "<Path>/</Path><RoleName>s3access</RoleName><RoleId>AROAEXAMPLE0000000001</RoleId>\
             <Arn>arn:aws:iam::123456789012:role/s3access</Arn><CreateDate>2026-01-02T03:04:05Z</CreateDate>\
             <AssumeRolePolicyDocument>%7B%22Version%22%3A%222012-10-17%22%7D</AssumeRolePolicyDocument>"
        );
    }

    #[test]
    fn create_and_description_update_answers_leave_out_what_aws_leaves_out() {
        let mut r = sample_role();
        r.description = Some("d".into());
        let written = |view| {
            let mut x = XmlWriter::new();
            role(&mut x, &r, view);
            x.into_string()
        };
        let created = written(RoleView::Created);
        assert!(!created.contains("Description"), "{created}");
        let updated = written(RoleView::DescriptionUpdated);
        assert!(
            updated.ends_with("</AssumeRolePolicyDocument><Description>d</Description>"),
            "{updated}"
        );
        assert!(
            written(RoleView::Full).contains("<Description>d</Description><MaxSessionDuration>")
        );
        assert!(
            written(RoleView::Listed).contains("<Description>d</Description><MaxSessionDuration>")
        );
    }

    #[test]
    fn policy_description_only_in_get_policy() {
        let policy = ManagedPolicy {
            account_id: "123456789012".into(),
            id: "ANPAEXAMPLE0000000001".into(),
            name: "p".into(),
            path: "/".into(),
            arn: "arn:aws:iam::123456789012:policy/p".into(),
            default_version_id: "v1".into(),
            attachment_count: 0,
            permissions_boundary_usage_count: 0,
            description: Some("testing".into()),
            created: datetime!(2026-01-02 03:04:05 UTC),
            updated: datetime!(2026-01-02 03:04:05 UTC),
            tags: Vec::new(),
        };
        let written = |view| {
            let mut x = XmlWriter::new();
            managed_policy(&mut x, &policy, view);
            x.into_string()
        };
        assert!(!written(PolicyView::Created).contains("Description"));
        assert!(!written(PolicyView::Listed).contains("Description"));
        assert!(written(PolicyView::Full).contains(
            "<IsAttachable>true</IsAttachable><Description>testing</Description><CreateDate>"
        ));
        assert!(written(PolicyView::Full).ends_with("<Tags></Tags>"));
    }

    #[test]
    fn full_role_has_duration_and_empty_last_used() {
        let mut x = XmlWriter::new();
        let mut r = sample_role();
        r.tags = vec![Tag::new("k", "v")];
        role(&mut x, &r, RoleView::Full);
        assert!(
            x.as_str().ends_with(
                "<MaxSessionDuration>3600</MaxSessionDuration><Tags><member><Key>k</Key><Value>v</Value></member></Tags><RoleLastUsed></RoleLastUsed>"
            ),
            "{}",
            x.as_str()
        );
        let mut listed = XmlWriter::new();
        role(&mut listed, &r, RoleView::Listed);
        assert!(!listed.as_str().contains("Tags") && !listed.as_str().contains("RoleLastUsed"));
    }

    #[test]
    fn profile_tags_member_depends_on_the_operation() {
        let profile = InstanceProfile {
            account_id: "123456789012".into(),
            id: "AIPAEXAMPLE0000000001".into(),
            name: "p".into(),
            path: "/".into(),
            arn: "arn:aws:iam::123456789012:instance-profile/p".into(),
            created: datetime!(2026-01-02 03:04:05 UTC),
            roles: vec![sample_role()],
            tags: Vec::new(),
        };
        let written = |member| {
            let mut x = XmlWriter::new();
            instance_profile(&mut x, &profile, member);
            x.into_string()
        };
        assert!(written(TagsMember::Always).ends_with("</Roles><Tags></Tags>"));
        assert!(written(TagsMember::IfAny).ends_with("</Roles>"));
        assert!(written(TagsMember::Never).ends_with("</Roles>"));
        // A role inside a profile carries its identity and trust policy only.
        assert!(written(TagsMember::Never).contains(
            "<Roles><member><Path>/</Path><RoleName>s3access</RoleName><RoleId>AROAEXAMPLE0000000001</RoleId>"
        ));
        assert!(!written(TagsMember::Never).contains("MaxSessionDuration"));
    }
}
