//! How IAM words the store's typed outcomes: the AWS error code, HTTP status and message for
//! each [`StoreError`] an IAM operation can meet.
//!
//! The store says *what* happened (`NotFound { kind, name }`, a quota, a conflict); the texts
//! here are the messages IAM returns for them, as AWS's API reference and recorded responses
//! word them; a comment names the source where it is something else. EC2 words the same
//! outcomes in its own way (`ec2::error::from_store`).
//!
//! Nothing here formats a store type with `Debug`: every message is spelled out, so an internal
//! name can never reach a response body.

use store::{Conflict, EntityKind, Quota, StoreError};

/// An AWS error as IAM words it: `<Code>`, the HTTP status, `<Message>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Wording {
    pub code: &'static str,
    pub status: u16,
    pub message: String,
}

/// How IAM answers a store outcome that is the sender's fault; `None` for a failure that is
/// ours (a backend failure, or an EC2 rejection, which no IAM operation can meet): those are
/// logged and answered as `ServiceFailure`, never described.
pub(crate) fn wording(err: &StoreError) -> Option<Wording> {
    let (code, status, message) = match err {
        StoreError::NotFound { kind, name } => ("NoSuchEntity", 404, not_found(kind, name)),
        StoreError::AlreadyExists { kind, name } => {
            ("EntityAlreadyExists", 409, already_exists(kind, name))
        }
        StoreError::LimitExceeded { quota } => ("LimitExceeded", 409, quota_exceeded(quota)),
        StoreError::DeleteConflict { reason } => {
            ("DeleteConflict", 409, conflict(*reason).to_owned())
        }
        StoreError::InvalidInput(message) => ("InvalidInput", 400, message.clone()),
        StoreError::Ec2(_) | StoreError::Backend(_) | StoreError::Schema(_) => return None,
    };
    Some(Wording {
        code,
        status,
        message,
    })
}

fn not_found(kind: &EntityKind, name: &str) -> String {
    match kind {
        EntityKind::Account => format!("Account {name} cannot be found."),
        EntityKind::User => format!("The user with name {name} cannot be found."),
        EntityKind::Role => format!("The role with name {name} cannot be found."),
        EntityKind::RolePolicy => format!("The role policy with name {name} cannot be found."),
        // By analogy with the role policy message (not in the reference).
        EntityKind::UserPolicy => format!("The user policy with name {name} cannot be found."),
        // Recorded AWS answers: LocalStack's test_iam_groups.py, get-group-not-found and
        // get-nonexistent-policy.
        EntityKind::Group => format!("The group with name {name} cannot be found."),
        EntityKind::GroupPolicy => format!("The group policy with name {name} cannot be found."),
        EntityKind::Policy => format!("Policy {name} was not found."),
        EntityKind::AttachablePolicy => {
            format!("Policy {name} does not exist or is not attachable.")
        }
        EntityKind::PermissionsBoundary => {
            format!("Scope ARN: {name} does not exist or is not attachable.")
        }
        EntityKind::PolicyVersion { policy_arn } => {
            format!("Policy {policy_arn} version {name} does not exist or is not attachable.")
        }
        EntityKind::InstanceProfile => format!("Instance Profile {name} cannot be found."),
        EntityKind::InstanceProfileRole { instance_profile } => {
            format!("Role {name} in Instance Profile {instance_profile} cannot be found.")
        }
        // AWS's text for DeleteAccessKey/UpdateAccessKey (public CLI logs, not AWS's API reference).
        EntityKind::AccessKey => format!("The Access Key with id {name} cannot be found."),
        EntityKind::TokenKey => format!("Session token key {name} cannot be found."),
        EntityKind::DeploymentKey => format!("Deployment key {name} cannot be found."),
        EntityKind::Instance => format!("The instance ID '{name}' does not exist"),
        EntityKind::Association => format!("The association ID '{name}' does not exist"),
        EntityKind::KeyPair => format!("The key pair '{name}' does not exist"),
        EntityKind::KeyPairId => format!("The key pair ID '{name}' does not exist"),
        // S3 words its own errors (`s3::errors`); these reach no IAM client.
        EntityKind::Bucket => "The specified bucket does not exist".to_owned(),
        EntityKind::Object => "The specified key does not exist.".to_owned(),
        EntityKind::Upload => "The specified upload does not exist.".to_owned(),
        // UNCONFIRMED wording: IAM's NoSuchEntity form for a named entity.
        EntityKind::AccountAlias => format!("The account alias {name} cannot be found."),
        // Recorded AWS answer (GetOpenIDConnectProvider, test_iam_oidc.py); DeleteOpenIDConnectProvider
        // words it its own way (`iam::oidc_providers`).
        EntityKind::OidcProvider => format!("OpenIDConnect Provider not found for arn {name}"),
        // Recorded AWS answer (GetLoginProfile/DeleteLoginProfile, test_iam_users.py).
        EntityKind::LoginProfile => format!("Login Profile for User {name} cannot be found."),
        EntityKind::Host => format!("The host ID '{name}' does not exist"),
    }
}

