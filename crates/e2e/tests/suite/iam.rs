//! IAM through the real aws-sdk-iam crate: lifecycles, AWS's errors (code, message, status),
//! authorization of a non-admin user, and durability across a restart.

use aws_sdk_iam::Client;
use aws_sdk_iam::config::http::HttpResponse;
use aws_sdk_iam::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_iam::types::{StatusType, Tag};
use e2e::{ACCOUNT_ID, Server, failure, url_decode};

const EC2_TRUST: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;
const S3_ALL: &str =
    r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]}"#;

fn expect<T: std::fmt::Debug, E: ProvideErrorMetadata + std::fmt::Debug>(
    result: Result<T, SdkError<E, HttpResponse>>,
    code: &str,
    message: &str,
    status: u16,
) {
    assert_eq!(
        failure(result),
        (code.to_owned(), message.to_owned(), status)
    );
}

fn tag(key: &str, value: &str) -> Tag {
    Tag::builder().key(key).value(value).build().expect("tag")
}

async fn create_role(iam: &Client, name: &str) {
    iam.create_role()
        .role_name(name)
        .assume_role_policy_document(EC2_TRUST)
        .send()
        .await
        .expect("create role");
}

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

#[tokio::test]
async fn role_lifecycle() {
    let server = Server::start();
    let iam = server.iam().await;

    let created = iam
        .create_role()
        .role_name("web")
        .path("/app/")
        .description("serves the site")
        .max_session_duration(7200)
        .assume_role_policy_document(EC2_TRUST)
        .tags(tag("Team", "web"))
        .send()
        .await
        .expect("create role");
    let role = created.role().expect("role");
    assert_eq!(role.arn(), "arn:aws:iam::123456789012:role/app/web");
    assert_eq!((role.path(), role.role_name()), ("/app/", "web"));
    assert!(role.role_id().starts_with("AROA") && role.role_id().len() == 21);
    assert_eq!(
        url_decode(role.assume_role_policy_document().expect("document")),
        EC2_TRUST
    );
    // CreateRole omits Description, MaxSessionDuration and RoleLastUsed, as AWS does.
    assert_eq!(role.description(), None);
    assert_eq!(role.max_session_duration(), None);
    assert!(role.role_last_used().is_none());
    assert_eq!(role.tags(), [tag("Team", "web")]);

    let got = iam
        .get_role()
        .role_name("WEB")
        .send()
        .await
        .expect("get role");
    let role = got.role().expect("role");
    assert_eq!(role.role_name(), "web", "names match case-insensitively");
    assert_eq!(role.max_session_duration(), Some(7200));
    assert_eq!(role.description(), Some("serves the site"));
    let last_used = role
        .role_last_used()
        .expect("RoleLastUsed is always present");
    assert!(last_used.last_used_date().is_none());

    create_role(&iam, "batch").await;
    let all = iam.list_roles().send().await.expect("list roles");
    assert_eq!(all.roles().len(), 2);
    // ListRoles omits tags (the SDK cannot tell absent from empty; xml.rs tests the shape).
    assert!(all.roles().iter().all(|r| r.tags().is_empty()));
    assert!(
        all.roles()
            .iter()
            .all(|r| r.max_session_duration().is_some())
    );
    let app = iam
        .list_roles()
        .path_prefix("/app/")
        .send()
        .await
        .expect("list");
    assert_eq!(app.roles().len(), 1);
    let first = iam.list_roles().max_items(1).send().await.expect("page 1");
    assert!(first.is_truncated());
    let second = iam
        .list_roles()
        .max_items(1)
        .marker(first.marker().expect("marker"))
        .send()
        .await
        .expect("page 2");
    assert!(!second.is_truncated() && second.marker().is_none());
    assert_ne!(first.roles()[0].role_name(), second.roles()[0].role_name());

    iam.update_role()
        .role_name("web")
        .max_session_duration(43200)
        .send()
        .await
        .expect("update role");
    let described = iam
        .update_role_description()
        .role_name("web")
        .description("new words")
        .send()
        .await
        .expect("update description");
    let role = described.role().expect("role");
    // AWS answers UpdateRoleDescription without MaxSessionDuration or RoleLastUsed (recorded).
    assert_eq!(
        (role.description(), role.max_session_duration()),
        (Some("new words"), None)
    );
    assert!(role.role_last_used().is_none());
    let got = iam
        .get_role()
        .role_name("web")
        .send()
        .await
        .expect("get role");
    assert_eq!(
        got.role().and_then(|r| r.max_session_duration()),
        Some(43200)
    );

    let narrower = EC2_TRUST.replace("ec2.amazonaws.com", "lambda.amazonaws.com");
    iam.update_assume_role_policy()
        .role_name("web")
        .policy_document(&narrower)
        .send()
        .await
        .expect("update trust");
    let role = iam.get_role().role_name("web").send().await.expect("get");
    assert_eq!(
        url_decode(
            role.role()
                .and_then(|r| r.assume_role_policy_document())
                .expect("doc")
        ),
        narrower
    );

    // Tags.
    iam.tag_role()
        .role_name("web")
        .tags(tag("team", "platform"))
        .tags(tag("Env", "prod"))
        .send()
        .await
        .expect("tag");
    let tags = iam
        .list_role_tags()
        .role_name("web")
        .send()
        .await
        .expect("tags");
    assert_eq!(tags.tags(), [tag("Env", "prod"), tag("team", "platform")]);
    assert!(!tags.is_truncated());
    iam.untag_role()
        .role_name("web")
        .tag_keys("ENV")
        .send()
        .await
        .expect("untag");
    let tags = iam
        .list_role_tags()
        .role_name("web")
        .send()
        .await
        .expect("tags");
    assert_eq!(tags.tags(), [tag("team", "platform")]);

    // Permissions boundary.
    let boundary = create_policy(&iam, "boundary", S3_ALL).await;
    iam.put_role_permissions_boundary()
        .role_name("web")
        .permissions_boundary(&boundary)
        .send()
        .await
        .expect("put boundary");
    let role = iam.get_role().role_name("web").send().await.expect("get");
    let attached = role
        .role()
        .and_then(|r| r.permissions_boundary())
        .expect("boundary");
    assert_eq!(attached.permissions_boundary_arn(), Some(boundary.as_str()));
    iam.delete_role_permissions_boundary()
        .role_name("web")
        .send()
        .await
        .expect("delete boundary");
    let role = iam.get_role().role_name("web").send().await.expect("get");
    assert!(role.role().and_then(|r| r.permissions_boundary()).is_none());

    // Delete conflicts, in AWS's order: profile membership, attached policies, inline policies.
    iam.create_instance_profile()
        .instance_profile_name("web-profile")
        .send()
        .await
        .expect("profile");
    iam.add_role_to_instance_profile()
        .instance_profile_name("web-profile")
        .role_name("web")
        .send()
        .await
        .expect("add");
    iam.attach_role_policy()
        .role_name("web")
        .policy_arn(&boundary)
        .send()
        .await
        .expect("attach");
    iam.put_role_policy()
        .role_name("web")
        .policy_name("inline")
        .policy_document(S3_ALL)
        .send()
        .await
        .expect("put inline");
    expect(
        iam.delete_role().role_name("web").send().await,
        "DeleteConflict",
        "Cannot delete entity, must remove roles from instance profile first.",
        409,
    );
    iam.remove_role_from_instance_profile()
        .instance_profile_name("web-profile")
        .role_name("web")
        .send()
        .await
        .expect("remove");
    expect(
        iam.delete_role().role_name("web").send().await,
        "DeleteConflict",
        "Cannot delete entity, must detach all policies first.",
        409,
    );
    iam.detach_role_policy()
        .role_name("web")
        .policy_arn(&boundary)
        .send()
        .await
        .expect("detach");
    expect(
        iam.delete_role().role_name("web").send().await,
        "DeleteConflict",
        "Cannot delete entity, must delete policies first.",
        409,
    );
    iam.delete_role_policy()
        .role_name("web")
        .policy_name("inline")
        .send()
        .await
        .expect("delete inline");
    iam.delete_role()
        .role_name("web")
        .send()
        .await
        .expect("delete");
    expect(
        iam.get_role().role_name("web").send().await,
        "NoSuchEntity",
        "The role with name web cannot be found.",
        404,
    );
}

