//! S3 authorization over the wire, with hand-signed REST requests (path-style): identity
//! policies, bucket policies (the resource policy) in the owner's account and across accounts,
//! explicit denies on either side, session policies, permissions boundaries, the anonymous
//! principal and the public access block, instance credentials and their source instance,
//! revoked sessions, and GetSessionToken's credentials. Every refusal is S3's AccessDenied
//! document (403, `Code`, `Message`, `RequestId`, `HostId`).

use std::process::Command;

use aws_sdk_iam::error::ProvideErrorMetadata as _;
use e2e::raw::{RawResponse, Signer, unsigned};
use e2e::{ACCOUNT_ID, ADMIN_KEY_ID, ADMIN_SECRET, Server, imds};

const BUCKET: &str = "docs";
/// An object the narrower grants name (`docs/reports/*`), and one they do not.
const REPORT: &str = "/docs/reports/q1.txt";
const PRIVATE: &str = "/docs/private/keys.txt";
const REPORT_BYTES: &[u8] = b"quarterly numbers";
const OTHER: &str = "210987654321";
const NO_BLOCK: &str = "<PublicAccessBlockConfiguration><BlockPublicAcls>false</BlockPublicAcls><IgnorePublicAcls>false</IgnorePublicAcls><BlockPublicPolicy>false</BlockPublicPolicy><RestrictPublicBuckets>false</RestrictPublicBuckets></PublicAccessBlockConfiguration>";
const ONLY_RESTRICT: &str = "<PublicAccessBlockConfiguration><BlockPublicAcls>false</BlockPublicAcls><IgnorePublicAcls>false</IgnorePublicAcls><BlockPublicPolicy>false</BlockPublicPolicy><RestrictPublicBuckets>true</RestrictPublicBuckets></PublicAccessBlockConfiguration>";

/// Who signs an S3 request: a key pair, with a session token for temporary credentials.
struct Who {
    key_id: String,
    secret: String,
    token: Option<String>,
}

impl Who {
    fn admin() -> Who {
        Who::key(ADMIN_KEY_ID, ADMIN_SECRET)
    }

    fn key(key_id: &str, secret: &str) -> Who {
        Who {
            key_id: key_id.to_owned(),
            secret: secret.to_owned(),
            token: None,
        }
    }

    fn session(creds: &aws_sdk_sts::types::Credentials) -> Who {
        Who {
            token: Some(creds.session_token().to_owned()),
            ..Who::key(creds.access_key_id(), creds.secret_access_key())
        }
    }

    /// The credentials document an instance's metadata service hands out.
    fn instance(document: &serde_json::Value) -> Who {
        let field = |name: &str| document[name].as_str().expect(name).to_owned();
        Who {
            key_id: field("AccessKeyId"),
            secret: field("SecretAccessKey"),
            token: Some(field("Token")),
        }
    }

    fn send(&self, server: &Server, method: &str, target: &str, body: &[u8]) -> RawResponse {
        let signer = Signer::new("s3", (&self.key_id, &self.secret));
        let signer = match &self.token {
            Some(token) => signer.token(token),
            None => signer,
        };
        signer.s3(&server.endpoint, method, target, &[], body)
    }

    fn get(&self, server: &Server, target: &str) -> RawResponse {
        self.send(server, "GET", target, b"")
    }

    fn put(&self, server: &Server, target: &str, body: &[u8]) -> RawResponse {
        self.send(server, "PUT", target, body)
    }
}

fn anonymous(server: &Server, method: &str, target: &str, body: &[u8]) -> RawResponse {
    unsigned(&server.endpoint, method, target, &[], body)
}

fn assert_succeeded(response: &RawResponse, what: &str) {
    assert!(
        (200..300).contains(&response.status),
        "{what}: {} {}",
        response.status,
        response.body
    );
}

