//! AWS Identity and Access Management (awsQuery, 2010-05-08).
//!
//! One module per concept: [`roles`], [`principal_policies`] (inline and attached policies of
//! roles, users and groups alike, and boundaries), [`managed_policies`], [`instance_profiles`],
//! [`users`] (with their access keys), [`groups`] (and their members), [`oidc_providers`], [`tags`] (for every
//! taggable entity), [`account`] (the account alias and GetAccountSummary); the reads of a
//! whole account: [`account_details`] (GetAccountAuthorizationDetails), [`policy_entities`]
//! (ListEntitiesForPolicy), [`credential_report`]. Beneath them, [`validate`]
//! checks requests against IAM's model, [`documents`] checks policy documents and their size
//! quotas, [`access`] authorizes, [`store_errors`] words the store's outcomes as IAM does, and
//! [`xml`] writes the response shapes.

mod access;
mod account;
mod account_details;
mod aws_managed;
mod credential_report;
mod documents;
mod groups;
mod instance_profiles;
mod listing;
mod login_profiles;
mod managed_policies;
pub(crate) mod oidc_providers;
pub(crate) mod paging;
mod policy_entities;
mod principal_policies;
pub mod revoke;
mod roles;
mod simulate;
mod store_errors;
mod tags;
pub mod trust;
mod users;
pub(crate) mod validate;
mod xml;

use protocol::query::Query;
use protocol::{AwsError, Envelope, Protocol, XmlWriter};
use store::{Store, StoreError};

use crate::request::{Call, Service};
use principal_policies::Kind;
use tags::Taggable;

type Reply = Result<String, AwsError>;

/// Every operation served. The pipeline refuses any other, so an operation added to the
/// dispatch alone answers InvalidAction; the cross-account walk (crates/e2e, `isolation`)
/// covers each listed operation and fails when one is missing from it.
pub const OPERATIONS: &[&str] = &[
    "CreateRole",
    "GetRole",
    "ListRoles",
    "UpdateRole",
    "UpdateRoleDescription",
    "DeleteRole",
    "UpdateAssumeRolePolicy",
    "PutRolePolicy",
    "GetRolePolicy",
    "DeleteRolePolicy",
    "ListRolePolicies",
    "PutUserPolicy",
    "GetUserPolicy",
    "DeleteUserPolicy",
    "ListUserPolicies",
    "AttachRolePolicy",
    "DetachRolePolicy",
    "ListAttachedRolePolicies",
    "AttachUserPolicy",
    "DetachUserPolicy",
    "ListAttachedUserPolicies",
    "PutRolePermissionsBoundary",
    "DeleteRolePermissionsBoundary",
    "PutUserPermissionsBoundary",
    "DeleteUserPermissionsBoundary",
    "CreatePolicy",
    "GetPolicy",
    "DeletePolicy",
    "ListPolicies",
    "CreatePolicyVersion",
    "GetPolicyVersion",
    "ListPolicyVersions",
    "DeletePolicyVersion",
    "SetDefaultPolicyVersion",
    "CreateInstanceProfile",
    "GetInstanceProfile",
    "ListInstanceProfiles",
    "DeleteInstanceProfile",
    "AddRoleToInstanceProfile",
    "RemoveRoleFromInstanceProfile",
    "ListInstanceProfilesForRole",
    "CreateUser",
    "GetUser",
    "ListUsers",
    "DeleteUser",
    "UpdateUser",
    "CreateLoginProfile",
    "GetLoginProfile",
    "UpdateLoginProfile",
    "DeleteLoginProfile",
    "CreateAccessKey",
    "ListAccessKeys",
    "UpdateAccessKey",
    "DeleteAccessKey",
    "GetAccessKeyLastUsed",
    "SimulatePrincipalPolicy",
    "SimulateCustomPolicy",
    "TagRole",
    "UntagRole",
    "ListRoleTags",
    "TagUser",
    "UntagUser",
    "ListUserTags",
    "TagInstanceProfile",
    "UntagInstanceProfile",
    "ListInstanceProfileTags",
    "TagPolicy",
    "UntagPolicy",
    "ListPolicyTags",
    "CreateGroup",
    "GetGroup",
    "ListGroups",
    "UpdateGroup",
    "DeleteGroup",
    "AddUserToGroup",
    "RemoveUserFromGroup",
    "ListGroupsForUser",
    "PutGroupPolicy",
    "GetGroupPolicy",
    "DeleteGroupPolicy",
    "ListGroupPolicies",
    "AttachGroupPolicy",
    "DetachGroupPolicy",
    "ListAttachedGroupPolicies",
    "ListEntitiesForPolicy",
    "GetAccountAuthorizationDetails",
    "GenerateCredentialReport",
    "GetCredentialReport",
    "CreateAccountAlias",
    "DeleteAccountAlias",
    "ListAccountAliases",
    "GetAccountSummary",
    "CreateOpenIDConnectProvider",
    "GetOpenIDConnectProvider",
    "ListOpenIDConnectProviders",
    "DeleteOpenIDConnectProvider",
    "UpdateOpenIDConnectProviderThumbprint",
    "AddClientIDToOpenIDConnectProvider",
    "RemoveClientIDFromOpenIDConnectProvider",
    "TagOpenIDConnectProvider",
    "UntagOpenIDConnectProvider",
    "ListOpenIDConnectProviderTags",
];