#[tokio::test]
async fn inline_policies_of_roles_and_users() {
    let server = Server::start();
    let iam = server.iam().await;
    create_role(&iam, "r").await;
    iam.create_user().user_name("u").send().await.expect("user");

    iam.put_role_policy()
        .role_name("r")
        .policy_name("s3")
        .policy_document(S3_ALL)
        .send()
        .await
        .expect("put role policy");
    let got = iam
        .get_role_policy()
        .role_name("r")
        .policy_name("s3")
        .send()
        .await
        .expect("get role policy");
    assert_eq!((got.role_name(), got.policy_name()), ("r", "s3"));
    assert_eq!(url_decode(got.policy_document()), S3_ALL);
    let names = iam
        .list_role_policies()
        .role_name("r")
        .send()
        .await
        .expect("list");
    assert_eq!(names.policy_names(), ["s3"]);

    iam.put_user_policy()
        .user_name("u")
        .policy_name("s3")
        .policy_document(S3_ALL)
        .send()
        .await
        .expect("put user policy");
    let got = iam
        .get_user_policy()
        .user_name("u")
        .policy_name("s3")
        .send()
        .await
        .expect("get user policy");
    assert_eq!(
        (got.user_name(), url_decode(got.policy_document())),
        ("u", S3_ALL.to_owned())
    );
    iam.delete_user_policy()
        .user_name("u")
        .policy_name("s3")
        .send()
        .await
        .expect("delete user policy");
    let names = iam
        .list_user_policies()
        .user_name("u")
        .send()
        .await
        .expect("list");
    assert!(names.policy_names().is_empty());

    expect(
        iam.get_role_policy()
            .role_name("r")
            .policy_name("nope")
            .send()
            .await,
        "NoSuchEntity",
        "The role policy with name nope cannot be found.",
        404,
    );
    expect(
        iam.put_role_policy()
            .role_name("ghost")
            .policy_name("p")
            .policy_document(S3_ALL)
            .send()
            .await,
        "NoSuchEntity",
        "The role with name ghost cannot be found.",
        404,
    );
    expect(
        iam.put_user_policy()
            .user_name("ghost")
            .policy_name("p")
            .policy_document(S3_ALL)
            .send()
            .await,
        "NoSuchEntity",
        "The user with name ghost cannot be found.",
        404,
    );
    expect(
        iam.put_role_policy()
            .role_name("r")
            .policy_name("p")
            .policy_document("{nope")
            .send()
            .await,
        "MalformedPolicyDocument",
        "Syntax errors in policy.",
        400,
    );

    // Aggregate quotas, counted without whitespace: role 10,240, user 2,048.
    let statement = |sid: usize, pad: usize| {
        format!(
            r#"{{"Version":"2012-10-17","Statement":[{{"Sid":"S{sid}{}","Effect":"Allow","Action":"s3:GetObject","Resource":"*"}}]}}"#,
            "x".repeat(pad)
        )
    };
    let big = statement(1, 6000);
    iam.put_role_policy()
        .role_name("r")
        .policy_name("big1")
        .policy_document(&big)
        .send()
        .await
        .expect("under the role quota");
    expect(
        iam.put_role_policy()
            .role_name("r")
            .policy_name("big2")
            .policy_document(statement(2, 6000))
            .send()
            .await,
        "LimitExceeded",
        "Maximum policy size of 10240 bytes exceeded for role r",
        409,
    );
    let spaced = statement(3, 1800).replace(',', ", \n\t ");
    iam.put_user_policy()
        .user_name("u")
        .policy_name("spaced")
        .policy_document(&spaced)
        .send()
        .await
        .expect("whitespace is not counted");
    expect(
        iam.put_user_policy()
            .user_name("u")
            .policy_name("more")
            .policy_document(statement(4, 300))
            .send()
            .await,
        "LimitExceeded",
        "Maximum policy size of 2048 bytes exceeded for user u",
        409,
    );
}

