//! Dedicated Hosts' metadata agents for tests: a host's agent credential as
//! `roleplane host credentials` prints it, and raw calls of the agent API signed with it.

use std::process::Command;

use crate::Server;
use crate::raw::{RawResponse, Signer};

/// The agent API's SigV4 service name.
pub const SERVICE: &str = "roleplane-agent";

/// A host's agent credential.
#[derive(Debug, Clone)]
pub struct HostKey {
    pub host_id: String,
    pub key_id: String,
    pub secret: String,
    /// The shared-credentials file text the CLI printed.
    pub file: String,
}

impl HostKey {
    /// `roleplane host credentials HOST --data-dir` of `server`'s data dir.
    pub fn of(server: &Server, host_id: &str) -> HostKey {
        let output = Command::new(crate::binary())
            .args(["host", "credentials", host_id, "--data-dir"])
            .arg(&server.data_dir)
            .env_remove("ROLEPLANE_ADMIN_ACCESS_KEY_ID")
            .env_remove("ROLEPLANE_ADMIN_SECRET_ACCESS_KEY")
            .output()
            .expect("run roleplane host credentials");
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        HostKey::parse(host_id, &String::from_utf8(output.stdout).expect("utf-8"))
    }

    /// A host key from a shared-credentials file's text.
    pub fn parse(host_id: &str, file: &str) -> HostKey {
        let field = |name: &str| {
            file.lines()
                .find_map(|l| l.strip_prefix(&format!("{name} = ")))
                .unwrap_or_else(|| panic!("{name} in {file}"))
                .to_owned()
        };
        HostKey {
            host_id: host_id.to_owned(),
            key_id: field("aws_access_key_id"),
            secret: field("aws_secret_access_key"),
            file: file.to_owned(),
        }
    }

    /// Writes the credentials file (mode 0600) into `dir`; its path.
    pub fn write_to(&self, dir: &std::path::Path) -> std::path::PathBuf {
        use std::os::unix::fs::PermissionsExt as _;
        let path = dir.join(format!("{}.credentials", self.host_id));
        std::fs::write(&path, &self.file).expect("write the agent credentials");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).expect("chmod");
        path
    }

    pub fn pair(&self) -> (&str, &str) {
        (&self.key_id, &self.secret)
    }
}

/// Raw agent API calls with any key pair, against `endpoint`.
pub struct AgentApi<'a> {
    pub endpoint: &'a str,
    pub key: (&'a str, &'a str),
}

impl AgentApi<'_> {
    /// `GET /v1/hosts/{host}/instances?{query}`.
    pub fn list(&self, host: &str, query: &str) -> RawResponse {
        let path = if query.is_empty() {
            format!("/v1/hosts/{host}/instances")
        } else {
            format!("/v1/hosts/{host}/instances?{query}")
        };
        Signer::new(SERVICE, self.key).send(self.endpoint, "GET", &path, &[], b"")
    }

    /// `POST /v1/hosts/{host}/credentials` for `instance` and `delivery` (`1.0`, `2.0`).
    pub fn credentials(&self, host: &str, instance: &str, delivery: &str) -> RawResponse {
        let body = format!(r#"{{"instanceId":"{instance}","delivery":"{delivery}"}}"#);
        self.post(&format!("/v1/hosts/{host}/credentials"), body.as_bytes())
    }

    /// `POST /v1/hosts/{host}/served-credentials` with `body`.
    pub fn report(&self, host: &str, body: &serde_json::Value) -> RawResponse {
        self.post(
            &format!("/v1/hosts/{host}/served-credentials"),
            body.to_string().as_bytes(),
        )
    }

    pub fn post(&self, path: &str, body: &[u8]) -> RawResponse {
        Signer::new(SERVICE, self.key).send(
            self.endpoint,
            "POST",
            path,
            &[("content-type", "application/json")],
            body,
        )
    }
}

/// The JSON body of a 200 answer, or a panic naming what came back.
pub fn ok_json(response: &RawResponse) -> serde_json::Value {
    assert_eq!(response.status, 200, "{}\n{}", response.head, response.body);
    serde_json::from_str(&response.body).unwrap_or_else(|e| panic!("{e}: {}", response.body))
}

/// The restJson error code (`x-amzn-ErrorType`) of an answer.
pub fn error_type(response: &RawResponse) -> String {
    response
        .head
        .lines()
        .find_map(|line| {
            let (name, value) = line.split_once(':')?;
            name.eq_ignore_ascii_case("x-amzn-errortype")
                .then(|| value.trim().to_owned())
        })
        .unwrap_or_default()
}

/// A `roleplane agent` process, killed on drop.
pub struct Agent {
    child: std::process::Child,
    /// The shared endpoints (`--listen`), as bound.
    pub listen: Vec<std::net::SocketAddr>,
    /// `--instance-port`, as bound.
    pub instance_port: Option<u16>,
    /// `--health-addr`, as bound.
    pub health: Option<std::net::SocketAddr>,
    log: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
}

