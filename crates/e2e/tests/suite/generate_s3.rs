//! S3 activity in the audit trail and in generated policies, through the AWS CLI: an instance
//! role lists a bucket and puts and gets objects under one prefix; `roleplane policy generate`
//! and Access Analyzer turn that into `s3:ListBucket` on the bucket and `s3:GetObject` /
//! `s3:PutObject` on the prefix; LookupEvents shows the bucket's creation but none of the
//! object-level data events, which `roleplane audit export` carries. And what S3 calls never
//! leave in the trail: object bytes, a presigned URL's signature, a session token.

use std::path::Path;
use std::process::{Command, Output};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use e2e::{ACCOUNT_ID, ADMIN_KEY_ID, ADMIN_SECRET, REGION, Server, binary};
use serde_json::{Value, json};

const BUCKET: &str = "app-data";

/// Broad, as roles start out: all of S3.
const S3_BROAD: &str =
    r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]}"#;

/// The workload: list the bucket, write two objects under `app/`, read them back.
const WORKLOAD: &str = "set -e
f=$(mktemp)
printf 'payload' > \"$f\"
aws s3api list-objects-v2 --bucket app-data > /dev/null
aws s3api put-object --bucket app-data --key app/one.txt --body \"$f\" > /dev/null
aws s3api put-object --bucket app-data --key app/two.txt --body \"$f\" > /dev/null
aws s3api get-object --bucket app-data --key app/one.txt \"$f.1\" > /dev/null
aws s3api get-object --bucket app-data --key app/two.txt \"$f.2\" > /dev/null
rm -f \"$f\" \"$f.1\" \"$f.2\"";

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn succeeds(out: Output) -> String {
    assert!(
        out.status.success(),
        "status {:?}\n{}\n{}",
        out.status,
        text(&out.stdout),
        text(&out.stderr)
    );
    text(&out.stdout)
}

fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock")
        .as_secs()
}

/// `aws …` against the server signing with `key` (and `token`), with `config` as its config
/// file; JSON output.
fn aws_with(
    server: &Server,
    key: (&str, &str),
    token: Option<&str>,
    config: &Path,
    args: &[&str],
) -> Output {
    let mut command = Command::new("aws");
    command
        .args(args)
        .args(["--output", "json", "--endpoint-url", &server.endpoint])
        .args(["--region", REGION])
        .env("AWS_ACCESS_KEY_ID", key.0)
        .env("AWS_SECRET_ACCESS_KEY", key.1)
        .env_remove("AWS_SESSION_TOKEN")
        .env_remove("AWS_PROFILE")
        .env("AWS_CONFIG_FILE", config)
        .env("AWS_SHARED_CREDENTIALS_FILE", "/dev/null");
    if let Some(token) = token {
        command.env("AWS_SESSION_TOKEN", token);
    }
    command.output().expect("run aws")
}

/// `aws …` as the admin; the parsed JSON output (`null` when there is none).
fn admin(server: &Server, args: &[&str]) -> Value {
    let stdout = succeeds(aws_with(
        server,
        (ADMIN_KEY_ID, ADMIN_SECRET),
        None,
        Path::new("/dev/null"),
        args,
    ));
    if stdout.trim().is_empty() {
        return Value::Null;
    }
    serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{e}: {stdout}"))
}

/// `sh -c script` as an instance with `profile`.
fn run_as(server: &Server, profile: &str, script: &str) -> Output {
    Command::new(binary())
        .args(["run", "--instance-profile", profile, "--data-dir"])
        .arg(&server.data_dir)
        .args(["--", "sh", "-c", script])
        .env_remove("AWS_ENDPOINT_URL")
        .env("AWS_CONFIG_FILE", "/dev/null")
        .output()
        .expect("roleplane run")
}

/// Every record of the trail since `since`, as `roleplane audit export` prints them.
fn export(server: &Server, since: u64) -> (String, Vec<Value>) {
    let out = Command::new(binary())
        .args([
            "audit",
            "export",
            "--since",
            &since.to_string(),
            "--data-dir",
        ])
        .arg(&server.data_dir)
        .output()
        .expect("roleplane audit export");
    let lines = succeeds(out);
    let records = lines
        .lines()
        .map(|line| serde_json::from_str(line).expect("a JSON record"))
        .collect();
    (lines, records)
}

