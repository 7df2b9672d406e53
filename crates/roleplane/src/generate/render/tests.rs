//! The generator over hand-made records: grouping, resources, placeholders, PassRole, one
//! role's sessions across instances, the time window, denied and failed calls.

use serde_json::{Value, json};
use store::audit::{Event, NewEvent};

use super::*;
use crate::generate::{Activity, Window};

const ACCOUNT: &str = "123456789012";
const ROLE: &str = "arn:aws:iam::123456789012:role/app";
const WINDOW: Window = Window {
    start_ms: 1_000,
    end_ms: 9_000,
};

/// A record of `principal` calling `source`/`name` at `at_ms` with these parameters.
fn event(principal: &str, at_ms: i64, source: &str, name: &str, record: Value) -> Event {
    Event::new(
        at_ms,
        NewEvent {
            event_id: format!("id-{at_ms}"),
            event_time_ms: at_ms,
            account_id: ACCOUNT.into(),
            event_source: format!("{source}.amazonaws.com"),
            event_name: name.into(),
            read_only: false,
            access_key_id: Some("ASIAEXAMPLE".into()),
            username: None,
            principal_arn: Some(principal.into()),
            error_code: None,
            resources: "[]".into(),
            management: true,
            record: record.to_string(),
        },
    )
}

fn call(source: &str, name: &str, parameters: Value) -> Event {
    event(
        ROLE,
        2_000,
        source,
        name,
        json!({"requestParameters": parameters}),
    )
}

fn activity(events: &[Event]) -> Activity {
    let mut activity = Activity::new(ROLE, WINDOW);
    for e in events {
        activity.add(e);
    }
    activity
}

/// The single generated document, parsed.
fn policy(activity: &Activity, options: Options, directory: &Directory) -> Value {
    let documents = render(activity, options, directory).expect("valid policy");
    assert_eq!(documents.len(), 1, "{documents:?}");
    serde_json::from_str(&documents[0]).unwrap()
}

fn statements(activity: &Activity) -> Value {
    policy(activity, Options::default(), &Directory::default())["Statement"].clone()
}

#[test]
fn actions_are_grouped_by_the_resources_they_touched() {
    let events = [
        call("sts", "GetCallerIdentity", Value::Null),
        call("iam", "ListRoles", Value::Null),
        call("ec2", "DescribeInstances", json!({"instanceId": ["i-1"]})),
        call("iam", "GetRole", json!({"roleName": "web"})),
        call("iam", "GetRole", json!({"roleName": "db"})),
        call("iam", "GetRole", json!({"roleName": "web"})),
        call("iam", "ListRolePolicies", json!({"roleName": "db"})),
        call("iam", "ListRolePolicies", json!({"roleName": "web"})),
        call("iam", "ListRoleTags", json!({"roleName": "web"})),
    ];
    assert_eq!(
        statements(&activity(&events)),
        json!([
            {"Sid": "SupportedServiceSid0", "Effect": "Allow",
             "Action": ["ec2:DescribeInstances", "iam:ListRoles", "sts:GetCallerIdentity"],
             "Resource": "*"},
            {"Sid": "SupportedServiceSid1", "Effect": "Allow",
             "Action": ["iam:GetRole", "iam:ListRolePolicies"],
             "Resource": ["arn:aws:iam::123456789012:role/db", "arn:aws:iam::123456789012:role/web"]},
            {"Sid": "SupportedServiceSid2", "Effect": "Allow",
             "Action": ["iam:ListRoleTags"],
             "Resource": ["arn:aws:iam::123456789012:role/web"]},
        ])
    );
}

#[test]
fn an_action_seen_without_a_resource_is_granted_on_everything() {
    let instance = "arn:aws:ec2:us-east-1:123456789012:instance/i-1";
    let events = [
        event(
            ROLE,
            2_000,
            "ec2",
            "StopInstances",
            json!({"resources": [{"ARN": instance}]}),
        ),
        event(ROLE, 2_001, "ec2", "StopInstances", json!({})),
    ];
    assert_eq!(statements(&activity(&events))[0]["Resource"], json!("*"));
    assert_eq!(
        statements(&activity(&events[..1]))[0]["Resource"],
        json!([instance])
    );
}