fn already_exists(kind: &EntityKind, name: &str) -> String {
    match kind {
        EntityKind::Role => format!("Role with name {name} already exists."),
        EntityKind::InstanceProfile => format!("Instance Profile {name} already exists."),
        EntityKind::Policy | EntityKind::AttachablePolicy | EntityKind::PermissionsBoundary => {
            format!("A policy called {name} already exists. Duplicate names are not allowed.")
        }
        // Public CLI logs show this form; the reference lists moto's shorter text as unconfirmed.
        EntityKind::User => format!("User with name {name} already exists."),
        // Recorded AWS answer: LocalStack's test_iam_groups.py, create-group-duplicate.
        EntityKind::Group => format!("Group with name {name} already exists."),
        EntityKind::Account => format!("Account {name} already exists."),
        EntityKind::AccessKey => format!("Access key {name} already exists."),
        // The store never reports these kinds as duplicates (their writes replace or allocate);
        // spelled out so that no internal name reaches a client if that changes.
        EntityKind::RolePolicy => format!("Role policy {name} already exists."),
        EntityKind::UserPolicy => format!("User policy {name} already exists."),
        EntityKind::GroupPolicy => format!("Group policy {name} already exists."),
        EntityKind::PolicyVersion { policy_arn } => {
            format!("Policy {policy_arn} version {name} already exists.")
        }
        EntityKind::InstanceProfileRole { instance_profile } => {
            format!("Role {name} in Instance Profile {instance_profile} already exists.")
        }
        EntityKind::TokenKey => format!("Session token key {name} already exists."),
        EntityKind::DeploymentKey => format!("Deployment key {name} already exists."),
        EntityKind::Instance => format!("Instance {name} already exists."),
        EntityKind::Host => format!("Host {name} already exists."),
        EntityKind::Association => format!("Association {name} already exists."),
        EntityKind::KeyPair | EntityKind::KeyPairId => {
            format!("The keypair '{name}' already exists.")
        }
        EntityKind::Bucket | EntityKind::Object | EntityKind::Upload => {
            "The requested bucket name is not available.".to_owned()
        }
        // As AWS answers (awslabs/aws-deployment-framework#465, ekristen/aws-nuke#697).
        EntityKind::AccountAlias => format!("The account alias {name} already exists."),
        // Recorded AWS answer (test_iam_oidc.py); `name` is the URL without its scheme.
        EntityKind::OidcProvider => format!("Provider with url https://{name} already exists."),
        // Recorded AWS answer (CreateLoginProfile, test_iam_users.py): "user", lower case.
        EntityKind::LoginProfile => format!("Login Profile for user {name} already exists."),
    }
}