/// `response` is S3's AccessDenied: 403 and exactly
/// `<Error><Code>AccessDenied</Code><Message>…</Message><RequestId>…</RequestId><HostId>…</HostId></Error>`,
/// the request ID the one of the `x-amz-request-id` header. Returns the message.
fn assert_access_denied(response: &RawResponse, what: &str) -> String {
    assert_eq!(response.status, 403, "{what}: {}", response.body);
    let children = error_children(&response.body)
        .unwrap_or_else(|| panic!("{what}: not an S3 error document: {}", response.body));
    let names: Vec<&str> = children.iter().map(|(name, _)| name.as_str()).collect();
    assert_eq!(
        names,
        ["Code", "Message", "RequestId", "HostId"],
        "{what}: {}",
        response.body
    );
    assert_eq!(children[0].1, "AccessDenied", "{what}: {}", response.body);
    for (name, text) in &children {
        assert!(!text.is_empty(), "{what}: empty {name}: {}", response.body);
    }
    assert_eq!(
        header(response, "x-amz-request-id"),
        Some(children[2].1.as_str()),
        "{what}: the body's RequestId is the header's"
    );
    children[1].1.clone()
}

/// The child elements of an `<Error>` document (after an optional XML declaration), in order,
/// with their text; `None` when the body is not one flat `<Error>` element.
fn error_children(body: &str) -> Option<Vec<(String, String)>> {
    let mut rest = body.trim();
    if let Some(after) = rest.strip_prefix("<?xml") {
        rest = after.split_once("?>")?.1.trim_start();
    }
    let mut inner = rest.strip_prefix("<Error>")?.strip_suffix("</Error>")?;
    let mut children = Vec::new();
    while !inner.is_empty() {
        let (name, after) = inner.strip_prefix('<')?.split_once('>')?;
        let (text, after) = after.split_once(&format!("</{name}>"))?;
        children.push((name.to_owned(), text.to_owned()));
        inner = after;
    }
    Some(children)
}

fn header<'a>(response: &'a RawResponse, name: &str) -> Option<&'a str> {
    response.head.lines().find_map(|line| {
        let (key, value) = line.split_once(':')?;
        key.trim()
            .eq_ignore_ascii_case(name)
            .then_some(value.trim())
    })
}

/// A policy document of the given statements.
fn policy(statements: &[String]) -> String {
    format!(
        r#"{{"Version":"2012-10-17","Statement":[{}]}}"#,
        statements.join(",")
    )
}

/// An identity-policy statement.
fn statement(effect: &str, action: &str, resource: &str) -> String {
    format!(r#"{{"Effect":"{effect}","Action":"{action}","Resource":"{resource}"}}"#)
}

/// A bucket-policy statement for one principal (an ARN, or `*` for everyone).
fn grant(effect: &str, principal: &str, action: &str, resource: &str) -> String {
    let principal = match principal {
        "*" => r#""*""#.to_owned(),
        arn => format!(r#"{{"AWS":"{arn}"}}"#),
    };
    format!(
        r#"{{"Effect":"{effect}","Principal":{principal},"Action":"{action}","Resource":"{resource}"}}"#
    )
}

fn objects_of(bucket: &str) -> String {
    format!("arn:aws:s3:::{bucket}/*")
}

fn user_arn(account: &str, name: &str) -> String {
    format!("arn:aws:iam::{account}:user/{name}")
}

/// The first account's bucket [`BUCKET`] with [`REPORT`] and [`PRIVATE`] in it.
fn docs_bucket(server: &Server) {
    bucket_with_report(server, BUCKET);
    assert_succeeded(
        &Who::admin().put(server, PRIVATE, b"do not share"),
        "PutObject private",
    );
}

/// A bucket of the first account's admin with the report object at `reports/q1.txt`.
fn bucket_with_report(server: &Server, bucket: &str) {
    let admin = Who::admin();
    assert_succeeded(
        &admin.put(server, &format!("/{bucket}"), b""),
        "CreateBucket",
    );
    assert_succeeded(
        &admin.put(server, &format!("/{bucket}/reports/q1.txt"), REPORT_BYTES),
        "PutObject report",
    );
}

fn put_bucket_policy(server: &Server, who: &Who, bucket: &str, document: &str) -> RawResponse {
    who.put(server, &format!("/{bucket}?policy"), document.as_bytes())
}

fn set_bucket_policy(server: &Server, bucket: &str, document: &str) {
    assert_succeeded(
        &put_bucket_policy(server, &Who::admin(), bucket, document),
        "PutBucketPolicy",
    );
}

/// A new user of the account `iam` administers, with `policy` inline if any, and its key.
async fn user(iam: &aws_sdk_iam::Client, name: &str, policy: Option<&str>) -> Who {
    iam.create_user()
        .user_name(name)
        .send()
        .await
        .expect("CreateUser");
    if let Some(document) = policy {
        iam.put_user_policy()
            .user_name(name)
            .policy_name("s3")
            .policy_document(document)
            .send()
            .await
            .expect("PutUserPolicy");
    }
    let key = iam
        .create_access_key()
        .user_name(name)
        .send()
        .await
        .expect("CreateAccessKey");
    let key = key.access_key().expect("the new key");
    Who::key(key.access_key_id(), key.secret_access_key())
}

/// A role the first account's root may assume, with `policy` inline.
async fn role(server: &Server, name: &str, policy: &str) -> String {
    let iam = server.iam().await;
    let trust = format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{{"AWS":"arn:aws:iam::{ACCOUNT_ID}:root"}},"Action":"sts:AssumeRole"}}]}}"#
    );
    let created = iam
        .create_role()
        .role_name(name)
        .assume_role_policy_document(trust)
        .send()
        .await
        .expect("CreateRole");
    iam.put_role_policy()
        .role_name(name)
        .policy_name("s3")
        .policy_document(policy)
        .send()
        .await
        .expect("PutRolePolicy");
    created.role().expect("the role").arn().to_owned()
}

