//! One decision at three sizes, and parse + validate of a ~6 KB policy.

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use policy::{
    Context, ContextValue, Policy, PolicyKind, PolicySet, Principal, Request, evaluate, validate,
};
use serde_json::{Value, json};

fn request() -> Request {
    let mut context = Context::new();
    context.insert_single("aws:SourceIp", "10.1.2.3");
    context.insert_single("aws:SecureTransport", "true");
    context.insert_single("aws:PrincipalTag/team", "red");
    context.insert_single("aws:CurrentTime", "2025-06-01T12:00:00Z");
    context.insert(
        "aws:TagKeys",
        ContextValue::Multi(vec!["env".into(), "team".into()]),
    );
    Request {
        principal: Principal::from_arn("arn:aws:iam::111122223333:user/alice").expect("user ARN"),
        action: "s3:GetObject".into(),
        resource: "arn:aws:s3:::bucket/home/alice/report.csv".into(),
        resource_account: "111122223333".into(),
        context,
    }
}

fn policy(statements: Vec<Value>) -> Policy {
    let doc = json!({"Version": "2012-10-17", "Statement": statements});
    Policy::parse(&doc.to_string(), PolicyKind::Identity).expect("bench policy is valid")
}

/// Ten statements with conditions and variables; the last one allows.
fn ten_statements() -> Vec<Value> {
    let mut statements: Vec<Value> = (0..9)
        .map(|i| {
            json!({
                "Sid": format!("S{i}"),
                "Effect": if i % 3 == 0 { "Deny" } else { "Allow" },
                "Action": ["s3:Get*", "s3:List*", format!("ec2:Describe{i}*")],
                "Resource": format!("arn:aws:s3:::bucket/home/${{aws:username}}/private{i}/*"),
                "Condition": {
                    "StringEquals": {"aws:PrincipalTag/team": "${aws:PrincipalTag/team}"},
                    "IpAddress": {"aws:SourceIp": ["10.0.0.0/8", "192.0.2.0/24"]},
                }
            })
        })
        .collect();
    statements.push(json!({
        "Sid": "Home",
        "Effect": "Allow",
        "Action": "s3:GetObject",
        "Resource": "arn:aws:s3:::bucket/home/${aws:username}/*",
        "Condition": {
            "Bool": {"aws:SecureTransport": "true"},
            "ForAllValues:StringLike": {"aws:TagKeys": ["env", "t*"]},
            "DateLessThan": {"aws:CurrentTime": "2030-01-01T00:00:00Z"},
        }
    }));
    statements
}

fn large_set() -> PolicySet {
    let identity = (0..20)
        .map(|p| {
            policy(
                (0..50)
                    .map(|s| {
                        json!({
                            "Sid": format!("P{p}S{s}"),
                            "Effect": "Allow",
                            "Action": [format!("s3:Get{s}*"), format!("ec2:Describe{p}*")],
                            "Resource": format!("arn:aws:s3:::bucket-{p}-{s}/${{aws:username}}/*"),
                            "Condition": {"StringEquals": {"aws:PrincipalTag/team": "red"}}
                        })
                    })
                    .collect(),
            )
        })
        .collect();
    PolicySet {
        identity,
        ..Default::default()
    }
}

fn six_kb_policy() -> String {
    let statements: Vec<Value> = (0..26)
        .map(|i| {
            json!({
                "Sid": format!("Statement{i}"),
                "Effect": "Allow",
                "Action": ["s3:GetObject", "s3:PutObject", "ec2:DescribeInstances"],
                "Resource": [format!("arn:aws:s3:::bucket-{i}/${{aws:username}}/*")],
                "Condition": {"StringLike": {"s3:prefix": ["home/*", "shared/*"]}, "IpAddress": {"aws:SourceIp": "10.0.0.0/8"}}
            })
        })
        .collect();
    json!({"Version": "2012-10-17", "Statement": statements}).to_string()
}

fn benches(c: &mut Criterion) {
    let request = request();
    let one = PolicySet {
        identity: vec![policy(vec![
            json!({"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}),
        ])],
        ..Default::default()
    };
    let ten = PolicySet {
        identity: vec![policy(ten_statements())],
        ..Default::default()
    };
    let large = large_set();
    assert!(evaluate(&request, &one).is_allowed());
    assert!(evaluate(&request, &ten).is_allowed());
    assert!(!evaluate(&request, &large).is_allowed());
    let text = six_kb_policy();
    assert!(
        (5_500..7_000).contains(&policy::size_without_whitespace(&text)),
        "{}",
        text.len()
    );

    c.bench_function("evaluate/1 statement", |b| {
        b.iter(|| evaluate(black_box(&request), black_box(&one)))
    });
    c.bench_function("evaluate/10 statements, conditions + variables", |b| {
        b.iter(|| evaluate(black_box(&request), black_box(&ten)))
    });
    c.bench_function("evaluate/1000 statements in 20 policies", |b| {
        b.iter(|| evaluate(black_box(&request), black_box(&large)))
    });
    // Baseline in the same run: serde_json reading the same text into a Value.
    c.bench_function("parse+validate/baseline serde_json::Value", |b| {
        b.iter(|| serde_json::from_str::<Value>(black_box(&text)).is_ok())
    });
    c.bench_function("parse+validate/6 KB policy, parse only", |b| {
        b.iter(|| Policy::parse(black_box(&text), PolicyKind::Identity).is_ok())
    });
    c.bench_function("parse+validate/6 KB policy", |b| {
        b.iter(|| {
            let parsed = Policy::parse(black_box(&text), PolicyKind::Identity);
            let findings = validate(black_box(&text), PolicyKind::Identity);
            (parsed.is_ok(), findings.len())
        })
    });
}

criterion_group!(policy_benches, benches);
criterion_main!(policy_benches);
