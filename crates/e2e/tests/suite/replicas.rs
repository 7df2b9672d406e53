//! `roleplane serve --store postgres://…`: two replicas, each with its own data dir, started
//! together on one new PostgreSQL database, serve one IAM and STS state: what one writes the other reads, names stay
//! unique across them, and a key deleted through one is refused by the other (its key cache
//! follows the other replica's writes). The database URL's password is never printed.

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