#[test]
fn names_resolve_through_the_directory_to_arns_with_paths() {
    let events = [call("iam", "GetRole", json!({"roleName": "web"}))];
    let mut directory = Directory::default();
    directory.insert(
        ResourceKind::Role,
        ACCOUNT,
        "web",
        "arn:aws:iam::123456789012:role/team/web",
    );
    let doc = policy(&activity(&events), Options::default(), &directory);
    assert_eq!(
        doc["Statement"][0]["Resource"],
        json!(["arn:aws:iam::123456789012:role/team/web"])
    );
}

#[test]
fn placeholders_replace_the_resources_seen() {
    let events = [
        call("iam", "GetRole", json!({"roleName": "web"})),
        call("iam", "GetRole", json!({"roleName": "db"})),
        call(
            "iam",
            "GetInstanceProfile",
            json!({"instanceProfileName": "p"}),
        ),
        call("sts", "GetCallerIdentity", Value::Null),
        call(
            "ec2",
            "RunInstances",
            json!({"iamInstanceProfile": {"name": "p"}}),
        ),
    ];
    let mut directory = Directory::default();
    directory.insert_profile_role(ACCOUNT, "p", "arn:aws:iam::123456789012:role/web");
    let options = Options {
        resource_placeholders: true,
    };
    let doc = policy(&activity(&events), options, &directory);
    assert_eq!(
        doc["Statement"],
        json!([
            {"Sid": "SupportedServiceSid0", "Effect": "Allow",
             "Action": ["ec2:RunInstances", "sts:GetCallerIdentity"], "Resource": "*"},
            {"Sid": "SupportedServiceSid1", "Effect": "Allow", "Action": ["iam:GetInstanceProfile"],
             "Resource": ["arn:aws:iam::${Account}:instance-profile/${InstanceProfileNameWithPath}"]},
            {"Sid": "SupportedServiceSid2", "Effect": "Allow", "Action": ["iam:GetRole"],
             "Resource": ["arn:aws:iam::${Account}:role/${RoleNameWithPath}"]},
            {"Sid": "PassRoleSid0", "Effect": "Allow", "Action": ["iam:PassRole"],
             "Resource": ["arn:aws:iam::${Account}:role/${RoleNameWithPath}"],
             "Condition": {"StringEquals": {"iam:PassedToService": "ec2.amazonaws.com"}}},
        ])
    );
}

#[test]
fn passed_roles_get_pass_role_to_their_service() {
    let events = [
        // The profile's role is known from the principal's own AddRoleToInstanceProfile...
        call(
            "iam",
            "AddRoleToInstanceProfile",
            json!({"instanceProfileName": "built", "roleName": "worker"}),
        ),
        call(
            "ec2",
            "RunInstances",
            json!({"iamInstanceProfile": {"name": "built"}}),
        ),
        // ...or from the store, for a profile made by someone else.
        call(
            "ec2",
            "AssociateIamInstanceProfile",
            json!({"instanceId": "i-1",
                   "iamInstanceProfile": {"arn": "arn:aws:iam::123456789012:instance-profile/web"}}),
        ),
        // A profile with no role passes nothing.
        call(
            "ec2",
            "RunInstances",
            json!({"iamInstanceProfile": {"name": "empty"}}),
        ),
    ];
    let mut directory = Directory::default();
    directory.insert_profile_role(
        ACCOUNT,
        "web",
        "arn:aws:iam::123456789012:role/ops/web-role",
    );
    let doc = policy(&activity(&events), Options::default(), &directory);
    let statements = doc["Statement"].as_array().unwrap();
    let pass = statements.last().unwrap();
    assert_eq!(
        pass,
        &json!({"Sid": "PassRoleSid0", "Effect": "Allow", "Action": ["iam:PassRole"],
                "Resource": ["arn:aws:iam::123456789012:role/ops/web-role",
                             "arn:aws:iam::123456789012:role/worker"],
                "Condition": {"StringEquals": {"iam:PassedToService": "ec2.amazonaws.com"}}})
    );
    assert_eq!(
        statements
            .iter()
            .filter(|s| s["Action"].to_string().contains("iam:PassRole"))
            .count(),
        1
    );
}

