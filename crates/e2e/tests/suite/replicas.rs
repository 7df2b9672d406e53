//! `roleplane serve --store postgres://…`: two replicas, each with its own data dir, started
//! together on one new PostgreSQL database, serve one IAM and STS state: what one writes the
//! other reads, names stay unique across them, and a key deleted through one is refused by the
//! other (its key cache follows the other replica's writes). Login profiles and Dedicated Hosts
//! hold across replicas, `roleplane host credentials --store` reads the shared store, and
//! `/readyz` and the pool gauges answer for it. The database URL's password is never printed.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use aws_sdk_iam::error::ProvideErrorMetadata as _;
use base64::Engine as _;
use e2e::{EC2_TRUST, Server, pg};

const PASSWORD: &str = "hunter2-not-to-be-printed";

/// Every replica seals and opens secrets with the same master key.
fn master_key() -> String {
    base64::engine::general_purpose::STANDARD.encode([7u8; 32])
}

fn replica(data_dir: &Path, url: &str) -> Server {
    let master = master_key();
    Server::start_configured(
        &[],
        data_dir,
        &["--store", url],
        &[("ROLEPLANE_MASTER_KEY", master.as_str())],
    )
}

#[tokio::test]
async fn replicas_on_one_database_serve_one_state() {
    let database = pg::Database::create().await;
    let temp = tempfile::tempdir().unwrap();
    // Started together: both bootstrap the empty database at once (the account, the admin and
    // its key, the session-token key ring), and both must come up agreeing.
    let (a, b) = std::thread::scope(|scope| {
        let a = scope.spawn(|| replica(&temp.path().join("a"), &database.url));
        let b = scope.spawn(|| replica(&temp.path().join("b"), &database.url));
        (a.join().unwrap(), b.join().unwrap())
    });

    // The admin and its key sign on both, whichever replica stored them.
    for server in [&a, &b] {
        server
            .sts()
            .await
            .get_caller_identity()
            .send()
            .await
            .expect("the admin key signs on every replica");
    }

    a.iam()
        .await
        .create_role()
        .role_name("web")
        .assume_role_policy_document(EC2_TRUST)
        .send()
        .await
        .expect("CreateRole through A");
    let read = b
        .iam()
        .await
        .get_role()
        .role_name("WEB")
        .send()
        .await
        .expect("GetRole through B");
    assert_eq!(read.role().unwrap().role_name(), "web");
    let taken = b
        .iam()
        .await
        .create_role()
        .role_name("Web")
        .assume_role_policy_document(EC2_TRUST)
        .send()
        .await
        .expect_err("one role per name, whichever replica is asked");
    assert_eq!(taken.code(), Some("EntityAlreadyExists"));

    // A key created through A works through B until A deletes it; then B refuses it.
    let key = a.user_with_key("worker").await;
    let through_b = aws_sdk_sts::Client::new(&b.key_config(&key).await);
    through_b
        .get_caller_identity()
        .send()
        .await
        .expect("A's new key signs on B");
    a.iam()
        .await
        .delete_access_key()
        .user_name("worker")
        .access_key_id(key.access_key_id())
        .send()
        .await
        .expect("DeleteAccessKey through A");
    // Bounded, generously: this asserts that B follows, not how fast (the notification's
    // latency, at most the one-second poll).
    for _ in 0..300 {
        match through_b.get_caller_identity().send().await {
            Ok(_) => tokio::time::sleep(Duration::from_millis(100)).await,
            Err(e) => {
                assert_eq!(
                    aws_sdk_sts::error::ProvideErrorMetadata::code(&e),
                    Some("InvalidClientTokenId")
                );
                return;
            }
        }
    }
    panic!("B kept accepting a key A deleted");
}

fn get(admin: &str, path: &str) -> e2e::raw::RawResponse {
    e2e::raw::send(
        admin,
        format!("GET {path} HTTP/1.1\r\nhost: {admin}\r\nconnection: close\r\n\r\n").as_bytes(),
    )
}

