//! Generation at scale: 1,000,000 records of one role (sessions on 100 instances, a realistic
//! mix of reads, writes, denied calls) among 100,000 of other principals, written with the
//! store's audit API, then scanned and rendered. Ignored by default (it writes ~1 GB); run:
//!
//! ```sh
//! ROLEPLANE_SCALE_DIR=/tmp/scale cargo test --release -p roleplane --lib \
//!     generate::scale_tests -- --ignored --nocapture
//! roleplane policy generate --data-dir /tmp/scale --since 0 \
//!     --principal arn:aws:iam::123456789012:role/fleet
//! ```
//!
//! It prints the times (never asserts on them: a timed assertion is a flaky test); it asserts
//! that every record was seen and the policy is exactly the mix's actions.

use std::sync::atomic::AtomicBool;
use std::time::Instant;

use serde_json::{Value, json};
use store::AuditLog;
use store::audit::NewEvent;

use super::{Activity, Directory, Options, Window, render, scan};

const ACCOUNT: &str = "123456789012";
const ROLE: &str = "arn:aws:iam::123456789012:role/fleet";
const RECORDS: u64 = 1_000_000;
const NOISE: u64 = 100_000;
const BATCH: u64 = 20_000;
const START_MS: i64 = 1_750_000_000_000;

/// `(source, name, requestParameters, errorCode)` of the role's calls, cycled.
fn mix() -> Vec<(&'static str, &'static str, Value, Option<&'static str>)> {
    vec![
        ("sts", "GetCallerIdentity", Value::Null, None),
        (
            "ec2",
            "DescribeInstances",
            json!({"instancesSet": {}}),
            None,
        ),
        ("iam", "GetRole", json!({"roleName": "app-a"}), None),
        ("iam", "GetRole", json!({"roleName": "app-b"}), None),
        ("iam", "ListRoles", Value::Null, None),
        (
            "iam",
            "ListRolePolicies",
            json!({"roleName": "app-a"}),
            None,
        ),
        (
            "ec2",
            "RunInstances",
            json!({"imageId": "ami-0123456789abcdef0", "iamInstanceProfile": {"name": "worker"}}),
            None,
        ),
        (
            "iam",
            "AddRoleToInstanceProfile",
            json!({"instanceProfileName": "worker", "roleName": "worker-role"}),
            None,
        ),
        ("iam", "ListUsers", Value::Null, Some("AccessDenied")),
    ]
}

fn record(
    i: u64,
    principal: &str,
    source: &str,
    name: &str,
    parameters: &Value,
    error: Option<&str>,
) -> NewEvent {
    let at_ms = START_MS + i64::try_from(i).unwrap_or(0);
    let instance = format!("i-{:017x}", i % 100);
    let role_name = principal.rsplit('/').next().unwrap_or_default();
    let mut record = json!({
        "eventVersion": "1.11",
        "userIdentity": {
            "type": "AssumedRole",
            "principalId": format!("AROAEXAMPLEEXAMPLE001:{instance}"),
            "arn": format!("arn:aws:sts::{ACCOUNT}:assumed-role/{role_name}/{instance}"),
            "accountId": ACCOUNT,
            "accessKeyId": "ASIAEXAMPLEEXAMPLE01",
            "sessionContext": {
                "sessionIssuer": {"type": "Role", "principalId": "AROAEXAMPLEEXAMPLE001",
                                  "arn": principal, "accountId": ACCOUNT, "userName": role_name},
                "attributes": {"creationDate": "2025-06-15T14:00:00Z", "mfaAuthenticated": "false"},
                "ec2RoleDelivery": "2.0"
            }
        },
        "eventTime": "2025-06-15T15:06:40Z",
        "eventSource": format!("{source}.amazonaws.com"),
        "eventName": name,
        "awsRegion": "us-east-1",
        "sourceIPAddress": "127.0.0.11",
        "userAgent": "aws-cli/1.45.11 md/Botocore#1.43.11 ua/2.1 os/linux#6.18 md/arch#x86_64 lang/python#3.11.7",
        "requestParameters": parameters,
        "responseElements": null,
        "requestID": "0b1f4a4e-6c3a-4d0b-9f0e-8e2b8c1d2e3f",
        "eventID": format!("00000000-0000-7000-8000-{i:012x}"),
        "readOnly": true,
        "eventType": "AwsApiCall",
        "managementEvent": true,
        "recipientAccountId": ACCOUNT,
        "eventCategory": "Management",
    });
    if let Some(code) = error {
        record["errorCode"] = code.into();
        record["errorMessage"] = "User: … is not authorized".into();
    }
    NewEvent {
        event_id: format!("00000000-0000-7000-8000-{i:012x}"),
        event_time_ms: at_ms,
        account_id: ACCOUNT.into(),
        event_source: format!("{source}.amazonaws.com"),
        event_name: name.into(),
        read_only: true,
        access_key_id: Some("ASIAEXAMPLEEXAMPLE01".into()),
        username: Some(instance),
        principal_arn: Some(principal.into()),
        error_code: error.map(str::to_owned),
        resources: "[]".into(),
        management: true,
        record: record.to_string(),
    }
}

