//! Runs every command of the README's quick start, so the README cannot drift from the product.
//!
//! The quick start lies between `<!-- quickstart -->` and `<!-- /quickstart -->`. Its ```sh
//! blocks run in order in one bash session (so variables carry over) in a fresh directory, with
//! this workspace's `roleplane` first on `PATH`. A block preceded by `<!-- test: background -->`
//! is started in the background and waited on until it prints `ready`; one preceded by
//! `<!-- test: skip … -->` is not run (the comment says why).

use std::io::{BufRead as _, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

#[derive(Debug, PartialEq)]
enum Mode {
    Run,
    Background,
    Skip,
}

fn quickstart_blocks(readme: &str) -> Vec<(Mode, String)> {
    let start = readme
        .find("<!-- quickstart -->")
        .expect("README has a quickstart section");
    let end = readme
        .find("<!-- /quickstart -->")
        .expect("the quickstart section ends");
    let mut blocks = Vec::new();
    let mut mode = Mode::Run;
    let mut lines = readme[start..end].lines();
    while let Some(line) = lines.next() {
        if line.starts_with("<!-- test: background") {
            mode = Mode::Background;
        } else if line.starts_with("<!-- test: skip") {
            mode = Mode::Skip;
        } else if line.trim() == "```sh" {
            let body: Vec<&str> = lines.by_ref().take_while(|l| l.trim() != "```").collect();
            blocks.push((std::mem::replace(&mut mode, Mode::Run), body.join("\n")));
        }
    }
    blocks
}

#[test]
fn every_quickstart_command_runs() {
    for tool in ["aws", "curl"] {
        if !e2e::installed(tool) {
            eprintln!("SKIPPED: `{tool}` is not installed (scripts/test installs the AWS CLI)");
            return;
        }
    }
    let readme =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../../README.md"))
            .expect("README.md");
    let blocks = quickstart_blocks(&readme);
    assert!(
        blocks.iter().any(|(m, _)| *m == Mode::Background),
        "no server block"
    );
    assert!(
        blocks.iter().filter(|(m, _)| *m == Mode::Run).count() >= 5,
        "too few steps"
    );

    let dir = tempfile::tempdir().unwrap();
    let bin_dir = e2e::binary().parent().unwrap().to_owned();
    let path = format!(
        "{}:{}",
        bin_dir.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let api = format!("127.0.0.1:{}", e2e::free_port());
    let imds_port = e2e::free_port().to_string();
    let env = |cmd: &mut Command| {
        cmd.current_dir(dir.path())
            .env("PATH", &path)
            .env("ROLEPLANE_API_ADDR", &api)
            .env("ROLEPLANE_IMDS_PORT", &imds_port)
            // Nothing from the machine's own AWS set-up may leak into the walk-through.
            .env("AWS_CONFIG_FILE", "/dev/null")
            .env_remove("AWS_ACCESS_KEY_ID")
            .env_remove("AWS_SECRET_ACCESS_KEY")
            .env_remove("AWS_SESSION_TOKEN")
            .env_remove("AWS_PROFILE");
    };

    let mut background = Vec::new();
    // `-e` as a careful reader would stop at the first failure; no `pipefail`, because a reader's
    // shell has none and the README pipes an expected denial into `grep`.
    let mut script = String::from("set -eu\nset -x\n");
    for (mode, body) in &blocks {
        match mode {
            Mode::Skip => {}
            Mode::Run => {
                script.push_str(body);
                script.push('\n');
            }
            Mode::Background => {
                let mut cmd = Command::new("bash");
                cmd.args(["-c", &format!("exec {body}")])
                    .stdout(Stdio::piped())
                    .stderr(Stdio::inherit());
                env(&mut cmd);
                let mut child = cmd.spawn().expect("start the background block");
                let stdout = child.stdout.take().unwrap();
                let (tx, rx) = mpsc::channel();
                std::thread::spawn(move || {
                    for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                        if line.contains("ready") {
                            let _ = tx.send(());
                        }
                    }
                });
                rx.recv_timeout(Duration::from_secs(60))
                    .unwrap_or_else(|_| panic!("`{body}` never printed ready"));
                background.push(child);
            }
        }
    }
    let mut cmd = Command::new("bash");
    cmd.args(["-c", &script]);
    env(&mut cmd);
    let output = cmd.output().expect("run the quick start");
    for child in &mut background {
        let _ = child.kill();
        let _ = child.wait();
    }
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "the quick start failed\n--- stdout\n{stdout}\n--- stderr\n{stderr}"
    );
    // What the walk-through promises the reader sees.
    for expected in [
        "arn:aws:iam::123456789012:user/admin",
        "\"RoleName\": \"s3access\"",
        "\"State\": \"associated\"",
        "\"Code\" : \"Success\"",
        "\"Type\" : \"AWS-HMAC\"",
        "assumed-role/s3access/i-",
        "AccessDenied",
    ] {
        assert!(
            stdout.contains(expected),
            "`{expected}` not shown\n{stdout}\n{stderr}"
        );
    }
}

#[test]
fn blocks_are_read_with_their_modes() {
    let readme = "x\n<!-- quickstart -->\n<!-- test: skip (why) -->\n```sh\na\n```\n<!-- test: background -->\n```sh\nb\n```\n```sh\nc\nd\n```\n<!-- /quickstart -->\n";
    assert_eq!(
        quickstart_blocks(readme),
        vec![
            (Mode::Skip, "a".to_owned()),
            (Mode::Background, "b".to_owned()),
            (Mode::Run, "c\nd".to_owned())
        ]
    );
}
