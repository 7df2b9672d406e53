//! What a signature may claim beyond its key: the credential scope's region must be one the
//! server answers for (IAM: `us-east-1`, where AWS signs it, and the served region; everything
//! else: the served region), and a long-term key comes without a session token. Both are refused
//! on every protocol path: awsQuery (IAM, STS), ec2Query, awsJson (CloudTrail) and restJson
//! (Access Analyzer), header-signed and presigned.

use e2e::raw::{FORM, RawResponse, Signer};
use e2e::{ADMIN_KEY_ID, ADMIN_SECRET, Server};

const ADMIN: (&str, &str) = (ADMIN_KEY_ID, ADMIN_SECRET);
const IAM_CALL: &[u8] = b"Action=GetUser&Version=2010-05-08";
const STS_CALL: &str = "Action=GetCallerIdentity&Version=2011-06-15";
const EC2_CALL: &[u8] = b"Action=DescribeInstances&Version=2016-11-15";
const LOOKUP_EVENTS: &str = "com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101.LookupEvents";

/// One signed call of each protocol path, as `signer` signs it (with its own service name).
fn call(endpoint: &str, signer: Signer<'_>, service: &str) -> RawResponse {
    match service {
        "iam" => signer.post(endpoint, FORM, &[], IAM_CALL),
        "sts" => signer.post(endpoint, FORM, &[], STS_CALL.as_bytes()),
        "ec2" => signer.post(endpoint, FORM, &[], EC2_CALL),
        "cloudtrail" => signer.post(
            endpoint,
            "application/x-amz-json-1.1",
            &[("x-amz-target", LOOKUP_EVENTS)],
            b"{}",
        ),
        "access-analyzer" => signer.send(endpoint, "GET", "/policy/generation", &[], b""),
        other => panic!("no call for {other}"),
    }
}

const SERVICES: [&str; 5] = ["iam", "sts", "ec2", "cloudtrail", "access-analyzer"];

fn assert_refused(response: &RawResponse, status: u16, code: &str, message: &str, what: &str) {
    assert_eq!(
        response.status, status,
        "{what}: {}\n{}",
        response.head, response.body
    );
    // restJson names the error in a header (`x-amzn-ErrorType`); XML bodies escape apostrophes.
    let code_seen = response.body.contains(&format!("<Code>{code}</Code>"))
        || response.body.contains(&format!("\"{code}\""))
        || response.head.contains(code);
    assert!(code_seen, "{what}: {}\n{}", response.head, response.body);
    let body = response.body.replace("&apos;", "'");
    assert!(body.contains(message), "{what}: {}", response.body);
}

/// AWS's wording for each path, for a signature scoped to `region` (the awsQuery services under
/// `SignatureDoesNotMatch`; EC2 as `AuthFailure`; the JSON services as
/// `InvalidSignatureException`).
fn wrong_region(service: &str, region: &str) -> (u16, &'static str, String) {
    let named = format!("Credential should be scoped to a valid region, not '{region}'. ");
    match service {
        "iam" => (403, "SignatureDoesNotMatch", named),
        "sts" => (
            403,
            "SignatureDoesNotMatch",
            "Credential should be scoped to a valid region. ".to_owned(),
        ),
        "ec2" => (
            401,
            "AuthFailure",
            "AWS was not able to validate the provided access credentials".to_owned(),
        ),
        _ => (403, "InvalidSignatureException", named),
    }
}

#[test]
fn a_signature_scoped_to_another_region_is_refused_on_every_path() {
    let server = Server::start();
    for service in SERVICES {
        let ok = call(&server.endpoint, Signer::new(service, ADMIN), service);
        assert_eq!(ok.status, 200, "{service} in us-east-1: {}", ok.body);
        for region in ["eu-west-1", "xx-foo-1"] {
            let signer = Signer::new(service, ADMIN).region(region);
            let response = call(&server.endpoint, signer, service);
            let (status, code, message) = wrong_region(service, region);
            assert_refused(
                &response,
                status,
                code,
                &message,
                &format!("{service} {region}"),
            );
        }
    }
    // A presigned URL is held to the same scope.
    let presigned = Signer::new("sts", ADMIN)
        .region("eu-west-1")
        .presigned_get(&server.endpoint, STS_CALL);
    let (status, code, message) = wrong_region("sts", "eu-west-1");
    assert_refused(&presigned, status, code, &message, "presigned sts");
}

