//! Ansible's amazon.aws collection against roleplane: `iam_group` creates a group with a member
//! and a managed policy, a second run changes nothing, and `state: absent` removes it;
//! `iam_managed_policy` creates a policy, updates its document (a new default version) and
//! deletes it with its versions.
//!
//! Ansible is installed from PyPI (`scripts/requirements-ansible.txt`, the `ansible` package
//! bundles amazon.aws) into a virtual environment under cargo's test temp dir, once; the
//! environment sees the system's site packages, so a boto3 already installed is reused.

use std::path::{Path, PathBuf};
use std::process::Command;

use e2e::{ACCOUNT_ID, ADMIN_KEY_ID, ADMIN_SECRET, Server};

/// The venv's directory, with Ansible installed in it (installed now if it is not yet). The
/// tests of this binary run on several threads: one of them installs, the others wait for it.
fn ansible_venv() -> PathBuf {
    static VENV: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    VENV.get_or_init(install_ansible).clone()
}

fn install_ansible() -> PathBuf {
    let requirements =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scripts/requirements-ansible.txt");
    let wanted = std::fs::read_to_string(&requirements).expect("the requirements file");
    let venv = Path::new(env!("CARGO_TARGET_TMPDIR")).join("ansible-venv");
    // The stamp holds the requirements the venv was made from: a changed pin reinstalls, and
    // so does a venv left without `ansible-playbook` (an install cut short).
    let stamp = venv.join("roleplane-requirements.txt");
    let stamped = std::fs::read_to_string(&stamp).ok().as_deref() == Some(wanted.as_str());
    if stamped && venv.join("bin/ansible-playbook").is_file() {
        return venv;
    }
    if venv.exists() {
        std::fs::remove_dir_all(&venv).expect("remove the incomplete venv");
    }
    let python = if e2e::installed("python3") {
        "python3"
    } else {
        "python"
    };
    let made = Command::new(python)
        .args(["-m", "venv", "--system-site-packages"])
        .arg(&venv)
        .status()
        .expect("run python -m venv");
    assert!(made.success(), "python -m venv failed");
    let installed = Command::new(venv.join("bin/pip"))
        .args(["install", "--quiet", "--disable-pip-version-check", "-r"])
        .arg(&requirements)
        .status()
        .expect("run pip");
    assert!(
        installed.success(),
        "pip could not install {requirements:?}"
    );
    std::fs::write(&stamp, wanted).expect("write the stamp");
    venv
}

/// A play on localhost whose amazon.aws modules talk to the server under test, with `tasks`.
fn playbook(tasks: &str) -> String {
    format!(
        r#"
- hosts: localhost
  connection: local
  gather_facts: false
  module_defaults:
    group/amazon.aws.aws:
      endpoint_url: "{{{{ lookup('env', 'E2E_ENDPOINT') }}}}"
      region: us-east-1
      access_key: "{{{{ lookup('env', 'E2E_KEY_ID') }}}}"
      secret_key: "{{{{ lookup('env', 'E2E_SECRET') }}}}"
  tasks:
{tasks}"#
    )
}

const GROUP_TASKS: &str = r#"
    - name: the group
      amazon.aws.iam_group:
        name: ansible-group
        path: /ansible/
        users: [ansible-user]
        managed_policies: ["{{ lookup('env', 'E2E_POLICY_ARN') }}"]
        state: "{{ lookup('env', 'E2E_STATE') }}"
"#;

const POLICY_TASKS: &str = r#"
    - name: the policy
      amazon.aws.iam_managed_policy:
        name: ansible-managed
        policy: "{{ lookup('env', 'E2E_DOCUMENT') }}"
        state: "{{ lookup('env', 'E2E_STATE') }}"
"#;

