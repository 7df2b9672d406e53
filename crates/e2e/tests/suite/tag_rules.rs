//! The rules on tag keys and values, the same in IAM (tags on roles, users, policies, instance
//! profiles) and in STS (session tags): letters, Unicode separators, numbers and `_.:/=+-@` only
//! (no TAB, LF, CR, VT, FF or NEL), keys 1–128 and values 0–256 characters, and no key under the
//! reserved `aws:` prefix in any case. A refused request writes nothing and issues nothing.

use e2e::{ACCOUNT_ID, Server, failure};

const EC2_TRUST: &str = e2e::EC2_TRUST;
const S3_READ: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}"#;
const CONTROL_CHARACTERS: [char; 6] = ['\t', '\n', '\r', '\u{b}', '\u{c}', '\u{85}'];

fn iam_tag(key: &str, value: &str) -> aws_sdk_iam::types::Tag {
    aws_sdk_iam::types::Tag::builder()
        .key(key)
        .value(value)
        .build()
        .expect("tag")
}

fn sts_tag(key: &str, value: &str) -> aws_sdk_sts::types::Tag {
    aws_sdk_sts::types::Tag::builder()
        .key(key)
        .value(value)
        .build()
        .expect("tag")
}

/// A role the admin's account may assume with session tags.
async fn taggable_role(server: &Server) -> String {
    let trust = format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{{"AWS":"arn:aws:iam::{ACCOUNT_ID}:root"}},"Action":["sts:AssumeRole","sts:TagSession"]}}]}}"#
    );
    let role = server
        .iam()
        .await
        .create_role()
        .role_name("tagged")
        .assume_role_policy_document(trust)
        .send()
        .await
        .expect("CreateRole");
    role.role().expect("role").arn().to_owned()
}

#[tokio::test]
async fn session_tags_with_control_characters_are_refused_like_iam_tags() {
    let server = Server::start();
    let arn = taggable_role(&server).await;
    let sts = server.sts().await;
    let iam = server.iam().await;
    let pattern = r"Member must satisfy regular expression pattern: [\p{L}\p{Z}\p{N}_.:/=+\-@]";
    for c in CONTROL_CHARACTERS {
        let text = format!("a{c}b");
        for (key, value, path) in [
            (text.as_str(), "v", "tags.1.member.key"),
            ("k", text.as_str(), "tags.1.member.value"),
        ] {
            let assumed = sts
                .assume_role()
                .role_arn(&arn)
                .role_session_name("e2e")
                .tags(sts_tag(key, value))
                .send()
                .await;
            let (code, message, status) = failure(assumed);
            assert_eq!((code.as_str(), status), ("ValidationError", 400), "{c:?}");
            assert!(
                message.starts_with(&format!(
                    "1 validation error detected: Value at '{path}' failed to satisfy constraint: {pattern}"
                )),
                "{c:?}: {message}"
            );

            let tagged = iam
                .tag_role()
                .role_name("tagged")
                .tags(iam_tag(key, value))
                .send()
                .await;
            let (code, message, status) = failure(tagged);
            assert_eq!((code.as_str(), status), ("ValidationError", 400), "{c:?}");
            assert!(
                message.contains(path) && message.contains(pattern),
                "{message}"
            );
        }
    }
    // Separators that are not control characters pass in both.
    sts.assume_role()
        .role_arn(&arn)
        .role_session_name("e2e")
        .tags(sts_tag("team name", "a\u{a0}b\u{2028}c"))
        .send()
        .await
        .expect("session tags with Unicode separators");
    iam.tag_role()
        .role_name("tagged")
        .tags(iam_tag("team name", "a\u{a0}b\u{2028}c"))
        .send()
        .await
        .expect("role tags with Unicode separators");
}

#[tokio::test]
async fn session_tag_lengths_are_iams() {
    let server = Server::start();
    let arn = taggable_role(&server).await;
    let sts = server.sts().await;
    sts.assume_role()
        .role_arn(&arn)
        .role_session_name("e2e")
        .tags(sts_tag(&"k".repeat(128), &"v".repeat(256)))
        .tags(sts_tag("empty", ""))
        .send()
        .await
        .expect("the longest key and value, and an empty value");
    let (code, message, status) = failure(
        sts.assume_role()
            .role_arn(&arn)
            .role_session_name("e2e")
            .tags(sts_tag(&"k".repeat(129), &"v".repeat(257)))
            .send()
            .await,
    );
    assert_eq!(
        (code.as_str(), status, message.as_str()),
        (
            "ValidationError",
            400,
            "2 validation errors detected: Value at 'tags.1.member.key' failed to satisfy \
             constraint: Member must have length less than or equal to 128; Value at \
             'tags.1.member.value' failed to satisfy constraint: Member must have length less \
             than or equal to 256"
        )
    );
}

const RESERVED: (&str, &str, u16) = (
    "InvalidInput",
    "Tag keys starting with 'aws:' are reserved for internal use",
    400,
);

fn reserved() -> (String, String, u16) {
    (RESERVED.0.to_owned(), RESERVED.1.to_owned(), RESERVED.2)
}

