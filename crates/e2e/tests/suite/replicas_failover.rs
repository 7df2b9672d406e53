//! Replicas on one PostgreSQL database, past the happy path: what one replica issued (session
//! credentials, IMDSv2 tokens, S3 objects in the shared `--s3-dir`) is honoured by another, a
//! policy change through one denies on the other within the change-follow bound, a replica
//! killed under write load loses no acknowledged write while the other keeps serving, and a
//! database restart under load costs retryable 5xx answers in AWS's shape, not a replica
//! restart.

use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use aws_sdk_iam::error::ProvideErrorMetadata as _;
use base64::Engine as _;
use e2e::{ADMIN_KEY_ID, ADMIN_SECRET, Server, imds, pg, raw};

const ALLOW_ALL: &str =
    r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#;
const DENY_ALL: &str =
    r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"*","Resource":"*"}]}"#;

/// A replica on `url` with the master key every replica shares and the shared S3 directory.
fn replica(data_dir: &Path, url: &str, s3_dir: &Path) -> Server {
    let master = base64::engine::general_purpose::STANDARD.encode([9u8; 32]);
    Server::start_configured(
        &[],
        data_dir,
        &["--store", url, "--s3-dir", s3_dir.to_str().unwrap()],
        &[("ROLEPLANE_MASTER_KEY", master.as_str())],
    )
}

/// GET `path` of the instance at `ip` from the metadata service on `port` with `token`,
/// waiting (bounded) for that service to serve the instance: a replica learns of an instance
/// another launched by following the store's changes.
fn imds_get(ip: &str, port: u16, path: &str, token: &str) -> imds::Reply {
    let head = format!(
        "GET {path} HTTP/1.1\r\nHost: {ip}:{port}\r\nConnection: close\r\n\
         X-aws-ec2-metadata-token: {token}\r\n\r\n"
    );
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        match imds::try_exchange(ip, port, head.as_bytes()) {
            Ok(reply) if reply.status == 200 || Instant::now() > deadline => return reply,
            Err(e) if Instant::now() > deadline => panic!("IMDS at {ip}:{port}: {e}"),
            _ => std::thread::sleep(Duration::from_millis(100)),
        }
    }
}