fn quota_exceeded(quota: &Quota) -> String {
    match quota {
        Quota::RolesPerInstanceProfile => {
            "Cannot exceed quota for InstanceSessionsPerInstanceProfile: 1".to_owned()
        }
        Quota::PoliciesPerRole(n) => format!("Cannot exceed quota for PoliciesPerRole: {n}"),
        Quota::PoliciesPerUser(n) => format!("Cannot exceed quota for PoliciesPerUser: {n}"),
        Quota::PoliciesPerGroup(n) => format!("Cannot exceed quota for PoliciesPerGroup: {n}"),
        Quota::AccessKeysPerUser(n) => format!("Cannot exceed quota for AccessKeysPerUser: {n}"),
        Quota::PolicyVersions(n) => format!(
            "A managed policy can have up to {n} versions. Before you create a new version, \
             you must delete an existing version."
        ),
        // The reference confirms only the prefix; the "for role NAME" tail is from public logs.
        Quota::RoleInlinePolicySize { max, role } => {
            format!("Maximum policy size of {max} bytes exceeded for role {role}")
        }
        Quota::UserInlinePolicySize { max, user } => {
            format!("Maximum policy size of {max} bytes exceeded for user {user}")
        }
        Quota::GroupInlinePolicySize { max, group } => {
            format!("Maximum policy size of {max} bytes exceeded for group {group}")
        }
        Quota::OidcProvidersPerAccount(n) => {
            format!("Cannot exceed quota for OpenIdConnectProvidersPerAccount: {n}")
        }
        // Recorded AWS answer (CreateOpenIDConnectProvider, test_iam_oidc.py).
        Quota::ClientIdsPerOidcProvider(n) => {
            format!("Cannot exceed quota for ClientIdsPerOpenIdConnectProvider: {n}")
        }
        // EC2's quota; IAM never meets it.
        Quota::Ec2TagsPerResource { .. } => {
            "The maximum number of Tags for a resource has been reached.".to_owned()
        }
    }
}

fn conflict(reason: Conflict) -> &'static str {
    match reason {
        Conflict::InstanceProfileMembership => {
            "Cannot delete entity, must remove roles from instance profile first."
        }
        Conflict::AttachedPolicies => "Cannot delete entity, must detach all policies first.",
        Conflict::InlinePolicies => "Cannot delete entity, must delete policies first.",
        // Public CLI logs (DeleteUser); not in the reference.
        Conflict::AccessKeys => "Cannot delete entity, must delete access keys first.",
        // Public CLI logs (DeleteUser); not in the reference.
        Conflict::LoginProfile => "Cannot delete entity, must delete login profile first.",
        // Public CLI and SDK logs, for DeleteGroup and for DeleteUser alike; not in the reference.
        Conflict::GroupMembership => "Cannot delete entity, must remove users from group first.",
        Conflict::PolicyInUse => "Cannot delete a policy attached to entities.",
        // Public Terraform/CLI logs (DeletePolicy); not in the reference.
        Conflict::PolicyVersions => {
            "This policy has more than one version. Before you delete a policy, you must delete \
             the policy's versions. The default version is deleted with the policy."
        }
        Conflict::DefaultVersion => "Cannot delete the default version of a policy.",
        Conflict::BucketNotEmpty => "The bucket you tried to delete is not empty",
    }
}

#[cfg(test)]
mod tests {
    use store::Ec2Rejection;

    use super::*;

    fn not_found(kind: EntityKind, name: &str) -> StoreError {
        StoreError::NotFound {
            kind,
            name: name.into(),
        }
    }

    fn exists(kind: EntityKind, name: &str) -> StoreError {
        StoreError::AlreadyExists {
            kind,
            name: name.into(),
        }
    }

    fn limit(quota: Quota) -> StoreError {
        StoreError::LimitExceeded { quota }
    }

    fn delete_conflict(reason: Conflict) -> StoreError {
        StoreError::DeleteConflict { reason }
    }

