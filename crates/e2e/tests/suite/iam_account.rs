//! UpdateUser, account aliases and GetAccountSummary through the real aws-sdk-iam crate.

use aws_sdk_iam::types::Tag;
use e2e::{ACCOUNT_ID, Server, failure};

const S3_READ: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}"#;
const EC2_TRUST: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;

#[tokio::test]
async fn a_renamed_user_keeps_its_keys_policies_and_tags_under_its_new_arn() {
    let server = Server::start();
    let iam = server.iam().await;
    let key = server.user_with_key("before").await;
    iam.put_user_policy()
        .user_name("before")
        .policy_name("inline")
        .policy_document(S3_READ)
        .send()
        .await
        .unwrap();
    let policy_arn = iam
        .create_policy()
        .policy_name("managed")
        .policy_document(S3_READ)
        .send()
        .await
        .unwrap()
        .policy()
        .and_then(|p| p.arn())
        .unwrap()
        .to_owned();
    iam.attach_user_policy()
        .user_name("before")
        .policy_arn(&policy_arn)
        .send()
        .await
        .unwrap();
    iam.tag_user()
        .user_name("before")
        .tags(Tag::builder().key("team").value("core").build().unwrap())
        .send()
        .await
        .unwrap();
    let as_user = aws_sdk_sts::Client::new(&server.key_config(&key).await);
    let before = as_user.get_caller_identity().send().await.unwrap();
    assert_eq!(
        before.arn(),
        Some(format!("arn:aws:iam::{ACCOUNT_ID}:user/before").as_str())
    );

    iam.update_user()
        .user_name("before")
        .new_user_name("after")
        .new_path("/moved/")
        .send()
        .await
        .unwrap();

    let (code, message, status) = failure(iam.get_user().user_name("before").send().await);
    assert_eq!(
        (code.as_str(), message.as_str(), status),
        (
            "NoSuchEntity",
            "The user with name before cannot be found.",
            404
        )
    );
    let user = iam.get_user().user_name("after").send().await.unwrap();
    let user = user.user().unwrap();
    assert_eq!(user.path(), "/moved/");
    assert_eq!(
        user.arn(),
        format!("arn:aws:iam::{ACCOUNT_ID}:user/moved/after")
    );
    assert_eq!(user.user_id(), before.user_id().unwrap());
    // The same key now authenticates as the new ARN.
    let after = as_user.get_caller_identity().send().await.unwrap();
    assert_eq!(
        after.arn(),
        Some(format!("arn:aws:iam::{ACCOUNT_ID}:user/moved/after").as_str())
    );
    assert_eq!(after.user_id(), before.user_id());
    let keys = iam
        .list_access_keys()
        .user_name("after")
        .send()
        .await
        .unwrap();
    let listed = keys.access_key_metadata();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].access_key_id(), Some(key.access_key_id()));
    assert_eq!(listed[0].user_name(), Some("after"));
    let inline = iam
        .list_user_policies()
        .user_name("after")
        .send()
        .await
        .unwrap();
    assert_eq!(inline.policy_names(), ["inline"]);
    let attached = iam
        .list_attached_user_policies()
        .user_name("after")
        .send()
        .await
        .unwrap();
    assert_eq!(
        attached.attached_policies()[0].policy_arn(),
        Some(policy_arn.as_str())
    );
    let tags = iam
        .list_user_tags()
        .user_name("after")
        .send()
        .await
        .unwrap();
    assert_eq!(tags.tags()[0].key(), "team");

    // A name another user has (case-insensitively) is refused, and nothing changes.
    iam.create_user().user_name("taken").send().await.unwrap();
    let (code, message, status) = failure(
        iam.update_user()
            .user_name("after")
            .new_user_name("TAKEN")
            .send()
            .await,
    );
    assert_eq!(
        (code.as_str(), message.as_str(), status),
        (
            "EntityAlreadyExists",
            "User with name TAKEN already exists.",
            409
        )
    );
    assert!(iam.get_user().user_name("after").send().await.is_ok());
    let (code, _, status) = failure(
        iam.update_user()
            .user_name("nobody")
            .new_user_name("x")
            .send()
            .await,
    );
    assert_eq!((code.as_str(), status), ("NoSuchEntity", 404));
}

#[tokio::test]
async fn renaming_needs_update_user_on_the_old_and_the_new_arn() {
    let server = Server::start();
    let iam = server.iam().await;
    let key = server.user_with_key("renamer").await;
    let only_a = format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Action":"iam:UpdateUser","Resource":"arn:aws:iam::{ACCOUNT_ID}:user/a-*"}}]}}"#
    );
    iam.put_user_policy()
        .user_name("renamer")
        .policy_name("p")
        .policy_document(only_a)
        .send()
        .await
        .unwrap();
    iam.create_user().user_name("a-1").send().await.unwrap();
    let limited = aws_sdk_iam::Client::new(&server.key_config(&key).await);
    limited
        .update_user()
        .user_name("a-1")
        .new_user_name("a-2")
        .send()
        .await
        .unwrap();
    let (code, message, status) = failure(
        limited
            .update_user()
            .user_name("a-2")
            .new_user_name("b-1")
            .send()
            .await,
    );
    assert_eq!((code.as_str(), status), ("AccessDenied", 403));
    assert!(
        message.contains(&format!(
            "iam:UpdateUser on resource: arn:aws:iam::{ACCOUNT_ID}:user/b-1"
        )),
        "{message}"
    );
    assert!(iam.get_user().user_name("a-2").send().await.is_ok());
}

