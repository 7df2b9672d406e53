//! `roleplane serve --config FILE` and `roleplane config show` through the real binary:
//! precedence flag > environment > file > default, secrets redacted, the output read back as a
//! config file, and a bad file refused before the server touches anything.

use std::path::Path;
use std::process::{Command, Output};

/// The binary with no `ROLEPLANE_*` variable but `env`.
fn roleplane(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_roleplane"));
    for (name, _) in std::env::vars_os().filter_map(|(n, v)| Some((n.into_string().ok()?, v))) {
        if name.starts_with("ROLEPLANE_") {
            command.env_remove(name);
        }
    }
    command.args(args).envs(env.iter().copied());
    command.output().expect("run roleplane")
}

fn stdout(output: &Output) -> String {
    assert!(
        output.status.success(),
        "{:?}: {}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout.clone()).unwrap()
}

fn write(dir: &Path, name: &str, text: &str) -> String {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path.to_str().unwrap().to_owned()
}

/// The `key = value` lines of `config show`, without where each came from.
fn settings(text: &str) -> Vec<String> {
    text.lines()
        .filter(|line| !line.starts_with('#'))
        .map(|line| line.split("  # ").next().unwrap().to_owned())
        .collect()
}

const FILE: &str = r#"
api-addr = "127.0.0.1:9200"
imds-port = 9300
region = "eu-west-1"
imds-listen = ["169.254.169.254:80"]
audit-max-mib = 2048
"#;

#[test]
fn flags_beat_the_environment_which_beats_the_file_which_beats_defaults() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(dir.path(), "roleplane.toml", FILE);
    let output = roleplane(
        &["config", "show", "--config", &file, "--imds-port", "9400"],
        &[
            ("ROLEPLANE_IMDS_PORT", "9500"),
            ("ROLEPLANE_REGION", "ap-south-1"),
        ],
    );
    let text = stdout(&output);
    for line in [
        "imds-port = 9400  # flag",
        "region = \"ap-south-1\"  # env ROLEPLANE_REGION",
        "api-addr = \"127.0.0.1:9200\"  # config file",
        "imds-listen = [\"169.254.169.254:80\"]  # config file",
        "audit-max-mib = 2048  # config file",
        "account-id = \"123456789012\"  # default",
        "log-format = \"text\"  # default",
        "# admin-addr is unset",
    ] {
        assert!(text.lines().any(|l| l == line), "{line:?} in:\n{text}");
    }
    // The file named by the environment works the same.
    let output = roleplane(&["config", "show"], &[("ROLEPLANE_CONFIG", &file)]);
    assert!(stdout(&output).contains("imds-port = 9300  # config file\n"));
}

#[test]
fn config_show_reads_back_as_a_config_file_and_redacts_secrets() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(dir.path(), "roleplane.toml", FILE);
    let secrets = [
        (
            "ROLEPLANE_MASTER_KEY",
            "bWFzdGVyLWtleS1zZWNyZXQtbmV2ZXItc2hvd24tMDA=",
        ),
        ("ROLEPLANE_ADMIN_ACCESS_KEY_ID", "AKIACONFIGSHOWTEST01"),
        (
            "ROLEPLANE_ADMIN_SECRET_ACCESS_KEY",
            "admin/secret/never/shown/0000000000000",
        ),
    ];
    // A URL with a password in a setting (an issuer's keys) is shown without the password.
    let jwks = "https://reader:url-password-never-shown@oidc.example.com/id=/etc/jwks.json";
    let output = roleplane(
        &["config", "show", "--config", &file, "--oidc-jwks", jwks],
        &secrets,
    );
    let shown = stdout(&output);
    for (_, secret) in &secrets {
        assert!(!shown.contains(secret), "{secret} in:\n{shown}");
    }
    assert!(!shown.contains("url-password-never-shown"), "{shown}");
    assert!(
        shown.contains(
            "oidc-jwks = [\"https://reader:<redacted>@oidc.example.com/id=/etc/jwks.json\"]  # flag\n"
        ),
        "{shown}"
    );
    assert!(
        shown.contains(
            "# Set in the environment, not shown: ROLEPLANE_MASTER_KEY, \
             ROLEPLANE_ADMIN_ACCESS_KEY_ID, ROLEPLANE_ADMIN_SECRET_ACCESS_KEY\n"
        ),
        "{shown}"
    );

    // Without the secret, the output is a config file that gives the same settings back.
    let output = roleplane(&["config", "show", "--config", &file], &[]);
    let first = stdout(&output);
    let again = write(dir.path(), "shown.toml", &first);
    let output = roleplane(&["config", "show", "--config", &again], &[]);
    let second = stdout(&output);
    assert_eq!(settings(&first), settings(&second));
    // Every setting came from the shown file the second time.
    assert!(
        second
            .lines()
            .filter(|l| !l.starts_with('#'))
            .all(|l| l.ends_with("# config file")),
        "{second}"
    );
}

#[test]
fn serve_refuses_a_bad_file_before_it_starts() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    for (text, message) in [
        ("api-adr = \"127.0.0.1:0\"\n", "unknown key `api-adr`"),
        (
            "max-connections = 0\n",
            "key `max-connections`: invalid value '0'",
        ),
    ] {
        let file = write(dir.path(), "bad.toml", text);
        let output = roleplane(
            &[
                "serve",
                "--config",
                &file,
                "--data-dir",
                data.to_str().unwrap(),
                "--api-addr",
                "127.0.0.1:0",
            ],
            &[],
        );
        assert_eq!(output.status.code(), Some(2), "{output:?}");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(
            stderr.starts_with(&format!("roleplane: config file {file}: "))
                && stderr.contains(message),
            "{stderr}"
        );
        // Nothing was started: not even the data dir exists.
        assert!(!data.exists());
    }
}