#[test]
fn every_session_of_the_role_counts_and_nothing_else() {
    // Two instances' sessions and a developer's AssumeRole session all record the role as
    // their principal; another role's and a user's calls do not belong.
    let mut a = call("iam", "GetRole", json!({"roleName": "a"}));
    a.username = Some("i-0aaaaaaaaaaaaaaaa".into());
    let mut b = call("iam", "ListRoles", Value::Null);
    b.username = Some("i-0bbbbbbbbbbbbbbbb".into());
    let mut c = call("sts", "GetCallerIdentity", Value::Null);
    c.username = Some("dev-session".into());
    let other_role = event(
        "arn:aws:iam::123456789012:role/other",
        2_000,
        "iam",
        "ListUsers",
        json!({}),
    );
    let user = event(
        "arn:aws:iam::123456789012:user/app",
        2_000,
        "iam",
        "ListPolicies",
        json!({}),
    );
    let activity = activity(&[a, b, c, other_role, user]);
    let actions: Vec<&String> = activity.actions().keys().collect();
    assert_eq!(
        actions,
        ["iam:GetRole", "iam:ListRoles", "sts:GetCallerIdentity"]
    );
    assert_eq!((activity.scanned(), activity.used()), (5, 3));
}

#[test]
fn only_calls_inside_the_window_count_both_ends_included() {
    let events = [
        event(ROLE, WINDOW.start_ms - 1, "iam", "ListUsers", json!({})),
        event(ROLE, WINDOW.start_ms, "iam", "ListRoles", json!({})),
        event(ROLE, WINDOW.end_ms, "iam", "ListPolicies", json!({})),
        event(ROLE, WINDOW.end_ms + 1, "iam", "ListGroups", json!({})),
    ];
    let activity = activity(&events);
    let actions: Vec<&String> = activity.actions().keys().collect();
    assert_eq!(actions, ["iam:ListPolicies", "iam:ListRoles"]);
}

#[test]
fn denied_and_failed_calls_are_counted_but_not_granted() {
    let mut denied = call("iam", "ListUsers", Value::Null);
    denied.error_code = Some("AccessDenied".into());
    let mut ec2_denied = call("ec2", "TerminateInstances", json!({"instanceId": ["i-1"]}));
    ec2_denied.error_code = Some("Client.UnauthorizedOperation".into());
    let mut missing = call("iam", "GetRole", json!({"roleName": "gone"}));
    missing.error_code = Some("NoSuchEntity".into());
    let ok = call("iam", "ListRoles", Value::Null);
    let activity = activity(&[denied, ec2_denied, missing, ok]);
    let actions: Vec<&String> = activity.actions().keys().collect();
    assert_eq!(actions, ["iam:ListRoles"]);
    assert_eq!(
        activity.denied().keys().collect::<Vec<_>>(),
        ["ec2:TerminateInstances", "iam:ListUsers"]
    );
    assert_eq!(
        activity.failed().keys().collect::<Vec<_>>(),
        ["iam:GetRole"]
    );
}

#[test]
fn nothing_used_means_no_policy() {
    assert_eq!(
        render(&activity(&[]), Options::default(), &Directory::default()),
        Ok(Vec::new())
    );
}

#[test]
fn large_policies_split_under_the_managed_policy_size() {
    let events: Vec<Event> = (0..100)
        .map(|i| {
            call(
                "iam",
                "GetRole",
                json!({"roleName": format!("role-number-{i:04}")}),
            )
        })
        .chain((0..400).map(|i| {
            call(
                "iam",
                &format!("Action{i:03}"),
                json!({"roleName": format!("r{i}")}),
            )
        }))
        .collect();
    let documents = render(
        &activity(&events),
        Options::default(),
        &Directory::default(),
    )
    .unwrap();
    assert!(documents.len() > 2, "{}", documents.len());
    let mut actions = 0;
    for document in &documents {
        // A single statement may exceed the limit on its own; these do not.
        assert!(document.len() <= MAX_POLICY_CHARS, "{}", document.len());
        let doc: Value = serde_json::from_str(document).unwrap();
        actions += doc["Statement"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["Action"].as_array().unwrap().len())
            .sum::<usize>();
    }
    assert_eq!(actions, 401);
}

