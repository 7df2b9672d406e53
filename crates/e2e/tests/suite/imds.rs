//! The instance metadata service of a real `roleplane serve`: the seed's retrieval commands,
//! aws-config's IMDS credentials provider, policy conditions on EC2 role sessions, metadata
//! options and association changes seen by the next request, bad input, restart.

use std::process::Command;
use std::time::Duration;

use aws_credential_types::provider::ProvideCredentials as _;
use e2e::imds::{self, exchange, get, request, token};
use e2e::{ACCOUNT_ID, Server};
use serde_json::Value;

const ROLE: &str = "s3access";
const PROFILE: &str = "s3access-profile";
/// The role may read roles, nothing else.
const READ_ROLES: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["iam:GetRole","iam:ListRoles"],"Resource":"*"}]}"#;

async fn server_with_instance() -> (Server, String, String) {
    let server = Server::start();
    server.instance_role(ROLE, PROFILE, READ_ROLES).await;
    let (id, ip) = server.launch(Some(PROFILE)).await;
    (server, id, ip)
}

fn sh(script: &str) -> String {
    let out = Command::new("sh")
        .args(["-c", script])
        .output()
        .expect("run sh");
    assert!(
        out.status.success(),
        "{script}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf-8")
}

/// The document's keys, in order, and its values as strings.
fn keys(doc: &Value) -> Vec<&str> {
    doc.as_object()
        .expect("object")
        .keys()
        .map(String::as_str)
        .collect()
}

fn creds_of(doc: &Value) -> (String, String, String) {
    let s = |k: &str| doc[k].as_str().expect(k).to_owned();
    (s("AccessKeyId"), s("SecretAccessKey"), s("Token"))
}

async fn caller_arn(server: &Server, creds: &(String, String, String)) -> String {
    let config = server.config(&creds.0, &creds.1, Some(&creds.2)).await;
    let me = aws_sdk_sts::Client::new(&config)
        .get_caller_identity()
        .send()
        .await
        .expect("GetCallerIdentity with instance credentials");
    me.arn().expect("arn").to_owned()
}

async fn iam_as(server: &Server, creds: &(String, String, String)) -> aws_sdk_iam::Client {
    aws_sdk_iam::Client::new(&server.config(&creds.0, &creds.1, Some(&creds.2)).await)
}

fn is_access_denied<E: aws_sdk_iam::error::ProvideErrorMetadata>(error: &E) -> bool {
    error.code() == Some("AccessDenied")
}

#[tokio::test]
async fn the_seeds_curl_commands_return_working_credentials() {
    let (server, id, ip) = server_with_instance().await;
    let port = server.imds_port;
    // Verbatim from the seed, with the instance's endpoint for 169.254.169.254.
    let v2 = sh(&format!(
        r#"TOKEN=$(curl -X PUT "http://{ip}:{port}/latest/api/token" -H "X-aws-ec2-metadata-token-ttl-seconds: 21600") && curl -H "X-aws-ec2-metadata-token: $TOKEN" -v http://{ip}:{port}/latest/meta-data/iam/security-credentials/{ROLE}"#
    ));
    let v1 = sh(&format!(
        "curl http://{ip}:{port}/latest/meta-data/iam/security-credentials/{ROLE}"
    ));
    for body in [&v2, &v1] {
        let doc: Value = serde_json::from_str(body).expect("credentials JSON");
        assert_eq!(
            keys(&doc),
            [
                "Code",
                "LastUpdated",
                "Type",
                "AccessKeyId",
                "SecretAccessKey",
                "Token",
                "Expiration"
            ]
        );
        assert_eq!(doc["Code"], "Success");
        assert_eq!(doc["Type"], "AWS-HMAC");
        assert!(doc["AccessKeyId"].as_str().unwrap().starts_with("ASIA"));
        // EC2's layout: two-space indent, " : " separators.
        assert!(body.starts_with("{\n  \"Code\" : \"Success\",\n  \"LastUpdated\" : \""));
        let creds = creds_of(&doc);
        assert_eq!(
            caller_arn(&server, &creds).await,
            format!("arn:aws:sts::{ACCOUNT_ID}:assumed-role/{ROLE}/{id}")
        );
        let iam = iam_as(&server, &creds).await;
        iam.get_role()
            .role_name(ROLE)
            .send()
            .await
            .expect("the role's policy allows GetRole");
        let denied = iam
            .list_users()
            .send()
            .await
            .expect_err("ListUsers is not allowed");
        assert!(is_access_denied(&denied.into_service_error()));
    }
    let v1: Value = serde_json::from_str(&v1).unwrap();
    let v2: Value = serde_json::from_str(&v2).unwrap();
    assert_ne!(
        v1["AccessKeyId"], v2["AccessKeyId"],
        "IMDSv1 and IMDSv2 callers get separate sets"
    );
}

