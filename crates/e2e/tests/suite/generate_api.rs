//! Access Analyzer policy generation through the AWS CLI: a user's activity, idempotent starts,
//! listing with paging, a principal of another account, model validation, unknown jobs, and
//! authorization.

use std::process::{Command, Output};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use e2e::{ACCOUNT_ID, ADMIN_KEY_ID, ADMIN_SECRET, REGION, Server};
use serde_json::{Value, json};

fn has_cli() -> bool {
    Command::new("aws").arg("--version").output().is_ok()
}

/// `aws SERVICE …` with the given key pair.
fn aws(server: &Server, key: (&str, &str), args: &[&str]) -> Output {
    Command::new("aws")
        .args(args)
        .args(["--output", "json", "--endpoint-url", &server.endpoint])
        .args(["--region", REGION])
        .env("AWS_ACCESS_KEY_ID", key.0)
        .env("AWS_SECRET_ACCESS_KEY", key.1)
        .env_remove("AWS_SESSION_TOKEN")
        .env_remove("AWS_PROFILE")
        .env("AWS_CONFIG_FILE", "/dev/null")
        .env("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
        .output()
        .expect("run aws")
}

fn json_of(out: Output) -> Value {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    if out.stdout.iter().all(u8::is_ascii_whitespace) {
        return Value::Null;
    }
    serde_json::from_slice(&out.stdout).expect("JSON output")
}

fn admin(server: &Server, args: &[&str]) -> Value {
    json_of(aws(server, (ADMIN_KEY_ID, ADMIN_SECRET), args))
}

fn stderr_of(out: &Output) -> String {
    assert!(!out.status.success(), "expected a failure");
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn trail(since: u64) -> String {
    format!(
        r#"{{"trails":[{{"cloudTrailArn":"arn:aws:cloudtrail:{REGION}:{ACCOUNT_ID}:trail/t"}}],"accessRole":"arn:aws:iam::{ACCOUNT_ID}:role/service-role/AccessAnalyzer","startTime":{since}}}"#
    )
}

fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock")
        .as_secs()
}

fn start(server: &Server, principal: &str, since: u64, extra: &[&str]) -> String {
    let mut args = vec![
        "accessanalyzer",
        "start-policy-generation",
        "--cloud-trail-details",
    ];
    let trail = trail(since);
    let details = format!("principalArn={principal}");
    args.extend_from_slice(&[&trail, "--policy-generation-details", &details]);
    args.extend_from_slice(extra);
    admin(server, &args)["jobId"]
        .as_str()
        .expect("jobId")
        .to_owned()
}

fn finished(server: &Server, job_id: &str) -> Value {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let out = admin(
            server,
            &["accessanalyzer", "get-generated-policy", "--job-id", job_id],
        );
        if out["jobDetails"]["status"] != "IN_PROGRESS" {
            return out;
        }
        assert!(Instant::now() < deadline, "still running: {out}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn a_users_activity_and_the_job_operations() {
    if !has_cli() {
        eprintln!("skipped: the AWS CLI (`aws`) is not installed");
        return;
    }
    let server = Server::start();
    let since = now_secs() - 1;
    // A user who lists roles, tries to list users (denied), and reads itself.
    admin(&server, &["iam", "create-user", "--user-name", "dev"]);
    admin(
        &server,
        &[
            "iam",
            "put-user-policy",
            "--user-name",
            "dev",
            "--policy-name",
            "p",
            "--policy-document",
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["iam:ListRoles","iam:GetUser","iam:GetRole"],"Resource":"*"}]}"#,
        ],
    );
    let key = admin(&server, &["iam", "create-access-key", "--user-name", "dev"]);
    let dev = (
        key["AccessKey"]["AccessKeyId"].as_str().expect("key id"),
        key["AccessKey"]["SecretAccessKey"]
            .as_str()
            .expect("secret"),
    );
    // A role with a path: the record names it, the store knows its ARN.
    admin(
        &server,
        &[
            "iam",
            "create-role",
            "--role-name",
            "pathed",
            "--path",
            "/team/",
            "--assume-role-policy-document",
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#,
        ],
    );
    json_of(aws(
        &server,
        dev,
        &["iam", "get-role", "--role-name", "pathed"],
    ));
    json_of(aws(&server, dev, &["iam", "list-roles"]));
    json_of(aws(
        &server,
        dev,
        &["iam", "get-user", "--user-name", "dev"],
    ));
    assert!(stderr_of(&aws(&server, dev, &["iam", "list-users"])).contains("AccessDenied"));

    let user = format!("arn:aws:iam::{ACCOUNT_ID}:user/dev");
    let job = start(&server, &user, since, &["--client-token", "once"]);
    let output = finished(&server, &job);
    assert_eq!(output["jobDetails"]["status"], "SUCCEEDED", "{output}");
    assert!(output["jobDetails"]["completedOn"].is_string(), "{output}");
    let policies = output["generatedPolicyResult"]["generatedPolicies"]
        .as_array()
        .expect("policies");
    let policy: Value =
        serde_json::from_str(policies[0]["policy"].as_str().expect("text")).expect("JSON");
    assert_eq!(
        policy["Statement"],
        json!([
            {"Sid": "SupportedServiceSid0", "Effect": "Allow", "Action": ["iam:GetRole"],
             "Resource": [format!("arn:aws:iam::{ACCOUNT_ID}:role/team/pathed")]},
            {"Sid": "SupportedServiceSid1", "Effect": "Allow", "Action": ["iam:GetUser"],
             "Resource": [user]},
            {"Sid": "SupportedServiceSid2", "Effect": "Allow", "Action": ["iam:ListRoles"],
             "Resource": "*"},
        ])
    );

    // The same client token is the same job; another is a new one.
    assert_eq!(
        start(&server, &user, since, &["--client-token", "once"]),
        job
    );
    let second = start(&server, &user, since, &["--client-token", "twice"]);
    assert_ne!(second, job);
    finished(&server, &second);

    // Listing, one per page.
    let page = admin(
        &server,
        &[
            "accessanalyzer",
            "list-policy-generations",
            "--principal-arn",
            &user,
            "--max-results",
            "1",
            "--no-paginate",
        ],
    );
    let entries = page["policyGenerations"].as_array().expect("list");
    assert_eq!(entries.len(), 1, "{page}");
    assert_eq!(entries[0]["jobId"], job.as_str());
    assert_eq!(entries[0]["principalArn"], user.as_str());
    let token = page["nextToken"].as_str().expect("nextToken");
    let rest = admin(
        &server,
        &[
            "accessanalyzer",
            "list-policy-generations",
            "--principal-arn",
            &user,
            "--max-results",
            "1",
            "--no-paginate",
            "--next-token",
            token,
        ],
    );
    let entries = rest["policyGenerations"].as_array().expect("list");
    assert_eq!(entries.len(), 1, "{rest}");
    assert_eq!(entries[0]["jobId"], second.as_str());
    assert!(rest.get("nextToken").is_none(), "{rest}");

    // Canceling a finished job leaves it as it was.
    admin(
        &server,
        &[
            "accessanalyzer",
            "cancel-policy-generation",
            "--job-id",
            &job,
        ],
    );
    assert_eq!(finished(&server, &job)["jobDetails"]["status"], "SUCCEEDED");

    // A principal of another account: the job fails, as AWS's does without access.
    let foreign = start(&server, "arn:aws:iam::210987654321:role/x", since, &[]);
    let failed = finished(&server, &foreign);
    assert_eq!(failed["jobDetails"]["status"], "FAILED", "{failed}");
    assert_eq!(
        failed["jobDetails"]["jobError"]["code"],
        "AUTHORIZATION_ERROR"
    );
    assert!(
        failed["generatedPolicyResult"]
            .get("generatedPolicies")
            .is_none()
    );

    // The dev user may not generate policies.
    let out = aws(&server, dev, &["accessanalyzer", "list-policy-generations"]);
    let stderr = stderr_of(&out);
    assert!(
        stderr.contains("(AccessDeniedException)")
            && stderr.contains("access-analyzer:ListPolicyGenerations"),
        "{stderr}"
    );
}

