//! AssumeRole, GetSessionToken and DecodeAuthorizationMessage through the real SDK crates,
//! with roles made through aws-sdk-iam, and the session credentials used for further calls.

use std::time::{Duration, SystemTime};

use aws_sdk_sts::error::ProvideErrorMetadata as _;
use e2e::{ACCOUNT_ID, Server};

const ALLOW_ALL: &str =
    r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#;
const READ_ROLES: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["iam:GetRole","sts:AssumeRole"],"Resource":"*"}]}"#;

fn trust(principal: &str) -> String {
    format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{{"AWS":"{principal}"}},"Action":"sts:AssumeRole"}}]}}"#
    )
}

async fn create_role(server: &Server, name: &str, trust: &str, policy: Option<&str>) -> String {
    let iam = server.iam().await;
    let role = iam
        .create_role()
        .role_name(name)
        .assume_role_policy_document(trust)
        .send()
        .await
        .expect("CreateRole");
    if let Some(doc) = policy {
        iam.put_role_policy()
            .role_name(name)
            .policy_name("p")
            .policy_document(doc)
            .send()
            .await
            .expect("PutRolePolicy");
    }
    role.role().unwrap().arn().to_owned()
}

fn status<E>(
    err: &aws_sdk_sts::error::SdkError<E, aws_sdk_sts::config::http::HttpResponse>,
) -> u16 {
    err.raw_response().map_or(0, |r| r.status().as_u16())
}

#[tokio::test]
async fn session_credentials_carry_the_role_and_the_session_policy() {
    let server = Server::start();
    let arn = create_role(
        &server,
        "reader",
        &trust(&format!("arn:aws:iam::{ACCOUNT_ID}:root")),
        Some(READ_ROLES),
    )
    .await;
    let out = server
        .sts()
        .await
        .assume_role()
        .role_arn(&arn)
        .role_session_name("e2e")
        .send()
        .await
        .expect("AssumeRole");
    let creds = out.credentials().unwrap();
    assert!(creds.access_key_id().starts_with("ASIA"));
    let user = out.assumed_role_user().unwrap();
    assert_eq!(
        user.arn(),
        "arn:aws:sts::123456789012:assumed-role/reader/e2e"
    );
    assert!(user.assumed_role_id().starts_with("AROA") && user.assumed_role_id().ends_with(":e2e"));
    let left = creds.expiration().secs()
        - SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .unwrap()
            .as_secs() as i64;
    assert!((3500..=3600).contains(&left), "{left}");

    let config = server.session_config(creds).await;
    let me = aws_sdk_sts::Client::new(&config)
        .get_caller_identity()
        .send()
        .await
        .unwrap();
    assert_eq!(me.arn(), Some(user.arn()));
    assert_eq!(me.user_id(), Some(user.assumed_role_id()));
    assert_eq!(me.account(), Some(ACCOUNT_ID));

    let iam = aws_sdk_iam::Client::new(&config);
    let got = iam
        .get_role()
        .role_name("reader")
        .send()
        .await
        .expect("GetRole is allowed");
    assert_eq!(got.role().unwrap().arn(), arn);
    let err = iam
        .create_role()
        .role_name("nope")
        .assume_role_policy_document(trust(&format!("arn:aws:iam::{ACCOUNT_ID}:root")))
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some("AccessDenied"));
    assert_eq!(err.raw_response().unwrap().status().as_u16(), 403);
    let message = err.message().unwrap();
    assert!(
        message.starts_with("User: arn:aws:sts::123456789012:assumed-role/reader/e2e is not authorized to perform: iam:CreateRole on resource: "),
        "{message}"
    );

    // A session policy narrows the session: GetRole is no longer allowed.
    let narrowed = server
        .sts()
        .await
        .assume_role()
        .role_arn(&arn)
        .role_session_name("narrow")
        .policy(r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]}"#)
        .send()
        .await
        .unwrap();
    // The SDK marks PackedPolicySize deprecated (in favour of SessionTokenUtilization) but
    // still reads it.
    #[allow(deprecated)]
    let packed = narrowed.packed_policy_size();
    assert!(packed.is_some_and(|p| (1..=100).contains(&p)), "{packed:?}");
    let config = server.session_config(narrowed.credentials().unwrap()).await;
    let err = aws_sdk_iam::Client::new(&config)
        .get_role()
        .role_name("reader")
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some("AccessDenied"));
}