/// What main added beside this backend, through two replicas on PostgreSQL: a login profile
/// one replica creates stops the other's DeleteUser; a host one allocates takes the other's
/// launch and is then not released; `roleplane host credentials --store` prints its agent key;
/// `/readyz` and the pool gauges answer for the shared store.
#[tokio::test]
async fn replicas_share_login_profiles_hosts_and_readiness() {
    let database = pg::Database::create().await;
    let temp = tempfile::tempdir().unwrap();
    let admin = format!("127.0.0.1:{}", e2e::free_port());
    let master = master_key();
    let a = Server::start_configured(
        &[],
        &temp.path().join("a"),
        &["--store", &database.url, "--admin-addr", &admin],
        &[("ROLEPLANE_MASTER_KEY", master.as_str())],
    );
    let b = replica(&temp.path().join("b"), &database.url);

    let ready = get(&admin, "/readyz");
    assert_eq!((ready.status, ready.body.as_str()), (200, "ready\n"));
    // The shared store's pool: ten connections and the change listener's, which is open.
    let metrics = get(&admin, "/metrics").body;
    let gauge = |series: &str| -> f64 {
        metrics
            .lines()
            .find_map(|line| line.strip_prefix(series)?.strip_prefix(' '))
            .and_then(|value| value.trim().parse().ok())
            .unwrap_or_else(|| panic!("{series} in {metrics}"))
    };
    let (max, open) = (
        gauge("roleplane_store_pool_max_connections"),
        gauge("roleplane_store_pool_connections"),
    );
    assert!(max == 11.0 && (1.0..=max).contains(&open), "{metrics}");

    // Login profiles: created through A, seen and in the way through B.
    let (iam_a, iam_b) = (a.iam().await, b.iam().await);
    iam_a
        .create_user()
        .user_name("console")
        .send()
        .await
        .unwrap();
    iam_a
        .create_login_profile()
        .user_name("console")
        .password("Not-a-real-password-1!")
        .send()
        .await
        .expect("CreateLoginProfile through A");
    iam_b
        .get_login_profile()
        .user_name("CONSOLE")
        .send()
        .await
        .expect("GetLoginProfile through B");
    let refused = iam_b
        .delete_user()
        .user_name("console")
        .send()
        .await
        .expect_err("a user with a login profile is not deleted");
    assert_eq!(refused.code(), Some("DeleteConflict"));
    iam_b
        .delete_login_profile()
        .user_name("console")
        .send()
        .await
        .unwrap();
    iam_a
        .delete_user()
        .user_name("console")
        .send()
        .await
        .expect("DeleteUser through A once B deleted the profile");

    // Hosts: allocated through A, occupied through B, not released while occupied.
    let (ec2_a, ec2_b) = (a.ec2().await, b.ec2().await);
    let host = ec2_a
        .allocate_hosts()
        .availability_zone("us-east-1a")
        .instance_family("m5")
        .quantity(1)
        .send()
        .await
        .expect("AllocateHosts through A")
        .host_ids()[0]
        .to_owned();
    let launched = ec2_b
        .run_instances()
        .image_id("ami-0123456789abcdef0")
        .min_count(1)
        .max_count(1)
        .instance_type("m5.large".into())
        .placement(
            aws_sdk_ec2::types::Placement::builder()
                .host_id(&host)
                .build(),
        )
        .send()
        .await
        .expect("RunInstances onto A's host through B");
    let instance = launched.instances()[0].instance_id().unwrap().to_owned();
    let release = ec2_a.release_hosts().host_ids(&host).send().await.unwrap();
    assert!(release.successful().is_empty(), "{release:?}");
    assert_eq!(release.unsuccessful().len(), 1, "{release:?}");

    // The operator's CLI reads the host's agent key from the shared store, with the replicas'
    // master key and no data dir of its own.
    let printed = Command::new(e2e::binary())
        .args(["host", "credentials", &host, "--data-dir"])
        .arg(temp.path().join("operator"))
        .env("ROLEPLANE_STORE", &database.url)
        .env("ROLEPLANE_MASTER_KEY", &master)
        .output()
        .expect("run roleplane host credentials");
    let stdout = String::from_utf8_lossy(&printed.stdout);
    assert!(
        printed.status.success(),
        "{}",
        String::from_utf8_lossy(&printed.stderr)
    );
    assert!(
        stdout.starts_with(&format!("[{host}]\naws_access_key_id = AKIA")),
        "{stdout}"
    );
    assert!(!temp.path().join("operator").exists(), "no data dir made");

    ec2_b
        .terminate_instances()
        .instance_ids(&instance)
        .send()
        .await
        .unwrap();
    let release = ec2_b.release_hosts().host_ids(&host).send().await.unwrap();
    assert_eq!(
        release.successful(),
        std::slice::from_ref(&host),
        "{release:?}"
    );
    let gone = Command::new(e2e::binary())
        .args(["host", "credentials", &host])
        .env("ROLEPLANE_STORE", &database.url)
        .env("ROLEPLANE_MASTER_KEY", &master)
        .output()
        .expect("run roleplane host credentials");
    assert!(!gone.status.success());
    let said = String::from_utf8_lossy(&gone.stderr);
    assert!(
        said.contains("is not an available host of the store"),
        "{said}"
    );
    let password = database
        .url
        .split_once("://")
        .and_then(|(_, rest)| rest.split_once('@'))
        .and_then(|(user, _)| user.split_once(':'))
        .map(|(_, password)| password)
        .expect("the test server's URL has a password");
    assert!(!said.contains(password), "{said}");
}

/// What `serve` prints (stdout and stderr) when run with these arguments and `ROLEPLANE_STORE`.
fn serve_output(args: &[&str], store_env: &str) -> (bool, String) {
    let output = Command::new(e2e::binary())
        .arg("serve")
        .args(args)
        .env("ROLEPLANE_STORE", store_env)
        .output()
        .expect("run roleplane serve");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    (output.status.success(), text)
}

#[test]
fn the_store_password_is_never_printed() {
    let stored = format!("postgres://app:{PASSWORD}@db.invalid/roleplane");
    let (_, help) = serve_output(&["--help"], &stored);
    assert!(help.contains("--store"), "{help}");
    assert!(
        !help.contains(PASSWORD),
        "--help shows the password: {help}"
    );

    let temp = tempfile::tempdir().unwrap();
    let dir = temp.path().join("data");
    let dir = dir.to_str().unwrap();
    let start = [
        "--data-dir",
        dir,
        "--api-addr",
        "127.0.0.1:0",
        "--imds-port",
        "0",
    ];
    // Not PostgreSQL, and a database nobody listens for: refused, and said so without it.
    for url in [
        format!("mysql://app:{PASSWORD}@db.invalid/roleplane"),
        format!("postgres://app:{PASSWORD}@127.0.0.1:1/roleplane"),
    ] {
        let (started, said) = serve_output(&start, &url);
        assert!(!started, "serve started on {url}");
        assert!(said.contains("app:redacted@"), "{said}");
        assert!(
            !said.contains(PASSWORD),
            "the error shows the password: {said}"
        );
    }
}