/// An S3 call's record as the seam writes it: the bucket and key it named, a data event when
/// CloudTrail counts it as one.
fn s3_call(name: &str, bucket: &str, key: Option<&str>) -> Event {
    let mut parameters = json!({"bucketName": bucket});
    if let Some(key) = key {
        parameters["key"] = key.into();
    }
    let mut event = call("s3", name, parameters);
    event.management = !crate::s3::actions::rule_of(name).unwrap().data;
    event
}

#[test]
fn s3_calls_become_s3_actions_on_the_bucket_and_grouped_objects() {
    let events = [
        s3_call("ListBuckets", "", None),
        s3_call("ListObjectsV2", "data", None),
        s3_call("HeadBucket", "data", None),
        s3_call("PutObject", "data", Some("app/one.txt")),
        s3_call("PutObject", "data", Some("app/two.txt")),
        s3_call("CreateMultipartUpload", "data", Some("app/big.bin")),
        s3_call("UploadPart", "data", Some("app/big.bin")),
        s3_call("CompleteMultipartUpload", "data", Some("app/big.bin")),
        s3_call("GetObject", "data", Some("app/one.txt")),
        s3_call("HeadObject", "data", Some("app/two.txt")),
        s3_call("GetObject", "data", Some("config/settings.json")),
    ];
    let activity = activity(&events);
    assert_eq!(activity.data_events(), 10);
    assert_eq!(
        statements(&activity),
        json!([
            {"Sid": "SupportedServiceSid0", "Effect": "Allow", "Action": ["s3:GetObject"],
             "Resource": ["arn:aws:s3:::data/app/*", "arn:aws:s3:::data/config/settings.json"]},
            {"Sid": "SupportedServiceSid1", "Effect": "Allow", "Action": ["s3:ListAllMyBuckets"],
             "Resource": "*"},
            {"Sid": "SupportedServiceSid2", "Effect": "Allow", "Action": ["s3:ListBucket"],
             "Resource": ["arn:aws:s3:::data"]},
            {"Sid": "SupportedServiceSid3", "Effect": "Allow", "Action": ["s3:PutObject"],
             "Resource": ["arn:aws:s3:::data/app/*"]},
        ])
    );
    let options = Options {
        resource_placeholders: true,
    };
    let templated = policy(&activity, options, &Directory::default());
    assert_eq!(
        templated["Statement"][0]["Resource"],
        json!(["arn:aws:s3:::${BucketName}/${ObjectName}"])
    );
}

#[test]
fn a_copy_reads_its_source_and_a_batch_delete_reaches_every_object() {
    let mut copy = s3_call("CopyObject", "data", Some("app/copy.txt"));
    copy.record = json!({"requestParameters": {"bucketName": "data", "key": "app/copy.txt",
                         "x-amz-copy-source": "archive/2024/old.txt"}})
    .to_string();
    let events = [
        copy,
        s3_call("DeleteObject", "data", Some("app/stale.txt")),
        s3_call("DeleteObjects", "data", None),
        // A denied read is left out, as for every service.
        {
            let mut denied = s3_call("GetObject", "data", Some("secret.txt"));
            denied.error_code = Some("AccessDenied".into());
            denied
        },
    ];
    let activity = activity(&events);
    assert_eq!(
        statements(&activity),
        json!([
            {"Sid": "SupportedServiceSid0", "Effect": "Allow", "Action": ["s3:DeleteObject"],
             "Resource": ["arn:aws:s3:::data/*"]},
            {"Sid": "SupportedServiceSid1", "Effect": "Allow", "Action": ["s3:GetObject"],
             "Resource": ["arn:aws:s3:::archive/2024/old.txt"]},
            {"Sid": "SupportedServiceSid2", "Effect": "Allow", "Action": ["s3:PutObject"],
             "Resource": ["arn:aws:s3:::data/app/copy.txt"]},
        ])
    );
    assert_eq!(
        activity.denied().keys().collect::<Vec<_>>(),
        ["s3:GetObject"]
    );
}