/// A session of the role `arn`, narrowed by `session_policy` if any.
async fn assume(server: &Server, arn: &str, session_policy: Option<&str>) -> Who {
    let assumed = server
        .sts()
        .await
        .assume_role()
        .role_arn(arn)
        .role_session_name("worker")
        .set_policy(session_policy.map(str::to_owned))
        .send()
        .await
        .expect("AssumeRole");
    Who::session(assumed.credentials().expect("credentials"))
}

fn read_reports() -> String {
    policy(&[statement("Allow", "s3:GetObject", "arn:aws:s3:::docs/*")])
}

#[tokio::test]
async fn an_identity_policy_alone_allows_what_it_names_and_nothing_else() {
    let server = Server::start();
    docs_bucket(&server);
    let iam = server.iam().await;
    let reader = user(&iam, "reader", Some(&read_reports())).await;
    let nobody = user(&iam, "nobody", None).await;

    let got = reader.get(&server, REPORT);
    assert_succeeded(&got, "GetObject under s3:GetObject");
    assert_eq!(got.body.as_bytes(), REPORT_BYTES);
    let message = assert_access_denied(
        &reader.put(&server, "/docs/reports/q2.txt", b"x"),
        "PutObject without s3:PutObject",
    );
    assert!(
        message.contains(&user_arn(ACCOUNT_ID, "reader")) && message.contains("s3:PutObject"),
        "{message}"
    );
    assert_access_denied(&nobody.get(&server, REPORT), "GetObject without any policy");
}

#[tokio::test]
async fn a_bucket_policy_naming_a_user_of_the_owners_account_lets_it_in() {
    let server = Server::start();
    docs_bucket(&server);
    let guest = user(&server.iam().await, "guest", None).await;
    assert_access_denied(&guest.get(&server, REPORT), "before the bucket policy");

    set_bucket_policy(
        &server,
        BUCKET,
        &policy(&[grant(
            "Allow",
            &user_arn(ACCOUNT_ID, "guest"),
            "s3:GetObject",
            &objects_of(BUCKET),
        )]),
    );
    assert_succeeded(
        &guest.get(&server, REPORT),
        "GetObject by the bucket policy",
    );
    assert_access_denied(
        &guest.put(&server, REPORT, b"x"),
        "PutObject the bucket policy does not grant",
    );
}