#[tokio::test]
async fn managed_policy_lifecycle() {
    let server = Server::start();
    let iam = server.iam().await;
    let created = iam
        .create_policy()
        .policy_name("s3")
        .path("/team/")
        .description("bucket access")
        .policy_document(S3_ALL)
        .send()
        .await
        .expect("create policy");
    let policy = created.policy().expect("policy");
    let arn = policy.arn().expect("arn").to_owned();
    assert_eq!(arn, "arn:aws:iam::123456789012:policy/team/s3");
    assert!(policy.policy_id().expect("id").starts_with("ANPA"));
    // CreatePolicy leaves the Description out, as AWS does; GetPolicy has it.
    assert_eq!(policy.description(), None);
    assert_eq!(
        (
            policy.default_version_id(),
            policy.attachment_count(),
            policy.is_attachable()
        ),
        (Some("v1"), Some(0), true)
    );

    let got = iam.get_policy().policy_arn(&arn).send().await.expect("get");
    let policy = got.policy().expect("policy");
    assert_eq!(policy.description(), Some("bucket access"));
    assert!(policy.tags().is_empty());

    // Versions: v2 becomes the default, v3 does not.
    let s3_read = S3_ALL.replace("s3:*", "s3:Get*");
    let v2 = iam
        .create_policy_version()
        .policy_arn(&arn)
        .policy_document(&s3_read)
        .set_as_default(true)
        .send()
        .await
        .expect("v2");
    let v2 = v2.policy_version().expect("version");
    assert_eq!(
        (v2.version_id(), v2.is_default_version()),
        (Some("v2"), true)
    );
    assert!(
        v2.document().is_none(),
        "CreatePolicyVersion returns no document"
    );
    iam.create_policy_version()
        .policy_arn(&arn)
        .policy_document(S3_ALL)
        .send()
        .await
        .expect("v3");
    let v2 = iam
        .get_policy_version()
        .policy_arn(&arn)
        .version_id("v2")
        .send()
        .await
        .expect("get v2");
    let v2 = v2.policy_version().expect("version");
    assert_eq!(url_decode(v2.document().expect("document")), s3_read);
    let versions = iam
        .list_policy_versions()
        .policy_arn(&arn)
        .send()
        .await
        .expect("versions");
    let listed: Vec<(&str, bool)> = versions
        .versions()
        .iter()
        .map(|v| (v.version_id().unwrap_or_default(), v.is_default_version()))
        .collect();
    assert_eq!(listed, [("v3", false), ("v2", true), ("v1", false)]);

    iam.create_policy_version()
        .policy_arn(&arn)
        .policy_document(S3_ALL)
        .send()
        .await
        .expect("v4");
    iam.create_policy_version()
        .policy_arn(&arn)
        .policy_document(S3_ALL)
        .send()
        .await
        .expect("v5");
    expect(
        iam.create_policy_version()
            .policy_arn(&arn)
            .policy_document(S3_ALL)
            .send()
            .await,
        "LimitExceeded",
        "A managed policy can have up to 5 versions. Before you create a new version, you must delete an existing version.",
        409,
    );
    expect(
        iam.delete_policy_version()
            .policy_arn(&arn)
            .version_id("v2")
            .send()
            .await,
        "DeleteConflict",
        "Cannot delete the default version of a policy.",
        409,
    );
    iam.set_default_policy_version()
        .policy_arn(&arn)
        .version_id("v1")
        .send()
        .await
        .expect("set default");
    iam.delete_policy_version()
        .policy_arn(&arn)
        .version_id("v2")
        .send()
        .await
        .expect("delete v2");
    expect(
        iam.get_policy_version()
            .policy_arn(&arn)
            .version_id("v2")
            .send()
            .await,
        "NoSuchEntity",
        &format!("Policy {arn} version v2 does not exist or is not attachable."),
        404,
    );

    // Attach and detach on a role and a user.
    create_role(&iam, "r").await;
    iam.create_user().user_name("u").send().await.expect("user");
    iam.attach_role_policy()
        .role_name("r")
        .policy_arn(&arn)
        .send()
        .await
        .expect("attach role");
    iam.attach_user_policy()
        .user_name("u")
        .policy_arn(&arn)
        .send()
        .await
        .expect("attach user");
    let attached = iam
        .list_attached_role_policies()
        .role_name("r")
        .send()
        .await
        .expect("list");
    let names: Vec<_> = attached
        .attached_policies()
        .iter()
        .map(|p| {
            (
                p.policy_name().unwrap_or_default(),
                p.policy_arn().unwrap_or_default(),
            )
        })
        .collect();
    assert_eq!(names, [("s3", arn.as_str())]);
    let attached = iam
        .list_attached_user_policies()
        .user_name("u")
        .send()
        .await
        .expect("list");
    assert_eq!(attached.attached_policies().len(), 1);
    let got = iam.get_policy().policy_arn(&arn).send().await.expect("get");
    assert_eq!(got.policy().and_then(|p| p.attachment_count()), Some(2));
    // A PolicyArn that is no ARN is a ValidationError, a boundary that names no policy
    // InvalidInput, both before any lookup (recorded AWS answers).
    expect(
        iam.attach_role_policy()
            .role_name("r")
            .policy_arn("longpolicynamebutnoarn")
            .send()
            .await,
        "ValidationError",
        "ARN longpolicynamebutnoarn is not valid.",
        400,
    );
    expect(
        iam.attach_user_policy()
            .user_name("u")
            .policy_arn("s3-policy-given-by-its-name")
            .send()
            .await,
        "ValidationError",
        "ARN s3-policy-given-by-its-name is not valid.",
        400,
    );
    let not_a_policy = format!("arn:aws:iam::{ACCOUNT_ID}:not_a_policy/invalid");
    expect(
        iam.put_role_permissions_boundary()
            .role_name("r")
            .permissions_boundary(&not_a_policy)
            .send()
            .await,
        "InvalidInput",
        &format!("ARN {not_a_policy} is not valid."),
        400,
    );
    expect(
        iam.create_role()
            .role_name("bounded")
            .assume_role_policy_document(EC2_TRUST)
            .permissions_boundary(&not_a_policy)
            .send()
            .await,
        "InvalidInput",
        &format!("ARN {not_a_policy} is not valid."),
        400,
    );
    let only_attached = iam
        .list_policies()
        .only_attached(true)
        .send()
        .await
        .expect("list");
    assert_eq!(only_attached.policies().len(), 1);
    expect(
        iam.delete_policy().policy_arn(&arn).send().await,
        "DeleteConflict",
        "Cannot delete a policy attached to entities.",
        409,
    );
    iam.detach_role_policy()
        .role_name("r")
        .policy_arn(&arn)
        .send()
        .await
        .expect("detach");
    iam.detach_user_policy()
        .user_name("u")
        .policy_arn(&arn)
        .send()
        .await
        .expect("detach");
    expect(
        iam.detach_role_policy()
            .role_name("r")
            .policy_arn(&arn)
            .send()
            .await,
        "NoSuchEntity",
        &format!("Policy {arn} was not found."),
        404,
    );

    // Tags.
    iam.tag_policy()
        .policy_arn(&arn)
        .tags(tag("k", "v"))
        .send()
        .await
        .expect("tag");
    let tags = iam
        .list_policy_tags()
        .policy_arn(&arn)
        .send()
        .await
        .expect("tags");
    assert_eq!(tags.tags(), [tag("k", "v")]);
    iam.untag_policy()
        .policy_arn(&arn)
        .tag_keys("k")
        .send()
        .await
        .expect("untag");
    // A policy's tag keys are case-sensitive (`a` and `A` are two tags). GetPolicy keeps the
    // order they were added in, ListPolicyTags orders by key length, then key (recorded AWS
    // answers: LocalStack's test_iam_policies.py tag tests).
    iam.tag_policy()
        .policy_arn(&arn)
        .tags(tag("abc", "first"))
        .tags(tag("b", "second"))
        .tags(tag("a", "lower"))
        .tags(tag("A", "upper"))
        .send()
        .await
        .expect("tag with case");
    let got = iam.get_policy().policy_arn(&arn).send().await.expect("get");
    let keys = |tags: &[Tag]| tags.iter().map(|t| t.key().to_owned()).collect::<Vec<_>>();
    assert_eq!(
        keys(got.policy().map(|p| p.tags()).unwrap_or_default()),
        ["abc", "b", "a", "A"]
    );
    let listed = iam
        .list_policy_tags()
        .policy_arn(&arn)
        .send()
        .await
        .expect("tags");
    assert_eq!(keys(listed.tags()), ["A", "a", "b", "abc"]);
    iam.untag_policy()
        .policy_arn(&arn)
        .tag_keys("a")
        .send()
        .await
        .expect("untag lowercase");
    let listed = iam
        .list_policy_tags()
        .policy_arn(&arn)
        .send()
        .await
        .expect("tags");
    assert_eq!(keys(listed.tags()), ["A", "b", "abc"]);
    expect(
        iam.tag_policy()
            .policy_arn(&arn)
            .tags(tag("0", ""))
            .tags(tag("0", ""))
            .send()
            .await,
        "InvalidInput",
        "Duplicate tag keys found.",
        400,
    );
    iam.untag_policy()
        .policy_arn(&arn)
        .tag_keys("A")
        .tag_keys("b")
        .tag_keys("abc")
        .send()
        .await
        .expect("untag the rest");

    for version in ["v3", "v4", "v5"] {
        iam.delete_policy_version()
            .policy_arn(&arn)
            .version_id(version)
            .send()
            .await
            .expect("delete version");
    }
    iam.delete_policy()
        .policy_arn(&arn)
        .send()
        .await
        .expect("delete policy");
    expect(
        iam.get_policy().policy_arn(&arn).send().await,
        "NoSuchEntity",
        &format!("Policy {arn} was not found."),
        404,
    );
    expect(
        iam.get_policy()
            .policy_arn("arn:aws:iam::123456789012:role/nope")
            .send()
            .await,
        "InvalidInput",
        "ARN arn:aws:iam::123456789012:role/nope is not valid.",
        400,
    );
    let unknown = "arn:aws:iam::123456789012:policy/unknown";
    expect(
        iam.attach_role_policy()
            .role_name("r")
            .policy_arn(unknown)
            .send()
            .await,
        "NoSuchEntity",
        &format!("Policy {unknown} does not exist or is not attachable."),
        404,
    );
}

