//! IAM groups through aws-sdk-iam: the lifecycle with AWS's errors, group policies in the
//! authorization of a member's very next request, the account-wide reads that walk groups
//! (GetAccountAuthorizationDetails, ListEntitiesForPolicy) and the credential report.

use aws_sdk_iam::Client;
use aws_sdk_iam::types::EntityType;
use aws_sdk_iam::types::PolicyUsageType;
use e2e::{ACCOUNT_ID, Server, failure, url_decode};

const ALLOW_LIST_ROLES: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iam:ListRoles","Resource":"*"}]}"#;
const ALLOW_LIST_USERS: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iam:ListUsers","Resource":"*"}]}"#;

async fn create_policy(iam: &Client, name: &str, document: &str) -> String {
    iam.create_policy()
        .policy_name(name)
        .policy_document(document)
        .send()
        .await
        .expect("create policy")
        .policy()
        .and_then(|p| p.arn())
        .expect("policy arn")
        .to_owned()
}

async fn attachment_count(iam: &Client, arn: &str) -> i32 {
    iam.get_policy()
        .policy_arn(arn)
        .send()
        .await
        .expect("get policy")
        .policy()
        .and_then(|p| p.attachment_count())
        .expect("attachment count")
}

#[tokio::test]
async fn group_lifecycle_with_members_policies_and_conflicts() {
    let server = Server::start();
    let iam = server.iam().await;

    let created = iam
        .create_group()
        .group_name("Devs")
        .path("/team/")
        .send()
        .await
        .expect("create group");
    let group = created.group().expect("group");
    assert_eq!(
        group.arn(),
        format!("arn:aws:iam::{ACCOUNT_ID}:group/team/Devs")
    );
    assert!(group.group_id().starts_with("AGPA") && group.group_id().len() == 21);
    // Names are unique case-insensitively, as AWS's users' and roles' are.
    assert_eq!(
        failure(iam.create_group().group_name("devs").send().await),
        (
            "EntityAlreadyExists".into(),
            "Group with name devs already exists.".into(),
            409
        )
    );
    assert_eq!(
        failure(iam.get_group().group_name("nobody").send().await),
        (
            "NoSuchEntity".into(),
            "The group with name nobody cannot be found.".into(),
            404
        )
    );
    iam.create_group().group_name("Ops").send().await.unwrap();
    // A group cannot be a principal.
    let trusting_group = format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{{"AWS":"arn:aws:iam::{ACCOUNT_ID}:group/Ops"}},"Action":"sts:AssumeRole"}}]}}"#
    );
    assert_eq!(
        failure(
            iam.create_role()
                .role_name("r")
                .assume_role_policy_document(trusting_group)
                .send()
                .await
        ),
        (
            "MalformedPolicyDocument".into(),
            format!("Invalid principal in policy: \"AWS\":\"arn:aws:iam::{ACCOUNT_ID}:group/Ops\""),
            400
        )
    );

    // Paging and the path prefix.
    let first = iam.list_groups().max_items(1).send().await.unwrap();
    assert_eq!(first.groups()[0].group_name(), "Devs");
    assert!(first.is_truncated());
    let rest = iam
        .list_groups()
        .marker(first.marker().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(rest.groups()[0].group_name(), "Ops");
    assert!(!rest.is_truncated());
    let under_team = iam
        .list_groups()
        .path_prefix("/team/")
        .send()
        .await
        .unwrap();
    assert_eq!(under_team.groups().len(), 1);

    // Members: adding twice is one membership; the user cannot be deleted while a member.
    for name in ["alice", "bob"] {
        iam.create_user().user_name(name).send().await.unwrap();
        for _ in 0..2 {
            iam.add_user_to_group()
                .group_name("Devs")
                .user_name(name)
                .send()
                .await
                .unwrap();
        }
    }
    assert_eq!(
        failure(
            iam.add_user_to_group()
                .group_name("Devs")
                .user_name("carol")
                .send()
                .await
        ),
        (
            "NoSuchEntity".into(),
            "The user with name carol cannot be found.".into(),
            404
        )
    );
    let page = iam
        .get_group()
        .group_name("Devs")
        .max_items(1)
        .send()
        .await
        .unwrap();
    assert_eq!(page.users()[0].user_name(), "alice");
    assert!(page.is_truncated());
    let page = iam
        .get_group()
        .group_name("Devs")
        .marker(page.marker().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(page.users()[0].user_name(), "bob");
    assert_eq!(
        failure(iam.delete_user().user_name("bob").send().await),
        (
            "DeleteConflict".into(),
            "Cannot delete entity, must remove users from group first.".into(),
            409
        )
    );
    assert_eq!(
        failure(iam.delete_group().group_name("Devs").send().await),
        (
            "DeleteConflict".into(),
            "Cannot delete entity, must remove users from group first.".into(),
            409
        )
    );

    // Renaming and moving keep the members; the ARN follows.
    iam.update_group()
        .group_name("Devs")
        .new_group_name("Builders")
        .new_path("/eng/")
        .send()
        .await
        .unwrap();
    let renamed = iam.get_group().group_name("builders").send().await.unwrap();
    let group = renamed.group().unwrap();
    assert_eq!(
        group.arn(),
        format!("arn:aws:iam::{ACCOUNT_ID}:group/eng/Builders")
    );
    assert_eq!(renamed.users().len(), 2);
    assert_eq!(
        failure(
            iam.update_group()
                .group_name("Builders")
                .new_group_name("OPS")
                .send()
                .await
        ),
        (
            "EntityAlreadyExists".into(),
            "Group with name OPS already exists.".into(),
            409
        )
    );
    let groups_of_bob = iam
        .list_groups_for_user()
        .user_name("bob")
        .send()
        .await
        .unwrap();
    assert_eq!(groups_of_bob.groups()[0].group_name(), "Builders");

    // Inline and attached policies; AttachmentCount and DeletePolicy see the group.
    iam.put_group_policy()
        .group_name("Builders")
        .policy_name("inline")
        .policy_document(ALLOW_LIST_ROLES)
        .send()
        .await
        .unwrap();
    let got = iam
        .get_group_policy()
        .group_name("Builders")
        .policy_name("inline")
        .send()
        .await
        .unwrap();
    assert_eq!(url_decode(got.policy_document()), ALLOW_LIST_ROLES);
    assert_eq!(
        failure(
            iam.get_group_policy()
                .group_name("Builders")
                .policy_name("other")
                .send()
                .await
        ),
        (
            "NoSuchEntity".into(),
            "The group policy with name other cannot be found.".into(),
            404
        )
    );
    let arn = create_policy(&iam, "shared", ALLOW_LIST_USERS).await;
    iam.attach_group_policy()
        .group_name("Builders")
        .policy_arn(&arn)
        .send()
        .await
        .unwrap();
    iam.attach_user_policy()
        .user_name("alice")
        .policy_arn(&arn)
        .send()
        .await
        .unwrap();
    assert_eq!(attachment_count(&iam, &arn).await, 2);
    assert_eq!(
        failure(iam.delete_policy().policy_arn(&arn).send().await).0,
        "DeleteConflict"
    );
    let attached = iam
        .list_attached_group_policies()
        .group_name("Builders")
        .send()
        .await
        .unwrap();
    assert_eq!(
        attached.attached_policies()[0].policy_arn(),
        Some(arn.as_str())
    );

    // ListEntitiesForPolicy, whole and filtered, and paged across its three lists.
    let entities = iam
        .list_entities_for_policy()
        .policy_arn(&arn)
        .send()
        .await
        .unwrap();
    assert_eq!(entities.policy_groups()[0].group_name(), Some("Builders"));
    assert_eq!(entities.policy_users()[0].user_name(), Some("alice"));
    assert!(entities.policy_roles().is_empty());
    let users_only = iam
        .list_entities_for_policy()
        .policy_arn(&arn)
        .entity_filter(EntityType::User)
        .send()
        .await
        .unwrap();
    assert!(users_only.policy_groups().is_empty());
    assert_eq!(users_only.policy_users().len(), 1);
    let boundaries = iam
        .list_entities_for_policy()
        .policy_arn(&arn)
        .policy_usage_filter(PolicyUsageType::PermissionsBoundary)
        .send()
        .await
        .unwrap();
    assert!(boundaries.policy_groups().is_empty() && boundaries.policy_users().is_empty());
    let one = iam
        .list_entities_for_policy()
        .policy_arn(&arn)
        .max_items(1)
        .send()
        .await
        .unwrap();
    assert_eq!(
        (one.policy_groups().len(), one.policy_users().len()),
        (1, 0)
    );
    let two = iam
        .list_entities_for_policy()
        .policy_arn(&arn)
        .marker(one.marker().expect("a second page"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        (two.policy_groups().len(), two.policy_users().len()),
        (0, 1)
    );

    // The account-wide read shows the group with its policies and alice's membership.
    let details = iam
        .get_account_authorization_details()
        .send()
        .await
        .unwrap();
    let builders = &details.group_detail_list()[0];
    assert_eq!(builders.group_name(), Some("Builders"));
    let inline = &builders.group_policy_list()[0];
    assert_eq!(inline.policy_name(), Some("inline"));
    assert_eq!(
        url_decode(inline.policy_document().unwrap()),
        ALLOW_LIST_ROLES
    );
    assert_eq!(builders.attached_managed_policies().len(), 1);
    let alice = details
        .user_detail_list()
        .iter()
        .find(|u| u.user_name() == Some("alice"))
        .expect("alice");
    assert_eq!(alice.group_list(), ["Builders"]);
    let shared = details
        .policies()
        .iter()
        .find(|p| p.policy_name() == Some("shared"))
        .expect("the policy");
    assert_eq!(shared.attachment_count(), Some(2));
    assert_eq!(
        url_decode(shared.policy_version_list()[0].document().unwrap()),
        ALLOW_LIST_USERS
    );
    let only_groups = iam
        .get_account_authorization_details()
        .filter(EntityType::Group)
        .send()
        .await
        .unwrap();
    assert!(only_groups.user_detail_list().is_empty() && only_groups.policies().is_empty());
    assert_eq!(only_groups.group_detail_list().len(), 2);

    // DeleteGroup refuses while anything is left, then succeeds.
    for name in ["alice", "bob"] {
        iam.remove_user_from_group()
            .group_name("Builders")
            .user_name(name)
            .send()
            .await
            .unwrap();
    }
    assert_eq!(
        failure(iam.delete_group().group_name("Builders").send().await).1,
        "Cannot delete entity, must detach all policies first."
    );
    iam.detach_group_policy()
        .group_name("Builders")
        .policy_arn(&arn)
        .send()
        .await
        .unwrap();
    assert_eq!(
        failure(iam.delete_group().group_name("Builders").send().await).1,
        "Cannot delete entity, must delete policies first."
    );
    iam.delete_group_policy()
        .group_name("Builders")
        .policy_name("inline")
        .send()
        .await
        .unwrap();
    iam.delete_group()
        .group_name("Builders")
        .send()
        .await
        .unwrap();
    iam.delete_user().user_name("bob").send().await.unwrap();
    assert_eq!(attachment_count(&iam, &arn).await, 1);
}

/// A user whose only permission comes from a group: allowed while a member, denied on the very
/// next request after RemoveUserFromGroup; the same for a policy attached to the group.
#[tokio::test]
async fn a_group_policy_grants_its_members_until_they_leave() {
    let server = Server::start();
    let iam = server.iam().await;
    let key = server.user_with_key("dev").await;
    let dev = Client::new(&server.key_config(&key).await);
    iam.create_group()
        .group_name("readers")
        .send()
        .await
        .unwrap();
    iam.put_group_policy()
        .group_name("readers")
        .policy_name("list-roles")
        .policy_document(ALLOW_LIST_ROLES)
        .send()
        .await
        .unwrap();
    let arn = create_policy(&iam, "list-users", ALLOW_LIST_USERS).await;
    iam.attach_group_policy()
        .group_name("readers")
        .policy_arn(&arn)
        .send()
        .await
        .unwrap();

    assert_eq!(failure(dev.list_roles().send().await).0, "AccessDenied");
    iam.add_user_to_group()
        .group_name("readers")
        .user_name("dev")
        .send()
        .await
        .unwrap();
    dev.list_roles()
        .send()
        .await
        .expect("allowed by the group's inline policy");
    dev.list_users()
        .send()
        .await
        .expect("allowed by the group's managed policy");

    // The simulator agrees, for the user and for the group's ARN.
    let simulated = iam
        .simulate_principal_policy()
        .policy_source_arn(format!("arn:aws:iam::{ACCOUNT_ID}:user/dev"))
        .action_names("iam:ListRoles")
        .action_names("iam:ListUsers")
        .action_names("iam:CreateRole")
        .send()
        .await
        .unwrap();
    let decisions: Vec<_> = simulated
        .evaluation_results()
        .iter()
        .map(|r| r.eval_decision().as_str().to_owned())
        .collect();
    assert_eq!(decisions, ["allowed", "allowed", "implicitDeny"]);
    let by_group = iam
        .simulate_principal_policy()
        .policy_source_arn(format!("arn:aws:iam::{ACCOUNT_ID}:group/readers"))
        .action_names("iam:ListRoles")
        .send()
        .await
        .unwrap();
    let result = &by_group.evaluation_results()[0];
    assert_eq!(result.eval_decision().as_str(), "allowed");
    assert_eq!(
        result.matched_statements()[0]
            .source_policy_type()
            .unwrap()
            .as_str(),
        "group"
    );

    iam.remove_user_from_group()
        .group_name("readers")
        .user_name("dev")
        .send()
        .await
        .unwrap();
    assert_eq!(failure(dev.list_roles().send().await).0, "AccessDenied");
    assert_eq!(failure(dev.list_users().send().await).0, "AccessDenied");
}

/// GetCredentialReport before any report is ReportNotPresent (410, no message); the first
/// GenerateCredentialReport answers STARTED, the next COMPLETE; the report is AWS's CSV.
#[tokio::test]
async fn credential_report_lists_users_and_their_keys() {
    let server = Server::start();
    let iam = server.iam().await;
    let err = iam.get_credential_report().send().await.unwrap_err();
    let status = err.raw_response().map(|r| r.status().as_u16());
    let err = err.into_service_error();
    assert!(err.is_credential_report_not_present_exception(), "{err:?}");
    assert_eq!(status, Some(410));

    let key = server.user_with_key("reporter").await;
    iam.update_access_key()
        .user_name("reporter")
        .access_key_id(key.access_key_id())
        .status(aws_sdk_iam::types::StatusType::Inactive)
        .send()
        .await
        .unwrap();
    let started = iam.generate_credential_report().send().await.unwrap();
    assert_eq!(started.state().unwrap().as_str(), "STARTED");
    assert_eq!(
        started.description(),
        Some("No report exists. Starting a new report generation task")
    );
    let complete = iam.generate_credential_report().send().await.unwrap();
    assert_eq!(complete.state().unwrap().as_str(), "COMPLETE");

    let report = iam.get_credential_report().send().await.unwrap();
    assert_eq!(report.report_format().unwrap().as_str(), "text/csv");
    let csv = String::from_utf8(report.content().unwrap().as_ref().to_vec()).unwrap();
    let mut lines = csv.lines();
    assert_eq!(
        lines.next().unwrap(),
        "user,arn,user_creation_time,password_enabled,password_last_used,password_last_changed,\
         password_next_rotation,mfa_active,access_key_1_active,access_key_1_last_rotated,\
         access_key_1_last_used_date,access_key_1_last_used_region,access_key_1_last_used_service,\
         access_key_2_active,access_key_2_last_rotated,access_key_2_last_used_date,\
         access_key_2_last_used_region,access_key_2_last_used_service,cert_1_active,\
         cert_1_last_rotated,cert_2_active,cert_2_last_rotated"
    );
    let row: Vec<&str> = lines
        .find(|l| l.starts_with("reporter,"))
        .expect("the user's row")
        .split(',')
        .collect();
    assert_eq!(row[1], format!("arn:aws:iam::{ACCOUNT_ID}:user/reporter"));
    assert!(row[2].len() == 20 && row[2].ends_with('Z'), "{}", row[2]);
    assert_eq!(row[3..8], ["false", "N/A", "N/A", "N/A", "false"]);
    assert_eq!(row[8], "false");
    assert!(row[9].len() == 20 && row[9].ends_with('Z'), "{}", row[9]);
    assert_eq!(row[10..13], ["N/A", "N/A", "N/A"]);
    assert_eq!(
        row[13..],
        [
            "false", "N/A", "N/A", "N/A", "N/A", "false", "N/A", "false", "N/A"
        ]
    );
}