#[tokio::test]
async fn another_account_needs_both_the_bucket_policy_and_its_own_identity_policy() {
    let server = Server::start();
    docs_bucket(&server);
    let (key_id, secret) = server.second_account(OTHER);
    let other_iam = aws_sdk_iam::Client::new(&server.config(&key_id, &secret, None).await);
    let reader = user(&other_iam, "reader", Some(&read_reports())).await;
    let stranger = user(&other_iam, "stranger", None).await;
    let other_admin = Who::key(&key_id, &secret);

    assert_access_denied(
        &reader.get(&server, REPORT),
        "identity allows, no bucket policy",
    );
    assert_access_denied(
        &other_admin.get(&server, REPORT),
        "the other account's admin, no bucket policy",
    );

    let principals = [
        format!("arn:aws:iam::{OTHER}:root"),
        user_arn(OTHER, "reader"),
    ];
    for principal in principals {
        set_bucket_policy(
            &server,
            BUCKET,
            &policy(&[grant(
                "Allow",
                &principal,
                "s3:GetObject",
                &objects_of(BUCKET),
            )]),
        );
        let got = reader.get(&server, REPORT);
        assert_succeeded(&got, &format!("both allow ({principal})"));
        assert_eq!(got.body.as_bytes(), REPORT_BYTES);
        assert_access_denied(
            &stranger.get(&server, REPORT),
            &format!("only the bucket policy allows ({principal})"),
        );
        assert_access_denied(
            &reader.put(&server, REPORT, b"x"),
            &format!("neither allows PutObject ({principal})"),
        );
    }

    // The bucket policy grants PutObject too; the reader's own policy does not.
    set_bucket_policy(
        &server,
        BUCKET,
        &policy(&[grant(
            "Allow",
            &format!("arn:aws:iam::{OTHER}:root"),
            "s3:*",
            &objects_of(BUCKET),
        )]),
    );
    assert_access_denied(
        &reader.put(&server, REPORT, b"x"),
        "only the bucket policy allows PutObject",
    );
    assert_succeeded(
        &other_admin.put(&server, "/docs/reports/from-b.txt", b"b"),
        "the other account's admin, both allow",
    );
}

#[tokio::test]
async fn an_explicit_deny_on_either_side_beats_an_allow_on_the_other() {
    let server = Server::start();
    docs_bucket(&server);
    let iam = server.iam().await;
    let reader = user(&iam, "reader", Some(&read_reports())).await;
    let refused = user(
        &iam,
        "refused",
        Some(&policy(&[statement(
            "Deny",
            "s3:GetObject",
            "arn:aws:s3:::docs/*",
        )])),
    )
    .await;
    let guest = user(&iam, "guest", None).await;
    assert_succeeded(&reader.get(&server, REPORT), "the reader before the deny");

    set_bucket_policy(
        &server,
        BUCKET,
        &policy(&[
            grant(
                "Allow",
                &user_arn(ACCOUNT_ID, "refused"),
                "s3:GetObject",
                &objects_of(BUCKET),
            ),
            grant(
                "Allow",
                &user_arn(ACCOUNT_ID, "guest"),
                "s3:GetObject",
                &objects_of(BUCKET),
            ),
            grant(
                "Deny",
                &user_arn(ACCOUNT_ID, "reader"),
                "s3:GetObject",
                &objects_of(BUCKET),
            ),
        ]),
    );
    assert_succeeded(&guest.get(&server, REPORT), "a bucket-policy allow alone");
    let message = assert_access_denied(
        &refused.get(&server, REPORT),
        "identity deny, bucket-policy allow",
    );
    assert!(message.contains("explicit deny"), "{message}");
    let message = assert_access_denied(
        &reader.get(&server, REPORT),
        "identity allow, bucket-policy deny",
    );
    assert!(message.contains("explicit deny"), "{message}");
}

#[tokio::test]
async fn a_session_policy_narrows_what_the_role_allows() {
    let server = Server::start();
    docs_bucket(&server);
    let arn = role(
        &server,
        "worker",
        &policy(&[statement("Allow", "s3:*", "*")]),
    )
    .await;
    let narrowed = policy(&[statement(
        "Allow",
        "s3:GetObject",
        "arn:aws:s3:::docs/reports/*",
    )]);
    let session = assume(&server, &arn, Some(&narrowed)).await;
    let whole = assume(&server, &arn, None).await;

    assert_succeeded(&session.get(&server, REPORT), "GetObject under the prefix");
    assert_access_denied(
        &session.get(&server, PRIVATE),
        "GetObject outside the prefix",
    );
    assert_access_denied(
        &session.put(&server, "/docs/reports/q2.txt", b"x"),
        "PutObject under the prefix",
    );
    assert_succeeded(
        &whole.put(&server, "/docs/reports/q2.txt", b"x"),
        "PutObject by a session without a session policy",
    );
}