#[test]
fn bad_requests_are_refused_as_the_model_says() {
    if !has_cli() {
        eprintln!("skipped: the AWS CLI (`aws`) is not installed");
        return;
    }
    let server = Server::start();
    let admin_key = (ADMIN_KEY_ID, ADMIN_SECRET);
    let out = aws(
        &server,
        admin_key,
        &[
            "accessanalyzer",
            "start-policy-generation",
            "--policy-generation-details",
            "principalArn=arn:aws:iam::123456789012:group/devs",
            "--cloud-trail-details",
            &trail(now_secs()),
        ],
    );
    let stderr = stderr_of(&out);
    assert!(
        stderr.contains("(ValidationException)") && stderr.contains("principalArn"),
        "{stderr}"
    );
    let ninety_one_days_ago = now_secs() - 91 * 86_400;
    let out = aws(
        &server,
        admin_key,
        &[
            "accessanalyzer",
            "start-policy-generation",
            "--policy-generation-details",
            "principalArn=arn:aws:iam::123456789012:role/r",
            "--cloud-trail-details",
            &trail(ninety_one_days_ago),
        ],
    );
    assert!(stderr_of(&out).contains("90 days"), "{}", stderr_of(&out));
    let out = aws(
        &server,
        admin_key,
        &[
            "accessanalyzer",
            "get-generated-policy",
            "--job-id",
            "00000000-0000-4000-8000-000000000000",
        ],
    );
    assert!(
        stderr_of(&out).contains("(ResourceNotFoundException)"),
        "{}",
        stderr_of(&out)
    );
}