    #[test]
    fn each_outcome_has_aws_code_status_and_message() {
        let policy = "arn:aws:iam::123456789012:policy/p";
        let cases = [
            (
                exists(EntityKind::Role, "ADMIN"),
                "EntityAlreadyExists",
                409,
                "Role with name ADMIN already exists.".to_owned(),
            ),
            (
                exists(EntityKind::User, "ADMIN"),
                "EntityAlreadyExists",
                409,
                "User with name ADMIN already exists.".to_owned(),
            ),
            (
                exists(EntityKind::InstanceProfile, "aDmIn"),
                "EntityAlreadyExists",
                409,
                "Instance Profile aDmIn already exists.".to_owned(),
            ),
            (
                exists(EntityKind::Policy, "admin"),
                "EntityAlreadyExists",
                409,
                "A policy called admin already exists. Duplicate names are not allowed.".to_owned(),
            ),
            (
                exists(EntityKind::Account, "123456789012"),
                "EntityAlreadyExists",
                409,
                "Account 123456789012 already exists.".to_owned(),
            ),
            (
                exists(EntityKind::AccessKey, "AKIAEXAMPLE"),
                "EntityAlreadyExists",
                409,
                "Access key AKIAEXAMPLE already exists.".to_owned(),
            ),
            (
                exists(EntityKind::TokenKey, "3"),
                "EntityAlreadyExists",
                409,
                "Session token key 3 already exists.".to_owned(),
            ),
            (
                not_found(EntityKind::Role, "zzz"),
                "NoSuchEntity",
                404,
                "The role with name zzz cannot be found.".to_owned(),
            ),
            (
                not_found(EntityKind::User, "u"),
                "NoSuchEntity",
                404,
                "The user with name u cannot be found.".to_owned(),
            ),
            (
                not_found(EntityKind::Account, "1"),
                "NoSuchEntity",
                404,
                "Account 1 cannot be found.".to_owned(),
            ),
            (
                not_found(EntityKind::RolePolicy, "i"),
                "NoSuchEntity",
                404,
                "The role policy with name i cannot be found.".to_owned(),
            ),
            (
                not_found(EntityKind::UserPolicy, "i"),
                "NoSuchEntity",
                404,
                "The user policy with name i cannot be found.".to_owned(),
            ),
            (
                not_found(EntityKind::Policy, policy),
                "NoSuchEntity",
                404,
                format!("Policy {policy} was not found."),
            ),
            (
                not_found(EntityKind::AttachablePolicy, policy),
                "NoSuchEntity",
                404,
                format!("Policy {policy} does not exist or is not attachable."),
            ),
            (
                not_found(EntityKind::PermissionsBoundary, policy),
                "NoSuchEntity",
                404,
                format!("Scope ARN: {policy} does not exist or is not attachable."),
            ),
            (
                not_found(
                    EntityKind::PolicyVersion {
                        policy_arn: policy.into(),
                    },
                    "v7",
                ),
                "NoSuchEntity",
                404,
                format!("Policy {policy} version v7 does not exist or is not attachable."),
            ),
            (
                not_found(EntityKind::InstanceProfile, "p"),
                "NoSuchEntity",
                404,
                "Instance Profile p cannot be found.".to_owned(),
            ),
            (
                not_found(
                    EntityKind::InstanceProfileRole {
                        instance_profile: "p".into(),
                    },
                    "b",
                ),
                "NoSuchEntity",
                404,
                "Role b in Instance Profile p cannot be found.".to_owned(),
            ),
            (
                not_found(EntityKind::AccessKey, "AKIAEXAMPLE"),
                "NoSuchEntity",
                404,
                "The Access Key with id AKIAEXAMPLE cannot be found.".to_owned(),
            ),
            (
                limit(Quota::RolesPerInstanceProfile),
                "LimitExceeded",
                409,
                "Cannot exceed quota for InstanceSessionsPerInstanceProfile: 1".to_owned(),
            ),
            (
                limit(Quota::AccessKeysPerUser(2)),
                "LimitExceeded",
                409,
                "Cannot exceed quota for AccessKeysPerUser: 2".to_owned(),
            ),
            (
                limit(Quota::PoliciesPerRole(10)),
                "LimitExceeded",
                409,
                "Cannot exceed quota for PoliciesPerRole: 10".to_owned(),
            ),
            (
                limit(Quota::PoliciesPerUser(10)),
                "LimitExceeded",
                409,
                "Cannot exceed quota for PoliciesPerUser: 10".to_owned(),
            ),
            (
                limit(Quota::PolicyVersions(5)),
                "LimitExceeded",
                409,
                "A managed policy can have up to 5 versions. Before you create a new version, \
                 you must delete an existing version."
                    .to_owned(),
            ),
            (
                limit(Quota::RoleInlinePolicySize {
                    max: 10_240,
                    role: "r".into(),
                }),
                "LimitExceeded",
                409,
                "Maximum policy size of 10240 bytes exceeded for role r".to_owned(),
            ),
            (
                limit(Quota::UserInlinePolicySize {
                    max: 2_048,
                    user: "u".into(),
                }),
                "LimitExceeded",
                409,
                "Maximum policy size of 2048 bytes exceeded for user u".to_owned(),
            ),
            (
                delete_conflict(Conflict::InstanceProfileMembership),
                "DeleteConflict",
                409,
                "Cannot delete entity, must remove roles from instance profile first.".to_owned(),
            ),
            (
                delete_conflict(Conflict::AttachedPolicies),
                "DeleteConflict",
                409,
                "Cannot delete entity, must detach all policies first.".to_owned(),
            ),
            (
                delete_conflict(Conflict::InlinePolicies),
                "DeleteConflict",
                409,
                "Cannot delete entity, must delete policies first.".to_owned(),
            ),
            (
                not_found(EntityKind::Group, "g"),
                "NoSuchEntity",
                404,
                "The group with name g cannot be found.".to_owned(),
            ),
            (
                not_found(EntityKind::GroupPolicy, "i"),
                "NoSuchEntity",
                404,
                "The group policy with name i cannot be found.".to_owned(),
            ),
            (
                exists(EntityKind::Group, "G"),
                "EntityAlreadyExists",
                409,
                "Group with name G already exists.".to_owned(),
            ),
            (
                limit(Quota::PoliciesPerGroup(10)),
                "LimitExceeded",
                409,
                "Cannot exceed quota for PoliciesPerGroup: 10".to_owned(),
            ),
            (
                delete_conflict(Conflict::GroupMembership),
                "DeleteConflict",
                409,
                "Cannot delete entity, must remove users from group first.".to_owned(),
            ),
            (
                delete_conflict(Conflict::AccessKeys),
                "DeleteConflict",
                409,
                "Cannot delete entity, must delete access keys first.".to_owned(),
            ),
            (
                delete_conflict(Conflict::PolicyInUse),
                "DeleteConflict",
                409,
                "Cannot delete a policy attached to entities.".to_owned(),
            ),
            (
                delete_conflict(Conflict::PolicyVersions),
                "DeleteConflict",
                409,
                "This policy has more than one version. Before you delete a policy, you must \
                 delete the policy's versions. The default version is deleted with the policy."
                    .to_owned(),
            ),
            (
                delete_conflict(Conflict::DefaultVersion),
                "DeleteConflict",
                409,
                "Cannot delete the default version of a policy.".to_owned(),
            ),
            (
                StoreError::InvalidInput("Invalid Marker.".into()),
                "InvalidInput",
                400,
                "Invalid Marker.".to_owned(),
            ),
        ];
        for (err, code, status, message) in cases {
            let expected = Wording {
                code,
                status,
                message,
            };
            assert_eq!(wording(&err), Some(expected), "{err}");
        }
    }