#[tokio::test]
async fn a_permissions_boundary_caps_what_the_role_allows() {
    let server = Server::start();
    docs_bucket(&server);
    let arn = role(
        &server,
        "capped",
        &policy(&[statement("Allow", "s3:*", "*")]),
    )
    .await;
    let iam = server.iam().await;
    let boundary = iam
        .create_policy()
        .policy_name("read-only-s3")
        .policy_document(policy(&[statement("Allow", "s3:GetObject", "*")]))
        .send()
        .await
        .expect("CreatePolicy");
    iam.put_role_permissions_boundary()
        .role_name("capped")
        .permissions_boundary(boundary.policy().and_then(|p| p.arn()).expect("arn"))
        .send()
        .await
        .expect("PutRolePermissionsBoundary");
    let session = assume(&server, &arn, None).await;

    assert_succeeded(
        &session.get(&server, REPORT),
        "GetObject inside the boundary",
    );
    assert_access_denied(
        &session.put(&server, REPORT, b"x"),
        "PutObject outside the boundary",
    );
}

/// Lifts the public access block of `bucket`: `DELETE ?publicAccessBlock`, or a block with
/// every setting false.
fn lift_block(server: &Server, bucket: &str, by_deleting: bool) {
    let target = format!("/{bucket}?publicAccessBlock");
    let response = match by_deleting {
        true => Who::admin().send(server, "DELETE", &target, b""),
        false => Who::admin().put(server, &target, NO_BLOCK.as_bytes()),
    };
    assert_succeeded(&response, "lifting the public access block");
}

fn public_read(bucket: &str) -> String {
    policy(&[grant("Allow", "*", "s3:GetObject", &objects_of(bucket))])
}

#[tokio::test]
async fn anonymous_requests_need_a_public_policy_the_public_access_block_allows() {
    let server = Server::start();
    for (bucket, by_deleting) in [("deleted-block", true), ("lifted-block", false)] {
        bucket_with_report(&server, bucket);
        let object = format!("/{bucket}/reports/q1.txt");
        assert_access_denied(
            &anonymous(&server, "GET", &object, b""),
            "anonymous GetObject without a policy",
        );
        let message = assert_access_denied(
            &put_bucket_policy(&server, &Who::admin(), bucket, &public_read(bucket)),
            "a public policy under BlockPublicPolicy",
        );
        assert!(message.contains("BlockPublicPolicy"), "{message}");

        lift_block(&server, bucket, by_deleting);
        set_bucket_policy(&server, bucket, &public_read(bucket));
        let status = Who::admin().get(&server, &format!("/{bucket}?policyStatus"));
        assert_succeeded(&status, "GetBucketPolicyStatus");
        assert!(
            status.body.contains("<IsPublic>true</IsPublic>"),
            "{}",
            status.body
        );
        let got = anonymous(&server, "GET", &object, b"");
        assert_succeeded(&got, "anonymous GetObject under a public policy");
        assert_eq!(got.body.as_bytes(), REPORT_BYTES);
        assert_access_denied(
            &anonymous(&server, "PUT", &format!("/{bucket}/reports/evil.txt"), b"x"),
            "anonymous PutObject",
        );
    }
}

#[tokio::test]
async fn restrict_public_buckets_keeps_a_public_policy_to_the_owners_account() {
    let server = Server::start();
    bucket_with_report(&server, BUCKET);
    let admin = Who::admin();
    assert_succeeded(
        &admin.put(&server, "/docs?publicAccessBlock", ONLY_RESTRICT.as_bytes()),
        "PutPublicAccessBlock",
    );
    set_bucket_policy(&server, BUCKET, &public_read(BUCKET));
    let (key_id, secret) = server.second_account(OTHER);
    let outsider = Who::key(&key_id, &secret);
    let insider = user(&server.iam().await, "insider", None).await;

    assert_access_denied(
        &anonymous(&server, "GET", REPORT, b""),
        "anonymous, restricted",
    );
    assert_access_denied(
        &outsider.get(&server, REPORT),
        "another account, restricted",
    );
    assert_succeeded(
        &insider.get(&server, REPORT),
        "the owner's account, by the public policy",
    );

    lift_block(&server, BUCKET, false);
    assert_succeeded(
        &anonymous(&server, "GET", REPORT, b""),
        "anonymous, unrestricted",
    );
    assert_succeeded(
        &outsider.get(&server, REPORT),
        "another account, unrestricted",
    );
}