impl Agent {
    /// Starts an agent for `key`'s host against `control_planes` (each `http://HOST:PORT`),
    /// its credentials file written into `dir`, on `127.0.0.1:0` (shared), an ephemeral
    /// instance port and health endpoint, with the `extra` flags; waits for its ready line.
    pub fn start(
        control_planes: &[&str],
        key: &HostKey,
        dir: &std::path::Path,
        extra: &[&str],
    ) -> Agent {
        let flags = [
            "--listen",
            "127.0.0.1:0",
            "--instance-port",
            "0",
            "--health-addr",
            "127.0.0.1:0",
        ];
        Agent::start_wrapped(&[], control_planes, key, dir, &flags, extra)
    }

    /// [`Agent::start`] with the listening flags given (`flags`), started by the command
    /// `wrapper` (e.g. `ip netns exec NS`), which ends by running its arguments.
    pub fn start_wrapped(
        wrapper: &[&str],
        control_planes: &[&str],
        key: &HostKey,
        dir: &std::path::Path,
        flags: &[&str],
        extra: &[&str],
    ) -> Agent {
        use std::io::BufRead as _;
        let credentials = key.write_to(dir);
        let mut command = match wrapper.split_first() {
            Some((program, args)) => {
                let mut command = Command::new(program);
                command.args(args).arg(crate::binary());
                command
            }
            None => Command::new(crate::binary()),
        };
        let mut child = command
            .arg("agent")
            .arg("--control-plane")
            .arg(control_planes.join(","))
            .args(["--host-id", &key.host_id, "--credentials"])
            .arg(&credentials)
            .args(flags)
            .args(extra)
            .env("ROLEPLANE_LOG", "info")
            .env_remove("ROLEPLANE_ADMIN_ACCESS_KEY_ID")
            .env_remove("ROLEPLANE_ADMIN_SECRET_ACCESS_KEY")
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::inherit())
            .spawn()
            .expect("spawn roleplane agent");
        let stdout = child.stdout.take().expect("piped stdout");
        let (tx, rx) = std::sync::mpsc::channel();
        let log = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let kept = log.clone();
        let host = key.host_id.clone();
        std::thread::spawn(move || {
            let mut sent = false;
            for line in std::io::BufReader::new(stdout)
                .lines()
                .map_while(Result::ok)
            {
                if !sent && line.contains("roleplane agent ready") {
                    let _ = tx.send(line.clone());
                    sent = true;
                }
                if std::env::var_os("E2E_SERVER_LOG").is_some() {
                    eprintln!("[agent {host}] {line}");
                }
                kept.lock().unwrap_or_else(|e| e.into_inner()).push(line);
            }
        });
        let Ok(line) = rx.recv_timeout(std::time::Duration::from_secs(60)) else {
            let _ = child.kill();
            let _ = child.wait();
            panic!("the agent printed no ready line within 60 s");
        };
        let field = |name: &str| {
            line.split_whitespace()
                .find_map(|w| w.strip_prefix(&format!("{name}=")))
                .unwrap_or_default()
                .to_owned()
        };
        Agent {
            child,
            listen: field("listen")
                .split(',')
                .filter(|a| !a.is_empty())
                .map(|a| a.parse().expect("a listen address"))
                .collect(),
            instance_port: field("instance_port").parse().ok(),
            health: field("health").parse().ok(),
            log,
        }
    }

    /// `GET /status` of the health endpoint.
    pub fn status(&self) -> serde_json::Value {
        let health = self.health.expect("started with --health-addr");
        let reply = crate::imds::request(
            &health.ip().to_string(),
            health.port(),
            "GET",
            "/status",
            &[],
        );
        assert_eq!(reply.status, 200, "{reply:?}");
        reply.json()
    }

    /// The agent's log lines holding `needle`.
    pub fn logged(&self, needle: &str) -> Vec<String> {
        self.log
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .filter(|l| l.contains(needle))
            .cloned()
            .collect()
    }

    /// Stops the agent with SIGTERM and waits for it; whether it exited cleanly.
    pub fn stop(&mut self) -> bool {
        let _ = Command::new("sh")
            .args(["-c", &format!("kill -TERM {}", self.child.id())])
            .status();
        self.child.wait().is_ok_and(|s| s.success())
    }
}

impl Drop for Agent {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `method path` to the IMDS endpoint `to`, from the source address `source` (an instance's
/// address on this machine: any 127.x binds), with the extra headers.
pub async fn request_from(
    source: &str,
    to: std::net::SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
) -> crate::imds::Reply {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    let socket = tokio::net::TcpSocket::new_v4().expect("socket");
    socket
        .bind(std::net::SocketAddr::new(
            source.parse().expect("a source address"),
            0,
        ))
        .expect("bind the source address");
    let mut stream = socket.connect(to).await.expect("connect to IMDS");
    let mut head = format!("{method} {path} HTTP/1.1\r\nHost: {to}\r\nConnection: close\r\n");
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes()).await.expect("write");
    let mut raw = Vec::new();
    let _ = tokio::time::timeout(
        std::time::Duration::from_secs(10),
        stream.read_to_end(&mut raw),
    )
    .await;
    crate::imds::parse(&raw)
}
