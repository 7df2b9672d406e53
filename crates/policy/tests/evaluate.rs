//! Evaluation layers, table-driven through the `policy eval` input format.

use policy::{Outcome, eval_input, evaluate};
use serde_json::{Value, json};

const A: &str = "111122223333";
const B: &str = "444455556666";

fn policy(statements: Value) -> Value {
    json!({"Version": "2012-10-17", "Statement": statements})
}

fn allow(sid: &str, action: &str, resource: &str) -> Value {
    json!({"Sid": sid, "Effect": "Allow", "Action": action, "Resource": resource})
}

fn deny(sid: &str, action: &str, resource: &str) -> Value {
    json!({"Sid": sid, "Effect": "Deny", "Action": action, "Resource": resource})
}

fn allow_for(sid: &str, principal: Value, action: &str, resource: &str) -> Value {
    json!({"Sid": sid, "Effect": "Allow", "Principal": principal, "Action": action, "Resource": resource})
}

fn trust(sid: &str, principal: Value) -> Value {
    json!({"Sid": sid, "Effect": "Allow", "Principal": principal, "Action": "sts:AssumeRole"})
}

fn run(input: &Value) -> (Outcome, Vec<String>) {
    let (request, policies) =
        eval_input::parse(&input.to_string()).unwrap_or_else(|e| panic!("{e}: {input}"));
    let decision = evaluate(&request, &policies);
    let sids = decision
        .matched
        .iter()
        .map(|m| m.sid.clone().unwrap_or_default())
        .collect();
    (decision.outcome, sids)
}