/// IAM's signing name.
pub const SERVICE: &str = "iam";

/// IAM on the request pipeline.
pub struct Iam;

impl<S: Store> Service<S> for Iam {
    type Dialect = Query;
    const NAME: &'static str = SERVICE;

    fn dialect(&self) -> &Query {
        const DIALECT: Query = Query(Envelope::IAM);
        &DIALECT
    }

    fn operations(&self) -> &'static [&'static str] {
        OPERATIONS
    }

    async fn call(&self, call: &Call<'_, S>) -> Reply {
        dispatch(call).await
    }
}

async fn dispatch<S: Store>(call: &Call<'_, S>) -> Reply {
    match call.operation {
        "CreateRole" => roles::create(call).await,
        "GetRole" => roles::get(call).await,
        "ListRoles" => roles::list(call).await,
        "UpdateRole" => roles::update(call).await,
        "UpdateRoleDescription" => roles::update_description(call).await,
        "DeleteRole" => roles::delete(call).await,
        "UpdateAssumeRolePolicy" => roles::update_assume_role_policy(call).await,

        "PutRolePolicy" => principal_policies::put_inline(call, Kind::Role).await,
        "GetRolePolicy" => principal_policies::get_inline(call, Kind::Role).await,
        "DeleteRolePolicy" => principal_policies::delete_inline(call, Kind::Role).await,
        "ListRolePolicies" => principal_policies::list_inline(call, Kind::Role).await,
        "PutUserPolicy" => principal_policies::put_inline(call, Kind::User).await,
        "GetUserPolicy" => principal_policies::get_inline(call, Kind::User).await,
        "DeleteUserPolicy" => principal_policies::delete_inline(call, Kind::User).await,
        "ListUserPolicies" => principal_policies::list_inline(call, Kind::User).await,
        "AttachRolePolicy" => principal_policies::attach(call, Kind::Role).await,
        "DetachRolePolicy" => principal_policies::detach(call, Kind::Role).await,
        "ListAttachedRolePolicies" => principal_policies::list_attached(call, Kind::Role).await,
        "AttachUserPolicy" => principal_policies::attach(call, Kind::User).await,
        "DetachUserPolicy" => principal_policies::detach(call, Kind::User).await,
        "ListAttachedUserPolicies" => principal_policies::list_attached(call, Kind::User).await,
        "PutRolePermissionsBoundary" => principal_policies::put_boundary(call, Kind::Role).await,
        "DeleteRolePermissionsBoundary" => {
            principal_policies::delete_boundary(call, Kind::Role).await
        }
        "PutUserPermissionsBoundary" => principal_policies::put_boundary(call, Kind::User).await,
        "DeleteUserPermissionsBoundary" => {
            principal_policies::delete_boundary(call, Kind::User).await
        }

        "CreatePolicy" => managed_policies::create(call).await,
        "GetPolicy" => managed_policies::get(call).await,
        "DeletePolicy" => managed_policies::delete(call).await,
        "ListPolicies" => managed_policies::list(call).await,
        "CreatePolicyVersion" => managed_policies::create_version(call).await,
        "GetPolicyVersion" => managed_policies::get_version(call).await,
        "ListPolicyVersions" => managed_policies::list_versions(call).await,
        "DeletePolicyVersion" => managed_policies::delete_version(call).await,
        "SetDefaultPolicyVersion" => managed_policies::set_default_version(call).await,

        "CreateInstanceProfile" => instance_profiles::create(call).await,
        "GetInstanceProfile" => instance_profiles::get(call).await,
        "ListInstanceProfiles" => instance_profiles::list(call).await,
        "DeleteInstanceProfile" => instance_profiles::delete(call).await,
        "AddRoleToInstanceProfile" => instance_profiles::add_role(call).await,
        "RemoveRoleFromInstanceProfile" => instance_profiles::remove_role(call).await,
        "ListInstanceProfilesForRole" => instance_profiles::list_for_role(call).await,

        "CreateUser" => users::create(call).await,
        "GetUser" => users::get(call).await,
        "ListUsers" => users::list(call).await,
        "DeleteUser" => users::delete(call).await,
        "UpdateUser" => users::update(call).await,
        "CreateLoginProfile" => login_profiles::create(call).await,
        "GetLoginProfile" => login_profiles::get(call).await,
        "UpdateLoginProfile" => login_profiles::update(call).await,
        "DeleteLoginProfile" => login_profiles::delete(call).await,
        "CreateAccessKey" => users::create_access_key(call).await,
        "ListAccessKeys" => users::list_access_keys(call).await,
        "UpdateAccessKey" => users::update_access_key(call).await,
        "DeleteAccessKey" => users::delete_access_key(call).await,
        "GetAccessKeyLastUsed" => users::get_access_key_last_used(call).await,

        "SimulatePrincipalPolicy" => simulate::principal(call).await,
        "SimulateCustomPolicy" => simulate::custom(call).await,

        "TagRole" => tags::tag(call, Taggable::Role).await,
        "UntagRole" => tags::untag(call, Taggable::Role).await,
        "ListRoleTags" => tags::list(call, Taggable::Role).await,
        "TagUser" => tags::tag(call, Taggable::User).await,
        "UntagUser" => tags::untag(call, Taggable::User).await,
        "ListUserTags" => tags::list(call, Taggable::User).await,
        "TagInstanceProfile" => tags::tag(call, Taggable::InstanceProfile).await,
        "UntagInstanceProfile" => tags::untag(call, Taggable::InstanceProfile).await,
        "ListInstanceProfileTags" => tags::list(call, Taggable::InstanceProfile).await,
        "TagPolicy" => tags::tag(call, Taggable::Policy).await,
        "UntagPolicy" => tags::untag(call, Taggable::Policy).await,
        "ListPolicyTags" => tags::list(call, Taggable::Policy).await,

        "CreateGroup" => groups::create(call).await,
        "GetGroup" => groups::get(call).await,
        "ListGroups" => groups::list(call).await,
        "UpdateGroup" => groups::update(call).await,
        "DeleteGroup" => groups::delete(call).await,
        "AddUserToGroup" => groups::add_user(call).await,
        "RemoveUserFromGroup" => groups::remove_user(call).await,
        "ListGroupsForUser" => groups::list_for_user(call).await,
        "PutGroupPolicy" => principal_policies::put_inline(call, Kind::Group).await,
        "GetGroupPolicy" => principal_policies::get_inline(call, Kind::Group).await,
        "DeleteGroupPolicy" => principal_policies::delete_inline(call, Kind::Group).await,
        "ListGroupPolicies" => principal_policies::list_inline(call, Kind::Group).await,
        "AttachGroupPolicy" => principal_policies::attach(call, Kind::Group).await,
        "DetachGroupPolicy" => principal_policies::detach(call, Kind::Group).await,
        "ListAttachedGroupPolicies" => principal_policies::list_attached(call, Kind::Group).await,
        "ListEntitiesForPolicy" => policy_entities::list(call).await,
        "GetAccountAuthorizationDetails" => account_details::get(call).await,
        "GenerateCredentialReport" => credential_report::generate(call).await,
        "GetCredentialReport" => credential_report::get(call).await,
        "CreateAccountAlias" => account::create_alias(call).await,
        "DeleteAccountAlias" => account::delete_alias(call).await,
        "ListAccountAliases" => account::list_aliases(call).await,
        "GetAccountSummary" => account::summary(call).await,
        "CreateOpenIDConnectProvider" => oidc_providers::create(call).await,
        "GetOpenIDConnectProvider" => oidc_providers::get(call).await,
        "ListOpenIDConnectProviders" => oidc_providers::list(call).await,
        "DeleteOpenIDConnectProvider" => oidc_providers::delete(call).await,
        "UpdateOpenIDConnectProviderThumbprint" => oidc_providers::update_thumbprint(call).await,
        "AddClientIDToOpenIDConnectProvider" => oidc_providers::add_client_id(call).await,
        "RemoveClientIDFromOpenIDConnectProvider" => oidc_providers::remove_client_id(call).await,
        "TagOpenIDConnectProvider" => tags::tag(call, Taggable::OidcProvider).await,
        "UntagOpenIDConnectProvider" => tags::untag(call, Taggable::OidcProvider).await,
        "ListOpenIDConnectProviderTags" => tags::list(call, Taggable::OidcProvider).await,

        action => Err(AwsError::invalid_action(
            Envelope::IAM.protocol,
            action,
            Envelope::IAM.version,
        )),
    }
}

