//! A roleplane server process for tests, and SDK clients pointed at it.
//!
//! [`Server::start`] runs the real `roleplane serve` binary on an ephemeral port with a fresh
//! data dir, waits for its `ready` line (the API address and the metadata service's port), and
//! kills it on drop. [`imds`] speaks raw HTTP to an instance's metadata service.

use std::io::{BufRead as _, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use aws_credential_types::Credentials;
use aws_sdk_iam::types::AccessKey;

pub mod agent;
pub mod imds;
pub mod netns;
pub mod pg;
pub mod raw;
pub mod s3;

pub const REGION: &str = "us-east-1";
pub const ACCOUNT_ID: &str = "123456789012";
pub const ADMIN_KEY_ID: &str = "AKIAE2ETESTADMIN0001";
pub const ADMIN_SECRET: &str = "e2e/admin/secret/key/for/tests/only/0001";

/// A trust policy letting EC2 assume a role for its instances.
pub const EC2_TRUST: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;

pub struct Server {
    child: Child,
    pub endpoint: String,
    /// The port of every instance's metadata service (`imds_port=` of the ready line).
    pub imds_port: u16,
    pub data_dir: PathBuf,
    /// The server's last [`LOG_LINES`] log lines.
    log: std::sync::Arc<std::sync::Mutex<std::collections::VecDeque<String>>>,
    _temp: Option<tempfile::TempDir>,
}

/// Log lines a [`Server`] keeps for [`Server::logged`].
const LOG_LINES: usize = 10_000;

impl Server {
    /// A fresh server on a fresh data dir, with the admin key pair [`ADMIN_KEY_ID`].
    pub fn start() -> Server {
        let temp = tempfile::tempdir().expect("temp dir");
        let dir = temp.path().join("data");
        let mut server = Server::start_on(&dir);
        server._temp = Some(temp);
        server
    }

    /// A server on `data_dir` (kept after the server stops).
    pub fn start_on(data_dir: &Path) -> Server {
        Server::start_with(data_dir, &[])
    }

    /// A server on `data_dir` with extra `serve` flags (e.g. a short credential rotation).
    pub fn start_with(data_dir: &Path, extra: &[&str]) -> Server {
        Server::start_wrapped(&[], data_dir, extra)
    }

    /// [`Server::start_with`], the server started by the command `wrapper` (e.g. `unshare -m …`),
    /// which ends by running its arguments (the server binary and its flags) in its own process.
    pub fn start_wrapped(wrapper: &[&str], data_dir: &Path, extra: &[&str]) -> Server {
        Server::start_configured(wrapper, data_dir, extra, &[])
    }

    /// [`Server::start_wrapped`] with extra environment variables (e.g. a replica's
    /// `ROLEPLANE_MASTER_KEY`).
    pub fn start_configured(
        wrapper: &[&str],
        data_dir: &Path,
        extra: &[&str],
        env: &[(&str, &str)],
    ) -> Server {
        // An ephemeral metadata port unless the caller picks one.
        let imds_port: &[&str] = if extra.contains(&"--imds-port") {
            &[]
        } else {
            &["--imds-port", "0"]
        };
        let mut command = match wrapper.split_first() {
            Some((program, args)) => {
                let mut command = Command::new(program);
                command.args(args).arg(binary());
                command
            }
            None => Command::new(binary()),
        };
        // An ephemeral API port unless the caller picks one (a restart on the same port).
        let api_addr: &[&str] = if extra.contains(&"--api-addr") {
            &[]
        } else {
            &["--api-addr", "127.0.0.1:0"]
        };
        let mut child = command
            .arg("serve")
            .args(api_addr)
            .args(imds_port)
            .arg("--data-dir")
            .arg(data_dir)
            .args(extra)
            .env("ROLEPLANE_ADMIN_ACCESS_KEY_ID", ADMIN_KEY_ID)
            .env("ROLEPLANE_ADMIN_SECRET_ACCESS_KEY", ADMIN_SECRET)
            .env("ROLEPLANE_LOG", "info")
            .envs(env.iter().copied())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("spawn roleplane serve");
        let stdout = child.stdout.take().expect("piped stdout");
        let (tx, rx) = mpsc::channel();
        let log = std::sync::Arc::new(std::sync::Mutex::new(std::collections::VecDeque::new()));
        let kept = log.clone();
        std::thread::spawn(move || {
            let mut sent = false;
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                // The ready line names the API address; a log line that merely contains the
                // words is not it.
                if !sent && line.contains("roleplane ready") && line.contains("api=") {
                    let _ = tx.send(line.clone());
                    sent = true;
                }
                {
                    let mut kept = kept.lock().unwrap_or_else(|e| e.into_inner());
                    if kept.len() == LOG_LINES {
                        kept.pop_front();
                    }
                    kept.push_back(line.clone());
                }
                // Keep draining so the server never blocks on a full pipe.
                if std::env::var_os("E2E_SERVER_LOG").is_some() {
                    eprintln!("[server] {line}");
                }
            }
        });
        let Ok(line) = rx.recv_timeout(Duration::from_secs(60)) else {
            // Not left running behind a failed test.
            let _ = child.kill();
            let _ = child.wait();
            panic!("the server printed no ready line within 60 s");
        };
        // Under `--log-format json` the line is an object whose message holds the same words.
        let line = serde_json::from_str::<serde_json::Value>(&line)
            .ok()
            .and_then(|object| Some(object.get("message")?.as_str()?.to_owned()))
            .unwrap_or(line);
        let addr = line
            .split_whitespace()
            .find_map(|w| w.strip_prefix("api="))
            .expect("ready line names the api address")
            .to_owned();
        let imds_port = line
            .split_whitespace()
            .find_map(|w| w.strip_prefix("imds_port="))
            .and_then(|port| port.parse().ok())
            .expect("ready line names the imds port");
        Server {
            child,
            endpoint: format!("http://{addr}"),
            imds_port,
            data_dir: data_dir.to_owned(),
            log,
            _temp: None,
        }
    }

    /// SDK configuration for the given key pair (and session token) against this server.
    pub async fn config(
        &self,
        key_id: &str,
        secret: &str,
        token: Option<&str>,
    ) -> aws_config::SdkConfig {
        let credentials = Credentials::new(key_id, secret, token.map(str::to_owned), None, "e2e");
        self.provider_config(credentials).await
    }

    /// SDK configuration whose credentials come from `provider` (IMDS, a profile, …).
    pub async fn provider_config(
        &self,
        provider: impl aws_credential_types::provider::ProvideCredentials + 'static,
    ) -> aws_config::SdkConfig {
        aws_config::defaults(aws_config::BehaviorVersion::latest())
            .region(aws_config::Region::new(REGION))
            .endpoint_url(&self.endpoint)
            .credentials_provider(provider)
            .load()
            .await
    }

    /// SDK configuration signing with a set of temporary credentials.
    pub async fn session_config(
        &self,
        creds: &aws_sdk_sts::types::Credentials,
    ) -> aws_config::SdkConfig {
        self.config(
            creds.access_key_id(),
            creds.secret_access_key(),
            Some(creds.session_token()),
        )
        .await
    }

    /// SDK configuration signing with a user's long-term `key`.
    pub async fn key_config(&self, key: &AccessKey) -> aws_config::SdkConfig {
        self.config(key.access_key_id(), key.secret_access_key(), None)
            .await
    }

    /// A new user `name`, with no permissions, and one access key of it.
    pub async fn user_with_key(&self, name: &str) -> AccessKey {
        self.iam()
            .await
            .create_user()
            .user_name(name)
            .send()
            .await
            .expect("CreateUser");
        self.access_key(name).await
    }

    /// A new access key of the existing user `name`.
    pub async fn access_key(&self, name: &str) -> AccessKey {
        let created = self
            .iam()
            .await
            .create_access_key()
            .user_name(name)
            .send()
            .await
            .expect("CreateAccessKey");
        created.access_key().expect("the new key").clone()
    }

    pub async fn admin_config(&self) -> aws_config::SdkConfig {
        self.config(ADMIN_KEY_ID, ADMIN_SECRET, None).await
    }

    pub async fn iam(&self) -> aws_sdk_iam::Client {
        aws_sdk_iam::Client::new(&self.admin_config().await)
    }

    pub async fn ec2(&self) -> aws_sdk_ec2::Client {
        aws_sdk_ec2::Client::new(&self.admin_config().await)
    }

    pub async fn sts(&self) -> aws_sdk_sts::Client {
        aws_sdk_sts::Client::new(&self.admin_config().await)
    }

    /// An S3 client of the admin, path-style (`http://127.0.0.1:PORT/bucket/key`).
    pub async fn s3(&self) -> aws_sdk_s3::Client {
        s3_client(&self.admin_config().await)
    }

    /// The server process's ID (e.g. for its `/proc/PID/status`).
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// `http://IP:PORT` of the metadata service of the instance at `ip`.
    pub fn imds_url(&self, ip: &str) -> String {
        format!("http://{ip}:{}", self.imds_port)
    }

    /// A role EC2 may assume (trust `ec2.amazonaws.com`) with one inline policy, in an
    /// instance profile of the given name.
    pub async fn instance_role(&self, role: &str, profile: &str, policy: &str) {
        let iam = self.iam().await;
        iam.create_role()
            .role_name(role)
            .assume_role_policy_document(EC2_TRUST)
            .send()
            .await
            .expect("CreateRole");
        iam.put_role_policy()
            .role_name(role)
            .policy_name("instance")
            .policy_document(policy)
            .send()
            .await
            .expect("PutRolePolicy");
        iam.create_instance_profile()
            .instance_profile_name(profile)
            .send()
            .await
            .expect("CreateInstanceProfile");
        iam.add_role_to_instance_profile()
            .instance_profile_name(profile)
            .role_name(role)
            .send()
            .await
            .expect("AddRoleToInstanceProfile");
    }

    /// Launches one instance with the profile; returns its ID and private (loopback) address.
    pub async fn launch(&self, profile: Option<&str>) -> (String, String) {
        let ec2 = self.ec2().await;
        let mut run = ec2
            .run_instances()
            .image_id("ami-0123456789abcdef0")
            .min_count(1)
            .max_count(1);
        if let Some(profile) = profile {
            run = run.iam_instance_profile(
                aws_sdk_ec2::types::IamInstanceProfileSpecification::builder()
                    .name(profile)
                    .build(),
            );
        }
        let out = run.send().await.expect("RunInstances");
        let instance = &out.instances()[0];
        (
            instance.instance_id().expect("instance id").to_owned(),
            instance
                .private_ip_address()
                .expect("private ip")
                .to_owned(),
        )
    }

    /// A second account made with `roleplane account create` beside the running server; returns
    /// its admin's key pair (the account's full-access administrator).
    pub fn second_account(&self, account_id: &str) -> (String, String) {
        let output = Command::new(binary())
            .args([
                "account",
                "create",
                "--account-id",
                account_id,
                "--data-dir",
            ])
            .arg(&self.data_dir)
            .env_remove("ROLEPLANE_ADMIN_ACCESS_KEY_ID")
            .env_remove("ROLEPLANE_ADMIN_SECRET_ACCESS_KEY")
            .output()
            .expect("run roleplane account create");
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        let text = String::from_utf8(output.stdout).expect("utf-8 credentials");
        let field = |name: &str| {
            text.lines()
                .find_map(|l| l.strip_prefix(&format!("{name} = ")))
                .expect("a credentials field")
                .to_owned()
        };
        (field("aws_access_key_id"), field("aws_secret_access_key"))
    }

    /// The server's kept log lines holding `needle`.
    pub fn logged(&self, needle: &str) -> Vec<String> {
        let kept = self.log.lock().unwrap_or_else(|e| e.into_inner());
        kept.iter()
            .filter(|line| line.contains(needle))
            .cloned()
            .collect()
    }

    /// Stops the server as an operator would, with SIGTERM, and waits for it to exit.
    pub fn stop(&mut self) {
        // The shell's own `kill`: a minimal machine may not have procps' /bin/kill.
        let sent = Command::new("sh")
            .args(["-c", &format!("kill -TERM {}", self.child.id())])
            .status();
        assert!(sent.is_ok_and(|s| s.success()), "SIGTERM to the server");
        let status = self.child.wait().expect("wait for the server");
        assert!(
            status.success(),
            "the server exits cleanly on SIGTERM: {status}"
        );
    }

    /// Sends SIGTERM and waits at most `limit` for the server to exit; whether it exited
    /// cleanly in time (it is killed otherwise).
    pub fn stop_within(&mut self, limit: Duration) -> bool {
        let sent = Command::new("sh")
            .args(["-c", &format!("kill -TERM {}", self.child.id())])
            .status();
        assert!(sent.is_ok_and(|s| s.success()), "SIGTERM to the server");
        let deadline = std::time::Instant::now() + limit;
        while std::time::Instant::now() < deadline {
            if let Some(status) = self.child.try_wait().expect("wait for the server") {
                return status.success();
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        self.kill();
        false
    }

    /// Stops the server with SIGKILL: nothing gets a chance to flush.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill();
    }
}

/// A path-style S3 client for an SDK configuration (roleplane answers bucket names in the path,
/// and virtual-hosted names only under its `--s3-domain`).
pub fn s3_client(config: &aws_config::SdkConfig) -> aws_sdk_s3::Client {
    let config = aws_sdk_s3::config::Builder::from(config)
        .force_path_style(true)
        .build();
    aws_sdk_s3::Client::from_conf(config)
}

/// (code, message, HTTP status) of a call that must have failed with a service error.
pub fn failure<T, E>(
    result: Result<T, aws_sdk_iam::error::SdkError<E, aws_sdk_iam::config::http::HttpResponse>>,
) -> (String, String, u16)
where
    T: std::fmt::Debug,
    E: aws_sdk_iam::error::ProvideErrorMetadata + std::fmt::Debug,
{
    use aws_sdk_iam::error::ProvideErrorMetadata as _;
    let err = result.expect_err("the call fails");
    let status = err.raw_response().map(|r| r.status().as_u16()).unwrap_or(0);
    (
        err.code().unwrap_or("<no code>").to_owned(),
        err.message().unwrap_or("<no message>").to_owned(),
        status,
    )
}

/// A URL-encoded policy document as IAM hands it back (the Rust SDK passes it on as it is).
pub fn url_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).expect("ascii");
            out.push(u8::from_str_radix(hex, 16).expect("hex"));
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).expect("utf-8")
}

