//! The audit trail of replicas on one PostgreSQL database (decision 0027): each call's record
//! is committed to the database before its response leaves, so the calls one replica served
//! are in the other's LookupEvents as soon as their responses arrive (read right after, never
//! waited for); `roleplane audit export --store` reads every replica's records without any
//! replica's data dir; a policy generation started on one replica reads what a principal did
//! through the other, a replica started later restores the job and computes its policy again
//! from the shared trail, and `roleplane policy generate --store` finds the same; the group
//! commit's counters are scraped. The size cap holds on the database's records. A record the database refuses
//! fails its call with a retryable 503 in AWS's shape, and the trail serves again once the
//! database takes records.

use std::process::Command;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use aws_sdk_iam::error::ProvideErrorMetadata as _;
use aws_sdk_iam::operation::RequestId as _;
use base64::Engine as _;
use e2e::raw::{Signer, signed_post};
use e2e::{ACCOUNT_ID, ADMIN_KEY_ID, ADMIN_SECRET, Server, pg};
use serde_json::{Value, json};
use sqlx::Connection as _;

use crate::audit::{lookup_all, record};

fn replica(data_dir: &std::path::Path, url: &str, extra: &[&str]) -> Server {
    let master = base64::engine::general_purpose::STANDARD.encode([7u8; 32]);
    let mut flags = vec!["--store", url];
    flags.extend_from_slice(extra);
    Server::start_configured(
        &[],
        data_dir,
        &flags,
        &[("ROLEPLANE_MASTER_KEY", master.as_str())],
    )
}

/// `server`'s LookupEvents events for `name`, newest first.
fn events_named(server: &Server, name: &str) -> Vec<Value> {
    lookup_all(server, Some(("EventName", name)), 50)
}

fn request_ids(events: &[Value]) -> Vec<String> {
    events
        .iter()
        .map(|e| record(e)["requestID"].as_str().unwrap().to_owned())
        .collect()
}

const TRUST_ADMIN: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:user/admin"},"Action":"sts:AssumeRole"}]}"#;
const READ_ROLES: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["iam:GetRole","iam:ListRoles"],"Resource":"*"}]}"#;

