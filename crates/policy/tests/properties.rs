//! Property tests of the engine's invariants.

use policy::{
    Context, NoVariables, Outcome, Pattern, Policy, PolicyKind, PolicySet, Principal, Request,
    Syntax, evaluate,
};
use proptest::prelude::*;
use serde_json::{Value, json};

const ACCOUNT: &str = "111122223333";

fn action() -> impl Strategy<Value = String> {
    prop::sample::select(vec![
        "s3:GetObject",
        "s3:PutObject",
        "s3:*",
        "S3:get*",
        "ec2:Describe?nstances",
        "*",
        "iam:PassRole",
    ])
    .prop_map(str::to_owned)
}

fn resource() -> impl Strategy<Value = String> {
    prop::sample::select(vec![
        "*",
        "arn:aws:s3:::bucket/*",
        "arn:aws:s3:::bucket/${aws:username}/*",
        "arn:aws:s3:::other",
        "arn:aws:ec2:*:*:instance/*",
    ])
    .prop_map(str::to_owned)
}

fn condition() -> impl Strategy<Value = Option<Value>> {
    prop::option::of(prop::sample::select(vec![
        json!({"StringEquals": {"aws:username": "alice"}}),
        json!({"StringNotLike": {"aws:PrincipalTag/team": ["r*", "b?"]}}),
        json!({"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}}),
        json!({"Bool": {"aws:SecureTransport": "true"}}),
        json!({"ForAnyValue:StringEquals": {"aws:TagKeys": ["env"]}}),
        json!({"NumericLessThanIfExists": {"s3:max-keys": "10"}}),
        json!({"Null": {"aws:TokenIssueTime": "true"}}),
    ]))
}

fn statement(sid: usize) -> impl Strategy<Value = Value> {
    (any::<bool>(), prop::collection::vec(action(), 1..3), any::<bool>(), prop::collection::vec(resource(), 1..3), any::<bool>(), condition())
        .prop_map(move |(allow, actions, not_action, resources, not_resource, condition)| {
            let mut s = json!({"Sid": format!("S{sid}"), "Effect": if allow { "Allow" } else { "Deny" }});
            s[if not_action { "NotAction" } else { "Action" }] = json!(actions);
            s[if not_resource { "NotResource" } else { "Resource" }] = json!(resources);
            if let Some(c) = condition {
                s["Condition"] = c;
            }
            s
        })
}

fn policy_json() -> impl Strategy<Value = Value> {
    prop::collection::vec(0..1000usize, 1..5).prop_flat_map(|ids| {
        let statements: Vec<_> = ids
            .iter()
            .enumerate()
            .map(|(i, id)| statement(i * 1000 + id))
            .collect();
        statements.prop_map(|s| json!({"Version": "2012-10-17", "Statement": s}))
    })
}

fn parse(doc: &Value) -> Policy {
    Policy::parse(&doc.to_string(), PolicyKind::Identity).expect("generated policies are valid")
}

fn request() -> impl Strategy<Value = Request> {
    (
        prop::sample::select(vec![
            "s3:GetObject",
            "s3:putobject",
            "ec2:DescribeInstances",
            "iam:PassRole",
        ]),
        prop::sample::select(vec![
            "*",
            "arn:aws:s3:::bucket/alice/x",
            "arn:aws:s3:::other",
            "arn:aws:ec2:us-east-1:1:instance/i-1",
        ]),
        prop::sample::select(vec!["10.1.1.1", "192.0.2.1"]),
        any::<bool>(),
    )
        .prop_map(|(action, resource, ip, secure)| {
            let mut context = Context::new();
            context.insert_single("aws:SourceIp", ip);
            context.insert_single("aws:SecureTransport", secure.to_string());
            context.insert_single("aws:PrincipalTag/team", "red");
            context.insert(
                "aws:TagKeys",
                policy::ContextValue::Multi(vec!["env".into()]),
            );
            Request {
                principal: Principal::from_arn(&format!("arn:aws:iam::{ACCOUNT}:user/alice"))
                    .expect("user"),
                action: action.into(),
                resource: resource.into(),
                resource_account: ACCOUNT.into(),
                context,
            }
        })
}

fn set(identity: &[Value], boundary: &Option<Value>) -> PolicySet {
    PolicySet {
        identity: identity.iter().map(parse).collect(),
        permissions_boundary: boundary.as_ref().map(parse),
        ..Default::default()
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn adding_a_deny_never_allows(
        identity in prop::collection::vec(policy_json(), 0..4),
        boundary in prop::option::of(policy_json()),
        extra in statement(9999),
        target in 0..4usize,
        request in request(),
    ) {
        let before = evaluate(&request, &set(&identity, &boundary)).outcome;
        let mut deny = extra;
        deny["Effect"] = json!("Deny");
        let mut with_deny = identity.clone();
        if with_deny.is_empty() {
            with_deny.push(json!({"Version": "2012-10-17", "Statement": [deny]}));
        } else {
            let i = target % with_deny.len();
            if let Some(statements) = with_deny[i]["Statement"].as_array_mut() {
                statements.push(deny);
            }
        }
        let after = evaluate(&request, &set(&with_deny, &boundary)).outcome;
        if before != Outcome::Allowed {
            prop_assert_ne!(after, Outcome::Allowed);
        }
        if before == Outcome::ExplicitDeny {
            prop_assert_eq!(after, Outcome::ExplicitDeny);
        }
    }

    #[test]
    fn order_never_changes_the_decision(
        identity in prop::collection::vec(policy_json(), 1..4),
        boundary in prop::option::of(policy_json()),
        request in request(),
    ) {
        let forward = evaluate(&request, &set(&identity, &boundary));
        let mut reversed: Vec<Value> = identity.iter().rev().cloned().collect();
        for p in &mut reversed {
            if let Some(statements) = p["Statement"].as_array_mut() {
                statements.reverse();
            }
        }
        let backward = evaluate(&request, &set(&reversed, &boundary));
        prop_assert_eq!(forward.outcome, backward.outcome);
        let sids = |d: &policy::Decision| {
            let mut s: Vec<_> = d.matched.iter().map(|m| m.sid.clone()).collect();
            s.sort();
            s
        };
        prop_assert_eq!(sids(&forward), sids(&backward));
    }

    #[test]
    fn serialize_then_parse_is_identity(doc in policy_json()) {
        let policy = parse(&doc);
        let again = Policy::parse(&policy.to_json().to_string(), PolicyKind::Identity);
        prop_assert_eq!(Ok(policy), again);
    }

    #[test]
    fn matcher_agrees_with_reference(pattern in "[ab*?]{0,8}", text in "[abé]{0,10}") {
        let compiled = Pattern::compile(&pattern, Syntax::GLOB);
        let p: Vec<char> = pattern.chars().collect();
        let t: Vec<char> = text.chars().collect();
        prop_assert_eq!(compiled.matches(&text, &NoVariables), Ok(naive(&p, &t)), "{} vs {}", pattern, text);
    }

    #[test]
    fn parser_never_panics_on_text(text in "\\PC{0,200}") {
        for kind in KINDS {
            let _ = Policy::parse(&text, kind);
        }
        let _ = policy::eval_input::parse(&text);
    }

    #[test]
    fn parser_never_panics_on_json(doc in arbitrary_json()) {
        let text = doc.to_string();
        for kind in KINDS {
            let _ = Policy::parse(&text, kind);
            let _ = policy::validate(&text, kind);
        }
    }
}

const KINDS: [PolicyKind; 7] = [
    PolicyKind::Identity,
    PolicyKind::InlineIdentity,
    PolicyKind::Resource,
    PolicyKind::Trust,
    PolicyKind::Session,
    PolicyKind::PermissionsBoundary,
    PolicyKind::ServiceControl,
];

/// Exponential but obviously right.
fn naive(p: &[char], t: &[char]) -> bool {
    match (p.first(), t.first()) {
        (None, _) => t.is_empty(),
        (Some('*'), _) => naive(&p[1..], t) || (!t.is_empty() && naive(p, &t[1..])),
        (Some('?'), Some(_)) => naive(&p[1..], &t[1..]),
        (Some(c), Some(d)) if c == d => naive(&p[1..], &t[1..]),
        _ => false,
    }
}

/// JSON built from policy-ish keys and values, so the parser gets past the first checks.
fn arbitrary_json() -> impl Strategy<Value = Value> {
    let key = prop::sample::select(vec![
        "Version",
        "Statement",
        "Sid",
        "Effect",
        "Action",
        "NotAction",
        "Resource",
        "NotResource",
        "Principal",
        "NotPrincipal",
        "Condition",
        "AWS",
        "Service",
        "StringLike",
        "DateLessThan",
        "ForAllValues:ArnLike",
        "aws:username",
        "Id",
        "x",
    ]);
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        prop::sample::select(vec![
            "2012-10-17",
            "2008-10-17",
            "Allow",
            "Deny",
            "allow",
            "*",
            "s3:*",
            "arn:aws:s3:::b/${aws:username}",
            "arn:aws:iam::1:root",
            "arn",
            "a:b:c",
            "${",
            "2020-01-01T00:00:00Z",
            "tomorrow",
            "10.0.0.0/33",
            "",
            "sts:AssumeRole",
            "arn:aws:iam:us-east-1:1:role/x",
        ])
        .prop_map(Value::from),
        "\\PC{0,12}".prop_map(Value::from),
    ];
    leaf.prop_recursive(5, 64, 6, move |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::vec((key.clone(), inner), 0..6).prop_map(|entries| Value::Object(
                entries
                    .into_iter()
                    .map(|(k, v)| (k.to_owned(), v))
                    .collect()
            )),
        ]
    })
}