#[tokio::test]
async fn instance_profile_lifecycle() {
    let server = Server::start();
    let iam = server.iam().await;
    create_role(&iam, "s3access").await;
    create_role(&iam, "other").await;

    let created = iam
        .create_instance_profile()
        .instance_profile_name("s3access-profile")
        .send()
        .await
        .expect("create profile");
    let profile = created.instance_profile().expect("profile");
    assert!(profile.instance_profile_id().starts_with("AIPA"));
    assert_eq!(
        profile.arn(),
        "arn:aws:iam::123456789012:instance-profile/s3access-profile"
    );
    assert!(profile.roles().is_empty());
    expect(
        iam.create_instance_profile()
            .instance_profile_name("S3ACCESS-profile")
            .send()
            .await,
        "EntityAlreadyExists",
        "Instance Profile S3ACCESS-profile already exists.",
        409,
    );

    iam.add_role_to_instance_profile()
        .instance_profile_name("s3access-profile")
        .role_name("s3access")
        .send()
        .await
        .expect("add role");
    expect(
        iam.add_role_to_instance_profile()
            .instance_profile_name("s3access-profile")
            .role_name("other")
            .send()
            .await,
        "LimitExceeded",
        "Cannot exceed quota for InstanceSessionsPerInstanceProfile: 1",
        409,
    );
    let got = iam
        .get_instance_profile()
        .instance_profile_name("s3access-profile")
        .send()
        .await
        .expect("get");
    let profile = got.instance_profile().expect("profile");
    let role = &profile.roles()[0];
    assert_eq!(role.role_name(), "s3access");
    assert_eq!(
        url_decode(role.assume_role_policy_document().expect("doc")),
        EC2_TRUST
    );

    let for_role = iam
        .list_instance_profiles_for_role()
        .role_name("s3access")
        .send()
        .await
        .expect("for role");
    assert_eq!(for_role.instance_profiles().len(), 1);
    let all = iam.list_instance_profiles().send().await.expect("list");
    assert_eq!(all.instance_profiles().len(), 1);

    iam.tag_instance_profile()
        .instance_profile_name("s3access-profile")
        .tags(tag("k", "v"))
        .send()
        .await
        .expect("tag");
    let tags = iam
        .list_instance_profile_tags()
        .instance_profile_name("s3access-profile")
        .send()
        .await
        .expect("tags");
    assert_eq!(tags.tags(), [tag("k", "v")]);
    iam.untag_instance_profile()
        .instance_profile_name("s3access-profile")
        .tag_keys("k")
        .send()
        .await
        .expect("untag");

    expect(
        iam.delete_instance_profile()
            .instance_profile_name("s3access-profile")
            .send()
            .await,
        "DeleteConflict",
        "Cannot delete entity, must remove roles from instance profile first.",
        409,
    );
    iam.remove_role_from_instance_profile()
        .instance_profile_name("s3access-profile")
        .role_name("s3access")
        .send()
        .await
        .expect("remove");
    expect(
        iam.remove_role_from_instance_profile()
            .instance_profile_name("s3access-profile")
            .role_name("s3access")
            .send()
            .await,
        "NoSuchEntity",
        "Role s3access in Instance Profile s3access-profile cannot be found.",
        404,
    );
    iam.delete_instance_profile()
        .instance_profile_name("s3access-profile")
        .send()
        .await
        .expect("delete");
    expect(
        iam.get_instance_profile()
            .instance_profile_name("s3access-profile")
            .send()
            .await,
        "NoSuchEntity",
        "Instance Profile s3access-profile cannot be found.",
        404,
    );
}

