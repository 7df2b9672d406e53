//! `roleplane run --instance-profile NAME -- CMD…`: real programs (the AWS CLI, boto3, a shell)
//! running "as an instance", their exit codes, and the instance's end in every case.

use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use e2e::{ACCOUNT_ID, Server, binary};

const ROLE: &str = "s3access";
const PROFILE: &str = "s3access-profile";
const READ_ROLES: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["iam:GetRole","iam:ListRoles"],"Resource":"*"}]}"#;

async fn server() -> Server {
    let server = Server::start();
    server.instance_role(ROLE, PROFILE, READ_ROLES).await;
    server
}

/// `roleplane run` on the server's data dir, with static credentials in the environment that
/// CMD must never see.
fn run(server: &Server, command: &[&str]) -> Command {
    let mut cmd = Command::new(binary());
    cmd.args(["run", "--instance-profile", PROFILE, "--data-dir"])
        .arg(&server.data_dir)
        .arg("--")
        .args(command)
        .env("AWS_ACCESS_KEY_ID", "AKIASHOULDNOTBEUSED1")
        .env("AWS_SECRET_ACCESS_KEY", "should-not-be-used")
        .env("AWS_PROFILE", "nope")
        .env_remove("AWS_ENDPOINT_URL");
    cmd
}

fn output(mut cmd: Command) -> Output {
    cmd.output().expect("run roleplane run")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Every instance the server knows, with its state.
async fn instance_states(server: &Server) -> Vec<(String, String)> {
    let out = server
        .ec2()
        .await
        .describe_instances()
        .send()
        .await
        .expect("DescribeInstances");
    out.reservations()
        .iter()
        .flat_map(|r| r.instances())
        .map(|i| {
            (
                i.instance_id().unwrap_or_default().to_owned(),
                i.state()
                    .and_then(|s| s.name())
                    .map(|n| n.as_str().to_owned())
                    .unwrap_or_default(),
            )
        })
        .collect()
}

async fn assert_all_terminated(server: &Server, launched: usize) {
    let states = instance_states(server).await;
    assert_eq!(states.len(), launched, "{states:?}");
    assert!(
        states.iter().all(|(_, state)| state == "terminated"),
        "{states:?}"
    );
}

#[tokio::test]
async fn the_aws_cli_runs_as_the_instance_role() {
    if !e2e::installed("aws") {
        eprintln!("skipped: the AWS CLI is not installed");
        return;
    }
    let server = server().await;
    let out = output(run(
        &server,
        &[
            "sh",
            "-c",
            "aws sts get-caller-identity --output json && aws iam get-role --role-name s3access --query Role.RoleName --output text && aws iam list-users",
        ],
    ));
    let stdout = text(&out.stdout);
    let stderr = text(&out.stderr);
    let identity: serde_json::Value =
        serde_json::from_str(&stdout[..stdout.find("}\n").map_or(stdout.len(), |end| end + 1)])
            .unwrap_or_else(|e| panic!("{e}: {stdout} {stderr}"));
    let arn = identity["Arn"].as_str().expect("Arn");
    let prefix = format!("arn:aws:sts::{ACCOUNT_ID}:assumed-role/{ROLE}/i-");
    assert!(arn.starts_with(&prefix), "{arn}");
    assert!(stdout.contains("\ns3access\n"), "GetRole allowed: {stdout}");
    assert!(
        stderr.contains("AccessDenied") && stderr.contains("iam:ListUsers"),
        "ListUsers denied: {stderr}"
    );
    assert_eq!(out.status.code(), Some(255), "the CLI's own exit code");
    assert_all_terminated(&server, 1).await;
}

#[tokio::test]
async fn boto3_resolves_the_instance_role_from_imds() {
    let python = if e2e::installed("python3") {
        "python3"
    } else {
        "python"
    };
    let probe = Command::new(python).args(["-c", "import boto3"]).status();
    if !probe.is_ok_and(|s| s.success()) {
        eprintln!("skipped: boto3 is not installed");
        return;
    }
    let server = server().await;
    let script = r#"
import boto3, botocore.exceptions
session = boto3.Session()
creds = session.get_credentials()
print("method", creds.method)
print("arn", session.client("sts").get_caller_identity()["Arn"])
iam = session.client("iam")
print("role", iam.get_role(RoleName="s3access")["Role"]["RoleName"])
try:
    iam.list_users()
    print("users listed")
except botocore.exceptions.ClientError as e:
    print("denied", e.response["Error"]["Code"])
"#;
    let out = output(run(&server, &[python, "-c", script]));
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{stdout}{}", text(&out.stderr));
    assert!(stdout.contains("method iam-role\n"), "{stdout}");
    assert!(
        stdout.contains(&format!(
            "arn arn:aws:sts::{ACCOUNT_ID}:assumed-role/{ROLE}/i-"
        )),
        "{stdout}"
    );
    assert!(stdout.contains("role s3access\n"), "{stdout}");
    assert!(stdout.contains("denied AccessDenied\n"), "{stdout}");
    assert_all_terminated(&server, 1).await;
}

#[tokio::test]
async fn the_command_sees_the_instance_endpoints_and_no_static_credentials() {
    let server = server().await;
    let out = output(run(&server, &["env"]));
    assert!(out.status.success(), "{}", text(&out.stderr));
    let env = text(&out.stdout);
    let var = |name: &str| {
        env.lines()
            .find_map(|l| l.strip_prefix(&format!("{name}=")))
            .map(str::to_owned)
    };
    let imds = var("AWS_EC2_METADATA_SERVICE_ENDPOINT").expect("IMDS endpoint");
    assert!(
        imds.starts_with("http://127.") && imds.ends_with(&format!(":{}/", server.imds_port)),
        "{imds}"
    );
    assert_eq!(var("AWS_ENDPOINT_URL"), Some(server.endpoint.clone()));
    assert_eq!(var("AWS_REGION").as_deref(), Some(e2e::REGION));
    assert_eq!(var("AWS_DEFAULT_REGION").as_deref(), Some(e2e::REGION));
    for absent in [
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AWS_PROFILE",
    ] {
        assert_eq!(var(absent), None, "{absent} leaked into the command");
    }
    assert_eq!(
        var("AWS_SHARED_CREDENTIALS_FILE").as_deref(),
        Some("/dev/null")
    );
    assert_eq!(var("AWS_CONFIG_FILE").as_deref(), Some("/dev/null"));
    assert_all_terminated(&server, 1).await;
}

#[tokio::test]
async fn the_exit_code_is_the_commands_and_the_instance_ends_whatever_happens() {
    let server = server().await;
    let out = output(run(&server, &["sh", "-c", "exit 7"]));
    assert_eq!(out.status.code(), Some(7));
    assert_all_terminated(&server, 1).await;

    let out = output(run(&server, &["/nonexistent/program"]));
    assert_ne!(out.status.code(), Some(0));
    assert!(text(&out.stderr).contains("/nonexistent/program"));
    assert_all_terminated(&server, 2).await;

    let mut unknown = Command::new(binary());
    unknown
        .args(["run", "--instance-profile", "no-such-profile", "--data-dir"])
        .arg(&server.data_dir)
        .args(["--", "true"]);
    let out = output(unknown);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("InvalidParameterValue")
            || text(&out.stderr).contains("no-such-profile"),
        "{}",
        text(&out.stderr)
    );
    assert_all_terminated(&server, 2).await;
}

#[tokio::test]
async fn an_interrupted_run_passes_the_signal_on_and_terminates_the_instance() {
    let server = server().await;
    let mut child = run(&server, &["sleep", "30"])
        .stdout(Stdio::null())
        .spawn()
        .expect("spawn roleplane run");
    // Wait until the instance runs (the command has started by then or is about to).
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let states = instance_states(&server).await;
        if states.iter().any(|(_, s)| s == "running") {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "no instance launched: {states:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let started = Instant::now();
    let pid = i32::try_from(child.id()).expect("pid");
    let killed = Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status()
        .expect("kill");
    assert!(killed.success());
    let status = child.wait().expect("wait");
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "the command was stopped"
    );
    assert_eq!(status.code(), Some(128 + 15), "sleep died of SIGTERM");
    assert_all_terminated(&server, 1).await;
}
