//! Revoking a role's active sessions, by `roleplane role revoke-sessions` (writing the store
//! beside the running server) and by PutRolePolicy of `AWSRevokeOlderSessions`: the old session
//! is denied at once, naming the explicit deny, and a new session works. No restart.

use std::process::Command;
use std::time::Duration;

use aws_sdk_iam::error::ProvideErrorMetadata as _;
use e2e::{ACCOUNT_ID, Server};

const READ_ROLES: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iam:GetRole","Resource":"*"}]}"#;

async fn role_with_session(server: &Server, name: &str) -> aws_sdk_iam::Client {
    let iam = server.iam().await;
    let trust = format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{{"AWS":"arn:aws:iam::{ACCOUNT_ID}:root"}},"Action":"sts:AssumeRole"}}]}}"#
    );
    iam.create_role()
        .role_name(name)
        .assume_role_policy_document(trust)
        .send()
        .await
        .expect("CreateRole");
    iam.put_role_policy()
        .role_name(name)
        .policy_name("read")
        .policy_document(READ_ROLES)
        .send()
        .await
        .expect("PutRolePolicy");
    session(server, name).await
}

/// A fresh session of the role, as an IAM client.
async fn session(server: &Server, name: &str) -> aws_sdk_iam::Client {
    let sts = server.sts().await;
    let assumed = sts
        .assume_role()
        .role_arn(format!("arn:aws:iam::{ACCOUNT_ID}:role/{name}"))
        .role_session_name("worker")
        .send()
        .await
        .expect("AssumeRole");
    let creds = assumed.credentials().expect("credentials");
    let config = server
        .config(
            creds.access_key_id(),
            creds.secret_access_key(),
            Some(creds.session_token()),
        )
        .await;
    aws_sdk_iam::Client::new(&config)
}

async fn assert_revoked(client: &aws_sdk_iam::Client, name: &str) {
    let err = client
        .get_role()
        .role_name(name)
        .send()
        .await
        .expect_err("the revoked session is denied");
    assert_eq!(err.code(), Some("AccessDenied"), "{err:?}");
    let message = err.message().unwrap_or_default();
    assert!(
        message.contains(&format!("assumed-role/{name}/worker"))
            && message.ends_with("with an explicit deny in an identity-based policy"),
        "{message}"
    );
}

/// Sessions carry whole-second issue times and revocation rounds up to the next second, so a
/// new session is issued after it once that second has passed.
async fn next_second() {
    tokio::time::sleep(Duration::from_millis(1100)).await;
}

#[tokio::test]
async fn revoke_sessions_subcommand_denies_older_sessions_of_a_running_server() {
    let server = Server::start();
    let old = role_with_session(&server, "app").await;
    old.get_role()
        .role_name("app")
        .send()
        .await
        .expect("allowed before revocation");

    let output = Command::new(e2e::binary())
        .args(["role", "revoke-sessions", "app", "--data-dir"])
        .arg(&server.data_dir)
        .output()
        .expect("run roleplane role revoke-sessions");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let printed = String::from_utf8_lossy(&output.stdout);
    assert!(printed.trim().ends_with('Z'), "{printed}");

    assert_revoked(&old, "app").await;
    let policy = server
        .iam()
        .await
        .get_role_policy()
        .role_name("app")
        .policy_name("AWSRevokeOlderSessions")
        .send()
        .await
        .expect("the console's policy is in place");
    assert!(
        policy.policy_document().contains("aws%3ATokenIssueTime"),
        "{}",
        policy.policy_document()
    );

    next_second().await;
    let fresh = session(&server, "app").await;
    fresh
        .get_role()
        .role_name("app")
        .send()
        .await
        .expect("a session issued after revocation works");
    assert_revoked(&old, "app").await;

    let missing = Command::new(e2e::binary())
        .args(["role", "revoke-sessions", "nosuchrole", "--data-dir"])
        .arg(&server.data_dir)
        .output()
        .expect("run roleplane role revoke-sessions");
    assert!(!missing.status.success());
}

#[tokio::test]
async fn put_role_policy_of_aws_revoke_older_sessions_denies_older_sessions() {
    let server = Server::start();
    let old = role_with_session(&server, "web").await;
    old.get_role()
        .role_name("web")
        .send()
        .await
        .expect("allowed before revocation");

    next_second().await;
    let now = time_now_iso();
    let document = format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Deny","Action":["*"],"Resource":["*"],"Condition":{{"DateLessThan":{{"aws:TokenIssueTime":"{now}"}}}}}}]}}"#
    );
    server
        .iam()
        .await
        .put_role_policy()
        .role_name("web")
        .policy_name("AWSRevokeOlderSessions")
        .policy_document(document)
        .send()
        .await
        .expect("PutRolePolicy AWSRevokeOlderSessions");
    assert_revoked(&old, "web").await;

    next_second().await;
    let fresh = session(&server, "web").await;
    fresh
        .get_role()
        .role_name("web")
        .send()
        .await
        .expect("a session issued after revocation works");
}

/// The current UTC time as the console writes it (`2024-10-10T09:43:48Z`).
fn time_now_iso() -> String {
    let output = Command::new("date")
        .args(["-u", "+%Y-%m-%dT%H:%M:%SZ"])
        .output()
        .expect("date");
    String::from_utf8_lossy(&output.stdout).trim().to_owned()
}
