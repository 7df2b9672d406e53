//! The seeds' closing scenario, end to end: start broad, record what the role really does,
//! generate a least-privilege policy from that activity, and run the same workload under a
//! role that has only the generated policy.
//!
//! The workload runs under `roleplane run` on two instances (the role's activity is every
//! session's), through the AWS CLI; generation goes through `aws accessanalyzer` and through
//! `roleplane policy generate`, which must agree.

use std::process::{Command, Output};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use e2e::{ACCOUNT_ID, ADMIN_KEY_ID, ADMIN_SECRET, REGION, Server, binary};
use serde_json::{Value, json};

/// Broad, as roles start out: everything in IAM and STS, every EC2 read.
const BROAD: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["iam:*","sts:*","ec2:Describe*"],"Resource":"*"}]}"#;
const TRUST_NOBODY: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;

/// What the first instance does: who am I, and a look at the role it manages.
const WORKLOAD_A: &str = "aws sts get-caller-identity && aws iam get-role --role-name target";
/// What the second instance does; its attempt to terminate an instance is denied even to the
/// broad role (no `ec2:TerminateInstances`), and the workload shrugs that off.
const WORKLOAD_B: &str = "aws iam list-roles \
     && id=$(aws ec2 describe-instances --query 'Reservations[0].Instances[0].InstanceId' --output text) \
     && aws iam list-role-policies --role-name target \
     && (aws ec2 terminate-instances --instance-ids \"$id\" || true)";

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn arn(kind: &str, name: &str) -> String {
    format!("arn:aws:iam::{ACCOUNT_ID}:{kind}/{name}")
}