#[tokio::test]
async fn users_and_access_keys() {
    let server = Server::start();
    let iam = server.iam().await;

    let me = iam.get_user().send().await.expect("get caller");
    assert_eq!(me.user().map(|u| u.user_name()), Some("admin"));

    let created = iam
        .create_user()
        .user_name("alice")
        .path("/people/")
        .tags(tag("team", "data"))
        .send()
        .await
        .expect("create user");
    let user = created.user().expect("user");
    assert_eq!(user.arn(), "arn:aws:iam::123456789012:user/people/alice");
    assert!(user.user_id().starts_with("AIDA"));
    expect(
        iam.create_user().user_name("ALICE").send().await,
        "EntityAlreadyExists",
        "User with name ALICE already exists.",
        409,
    );
    let users = iam.list_users().send().await.expect("list users");
    let names: Vec<_> = users.users().iter().map(|u| u.user_name()).collect();
    assert_eq!(names, ["admin", "alice"]);
    let tags = iam
        .list_user_tags()
        .user_name("alice")
        .send()
        .await
        .expect("tags");
    assert_eq!(tags.tags(), [tag("team", "data")]);

    let first = iam
        .create_access_key()
        .user_name("alice")
        .send()
        .await
        .expect("key 1");
    let key = first.access_key().expect("key");
    assert!(key.access_key_id().starts_with("AKIA") && key.access_key_id().len() == 20);
    assert_eq!(key.secret_access_key().len(), 40);
    assert_eq!(key.status(), &StatusType::Active);
    let first_id = key.access_key_id().to_owned();
    iam.create_access_key()
        .user_name("alice")
        .send()
        .await
        .expect("key 2");
    expect(
        iam.create_access_key().user_name("alice").send().await,
        "LimitExceeded",
        "Cannot exceed quota for AccessKeysPerUser: 2",
        409,
    );
    let keys = iam
        .list_access_keys()
        .user_name("alice")
        .send()
        .await
        .expect("list keys");
    assert_eq!(keys.access_key_metadata().len(), 2);

    iam.update_access_key()
        .user_name("alice")
        .access_key_id(&first_id)
        .status(StatusType::Inactive)
        .send()
        .await
        .expect("deactivate");
    let keys = iam
        .list_access_keys()
        .user_name("alice")
        .send()
        .await
        .expect("list keys");
    let status = keys
        .access_key_metadata()
        .iter()
        .find(|k| k.access_key_id() == Some(first_id.as_str()))
        .and_then(|k| k.status().cloned());
    assert_eq!(status, Some(StatusType::Inactive));
    let last_used = iam
        .get_access_key_last_used()
        .access_key_id(&first_id)
        .send()
        .await
        .expect("last used");
    assert_eq!(last_used.user_name(), Some("alice"));
    // A key that does not exist: AccessDenied, worded without the colon after "perform"
    // (recorded AWS answer).
    expect(
        iam.get_access_key_last_used()
            .access_key_id("AKIAIOSFODNN7EXAMPLE")
            .send()
            .await,
        "AccessDenied",
        &format!(
            "User: arn:aws:iam::{ACCOUNT_ID}:user/admin is not authorized to perform iam:GetAccessKeyLastUsed on resource: access key AKIAIOSFODNN7EXAMPLE"
        ),
        403,
    );

    expect(
        iam.delete_user().user_name("alice").send().await,
        "DeleteConflict",
        "Cannot delete entity, must delete access keys first.",
        409,
    );
    for key in keys.access_key_metadata() {
        iam.delete_access_key()
            .user_name("alice")
            .access_key_id(key.access_key_id().expect("id"))
            .send()
            .await
            .expect("delete key");
    }
    iam.delete_user()
        .user_name("alice")
        .send()
        .await
        .expect("delete user");
    expect(
        iam.get_user().user_name("alice").send().await,
        "NoSuchEntity",
        "The user with name alice cannot be found.",
        404,
    );
}

