//! `roleplane policy eval` and `policy validate` as the interface contract describes them:
//! the real binary, stdin and files, exit codes, and clear messages for malformed input.

use std::io::Write as _;
use std::process::{Command, Output, Stdio};

fn roleplane(args: &[&str], stdin: &[u8]) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_roleplane"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn roleplane");
    // A child that exits early closes its stdin; that is not a test failure.
    let _ = child.stdin.take().expect("stdin").write_all(stdin);
    child.wait_with_output().expect("wait for roleplane")
}

fn json(output: &Output) -> serde_json::Value {
    serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
        panic!(
            "stdout is not JSON ({e}): {}\nstderr: {}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        )
    })
}

const ALLOW_GET: &str = r#"{"Version":"2012-10-17","Statement":[
    {"Sid":"Read","Effect":"Allow","Action":"s3:Get*","Resource":"arn:aws:s3:::bucket/*"}]}"#;

fn eval_input(action: &str, extra: &str) -> String {
    format!(
        r#"{{"principal":"arn:aws:iam::123456789012:user/alice","action":"{action}",
            "resource":"arn:aws:s3:::bucket/key","identityPolicies":[{ALLOW_GET}]{extra}}}"#
    )
}

#[test]
fn eval_allows_and_names_the_statement() {
    let out = roleplane(
        &["policy", "eval", "-"],
        eval_input("s3:GetObject", "").as_bytes(),
    );
    assert!(out.status.success(), "{out:?}");
    let v = json(&out);
    assert_eq!(v["decision"], "allowed");
    assert_eq!(v["matchedStatements"][0]["sid"], "Read");
    assert_eq!(v["matchedStatements"][0]["source"], "identityPolicies[0]");
}

#[test]
fn eval_reports_implicit_and_explicit_denies() {
    let out = roleplane(
        &["policy", "eval", "-"],
        eval_input("s3:PutObject", "").as_bytes(),
    );
    assert!(out.status.success());
    assert_eq!(json(&out)["decision"], "implicitDeny");

    let deny = r#","permissionsBoundary":{"Version":"2012-10-17","Statement":[
        {"Sid":"NoGet","Effect":"Deny","Action":"s3:GetObject","Resource":"*"}]}"#;
    let out = roleplane(
        &["policy", "eval", "-"],
        eval_input("s3:GetObject", deny).as_bytes(),
    );
    let v = json(&out);
    assert_eq!(v["decision"], "explicitDeny");
    assert_eq!(v["matchedStatements"][0]["sid"], "NoGet");
}

#[test]
fn eval_supplies_the_clock_unless_the_input_pins_it() {
    let timed = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject",
        "Resource":"*","Condition":{"DateGreaterThan":{"aws:CurrentTime":"2020-01-01T00:00:00Z"}}}]}"#;
    let input = |context: &str| {
        format!(
            r#"{{"principal":"arn:aws:iam::123456789012:user/alice","action":"s3:GetObject",
                "resource":"*","identityPolicies":[{timed}]{context}}}"#
        )
    };
    let now = roleplane(&["policy", "eval", "-"], input("").as_bytes());
    assert_eq!(json(&now)["decision"], "allowed");
    let past = input(r#","context":{"aws:CurrentTime":"2019-06-01T00:00:00Z"}"#);
    let out = roleplane(&["policy", "eval", "-"], past.as_bytes());
    assert_eq!(json(&out)["decision"], "implicitDeny");
}

#[test]
fn eval_reads_a_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("request.json");
    std::fs::write(&path, eval_input("s3:GetObject", "")).unwrap();
    let out = roleplane(&["policy", "eval", path.to_str().unwrap()], b"");
    assert_eq!(json(&out)["decision"], "allowed");
}

#[test]
fn malformed_eval_input_is_a_clear_error_and_no_panic() {
    let cases: &[(&str, &[u8], &str)] = &[
        ("bad JSON", b"{not json", "invalid Json"),
        ("not an object", b"[1,2]", "must be a JSON object"),
        ("wrong type", br#"{"principal":5,"action":"s3:GetObject","resource":"*"}"#, "principal"),
        (
            "a policy that is not JSON",
            br#"{"principal":"arn:aws:iam::123456789012:user/a","action":"s3:GetObject","resource":"*",
                "identityPolicies":["{not json"]}"#,
            "identityPolicies[0]: MalformedPolicyDocument",
        ),
        ("not UTF-8", b"\xff\xfe{}", "UTF-8"),
    ];
    for (name, input, needle) in cases {
        let out = roleplane(&["policy", "eval", "-"], input);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{name}: {stderr}");
        assert!(stderr.contains(needle), "{name}: {stderr}");
        assert!(!stderr.contains("panicked"), "{name}: {stderr}");
    }
}