#[tokio::test(flavor = "multi_thread")]
async fn each_replica_reads_the_calls_the_other_served_once_answered() {
    let database = pg::Database::create().await;
    let temp = tempfile::tempdir().unwrap();
    let admin_addr = format!("127.0.0.1:{}", e2e::free_port());
    let a = replica(&temp.path().join("a"), &database.url, &[]);
    let b = replica(
        &temp.path().join("b"),
        &database.url,
        &["--admin-addr", &admin_addr],
    );
    let since = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
        - 60;

    // CreateRole through A: in B's LookupEvents the moment A answered.
    let created = a
        .iam()
        .await
        .create_role()
        .role_name("audited")
        .assume_role_policy_document(TRUST_ADMIN)
        .send()
        .await
        .expect("CreateRole through A");
    let create_id = created.request_id().unwrap().to_owned();
    let on_b = events_named(&b, "CreateRole");
    assert_eq!(
        request_ids(&on_b),
        std::slice::from_ref(&create_id),
        "{on_b:?}"
    );
    assert_eq!(
        on_b[0]["Resources"],
        json!([{"ResourceType": "AWS::IAM::Role", "ResourceName": "audited"}])
    );
    assert_eq!(record(&on_b[0])["requestParameters"]["roleName"], "audited");

    // AssumeRole through A.
    let assumed = a
        .sts()
        .await
        .assume_role()
        .role_arn(format!("arn:aws:iam::{ACCOUNT_ID}:role/audited"))
        .role_session_name("across")
        .send()
        .await
        .expect("AssumeRole through A");
    let on_b = events_named(&b, "AssumeRole");
    assert_eq!(
        request_ids(&on_b),
        [assumed.request_id().unwrap().to_owned()]
    );
    let assume_record = record(&on_b[0]);
    assert_eq!(
        assume_record["requestParameters"]["roleSessionName"],
        "across"
    );
    // The session's secret never reaches the trail another replica serves either.
    let secret = assumed.credentials().unwrap().secret_access_key();
    assert!(!on_b[0].to_string().contains(secret));

    // A denied call through A, by a user without policies.
    let bob = a.user_with_key("bob").await;
    let bob_iam = aws_sdk_iam::Client::new(&a.key_config(&bob).await);
    let denied = bob_iam.list_roles().send().await.unwrap_err();
    assert_eq!(denied.code(), Some("AccessDenied"));
    let on_b = lookup_all(&b, Some(("Username", "bob")), 50);
    assert_eq!(on_b.len(), 1, "{on_b:?}");
    assert_eq!(on_b[0]["EventName"], "ListRoles");
    assert_eq!(record(&on_b[0])["errorCode"], "AccessDenied");

    // A call without an authenticated caller, through A.
    let stranger =
        aws_sdk_iam::Client::new(&a.config("AKIANOSUCHKEYEXAMPLE", "not-a-secret", None).await);
    stranger.get_user().send().await.unwrap_err();
    let on_b = events_named(&b, "GetUser");
    assert_eq!(on_b.len(), 1, "{on_b:?}");
    assert_eq!(record(&on_b[0])["errorCode"], "InvalidClientTokenId");

    // And the other way: B's call in A's LookupEvents, one trail in one order.
    let b_call = b
        .iam()
        .await
        .get_role()
        .role_name("audited")
        .send()
        .await
        .unwrap();
    let b_id = b_call.request_id().unwrap().to_owned();
    let all_on_a = lookup_all(&a, None, 3);
    let ids = request_ids(&all_on_a);
    assert_eq!(ids.first(), Some(&b_id), "newest first: B's GetRole");
    assert!(ids.contains(&create_id));
    let times: Vec<i64> = all_on_a
        .iter()
        .map(|e| e["EventTime"].as_i64().unwrap())
        .collect();
    assert!(times.windows(2).all(|w| w[0] >= w[1]), "{times:?}");

    // `roleplane audit export --store` reads both replicas' records, from no replica's dir.
    let nowhere = tempfile::tempdir().unwrap();
    let output = Command::new(e2e::binary())
        .args(["audit", "export", "--since", &since.to_string()])
        .args(["--store", &database.url, "--data-dir"])
        .arg(nowhere.path())
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    let exported: Vec<Value> = String::from_utf8(output.stdout)
        .unwrap()
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    let exported_ids: Vec<&str> = exported
        .iter()
        .map(|r| r["requestID"].as_str().unwrap())
        .collect();
    for id in [&create_id, &b_id] {
        assert!(exported_ids.contains(&id.as_str()), "{id} not exported");
    }
    assert_eq!(
        exported.len(),
        lookup_all(&b, None, 50).len(),
        "the export and LookupEvents read the same trail"
    );

    // Policy generation started on B over a principal that only ever called A.
    let carol = a.user_with_key("carol").await;
    a.iam()
        .await
        .put_user_policy()
        .user_name("carol")
        .policy_name("read-roles")
        .policy_document(READ_ROLES)
        .send()
        .await
        .unwrap();
    let carol_iam = aws_sdk_iam::Client::new(&a.key_config(&carol).await);
    carol_iam.list_roles().send().await.unwrap();
    carol_iam
        .get_role()
        .role_name("audited")
        .send()
        .await
        .unwrap();
    let carol_arn = format!("arn:aws:iam::{ACCOUNT_ID}:user/carol");
    let job_id = start_generation(&b, &carol_arn, since);
    let generated = generated_actions(&generation_of(&b, &job_id));
    for action in ["iam:GetRole", "iam:ListRoles"] {
        assert!(generated.contains(&action.to_owned()), "{generated:?}");
    }
    // A replica started later restores the job from the store and, asked for its policy,
    // computes it again from the shared trail: the same actions.
    let c = replica(&temp.path().join("c"), &database.url, &[]);
    assert_eq!(generated_actions(&generation_of(&c, &job_id)), generated);
    // `roleplane policy generate --store` reads the same trail from no replica's dir.
    let output = Command::new(e2e::binary())
        .args(["policy", "generate", "--principal", &carol_arn])
        .args(["--since", &since.to_string(), "--store", &database.url])
        .arg("--data-dir")
        .arg(nowhere.path())
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    let printed: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(generated_actions(&printed), generated);

    // B's group commit committed B's own records, and nothing waits now.
    let metrics = e2e::raw::send(
        &admin_addr,
        format!("GET /metrics HTTP/1.1\r\nhost: {admin_addr}\r\nconnection: close\r\n\r\n")
            .as_bytes(),
    )
    .body;
    let value = |series: &str| -> f64 {
        metrics
            .lines()
            .find_map(|line| line.strip_prefix(series)?.strip_prefix(' '))
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or_else(|| panic!("{series} in {metrics}"))
    };
    let (commits, records) = (
        value("roleplane_audit_commits_total"),
        value("roleplane_audit_committed_records_total"),
    );
    assert!(commits >= 1.0 && records >= commits, "{metrics}");
    assert_eq!(value("roleplane_audit_pending_records"), 0.0);
}

