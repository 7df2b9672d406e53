//! Operating the server (issue 16, part 4): the admin listener's `/healthz`, `/readyz` and
//! `/metrics` on a real server, and `--log-format json`.

use std::path::Path;
use std::process::Command;

use e2e::Server;
use e2e::raw::{RawResponse, send};

/// A fresh server with its admin listener on a free port; its address.
fn with_admin(data_dir: &Path, extra: &[&str]) -> (Server, String) {
    let admin = format!("127.0.0.1:{}", e2e::free_port());
    let mut flags = vec!["--admin-addr", admin.as_str()];
    flags.extend_from_slice(extra);
    (Server::start_with(data_dir, &flags), admin)
}

fn get(admin: &str, path: &str) -> RawResponse {
    send(
        admin,
        format!("GET {path} HTTP/1.1\r\nhost: {admin}\r\nconnection: close\r\n\r\n").as_bytes(),
    )
}

#[test]
fn health_is_up_and_readiness_follows_the_store_schema() {
    let temp = tempfile::tempdir().unwrap();
    let data = temp.path().join("data");
    let (server, admin) = with_admin(&data, &[]);

    let health = get(&admin, "/healthz");
    assert_eq!(health.status, 200, "{}", health.head);
    let ready = get(&admin, "/readyz");
    assert_eq!((ready.status, ready.body.as_str()), (200, "ready\n"));
    // Not on the admin listener: the API's paths, and anything else.
    assert_eq!(get(&admin, "/").status, 404);

    // A database whose newest migration is no longer recorded as applied (as one migrated by
    // an older build): not ready, and the body says which migration.
    let database = data.join("roleplane.db");
    let removed = Command::new("python3")
        .args([
            "-c",
            "import sqlite3, sys\n\
             db = sqlite3.connect(sys.argv[1])\n\
             (last,) = db.execute('SELECT max(version) FROM _sqlx_migrations').fetchone()\n\
             db.execute('DELETE FROM _sqlx_migrations WHERE version = ?', (last,))\n\
             db.commit()\n\
             print(last)",
        ])
        .arg(&database)
        .output()
        .expect("python3 with sqlite3");
    assert!(removed.status.success(), "{removed:?}");
    let last = String::from_utf8(removed.stdout).unwrap();
    let not_ready = get(&admin, "/readyz");
    assert_eq!(not_ready.status, 503, "{}", not_ready.body);
    assert_eq!(
        not_ready.body,
        format!(
            "store: database schema not current: migration {} is not applied\n",
            last.trim()
        )
    );
    // Liveness is not readiness: the process is still up.
    assert_eq!(get(&admin, "/healthz").status, 200);
    // One log line holds `ready`, the one scripts wait for: not the admin listener's.
    let ready = server.logged("ready");
    assert_eq!(ready.len(), 1, "{ready:?}");
    assert!(ready[0].contains("roleplane ready api="), "{ready:?}");
}

/// The value of the series `series` (its name and labels as printed).
fn metric(text: &str, series: &str) -> f64 {
    text.lines()
        .find_map(|line| line.strip_prefix(series)?.strip_prefix(' '))
        .and_then(|value| value.trim().parse::<f64>().ok())
        .unwrap_or_else(|| panic!("{series} in:\n{text}"))
}

fn scrape(admin: &str) -> String {
    let response = get(admin, "/metrics");
    assert_eq!(response.status, 200, "{}", response.head);
    assert!(
        response.head.to_lowercase().contains("openmetrics-text"),
        "{}",
        response.head
    );
    response.body
}

const DENY_GET_USER: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"iam:GetUser","Resource":"*"}]}"#;
const READ_NOTHING: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:ListAllMyBuckets","Resource":"*"}]}"#;