#[tokio::test]
async fn aws_configs_imds_provider_resolves_and_uses_the_credentials() {
    let (server, id, ip) = server_with_instance().await;
    let client = aws_config::imds::Client::builder()
        .endpoint(server.imds_url(&ip))
        .expect("endpoint")
        .build();
    let provider = aws_config::imds::credentials::ImdsCredentialsProvider::builder()
        .imds_client(client)
        .build();
    let creds = provider
        .provide_credentials()
        .await
        .expect("the SDK's IMDS provider resolves credentials");
    assert!(creds.access_key_id().starts_with("ASIA"));
    let expiry = creds.expiry().expect("expiry");
    let left = expiry
        .duration_since(std::time::SystemTime::now())
        .expect("not expired");
    assert!(left > Duration::from_secs(5 * 3600), "{left:?} left");

    let config = server.provider_config(provider).await;
    let me = aws_sdk_sts::Client::new(&config)
        .get_caller_identity()
        .send()
        .await
        .expect("GetCallerIdentity through the IMDS provider");
    assert_eq!(
        me.arn(),
        Some(format!("arn:aws:sts::{ACCOUNT_ID}:assumed-role/{ROLE}/{id}").as_str())
    );
    assert_eq!(
        me.user_id().map(|u| u.ends_with(&format!(":{id}"))),
        Some(true)
    );
}

#[tokio::test]
async fn role_delivery_and_source_instance_conditions_apply_to_instance_sessions() {
    let server = Server::start();
    server.instance_role(ROLE, PROFILE, READ_ROLES).await;
    let (a_id, a_ip) = server.launch(Some(PROFILE)).await;
    let (_b_id, b_ip) = server.launch(Some(PROFILE)).await;
    let arn_a = format!("arn:aws:ec2:{}:{ACCOUNT_ID}:instance/{a_id}", e2e::REGION);
    // The canonical IMDSv1 deny, and ListRoles for instance A only.
    let policy = format!(
        r#"{{"Version":"2012-10-17","Statement":[
        {{"Effect":"Allow","Action":"iam:GetRole","Resource":"*"}},
        {{"Effect":"Allow","Action":"iam:ListRoles","Resource":"*","Condition":{{"StringEquals":{{"ec2:SourceInstanceARN":"{arn_a}"}}}}}},
        {{"Effect":"Deny","Action":"*","Resource":"*","Condition":{{"NumericLessThan":{{"ec2:RoleDelivery":"2.0"}}}}}}]}}"#
    );
    server
        .iam()
        .await
        .put_role_policy()
        .role_name(ROLE)
        .policy_name("instance")
        .policy_document(policy)
        .send()
        .await
        .expect("PutRolePolicy");
    let port = server.imds_port;

    let v1 = creds_of(&imds::credentials(&a_ip, port, ROLE, false));
    let denied = iam_as(&server, &v1)
        .await
        .get_role()
        .role_name(ROLE)
        .send()
        .await
        .expect_err("IMDSv1 credentials are denied");
    assert!(is_access_denied(&denied.into_service_error()));

    let a = creds_of(&imds::credentials(&a_ip, port, ROLE, true));
    let iam_a = iam_as(&server, &a).await;
    iam_a
        .get_role()
        .role_name(ROLE)
        .send()
        .await
        .expect("IMDSv2 credentials are allowed");
    iam_a
        .list_roles()
        .send()
        .await
        .expect("instance A may list roles");

    let b = creds_of(&imds::credentials(&b_ip, port, ROLE, true));
    let iam_b = iam_as(&server, &b).await;
    iam_b
        .get_role()
        .role_name(ROLE)
        .send()
        .await
        .expect("B may GetRole");
    let denied = iam_b
        .list_roles()
        .send()
        .await
        .expect_err("instance B is not instance A");
    assert!(is_access_denied(&denied.into_service_error()));
}

async fn modify_options(
    server: &Server,
    id: &str,
    change: impl FnOnce(ModifyOptions) -> ModifyOptions,
) {
    let ec2 = server.ec2().await;
    change(ec2.modify_instance_metadata_options().instance_id(id))
        .send()
        .await
        .expect("ModifyInstanceMetadataOptions");
}