#[test]
fn launching_with_a_profile_generates_pass_role_on_its_role() {
    if !has_cli() {
        eprintln!("skipped: the AWS CLI (`aws`) is not installed");
        return;
    }
    let server = Server::start();
    let since = now_secs() - 1;
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    // The admin puts a role in a profile (AddRoleToInstanceProfile passes it to EC2), then
    // launches with the profile (RunInstances passes the profile's role): one PassRole grant.
    rt.block_on(async {
        server
            .instance_role(
                "worker",
                "worker-profile",
                r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sts:GetCallerIdentity","Resource":"*"}]}"#,
            )
            .await;
        server.launch(Some("worker-profile")).await;
    });
    let admin_arn = format!("arn:aws:iam::{ACCOUNT_ID}:user/admin");
    let job = start(&server, &admin_arn, since, &[]);
    let output = finished(&server, &job);
    let text = output["generatedPolicyResult"]["generatedPolicies"][0]["policy"]
        .as_str()
        .unwrap_or_else(|| panic!("{output}"));
    let policy: Value = serde_json::from_str(text).expect("JSON");
    let statements = policy["Statement"].as_array().expect("statements");
    let pass_role: Vec<&Value> = statements
        .iter()
        .filter(|s| s["Action"] == json!(["iam:PassRole"]))
        .collect();
    assert_eq!(
        pass_role,
        [
            &json!({"Sid": "PassRoleSid0", "Effect": "Allow", "Action": ["iam:PassRole"],
                 "Resource": [format!("arn:aws:iam::{ACCOUNT_ID}:role/worker")],
                 "Condition": {"StringEquals": {"iam:PassedToService": "ec2.amazonaws.com"}}})
        ],
        "{policy}"
    );
    let actions: Vec<&str> = statements
        .iter()
        .flat_map(|s| s["Action"].as_array().expect("actions"))
        .filter_map(Value::as_str)
        .collect();
    for used in [
        "iam:CreateRole",
        "iam:PutRolePolicy",
        "iam:CreateInstanceProfile",
        "iam:AddRoleToInstanceProfile",
        "ec2:RunInstances",
    ] {
        assert!(actions.contains(&used), "{used} missing: {policy}");
    }
}

/// A job is saved when it starts and when it ends: after a clean restart it is still listed,
/// still succeeded, and its policy (computed again from the audit trail) is the same.
#[test]
fn a_finished_job_survives_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let mut server = Server::start_on(&dir.path().join("data"));
    let since = now_secs() - 1;
    admin(&server, &["iam", "list-roles"]);
    admin(&server, &["iam", "get-user"]);
    // The window ends before the job starts, so the start's own record is outside it.
    std::thread::sleep(Duration::from_millis(1100));
    let until = now_secs();
    let trail = format!(
        r#"{{"trails":[{{"cloudTrailArn":"arn:aws:cloudtrail:{REGION}:{ACCOUNT_ID}:trail/t"}}],"accessRole":"arn:aws:iam::{ACCOUNT_ID}:role/service-role/AccessAnalyzer","startTime":{since},"endTime":{until}}}"#
    );
    let principal = format!("principalArn=arn:aws:iam::{ACCOUNT_ID}:user/admin");
    let job = admin(
        &server,
        &[
            "accessanalyzer",
            "start-policy-generation",
            "--cloud-trail-details",
            &trail,
            "--policy-generation-details",
            &principal,
        ],
    )["jobId"]
        .as_str()
        .expect("jobId")
        .to_owned();
    let before = finished(&server, &job);
    assert_eq!(before["jobDetails"]["status"], "SUCCEEDED", "{before}");
    let policies = &before["generatedPolicyResult"]["generatedPolicies"];
    assert!(policies.to_string().contains("iam:ListRoles"), "{policies}");

    server.stop();
    let server = Server::start_on(&dir.path().join("data"));
    let after = finished(&server, &job);
    assert_eq!(after["jobDetails"], before["jobDetails"]);
    assert_eq!(
        after["generatedPolicyResult"],
        before["generatedPolicyResult"]
    );
    let listed = admin(&server, &["accessanalyzer", "list-policy-generations"]);
    assert!(
        listed["policyGenerations"]
            .as_array()
            .expect("a list")
            .iter()
            .any(|j| j["jobId"] == job.as_str()),
        "{listed}"
    );
}