    #[test]
    fn failures_that_are_ours_are_not_described() {
        let err = StoreError::Ec2(Ec2Rejection::AddressInUse {
            address: "127.0.0.5".into(),
        });
        // `Backend` shares this arm; roleplane does not link sqlx to build one.
        assert_eq!(wording(&err), None);
    }

    #[test]
    fn no_message_carries_debug_text() {
        let kinds = || {
            [
                EntityKind::Account,
                EntityKind::User,
                EntityKind::Role,
                EntityKind::RolePolicy,
                EntityKind::UserPolicy,
                EntityKind::Group,
                EntityKind::GroupPolicy,
                EntityKind::Policy,
                EntityKind::AttachablePolicy,
                EntityKind::PermissionsBoundary,
                EntityKind::PolicyVersion {
                    policy_arn: "arn:aws:iam::123456789012:policy/p".into(),
                },
                EntityKind::InstanceProfile,
                EntityKind::InstanceProfileRole {
                    instance_profile: "p".into(),
                },
                EntityKind::AccessKey,
                EntityKind::TokenKey,
                EntityKind::Instance,
                EntityKind::Association,
                EntityKind::AccountAlias,
            ]
        };
        let errors = kinds()
            .into_iter()
            .map(|k| not_found(k, "n"))
            .chain(kinds().into_iter().map(|k| exists(k, "n")));
        for err in errors {
            let text = wording(&err).unwrap().message;
            for debug in ["{", "}", "\"", "Kind", "policy_arn", "instance_profile:"] {
                assert!(!text.contains(debug), "{text}");
            }
        }
    }
}