type ModifyOptions =
    aws_sdk_ec2::operation::modify_instance_metadata_options::builders::ModifyInstanceMetadataOptionsFluentBuilder;

#[tokio::test]
async fn metadata_options_and_tokens_decide_the_status_on_the_next_request() {
    use aws_sdk_ec2::types::{HttpTokensState, InstanceMetadataEndpointState};
    let (server, id, ip) = server_with_instance().await;
    let (_other_id, other_ip) = server.launch(Some(PROFILE)).await;
    let port = server.imds_port;
    let path = "/latest/meta-data/instance-id";

    assert_eq!(
        get(&ip, port, path, None).status,
        200,
        "tokens are optional at launch"
    );
    let mine = token(&ip, port);
    let theirs = token(&other_ip, port);
    let reply = get(&ip, port, path, Some(&mine));
    assert_eq!((reply.status, reply.body.as_str()), (200, id.as_str()));
    assert_eq!(
        get(&ip, port, path, Some(&theirs)).status,
        401,
        "another instance's token"
    );

    modify_options(&server, &id, |m| m.http_tokens(HttpTokensState::Required)).await;
    assert_eq!(get(&ip, port, path, None).status, 401, "IMDSv2 required");
    assert_eq!(get(&ip, port, path, Some(&mine)).status, 200);
    let creds = get(
        &ip,
        port,
        &format!("/latest/meta-data/iam/security-credentials/{ROLE}"),
        None,
    );
    assert_eq!(creds.status, 401);
    assert_eq!(
        get(&other_ip, port, path, None).status,
        200,
        "the other instance keeps its options"
    );

    modify_options(&server, &id, |m| {
        m.http_endpoint(InstanceMetadataEndpointState::Disabled)
    })
    .await;
    assert_eq!(
        get(&ip, port, path, Some(&mine)).status,
        403,
        "endpoint disabled"
    );
    let put = request(
        &ip,
        port,
        "PUT",
        "/latest/api/token",
        &[("X-aws-ec2-metadata-token-ttl-seconds", "60")],
    );
    assert_eq!(put.status, 403);

    modify_options(&server, &id, |m| {
        m.http_endpoint(InstanceMetadataEndpointState::Enabled)
            .http_tokens(HttpTokensState::Optional)
    })
    .await;
    assert_eq!(get(&ip, port, path, None).status, 200, "enabled again");
}

#[tokio::test]
async fn association_and_state_changes_are_seen_by_the_next_request() {
    let (server, id, ip) = server_with_instance().await;
    server
        .instance_role("other", "other-profile", READ_ROLES)
        .await;
    let port = server.imds_port;
    let listing = "/latest/meta-data/iam/security-credentials/";
    let first = imds::credentials(&ip, port, ROLE, true);
    assert_eq!(get(&ip, port, listing, None).body, ROLE);

    let ec2 = server.ec2().await;
    let association = ec2
        .describe_iam_instance_profile_associations()
        .send()
        .await
        .expect("describe associations")
        .iam_instance_profile_associations()[0]
        .association_id()
        .expect("association id")
        .to_owned();
    let replaced = ec2
        .replace_iam_instance_profile_association()
        .association_id(&association)
        .iam_instance_profile(
            aws_sdk_ec2::types::IamInstanceProfileSpecification::builder()
                .name("other-profile")
                .build(),
        )
        .send()
        .await
        .expect("ReplaceIamInstanceProfileAssociation");
    assert_eq!(get(&ip, port, listing, None).body, "other");
    let old_path = format!("{listing}{ROLE}");
    assert_eq!(
        get(&ip, port, &old_path, None).status,
        404,
        "the old role is gone"
    );
    let other = imds::credentials(&ip, port, "other", true);
    assert_ne!(other["AccessKeyId"], first["AccessKeyId"]);
    let creds = creds_of(&other);
    assert_eq!(
        caller_arn(&server, &creds).await,
        format!("arn:aws:sts::{ACCOUNT_ID}:assumed-role/other/{id}")
    );
    let info = get(&ip, port, "/latest/meta-data/iam/info", None).json();
    assert_eq!(
        info["InstanceProfileArn"],
        format!("arn:aws:iam::{ACCOUNT_ID}:instance-profile/other-profile")
    );

    ec2.disassociate_iam_instance_profile()
        .association_id(
            replaced
                .iam_instance_profile_association()
                .and_then(|a| a.association_id())
                .expect("new association id"),
        )
        .send()
        .await
        .expect("DisassociateIamInstanceProfile");
    assert_eq!(
        get(&ip, port, listing, None).status,
        404,
        "no profile, no iam/"
    );
    assert_eq!(get(&ip, port, "/latest/meta-data/iam/", None).status, 404);
    assert!(
        !get(&ip, port, "/latest/meta-data/", None)
            .body
            .contains("iam/")
    );

    ec2.stop_instances()
        .instance_ids(&id)
        .send()
        .await
        .expect("stop");
    assert!(
        std::net::TcpStream::connect((ip.as_str(), port)).is_err(),
        "a stopped instance has no metadata service"
    );
    ec2.start_instances()
        .instance_ids(&id)
        .send()
        .await
        .expect("start");
    assert_eq!(
        get(&ip, port, "/latest/meta-data/instance-id", None).body,
        id
    );
    ec2.terminate_instances()
        .instance_ids(&id)
        .send()
        .await
        .expect("terminate");
    assert!(
        std::net::TcpStream::connect((ip.as_str(), port)).is_err(),
        "a terminated instance has no metadata service"
    );
}