#[test]
fn oversized_input_is_refused_before_parsing() {
    let huge = vec![b' '; 5 << 20];
    let out = roleplane(&["policy", "eval", "-"], &huge);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("larger than"));
    let out = roleplane(&["policy", "validate", "-"], &huge);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn a_missing_file_is_a_clear_error() {
    let out = roleplane(&["policy", "eval", "/nonexistent/request.json"], b"");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot read"));
}

#[test]
fn validate_accepts_a_good_policy() {
    let out = roleplane(&["policy", "validate", "-"], ALLOW_GET.as_bytes());
    assert!(out.status.success(), "{out:?}");
    let v = json(&out);
    let errors = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["findingType"] == "ERROR")
        .count();
    assert_eq!(errors, 0, "{v}");
}

#[test]
fn validate_reports_aws_messages_and_fails() {
    let cases: &[(&[&str], &str, &str)] = &[
        // IAM words unparsable JSON by policy kind (see policy::error): identity policies say
        // "Syntax errors in policy.", trust policies "This policy contains invalid Json".
        (&[], "{not json", "Syntax errors in policy."),
        (
            &["--type", "trust"],
            "{not json",
            "This policy contains invalid Json",
        ),
        (
            &[],
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject"}]}"#,
            "Policy statement must contain resources.",
        ),
        (
            &["--type", "trust"],
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},
                "Action":"sts:AssumeRole","Resource":"*"}]}"#,
            "Has prohibited field Resource",
        ),
        (
            &[],
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:*","Resource":"*"}]}"#,
            "Policy document should not specify a principal.",
        ),
    ];
    for (flags, policy, message) in cases {
        let mut args = vec!["policy", "validate"];
        args.extend_from_slice(flags);
        args.push("-");
        let out = roleplane(&args, policy.as_bytes());
        assert_eq!(out.status.code(), Some(1), "{policy}: {out:?}");
        let v = json(&out);
        let details: Vec<_> = v["findings"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["findingType"] == "ERROR")
            .map(|f| f["findingDetails"].as_str().unwrap_or_default().to_owned())
            .collect();
        assert!(
            details.iter().any(|d| d.contains(message)),
            "{message} not in {details:?}"
        );
    }
}

#[test]
fn a_reader_that_goes_away_is_no_panic() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_roleplane"))
        .args(["policy", "eval", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn roleplane");
    drop(child.stdout.take()); // the reader is gone before anything is written
    let _ = child
        .stdin
        .take()
        .expect("stdin")
        .write_all(eval_input("s3:GetObject", "").as_bytes());
    let out = child.wait_with_output().expect("wait");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert_eq!(out.status.code(), Some(0), "{stderr}");
}

const UNKNOWN_OPERATOR: &str = r#"{"Version":"2012-10-17","Statement":[
    {"Sid":"Broken","Effect":"Allow","Action":"s3:*","Resource":"*","Condition":{"StringEqualz":{"aws:username":"a"}}},
    {"Sid":"Read","Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}"#;

fn user_input(action: &str, policies: &str) -> String {
    format!(
        r#"{{"principal":"arn:aws:iam::123456789012:user/alice","action":"{action}",
            "resource":"arn:aws:s3:::bucket/key","identityPolicies":[{policies}]}}"#
    )
}

#[test]
fn eval_evaluates_what_of_a_refused_policy_reads_and_reports_every_problem() {
    let out = roleplane(
        &["policy", "eval", "-"],
        user_input("s3:GetObject", UNKNOWN_OPERATOR).as_bytes(),
    );
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let v = json(&out);
    assert_eq!(v["decision"], "allowed");
    // The statement that reads keeps its index in the document.
    assert_eq!(v["matchedStatements"][0]["statementIndex"], 1);
    assert_eq!(v["matchedStatements"][0]["sid"], "Read");
    let findings = v["findings"].as_array().unwrap();
    assert_eq!(findings.len(), 1, "{v}");
    assert_eq!(findings[0]["source"], "identityPolicies[0]");
    assert_eq!(findings[0]["findingType"], "ERROR");
    assert_eq!(
        findings[0]["locations"][0]["path"],
        serde_json::json!([{"value": "Statement"}, {"index": 0}])
    );

    // The statement that does not read matches nothing: s3:PutObject is not allowed.
    let out = roleplane(
        &["policy", "eval", "-"],
        user_input("s3:PutObject", UNKNOWN_OPERATOR).as_bytes(),
    );
    assert_eq!(json(&out)["decision"], "implicitDeny");

    // --strict refuses it, as policy eval always did.
    let out = roleplane(
        &["policy", "eval", "--strict", "-"],
        user_input("s3:GetObject", UNKNOWN_OPERATOR).as_bytes(),
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("identityPolicies[0]: MalformedPolicyDocument"),
        "{stderr}"
    );
}

