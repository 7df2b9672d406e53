//! The audit trail through real clients: calls made with aws-sdk-iam/sts (allowed, denied,
//! unauthenticated, by an assumed role) are looked up with signed CloudTrail LookupEvents
//! requests and exported with `roleplane audit export`; `aws cloudtrail lookup-events` reads
//! the same trail. A scan of every record checks that no secret issued here leaks into it.

use std::process::Command;
use std::time::SystemTime;

use aws_credential_types::Credentials;
use aws_sigv4::http_request::{SignableBody, SignableRequest, SigningSettings, sign};
use aws_sigv4::sign::v4;
use e2e::raw::{RawResponse, send, signed_post};
use e2e::{ACCOUNT_ID, ADMIN_KEY_ID, ADMIN_SECRET, Server};
use serde_json::{Value, json};

const TARGET: &str = "com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101.LookupEvents";

/// A signed awsJson1_1 LookupEvents request; returns the status and the parsed body.
pub(crate) fn lookup(
    server: &Server,
    key: (&str, &str, Option<&str>),
    input: &Value,
) -> (u16, Value) {
    let response = lookup_raw(server, key, &input.to_string());
    let body = serde_json::from_str(&response.body)
        .unwrap_or_else(|_| panic!("JSON body: {}", response.body));
    (response.status, body)
}