#[tokio::test]
async fn a_profile_whose_role_ec2_may_not_assume_gets_ec2s_refusal_document() {
    let server = Server::start();
    let iam = server.iam().await;
    let lambda_trust = e2e::EC2_TRUST.replace("ec2.amazonaws.com", "lambda.amazonaws.com");
    iam.create_role()
        .role_name("lambda-only")
        .assume_role_policy_document(lambda_trust)
        .send()
        .await
        .expect("CreateRole");
    iam.create_instance_profile()
        .instance_profile_name("lambda-profile")
        .send()
        .await
        .expect("CreateInstanceProfile");
    iam.add_role_to_instance_profile()
        .instance_profile_name("lambda-profile")
        .role_name("lambda-only")
        .send()
        .await
        .expect("AddRoleToInstanceProfile");
    let (_id, ip) = server.launch(Some("lambda-profile")).await;
    let reply = get(
        &ip,
        server.imds_port,
        "/latest/meta-data/iam/security-credentials/lambda-only",
        None,
    );
    assert_eq!(reply.status, 200);
    let doc = reply.json();
    assert_eq!(doc["Code"], "AssumeRoleUnauthorizedAccess");
    let message = doc["Message"].as_str().expect("Message");
    assert!(
        message.starts_with("EC2 cannot assume the role lambda-only."),
        "{message}"
    );
    assert!(doc.get("AccessKeyId").is_none());
}

#[tokio::test]
async fn bad_input_gets_a_clean_4xx_or_a_close() {
    let (server, _id, ip) = server_with_instance().await;
    let port = server.imds_port;
    let garbage = exchange(
        &ip,
        port,
        b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03garbage\r\n\r\n",
    );
    assert!(matches!(garbage.status, 0 | 400), "{garbage:?}");
    let huge = format!(
        "GET /latest/meta-data/ HTTP/1.1\r\nHost: {ip}\r\nX-Big: {}\r\n\r\n",
        "a".repeat(64 * 1024)
    );
    let reply = exchange(&ip, port, huge.as_bytes());
    assert!(matches!(reply.status, 0 | 431), "{:?}", reply.status);
    for path in [
        "/latest/meta-data/../meta-data/instance-id",
        "/latest/meta-data/%2e%2e/instance-id",
        "/latest/meta-data/iam/security-credentials/..%2f..%2finstance-id",
        "/latest/meta-data/./instance-id",
    ] {
        let reply = get(&ip, port, path, None);
        assert_eq!(reply.status, 404, "{path}");
        assert_eq!(reply.header("content-type"), Some("text/html"));
    }
    // Repeated slashes are collapsed, as EC2 does (see `imds_tree`), not refused.
    assert_eq!(
        get(&ip, port, "/latest//meta-data/instance-id", None).status,
        200
    );
    for method in ["POST", "DELETE", "PATCH"] {
        assert_eq!(
            request(&ip, port, method, "/latest/meta-data/", &[]).status,
            405,
            "{method}"
        );
    }
    let forwarded = request(
        &ip,
        port,
        "PUT",
        "/latest/api/token",
        &[
            ("X-aws-ec2-metadata-token-ttl-seconds", "60"),
            ("X-Forwarded-For", "203.0.113.9"),
        ],
    );
    assert_eq!(forwarded.status, 403);
    let no_ttl = request(&ip, port, "PUT", "/latest/api/token", &[]);
    assert_eq!(no_ttl.status, 400);

    // A client that never finishes its request head is cut off; the service stays up.
    let mut slow = std::net::TcpStream::connect((ip.as_str(), port)).expect("connect");
    std::io::Write::write_all(&mut slow, b"GET /latest/meta-data/ HTTP/1.1\r\nHost: x").unwrap();
    slow.set_read_timeout(Some(Duration::from_secs(15)))
        .unwrap();
    let mut buf = [0u8; 64];
    let started = std::time::Instant::now();
    let read = std::io::Read::read(&mut slow, &mut buf);
    assert!(
        matches!(read, Ok(0)) || read.is_err(),
        "a slow client is closed without a response"
    );
    assert!(
        started.elapsed() < Duration::from_secs(14),
        "closed by the header timeout"
    );
    assert_eq!(get(&ip, port, "/latest/meta-data/ami-id", None).status, 200);
}