#[tokio::test]
async fn refusals_and_validation_errors_are_worded_as_aws() {
    let server = Server::start();
    let sts = server.sts().await;
    // A trust policy may name only principals that exist (IAM refuses others).
    server
        .iam()
        .await
        .create_user()
        .user_name("someone-else")
        .send()
        .await
        .expect("CreateUser");
    let arn = create_role(
        &server,
        "locked",
        &trust("arn:aws:iam::123456789012:user/someone-else"),
        None,
    )
    .await;
    let err = sts
        .assume_role()
        .role_arn(&arn)
        .role_session_name("s1")
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some("AccessDenied"));
    assert_eq!(status(&err), 403);
    assert_eq!(
        err.message(),
        Some(
            "User: arn:aws:iam::123456789012:user/admin is not authorized to perform: sts:AssumeRole on resource: arn:aws:iam::123456789012:role/locked"
        )
    );

    let open = create_role(
        &server,
        "open",
        &trust("arn:aws:iam::123456789012:root"),
        Some(ALLOW_ALL),
    )
    .await;
    let err = sts
        .assume_role()
        .role_arn(&open)
        .role_session_name("bad name")
        .send()
        .await
        .unwrap_err();
    assert_eq!((err.code(), status(&err)), (Some("ValidationError"), 400));
    assert_eq!(
        err.message(),
        Some(
            r"1 validation error detected: Value 'bad name' at 'roleSessionName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\w+=,.@-]*"
        )
    );
    let err = sts
        .assume_role()
        .role_arn(&open)
        .role_session_name("s1")
        .duration_seconds(3601)
        .send()
        .await
        .unwrap_err();
    assert_eq!((err.code(), status(&err)), (Some("ValidationError"), 400));
    assert_eq!(
        err.message(),
        Some("The requested DurationSeconds exceeds the MaxSessionDuration set for this role.")
    );

    let err = sts
        .assume_role()
        .role_arn(&open)
        .role_session_name("s1")
        .tags(
            aws_sdk_sts::types::Tag::builder()
                .key("team")
                .value("blue")
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap_err();
    assert_eq!((err.code(), status(&err)), (Some("AccessDenied"), 403));
    assert_eq!(
        err.message(),
        Some(
            "User: arn:aws:iam::123456789012:user/admin is not authorized to perform: sts:TagSession on resource: arn:aws:iam::123456789012:role/open"
        )
    );

    // Chaining: one hour at most.
    let first = sts
        .assume_role()
        .role_arn(&open)
        .role_session_name("first")
        .send()
        .await
        .unwrap();
    let chained =
        aws_sdk_sts::Client::new(&server.session_config(first.credentials().unwrap()).await);
    let next = create_role(&server, "next", &trust(&open), None).await;
    let err = chained
        .assume_role()
        .role_arn(&next)
        .role_session_name("hop")
        .duration_seconds(7200)
        .send()
        .await
        .unwrap_err();
    assert_eq!((err.code(), status(&err)), (Some("ValidationError"), 400));
    assert_eq!(
        err.message(),
        Some(
            "The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining."
        )
    );
    let hop = chained
        .assume_role()
        .role_arn(&next)
        .role_session_name("hop")
        .send()
        .await
        .unwrap();
    assert_eq!(
        hop.assumed_role_user().unwrap().arn(),
        "arn:aws:sts::123456789012:assumed-role/next/hop"
    );
}

#[tokio::test]
async fn a_tampered_session_token_is_invalid() {
    let server = Server::start();
    let out = server
        .sts()
        .await
        .get_session_token()
        .duration_seconds(900)
        .send()
        .await
        .unwrap();
    let creds = out.credentials().unwrap();
    let me = aws_sdk_sts::Client::new(&server.session_config(creds).await)
        .get_caller_identity()
        .send()
        .await
        .unwrap();
    assert_eq!(me.arn(), Some("arn:aws:iam::123456789012:user/admin"));

    let mut token = creds.session_token().as_bytes().to_vec();
    token[40] = if token[40] == b'A' { b'B' } else { b'A' };
    let token = String::from_utf8(token).unwrap();
    let config = server
        .config(
            creds.access_key_id(),
            creds.secret_access_key(),
            Some(&token),
        )
        .await;
    let err = aws_sdk_sts::Client::new(&config)
        .get_caller_identity()
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        (err.code(), status(&err)),
        (Some("InvalidClientTokenId"), 403)
    );
    assert_eq!(
        err.message(),
        Some("The security token included in the request is invalid.")
    );

    let err = aws_sdk_sts::Client::new(&server.session_config(creds).await)
        .get_session_token()
        .send()
        .await
        .unwrap_err();
    assert_eq!((err.code(), status(&err)), (Some("AccessDenied"), 403));
    assert_eq!(
        err.message(),
        Some("Cannot call GetSessionToken with session credentials")
    );
}