/// GetAccessKeyLastUsed names the time, service and region of the key's latest signed call,
/// `N/A` before the first; GetRole's RoleLastUsed follows AssumeRole; a clean restart keeps both.
#[tokio::test]
async fn last_use_of_keys_and_roles_follows_calls_across_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let mut server = Server::start_on(&dir.path().join("data"));
    let iam = server.iam().await;
    let key = server.user_with_key("bob").await;
    let last_used = |iam: aws_sdk_iam::Client, id: String| async move {
        let out = iam
            .get_access_key_last_used()
            .access_key_id(id)
            .send()
            .await
            .unwrap();
        let used = out.access_key_last_used().unwrap().clone();
        (
            used.last_used_date().map(|d| d.secs()),
            used.service_name().to_owned(),
            used.region().to_owned(),
        )
    };
    let id = key.access_key_id().to_owned();
    assert_eq!(
        last_used(iam.clone(), id.clone()).await,
        (None, "N/A".into(), "N/A".into())
    );

    let bob = server.key_config(&key).await;
    let before = now_secs();
    aws_sdk_sts::Client::new(&bob)
        .get_caller_identity()
        .send()
        .await
        .unwrap();
    let (date, service, region) = last_used(iam.clone(), id.clone()).await;
    let date = date.expect("a use has a date");
    assert!(before <= date && date <= now_secs(), "{before} <= {date}");
    assert_eq!((service.as_str(), region.as_str()), ("sts", e2e::REGION));

    // A refused call is still a use of the key.
    aws_sdk_ec2::Client::new(&bob)
        .describe_instances()
        .send()
        .await
        .unwrap_err();
    assert_eq!(last_used(iam.clone(), id.clone()).await.1, "ec2");

    let role_last_used = |iam: aws_sdk_iam::Client| async move {
        let out = iam.get_role().role_name("assumed").send().await.unwrap();
        let used = out.role().unwrap().role_last_used().cloned();
        used.map(|u| {
            (
                u.last_used_date().map(|d| d.secs()),
                u.region().map(str::to_owned),
            )
        })
    };
    let trust = format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{{"AWS":"arn:aws:iam::{ACCOUNT_ID}:root"}},"Action":"sts:AssumeRole"}}]}}"#
    );
    let role = iam
        .create_role()
        .role_name("assumed")
        .assume_role_policy_document(trust)
        .send()
        .await
        .unwrap();
    let (date, _) = role_last_used(iam.clone()).await.unwrap_or_default();
    assert_eq!(date, None, "never assumed");
    server
        .sts()
        .await
        .assume_role()
        .role_arn(role.role().unwrap().arn())
        .role_session_name("once")
        .send()
        .await
        .unwrap();
    let (date, region) = role_last_used(iam).await.unwrap();
    assert!(date.is_some_and(|d| d >= before));
    assert_eq!(region.as_deref(), Some(e2e::REGION));

    server.stop();
    let server = Server::start_on(&dir.path().join("data"));
    let (date, service, _) = last_used(server.iam().await, id).await;
    assert!(date.is_some());
    assert_eq!(service, "ec2");
    let (date, region) = role_last_used(server.iam().await).await.unwrap();
    assert!(date.is_some());
    assert_eq!(region.as_deref(), Some(e2e::REGION));
}

fn now_secs() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