fn lookup_raw(server: &Server, key: (&str, &str, Option<&str>), body: &str) -> RawResponse {
    let host = server.endpoint.trim_start_matches("http://");
    let identity = Credentials::new(key.0, key.1, key.2.map(str::to_owned), None, "e2e").into();
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region(e2e::REGION)
        .name("cloudtrail")
        .time(SystemTime::now())
        .settings(SigningSettings::default())
        .build()
        .unwrap()
        .into();
    let content_type = "application/x-amz-json-1.1";
    let headers = [
        ("host", host),
        ("content-type", content_type),
        ("x-amz-target", TARGET),
    ];
    let signable = SignableRequest::new(
        "POST",
        format!("http://{host}/"),
        headers.iter().copied(),
        SignableBody::Bytes(body.as_bytes()),
    )
    .unwrap();
    let (instructions, _) = sign(signable, &params).unwrap().into_parts();
    let mut request = format!(
        "POST / HTTP/1.1\r\nhost: {host}\r\ncontent-type: {content_type}\r\nx-amz-target: {TARGET}\r\ncontent-length: {}\r\nconnection: close\r\n",
        body.len()
    );
    for (name, value) in instructions.headers() {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    request.push_str("\r\n");
    request.push_str(body);
    send(host, request.as_bytes())
}

pub(crate) const ADMIN: (&str, &str, Option<&str>) = (ADMIN_KEY_ID, ADMIN_SECRET, None);

/// Every event matching `attribute` (key, value), following NextToken; newest first.
pub(crate) fn lookup_all(
    server: &Server,
    attribute: Option<(&str, &str)>,
    page: u32,
) -> Vec<Value> {
    let mut input = json!({"MaxResults": page});
    if let Some((key, value)) = attribute {
        input["LookupAttributes"] = json!([{"AttributeKey": key, "AttributeValue": value}]);
    }
    let mut events = Vec::new();
    loop {
        let (status, body) = lookup(server, ADMIN, &input);
        assert_eq!(status, 200, "{body}");
        let page_events = body["Events"].as_array().unwrap();
        assert!(page_events.len() <= page as usize);
        events.extend(page_events.iter().cloned());
        match body.get("NextToken").and_then(Value::as_str) {
            Some(token) => input["NextToken"] = token.into(),
            None => return events,
        }
    }
}

/// The record inside a LookupEvents event.
pub(crate) fn record(event: &Value) -> Value {
    serde_json::from_str(event["CloudTrailEvent"].as_str().unwrap()).unwrap()
}

/// `roleplane audit export --since 0`: every record, oldest first.
fn export(server: &Server) -> String {
    let output = Command::new(e2e::binary())
        .args(["audit", "export", "--since", "0", "--data-dir"])
        .arg(&server.data_dir)
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    String::from_utf8(output.stdout).unwrap()
}

fn exported_records(server: &Server) -> Vec<Value> {
    export(server)
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect()
}

const TRUST_ADMIN: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:user/admin"},"Action":"sts:AssumeRole"}]}"#;

#[tokio::test(flavor = "multi_thread")]
async fn allowed_denied_and_unauthenticated_calls_are_recorded_as_cloudtrail_shapes_them() {
    let server = Server::start();
    let key = server.user_with_key("bob").await;
    let bob_iam = aws_sdk_iam::Client::new(&server.key_config(&key).await);
    let denied = bob_iam
        .get_role()
        .role_name("nope")
        .send()
        .await
        .unwrap_err();
    let denied_message = aws_sdk_iam::error::ProvideErrorMetadata::message(&denied)
        .unwrap()
        .to_owned();
    let stranger = aws_sdk_iam::Client::new(
        &server
            .config("AKIANOSUCHKEYEXAMPLE", "not-a-secret", None)
            .await,
    );
    stranger.list_roles().send().await.unwrap_err();

    // Bob's denied GetRole: his identity, AWS's error code and the exact message he got.
    let bobs = lookup_all(&server, Some(("Username", "bob")), 50);
    assert_eq!(bobs.len(), 1, "{bobs:?}");
    assert_eq!(bobs[0]["EventName"], "GetRole");
    assert_eq!(bobs[0]["ReadOnly"], "true");
    assert_eq!(bobs[0]["AccessKeyId"], key.access_key_id());
    assert_eq!(
        bobs[0]["Resources"],
        json!([{"ResourceType": "AWS::IAM::Role", "ResourceName": "nope"}])
    );
    let r = record(&bobs[0]);
    assert_eq!(r["eventVersion"], "1.11");
    assert_eq!(r["userIdentity"]["type"], "IAMUser");
    assert_eq!(
        r["userIdentity"]["arn"],
        format!("arn:aws:iam::{ACCOUNT_ID}:user/bob")
    );
    assert!(
        r["userIdentity"]["principalId"]
            .as_str()
            .unwrap()
            .starts_with("AIDA")
    );
    assert_eq!(r["userIdentity"]["accessKeyId"], key.access_key_id());
    assert_eq!(r["userIdentity"]["userName"], "bob");
    assert_eq!(r["eventSource"], "iam.amazonaws.com");
    assert_eq!(r["errorCode"], "AccessDenied");
    assert_eq!(r["errorMessage"], denied_message.as_str());
    assert_eq!(r["requestParameters"], json!({"roleName": "nope"}));
    assert_eq!(r["responseElements"], Value::Null);
    assert_eq!(r["sourceIPAddress"], "127.0.0.1");
    assert!(r["userAgent"].as_str().unwrap().contains("aws-sdk-rust"));
    assert_eq!(r["recipientAccountId"], ACCOUNT_ID);
    assert_eq!(r["eventType"], "AwsApiCall");
    assert_eq!(r["eventCategory"], "Management");
    assert_eq!(r["managementEvent"], true);
    assert_eq!(r["eventID"], bobs[0]["EventId"]);

    // The unknown key: only the key is known, and the failure is recorded.
    let strangers = lookup_all(&server, Some(("AccessKeyId", "AKIANOSUCHKEYEXAMPLE")), 50);
    assert_eq!(strangers.len(), 1);
    let r = record(&strangers[0]);
    assert_eq!(r["errorCode"], "InvalidClientTokenId");
    assert_eq!(r["userIdentity"]["accessKeyId"], "AKIANOSUCHKEYEXAMPLE");

    // The admin's CreateAccessKey: responseElements name the new key, never its secret.
    let created = lookup_all(&server, Some(("EventName", "CreateAccessKey")), 50);
    let r = record(&created[0]);
    assert_eq!(r["readOnly"], false);
    assert_eq!(r["requestParameters"], json!({"userName": "bob"}));
    assert_eq!(
        r["responseElements"]["accessKey"]["accessKeyId"],
        key.access_key_id()
    );
    assert_eq!(r["responseElements"]["accessKey"]["status"], "Active");
    assert!(
        !created[0]["CloudTrailEvent"]
            .as_str()
            .unwrap()
            .contains(key.secret_access_key())
    );

    // EC2 codes carry CloudTrail's `Client.` prefix.
    let ec2 = signed_post(
        &server.endpoint,
        "ec2",
        (key.access_key_id(), key.secret_access_key()),
        b"Action=DescribeInstances&Version=2016-11-15",
    );
    assert!(ec2.status >= 400, "{}", ec2.body);
    let code = ec2
        .body
        .split("<Code>")
        .nth(1)
        .and_then(|rest| rest.split("</Code>").next())
        .unwrap();
    let r = record(&lookup_all(&server, Some(("EventSource", "ec2.amazonaws.com")), 50)[0]);
    assert_eq!(r["errorCode"], format!("Client.{code}"));
    assert_eq!(r["eventName"], "DescribeInstances");
}

#[tokio::test(flavor = "multi_thread")]
async fn an_assumed_role_call_carries_its_session_context() {
    let server = Server::start();
    let iam = server.iam().await;
    let role = iam
        .create_role()
        .role_name("deployer")
        .assume_role_policy_document(TRUST_ADMIN)
        .send()
        .await
        .unwrap();
    let role = role.role().unwrap();
    let assumed = server
        .sts()
        .await
        .assume_role()
        .role_arn(role.arn())
        .role_session_name("ci-run-7")
        .send()
        .await
        .unwrap();
    let creds = assumed.credentials().unwrap();
    let session = aws_sdk_sts::Client::new(
        &server
            .config(
                creds.access_key_id(),
                creds.secret_access_key(),
                Some(creds.session_token()),
            )
            .await,
    );
    session.get_caller_identity().send().await.unwrap();

    let events = lookup_all(&server, Some(("Username", "ci-run-7")), 50);
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!(events[0]["AccessKeyId"], creds.access_key_id());
    let r = record(&events[0]);
    assert_eq!(r["eventName"], "GetCallerIdentity");
    assert_eq!(r["eventSource"], "sts.amazonaws.com");
    let identity = &r["userIdentity"];
    assert_eq!(identity["type"], "AssumedRole");
    assert_eq!(
        identity["principalId"],
        format!("{}:ci-run-7", role.role_id())
    );
    assert_eq!(
        identity["arn"],
        format!("arn:aws:sts::{ACCOUNT_ID}:assumed-role/deployer/ci-run-7")
    );
    assert_eq!(identity["accessKeyId"], creds.access_key_id());
    assert_eq!(
        identity["sessionContext"]["sessionIssuer"],
        json!({"type": "Role", "principalId": role.role_id(), "arn": role.arn(),
               "accountId": ACCOUNT_ID, "userName": "deployer"})
    );
    assert_eq!(
        identity["sessionContext"]["attributes"]["mfaAuthenticated"],
        "false"
    );
    let created = identity["sessionContext"]["attributes"]["creationDate"]
        .as_str()
        .unwrap();
    assert!(created.ends_with('Z') && created.len() == 20, "{created}");

    // The AssumeRole itself: the new key and its expiry, not the secret or token.
    let assume = lookup_all(&server, Some(("EventName", "AssumeRole")), 50);
    let r = record(&assume[0]);
    assert_eq!(r["readOnly"], true);
    assert_eq!(
        r["requestParameters"],
        json!({"roleArn": role.arn(), "roleSessionName": "ci-run-7"})
    );
    assert_eq!(
        r["responseElements"]["credentials"]["accessKeyId"],
        creds.access_key_id()
    );
    assert_eq!(
        r["responseElements"]["assumedRoleUser"]["arn"],
        format!("arn:aws:sts::{ACCOUNT_ID}:assumed-role/deployer/ci-run-7")
    );
    let expiration = r["responseElements"]["credentials"]["expiration"]
        .as_str()
        .unwrap();
    assert!(
        expiration.ends_with(" AM") || expiration.ends_with(" PM"),
        "{expiration}"
    );
    assert_eq!(
        r["resources"],
        json!([{"ARN": role.arn(), "accountId": ACCOUNT_ID, "type": "AWS::IAM::Role"}])
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn lookup_pages_filters_time_ranges_and_refusals() {
    let server = Server::start();
    let iam = server.iam().await;
    for i in 0..7 {
        iam.create_role()
            .role_name(format!("r{i}"))
            .assume_role_policy_document(TRUST_ADMIN)
            .send()
            .await
            .unwrap();
    }
    // Paging: pages of 3 cover the 7 CreateRole events once each, newest first.
    let paged = lookup_all(&server, Some(("EventName", "CreateRole")), 3);
    let names: Vec<_> = paged
        .iter()
        .map(|e| {
            e["Resources"][0]["ResourceName"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    assert_eq!(names, ["r6", "r5", "r4", "r3", "r2", "r1", "r0"]);
    let times: Vec<i64> = paged
        .iter()
        .map(|e| e["EventTime"].as_i64().unwrap())
        .collect();
    assert!(times.windows(2).all(|w| w[0] >= w[1]), "{times:?}");

    // Attributes.
    let by_resource = lookup_all(&server, Some(("ResourceName", "r3")), 50);
    assert_eq!(by_resource.len(), 1);
    assert_eq!(by_resource[0]["EventName"], "CreateRole");
    let id = by_resource[0]["EventId"].as_str().unwrap();
    assert_eq!(lookup_all(&server, Some(("EventId", id)), 50).len(), 1);
    let writes = lookup_all(&server, Some(("ReadOnly", "false")), 50);
    assert_eq!(writes.len(), 7);
    assert!(writes.iter().all(|e| e["ReadOnly"] == "false"));
    assert_eq!(
        lookup_all(&server, Some(("ResourceType", "AWS::IAM::Role")), 50).len(),
        7
    );

    // Time range: a window in the past holds nothing; one around now holds everything.
    let now = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let (status, body) = lookup(
        &server,
        ADMIN,
        &json!({"StartTime": now - 7200, "EndTime": now - 3600}),
    );
    assert_eq!((status, body["Events"].as_array().unwrap().len()), (200, 0));
    let (_, body) = lookup(
        &server,
        ADMIN,
        &json!({"StartTime": now - 60, "EndTime": now + 60,
                "LookupAttributes": [{"AttributeKey": "EventName", "AttributeValue": "CreateRole"}]}),
    );
    assert_eq!(body["Events"].as_array().unwrap().len(), 7);

    // Refusals, in awsJson's error shape.
    let refused = |input: Value, code: &str| {
        let (status, body) = lookup(&server, ADMIN, &input);
        assert_eq!(status, 400, "{body}");
        assert_eq!(body["__type"], code, "{body}");
        assert!(body["message"].as_str().is_some_and(|m| !m.is_empty()));
    };
    refused(json!({"MaxResults": 51}), "InvalidMaxResultsException");
    refused(json!({"MaxResults": 0}), "InvalidMaxResultsException");
    refused(
        json!({"StartTime": now, "EndTime": now - 10}),
        "InvalidTimeRangeException",
    );
    refused(
        json!({"LookupAttributes": [
            {"AttributeKey": "EventName", "AttributeValue": "CreateRole"},
            {"AttributeKey": "Username", "AttributeValue": "admin"}]}),
        "InvalidLookupAttributesException",
    );
    refused(
        json!({"LookupAttributes": [{"AttributeKey": "Colour", "AttributeValue": "x"}]}),
        "InvalidLookupAttributesException",
    );
    refused(json!({"NextToken": "garbage"}), "InvalidNextTokenException");
    // A token is bound to the question that produced it.
    let (_, first) = lookup(
        &server,
        ADMIN,
        &json!({"MaxResults": 1, "LookupAttributes": [{"AttributeKey": "EventName", "AttributeValue": "CreateRole"}]}),
    );
    let token = first["NextToken"].as_str().unwrap();
    refused(
        json!({"MaxResults": 1, "NextToken": token}),
        "InvalidNextTokenException",
    );

    // Authorization: a user without cloudtrail:LookupEvents is refused, and that is recorded.
    let key = server.user_with_key("eve").await;
    let (status, body) = lookup(
        &server,
        (key.access_key_id(), key.secret_access_key(), None),
        &json!({}),
    );
    assert_eq!(status, 403, "{body}");
    assert_eq!(body["__type"], "AccessDeniedException");
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("cloudtrail:LookupEvents"),
        "{body}"
    );
    let eves = lookup_all(&server, Some(("Username", "eve")), 50);
    let r = record(&eves[0]);
    assert_eq!(r["eventSource"], "cloudtrail.amazonaws.com");
    assert_eq!(r["eventName"], "LookupEvents");
    assert_eq!(r["errorCode"], "AccessDeniedException");
    // A bad signature with a real key: recorded, and refused in awsJson's words.
    let bad = lookup_raw(&server, (ADMIN_KEY_ID, "wrong-secret", None), "{}");
    assert_eq!(bad.status, 403, "{}", bad.body);
    assert!(
        bad.body.contains("InvalidSignatureException"),
        "{}",
        bad.body
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn no_record_holds_a_secret_key_or_session_token() {
    let server = Server::start();
    let iam = server.iam().await;
    let key = server.user_with_key("carol").await;
    let role = iam
        .create_role()
        .role_name("worker")
        .assume_role_policy_document(TRUST_ADMIN)
        .send()
        .await
        .unwrap();
    let sts = server.sts().await;
    let assumed = sts
        .assume_role()
        .role_arn(role.role().unwrap().arn())
        .role_session_name("s1")
        .send()
        .await
        .unwrap();
    let session = sts.get_session_token().send().await.unwrap();
    let mut issued = vec![(
        key.access_key_id().to_owned(),
        key.secret_access_key().to_owned(),
        None,
    )];
    for creds in [
        assumed.credentials().unwrap(),
        session.credentials().unwrap(),
    ] {
        issued.push((
            creds.access_key_id().to_owned(),
            creds.secret_access_key().to_owned(),
            Some(creds.session_token().to_owned()),
        ));
    }
    // Use every credential set, so each secret and token was on the wire more than once.
    for (id, secret, token) in &issued {
        let client = aws_sdk_sts::Client::new(&server.config(id, secret, token.as_deref()).await);
        client.get_caller_identity().send().await.unwrap();
    }
    // A request carrying a secret in a parameter by mistake is recorded without it.
    let _ = signed_post(
        &server.endpoint,
        "iam",
        (ADMIN_KEY_ID, ADMIN_SECRET),
        format!(
            "Action=ChangePassword&Version=2010-05-08&OldPassword={}&NewPassword={}",
            issued[0].1.replace('/', "%2F").replace('+', "%2B"),
            issued[1].1.replace('/', "%2F").replace('+', "%2B")
        )
        .as_bytes(),
    );

    let exported = export(&server);
    // Every file the trail lives in: the index, its WAL, and the journal files.
    // Both journals and their indexes: authenticated calls' and unauthenticated ones'.
    let mut database = Vec::new();
    for index in [
        "audit.db",
        "audit.db-wal",
        "audit-unauthenticated.db",
        "audit-unauthenticated.db-wal",
    ] {
        database.extend(std::fs::read(server.data_dir.join(index)).unwrap_or_default());
    }
    let mut journals = 0;
    let audit = server.data_dir.join("audit");
    for dir in [audit.clone(), audit.join("unauthenticated")] {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries {
            let path = entry.unwrap().path();
            if path.extension().is_some_and(|e| e == "jsonl") {
                database.extend(std::fs::read(&path).unwrap());
                journals += 1;
            }
        }
    }
    assert!(journals > 0, "no journal file was scanned");
    let database = String::from_utf8_lossy(&database);
    // The scan can find things: the admin's key ID is in every file set scanned.
    assert!(database.contains(ADMIN_KEY_ID), "the scan read no records");
    let mut secrets = vec![ADMIN_SECRET.to_owned()];
    for (id, secret, token) in &issued {
        // The scan can find things: every issued key ID is in the trail.
        assert!(exported.contains(id.as_str()), "{id} not recorded");
        secrets.push(secret.clone());
        secrets.extend(token.clone());
    }
    assert_eq!(secrets.len(), 6);
    for secret in &secrets {
        assert!(
            !exported.contains(secret.as_str()),
            "a secret is in the export"
        );
        assert!(
            !database.contains(secret.as_str()),
            "a secret is in audit.db or the journal"
        );
    }
    let records: Vec<Value> = exported
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let change = records
        .iter()
        .find(|r| r["eventName"] == "ChangePassword")
        .expect("ChangePassword recorded");
    assert_eq!(
        change["requestParameters"],
        json!({"newPassword": "HIDDEN_DUE_TO_SECURITY_REASONS",
               "oldPassword": "HIDDEN_DUE_TO_SECURITY_REASONS"})
    );
    // Export: oldest first, one record per line, every call of this test.
    let times: Vec<&str> = records
        .iter()
        .map(|r| r["eventTime"].as_str().unwrap())
        .collect();
    assert!(times.windows(2).all(|w| w[0] <= w[1]));
    assert_eq!(records.len(), exported_records(&server).len());
    assert!(records.len() >= 9, "{}", records.len());
}

#[test]
fn aws_cli_lookup_events_reads_the_trail() {
    if Command::new("aws").arg("--version").output().is_err() {
        eprintln!("skipped: the AWS CLI (`aws`) is not installed; scripts/test installs it");
        return;
    }
    let server = Server::start();
    let aws = |args: &[&str]| {
        Command::new("aws")
            .args(args)
            .args(["--endpoint-url", &server.endpoint, "--output", "json"])
            .env("AWS_ACCESS_KEY_ID", ADMIN_KEY_ID)
            .env("AWS_SECRET_ACCESS_KEY", ADMIN_SECRET)
            .env("AWS_DEFAULT_REGION", e2e::REGION)
            .env("AWS_CONFIG_FILE", "/dev/null")
            .env("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
            .output()
            .unwrap()
    };
    for name in ["u1", "u2", "u3"] {
        assert!(
            aws(&["iam", "create-user", "--user-name", name])
                .status
                .success()
        );
    }
    // The CLI follows NextToken itself: pages of 1 still return all three.
    let out = aws(&[
        "cloudtrail",
        "lookup-events",
        "--lookup-attributes",
        "AttributeKey=EventName,AttributeValue=CreateUser",
        "--page-size",
        "1",
    ]);
    assert!(out.status.success(), "{out:?}");
    let body: Value = serde_json::from_slice(&out.stdout).unwrap();
    let users: Vec<_> = body["Events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            e["Resources"][0]["ResourceName"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    assert_eq!(users, ["u3", "u2", "u1"]);
    // EventTime is epoch seconds on the wire (CLI v1 prints timestamps as received).
    assert!(body["Events"][0]["EventTime"].as_i64().is_some(), "{body}");
    let out = aws(&["cloudtrail", "lookup-events", "--max-results", "51"]);
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("InvalidMaxResultsException"),
        "{out:?}"
    );
}