async fn write(log: &AuditLog) {
    let mix = mix();
    let total = RECORDS + NOISE;
    let mut batch = Vec::with_capacity(BATCH as usize);
    for i in 0..total {
        // Every eleventh record is another role's.
        let (source, name, parameters, error) = &mix[(i % mix.len() as u64) as usize];
        let principal = if i % 11 == 10 {
            "arn:aws:iam::123456789012:role/other"
        } else {
            ROLE
        };
        batch.push(record(i, principal, source, name, parameters, *error));
        if batch.len() as u64 == BATCH {
            log.append(&batch).await.unwrap();
            batch.clear();
        }
    }
    log.append(&batch).await.unwrap();
}

/// The log's own read speed, for comparison: the same pages, nothing folded.
async fn raw_read(log: &AuditLog) {
    use store::audit::{EventFilter, EventQuery, Order};
    let started = Instant::now();
    let mut query = EventQuery {
        filter: Some(EventFilter::PrincipalArn(ROLE)),
        order: Order::OldestFirst,
        limit: 10_000,
        ..EventQuery::default()
    };
    let mut n = 0;
    loop {
        let page = log.lookup(&query).await.unwrap();
        n += page.len();
        match page.last() {
            Some(last) if page.len() == 10_000 => query.after = Some(last.position()),
            _ => break,
        }
    }
    eprintln!(
        "read {n} records, nothing folded, in {:.2?}",
        started.elapsed()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "writes 1,100,000 records (~1.5 GB); run by hand, see the module docs"]
async fn a_million_records_generate_in_seconds() {
    let temp = tempfile::tempdir().unwrap();
    let dir = std::env::var_os("ROLEPLANE_SCALE_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| temp.path().to_owned());
    // A directory given that already holds the log is reused: writing is the slow part.
    let reuse = dir.join(store::AUDIT_DATABASE_FILE).exists();
    let log = AuditLog::open(&dir).await.unwrap();
    if !reuse {
        let written = Instant::now();
        write(&log).await;
        eprintln!(
            "wrote {} records in {:.1?}",
            RECORDS + NOISE,
            written.elapsed()
        );
    }
    raw_read(&log).await;

    let started = Instant::now();
    let window = Window {
        start_ms: 0,
        end_ms: i64::MAX,
    };
    let mut activity = Activity::new(ROLE, window);
    let never = AtomicBool::new(false);
    let mut pages = 0;
    scan(&log.clone().into(), &mut activity, &never, |_| pages += 1)
        .await
        .unwrap();
    let scanned = started.elapsed();
    let documents = render(&activity, Options::default(), &Directory::default()).unwrap();
    eprintln!(
        "generated from {} records in {:.2?} (scan {:.2?}, {} pages, {:.0} records/s)",
        activity.scanned(),
        started.elapsed(),
        scanned,
        pages,
        activity.scanned() as f64 / scanned.as_secs_f64()
    );
    // The index range holds exactly the role's records; every one was folded.
    let role_records = (0..RECORDS + NOISE).filter(|i| i % 11 != 10).count() as u64;
    assert_eq!(activity.scanned(), role_records);
    let policy: Value = serde_json::from_str(&documents[0]).unwrap();
    assert_eq!(
        policy["Statement"],
        json!([
            {"Sid": "SupportedServiceSid0", "Effect": "Allow",
             "Action": ["ec2:DescribeInstances", "ec2:RunInstances", "iam:ListRoles", "sts:GetCallerIdentity"],
             "Resource": "*"},
            {"Sid": "SupportedServiceSid1", "Effect": "Allow",
             "Action": ["iam:AddRoleToInstanceProfile"],
             "Resource": ["arn:aws:iam::123456789012:instance-profile/worker"]},
            {"Sid": "SupportedServiceSid2", "Effect": "Allow",
             "Action": ["iam:GetRole"],
             "Resource": ["arn:aws:iam::123456789012:role/app-a", "arn:aws:iam::123456789012:role/app-b"]},
            {"Sid": "SupportedServiceSid3", "Effect": "Allow",
             "Action": ["iam:ListRolePolicies"],
             "Resource": ["arn:aws:iam::123456789012:role/app-a"]},
            {"Sid": "PassRoleSid0", "Effect": "Allow", "Action": ["iam:PassRole"],
             "Resource": ["arn:aws:iam::123456789012:role/worker-role"],
             "Condition": {"StringEquals": {"iam:PassedToService": "ec2.amazonaws.com"}}},
        ])
    );
    assert_eq!(
        activity.denied().keys().collect::<Vec<_>>(),
        ["iam:ListUsers"]
    );
    log.close().await;
}