/// STS API reference, GetSessionToken: its credentials call no IAM operation without MFA (and
/// roleplane has no MFA devices) and no STS operation but AssumeRole and GetCallerIdentity;
/// other services see the user's own permissions.
#[tokio::test]
async fn get_session_token_credentials_reach_neither_iam_nor_most_of_sts() {
    let server = Server::start();
    let role = create_role(
        &server,
        "reachable",
        &trust(&format!("arn:aws:iam::{ACCOUNT_ID}:root")),
        None,
    )
    .await;
    // roleplane has no MFA devices: a serial number is refused as AWS refuses an unknown one.
    let err = server
        .sts()
        .await
        .get_session_token()
        .serial_number(format!("arn:aws:iam::{ACCOUNT_ID}:mfa/admin"))
        .token_code("123456")
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        (err.code(), status(&err), err.message()),
        (
            Some("AccessDenied"),
            403,
            Some(
                "MultiFactorAuthentication failed, unable to validate MFA code.  Please verify your MFA serial number is valid and associated with this user."
            )
        )
    );
    let out = server.sts().await.get_session_token().send().await.unwrap();
    let config = server.session_config(out.credentials().unwrap()).await;

    let err = aws_sdk_iam::Client::new(&config)
        .list_users()
        .send()
        .await
        .unwrap_err();
    let status_code = err.raw_response().map_or(0, |r| r.status().as_u16());
    assert_eq!(
        (err.code(), status_code, err.message()),
        (
            Some("InvalidClientTokenId"),
            403,
            Some("The security token included in the request is invalid")
        )
    );

    let sts = aws_sdk_sts::Client::new(&config);
    sts.get_caller_identity().send().await.unwrap();
    let assumed = sts
        .assume_role()
        .role_arn(&role)
        .role_session_name("from-a-user-session")
        .send()
        .await
        .unwrap();
    assert!(
        assumed
            .assumed_role_user()
            .unwrap()
            .arn()
            .ends_with(":assumed-role/reachable/from-a-user-session")
    );
    let err = sts
        .decode_authorization_message()
        .encoded_message("anything")
        .send()
        .await
        .unwrap_err();
    assert_eq!((err.code(), status(&err)), (Some("AccessDenied"), 403));

    // Other services: the user's own permissions (the admin's, here).
    aws_sdk_ec2::Client::new(&config)
        .describe_instances()
        .send()
        .await
        .unwrap();
}

#[tokio::test]
async fn a_request_signed_twenty_minutes_ago_has_expired() {
    let server = Server::start();
    let config = server.admin_config().await;
    let past = SystemTime::now() - Duration::from_secs(20 * 60);
    let sts_config = aws_sdk_sts::config::Builder::from(&config)
        .time_source(aws_smithy_async::time::StaticTimeSource::new(past))
        // The SDK learns the server's clock from a skew error and retries; this test wants the
        // first answer.
        .retry_config(aws_sdk_sts::config::retry::RetryConfig::disabled())
        .build();
    let err = aws_sdk_sts::Client::from_conf(sts_config)
        .get_caller_identity()
        .send()
        .await
        .unwrap_err();
    assert_eq!(status(&err), 403);
    assert_eq!(err.code(), Some("SignatureDoesNotMatch"));
    assert!(
        err.message().unwrap().starts_with("Signature expired"),
        "{:?}",
        err.message()
    );
}

#[tokio::test]
async fn garbage_authorization_messages_are_refused() {
    let server = Server::start();
    let err = server
        .sts()
        .await
        .decode_authorization_message()
        .encoded_message("definitely-not-ours")
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        (err.code(), status(&err)),
        (Some("InvalidAuthorizationMessageException"), 400)
    );
    assert_eq!(
        err.message(),
        Some("The encoded authorization message is invalid.")
    );
}

/// `roleplane account create` beside the running server: a second account whose admin can
/// assume a role in the first only when both the trust policy and its own policies allow.
#[tokio::test]
async fn cross_account_assume_role_needs_both_sides() {
    let server = Server::start();
    let (other_key, other_secret) = server.second_account("210987654321");
    let other = server.config(&other_key, &other_secret, None).await;
    let other_sts = aws_sdk_sts::Client::new(&other);
    let me = other_sts.get_caller_identity().send().await.unwrap();
    assert_eq!(me.arn(), Some("arn:aws:iam::210987654321:user/admin"));

    let untrusted = create_role(
        &server,
        "untrusted",
        &trust("arn:aws:iam::123456789012:root"),
        None,
    )
    .await;
    let err = other_sts
        .assume_role()
        .role_arn(&untrusted)
        .role_session_name("x1")
        .send()
        .await
        .unwrap_err();
    assert_eq!((err.code(), status(&err)), (Some("AccessDenied"), 403));
    assert_eq!(
        err.message(),
        Some(
            "User: arn:aws:iam::210987654321:user/admin is not authorized to perform: sts:AssumeRole on resource: arn:aws:iam::123456789012:role/untrusted"
        )
    );

    let shared = create_role(
        &server,
        "shared",
        &trust("arn:aws:iam::210987654321:root"),
        Some(READ_ROLES),
    )
    .await;
    let out = other_sts
        .assume_role()
        .role_arn(&shared)
        .role_session_name("x1")
        .send()
        .await
        .unwrap();
    assert_eq!(
        out.assumed_role_user().unwrap().arn(),
        "arn:aws:sts::123456789012:assumed-role/shared/x1"
    );
    let session =
        aws_sdk_sts::Client::new(&server.session_config(out.credentials().unwrap()).await);
    let me = session.get_caller_identity().send().await.unwrap();
    assert_eq!(me.account(), Some(ACCOUNT_ID));
}
