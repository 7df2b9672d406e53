//! The records of IAM groups and of the account-wide reads that walk every IAM entity
//! (GetAccountAuthorizationDetails, ListEntitiesForPolicy, the credential report).

use time::OffsetDateTime;

use crate::model::{AccessKey, AttachedPolicy, InlinePolicy, InstanceProfile, ManagedPolicy};
use crate::model::{PolicyVersion, Role, User};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Group {
    pub account_id: String,
    /// `AGPA…`
    pub id: String,
    pub name: String,
    pub path: String,
    pub arn: String,
    pub created: OffsetDateTime,
}

#[derive(Debug, Clone)]
pub struct NewGroup {
    pub name: String,
    pub path: String,
}

impl NewGroup {
    /// A group at path `/`.
    pub fn new(name: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            path: "/".to_owned(),
        }
    }
}

/// UpdateGroup: a new name, a new path, or both; the ARN follows.
#[derive(Debug, Clone, Default)]
pub struct GroupUpdate {
    pub new_name: Option<String>,
    pub new_path: Option<String>,
}

/// The name and unique ID of an entity a managed policy is attached to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntityRef {
    pub name: String,
    pub id: String,
}

/// ListEntitiesForPolicy: who in the policy's account has it attached, each by name order.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PolicyEntities {
    pub groups: Vec<EntityRef>,
    pub users: Vec<EntityRef>,
    pub roles: Vec<EntityRef>,
}

/// Which entities a [`PolicyEntities`] read includes, by their paths.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntityQuery {
    pub groups: bool,
    pub users: bool,
    pub roles: bool,
    /// Entities the policy is attached to.
    pub attached: bool,
    /// Roles and users the policy bounds (`PolicyUsageFilter=PermissionsBoundary`).
    pub boundary: bool,
    /// Only entities whose path starts with this.
    pub path_prefix: String,
}

/// A user with everything GetAccountAuthorizationDetails shows of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserDetail {
    /// With its tags.
    pub user: User,
    pub inline: Vec<InlinePolicy>,
    pub attached: Vec<AttachedPolicy>,
    /// Names of the groups it is in, by name order.
    pub groups: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupDetail {
    pub group: Group,
    pub inline: Vec<InlinePolicy>,
    pub attached: Vec<AttachedPolicy>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoleDetail {
    /// With its tags and last use.
    pub role: Role,
    pub inline: Vec<InlinePolicy>,
    pub attached: Vec<AttachedPolicy>,
    /// The profiles holding it, each with its roles (without tags).
    pub instance_profiles: Vec<InstanceProfile>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyDetail {
    pub policy: ManagedPolicy,
    /// Newest first.
    pub versions: Vec<PolicyVersion>,
}

/// Every IAM entity of one account, read in one consistent snapshot, each list by name order.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct AccountDetails {
    pub users: Vec<UserDetail>,
    pub groups: Vec<GroupDetail>,
    pub roles: Vec<RoleDetail>,
    pub policies: Vec<PolicyDetail>,
}

/// Which parts of [`AccountDetails`] to read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DetailsQuery {
    pub users: bool,
    pub groups: bool,
    pub roles: bool,
    pub local_policies: bool,
}

/// A user and its access keys (by creation order), for the credential report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserCredentials {
    pub user: User,
    pub access_keys: Vec<AccessKey>,
    pub login_profile: Option<crate::model::LoginProfile>,
}
