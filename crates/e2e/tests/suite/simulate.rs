//! The IAM policy simulator through the real clients: `aws iam simulate-principal-policy` and
//! aws-sdk-iam's `simulate_custom_policy`.

use std::process::Command;

use aws_sdk_iam::types::{ContextEntry, ContextKeyTypeEnum, PolicyEvaluationDecisionType as D};
use e2e::{ACCOUNT_ID, ADMIN_KEY_ID, ADMIN_SECRET, REGION, Server};
use serde_json::Value;

const ROLE_POLICY: &str = "{\n  \"Version\": \"2012-10-17\",\n  \"Statement\": [\n    {\"Sid\": \"Read\", \"Effect\": \"Allow\", \"Action\": \"s3:*\", \"Resource\": \"arn:aws:s3:::bucket/*\"},\n    {\"Sid\": \"NoDelete\", \"Effect\": \"Deny\", \"Action\": \"s3:DeleteObject\", \"Resource\": \"*\"}\n  ]\n}";

#[test]
fn simulate_principal_policy_with_the_aws_cli() {
    if Command::new("aws").arg("--version").output().is_err() {
        eprintln!("skipped: the AWS CLI (`aws`) is not installed");
        return;
    }
    let server = Server::start();
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    rt.block_on(async {
        let iam = server.iam().await;
        iam.create_role()
            .role_name("app")
            .assume_role_policy_document(r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#)
            .send()
            .await
            .expect("CreateRole");
        iam.put_role_policy()
            .role_name("app")
            .policy_name("storage")
            .policy_document(ROLE_POLICY)
            .send()
            .await
            .expect("PutRolePolicy");
        let arn = iam
            .create_policy()
            .policy_name("ec2-describe")
            .policy_document(r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"ec2:Describe*","Resource":"*"}}"#)
            .send()
            .await
            .expect("CreatePolicy")
            .policy()
            .and_then(|p| p.arn())
            .expect("arn")
            .to_owned();
        iam.attach_role_policy()
            .role_name("app")
            .policy_arn(arn)
            .send()
            .await
            .expect("AttachRolePolicy");
    });
    let output = Command::new("aws")
        .args(["iam", "simulate-principal-policy", "--output", "json"])
        .args(["--endpoint-url", &server.endpoint, "--region", REGION])
        .args([
            "--policy-source-arn",
            &format!("arn:aws:iam::{ACCOUNT_ID}:role/app"),
        ])
        .args([
            "--action-names",
            "s3:GetObject",
            "s3:DeleteObject",
            "ec2:RunInstances",
            "ec2:DescribeInstances",
        ])
        .args(["--resource-arns", "arn:aws:s3:::bucket/key"])
        .env("AWS_ACCESS_KEY_ID", ADMIN_KEY_ID)
        .env("AWS_SECRET_ACCESS_KEY", ADMIN_SECRET)
        .env("AWS_CONFIG_FILE", "/dev/null")
        .env("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
        .output()
        .expect("run aws");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let body: Value = serde_json::from_slice(&output.stdout).expect("JSON");
    let results = body["EvaluationResults"].as_array().expect("results");
    let decisions: Vec<(&str, &str)> = results
        .iter()
        .map(|r| {
            (
                r["EvalActionName"].as_str().unwrap(),
                r["EvalDecision"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        decisions,
        [
            ("s3:GetObject", "allowed"),
            ("s3:DeleteObject", "explicitDeny"),
            ("ec2:RunInstances", "implicitDeny"),
            ("ec2:DescribeInstances", "allowed"),
        ]
    );
    // A customer managed policy is an "IAM Policy"; MissingContextValues is sent empty and
    // OrganizationsDecisionDetail is there, as in AWS's recorded answer.
    let managed = &results[3]["MatchedStatements"][0];
    assert_eq!(managed["SourcePolicyId"], "ec2-describe");
    assert_eq!(managed["SourcePolicyType"], "IAM Policy");
    assert_eq!(results[3]["MissingContextValues"], serde_json::json!([]));
    assert_eq!(
        results[3]["OrganizationsDecisionDetail"],
        serde_json::json!({"AllowedByOrganizations": true})
    );
    assert_eq!(results[0]["EvalResourceName"], "arn:aws:s3:::bucket/key");
    let allow = &results[0]["MatchedStatements"][0];
    assert_eq!(allow["SourcePolicyId"], "storage");
    assert_eq!(allow["SourcePolicyType"], "role");
    // The Read statement is line 4, `    {` … `}`; positions are one past each brace.
    assert_eq!(
        (
            &allow["StartPosition"]["Line"],
            &allow["StartPosition"]["Column"]
        ),
        (&Value::from(4), &Value::from(6))
    );
    assert_eq!(allow["EndPosition"]["Line"], 4);
    let deny = &results[1]["MatchedStatements"];
    assert_eq!(deny.as_array().map(Vec::len), Some(1), "{deny}");
    assert_eq!(deny[0]["StartPosition"]["Line"], 5);
    assert_eq!(
        results[1]["ResourceSpecificResults"][0]["EvalResourceDecision"],
        "explicitDeny"
    );
    assert_eq!(results[2]["MatchedStatements"], serde_json::json!([]));

    let missing = Command::new("aws")
        .args(["iam", "simulate-principal-policy", "--output", "json"])
        .args(["--endpoint-url", &server.endpoint, "--region", REGION])
        .args([
            "--policy-source-arn",
            &format!("arn:aws:iam::{ACCOUNT_ID}:role/nosuch"),
        ])
        .args(["--action-names", "s3:GetObject"])
        .env("AWS_ACCESS_KEY_ID", ADMIN_KEY_ID)
        .env("AWS_SECRET_ACCESS_KEY", ADMIN_SECRET)
        .env("AWS_CONFIG_FILE", "/dev/null")
        .env("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
        .output()
        .expect("run aws");
    let stderr = String::from_utf8_lossy(&missing.stderr);
    assert!(stderr.contains("(NoSuchEntity)"), "{stderr}");
}

const DYNAMO_AFTER: &str = r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"dynamodb:*","Resource":"*","Condition":{"DateGreaterThan":{"aws:CurrentTime":"2018-08-16T12:00:00Z"}}}}"#;

fn current_time(value: &str) -> ContextEntry {
    ContextEntry::builder()
        .context_key_name("aws:CurrentTime")
        .context_key_values(value)
        .context_key_type(ContextKeyTypeEnum::Date)
        .build()
}

#[tokio::test]
async fn simulate_custom_policy_with_the_sdk() {
    let server = Server::start();
    let iam = server.iam().await;

    // AWS's own CLI example: allowed after the date, with the statement's position.
    let after = iam
        .simulate_custom_policy()
        .policy_input_list(DYNAMO_AFTER)
        .action_names("dynamodb:CreateBackup")
        .context_entries(current_time("2019-04-25T11:00:00Z"))
        .send()
        .await
        .expect("SimulateCustomPolicy");
    let result = &after.evaluation_results()[0];
    assert_eq!(result.eval_decision(), &D::Allowed);
    assert_eq!(result.eval_resource_name(), Some("*"));
    let statement = &result.matched_statements()[0];
    assert_eq!(statement.source_policy_id(), Some("PolicyInputList.1"));
    let (start, end) = (
        statement.start_position().expect("start"),
        statement.end_position().expect("end"),
    );
    assert_eq!((start.line(), start.column()), (1, 38));
    assert_eq!((end.line(), end.column()), (1, 167));
    assert!(result.missing_context_values().is_empty());

    let before = iam
        .simulate_custom_policy()
        .policy_input_list(DYNAMO_AFTER)
        .action_names("dynamodb:CreateBackup")
        .context_entries(current_time("2014-04-25T11:00:00Z"))
        .send()
        .await
        .expect("SimulateCustomPolicy");
    assert_eq!(
        before.evaluation_results()[0].eval_decision(),
        &D::ImplicitDeny
    );

    let unsupplied = iam
        .simulate_custom_policy()
        .policy_input_list(DYNAMO_AFTER)
        .action_names("dynamodb:CreateBackup")
        .send()
        .await
        .expect("SimulateCustomPolicy");
    assert_eq!(
        unsupplied.evaluation_results()[0].missing_context_values(),
        ["aws:CurrentTime"]
    );

    // A permissions boundary that leaves dynamodb out.
    let bounded = iam
        .simulate_custom_policy()
        .policy_input_list(DYNAMO_AFTER)
        .permissions_boundary_policy_input_list(
            r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:*","Resource":"*"}}"#,
        )
        .action_names("dynamodb:CreateBackup")
        .context_entries(current_time("2019-04-25T11:00:00Z"))
        .send()
        .await
        .expect("SimulateCustomPolicy");
    let result = &bounded.evaluation_results()[0];
    assert_eq!(result.eval_decision(), &D::ImplicitDeny);
    assert_eq!(
        result
            .permissions_boundary_decision_detail()
            .map(|d| d.allowed_by_permissions_boundary()),
        Some(false)
    );

    // A resource policy naming the caller allows what no identity policy does.
    let caller = format!("arn:aws:iam::{ACCOUNT_ID}:user/alice");
    let bucket_policy = format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{{"AWS":"{caller}"}},"Action":"s3:GetObject","Resource":"arn:aws:s3:::bucket/*"}}]}}"#
    );
    let shared = iam
        .simulate_custom_policy()
        .policy_input_list(r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"ec2:Describe*","Resource":"*"}}"#)
        .resource_policy(bucket_policy)
        .caller_arn(&caller)
        .action_names("s3:GetObject")
        .action_names("s3:PutObject")
        .resource_arns("arn:aws:s3:::bucket/key")
        .send()
        .await
        .expect("SimulateCustomPolicy");
    let results = shared.evaluation_results();
    assert_eq!(results[0].eval_decision(), &D::Allowed);
    assert_eq!(
        results[0].matched_statements()[0].source_policy_id(),
        Some("ResourcePolicy")
    );
    assert_eq!(results[1].eval_decision(), &D::ImplicitDeny);

    // Pagination over the (action, resource) results.
    let first = iam
        .simulate_custom_policy()
        .policy_input_list(DYNAMO_AFTER)
        .action_names("dynamodb:GetItem")
        .action_names("dynamodb:PutItem")
        .max_items(1)
        .send()
        .await
        .expect("page 1");
    assert!(first.is_truncated());
    let second = iam
        .simulate_custom_policy()
        .policy_input_list(DYNAMO_AFTER)
        .action_names("dynamodb:GetItem")
        .action_names("dynamodb:PutItem")
        .max_items(1)
        .marker(first.marker().expect("marker"))
        .send()
        .await
        .expect("page 2");
    assert_eq!(
        second.evaluation_results()[0].eval_action_name(),
        "dynamodb:PutItem"
    );
    assert!(!second.is_truncated());

    let bad = iam
        .simulate_custom_policy()
        .policy_input_list("{not json")
        .action_names("s3:GetObject")
        .send()
        .await
        .expect_err("malformed");
    assert_eq!(
        aws_sdk_iam::error::ProvideErrorMetadata::code(&bad),
        Some("MalformedPolicyDocument")
    );
}
