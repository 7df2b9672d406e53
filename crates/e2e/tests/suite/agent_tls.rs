//! The API listener over TLS (`serve --tls-cert --tls-key`) and the agent's link to it: an
//! agent given the operator's CA (`--control-plane-ca`) reaches an `https://` control plane
//! and serves its instance; an agent that does not trust the certificate gets nothing from it;
//! the AWS CLI signs with the instance's set over HTTPS; plain HTTP gets no answer.

use std::io::{Read as _, Write as _};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use e2e::Server;
use e2e::agent::{Agent, HostKey};
use e2e::imds::{get, token};

use super::agent::eventually;
use super::agent_api::{STS_ONLY, allocate, launch_on};

const ROLE: &str = "tls-role";
const PROFILE: &str = "tls-profile";

/// An operator's CA and the control plane's certificate for 127.0.0.1 it issued, made by
/// openssl; and a second CA that issued nothing here (until a renewal).
struct Pki {
    dir: PathBuf,
    ca: PathBuf,
    cert: PathBuf,
    key: PathBuf,
    stranger_ca: PathBuf,
}

fn openssl(dir: &Path, args: &[&str]) {
    let out = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("run openssl");
    assert!(
        out.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

impl Pki {
    fn make(dir: &Path) -> Pki {
        for name in ["ca", "stranger"] {
            let subject = format!("/CN=roleplane test {name} CA");
            let (key, pem) = (format!("{name}.key"), format!("{name}.pem"));
            openssl(
                dir,
                &[
                    "req",
                    "-x509",
                    "-newkey",
                    "ec",
                    "-pkeyopt",
                    "ec_paramgen_curve:P-256",
                ]
                .into_iter()
                .chain([
                    "-nodes", "-days", "2", "-subj", &subject, "-keyout", &key, "-out", &pem,
                ])
                .collect::<Vec<_>>(),
            );
        }
        let pki = Pki {
            dir: dir.to_owned(),
            ca: dir.join("ca.pem"),
            cert: dir.join("server.pem"),
            key: dir.join("server.key"),
            stranger_ca: dir.join("stranger.pem"),
        };
        pki.issue("ca", "server");
        pki
    }

    /// A certificate for 127.0.0.1 issued by CA `ca`, into `NAME.pem` and `NAME.key`.
    fn issue(&self, ca: &str, name: &str) {
        let (key, csr, pem) = (
            format!("{name}.key"),
            format!("{name}.csr"),
            format!("{name}.pem"),
        );
        let (ca_pem, ca_key) = (format!("{ca}.pem"), format!("{ca}.key"));
        openssl(
            &self.dir,
            &[
                "req",
                "-newkey",
                "ec",
                "-pkeyopt",
                "ec_paramgen_curve:P-256",
                "-nodes",
            ]
            .into_iter()
            .chain(["-subj", "/CN=control plane", "-keyout", &key, "-out", &csr])
            .collect::<Vec<_>>(),
        );
        std::fs::write(
            self.dir.join("server.ext"),
            "subjectAltName = IP:127.0.0.1\nextendedKeyUsage = serverAuth\nbasicConstraints = CA:FALSE\n",
        )
        .unwrap();
        openssl(
            &self.dir,
            &[
                "x509", "-req", "-in", &csr, "-CA", &ca_pem, "-CAkey", &ca_key,
            ]
            .into_iter()
            .chain([
                "-CAcreateserial",
                "-days",
                "2",
                "-extfile",
                "server.ext",
                "-out",
                &pem,
            ])
            .collect::<Vec<_>>(),
        );
    }

    /// Renews the served certificate with one the stranger CA issued, each file replaced
    /// whole (renamed into place), as certbot and cert-manager do.
    fn renew_by_the_stranger(&self) {
        self.issue("stranger", "renewed");
        std::fs::rename(self.dir.join("renewed.key"), &self.key).unwrap();
        std::fs::rename(self.dir.join("renewed.pem"), &self.cert).unwrap();
    }
}

fn path_str(path: &Path) -> &str {
    path.to_str().expect("a UTF-8 temp path")
}

#[tokio::test]
async fn an_agent_reaches_a_control_plane_over_tls_trusting_the_operators_ca_alone() {
    if !e2e::installed("openssl") {
        eprintln!("skipped: openssl is not installed; scripts/test installs it");
        return;
    }
    let temp = tempfile::tempdir().unwrap();
    let data = temp.path().join("data");
    // The instance and its host made over plain HTTP, then the same data dir served over TLS.
    let mut plain = Server::start_on(&data);
    plain.instance_role(ROLE, PROFILE, STS_ONLY).await;
    let ec2 = plain.ec2().await;
    let host = allocate(&ec2).await;
    let (instance, ip) = launch_on(&ec2, &host, Some(PROFILE), None).await;
    let key = HostKey::of(&plain, &host);
    plain.stop();

    let pki = Pki::make(temp.path());
    let server = Server::start_with(
        &data,
        &[
            "--tls-cert",
            path_str(&pki.cert),
            "--tls-key",
            path_str(&pki.key),
        ],
    );
    let https = server.endpoint.replacen("http://", "https://", 1);

    // Plain HTTP on the TLS listener gets no HTTP answer.
    let addr = server.endpoint.trim_start_matches("http://");
    let mut stream = std::net::TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    stream
        .write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        .unwrap();
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer);
    assert!(!answer.starts_with(b"HTTP/"), "{answer:?}");

    // The agent trusting the operator's CA: the instance's set, issued over TLS.
    let dir = tempfile::tempdir().unwrap();
    let agent = Agent::start(
        &[&https],
        &key,
        dir.path(),
        &["--control-plane-ca", path_str(&pki.ca)],
    );
    let port = agent.instance_port.expect("an instance port");
    let v2 = token(&ip, port);
    let path = format!("/latest/meta-data/iam/security-credentials/{ROLE}");
    let set = get(&ip, port, &path, Some(&v2)).json();
    assert_eq!(set["Code"], "Success", "{set}");

    // The AWS CLI signs with that set over HTTPS, trusting the same CA.
    if Command::new("aws").arg("--version").output().is_ok() {
        let out = Command::new("aws")
            .args(["sts", "get-caller-identity", "--output", "text"])
            .args(["--query", "Arn", "--endpoint-url", &https])
            .env("AWS_ACCESS_KEY_ID", set["AccessKeyId"].as_str().unwrap())
            .env(
                "AWS_SECRET_ACCESS_KEY",
                set["SecretAccessKey"].as_str().unwrap(),
            )
            .env("AWS_SESSION_TOKEN", set["Token"].as_str().unwrap())
            .env("AWS_DEFAULT_REGION", e2e::REGION)
            .env("AWS_CA_BUNDLE", &pki.ca)
            .env("AWS_CONFIG_FILE", "/dev/null")
            .env("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let arn = String::from_utf8_lossy(&out.stdout);
        assert!(
            arn.trim()
                .ends_with(&format!("assumed-role/{ROLE}/{instance}")),
            "{arn}"
        );
    } else {
        eprintln!("the AWS CLI part skipped: `aws` is not installed; scripts/test installs it");
    }

    // An agent trusting another CA (or, without the flag, the Mozilla roots) refuses the
    // certificate: it never gets a listing, so it never says ready, and says why.
    for trust in [Some(&pki.stranger_ca), None] {
        let mut command = Command::new(e2e::binary());
        command
            .arg("agent")
            .args(["--control-plane", &https, "--host-id", &host])
            .arg("--credentials")
            .arg(key.write_to(dir.path()))
            .args(["--instance-port", "0"])
            .env("ROLEPLANE_LOG", "info")
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null());
        if let Some(ca) = trust {
            command.arg("--control-plane-ca").arg(ca);
        }
        let mut child = command.spawn().expect("spawn roleplane agent");
        let stdout = child.stdout.take().unwrap();
        let lines = std::sync::Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
        let kept = lines.clone();
        std::thread::spawn(move || {
            use std::io::BufRead as _;
            for line in std::io::BufReader::new(stdout)
                .lines()
                .map_while(Result::ok)
            {
                kept.lock().unwrap().push(line);
            }
        });
        let refused = eventually(Duration::from_secs(30), async || {
            lines
                .lock()
                .unwrap()
                .iter()
                .any(|l| l.contains("does not answer") && l.contains("certificate"))
        })
        .await;
        let _ = child.kill();
        let _ = child.wait();
        let lines = lines.lock().unwrap();
        assert!(refused, "{trust:?}: {lines:#?}");
        assert!(
            !lines.iter().any(|l| l.contains("agent ready")),
            "{lines:#?}"
        );
    }

    // A renewed certificate (issued by the other CA now) is served without a restart: an
    // agent trusting that CA alone is served, and the server says it read the files again.
    pki.renew_by_the_stranger();
    let renewed = tempfile::tempdir().unwrap();
    let agent = Agent::start(
        &[&https],
        &key,
        renewed.path(),
        &["--control-plane-ca", path_str(&pki.stranger_ca)],
    );
    let port = agent.instance_port.expect("an instance port");
    let v2 = token(&ip, port);
    let set = get(&ip, port, &path, Some(&v2)).json();
    assert_eq!(set["Code"], "Success", "{set}");
    assert!(
        !server.logged("TLS certificate was read again").is_empty(),
        "no reload logged"
    );
}