#[tokio::test]
async fn instance_listeners_come_back_after_a_restart_and_tokens_survive_it() {
    let temp = tempfile::tempdir().unwrap();
    let dir = temp.path().join("data");
    let mut server = Server::start_on(&dir);
    server.instance_role(ROLE, PROFILE, READ_ROLES).await;
    let (id, ip) = server.launch(Some(PROFILE)).await;
    let before = token(&ip, server.imds_port);
    server.kill();

    let port = e2e::free_port();
    let server = Server::start_with(&dir, &["--imds-port", &port.to_string()]);
    assert_eq!(server.imds_port, port);
    let reply = get(&ip, port, "/latest/meta-data/instance-id", Some(&before));
    assert_eq!((reply.status, reply.body.as_str()), (200, id.as_str()));
    let endpoints: Value =
        serde_json::from_slice(&std::fs::read(dir.join("endpoints.json")).unwrap()).unwrap();
    assert_eq!(endpoints["imdsPort"], port);
    assert_eq!(endpoints["api"], server.endpoint);
    assert_eq!(endpoints["region"], e2e::REGION);
}

#[tokio::test]
async fn a_short_rotation_serves_overlapping_sets_that_all_work() {
    let temp = tempfile::tempdir().unwrap();
    // A new set every 2 s, each valid 15 min + 2 s: the schedule's shortest legal form.
    let server = Server::start_with(
        &temp.path().join("data"),
        &[
            "--imds-credential-refresh",
            "2",
            "--imds-credential-lifetime",
            "902",
        ],
    );
    server.instance_role(ROLE, PROFILE, READ_ROLES).await;
    let (id, ip) = server.launch(Some(PROFILE)).await;
    let port = server.imds_port;
    let first = imds::credentials(&ip, port, ROLE, true);
    let again = imds::credentials(&ip, port, ROLE, true);
    assert_eq!(
        first["AccessKeyId"], again["AccessKeyId"],
        "reused while fresh"
    );
    tokio::time::sleep(Duration::from_millis(3100)).await;
    let next = imds::credentials(&ip, port, ROLE, true);
    assert_ne!(first["AccessKeyId"], next["AccessKeyId"], "rotated");
    let at = |doc: &Value, key: &str| epoch_secs(doc[key].as_str().expect(key));
    assert!(at(&next, "LastUpdated") > at(&first, "LastUpdated"));
    assert_eq!(at(&first, "Expiration") - at(&first, "LastUpdated"), 902);
    // The new set appeared well over 5 minutes before the old one expires.
    assert!(at(&first, "Expiration") - at(&next, "LastUpdated") > 5 * 60);
    for doc in [&first, &next] {
        let creds = creds_of(doc);
        assert_eq!(
            caller_arn(&server, &creds).await,
            format!("arn:aws:sts::{ACCOUNT_ID}:assumed-role/{ROLE}/{id}"),
            "old and new sets both work"
        );
    }
}

/// `YYYY-MM-DDTHH:MM:SSZ` as Unix seconds (days from the civil calendar, H. Hinnant's method).
fn epoch_secs(iso: &str) -> i64 {
    let n = |range: std::ops::Range<usize>| -> i64 { iso[range].parse().expect("digits") };
    assert_eq!(iso.len(), 20, "{iso}");
    let (y, m, d) = (n(0..4), n(5..7), n(8..10));
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * (m + if m > 2 { -3 } else { 9 }) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    days * 86_400 + n(11..13) * 3600 + n(14..16) * 60 + n(17..19)
}

#[test]
fn epoch_secs_reads_ec2_timestamps() {
    assert_eq!(epoch_secs("1970-01-01T00:00:00Z"), 0);
    assert_eq!(epoch_secs("2021-09-20T21:42:26Z"), 1_632_174_146);
}
