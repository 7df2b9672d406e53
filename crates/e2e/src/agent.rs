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
