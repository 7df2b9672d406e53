//! What the S3 tests share: digests, reproducible pseudo-random bodies, the codes of S3's XML
//! errors, the AWS CLI pointed at a server, and a process's peak memory.

use std::path::Path;
use std::process::{Command, Output};

use md5::{Digest as _, Md5};
use sha2::Sha256;

use crate::{ADMIN_KEY_ID, ADMIN_SECRET, REGION, Server};

/// Lowercase hex of `bytes`.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The MD5 of `bytes` in hex: a single-part object's ETag, unquoted.
pub fn md5_hex(bytes: &[u8]) -> String {
    hex(&Md5::digest(bytes))
}

/// The MD5 of `bytes`.
pub fn md5(bytes: &[u8]) -> [u8; 16] {
    Md5::digest(bytes).into()
}

/// The MD5 of `bytes`, base64 (`Content-MD5`).
pub fn md5_base64(bytes: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(Md5::digest(bytes))
}

/// The SHA-256 of `bytes` in hex (`x-amz-content-sha256`).
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

/// An incremental MD5, for bodies read in pieces.
#[derive(Default)]
pub struct Md5Stream(Md5);

impl Md5Stream {
    pub fn update(&mut self, bytes: &[u8]) {
        self.0.update(bytes);
    }

    pub fn hex(self) -> String {
        hex(&self.0.finalize())
    }
}

/// Reproducible pseudo-random bytes (xorshift64*), cheap enough for hundreds of MiB in a debug
/// build.
pub struct Noise(u64);

impl Noise {
    pub fn new(seed: u64) -> Noise {
        Noise(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    pub fn fill(&mut self, out: &mut [u8]) {
        for chunk in out.chunks_mut(8) {
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            let word = self.0.wrapping_mul(0x2545_F491_4F6C_DD1D).to_le_bytes();
            chunk.copy_from_slice(&word[..chunk.len()]);
        }
    }

    pub fn bytes(&mut self, len: usize) -> Vec<u8> {
        let mut out = vec![0; len];
        self.fill(&mut out);
        out
    }
}

/// The CRC-32 (IEEE) of `bytes`, base64 as `x-amz-checksum-crc32` carries it.
pub fn crc32_base64(bytes: &[u8]) -> String {
    use base64::Engine as _;
    let mut crc = !0u32;
    for &b in bytes {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    base64::engine::general_purpose::STANDARD.encode((!crc).to_be_bytes())
}

/// The text of the first `<name>` element in `xml`, if any.
pub fn xml_field<'a>(xml: &'a str, name: &str) -> Option<&'a str> {
    let open = format!("<{name}>");
    let start = xml.find(&open)? + open.len();
    let end = xml[start..].find(&format!("</{name}>"))? + start;
    Some(&xml[start..end])
}

/// Asserts `body` is an S3 XML error with `code`: `<Error><Code>…</Code><Message>…` and a
/// `RequestId`.
pub fn assert_s3_error(status: u16, body: &str, expected_status: u16, code: &str) {
    if let Some(problem) = s3_error_problem(status, body, expected_status, code) {
        panic!("{problem}");
    }
}

/// What is wrong with an expected S3 XML error, if anything.
pub fn s3_error_problem(
    status: u16,
    body: &str,
    expected_status: u16,
    code: &str,
) -> Option<String> {
    if status != expected_status || xml_field(body, "Code") != Some(code) {
        return Some(format!(
            "expected {expected_status} {code}, got {status}: {body}"
        ));
    }
    if !body.contains("<Error>") {
        return Some(format!("{code}: not an S3 XML error: {body}"));
    }
    if xml_field(body, "Message").is_none() {
        return Some(format!("{code}: no Message: {body}"));
    }
    if xml_field(body, "RequestId").is_none() {
        return Some(format!("{code}: no RequestId: {body}"));
    }
    None
}

/// The peak resident set (`VmHWM`) of process `pid`, in KiB.
pub fn peak_rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("/proc status");
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("a VmHWM line")
}