#[tokio::test]
async fn iam_refuses_the_reserved_aws_prefix_and_writes_nothing() {
    let server = Server::start();
    let iam = server.iam().await;
    let policy_arn = |name: &str| format!("arn:aws:iam::{ACCOUNT_ID}:policy/{name}");

    // Create* with a reserved key: nothing is created.
    let keys = ["aws:team", "AWS:Team", "Aws:x"];
    for key in keys {
        let bad = iam_tag(key, "v");
        let result = iam
            .create_role()
            .role_name("r")
            .assume_role_policy_document(EC2_TRUST)
            .tags(bad.clone())
            .send()
            .await;
        assert_eq!(failure(result), reserved(), "CreateRole {key}");
        let result = iam
            .create_user()
            .user_name("u")
            .tags(bad.clone())
            .send()
            .await;
        assert_eq!(failure(result), reserved(), "CreateUser {key}");
        let result = iam
            .create_policy()
            .policy_name("p")
            .policy_document(S3_READ)
            .tags(bad.clone())
            .send()
            .await;
        assert_eq!(failure(result), reserved(), "CreatePolicy {key}");
        let result = iam
            .create_instance_profile()
            .instance_profile_name("ip")
            .tags(bad)
            .send()
            .await;
        assert_eq!(failure(result), reserved(), "CreateInstanceProfile {key}");
    }
    let (code, _, _) = failure(iam.get_role().role_name("r").send().await);
    assert_eq!(code, "NoSuchEntity");
    let (code, _, _) = failure(iam.get_user().user_name("u").send().await);
    assert_eq!(code, "NoSuchEntity");
    let (code, _, _) = failure(iam.get_policy().policy_arn(policy_arn("p")).send().await);
    assert_eq!(code, "NoSuchEntity");
    let (code, _, _) = failure(
        iam.get_instance_profile()
            .instance_profile_name("ip")
            .send()
            .await,
    );
    assert_eq!(code, "NoSuchEntity");

    // Tag* with a reserved key next to a good one: neither is written.
    iam.create_role()
        .role_name("r")
        .assume_role_policy_document(EC2_TRUST)
        .send()
        .await
        .expect("CreateRole");
    iam.create_user()
        .user_name("u")
        .send()
        .await
        .expect("CreateUser");
    iam.create_policy()
        .policy_name("p")
        .policy_document(S3_READ)
        .send()
        .await
        .expect("CreatePolicy");
    iam.create_instance_profile()
        .instance_profile_name("ip")
        .send()
        .await
        .expect("CreateInstanceProfile");
    let good = iam_tag("team", "blue");
    let bad = iam_tag("AWS:team", "blue");
    let result = iam
        .tag_role()
        .role_name("r")
        .tags(good.clone())
        .tags(bad.clone())
        .send()
        .await;
    assert_eq!(failure(result), reserved(), "TagRole");
    let result = iam
        .tag_user()
        .user_name("u")
        .tags(good.clone())
        .tags(bad.clone())
        .send()
        .await;
    assert_eq!(failure(result), reserved(), "TagUser");
    let result = iam
        .tag_policy()
        .policy_arn(policy_arn("p"))
        .tags(good.clone())
        .tags(bad.clone())
        .send()
        .await;
    assert_eq!(failure(result), reserved(), "TagPolicy");
    let result = iam
        .tag_instance_profile()
        .instance_profile_name("ip")
        .tags(good)
        .tags(bad)
        .send()
        .await;
    assert_eq!(failure(result), reserved(), "TagInstanceProfile");

    let role_tags = iam.list_role_tags().role_name("r").send().await.unwrap();
    assert!(role_tags.tags().is_empty(), "{role_tags:?}");
    let user_tags = iam.list_user_tags().user_name("u").send().await.unwrap();
    assert!(user_tags.tags().is_empty(), "{user_tags:?}");
    let policy_tags = iam
        .list_policy_tags()
        .policy_arn(policy_arn("p"))
        .send()
        .await
        .unwrap();
    assert!(policy_tags.tags().is_empty(), "{policy_tags:?}");
    let profile_tags = iam
        .list_instance_profile_tags()
        .instance_profile_name("ip")
        .send()
        .await
        .unwrap();
    assert!(profile_tags.tags().is_empty(), "{profile_tags:?}");

    // `aws` without the colon, or the prefix later in the key, is an ordinary key.
    iam.tag_role()
        .role_name("r")
        .tags(iam_tag("awsteam", "v"))
        .tags(iam_tag("team:aws:x", "v"))
        .send()
        .await
        .expect("keys that only look reserved");
}

#[tokio::test]
async fn sts_refuses_reserved_session_tag_keys_and_issues_nothing() {
    let server = Server::start();
    let arn = taggable_role(&server).await;
    let sts = server.sts().await;
    for key in ["aws:team", "AWS:Team", "Aws:x"] {
        let result = sts
            .assume_role()
            .role_arn(&arn)
            .role_session_name("e2e")
            .tags(sts_tag("team", "blue"))
            .tags(sts_tag(key, "v"))
            .send()
            .await;
        assert_eq!(
            failure(result),
            (
                "InvalidParameterValue".to_owned(),
                "Tag keys starting with 'aws:' are reserved for internal use".to_owned(),
                400
            ),
            "{key}"
        );
    }
}
