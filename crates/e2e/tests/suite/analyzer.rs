//! Access Analyzer ValidatePolicy through the real AWS CLI (`aws accessanalyzer validate-policy`).

use std::process::{Command, Output};

use e2e::{ADMIN_KEY_ID, ADMIN_SECRET, REGION, Server};
use serde_json::Value;

fn has_cli() -> bool {
    Command::new("aws").arg("--version").output().is_ok()
}

/// `aws accessanalyzer validate-policy` as the admin against `server`.
fn validate(server: &Server, document: &str, policy_type: &str) -> Output {
    Command::new("aws")
        .args(["accessanalyzer", "validate-policy", "--output", "json"])
        .args(["--endpoint-url", &server.endpoint, "--region", REGION])
        .args(["--policy-document", document, "--policy-type", policy_type])
        .env("AWS_ACCESS_KEY_ID", ADMIN_KEY_ID)
        .env("AWS_SECRET_ACCESS_KEY", ADMIN_SECRET)
        .env_remove("AWS_SESSION_TOKEN")
        .env_remove("AWS_PROFILE")
        .env("AWS_CONFIG_FILE", "/dev/null")
        .env("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
        .output()
        .expect("run aws")
}

fn findings(output: &Output) -> Vec<Value> {
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let body: Value = serde_json::from_slice(&output.stdout).expect("JSON output");
    body["findings"].as_array().expect("findings").clone()
}

#[test]
fn validate_policy_with_the_aws_cli() {
    if !has_cli() {
        eprintln!("skipped: the AWS CLI (`aws`) is not installed");
        return;
    }
    let server = Server::start();

    let clean = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::bucket/*"}]}"#;
    let found = findings(&validate(&server, clean, "IDENTITY_POLICY"));
    assert!(
        found.iter().all(|f| f["findingType"] != "ERROR"),
        "{found:?}"
    );

    let pass_role = "{\n  \"Version\": \"2012-10-17\",\n  \"Statement\": [{\"Sid\": \"\", \"Effect\": \"Allow\", \"Action\": \"iam:PassRole\", \"Resource\": \"*\"}]\n}";
    let found = findings(&validate(&server, pass_role, "IDENTITY_POLICY"));
    let codes: Vec<&str> = found
        .iter()
        .map(|f| f["issueCode"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(
        codes,
        ["PASS_ROLE_WITH_STAR_IN_RESOURCE", "EMPTY_SID_VALUE"],
        "{found:?}"
    );
    assert_eq!(found[0]["findingType"], "SECURITY_WARNING");
    assert_eq!(found[1]["findingType"], "SUGGESTION");
    assert!(
        found[1]["learnMoreLink"]
            .as_str()
            .unwrap()
            .ends_with("#access-analyzer-reference-policy-checks-suggestion-empty-sid-value")
    );
    // The Sid's empty string sits on line 3, after `  "Statement": [{"Sid": `.
    let span = &found[1]["locations"][0]["span"];
    assert_eq!(
        (
            &span["start"]["line"],
            &span["start"]["column"],
            &span["end"]["column"]
        ),
        (&Value::from(3), &Value::from(24), &Value::from(26)),
        "{span}"
    );
    let path = &found[1]["locations"][0]["path"];
    assert_eq!(
        path,
        &serde_json::json!([{"value":"Statement"},{"index":0},{"value":"Sid"}])
    );

    let malformed = findings(&validate(&server, "{\"Version\": ", "IDENTITY_POLICY"));
    assert_eq!(malformed.len(), 1, "{malformed:?}");
    assert_eq!(malformed[0]["findingType"], "ERROR");
    assert_eq!(malformed[0]["issueCode"], "JSON_SYNTAX_ERROR");

    // A trust policy without Principal is an error as a resource policy only.
    let no_principal = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"}]}"#;
    let found = findings(&validate(&server, no_principal, "RESOURCE_POLICY"));
    assert!(
        found
            .iter()
            .any(|f| f["findingType"] == "ERROR" && f["issueCode"] == "MISSING_PRINCIPAL"),
        "{found:?}"
    );

    let wrong_type = validate(&server, clean, "GROUP_POLICY");
    assert!(!wrong_type.status.success());
    let stderr = String::from_utf8_lossy(&wrong_type.stderr);
    assert!(
        stderr.contains("(ValidationException)") && stderr.contains("policyType"),
        "{stderr}"
    );
}

#[test]
fn validate_policy_requires_permission() {
    if !has_cli() {
        eprintln!("skipped: the AWS CLI (`aws`) is not installed");
        return;
    }
    let server = Server::start();
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let nobody = rt.block_on(server.user_with_key("nobody"));
    let (key, secret) = (nobody.access_key_id(), nobody.secret_access_key());
    let output = Command::new("aws")
        .args(["accessanalyzer", "validate-policy", "--output", "json"])
        .args(["--endpoint-url", &server.endpoint, "--region", REGION])
        .args([
            "--policy-document",
            "{}",
            "--policy-type",
            "IDENTITY_POLICY",
        ])
        .env("AWS_ACCESS_KEY_ID", key)
        .env("AWS_SECRET_ACCESS_KEY", secret)
        .env("AWS_CONFIG_FILE", "/dev/null")
        .env("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
        .output()
        .expect("run aws");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("(AccessDeniedException)")
            && stderr.contains("access-analyzer:ValidatePolicy"),
        "{stderr}"
    );
}