#[test]
fn eval_reports_problems_of_every_policy_and_statement() {
    let bad_deny = r#"{"Version":"2012-10-17","Statement":[
        {"Effect":"Deny","Action":"s3:GetObject","Resource":"not-an-arn"}]}"#;
    let duplicate_sids = r#"{"Version":"2012-10-17","Statement":[
        {"Sid":"A","Effect":"Allow","Action":"s3:GetObject","Resource":"*"},
        {"Sid":"A","Effect":"Allow","Action":"s3:PutObject","Resource":"*"}]}"#;
    let bad_version = r#"{"Version":"2019-01-01","Statement":[
        {"Effect":"Allow","Action":"s3:ListBucket","Resource":"*"}]}"#;
    let input = format!(
        r#"{{"principal":"arn:aws:iam::123456789012:user/alice","action":"s3:GetObject",
            "resource":"arn:aws:s3:::bucket/key","identityPolicies":[{duplicate_sids},{bad_version}],
            "permissionsBoundary":{bad_deny}}}"#
    );
    let out = roleplane(&["policy", "eval", "-"], input.as_bytes());
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let v = json(&out);
    let sources: Vec<&str> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["source"].as_str().unwrap())
        .collect();
    assert!(sources.contains(&"identityPolicies[0]"), "{v}");
    assert!(sources.contains(&"identityPolicies[1]"), "{v}");
    assert!(sources.contains(&"permissionsBoundary"), "{v}");
    // The boundary's only statement does not read, so it allows nothing: the request is
    // denied by the boundary, not by its Deny.
    assert_eq!(v["decision"], "implicitDeny", "{v}");
    assert!(
        v["matchedStatements"]
            .as_array()
            .unwrap()
            .iter()
            .all(|m| m["source"] != "permissionsBoundary")
    );
}

#[test]
fn eval_takes_a_role_arn_as_a_session_of_that_role() {
    let by_role = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject",
        "Resource":"*","Condition":{"ArnEquals":{"aws:PrincipalArn":"arn:aws:iam::123456789012:role/team/app"}}}]}"#;
    let input = format!(
        r#"{{"principal":"arn:aws:iam::123456789012:role/team/app","action":"s3:GetObject",
            "resource":"arn:aws:s3:::bucket/key","identityPolicies":[{by_role}]}}"#
    );
    let out = roleplane(&["policy", "eval", "-"], input.as_bytes());
    assert!(out.status.success(), "{out:?}");
    let v = json(&out);
    assert_eq!(v["decision"], "allowed", "{v}");
    assert_eq!(v["findings"], serde_json::json!([]));

    // A bucket policy naming the role lets its session in from the same account.
    let bucket = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow",
        "Principal":{"AWS":"arn:aws:iam::123456789012:role/team/app"},"Action":"s3:GetObject","Resource":"*"}]}"#;
    let input = format!(
        r#"{{"principal":"arn:aws:iam::123456789012:role/team/app","action":"s3:GetObject",
            "resource":"arn:aws:s3:::bucket/key","resourcePolicy":{bucket}}}"#
    );
    let v = json(&roleplane(&["policy", "eval", "-"], input.as_bytes()));
    assert_eq!(v["decision"], "allowed", "{v}");

    for bad in [
        "arn:aws:iam::123456789012:role/",
        "arn:aws:iam:us-east-1:123456789012:role/x",
    ] {
        let input = format!(r#"{{"principal":"{bad}","action":"s3:GetObject","resource":"*"}}"#);
        let out = roleplane(&["policy", "eval", "-"], input.as_bytes());
        assert_eq!(out.status.code(), Some(2), "{bad}");
    }
}

#[test]
fn eval_without_a_principal_is_an_anonymous_request() {
    let public = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*",
        "Action":"s3:GetObject","Resource":"arn:aws:s3:::bucket/*"}]}"#;
    let account_only = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow",
        "Principal":{"AWS":"arn:aws:iam::123456789012:root"},"Action":"s3:GetObject","Resource":"*"}]}"#;
    for principal in ["", r#""principal":null,"#] {
        let input = |policy: &str| {
            format!(
                r#"{{{principal}"action":"s3:GetObject","resource":"arn:aws:s3:::bucket/key",
                    "resourceAccount":"123456789012","resourcePolicy":{policy}}}"#
            )
        };
        let v = json(&roleplane(
            &["policy", "eval", "-"],
            input(public).as_bytes(),
        ));
        assert_eq!(v["decision"], "allowed", "{principal}: {v}");
        let v = json(&roleplane(
            &["policy", "eval", "-"],
            input(account_only).as_bytes(),
        ));
        assert_eq!(v["decision"], "implicitDeny", "{principal}: {v}");
    }
}