/// The policy documents of a GetGeneratedPolicy-shaped output.
fn documents(output: &Value) -> Vec<Value> {
    output["generatedPolicyResult"]["generatedPolicies"]
        .as_array()
        .unwrap_or_else(|| panic!("no generatedPolicies: {output}"))
        .iter()
        .map(|p| serde_json::from_str(p["policy"].as_str().expect("policy text")).expect("JSON"))
        .collect()
}

/// Access Analyzer's generation for `principal` since `since`, once the job has ended.
fn analyzer_generation(server: &Server, principal: &str, since: u64) -> Value {
    let trail = format!(
        r#"{{"trails":[{{"cloudTrailArn":"arn:aws:cloudtrail:{REGION}:{ACCOUNT_ID}:trail/t"}}],"accessRole":"arn:aws:iam::{ACCOUNT_ID}:role/service-role/AccessAnalyzer","startTime":{since}}}"#
    );
    let started = admin(
        server,
        &[
            "accessanalyzer",
            "start-policy-generation",
            "--policy-generation-details",
            &format!("principalArn={principal}"),
            "--cloud-trail-details",
            &trail,
        ],
    );
    let job_id = started["jobId"].as_str().expect("jobId").to_owned();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let out = admin(
            server,
            &[
                "accessanalyzer",
                "get-generated-policy",
                "--job-id",
                &job_id,
            ],
        );
        if out["jobDetails"]["status"] != "IN_PROGRESS" {
            return out;
        }
        assert!(Instant::now() < deadline, "job still running: {out}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn role_arn(name: &str) -> String {
    format!("arn:aws:iam::{ACCOUNT_ID}:role/{name}")
}

#[test]
fn s3_activity_generates_the_bucket_listing_and_the_object_prefix() {
    if !e2e::installed("aws") {
        eprintln!("skipped: the AWS CLI is not installed");
        return;
    }
    let server = Server::start();
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    rt.block_on(server.instance_role("worker", "worker-profile", S3_BROAD));
    let since = now_secs() - 1;
    admin(&server, &["s3api", "create-bucket", "--bucket", BUCKET]);

    succeeds(run_as(&server, "worker-profile", WORKLOAD));

    // The command line: exactly what the workload did, the keys grouped under their folder.
    let principal = role_arn("worker");
    let out = Command::new(binary())
        .args(["policy", "generate", "--principal", &principal, "--since"])
        .arg(since.to_string())
        .arg("--data-dir")
        .arg(&server.data_dir)
        .output()
        .expect("roleplane policy generate");
    let stderr = text(&out.stderr);
    let cli: Value = serde_json::from_str(&succeeds(out)).expect("JSON");
    let policies = documents(&cli);
    assert_eq!(
        policies,
        [json!({"Version": "2012-10-17", "Statement": [
            {"Sid": "SupportedServiceSid0", "Effect": "Allow",
             "Action": ["s3:GetObject", "s3:PutObject"],
             "Resource": [format!("arn:aws:s3:::{BUCKET}/app/*")]},
            {"Sid": "SupportedServiceSid1", "Effect": "Allow",
             "Action": ["s3:ListBucket"],
             "Resource": [format!("arn:aws:s3:::{BUCKET}")]},
        ]})]
    );
    // It says where it went beyond AWS, which reads management events only.
    let note = cli["generatedPolicyResult"]["properties"]["roleplaneNote"]
        .as_str()
        .unwrap_or_else(|| panic!("no note: {cli}"));
    assert!(
        note.contains("5 S3 data event calls") && note.contains("management events only"),
        "{note}"
    );
    assert!(stderr.contains("5 S3 data events"), "{stderr}");

    // Access Analyzer's API generates the same policy from the same trail.
    let generated = analyzer_generation(&server, &principal, since);
    assert_eq!(
        generated["jobDetails"]["status"], "SUCCEEDED",
        "{generated}"
    );
    assert_eq!(documents(&generated), policies);

    // LookupEvents, as on AWS, returns management events only.
    let looked_up = admin(
        &server,
        &[
            "cloudtrail",
            "lookup-events",
            "--lookup-attributes",
            "AttributeKey=EventSource,AttributeValue=s3.amazonaws.com",
        ],
    );
    let names: Vec<&str> = looked_up["Events"]
        .as_array()
        .expect("Events")
        .iter()
        .map(|e| e["EventName"].as_str().expect("EventName"))
        .collect();
    assert_eq!(names, ["CreateBucket"], "{looked_up}");

    // The export carries both kinds.
    let (_, records) = export(&server, since);
    let s3: Vec<&Value> = records
        .iter()
        .filter(|r| r["eventSource"] == "s3.amazonaws.com")
        .collect();
    let category = |name: &str| -> Vec<(String, bool)> {
        s3.iter()
            .filter(|r| r["eventName"] == name)
            .map(|r| {
                (
                    r["eventCategory"].as_str().unwrap_or_default().to_owned(),
                    r["managementEvent"].as_bool().unwrap_or(true),
                )
            })
            .collect()
    };
    assert_eq!(category("CreateBucket"), [("Management".to_owned(), true)]);
    assert_eq!(
        category("PutObject"),
        [("Data".to_owned(), false), ("Data".to_owned(), false)]
    );
    let put = s3.iter().find(|r| r["eventName"] == "PutObject").unwrap();
    assert_eq!(
        put["userIdentity"]["sessionContext"]["sessionIssuer"]["arn"],
        principal
    );
    assert_eq!(
        put["requestParameters"],
        json!({"bucketName": BUCKET, "key": "app/one.txt"})
    );

    // Under a role with only the generated policy, the workload still runs; other keys and
    // other actions are denied.
    rt.block_on(server.instance_role("narrow", "narrow-profile", &policies[0].to_string()));
    succeeds(run_as(&server, "narrow-profile", WORKLOAD));
    for call in [
        "f=$(mktemp) && aws s3api put-object --bucket app-data --key other/x.txt --body \"$f\"",
        "aws s3api delete-object --bucket app-data --key app/one.txt",
    ] {
        let out = run_as(&server, "narrow-profile", call);
        assert!(!out.status.success(), "{call} was allowed");
        assert!(
            text(&out.stderr).contains("AccessDenied"),
            "{call}: {}",
            text(&out.stderr)
        );
    }
}

/// Percent-decoding of a query value.
fn decoded(value: &str) -> String {
    let bytes = value.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match (bytes[i], bytes.get(i + 1..i + 3)) {
            (b'%', Some(hex)) => {
                let hex = std::str::from_utf8(hex).expect("ascii");
                out.push(u8::from_str_radix(hex, 16).expect("hex"));
                i += 3;
            }
            (byte, _) => {
                out.push(byte);
                i += 1;
            }
        }
    }
    String::from_utf8(out).expect("utf-8")
}