#[tokio::test]
async fn an_account_has_one_alias_that_no_other_name_deletes() {
    let server = Server::start();
    let iam = server.iam().await;
    let listed = iam.list_account_aliases().send().await.unwrap();
    assert!(listed.account_aliases().is_empty());
    assert!(!listed.is_truncated());

    iam.create_account_alias()
        .account_alias("first-alias")
        .send()
        .await
        .unwrap();
    // A second alias replaces the first, as on AWS.
    iam.create_account_alias()
        .account_alias("second-alias")
        .send()
        .await
        .unwrap();
    let listed = iam.list_account_aliases().send().await.unwrap();
    assert_eq!(listed.account_aliases(), ["second-alias"]);

    let (code, message, status) = failure(
        iam.create_account_alias()
            .account_alias("second-alias")
            .send()
            .await,
    );
    assert_eq!(
        (code.as_str(), message.as_str(), status),
        (
            "EntityAlreadyExists",
            "The account alias second-alias already exists.",
            409
        )
    );
    let (code, _, status) = failure(
        iam.delete_account_alias()
            .account_alias("first-alias")
            .send()
            .await,
    );
    assert_eq!((code.as_str(), status), ("NoSuchEntity", 404));
    let (code, message, status) = failure(
        iam.create_account_alias()
            .account_alias("Not_Valid")
            .send()
            .await,
    );
    assert_eq!((code.as_str(), status), ("ValidationError", 400));
    assert!(
        message.ends_with(r"Member must satisfy regular expression pattern: ^[a-z0-9]([a-z0-9]|-(?!-)){1,61}[a-z0-9]$"),
        "{message}"
    );

    iam.delete_account_alias()
        .account_alias("second-alias")
        .send()
        .await
        .unwrap();
    let listed = iam.list_account_aliases().send().await.unwrap();
    assert!(listed.account_aliases().is_empty());
    // Freed, so it can be taken again.
    iam.create_account_alias()
        .account_alias("second-alias")
        .send()
        .await
        .unwrap();
}

#[tokio::test]
async fn the_account_summary_counts_this_account() {
    let server = Server::start();
    let iam = server.iam().await;
    let summary = |map: &std::collections::HashMap<aws_sdk_iam::types::SummaryKeyType, i32>,
                   key: &str| {
        map[&aws_sdk_iam::types::SummaryKeyType::from(key)]
    };
    let before = iam.get_account_summary().send().await.unwrap();
    let before = before.summary_map().unwrap().clone();
    // AWS's keys, every one of them, and its default quotas.
    assert_eq!(before.len(), 34);
    assert!(
        before
            .keys()
            .all(|k| aws_sdk_iam::types::SummaryKeyType::values().contains(&k.as_str())),
        "{before:?}"
    );
    assert_eq!(summary(&before, "UsersQuota"), 5000);
    assert_eq!(summary(&before, "PolicySizeQuota"), 6144);
    assert_eq!(summary(&before, "Users"), 1, "the admin");

    iam.create_user().user_name("u").send().await.unwrap();
    iam.create_role()
        .role_name("r")
        .assume_role_policy_document(EC2_TRUST)
        .send()
        .await
        .unwrap();
    let arn = iam
        .create_policy()
        .policy_name("p")
        .policy_document(S3_READ)
        .send()
        .await
        .unwrap()
        .policy()
        .and_then(|p| p.arn())
        .unwrap()
        .to_owned();
    iam.attach_role_policy()
        .role_name("r")
        .policy_arn(&arn)
        .send()
        .await
        .unwrap();
    iam.create_instance_profile()
        .instance_profile_name("ip")
        .send()
        .await
        .unwrap();
    // Another account's entities are not counted.
    let (other_key, other_secret) = server.second_account("210987654321");
    let other = aws_sdk_iam::Client::new(&server.config(&other_key, &other_secret, None).await);
    other
        .create_user()
        .user_name("theirs")
        .send()
        .await
        .unwrap();

    let after = iam.get_account_summary().send().await.unwrap();
    let after = after.summary_map().unwrap().clone();
    for (key, delta) in [
        ("Users", 1),
        ("Roles", 1),
        ("Policies", 1),
        ("PolicyVersionsInUse", 1),
        ("InstanceProfiles", 1),
        ("Groups", 0),
        ("Providers", 0),
        ("MFADevices", 0),
    ] {
        assert_eq!(summary(&after, key) - summary(&before, key), delta, "{key}");
    }
}