#[tokio::test]
async fn instance_credentials_carry_their_instance_into_conditions() {
    const ROLE: &str = "reader";
    let server = Server::start();
    docs_bucket(&server);
    server
        .instance_role(ROLE, "reader-profile", &read_reports())
        .await;
    let (a_id, a_ip) = server.launch(Some("reader-profile")).await;
    let (_b_id, b_ip) = server.launch(Some("reader-profile")).await;
    let only_a = format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::docs/*","Condition":{{"StringEquals":{{"ec2:SourceInstanceARN":"arn:aws:ec2:us-east-1:{ACCOUNT_ID}:instance/{a_id}"}}}}}}]}}"#
    );
    server
        .iam()
        .await
        .put_role_policy()
        .role_name(ROLE)
        .policy_name("instance")
        .policy_document(only_a)
        .send()
        .await
        .expect("PutRolePolicy");
    let port = server.imds_port;
    let a = Who::instance(&imds::credentials(&a_ip, port, ROLE, true));
    let b = Who::instance(&imds::credentials(&b_ip, port, ROLE, true));

    let got = a.get(&server, REPORT);
    assert_succeeded(&got, "the instance the condition names");
    assert_eq!(got.body.as_bytes(), REPORT_BYTES);
    assert_access_denied(&b.get(&server, REPORT), "another instance of the role");
}

#[tokio::test]
async fn a_revoked_session_is_denied_on_s3() {
    let server = Server::start();
    docs_bucket(&server);
    let arn = role(&server, "app", &read_reports()).await;
    let session = assume(&server, &arn, None).await;
    assert_succeeded(&session.get(&server, REPORT), "before revocation");

    let output = Command::new(e2e::binary())
        .args(["role", "revoke-sessions", "app", "--data-dir"])
        .arg(&server.data_dir)
        .output()
        .expect("run roleplane role revoke-sessions");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );

    let message = assert_access_denied(&session.get(&server, REPORT), "after revocation");
    assert!(
        message.contains("assumed-role/app/worker") && message.contains("explicit deny"),
        "{message}"
    );
}

#[tokio::test]
async fn get_session_token_credentials_can_use_s3() {
    let server = Server::start();
    docs_bucket(&server);
    let iam = server.iam().await;
    iam.create_user()
        .user_name("dev")
        .send()
        .await
        .expect("CreateUser");
    iam.put_user_policy()
        .user_name("dev")
        .policy_name("s3")
        .policy_document(policy(&[
            statement("Allow", "s3:GetObject", "arn:aws:s3:::docs/*"),
            statement("Allow", "s3:PutObject", "arn:aws:s3:::docs/*"),
            statement("Allow", "iam:GetUser", "*"),
        ]))
        .send()
        .await
        .expect("PutUserPolicy");
    let key = server.access_key("dev").await;
    let sts = aws_sdk_sts::Client::new(&server.key_config(&key).await);
    let token = sts
        .get_session_token()
        .send()
        .await
        .expect("GetSessionToken");
    let creds = token.credentials().expect("credentials");
    let session = Who::session(creds);

    assert_succeeded(
        &session.put(&server, "/docs/reports/q2.txt", b"draft"),
        "PutObject",
    );
    let got = session.get(&server, "/docs/reports/q2.txt");
    assert_succeeded(&got, "GetObject");
    assert_eq!(got.body, "draft");

    // The same credentials are barred from IAM (without MFA), as AWS bars them: IAM does not
    // take the token.
    let iam_session = aws_sdk_iam::Client::new(&server.session_config(creds).await);
    let err = iam_session
        .get_user()
        .send()
        .await
        .expect_err("IAM refuses GetSessionToken credentials");
    assert_eq!(err.code(), Some("InvalidClientTokenId"), "{err:?}");
}

#[tokio::test]
async fn a_missing_key_is_not_found_only_for_callers_who_may_list_the_bucket() {
    let server = Server::start();
    docs_bucket(&server);
    let iam = server.iam().await;
    let reader = user(&iam, "reader", Some(&read_reports())).await;
    let lister = user(
        &iam,
        "lister",
        Some(&policy(&[
            statement("Allow", "s3:GetObject", "arn:aws:s3:::docs/*"),
            statement("Allow", "s3:ListBucket", "arn:aws:s3:::docs"),
        ])),
    )
    .await;
    let missing = "/docs/reports/missing.txt";

    assert_access_denied(
        &reader.get(&server, missing),
        "GetObject of a missing key without s3:ListBucket",
    );
    let head = reader.send(&server, "HEAD", missing, b"");
    assert_eq!(
        (head.status, head.body.as_str()),
        (403, ""),
        "HeadObject of a missing key without s3:ListBucket"
    );

    let got = lister.get(&server, missing);
    assert_eq!(got.status, 404, "{}", got.body);
    assert!(got.body.contains("<Code>NoSuchKey</Code>"), "{}", got.body);
    assert_eq!(lister.send(&server, "HEAD", missing, b"").status, 404);
}

#[tokio::test]
async fn a_bucket_policy_naming_the_owners_account_delegates_to_its_identity_policies() {
    let server = Server::start();
    docs_bucket(&server);
    let iam = server.iam().await;
    let reader = user(&iam, "reader", Some(&read_reports())).await;
    let guest = user(&iam, "guest", None).await;
    let arn = role(
        &server,
        "lambda",
        &policy(&[statement("Allow", "sts:GetCallerIdentity", "*")]),
    )
    .await;
    let session = assume(&server, &arn, None).await;

    set_bucket_policy(
        &server,
        BUCKET,
        &policy(&[
            grant(
                "Allow",
                &format!("arn:aws:iam::{ACCOUNT_ID}:root"),
                "s3:GetObject",
                &objects_of(BUCKET),
            ),
            grant(
                "Allow",
                &format!("arn:aws:iam::{ACCOUNT_ID}:role/lambda"),
                "s3:PutObject",
                &objects_of(BUCKET),
            ),
        ]),
    );
    assert_succeeded(
        &reader.get(&server, REPORT),
        "identity allows, account named",
    );
    assert_access_denied(
        &guest.get(&server, REPORT),
        "only the account is named: its identity policies decide",
    );
    assert_succeeded(
        &session.put(&server, "/docs/reports/by-role.txt", b"r"),
        "a session of the role the bucket policy names",
    );
}

#[tokio::test]
async fn a_listing_is_allowed_by_the_prefix_it_asks_for() {
    let server = Server::start();
    docs_bucket(&server);
    let home = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:ListBucket","Resource":"arn:aws:s3:::docs","Condition":{"StringLike":{"s3:prefix":"reports/*"}}}]}"#;
    let lister = user(&server.iam().await, "lister", Some(home)).await;

    let listed = lister.get(&server, "/docs?list-type=2&prefix=reports%2F");
    assert_succeeded(&listed, "ListObjectsV2 of the allowed prefix");
    assert!(
        listed.body.contains("<Key>reports/q1.txt</Key>"),
        "{}",
        listed.body
    );
    assert!(!listed.body.contains("private/"), "{}", listed.body);
    assert_access_denied(
        &lister.get(&server, "/docs?list-type=2&prefix=private%2F"),
        "ListObjectsV2 of another prefix",
    );
    assert_access_denied(
        &lister.get(&server, "/docs?list-type=2"),
        "ListObjectsV2 of the whole bucket",
    );
}

#[tokio::test]
async fn a_read_can_be_conditioned_on_the_objects_tags() {
    let server = Server::start();
    docs_bucket(&server);
    assert_succeeded(
        &Who::admin().put(
            &server,
            &format!("{REPORT}?tagging"),
            b"<Tagging><TagSet><Tag><Key>team</Key><Value>a</Value></Tag></TagSet></Tagging>",
        ),
        "PutObjectTagging",
    );
    let team_a = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::docs/*","Condition":{"StringEquals":{"s3:ExistingObjectTag/team":"a"}}}]}"#;
    let member = user(&server.iam().await, "member", Some(team_a)).await;

    assert_succeeded(&member.get(&server, REPORT), "the object tagged team=a");
    assert_access_denied(&member.get(&server, PRIVATE), "an untagged object");
}

#[tokio::test]
async fn a_copy_reads_its_source_under_the_source_buckets_policy() {
    let server = Server::start();
    docs_bucket(&server);
    let (key_id, secret) = server.second_account(OTHER);
    let other = Who::key(&key_id, &secret);
    assert_succeeded(&other.put(&server, "/b-bucket", b""), "CreateBucket in B");
    let copy = |source: &str| {
        Signer::new("s3", (&key_id, &secret)).s3(
            &server.endpoint,
            "PUT",
            "/b-bucket/copy.txt",
            &[("x-amz-copy-source", source)],
            b"",
        )
    };

    assert_access_denied(
        &copy("/docs/reports/q1.txt"),
        "no bucket policy on the source",
    );
    set_bucket_policy(
        &server,
        BUCKET,
        &policy(&[grant(
            "Allow",
            &format!("arn:aws:iam::{OTHER}:root"),
            "s3:GetObject",
            "arn:aws:s3:::docs/reports/*",
        )]),
    );
    assert_succeeded(&copy("/docs/reports/q1.txt"), "the source's policy allows");
    assert_access_denied(&copy("/docs/private/keys.txt"), "outside what it allows");
    let got = other.get(&server, "/b-bucket/copy.txt");
    assert_eq!(got.body.as_bytes(), REPORT_BYTES);
    let missing = copy("/no-such-bucket/k");
    assert_eq!(missing.status, 404, "{}", missing.body);
    assert!(
        missing.body.contains("<Code>NoSuchBucket</Code>"),
        "{}",
        missing.body
    );
}

#[tokio::test]
async fn a_bucket_that_does_not_exist_is_no_such_bucket_to_anyone() {
    let server = Server::start();
    let nobody = user(&server.iam().await, "nobody", None).await;
    let (key_id, secret) = server.second_account(OTHER);
    let outsider = Who::key(&key_id, &secret);
    for (who, response) in [
        (
            "anonymous",
            anonymous(&server, "GET", "/no-such-bucket/k", b""),
        ),
        (
            "a user without policies",
            nobody.get(&server, "/no-such-bucket/k"),
        ),
        (
            "another account's admin",
            outsider.get(&server, "/no-such-bucket?list-type=2"),
        ),
    ] {
        assert_eq!(response.status, 404, "{who}: {}", response.body);
        assert!(
            response.body.contains("<Code>NoSuchBucket</Code>"),
            "{who}: {}",
            response.body
        );
    }
}

#[tokio::test]
async fn a_policy_for_everyone_pinned_to_a_network_is_not_public() {
    let server = Server::start();
    docs_bucket(&server);
    let pinned = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::docs/reports/*","Condition":{"IpAddress":{"aws:SourceIp":"127.0.0.0/8"}}},{"Effect":"Deny","Principal":"*","Action":"s3:DeleteObject","Resource":"arn:aws:s3:::docs/*"}]}"#;
    set_bucket_policy(&server, BUCKET, pinned);
    let status = Who::admin().get(&server, "/docs?policyStatus");
    assert!(
        status.body.contains("<IsPublic>false</IsPublic>"),
        "{}",
        status.body
    );

    let got = anonymous(&server, "GET", REPORT, b"");
    assert_succeeded(&got, "anonymous from the pinned network");
    assert_access_denied(
        &anonymous(&server, "GET", PRIVATE, b""),
        "anonymous outside the granted prefix",
    );
    assert_access_denied(
        &Who::admin().send(&server, "DELETE", REPORT, b""),
        "the owner's admin under a bucket-policy deny for everyone",
    );
}

#[tokio::test]
async fn a_presigned_url_carries_its_session_and_its_auth_type() {
    let server = Server::start();
    docs_bucket(&server);
    let no_urls = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::docs/*"},{"Effect":"Deny","Action":"s3:GetObject","Resource":"arn:aws:s3:::docs/private/*","Condition":{"StringEquals":{"s3:authType":"REST-QUERY-STRING"}}}]}"#;
    let arn = role(&server, "app", no_urls).await;
    let session = assume(&server, &arn, None).await;
    let presign = |path: &str| {
        let token = session.token.as_deref().expect("a session token");
        Signer::new("s3", (&session.key_id, &session.secret))
            .token(token)
            .presigned_s3_get(&server.endpoint, path)
    };

    let got = presign(REPORT);
    assert_succeeded(&got, "a presigned GetObject by a role session");
    assert_eq!(got.body.as_bytes(), REPORT_BYTES);
    assert_access_denied(&presign(PRIVATE), "denied for presigned URLs");
    assert_succeeded(
        &session.get(&server, PRIVATE),
        "the same read signed in the header",
    );
}