#[tokio::test]
async fn a_server_for_another_region_answers_for_it_and_iam_also_for_us_east_1() {
    let temp = tempfile::tempdir().expect("temp dir");
    let server = Server::start_with(&temp.path().join("data"), &["--region", "eu-west-1"]);
    for service in SERVICES {
        let own = call(
            &server.endpoint,
            Signer::new(service, ADMIN).region("eu-west-1"),
            service,
        );
        assert_eq!(own.status, 200, "{service} in eu-west-1: {}", own.body);
    }
    let iam = call(&server.endpoint, Signer::new("iam", ADMIN), "iam");
    assert_eq!(iam.status, 200, "IAM signed for us-east-1: {}", iam.body);
    for service in ["sts", "ec2", "cloudtrail", "access-analyzer"] {
        let response = call(&server.endpoint, Signer::new(service, ADMIN), service);
        let (status, code, message) = wrong_region(service, "us-east-1");
        assert_refused(&response, status, code, &message, service);
    }

    // SDK clients configured for the served region work as they are.
    let credentials =
        aws_credential_types::Credentials::new(ADMIN_KEY_ID, ADMIN_SECRET, None, None, "e2e");
    let config = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .region(aws_config::Region::new("eu-west-1"))
        .endpoint_url(&server.endpoint)
        .credentials_provider(credentials)
        .load()
        .await;
    aws_sdk_iam::Client::new(&config)
        .list_roles()
        .send()
        .await
        .expect("IAM signed for eu-west-1");
    aws_sdk_sts::Client::new(&config)
        .get_caller_identity()
        .send()
        .await
        .expect("STS signed for eu-west-1");
    aws_sdk_ec2::Client::new(&config)
        .describe_instances()
        .send()
        .await
        .expect("EC2 signed for eu-west-1");
}

#[test]
fn a_long_term_key_with_a_session_token_is_refused_on_every_path() {
    let server = Server::start();
    for service in SERVICES {
        let response = call(
            &server.endpoint,
            Signer::new(service, ADMIN).token("stale-session-token"),
            service,
        );
        let (status, code, message) = match service {
            "iam" => (
                403,
                "InvalidClientTokenId",
                "<Message>The security token included in the request is invalid</Message>",
            ),
            "sts" => (
                403,
                "InvalidClientTokenId",
                "<Message>The security token included in the request is invalid.</Message>",
            ),
            "ec2" => (
                401,
                "AuthFailure",
                "AWS was not able to validate the provided access credentials",
            ),
            _ => (
                403,
                "UnrecognizedClientException",
                "The security token included in the request is invalid.",
            ),
        };
        assert_refused(&response, status, code, message, service);
    }

    // Presigned: the token travels in the query.
    let plain = Signer::new("sts", ADMIN).presigned_get(&server.endpoint, STS_CALL);
    assert_eq!(
        plain.status, 200,
        "presigned without a token: {}",
        plain.body
    );
    let with_token = Signer::new("sts", ADMIN)
        .token("stale-session-token")
        .presigned_get(&server.endpoint, STS_CALL);
    assert_refused(
        &with_token,
        403,
        "InvalidClientTokenId",
        "The security token included in the request is invalid.",
        "presigned sts",
    );
}

#[tokio::test]
async fn a_stale_session_token_next_to_a_long_term_key_fails_in_the_sdk() {
    let server = Server::start();
    let config = server
        .config(ADMIN_KEY_ID, ADMIN_SECRET, Some("stale-session-token"))
        .await;
    let err = aws_sdk_sts::Client::new(&config)
        .get_caller_identity()
        .send()
        .await
        .expect_err("a long-term key with a session token");
    let err = err.into_service_error();
    assert_eq!(
        aws_sdk_sts::error::ProvideErrorMetadata::code(&err),
        Some("InvalidClientTokenId"),
        "{err:?}"
    );
    // The secret and the token never appear in what comes back.
    let text = format!("{err:?}");
    assert!(!text.contains(ADMIN_SECRET) && !text.contains("stale-session-token"));
}