/// A loopback port nothing listens on now (bound once, then released), for a listener a test
/// starts, or restarts, on a port it names.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("an ephemeral port")
}

/// Whether `program` is an executable file on `PATH` (tests of external tools skip where one
/// is missing). Not `program --version`: openssl and ssh-keygen have no such flag, and a
/// check that always fails would skip their tests silently.
pub fn installed(program: &str) -> bool {
    use std::os::unix::fs::PermissionsExt as _;
    let Some(path) = std::env::var_os("PATH") else {
        return false;
    };
    std::env::split_paths(&path).any(|dir| {
        std::fs::metadata(dir.join(program))
            .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
    })
}

/// The `roleplane` binary of this workspace, built on demand when a test runs on its own.
pub fn binary() -> PathBuf {
    if let Some(path) = std::env::var_os("ROLEPLANE_BIN") {
        return PathBuf::from(path);
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("target"));
    let path = target.join("debug/roleplane");
    static BUILD: std::sync::Once = std::sync::Once::new();
    BUILD.call_once(|| {
        let status = Command::new(env!("CARGO"))
            .args(["build", "-q", "-p", "roleplane", "--bin", "roleplane"])
            .current_dir(&root)
            .status()
            .expect("run cargo build");
        assert!(status.success(), "building roleplane failed");
    });
    path
}