/// `sh -c script` as an instance with `profile`; its output.
fn run_as(server: &Server, profile: &str, script: &str) -> Output {
    Command::new(binary())
        .args(["run", "--instance-profile", profile, "--data-dir"])
        .arg(&server.data_dir)
        .args(["--", "sh", "-c", script])
        .env_remove("AWS_ENDPOINT_URL")
        .output()
        .expect("roleplane run")
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

/// `aws accessanalyzer …` as the admin; the parsed JSON output.
fn analyzer(server: &Server, args: &[&str]) -> Value {
    let out = Command::new("aws")
        .arg("accessanalyzer")
        .args(args)
        .args(["--output", "json", "--endpoint-url", &server.endpoint])
        .args(["--region", REGION])
        .env("AWS_ACCESS_KEY_ID", ADMIN_KEY_ID)
        .env("AWS_SECRET_ACCESS_KEY", ADMIN_SECRET)
        .env_remove("AWS_SESSION_TOKEN")
        .env_remove("AWS_PROFILE")
        .env("AWS_CONFIG_FILE", "/dev/null")
        .env("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
        .output()
        .expect("run aws");
    let stdout = succeeds(out);
    serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{e}: {stdout}"))
}

/// GetGeneratedPolicy once the job has ended.
fn generated(server: &Server, job_id: &str, extra: &[&str]) -> Value {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let mut args = vec!["get-generated-policy", "--job-id", job_id];
        args.extend_from_slice(extra);
        let out = analyzer(server, &args);
        if out["jobDetails"]["status"] != "IN_PROGRESS" {
            return out;
        }
        assert!(Instant::now() < deadline, "job still running: {out}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// The policy documents of a GetGeneratedPolicy output.
fn documents(output: &Value) -> Vec<Value> {
    output["generatedPolicyResult"]["generatedPolicies"]
        .as_array()
        .unwrap_or_else(|| panic!("no generatedPolicies: {output}"))
        .iter()
        .map(|p| serde_json::from_str(p["policy"].as_str().expect("policy text")).expect("JSON"))
        .collect()
}

async fn setup(server: &Server) {
    server.instance_role("broad", "broad-profile", BROAD).await;
    let iam = server.iam().await;
    for name in ["target", "secret"] {
        iam.create_role()
            .role_name(name)
            .assume_role_policy_document(TRUST_NOBODY)
            .send()
            .await
            .expect("CreateRole");
    }
}

#[test]
fn the_generated_policy_is_exactly_what_the_workload_needs() {
    if !e2e::installed("aws") {
        eprintln!("skipped: the AWS CLI is not installed");
        return;
    }
    let server = Server::start();
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    rt.block_on(setup(&server));
    let since = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock")
        .as_secs()
        - 1;

    // Start broad: the workload runs on two instances of the broad role.
    succeeds(run_as(&server, "broad-profile", WORKLOAD_A));
    let out = run_as(&server, "broad-profile", WORKLOAD_B);
    assert!(
        text(&out.stderr).contains("UnauthorizedOperation"),
        "the broad role may not terminate: {}",
        text(&out.stderr)
    );
    succeeds(out);

    // Generate through Access Analyzer.
    let start_time = format!("{since}");
    let trail = format!(
        r#"{{"trails":[{{"cloudTrailArn":"arn:aws:cloudtrail:{REGION}:{ACCOUNT_ID}:trail/roleplane","allRegions":true}}],"accessRole":"{}","startTime":{start_time}}}"#,
        arn("role", "service-role/AccessAnalyzerMonitorServiceRole")
    );
    let principal = arn("role", "broad");
    let started = analyzer(
        &server,
        &[
            "start-policy-generation",
            "--policy-generation-details",
            &format!("principalArn={principal}"),
            "--cloud-trail-details",
            &trail,
        ],
    );
    let job_id = started["jobId"].as_str().expect("jobId").to_owned();
    assert_eq!(job_id.len(), 36, "a UUID: {job_id}");
    let output = generated(&server, &job_id, &[]);
    assert_eq!(output["jobDetails"]["status"], "SUCCEEDED", "{output}");
    assert_eq!(
        output["generatedPolicyResult"]["properties"]["principalArn"],
        principal
    );
    assert_eq!(
        output["generatedPolicyResult"]["properties"]["cloudTrailProperties"]["trailProperties"],
        json!([{"cloudTrailArn": format!("arn:aws:cloudtrail:{REGION}:{ACCOUNT_ID}:trail/roleplane"),
                "regions": [], "allRegions": true}])
    );
    let policies = documents(&output);
    assert_eq!(policies.len(), 1, "{policies:?}");
    let policy = &policies[0];
    // Exactly the calls made, on exactly the resources touched; the denied terminate is not
    // there, nor anything `iam:*` allowed but the workload never did.
    assert_eq!(
        policy,
        &json!({"Version": "2012-10-17", "Statement": [
            {"Sid": "SupportedServiceSid0", "Effect": "Allow",
             "Action": ["ec2:DescribeInstances", "iam:ListRoles", "sts:GetCallerIdentity"],
             "Resource": "*"},
            {"Sid": "SupportedServiceSid1", "Effect": "Allow",
             "Action": ["iam:GetRole", "iam:ListRolePolicies"],
             "Resource": [arn("role", "target")]},
        ]})
    );

    // With placeholders, AWS-style templates stand in for the ARNs.
    let templated = documents(&generated(
        &server,
        &job_id,
        &["--include-resource-placeholders"],
    ));
    assert_eq!(
        templated[0]["Statement"][1]["Resource"],
        json!(["arn:aws:iam::${Account}:role/${RoleNameWithPath}"])
    );

    // The job is listed, and the command line generates the same policy from the same log.
    let listed = analyzer(
        &server,
        &["list-policy-generations", "--principal-arn", &principal],
    );
    let jobs = listed["policyGenerations"].as_array().expect("list");
    assert!(
        jobs.iter()
            .any(|j| j["jobId"] == job_id.as_str() && j["status"] == "SUCCEEDED"),
        "{listed}"
    );
    let out = Command::new(binary())
        .args(["policy", "generate", "--principal", &principal, "--since"])
        .arg(since.to_string())
        .arg("--data-dir")
        .arg(&server.data_dir)
        .output()
        .expect("roleplane policy generate");
    let cli: Value = serde_json::from_str(&succeeds(out)).expect("JSON");
    assert_eq!(documents(&cli), policies);

    // Re-run under a new role that has only the generated policy.
    rt.block_on(server.instance_role("narrow", "narrow-profile", &policy.to_string()));
    succeeds(run_as(&server, "narrow-profile", WORKLOAD_A));
    succeeds(run_as(&server, "narrow-profile", WORKLOAD_B));
    // Outside the set: an action never used, and a used action on a resource never touched.
    for (call, action) in [
        ("aws iam list-users", "iam:ListUsers"),
        ("aws iam get-role --role-name secret", "iam:GetRole"),
    ] {
        let out = run_as(&server, "narrow-profile", call);
        let stderr = text(&out.stderr);
        assert!(!out.status.success(), "{call} was allowed");
        assert!(
            stderr.contains("AccessDenied") && stderr.contains(action),
            "{call}: {stderr}"
        );
    }
}