#[tokio::test]
async fn validation_and_entity_errors() {
    let server = Server::start();
    let iam = server.iam().await;
    create_role(&iam, "r").await;

    expect(
        iam.create_role()
            .role_name("r")
            .assume_role_policy_document(EC2_TRUST)
            .send()
            .await,
        "EntityAlreadyExists",
        "Role with name r already exists.",
        409,
    );
    expect(
        iam.create_role()
            .role_name("bad name")
            .assume_role_policy_document(EC2_TRUST)
            .send()
            .await,
        "ValidationError",
        r"1 validation error detected: Value 'bad name' at 'roleName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\w+=,.@-]+",
        400,
    );
    expect(
        iam.create_role()
            .role_name("short")
            .max_session_duration(100)
            .assume_role_policy_document(EC2_TRUST)
            .send()
            .await,
        "ValidationError",
        "1 validation error detected: Value '100' at 'maxSessionDuration' failed to satisfy constraint: Member must have value greater than or equal to 3600",
        400,
    );
    let mut too_many = iam
        .create_role()
        .role_name("tags")
        .assume_role_policy_document(EC2_TRUST);
    for i in 0..51 {
        too_many = too_many.tags(tag(&format!("k{i}"), "v"));
    }
    expect(
        too_many.send().await,
        "ValidationError",
        "1 validation error detected: Value at 'tags' failed to satisfy constraint: Member must have length less than or equal to 50",
        400,
    );
    expect(
        iam.create_role()
            .role_name("dup")
            .assume_role_policy_document(EC2_TRUST)
            .tags(tag("Env", "a"))
            .tags(tag("env", "b"))
            .send()
            .await,
        "InvalidInput",
        "Duplicate tag keys found. Please note that Tag keys are case insensitive.",
        400,
    );
    expect(
        iam.create_role()
            .role_name("j")
            .assume_role_policy_document("{")
            .send()
            .await,
        "MalformedPolicyDocument",
        "This policy contains invalid Json",
        400,
    );
    let with_resource = EC2_TRUST.replace(r#""Action""#, r#""Resource":"*","Action""#);
    expect(
        iam.create_role()
            .role_name("j")
            .assume_role_policy_document(with_resource)
            .send()
            .await,
        "MalformedPolicyDocument",
        "Has prohibited field Resource",
        400,
    );
    let wrong_action = EC2_TRUST.replace("sts:AssumeRole", "s3:GetObject");
    expect(
        iam.create_role()
            .role_name("j")
            .assume_role_policy_document(wrong_action)
            .send()
            .await,
        "MalformedPolicyDocument",
        "AssumeRole policy may only specify STS AssumeRole actions.",
        400,
    );
    let too_big = EC2_TRUST.replace(
        r#""Effect""#,
        &format!(r#""Sid":"{}","Effect""#, "a".repeat(2000)),
    );
    expect(
        iam.create_role()
            .role_name("j")
            .assume_role_policy_document(too_big)
            .send()
            .await,
        "LimitExceeded",
        "Cannot exceed quota for ACLSizePerRole: 2048",
        409,
    );
    let huge_managed = S3_ALL.replace(
        r#""Effect""#,
        &format!(r#""Sid":"{}","Effect""#, "a".repeat(6200)),
    );
    expect(
        iam.create_policy()
            .policy_name("huge")
            .policy_document(huge_managed)
            .send()
            .await,
        "LimitExceeded",
        "Cannot exceed quota for PolicySize: 6144",
        409,
    );
    let unknown = "arn:aws:iam::123456789012:policy/nope";
    expect(
        iam.create_role()
            .role_name("bounded")
            .assume_role_policy_document(EC2_TRUST)
            .permissions_boundary(unknown)
            .send()
            .await,
        "NoSuchEntity",
        &format!("Scope ARN: {unknown} does not exist or is not attachable."),
        404,
    );
    expect(
        iam.put_role_permissions_boundary()
            .role_name("r")
            .permissions_boundary(unknown)
            .send()
            .await,
        "NoSuchEntity",
        &format!("Scope ARN: {unknown} does not exist or is not attachable."),
        404,
    );
    create_policy(&iam, "p", S3_ALL).await;
    expect(
        iam.create_policy()
            .policy_name("P")
            .policy_document(S3_ALL)
            .send()
            .await,
        "EntityAlreadyExists",
        "A policy called P already exists. Duplicate names are not allowed.",
        409,
    );
    expect(
        iam.list_roles().max_items(1001).send().await,
        "ValidationError",
        "1 validation error detected: Value '1001' at 'maxItems' failed to satisfy constraint: Member must have value less than or equal to 1000",
        400,
    );
    expect(
        iam.add_role_to_instance_profile()
            .instance_profile_name("nope")
            .role_name("r")
            .send()
            .await,
        "NoSuchEntity",
        "Instance Profile nope cannot be found.",
        404,
    );
    // 11 managed policies on one role exceed the default quota of 10.
    for i in 0..10 {
        let arn = create_policy(&iam, &format!("q{i}"), S3_ALL).await;
        iam.attach_role_policy()
            .role_name("r")
            .policy_arn(arn)
            .send()
            .await
            .expect("attach");
    }
    let eleventh = create_policy(&iam, "q10", S3_ALL).await;
    expect(
        iam.attach_role_policy()
            .role_name("r")
            .policy_arn(eleventh)
            .send()
            .await,
        "LimitExceeded",
        "Cannot exceed quota for PoliciesPerRole: 10",
        409,
    );
}

/// A user with a narrow inline policy: allowed what it grants, denied the rest with AWS's
/// words, and denied before existence is checked.
#[tokio::test]
async fn a_non_admin_user_is_authorized_by_its_policies() {
    let server = Server::start();
    let admin = server.iam().await;
    admin
        .create_role()
        .role_name("app-role")
        .path("/app/")
        .assume_role_policy_document(EC2_TRUST)
        .tags(tag("secret", "true"))
        .send()
        .await
        .expect("role");
    create_role(&admin, "plain").await;
    admin
        .create_user()
        .user_name("dev")
        .send()
        .await
        .expect("user");
    let policy = r#"{"Version":"2012-10-17","Statement":[
        {"Effect":"Allow","Action":["iam:GetRole","iam:ListRoles"],"Resource":"*"},
        {"Effect":"Deny","Action":"iam:GetRole","Resource":"*","Condition":{"StringEquals":{"aws:ResourceTag/secret":"true"}}},
        {"Effect":"Allow","Action":"iam:TagRole","Resource":"*","Condition":{"StringEquals":{"aws:RequestTag/team":"dev"}}}
    ]}"#;
    admin
        .put_user_policy()
        .user_name("dev")
        .policy_name("narrow")
        .policy_document(policy)
        .send()
        .await
        .expect("policy");
    let dev = Client::new(&server.key_config(&server.access_key("dev").await).await);

    let got = dev
        .get_role()
        .role_name("plain")
        .send()
        .await
        .expect("allowed");
    assert_eq!(got.role().map(|r| r.role_name()), Some("plain"));
    assert_eq!(
        dev.list_roles()
            .send()
            .await
            .expect("allowed")
            .roles()
            .len(),
        2
    );
    expect(
        dev.get_role().role_name("ghost").send().await,
        "NoSuchEntity",
        "The role with name ghost cannot be found.",
        404,
    );
    dev.tag_role()
        .role_name("plain")
        .tags(tag("team", "dev"))
        .send()
        .await
        .expect("tagging with team=dev is allowed");

    let dev_arn = format!("arn:aws:iam::{ACCOUNT_ID}:user/dev");
    expect(
        dev.create_role()
            .role_name("x")
            .assume_role_policy_document(EC2_TRUST)
            .send()
            .await,
        "AccessDenied",
        &format!(
            "User: {dev_arn} is not authorized to perform: iam:CreateRole on resource: arn:aws:iam::{ACCOUNT_ID}:role/x because no identity-based policy allows the iam:CreateRole action"
        ),
        403,
    );
    expect(
        dev.get_role().role_name("app-role").send().await,
        "AccessDenied",
        &format!(
            "User: {dev_arn} is not authorized to perform: iam:GetRole on resource: arn:aws:iam::{ACCOUNT_ID}:role/app/app-role with an explicit deny in an identity-based policy"
        ),
        403,
    );
    expect(
        dev.tag_role()
            .role_name("plain")
            .tags(tag("team", "ops"))
            .send()
            .await,
        "AccessDenied",
        &format!(
            "User: {dev_arn} is not authorized to perform: iam:TagRole on resource: arn:aws:iam::{ACCOUNT_ID}:role/plain because no identity-based policy allows the iam:TagRole action"
        ),
        403,
    );
    // Authorization comes before existence: a missing profile is still AccessDenied.
    expect(
        dev.delete_instance_profile()
            .instance_profile_name("ghost")
            .send()
            .await,
        "AccessDenied",
        &format!(
            "User: {dev_arn} is not authorized to perform: iam:DeleteInstanceProfile on resource: arn:aws:iam::{ACCOUNT_ID}:instance-profile/ghost because no identity-based policy allows the iam:DeleteInstanceProfile action"
        ),
        403,
    );
    // AddRoleToInstanceProfile also needs iam:PassRole on the role.
    admin
        .create_instance_profile()
        .instance_profile_name("prof")
        .send()
        .await
        .expect("profile");
    admin
        .put_user_policy()
        .user_name("dev")
        .policy_name("profiles")
        .policy_document(
            r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"iam:AddRoleToInstanceProfile","Resource":"*"}}"#,
        )
        .send()
        .await
        .expect("policy");
    expect(
        dev.add_role_to_instance_profile()
            .instance_profile_name("prof")
            .role_name("plain")
            .send()
            .await,
        "AccessDenied",
        &format!(
            "User: {dev_arn} is not authorized to perform: iam:PassRole on resource: arn:aws:iam::{ACCOUNT_ID}:role/plain because no identity-based policy allows the iam:PassRole action"
        ),
        403,
    );
}