/// The AWS CLI against `server` as its admin, path-style, with a config in `dir` and nothing
/// from the environment's own AWS settings; `None` where the CLI is not installed.
pub fn aws_cli(server: &Server, dir: &Path) -> Option<AwsCli> {
    if !crate::installed("aws") {
        eprintln!("skipped: the AWS CLI (`aws`) is not installed; scripts/test installs it");
        return None;
    }
    let config = dir.join("aws-config");
    std::fs::write(
        &config,
        format!("[default]\nregion = {REGION}\ns3 =\n    addressing_style = path\n    signature_version = s3v4\n    multipart_threshold = 5MB\n    multipart_chunksize = 5MB\n"),
    )
    .expect("write the CLI config");
    Some(AwsCli {
        endpoint: server.endpoint.clone(),
        config: config.to_string_lossy().into_owned(),
        key: (ADMIN_KEY_ID.to_owned(), ADMIN_SECRET.to_owned()),
    })
}

pub struct AwsCli {
    endpoint: String,
    config: String,
    key: (String, String),
}

impl AwsCli {
    /// Signs as this key pair instead of the admin.
    pub fn with_key(&self, key_id: &str, secret: &str) -> AwsCli {
        AwsCli {
            endpoint: self.endpoint.clone(),
            config: self.config.clone(),
            key: (key_id.to_owned(), secret.to_owned()),
        }
    }

    /// Sends requests to `endpoint` (e.g. a virtual-hosted domain) with the config file `config`.
    pub fn with_endpoint(&self, endpoint: &str, config: &Path) -> AwsCli {
        AwsCli {
            endpoint: endpoint.to_owned(),
            config: config.to_string_lossy().into_owned(),
            key: self.key.clone(),
        }
    }

    /// `aws --endpoint-url … --output json ARGS` in `cwd`.
    pub fn command(&self, cwd: &Path, args: &[&str]) -> Command {
        let mut command = Command::new("aws");
        command
            .args(["--endpoint-url", &self.endpoint, "--output", "json"])
            .args(args)
            .current_dir(cwd)
            .env_remove("AWS_PROFILE")
            .env_remove("AWS_DEFAULT_PROFILE")
            .env_remove("AWS_SESSION_TOKEN")
            .env_remove("AWS_ENDPOINT_URL")
            .env_remove("AWS_ENDPOINT_URL_S3")
            .env("AWS_ACCESS_KEY_ID", &self.key.0)
            .env("AWS_SECRET_ACCESS_KEY", &self.key.1)
            .env("AWS_DEFAULT_REGION", REGION)
            .env("AWS_CONFIG_FILE", &self.config)
            .env("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .env("AWS_PAGER", "");
        command
    }

    /// Runs `aws ARGS` in `cwd`; its output whatever the exit code.
    pub fn run(&self, cwd: &Path, args: &[&str]) -> Output {
        self.command(cwd, args).output().expect("run aws")
    }

    /// Runs `aws ARGS`, which must succeed; its stdout.
    pub fn ok(&self, cwd: &Path, args: &[&str]) -> String {
        let out = self.run(cwd, args);
        assert!(
            out.status.success(),
            "aws {args:?} failed: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).expect("utf-8 output")
    }

    /// Runs `aws s3api ARGS`, which must succeed; its JSON output (`null` when it prints
    /// nothing).
    pub fn json(&self, cwd: &Path, args: &[&str]) -> serde_json::Value {
        let text = self.ok(cwd, args);
        if text.trim().is_empty() {
            return serde_json::Value::Null;
        }
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("JSON of aws {args:?}: {e}: {text}"))
    }

    /// Runs `aws ARGS`, which must fail; its stderr.
    pub fn fails(&self, cwd: &Path, args: &[&str]) -> String {
        let out = self.run(cwd, args);
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        assert!(
            !out.status.success(),
            "aws {args:?} should fail: {}{stderr}",
            String::from_utf8_lossy(&out.stdout)
        );
        stderr
    }
}