/// Each named series after known traffic: counts that must equal what was sent, values that
/// must be plausible. No timing is asserted, only that every call landed in a bucket.
#[tokio::test]
async fn metrics_count_requests_decisions_credentials_caches_and_the_store() {
    let temp = tempfile::tempdir().unwrap();
    let (server, admin) = with_admin(&temp.path().join("data"), &[]);
    let before = scrape(&admin);
    // Every fixed series is there before any traffic, at 0.
    for series in [
        "roleplane_imds_credentials_issued_total",
        "roleplane_imds_credentials_served_total",
        "roleplane_authorization_decisions_total{service=\"iam\",decision=\"allow\"}",
        "roleplane_cache_lookups_total{cache=\"imds_credentials\",result=\"hit\"}",
        "roleplane_audit_pending_records",
    ] {
        assert_eq!(metric(&before, series), 0.0, "{series}");
    }

    let sts = server.sts().await;
    for _ in 0..3 {
        sts.get_caller_identity()
            .send()
            .await
            .expect("GetCallerIdentity");
    }
    // An explicit and an implicit deny, from a user whose only policy denies iam:GetUser.
    let key = server.user_with_key("metrics-user").await;
    let iam = server.iam().await;
    iam.put_user_policy()
        .user_name("metrics-user")
        .policy_name("deny")
        .policy_document(DENY_GET_USER)
        .send()
        .await
        .expect("PutUserPolicy");
    let limited = aws_sdk_iam::Client::new(&server.key_config(&key).await);
    let denied = limited.get_user().user_name("admin").send().await;
    assert_eq!(e2e::failure(denied).2, 403);
    let denied = limited.list_users().send().await;
    assert_eq!(e2e::failure(denied).2, 403);
    // An unsigned call no service takes.
    let unsigned = e2e::raw::unsigned(
        &server.endpoint,
        "POST",
        "/",
        &[("content-type", e2e::raw::FORM)],
        b"Action=ListUsers&Version=2010-05-08",
    );
    assert_eq!(unsigned.status, 403, "{}", unsigned.body);
    // An instance fetching its role's credentials twice: one set issued, served twice.
    server
        .instance_role("metrics-role", "metrics-profile", READ_NOTHING)
        .await;
    let (_, ip) = server.launch(Some("metrics-profile")).await;
    let first = e2e::imds::credentials(&ip, server.imds_port, "metrics-role", true);
    let again = e2e::imds::credentials(&ip, server.imds_port, "metrics-role", true);
    assert_eq!(first["AccessKeyId"], again["AccessKeyId"]);

    let text = scrape(&admin);
    let requests = |service: &str, operation: &str, status: u16| {
        metric(
            &text,
            &format!(
                "roleplane_requests_total{{service=\"{service}\",operation=\"{operation}\",status=\"{status}\"}}"
            ),
        )
    };
    assert_eq!(requests("sts", "GetCallerIdentity", 200), 3.0);
    assert_eq!(requests("iam", "CreateUser", 200), 1.0);
    assert_eq!(requests("iam", "GetUser", 403), 1.0);
    assert_eq!(requests("iam", "ListUsers", 403), 1.0);
    assert_eq!(requests("ec2", "RunInstances", 200), 1.0);
    assert_eq!(requests("unrouted", "unknown", 403), 1.0);
    // Latency: every STS call in the histogram (three), the +Inf bucket holding them all.
    assert_eq!(
        metric(
            &text,
            "roleplane_request_duration_seconds_count{service=\"sts\"}"
        ),
        3.0
    );
    assert_eq!(
        metric(
            &text,
            "roleplane_request_duration_seconds_bucket{le=\"+Inf\",service=\"sts\"}"
        ),
        3.0
    );
    assert!(
        metric(
            &text,
            "roleplane_request_duration_seconds_sum{service=\"iam\"}"
        ) > 0.0
    );

    let decisions = |service: &str, decision: &str| {
        metric(
            &text,
            &format!(
                "roleplane_authorization_decisions_total{{service=\"{service}\",decision=\"{decision}\"}}"
            ),
        )
    };
    assert_eq!(decisions("iam", "explicit_deny"), 1.0);
    assert_eq!(decisions("iam", "implicit_deny"), 1.0);
    // The admin's IAM writes (user, key, policy, role, profile…) and EC2's launch.
    assert!(decisions("iam", "allow") >= 8.0, "{text}");
    assert!(decisions("ec2", "allow") >= 1.0, "{text}");

    assert_eq!(
        metric(&text, "roleplane_imds_credentials_issued_total"),
        1.0
    );
    assert_eq!(
        metric(&text, "roleplane_imds_credentials_served_total"),
        2.0
    );
    let cache = |cache: &str, result: &str| {
        metric(
            &text,
            &format!("roleplane_cache_lookups_total{{cache=\"{cache}\",result=\"{result}\"}}"),
        )
    };
    assert_eq!(cache("imds_credentials", "miss"), 1.0);
    assert_eq!(cache("imds_credentials", "hit"), 1.0);
    // The admin's key is read once per IAM generation and then served from memory.
    assert!(cache("access_keys", "hit") >= 1.0, "{text}");
    assert!(cache("access_keys", "miss") >= 1.0, "{text}");
    assert!(cache("policies", "hit") + cache("policies", "miss") >= 1.0);

    let pool_max = metric(&text, "roleplane_store_pool_max_connections");
    let pool_open = metric(&text, "roleplane_store_pool_connections");
    let pool_idle = metric(&text, "roleplane_store_pool_idle_connections");
    assert!(
        pool_max >= 1.0 && (1.0..=pool_max).contains(&pool_open),
        "{text}"
    );
    assert!(pool_idle <= pool_open, "{text}");
    // Every call above was answered only once its record was durable: nothing is pending.
    assert_eq!(metric(&text, "roleplane_audit_pending_records"), 0.0);
    assert!(metric(&text, "roleplane_audit_trail_bytes") > 0.0);
}