#[tokio::test]
async fn everything_survives_a_restart() {
    let dir = tempfile::tempdir().expect("temp dir");
    let data = dir.path().join("data");
    let mut server = Server::start_on(&data);
    let iam = server.iam().await;
    create_role(&iam, "s3access").await;
    iam.put_role_policy()
        .role_name("s3access")
        .policy_name("S3-Permissions")
        .policy_document(S3_ALL)
        .send()
        .await
        .expect("inline");
    let arn = create_policy(&iam, "managed", S3_ALL).await;
    iam.attach_role_policy()
        .role_name("s3access")
        .policy_arn(&arn)
        .send()
        .await
        .expect("attach");
    iam.tag_role()
        .role_name("s3access")
        .tags(tag("k", "v"))
        .send()
        .await
        .expect("tag");
    iam.create_instance_profile()
        .instance_profile_name("s3access-profile")
        .send()
        .await
        .expect("profile");
    iam.add_role_to_instance_profile()
        .instance_profile_name("s3access-profile")
        .role_name("s3access")
        .send()
        .await
        .expect("add");
    let key = server.user_with_key("u").await;
    server.kill();

    let server = Server::start_on(&data);
    let iam = server.iam().await;
    let role = iam
        .get_role()
        .role_name("s3access")
        .send()
        .await
        .expect("role survives");
    assert_eq!(role.role().map(|r| r.tags().len()), Some(1));
    let inline = iam
        .get_role_policy()
        .role_name("s3access")
        .policy_name("S3-Permissions")
        .send()
        .await
        .expect("inline survives");
    assert_eq!(url_decode(inline.policy_document()), S3_ALL);
    let attached = iam
        .list_attached_role_policies()
        .role_name("s3access")
        .send()
        .await
        .expect("attachments survive");
    assert_eq!(attached.attached_policies().len(), 1);
    let profile = iam
        .get_instance_profile()
        .instance_profile_name("s3access-profile")
        .send()
        .await
        .expect("profile survives");
    assert_eq!(profile.instance_profile().map(|p| p.roles().len()), Some(1));
    // The new user's key still authenticates (its secret was sealed and stored).
    let as_user = Client::new(&server.key_config(&key).await);
    let me = as_user.get_user().send().await;
    expect(
        me,
        "AccessDenied",
        &format!(
            "User: arn:aws:iam::{ACCOUNT_ID}:user/u is not authorized to perform: iam:GetUser on resource: arn:aws:iam::{ACCOUNT_ID}:user/u because no identity-based policy allows the iam:GetUser action"
        ),
        403,
    );
}