fn analyzer() -> Signer<'static> {
    Signer::new("access-analyzer", (ADMIN_KEY_ID, ADMIN_SECRET))
}

/// Starts a policy generation for `principal` on `server`; its job ID.
fn start_generation(server: &Server, principal: &str, since: u64) -> String {
    let json_type = [("content-type", "application/json")];
    let body = json!({
        "policyGenerationDetails": {"principalArn": principal},
        "cloudTrailDetails": {
            "trails": [{"cloudTrailArn": format!("arn:aws:cloudtrail:{}:{ACCOUNT_ID}:trail/t", e2e::REGION)}],
            "accessRole": format!("arn:aws:iam::{ACCOUNT_ID}:role/service-role/AccessAnalyzer"),
            "startTime": since,
        },
    });
    let started = analyzer().send(
        &server.endpoint,
        "PUT",
        "/policy/generation",
        &json_type,
        body.to_string().as_bytes(),
    );
    assert_eq!(started.status, 200, "{}", started.body);
    let job: Value = serde_json::from_str(&started.body).unwrap();
    job["jobId"].as_str().unwrap().to_owned()
}

/// GetGeneratedPolicy's answer on `server` once the job ended (succeeded).
fn generation_of(server: &Server, job_id: &str) -> Value {
    let path = format!("/policy/generation/{job_id}");
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let got = analyzer().send(&server.endpoint, "GET", &path, &[], b"");
        assert_eq!(got.status, 200, "{}", got.body);
        let got: Value = serde_json::from_str(&got.body).unwrap();
        if got["jobDetails"]["status"] != "IN_PROGRESS" {
            assert_eq!(got["jobDetails"]["status"], "SUCCEEDED", "{got}");
            return got;
        }
        assert!(Instant::now() < deadline, "still running: {got}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// The actions of a generated policy (GetGeneratedPolicy's shape), sorted.
fn generated_actions(answer: &Value) -> Vec<String> {
    let text = answer["generatedPolicyResult"]["generatedPolicies"][0]["policy"]
        .as_str()
        .unwrap_or_else(|| panic!("a generated policy: {answer}"));
    let policy: Value = serde_json::from_str(text).unwrap();
    let mut actions: Vec<String> = policy["Statement"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|s| s["Action"].as_array().unwrap())
        .map(|a| a.as_str().unwrap().to_owned())
        .collect();
    actions.sort();
    actions
}

/// A database that refuses records: every statement writing the trail's tables fails (the
/// records, and the usage sums the refusal probe writes), while the store's own tables still
/// take writes.
const REFUSE_RECORDS: &str = "\
    CREATE FUNCTION refuse_audit_records() RETURNS trigger LANGUAGE plpgsql AS \
        $$ BEGIN RAISE EXCEPTION 'audit records refused by the test'; END $$; \
    CREATE TRIGGER refuse_audit_records BEFORE INSERT ON audit_events \
        FOR EACH STATEMENT EXECUTE FUNCTION refuse_audit_records(); \
    CREATE TRIGGER refuse_audit_records BEFORE INSERT OR UPDATE ON audit_usage \
        FOR EACH STATEMENT EXECUTE FUNCTION refuse_audit_records();";

#[tokio::test(flavor = "multi_thread")]
async fn a_call_whose_record_the_database_refuses_is_answered_503_and_never_acknowledged() {
    let database = pg::Database::create().await;
    let temp = tempfile::tempdir().unwrap();
    let server = replica(&temp.path().join("a"), &database.url, &[]);
    let create = |name: &str| {
        let body = format!(
            "Action=CreateRole&Version=2010-05-08&RoleName={name}&AssumeRolePolicyDocument={}",
            e2e::raw::percent_encode(TRUST_ADMIN)
        );
        signed_post(
            &server.endpoint,
            "iam",
            (ADMIN_KEY_ID, ADMIN_SECRET),
            body.as_bytes(),
        )
    };
    assert_eq!(create("before").status, 200);

    let mut db = sqlx::PgConnection::connect(&database.url).await.unwrap();
    sqlx::raw_sql(REFUSE_RECORDS)
        .execute(&mut db)
        .await
        .unwrap();
    let refused = create("refused");
    assert_eq!(refused.status, 503, "{}", refused.body);
    assert!(
        refused.body.contains("<Code>ServiceUnavailable</Code>"),
        "{}",
        refused.body
    );
    // The trail stays closed while the database refuses records (its probe is refused too):
    // the next call is not served.
    let closed = create("not-served");
    assert_eq!(closed.status, 503, "{}", closed.body);

    sqlx::raw_sql(
        "DROP TRIGGER refuse_audit_records ON audit_events; \
         DROP TRIGGER refuse_audit_records ON audit_usage",
    )
    .execute(&mut db)
    .await
    .unwrap();
    // Served again once a probe finds the database takes writes (about a second); bounded
    // generously, as this asserts that it reopens, not how fast.
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let answer = create("after");
        if answer.status == 200 {
            break;
        }
        assert_eq!(answer.status, 503, "{}", answer.body);
        assert!(Instant::now() < deadline, "the trail never reopened");
        std::thread::sleep(Duration::from_millis(100));
    }
    // Every acknowledged CreateRole has its record; the refused one answered 503 (its role may
    // exist, as after any 503), and the one refused before it was served has neither.
    let names: Vec<String> = events_named(&server, "CreateRole")
        .iter()
        .map(|e| {
            record(e)["requestParameters"]["roleName"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    assert_eq!(names, ["after", "before"]);
    let not_served = server
        .iam()
        .await
        .get_role()
        .role_name("not-served")
        .send()
        .await
        .unwrap_err();
    assert_eq!(not_served.code(), Some("NoSuchEntity"));
}

/// `name`'s value in a Prometheus text page (the first series whose name and labels match).
fn series(metrics: &str, name: &str) -> f64 {
    metrics
        .lines()
        .find_map(|line| line.strip_prefix(name)?.strip_prefix(' '))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or_else(|| panic!("{name} in {metrics}"))
}

fn scrape(admin: &str) -> String {
    e2e::raw::send(
        admin,
        format!("GET /metrics HTTP/1.1\r\nhost: {admin}\r\nconnection: close\r\n\r\n").as_bytes(),
    )
    .body
}

#[tokio::test(flavor = "multi_thread")]
async fn the_size_cap_holds_on_the_database() {
    const CAP: f64 = 1024.0 * 1024.0;
    let database = pg::Database::create().await;
    let temp = tempfile::tempdir().unwrap();
    let admin = format!("127.0.0.1:{}", e2e::free_port());
    let server = replica(
        &temp.path().join("a"),
        &database.url,
        &["--audit-max-mib", "1", "--admin-addr", &admin],
    );
    // About three times the cap in records, in concurrent waves.
    let sts = server.sts().await;
    for _ in 0..30 {
        let wave: Vec<_> = (0..100)
            .map(|_| {
                let sts = sts.clone();
                tokio::spawn(async move { sts.get_caller_identity().send().await })
            })
            .collect();
        for call in wave {
            call.await.unwrap().expect("GetCallerIdentity");
        }
    }
    let newest = sts.get_caller_identity().send().await.unwrap();
    let newest = aws_sdk_sts::operation::RequestId::request_id(&newest)
        .unwrap()
        .to_owned();
    // The keeper looks once a second: bounded generously, as this asserts that the cap holds,
    // not how fast.
    let deadline = Instant::now() + Duration::from_secs(60);
    let metrics = loop {
        let metrics = scrape(&admin);
        let evicted = series(
            &metrics,
            "roleplane_audit_evicted_records_total{journal=\"authenticated\"}",
        );
        if evicted > 0.0 && series(&metrics, "roleplane_audit_trail_bytes") <= CAP {
            break metrics;
        }
        assert!(Instant::now() < deadline, "the cap never held: {metrics}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert!(
        series(
            &metrics,
            "roleplane_audit_evicted_bytes_total{journal=\"authenticated\"}"
        ) > 0.0
    );
    // The oldest records went, the newest stayed.
    let left = lookup_all(&server, Some(("EventName", "GetCallerIdentity")), 50);
    assert!(left.len() < 3000, "{} records left", left.len());
    assert_eq!(request_ids(&left[..1]), [newest]);
}