/// `GET url` (a `http://host:port/…` URL) without signing anything.
fn get(url: &str) -> e2e::raw::RawResponse {
    let rest = url.strip_prefix("http://").expect("an http URL");
    let (host, target) = rest.split_at(rest.find('/').expect("a path"));
    let request = format!("GET {target} HTTP/1.1\r\nhost: {host}\r\nconnection: close\r\n\r\n");
    e2e::raw::send(host, request.as_bytes())
}

#[test]
fn s3_records_hold_no_object_bytes_signatures_or_session_tokens() {
    if !e2e::installed("aws") {
        eprintln!("skipped: the AWS CLI is not installed");
        return;
    }
    let server = Server::start();
    let since = now_secs() - 1;
    let trust = format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{{"AWS":"arn:aws:iam::{ACCOUNT_ID}:root"}},"Action":"sts:AssumeRole"}}]}}"#
    );
    admin(
        &server,
        &[
            "iam",
            "create-role",
            "--role-name",
            "vault-user",
            "--assume-role-policy-document",
            &trust,
        ],
    );
    admin(
        &server,
        &[
            "iam",
            "put-role-policy",
            "--role-name",
            "vault-user",
            "--policy-name",
            "s3",
            "--policy-document",
            S3_BROAD,
        ],
    );
    admin(&server, &["s3api", "create-bucket", "--bucket", "vault"]);
    let session = admin(
        &server,
        &[
            "sts",
            "assume-role",
            "--role-arn",
            &role_arn("vault-user"),
            "--role-session-name",
            "auditor",
        ],
    );
    let credentials = &session["Credentials"];
    let field = |name: &str| credentials[name].as_str().expect(name).to_owned();
    let (key_id, secret, token) = (
        field("AccessKeyId"),
        field("SecretAccessKey"),
        field("SessionToken"),
    );
    let dir = tempfile::tempdir().expect("temp dir");
    // Presigned URLs signed with SigV4, as AWS's CLI v2 does by default.
    let config = dir.path().join("config");
    std::fs::write(&config, "[default]\ns3 =\n    signature_version = s3v4\n").expect("config");
    let body_file = dir.path().join("body");
    const CONTENTS: &str = "RECOGNISABLE-OBJECT-CONTENTS-7d2e1b";
    std::fs::write(&body_file, CONTENTS).expect("body");
    let session_aws = |args: &[&str]| {
        succeeds(aws_with(
            &server,
            (&key_id, &secret),
            Some(&token),
            &config,
            args,
        ))
    };
    session_aws(&[
        "s3api",
        "put-object",
        "--bucket",
        "vault",
        "--key",
        "notes/secret.txt",
        "--body",
        body_file.to_str().expect("a UTF-8 path"),
    ]);
    let url = session_aws(&["s3", "presign", "s3://vault/notes/secret.txt"])
        .trim()
        .to_owned();
    let query = |name: &str| {
        url.split(['?', '&'])
            .find_map(|pair| pair.strip_prefix(&format!("{name}=")))
            .unwrap_or_else(|| panic!("{name} in {url}"))
            .to_owned()
    };
    let (signature, url_token) = (query("X-Amz-Signature"), query("X-Amz-Security-Token"));
    assert_eq!(decoded(&url_token), token);
    let fetched = get(&url);
    assert_eq!((fetched.status, fetched.body.as_str()), (200, CONTENTS));
    // Unsigned, the same object is the anonymous principal's, and denied.
    let anonymous = get(&url[..url.find('?').expect("a query")]);
    assert_eq!(anonymous.status, 403, "{}", anonymous.body);

    let (lines, records) = export(&server, since);
    // Both journals: authenticated calls' in `audit/`, unauthenticated ones' in
    // `audit/unauthenticated/`.
    let audit = server.data_dir.join("audit");
    let journal: Vec<u8> = [audit.clone(), audit.join("unauthenticated")]
        .iter()
        .flat_map(|dir| std::fs::read_dir(dir).expect("a journal directory"))
        .map(|entry| entry.expect("an entry").path())
        .filter(|path| path.is_file())
        .flat_map(|path| std::fs::read(path).expect("a segment"))
        .collect();
    let journal = String::from_utf8_lossy(&journal);
    for (what, secret) in [
        ("the object's contents", CONTENTS.to_owned()),
        ("the presigned signature", signature),
        ("the session token", token.clone()),
        ("the session token, URL-encoded", url_token),
        ("the session's secret key", secret.clone()),
    ] {
        assert!(!lines.contains(&secret), "{what} reached the export");
        assert!(!journal.contains(&secret), "{what} reached the journal");
    }
    // The calls themselves are there: the put, the presigned read as the session, and the
    // anonymous read for the bucket's owner.
    let s3: Vec<&Value> = records
        .iter()
        .filter(|r| r["eventSource"] == "s3.amazonaws.com")
        .collect();
    let reads: Vec<&Value> = s3
        .iter()
        .copied()
        .filter(|r| r["eventName"] == "GetObject")
        .collect();
    assert_eq!(reads.len(), 2, "{reads:?}");
    assert_eq!(reads[0]["userIdentity"]["accessKeyId"], key_id.as_str());
    assert_eq!(
        reads[1]["userIdentity"],
        json!({"type": "AWSAccount", "principalId": "", "accountId": "ANONYMOUS_PRINCIPAL"})
    );
    assert_eq!(reads[1]["recipientAccountId"], ACCOUNT_ID);
    assert_eq!(reads[1]["errorCode"], "AccessDenied");
    assert!(s3.iter().any(|r| r["eventName"] == "PutObject"));
}