#[tokio::test]
async fn a_replica_honours_what_another_issued_and_follows_its_policy_changes() {
    let database = pg::Database::create().await;
    let temp = tempfile::tempdir().unwrap();
    let s3_dir = temp.path().join("s3");
    let a = replica(&temp.path().join("a"), &database.url, &s3_dir);
    let b = replica(&temp.path().join("b"), &database.url, &s3_dir);

    a.instance_role("app", "app-profile", ALLOW_ALL).await;
    let (instance, ip) = a.launch(Some("app-profile")).await;

    // An IMDSv2 token from A's metadata service opens B's: the token key derives from the
    // master key the replicas share.
    let token = imds::token(&ip, a.imds_port);
    let through_b = imds_get(&ip, b.imds_port, "/latest/meta-data/instance-id", &token);
    assert_eq!(
        (through_b.status, through_b.body.as_str()),
        (200, instance.as_str())
    );

    // The role credentials A's metadata service hands out sign on B: the session token is
    // sealed under the key ring in the database.
    let path = "/latest/meta-data/iam/security-credentials/app";
    let set = imds_get(&ip, a.imds_port, path, &token).json();
    let field = |name: &str| set[name].as_str().expect(name).to_owned();
    let (key_id, secret, session) = (
        field("AccessKeyId"),
        field("SecretAccessKey"),
        field("Token"),
    );
    let role_on = |server: &Server| {
        let (key_id, secret, session) = (key_id.clone(), secret.clone(), session.clone());
        let endpoint = server.endpoint.clone();
        async move {
            let credentials =
                aws_credential_types::Credentials::new(key_id, secret, Some(session), None, "imds");
            aws_config::defaults(aws_config::BehaviorVersion::latest())
                .region(aws_config::Region::new(e2e::REGION))
                .endpoint_url(endpoint)
                .credentials_provider(credentials)
                .load()
                .await
        }
    };
    let (role_a, role_b) = (role_on(&a).await, role_on(&b).await);
    let caller = aws_sdk_sts::Client::new(&role_b)
        .get_caller_identity()
        .send()
        .await
        .expect("A's instance credentials sign on B");
    assert!(
        caller
            .arn()
            .unwrap()
            .ends_with(&format!("assumed-role/app/{instance}")),
        "{caller:?}"
    );

    // An object written through A is read through B: its bytes are in the shared directory.
    let (s3_a, s3_b) = (e2e::s3_client(&role_a), e2e::s3_client(&role_b));
    s3_a.create_bucket().bucket("shared").send().await.unwrap();
    s3_a.put_object()
        .bucket("shared")
        .key("greeting")
        .body(b"written through A".to_vec().into())
        .send()
        .await
        .expect("PutObject through A");
    let read = s3_b
        .get_object()
        .bucket("shared")
        .key("greeting")
        .send()
        .await
        .expect("GetObject through B");
    let bytes = read.body.collect().await.unwrap().into_bytes();
    assert_eq!(&bytes[..], b"written through A");

    // A policy change through A denies on B within the bound (the change notification, at
    // most the one-second poll); the time it took is reported, not asserted.
    let iam_b = aws_sdk_iam::Client::new(&role_b);
    iam_b
        .list_roles()
        .send()
        .await
        .expect("allowed before the change");
    a.iam()
        .await
        .put_role_policy()
        .role_name("app")
        .policy_name("stop")
        .policy_document(DENY_ALL)
        .send()
        .await
        .expect("PutRolePolicy through A");
    let changed = Instant::now();
    loop {
        match iam_b.list_roles().send().await {
            Ok(_) => {
                assert!(
                    changed.elapsed() < Duration::from_secs(30),
                    "B kept allowing what A's policy change denies"
                );
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
            Err(e) => {
                assert_eq!(e.code(), Some("AccessDenied"), "{e:?}");
                eprintln!(
                    "a policy change through A denied on B after {} ms",
                    changed.elapsed().as_millis()
                );
                break;
            }
        }
    }
}

/// Creates users `{prefix}-0`, `{prefix}-1`, … through `iam` until `stop`, noting each name
/// whose CreateUser was acknowledged. A failure ends it when `until_failure` (whether one did
/// is returned) and fails the test otherwise.
async fn write_users(
    iam: aws_sdk_iam::Client,
    prefix: String,
    acknowledged: Arc<Mutex<Vec<String>>>,
    stop: Arc<std::sync::atomic::AtomicBool>,
    until_failure: bool,
) -> bool {
    for i in 0.. {
        if stop.load(std::sync::atomic::Ordering::Relaxed) {
            break;
        }
        let name = format!("{prefix}-{i}");
        match iam.create_user().user_name(&name).send().await {
            Ok(_) => acknowledged.lock().unwrap().push(name),
            Err(_) if until_failure => return true,
            Err(e) => panic!("CreateUser {name}: {e:?}"),
        }
    }
    false
}

#[tokio::test]
async fn killing_a_replica_under_write_load_loses_no_acknowledged_write() {
    let database = pg::Database::create().await;
    let temp = tempfile::tempdir().unwrap();
    let s3_dir = temp.path().join("s3");
    let mut a = replica(&temp.path().join("a"), &database.url, &s3_dir);
    let b = replica(&temp.path().join("b"), &database.url, &s3_dir);
    // No retries: a call A never answered must count as not acknowledged, not be resent.
    let no_retries = |config: aws_config::SdkConfig| {
        aws_sdk_iam::Client::from_conf(
            aws_sdk_iam::config::Builder::from(&config)
                .retry_config(aws_config::retry::RetryConfig::disabled())
                .build(),
        )
    };
    let (iam_a, iam_b) = (
        no_retries(a.admin_config().await),
        no_retries(b.admin_config().await),
    );

    let acknowledged = Arc::new(Mutex::new(Vec::new()));
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut on_a = Vec::new();
    let mut on_b = Vec::new();
    for writer in 0..3 {
        on_a.push(tokio::spawn(write_users(
            iam_a.clone(),
            format!("a{writer}"),
            acknowledged.clone(),
            stop.clone(),
            true,
        )));
        on_b.push(tokio::spawn(write_users(
            iam_b.clone(),
            format!("b{writer}"),
            acknowledged.clone(),
            stop.clone(),
            false,
        )));
    }
    // Under load until A has acknowledged writes of its own, then SIGKILL mid-stream.
    let deadline = Instant::now() + Duration::from_secs(60);
    while acknowledged
        .lock()
        .unwrap()
        .iter()
        .filter(|name| name.starts_with('a'))
        .count()
        < 30
    {
        assert!(Instant::now() < deadline, "A acknowledged too few writes");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    a.kill();
    for writer in on_a {
        assert!(
            writer.await.unwrap(),
            "A's writers stop at their first failure"
        );
    }
    // B keeps serving its writers (each panics on a failed write) for a while after.
    let after_kill = acknowledged.lock().unwrap().len();
    tokio::time::sleep(Duration::from_secs(2)).await;
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    for writer in on_b {
        writer.await.unwrap();
    }
    let acknowledged = acknowledged.lock().unwrap().clone();
    assert!(
        acknowledged.len() > after_kill,
        "B went on acknowledging writes after A died"
    );

    // Every acknowledged user is there, read through B.
    let mut stored = std::collections::HashSet::new();
    let mut pages = iam_b.list_users().into_paginator().send();
    while let Some(page) = pages.next().await {
        stored.extend(
            page.unwrap()
                .users()
                .iter()
                .map(|u| u.user_name().to_owned()),
        );
    }
    let lost: Vec<_> = acknowledged
        .iter()
        .filter(|name| !stored.contains(*name))
        .collect();
    assert!(lost.is_empty(), "acknowledged but lost: {lost:?}");
    eprintln!(
        "{} writes acknowledged ({} by A before SIGKILL), none lost",
        acknowledged.len(),
        acknowledged.iter().filter(|n| n.starts_with('a')).count()
    );
}

/// What a caller sees while the database is down: a retryable 5xx in AWS's error shape.
fn retryable_failure(response: &raw::RawResponse) -> bool {
    matches!(response.status, 500 | 503)
        && response.body.contains("<ErrorResponse")
        && ["ServiceFailure", "ServiceUnavailable"]
            .iter()
            .any(|code| response.body.contains(&format!("<Code>{code}</Code>")))
}

fn create_user(server: &str, name: &str) -> raw::RawResponse {
    raw::signed_post(
        server,
        "iam",
        (ADMIN_KEY_ID, ADMIN_SECRET),
        format!("Action=CreateUser&Version=2010-05-08&UserName={name}").as_bytes(),
    )
}

#[tokio::test]
async fn replicas_ride_out_a_database_restart_under_load() {
    // A cluster of this test's own: the one other tests share must stay up.
    let cluster = tokio::task::spawn_blocking(pg::Cluster::start)
        .await
        .unwrap();
    let temp = tempfile::tempdir().unwrap();
    let s3_dir = temp.path().join("s3");
    let a = replica(&temp.path().join("a"), &cluster.url, &s3_dir);
    let b = replica(&temp.path().join("b"), &cluster.url, &s3_dir);
    let endpoints = [a.endpoint.clone(), b.endpoint.clone()];

    // Load: one writer per replica, each CreateUser answered either 200 or a retryable 5xx.
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let writers: Vec<_> = endpoints
        .iter()
        .enumerate()
        .map(|(n, endpoint)| {
            let (endpoint, stop) = (endpoint.clone(), stop.clone());
            std::thread::spawn(move || {
                let (mut ok, mut failed) = (0usize, 0usize);
                let mut unexpected = Vec::new();
                for i in 0.. {
                    if stop.load(std::sync::atomic::Ordering::Relaxed) {
                        break;
                    }
                    let response = create_user(&endpoint, &format!("load{n}-{i}"));
                    if response.status == 200 {
                        ok += 1;
                    } else if retryable_failure(&response) {
                        failed += 1;
                    } else {
                        unexpected.push(format!("{} {}", response.status, response.body));
                    }
                    std::thread::sleep(Duration::from_millis(10));
                }
                (ok, failed, unexpected)
            })
        })
        .collect();

    std::thread::sleep(Duration::from_secs(1));
    cluster.down();
    // While the database is down, a write is refused the retryable way.
    let during = create_user(&a.endpoint, "during-outage");
    assert!(
        retryable_failure(&during),
        "{} {}",
        during.status,
        during.body
    );
    std::thread::sleep(Duration::from_secs(2));
    cluster.up();

    // Both replicas serve again without a restart, each reading what the other writes.
    for (n, endpoint) in endpoints.iter().enumerate() {
        let deadline = Instant::now() + Duration::from_secs(60);
        let name = format!("after-restart-{n}");
        loop {
            let response = create_user(endpoint, &name);
            if response.status == 200 {
                break;
            }
            assert!(
                retryable_failure(&response) && Instant::now() < deadline,
                "replica {n} after the restart: {} {}",
                response.status,
                response.body
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    }
    for (server, other) in [(&a, "after-restart-1"), (&b, "after-restart-0")] {
        server
            .iam()
            .await
            .get_user()
            .user_name(other)
            .send()
            .await
            .expect("a user the other replica created after the restart");
    }

    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    for (n, writer) in writers.into_iter().enumerate() {
        let (ok, failed, unexpected) = writer.join().unwrap();
        assert!(unexpected.is_empty(), "replica {n}: {unexpected:?}");
        eprintln!(
            "replica {n} under a database restart: {ok} writes acknowledged, {failed} refused retryably"
        );
        assert!(
            ok > 0 && failed > 0,
            "replica {n}: {ok} ok, {failed} failed"
        );
    }
}

/// A replica whose master key is not the one the database's secrets are sealed under exits at
/// start, saying so, instead of serving secrets it cannot open.
#[tokio::test]
async fn a_replica_with_another_master_key_refuses_to_start() {
    let database = pg::Database::create().await;
    let temp = tempfile::tempdir().unwrap();
    let s3_dir = temp.path().join("s3");
    let first = replica(&temp.path().join("a"), &database.url, &s3_dir);
    let other_key = base64::engine::general_purpose::STANDARD.encode([1u8; 32]);
    let mut child = std::process::Command::new(e2e::binary())
        .args(["serve", "--api-addr", "127.0.0.1:0", "--imds-port", "0"])
        .arg("--data-dir")
        .arg(temp.path().join("b"))
        .args(["--store", &database.url])
        .env("ROLEPLANE_MASTER_KEY", &other_key)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("a replica with another master key kept running");
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    let mut stderr = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut stderr).unwrap();
    assert!(!status.success());
    assert!(stderr.contains("ROLEPLANE_MASTER_KEY"), "{stderr}");
    // The first replica is unharmed.
    first
        .sts()
        .await
        .get_caller_identity()
        .send()
        .await
        .unwrap();
}

/// `roleplane account create`, `ca show` and `role revoke-sessions` act on the shared store
/// with `--store`, from a machine with no data dir of the replicas', and the replicas follow.
#[tokio::test]
async fn the_commands_act_on_the_shared_store() {
    let database = pg::Database::create().await;
    let temp = tempfile::tempdir().unwrap();
    let a = replica(
        &temp.path().join("a"),
        &database.url,
        &temp.path().join("s3"),
    );
    let master = base64::engine::general_purpose::STANDARD.encode([9u8; 32]);
    let elsewhere = temp.path().join("no-data-dir-here");
    let command = |args: &[&str]| {
        let output = std::process::Command::new(e2e::binary())
            .args(args)
            .args(["--store", &database.url, "--data-dir"])
            .arg(&elsewhere)
            .env("ROLEPLANE_MASTER_KEY", &master)
            .output()
            .unwrap();
        assert!(
            output.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8(output.stdout).unwrap()
    };

    let created = command(&["account", "create", "--account-id", "210987654321"]);
    let field = |name: &str| {
        created
            .lines()
            .find_map(|line| line.strip_prefix(&format!("{name} = ")))
            .unwrap()
            .to_owned()
    };
    let second = a
        .config(
            &field("aws_access_key_id"),
            &field("aws_secret_access_key"),
            None,
        )
        .await;
    let caller = aws_sdk_sts::Client::new(&second)
        .get_caller_identity()
        .send()
        .await
        .expect("the new account's admin signs on the replica");
    assert_eq!(caller.account(), Some("210987654321"));

    assert!(command(&["ca", "show"]).starts_with("-----BEGIN CERTIFICATE-----"));

    // A session of a role, then its sessions revoked from the command line: denied on A.
    let iam = a.iam().await;
    let trust = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:root"},"Action":"sts:AssumeRole"}]}"#;
    iam.create_role()
        .role_name("ops")
        .assume_role_policy_document(trust)
        .send()
        .await
        .unwrap();
    iam.put_role_policy()
        .role_name("ops")
        .policy_name("all")
        .policy_document(ALLOW_ALL)
        .send()
        .await
        .unwrap();
    let session = a
        .sts()
        .await
        .assume_role()
        .role_arn("arn:aws:iam::123456789012:role/ops")
        .role_session_name("before")
        .send()
        .await
        .unwrap();
    let as_role = aws_sdk_iam::Client::new(&a.session_config(session.credentials().unwrap()).await);
    as_role.list_roles().send().await.expect("allowed before");
    // Issued strictly before the revocation time (which has a second's precision).
    tokio::time::sleep(Duration::from_millis(1100)).await;
    command(&["role", "revoke-sessions", "ops"]);
    let revoked = Instant::now();
    loop {
        match as_role.list_roles().send().await {
            Ok(_) if revoked.elapsed() < Duration::from_secs(30) => {
                tokio::time::sleep(Duration::from_millis(20)).await
            }
            Ok(_) => panic!("the replica kept a revoked session"),
            Err(e) => {
                assert_eq!(e.code(), Some("AccessDenied"), "{e:?}");
                break;
            }
        }
    }
}

/// Two replicas racing for one slot, round after round: a role into one instance profile, a
/// profile onto one instance. Exactly one of each pair wins; the other gets AWS's refusal.
#[tokio::test]
async fn replicas_racing_for_one_slot_let_exactly_one_win() {
    let database = pg::Database::create().await;
    let temp = tempfile::tempdir().unwrap();
    let s3_dir = temp.path().join("s3");
    let a = replica(&temp.path().join("a"), &database.url, &s3_dir);
    let b = replica(&temp.path().join("b"), &database.url, &s3_dir);
    let (iam_a, iam_b) = (a.iam().await, b.iam().await);
    let (ec2_a, ec2_b) = (a.ec2().await, b.ec2().await);
    a.instance_role("seed", "seed-profile", ALLOW_ALL).await;

    const ROUNDS: usize = 15;
    for round in 0..ROUNDS {
        let profile = format!("slot-{round}");
        iam_a
            .create_instance_profile()
            .instance_profile_name(&profile)
            .send()
            .await
            .unwrap();
        for role in [format!("ra-{round}"), format!("rb-{round}")] {
            iam_a
                .create_role()
                .role_name(&role)
                .assume_role_policy_document(e2e::EC2_TRUST)
                .send()
                .await
                .unwrap();
        }
        let add = |iam: &aws_sdk_iam::Client, role: String| {
            iam.add_role_to_instance_profile()
                .instance_profile_name(&profile)
                .role_name(role)
                .send()
        };
        let (on_a, on_b) = tokio::join!(
            add(&iam_a, format!("ra-{round}")),
            add(&iam_b, format!("rb-{round}"))
        );
        let lost: Vec<_> = [on_a.err(), on_b.err()].into_iter().flatten().collect();
        assert_eq!(lost.len(), 1, "round {round}: exactly one role goes in");
        assert_eq!(lost[0].code(), Some("LimitExceeded"), "{:?}", lost[0]);

        // One instance, two profiles offered at once through the two replicas.
        let (instance, _) = a.launch(None).await;
        let associate = |ec2: &aws_sdk_ec2::Client, name: &'static str| {
            ec2.associate_iam_instance_profile()
                .instance_id(&instance)
                .iam_instance_profile(
                    aws_sdk_ec2::types::IamInstanceProfileSpecification::builder()
                        .name(name)
                        .build(),
                )
                .send()
        };
        let (on_a, on_b) = tokio::join!(
            associate(&ec2_a, "seed-profile"),
            associate(&ec2_b, "seed-profile")
        );
        let lost: Vec<_> = [on_a.err(), on_b.err()].into_iter().flatten().collect();
        assert_eq!(lost.len(), 1, "round {round}: exactly one association");
        assert_eq!(
            aws_sdk_ec2::error::ProvideErrorMetadata::code(&lost[0]),
            Some("IncorrectState"),
            "{:?}",
            lost[0]
        );
    }
}

/// Values PostgreSQL cannot keep (U+0000 in text) are the request's fault on a replica: S3
/// answers `InvalidArgument`, IAM `InvalidInput`, both 400, and nothing is stored.
#[tokio::test]
async fn a_nul_character_is_refused_with_a_4xx_on_postgres() {
    let database = pg::Database::create().await;
    let temp = tempfile::tempdir().unwrap();
    let a = replica(
        &temp.path().join("a"),
        &database.url,
        &temp.path().join("s3"),
    );
    a.s3()
        .await
        .create_bucket()
        .bucket("nul")
        .send()
        .await
        .unwrap();
    let signer = raw::Signer::new("s3", (ADMIN_KEY_ID, ADMIN_SECRET));
    let put = signer.s3(&a.endpoint, "PUT", "/nul/a%00b", &[], b"bytes");
    assert_eq!(put.status, 400, "{}", put.body);
    assert!(
        put.body.contains("<Code>InvalidArgument</Code>"),
        "{}",
        put.body
    );
    let listed = a
        .s3()
        .await
        .list_objects_v2()
        .bucket("nul")
        .send()
        .await
        .unwrap();
    assert_eq!(listed.key_count(), Some(0));

    let path = raw::signed_post(
        &a.endpoint,
        "iam",
        (ADMIN_KEY_ID, ADMIN_SECRET),
        b"Action=CreateUser&Version=2010-05-08&UserName=nul&Path=/a%00b/",
    );
    assert_eq!(path.status, 400, "{}", path.body);
}