/// The operation's success response; `output` writes the members of `<OpResult>` (none for
/// operations without output, which then have no Result element).
fn respond<S>(call: &Call<'_, S>, output: impl FnOnce(&mut XmlWriter)) -> String {
    Envelope::IAM.success(call.operation, call.request_id, output)
}

/// The response of an operation without output.
fn done<S>(call: &Call<'_, S>) -> Reply {
    Ok(respond(call, |_| {}))
}

/// The caller's account: every IAM entity an operation names lives there.
fn account<'c, S>(call: &Call<'c, S>) -> &'c str {
    &call.caller.account_id
}

/// `arn:aws:iam::ACCOUNT:KIND{path}{name}`.
fn arn<S>(call: &Call<'_, S>, kind: &str, path: &str, name: &str) -> String {
    store::ids::iam_arn(account(call), kind, path, name)
}

/// A store outcome as IAM answers it, worded by [`store_errors`]; failures that are ours
/// (backend, or an EC2 rejection no IAM operation can meet) are logged and never described.
pub(crate) fn store_error(err: StoreError) -> AwsError {
    match store_errors::wording(&err) {
        Some(aws) => AwsError::sender(aws.code, aws.status, aws.message),
        None => {
            tracing::error!(error = %err, "store failure in an IAM operation");
            AwsError::internal(Protocol::AwsQuery)
        }
    }
}