/// `--log-format json` at debug level: every line the server writes, on standard output and
/// standard error, is one JSON object with the usual fields; the `ready` line keeps its words;
/// and no secret handed out or used on the way (keys, session tokens, instance credentials)
/// appears in any line.
#[tokio::test]
async fn json_logs_are_one_object_per_line_and_carry_no_secrets() {
    let temp = tempfile::tempdir().unwrap();
    let stderr = temp.path().join("stderr");
    // The server's standard error into a file, and the most talkative filter.
    let script = format!(
        "ROLEPLANE_LOG=debug exec \"$0\" \"$@\" 2>>'{}'",
        stderr.display()
    );
    let admin = format!("127.0.0.1:{}", e2e::free_port());
    let mut server = Server::start_wrapped(
        &["sh", "-c", &script],
        &temp.path().join("data"),
        &["--log-format", "json", "--admin-addr", &admin],
    );

    let mut secrets = vec![e2e::ADMIN_SECRET.to_owned()];
    let key = server.user_with_key("json-logs-user").await;
    secrets.push(key.secret_access_key().to_owned());
    let session = server
        .sts()
        .await
        .get_session_token()
        .send()
        .await
        .expect("GetSessionToken");
    let session = session.credentials().expect("credentials").clone();
    secrets.push(session.secret_access_key().to_owned());
    secrets.push(session.session_token().to_owned());
    aws_sdk_sts::Client::new(&server.session_config(&session).await)
        .get_caller_identity()
        .send()
        .await
        .expect("GetCallerIdentity with the session");
    // A failed signature, and S3 with a body.
    let wrong = server
        .config(
            e2e::ADMIN_KEY_ID,
            "not-the-secret-at-all-0000000000000000",
            None,
        )
        .await;
    assert!(
        aws_sdk_sts::Client::new(&wrong)
            .get_caller_identity()
            .send()
            .await
            .is_err()
    );
    let s3 = server.s3().await;
    s3.create_bucket()
        .bucket("json-logs")
        .send()
        .await
        .expect("CreateBucket");
    s3.put_object()
        .bucket("json-logs")
        .key("k")
        .body(b"body".to_vec().into())
        .send()
        .await
        .expect("PutObject");
    server
        .instance_role("json-logs-role", "json-logs-profile", READ_NOTHING)
        .await;
    let (_, ip) = server.launch(Some("json-logs-profile")).await;
    let set = e2e::imds::credentials(&ip, server.imds_port, "json-logs-role", true);
    for field in ["SecretAccessKey", "Token"] {
        secrets.push(set[field].as_str().expect("a credential field").to_owned());
    }
    assert_eq!(get(&admin, "/readyz").status, 200);
    server.stop();

    let stdout = server.logged("");
    let stderr = std::fs::read_to_string(&stderr).unwrap();
    let lines: Vec<&str> = stdout
        .iter()
        .map(String::as_str)
        .chain(stderr.lines())
        .filter(|line| !line.trim().is_empty())
        .collect();
    assert!(lines.len() > 10, "{lines:?}");
    let mut ready = Vec::new();
    for line in &lines {
        let object: serde_json::Value = serde_json::from_str(line)
            .unwrap_or_else(|e| panic!("not a JSON log line ({e}): {line}"));
        for field in ["timestamp", "level", "target"] {
            assert!(object[field].is_string(), "{field} in {line}");
        }
        // At debug level the store's statements (and their SQL comments) are logged too, so
        // the word alone is not enough here: the line's own words are.
        let message = object["message"].as_str().unwrap_or_default();
        if message.contains("roleplane ready") {
            ready.push(message.to_owned());
        }
        for secret in &secrets {
            assert!(
                !line.contains(secret.as_str()),
                "a secret in the log: {line}"
            );
        }
    }
    assert_eq!(ready.len(), 1, "{ready:?}");
    assert!(
        ready[0].starts_with("roleplane ready api=127.0.0.1:"),
        "{ready:?}"
    );
    assert!(ready[0].contains(&format!(" imds_port={}", server.imds_port)));
}