#[test]
fn layers() {
    use Outcome::*;
    let user = format!("arn:aws:iam::{A}:user/alice");
    let session = format!("arn:aws:sts::{A}:assumed-role/app/i-1");
    let role = format!("arn:aws:iam::{A}:role/app");
    let fed = format!("arn:aws:sts::{A}:federated-user/bob");
    let obj = "arn:aws:s3:::bucket/key";
    let target_role = format!("arn:aws:iam::{A}:role/target");
    let s3 = |extra: Value| {
        let mut base = json!({"principal": user, "action": "s3:GetObject", "resource": obj});
        if let (Some(b), Some(e)) = (base.as_object_mut(), extra.as_object()) {
            b.extend(e.clone());
        }
        base
    };
    let cases: Vec<(&str, Value, Outcome, &[&str])> = vec![
        ("no policies", s3(json!({})), ImplicitDeny, &[]),
        (
            "identity allow",
            s3(json!({"identityPolicies": [policy(json!([allow("A", "s3:*", "*")]))]})),
            Allowed,
            &["A"],
        ),
        (
            "action case-insensitive",
            s3(json!({"identityPolicies": [policy(json!([allow("A", "S3:getobject", "*")]))]})),
            Allowed,
            &["A"],
        ),
        (
            "resource mismatch",
            s3(
                json!({"identityPolicies": [policy(json!([allow("A", "s3:*", "arn:aws:s3:::other/*")]))]}),
            ),
            ImplicitDeny,
            &[],
        ),
        (
            "explicit deny wins",
            s3(
                json!({"identityPolicies": [policy(json!([allow("A", "s3:*", "*"), deny("D", "s3:Get*", "*")]))]}),
            ),
            ExplicitDeny,
            &["D"],
        ),
        (
            "deny in boundary",
            s3(
                json!({"identityPolicies": [policy(json!([allow("A", "s3:*", "*")]))], "permissionsBoundary": policy(json!([deny("D", "*", "*")]))}),
            ),
            ExplicitDeny,
            &["D"],
        ),
        (
            "boundary lacks allow",
            s3(
                json!({"identityPolicies": [policy(json!([allow("A", "s3:*", "*")]))], "permissionsBoundary": policy(json!([allow("B", "ec2:*", "*")]))}),
            ),
            ImplicitDeny,
            &["A"],
        ),
        (
            "boundary allows",
            s3(
                json!({"identityPolicies": [policy(json!([allow("A", "s3:*", "*")]))], "permissionsBoundary": policy(json!([allow("B", "s3:Get*", "*")]))}),
            ),
            Allowed,
            &["A", "B"],
        ),
        (
            "scp level without allow",
            s3(
                json!({"identityPolicies": [policy(json!([allow("A", "s3:*", "*")]))], "serviceControlPolicies": [[policy(json!([allow("F", "*", "*")]))], [policy(json!([allow("E", "ec2:*", "*")]))]]}),
            ),
            ImplicitDeny,
            &["A", "F"],
        ),
        (
            "scp levels allow",
            s3(
                json!({"identityPolicies": [policy(json!([allow("A", "s3:*", "*")]))], "serviceControlPolicies": [[policy(json!([allow("F", "*", "*")]))], [policy(json!([allow("S", "s3:*", "*")]))]]}),
            ),
            Allowed,
            &["A", "F", "S"],
        ),
        (
            "root allowed without policies",
            json!({"principal": format!("arn:aws:iam::{A}:root"), "action": "s3:GetObject", "resource": obj}),
            Allowed,
            &[],
        ),
        (
            "root bound by scp",
            json!({"principal": format!("arn:aws:iam::{A}:root"), "action": "s3:GetObject", "resource": obj, "serviceControlPolicies": [[policy(json!([allow("E", "ec2:*", "*")]))]]}),
            ImplicitDeny,
            &[],
        ),
        (
            "get caller identity always",
            json!({"principal": user, "action": "sts:GetCallerIdentity", "resource": "*", "identityPolicies": [policy(json!([deny("D", "*", "*")]))]}),
            Allowed,
            &[],
        ),
        // Same-account resource policies.
        (
            "resource policy names user",
            s3(
                json!({"resourcePolicy": policy(json!([allow_for("R", json!({"AWS": user}), "s3:GetObject", obj)]))}),
            ),
            Allowed,
            &["R"],
        ),
        (
            "user ARN bypasses boundary",
            s3(
                json!({"resourcePolicy": policy(json!([allow_for("R", json!({"AWS": user}), "s3:GetObject", obj)])), "permissionsBoundary": policy(json!([allow("B", "ec2:*", "*")]))}),
            ),
            Allowed,
            &["R"],
        ),
        (
            "account principal delegates",
            s3(
                json!({"resourcePolicy": policy(json!([allow_for("R", json!({"AWS": A}), "s3:GetObject", obj)]))}),
            ),
            ImplicitDeny,
            &["R"],
        ),
        (
            "account principal plus identity",
            s3(
                json!({"resourcePolicy": policy(json!([allow_for("R", json!({"AWS": format!("arn:aws:iam::{A}:root")}), "s3:GetObject", obj)])), "identityPolicies": [policy(json!([allow("A", "s3:*", "*")]))]}),
            ),
            Allowed,
            &["A", "R"],
        ),
        (
            "session ARN bypasses session policy",
            json!({"principal": session, "action": "s3:GetObject", "resource": obj, "resourcePolicy": policy(json!([allow_for("R", json!({"AWS": session}), "s3:GetObject", obj)])), "sessionPolicy": policy(json!([allow("P", "ec2:*", "*")]))}),
            Allowed,
            &["R"],
        ),
        (
            "role ARN cut by session policy",
            json!({"principal": session, "action": "s3:GetObject", "resource": obj, "resourcePolicy": policy(json!([allow_for("R", json!({"AWS": role}), "s3:GetObject", obj)])), "sessionPolicy": policy(json!([allow("P", "ec2:*", "*")]))}),
            ImplicitDeny,
            &["R"],
        ),
        (
            "role ARN allows without identity",
            json!({"principal": session, "action": "s3:GetObject", "resource": obj, "resourcePolicy": policy(json!([allow_for("R", json!({"AWS": role}), "s3:GetObject", obj)]))}),
            Allowed,
            &["R"],
        ),
        (
            "role session without session policy",
            json!({"principal": session, "action": "s3:GetObject", "resource": obj, "identityPolicies": [policy(json!([allow("A", "s3:*", "*")]))]}),
            Allowed,
            &["A"],
        ),
        (
            "federated user needs session policy",
            json!({"principal": fed, "action": "s3:GetObject", "resource": obj, "identityPolicies": [policy(json!([allow("A", "s3:*", "*")]))]}),
            ImplicitDeny,
            &["A"],
        ),
        (
            "federated user with session policy",
            json!({"principal": fed, "action": "s3:GetObject", "resource": obj, "identityPolicies": [policy(json!([allow("A", "s3:*", "*")]))], "sessionPolicy": policy(json!([allow("P", "s3:*", "*")]))}),
            Allowed,
            &["A", "P"],
        ),
        (
            "resource policy other principal",
            s3(
                json!({"resourcePolicy": policy(json!([allow_for("R", json!({"AWS": format!("arn:aws:iam::{A}:user/bob")}), "s3:GetObject", obj)]))}),
            ),
            ImplicitDeny,
            &[],
        ),
        (
            "resource policy deny by principal",
            s3(
                json!({"identityPolicies": [policy(json!([allow("A", "s3:*", "*")]))], "resourcePolicy": policy(json!([{"Sid": "D", "Effect": "Deny", "Principal": "*", "Action": "s3:*", "Resource": "*"}]))}),
            ),
            ExplicitDeny,
            &["D"],
        ),
        (
            "not principal deny spares listed",
            s3(
                json!({"identityPolicies": [policy(json!([allow("A", "s3:*", "*")]))], "resourcePolicy": policy(json!([{"Sid": "D", "Effect": "Deny", "NotPrincipal": {"AWS": [user.clone(), format!("arn:aws:iam::{A}:root")]}, "Action": "s3:*", "Resource": "*"}]))}),
            ),
            Allowed,
            &["A"],
        ),
        (
            "not principal without account denies",
            s3(
                json!({"identityPolicies": [policy(json!([allow("A", "s3:*", "*")]))], "resourcePolicy": policy(json!([{"Sid": "D", "Effect": "Deny", "NotPrincipal": {"AWS": [user.clone()]}, "Action": "s3:*", "Resource": "*"}]))}),
            ),
            ExplicitDeny,
            &["D"],
        ),
        // Cross-account.
        (
            "cross account needs resource policy",
            s3(
                json!({"resourceAccount": B, "identityPolicies": [policy(json!([allow("A", "s3:*", "*")]))]}),
            ),
            ImplicitDeny,
            &["A"],
        ),
        (
            "cross account needs identity",
            s3(
                json!({"resourceAccount": B, "resourcePolicy": policy(json!([allow_for("R", json!({"AWS": user}), "s3:GetObject", obj)]))}),
            ),
            ImplicitDeny,
            &["R"],
        ),
        (
            "cross account both allow",
            s3(
                json!({"resourceAccount": B, "identityPolicies": [policy(json!([allow("A", "s3:*", "*")]))], "resourcePolicy": policy(json!([allow_for("R", json!({"AWS": A}), "s3:GetObject", obj)]))}),
            ),
            Allowed,
            &["A", "R"],
        ),
        // Trust policies.
        (
            "trust names user",
            json!({"principal": user, "action": "sts:AssumeRole", "resource": target_role, "resourcePolicy": policy(json!([trust("T", json!({"AWS": user}))]))}),
            Allowed,
            &["T"],
        ),
        (
            "trust names account only",
            json!({"principal": user, "action": "sts:AssumeRole", "resource": target_role, "resourcePolicy": policy(json!([trust("T", json!({"AWS": A}))]))}),
            ImplicitDeny,
            &["T"],
        ),
        (
            "trust account plus identity",
            json!({"principal": user, "action": "sts:AssumeRole", "resource": target_role, "resourcePolicy": policy(json!([trust("T", json!({"AWS": A}))])), "identityPolicies": [policy(json!([allow("A", "sts:AssumeRole", "*")]))]}),
            Allowed,
            &["A", "T"],
        ),
        (
            "trust must allow explicitly",
            json!({"principal": user, "action": "sts:AssumeRole", "resource": target_role, "identityPolicies": [policy(json!([allow("A", "sts:AssumeRole", "*")]))]}),
            ImplicitDeny,
            &["A"],
        ),
        (
            "ec2 service assumes role",
            json!({"principal": "ec2.amazonaws.com", "action": "sts:AssumeRole", "resource": target_role, "resourcePolicy": policy(json!([trust("T", json!({"Service": "ec2.amazonaws.com"}))]))}),
            Allowed,
            &["T"],
        ),
        (
            "other service refused",
            json!({"principal": "lambda.amazonaws.com", "action": "sts:AssumeRole", "resource": target_role, "resourcePolicy": policy(json!([trust("T", json!({"Service": "ec2.amazonaws.com"}))]))}),
            ImplicitDeny,
            &[],
        ),
        (
            "cross account trust",
            json!({"principal": format!("arn:aws:iam::{B}:user/eve"), "action": "sts:AssumeRole", "resource": target_role, "resourcePolicy": policy(json!([trust("T", json!({"AWS": B}))])), "identityPolicies": [policy(json!([allow("A", "sts:AssumeRole", "*")]))]}),
            Allowed,
            &["A", "T"],
        ),
        // Anonymous.
        (
            "anonymous public read",
            json!({"principal": "*", "action": "s3:GetObject", "resource": obj, "resourceAccount": A, "resourcePolicy": policy(json!([allow_for("R", json!("*"), "s3:GetObject", obj)]))}),
            Allowed,
            &["R"],
        ),
        (
            "anonymous not named",
            json!({"principal": "anonymous", "action": "s3:GetObject", "resource": obj, "resourceAccount": A, "resourcePolicy": policy(json!([allow_for("R", json!({"AWS": A}), "s3:GetObject", obj)]))}),
            ImplicitDeny,
            &[],
        ),
        // Variables and conditions through the whole path.
        (
            "username variable",
            s3(
                json!({"resource": "arn:aws:s3:::bucket/home/alice/x", "identityPolicies": [policy(json!([allow("A", "s3:*", "arn:aws:s3:::bucket/home/${aws:username}/*")]))]}),
            ),
            Allowed,
            &["A"],
        ),
        (
            "username variable other user",
            s3(
                json!({"resource": "arn:aws:s3:::bucket/home/bob/x", "identityPolicies": [policy(json!([allow("A", "s3:*", "arn:aws:s3:::bucket/home/${aws:username}/*")]))]}),
            ),
            ImplicitDeny,
            &[],
        ),
        (
            "variable literal without version",
            s3(
                json!({"resource": "arn:aws:s3:::bucket/home/${aws:username}/x", "identityPolicies": [{"Statement": [allow("A", "s3:*", "arn:aws:s3:::bucket/home/${aws:username}/*")]}]}),
            ),
            Allowed,
            &["A"],
        ),
        (
            "missing variable matches nothing",
            json!({"principal": session, "action": "s3:GetObject", "resource": "arn:aws:s3:::bucket/home/x", "identityPolicies": [policy(json!([allow("A", "s3:*", "arn:aws:s3:::bucket/home/${aws:username}*")]))]}),
            ImplicitDeny,
            &[],
        ),
        (
            "condition on context",
            s3(
                json!({"context": {"aws:SourceIp": "10.1.2.3"}, "identityPolicies": [policy(json!([{"Sid": "A", "Effect": "Allow", "Action": "s3:*", "Resource": "*", "Condition": {"IpAddress": {"aws:sourceip": "10.0.0.0/8"}}}]))]}),
            ),
            Allowed,
            &["A"],
        ),
        (
            "condition fails",
            s3(
                json!({"context": {"aws:SourceIp": "192.0.2.1"}, "identityPolicies": [policy(json!([{"Sid": "A", "Effect": "Allow", "Action": "s3:*", "Resource": "*", "Condition": {"IpAddress": {"aws:sourceip": "10.0.0.0/8"}}}]))]}),
            ),
            ImplicitDeny,
            &[],
        ),
        (
            "principal arn of session is role",
            json!({"principal": session, "action": "s3:GetObject", "resource": obj, "identityPolicies": [policy(json!([{"Sid": "A", "Effect": "Allow", "Action": "s3:*", "Resource": "*", "Condition": {"ArnEquals": {"aws:PrincipalArn": role}}}]))]}),
            Allowed,
            &["A"],
        ),
        (
            "deny if not secure",
            s3(
                json!({"context": {"aws:SecureTransport": "false"}, "identityPolicies": [policy(json!([allow("A", "s3:*", "*"), {"Sid": "D", "Effect": "Deny", "Action": "*", "Resource": "*", "Condition": {"Bool": {"aws:SecureTransport": "false"}}}]))]}),
            ),
            ExplicitDeny,
            &["D"],
        ),
    ];
    let mut failures = Vec::new();
    for (name, input, outcome, sids) in &cases {
        let (got, mut got_sids) = run(input);
        got_sids.sort();
        let mut want: Vec<String> = sids.iter().map(|s| s.to_string()).collect();
        want.sort();
        if got != *outcome || got_sids != want {
            failures.push(format!(
                "{name}: expected {outcome:?} {want:?}, got {got:?} {got_sids:?}"
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn decision_json_shape() {
    let input = json!({"principal": format!("arn:aws:iam::{A}:user/alice"), "action": "s3:GetObject", "resource": "*",
        "identityPolicies": [policy(json!([{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]))]});
    let (request, policies) = eval_input::parse(&input.to_string()).expect("input");
    assert_eq!(
        evaluate(&request, &policies).to_json(),
        json!({"decision": "allowed", "matchedStatements": [
            {"source": "identityPolicies[0]", "statementIndex": 0, "sid": null, "effect": "Allow"}]})
    );
}

#[test]
fn input_errors() {
    let cases = [
        ("{", "This input contains invalid Json"),
        (
            r#"{"principal":"bob","action":"s3:x","resource":"*"}"#,
            "principal:",
        ),
        (
            r#"{"principal":"*","action":"x","resource":"*"}"#,
            "action:",
        ),
        (
            r#"{"principal":"*","action":"s3:x","resource":"*","extra":1}"#,
            "extra: unknown field",
        ),
        (
            r#"{"principal":"*","action":"s3:x","resource":"*","context":{"k":{}}}"#,
            "context.k:",
        ),
        (
            r#"{"principal":"*","action":"s3:x","resource":"*","identityPolicies":[{"Statement":{"Effect":"allow","Action":"s3:x","Resource":"*"}}]}"#,
            "identityPolicies[0]: MalformedPolicyDocument: The policy failed legacy parsing",
        ),
    ];
    for (input, prefix) in cases {
        let error = eval_input::parse(input)
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(error.starts_with(prefix), "{input}: {error}");
    }
}

/// A web identity (AssumeRoleWithWebIdentity) is let in by a trust policy naming its provider
/// as `Federated`, with the provider's condition keys; nothing else lets it in.
#[test]
fn web_identities_are_trusted_by_their_provider() {
    use policy::{
        Context, ContextValue, Policy, PolicyKind, PolicySet, Principal, PrincipalKind, Request,
    };
    let provider = format!("arn:aws:iam::{A}:oidc-provider/issuer.example/k8s");
    let role = format!("arn:aws:iam::{A}:role/app");
    let trust = |principal: Value, condition: Value| {
        let statement = json!({"Effect": "Allow", "Principal": principal,
            "Action": "sts:AssumeRoleWithWebIdentity", "Condition": condition});
        Policy::parse(&policy(json!([statement])).to_string(), PolicyKind::Trust).unwrap()
    };
    let request = |sub: &str| {
        let mut context = Context::new();
        context.insert(
            "issuer.example/k8s:sub",
            ContextValue::Single(sub.to_owned()),
        );
        context.insert(
            "issuer.example/k8s:aud",
            ContextValue::Single("sts.amazonaws.com".to_owned()),
        );
        Request {
            principal: Principal::new(PrincipalKind::WebIdentity {
                provider: provider.clone(),
                subject: sub.to_owned(),
            }),
            action: "sts:AssumeRoleWithWebIdentity".to_owned(),
            resource: role.clone(),
            resource_account: A.to_owned(),
            context,
        }
    };
    let on_sub = json!({"StringEquals": {"issuer.example/k8s:sub": "system:serviceaccount:ns:app",
        "issuer.example/k8s:aud": "sts.amazonaws.com"}});
    let cases = [
        (
            json!({"Federated": provider}),
            on_sub.clone(),
            "system:serviceaccount:ns:app",
            true,
        ),
        (
            json!({"Federated": provider}),
            on_sub.clone(),
            "system:serviceaccount:ns:other",
            false,
        ),
        (
            json!({"Federated": format!("arn:aws:iam::{A}:oidc-provider/other.example")}),
            json!({}),
            "system:serviceaccount:ns:app",
            false,
        ),
        (
            json!({"AWS": format!("arn:aws:iam::{A}:root")}),
            json!({}),
            "system:serviceaccount:ns:app",
            false,
        ),
        (
            json!({"Service": "ec2.amazonaws.com"}),
            json!({}),
            "system:serviceaccount:ns:app",
            false,
        ),
        (
            json!({"Federated": provider}),
            json!({"StringEquals": {"aws:FederatedProvider": provider}}),
            "x",
            true,
        ),
    ];
    for (principal, condition, sub, allowed) in cases {
        let policies = PolicySet {
            resource: Some(trust(principal.clone(), condition.clone())),
            ..PolicySet::default()
        };
        let decision = evaluate(&request(sub), &policies);
        assert_eq!(
            decision.is_allowed(),
            allowed,
            "{principal} {condition} {sub}"
        );
    }
}

/// A host agent (roleplane's, signing with its host's credential) is allowed nothing: not by
/// an identity policy allowing everything, not by a resource policy naming `*`, its account
/// or its host's ARN, not by a NotPrincipal that leaves others out, and not even
/// sts:GetCallerIdentity, which every IAM identity may call.
#[test]
fn a_host_agent_is_allowed_nothing() {
    use policy::{Context, Policy, PolicyKind, PolicySet, Principal, PrincipalKind, Request};
    let agent = Principal::new(PrincipalKind::HostAgent {
        account: A.to_owned(),
        region: "us-east-1".to_owned(),
        host_id: "h-0123456789abcdef0".to_owned(),
    });
    let host_arn = format!("arn:aws:ec2:us-east-1:{A}:dedicated-host/h-0123456789abcdef0");
    assert_eq!(agent.arn(), host_arn);
    let parse =
        |statements: Value, kind| Policy::parse(&policy(statements).to_string(), kind).unwrap();
    let everything = parse(json!([allow("All", "*", "*")]), PolicyKind::Identity);
    let bucket = "arn:aws:s3:::b/k".to_owned();
    let resource_policies = [
        json!([allow_for("Star", json!("*"), "*", "*")]),
        json!([allow_for("AwsStar", json!({"AWS": "*"}), "*", "*")]),
        json!([allow_for("Account", json!({"AWS": A}), "*", "*")]),
        json!([allow_for(
            "Root",
            json!({"AWS": format!("arn:aws:iam::{A}:root")}),
            "*",
            "*"
        )]),
        json!([allow_for("Host", json!({"AWS": host_arn}), "*", "*")]),
        json!([allow_for("Service", json!({"Service": "*"}), "*", "*")]),
        json!([{"Sid": "NotOthers", "Effect": "Allow",
            "NotPrincipal": {"AWS": format!("arn:aws:iam::{B}:root")}, "Action": "*", "Resource": "*"}]),
    ];
    for action in [
        "s3:GetObject",
        "sts:GetCallerIdentity",
        "iam:ListUsers",
        "ec2:DescribeHosts",
    ] {
        let request = Request {
            principal: agent.clone(),
            action: action.to_owned(),
            resource: bucket.clone(),
            resource_account: A.to_owned(),
            context: Context::new(),
        };
        let alone = PolicySet {
            identity: vec![everything.clone()],
            ..PolicySet::default()
        };
        assert_eq!(
            evaluate(&request, &alone).outcome,
            Outcome::ImplicitDeny,
            "{action}"
        );
        for statements in &resource_policies {
            let policies = PolicySet {
                identity: vec![everything.clone()],
                resource: Some(parse(statements.clone(), PolicyKind::Resource)),
                ..PolicySet::default()
            };
            let decision = evaluate(&request, &policies);
            assert_eq!(
                decision.outcome,
                Outcome::ImplicitDeny,
                "{action} {statements}"
            );
            assert!(decision.matched.is_empty());
        }
    }
    assert_eq!(agent.global_key("aws:principalarn"), None);
    assert_eq!(agent.match_aws("*"), None);
    assert_eq!(agent.match_service("*"), None);
}