/// Runs `playbook` with `vars` in its environment; the recap's `changed=` count.
fn run_playbook(
    venv: &Path,
    work: &Path,
    server: &Server,
    playbook: &str,
    vars: &[(&str, &str)],
) -> u32 {
    let path = work.join("playbook.yml");
    std::fs::write(&path, playbook).unwrap();
    let out = Command::new(venv.join("bin/ansible-playbook"))
        .args(["-i", "localhost,"])
        .arg("-e")
        .arg(format!(
            "ansible_python_interpreter={}",
            venv.join("bin/python").display()
        ))
        .arg(&path)
        .envs(vars.iter().copied())
        .env("E2E_ENDPOINT", &server.endpoint)
        .env("E2E_KEY_ID", ADMIN_KEY_ID)
        .env("E2E_SECRET", ADMIN_SECRET)
        .env("ANSIBLE_HOME", work.join("ansible-home"))
        .env("ANSIBLE_LOCAL_TEMP", work.join("ansible-tmp"))
        .env("ANSIBLE_NOCOLOR", "1")
        .env("ANSIBLE_LOCALHOST_WARNING", "false")
        .env("AWS_CONFIG_FILE", "/dev/null")
        .env("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env_remove("AWS_PROFILE")
        .env_remove("AWS_ENDPOINT_URL")
        .env_remove("AWS_ACCESS_KEY_ID")
        .env_remove("AWS_SECRET_ACCESS_KEY")
        .env_remove("AWS_SESSION_TOKEN")
        .output()
        .expect("run ansible-playbook");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    let recap = stdout
        .lines()
        .find(|l| l.starts_with("localhost") && l.contains("changed="))
        .unwrap_or_else(|| panic!("no play recap in {stdout}"));
    recap
        .split_whitespace()
        .find_map(|field| field.strip_prefix("changed="))
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no changed count in {recap}"))
}

#[tokio::test]
async fn ansible_iam_group_creates_idempotently_and_removes() {
    let venv = ansible_venv();
    let server = Server::start();
    let iam = server.iam().await;
    iam.create_user()
        .user_name("ansible-user")
        .send()
        .await
        .unwrap();
    let policy_arn = iam
        .create_policy()
        .policy_name("ansible-policy")
        .policy_document(
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:ListBucket","Resource":"*"}]}"#,
        )
        .send()
        .await
        .unwrap()
        .policy()
        .unwrap()
        .arn()
        .unwrap()
        .to_owned();
    let work = tempfile::tempdir().unwrap();
    let run = |state: &str| {
        run_playbook(
            &venv,
            work.path(),
            &server,
            &playbook(GROUP_TASKS),
            &[("E2E_POLICY_ARN", &policy_arn), ("E2E_STATE", state)],
        )
    };

    assert_eq!(run("present"), 1, "the first run creates the group");
    let group = iam
        .get_group()
        .group_name("ansible-group")
        .send()
        .await
        .unwrap();
    assert_eq!(
        group.group().unwrap().arn(),
        format!("arn:aws:iam::{ACCOUNT_ID}:group/ansible/ansible-group")
    );
    assert_eq!(group.users()[0].user_name(), "ansible-user");
    let attached = iam
        .list_attached_group_policies()
        .group_name("ansible-group")
        .send()
        .await
        .unwrap();
    assert_eq!(
        attached.attached_policies()[0].policy_arn(),
        Some(policy_arn.as_str())
    );
    assert_eq!(run("present"), 0, "a second run finds nothing to change");

    assert_eq!(run("absent"), 1, "state=absent removes the group");
    let gone = iam.get_group().group_name("ansible-group").send().await;
    assert_eq!(e2e::failure(gone).0, "NoSuchEntity");
    // Members and attachments went first, so the user and the policy are free again.
    iam.delete_policy()
        .policy_arn(&policy_arn)
        .send()
        .await
        .unwrap();
    iam.delete_user()
        .user_name("ansible-user")
        .send()
        .await
        .unwrap();
    assert_eq!(run("absent"), 0, "nothing left to remove");
}

#[tokio::test]
async fn ansible_iam_managed_policy_creates_updates_and_deletes_with_its_versions() {
    let venv = ansible_venv();
    let server = Server::start();
    let iam = server.iam().await;
    let work = tempfile::tempdir().unwrap();
    let list = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:ListBucket","Resource":"*"}]}"#;
    let read = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}"#;
    let run = |document: &str, state: &str| {
        run_playbook(
            &venv,
            work.path(),
            &server,
            &playbook(POLICY_TASKS),
            &[("E2E_DOCUMENT", document), ("E2E_STATE", state)],
        )
    };
    let arn = format!("arn:aws:iam::{ACCOUNT_ID}:policy/ansible-managed");

    assert_eq!(run(list, "present"), 1, "the first run creates the policy");
    assert_eq!(run(list, "present"), 0, "the same document changes nothing");
    assert_eq!(run(read, "present"), 1, "a new document is a new version");
    let policy = iam.get_policy().policy_arn(&arn).send().await.unwrap();
    assert_eq!(policy.policy().unwrap().default_version_id(), Some("v2"));
    let versions = iam
        .list_policy_versions()
        .policy_arn(&arn)
        .send()
        .await
        .unwrap();
    assert_eq!(versions.versions().len(), 2);

    assert_eq!(run(read, "absent"), 1, "state=absent deletes it");
    let gone = iam.get_policy().policy_arn(&arn).send().await;
    assert_eq!(e2e::failure(gone).0, "NoSuchEntity");
    assert_eq!(run(read, "absent"), 0, "nothing left to delete");
}
