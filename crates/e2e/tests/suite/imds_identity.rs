//! Signed instance identity documents, verified with the openssl binary exactly as AWS's
//! "Verify the instance identity document" pages do, against the certificate `roleplane ca
//! show` prints: `signature` with `openssl dgst`, `rsa2048` and `pkcs7` with `openssl smime`.
//! A tampered document fails each. Over IMDSv1 and IMDSv2.

use std::path::Path;
use std::process::{Command, Output};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use e2e::Server;
use e2e::imds::{Reply, get, token};

/// The four identity paths of one instance, as one delivery (v1 or v2) fetched them.
pub(crate) struct Fetched {
    document: String,
    signature: String,
    rsa2048: String,
    pkcs7: String,
}

pub(crate) fn fetch(ip: &str, port: u16, token: Option<&str>) -> Fetched {
    let leaf = |name: &str| -> String {
        let reply: Reply = get(
            ip,
            port,
            &format!("/latest/dynamic/instance-identity/{name}"),
            token,
        );
        assert_eq!(reply.status, 200, "{name}: {reply:?}");
        assert_eq!(reply.header("content-type"), Some("text/plain"), "{name}");
        reply.body
    };
    Fetched {
        document: leaf("document"),
        signature: leaf("signature"),
        rsa2048: leaf("rsa2048"),
        pkcs7: leaf("pkcs7"),
    }
}

/// Runs openssl; the tests fail rather than skip without it (`scripts/test` installs it).
fn openssl(dir: &Path, args: &[&str]) -> Output {
    Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap_or_else(|e| {
            panic!("openssl is required for these tests ({e}); scripts/test installs it")
        })
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// `roleplane ca show --data-dir DIR`, the certificate in PEM.
pub(crate) fn ca_show(data_dir: &Path) -> Output {
    Command::new(e2e::binary())
        .args(["ca", "show", "--data-dir"])
        .arg(data_dir)
        .output()
        .expect("run roleplane ca show")
}

/// AWS's step: the served body between the PKCS7 header and footer lines, the footer on a new
/// line (`echo "" >> rsa2048`).
fn pkcs7_file(body: &str) -> String {
    format!("-----BEGIN PKCS7-----\n{body}\n-----END PKCS7-----\n")
}

/// The PKCS#7 file with one byte of its embedded document changed.
fn tampered_pkcs7(body: &str, document: &str) -> String {
    let mut der = STANDARD.decode(body.replace('\n', "")).expect("base64");
    let at = der
        .windows(document.len())
        .position(|w| w == document.as_bytes())
        .expect("the document is embedded");
    der[at + 5] ^= 0x01;
    pkcs7_file(&STANDARD.encode(der))
}

/// Every verification step of AWS's pages over one fetch, in `dir` holding `certificate`.
pub(crate) fn verify_as_aws_does(dir: &Path, fetched: &Fetched) {
    std::fs::write(dir.join("document"), &fetched.document).unwrap();
    let tampered = fetched
        .document
        .replacen("\"instanceId\" : \"i-", "\"instanceId\" : \"j-", 1);
    assert_ne!(tampered, fetched.document);
    std::fs::write(dir.join("tampered"), &tampered).unwrap();

    // signature: `curl … | base64 -d >> signature`, the key from the certificate, `openssl dgst`.
    let raw = STANDARD
        .decode(fetched.signature.replace('\n', ""))
        .expect("signature is base64");
    std::fs::write(dir.join("signature"), raw).unwrap();
    let key = openssl(dir, &["x509", "-pubkey", "-noout", "-in", "certificate"]);
    assert!(key.status.success(), "{}", text(&key.stderr));
    std::fs::write(dir.join("key"), &key.stdout).unwrap();
    let verify = |document: &str| {
        openssl(
            dir,
            &[
                "dgst",
                "-sha256",
                "-verify",
                "key",
                "-signature",
                "signature",
                document,
            ],
        )
    };
    let good = verify("document");
    assert!(good.status.success(), "{}", text(&good.stderr));
    assert_eq!(text(&good.stdout).trim(), "Verified OK");
    let bad = verify("tampered");
    assert!(
        !bad.status.success(),
        "a tampered document must fail the signature"
    );

    // rsa2048 and pkcs7: the body between PKCS7 lines, `openssl smime -verify … -noverify`.
    for (name, body) in [("rsa2048", &fetched.rsa2048), ("pkcs7", &fetched.pkcs7)] {
        std::fs::write(dir.join(name), pkcs7_file(body)).unwrap();
        // The current page: the document comes out of the signature.
        let out = openssl(
            dir,
            &[
                "smime",
                "-verify",
                "-in",
                name,
                "-inform",
                "PEM",
                "-certfile",
                "certificate",
                "-noverify",
            ],
        );
        assert!(out.status.success(), "{name}: {}", text(&out.stderr));
        assert!(
            text(&out.stderr).contains("Verification successful"),
            "{name}"
        );
        assert_eq!(
            text(&out.stdout),
            fetched.document,
            "{name} carries the document"
        );
        // The earlier page: the fetched document given as `-content`.
        let with_content = |content: &str| {
            openssl(
                dir,
                &[
                    "smime",
                    "-verify",
                    "-in",
                    name,
                    "-inform",
                    "PEM",
                    "-content",
                    content,
                    "-certfile",
                    "certificate",
                    "-noverify",
                ],
            )
        };
        let good = with_content("document");
        assert!(good.status.success(), "{name}: {}", text(&good.stderr));
        let bad = with_content("tampered");
        assert!(
            !bad.status.success(),
            "{name}: a tampered document must fail"
        );
        // A document changed inside the signature fails too.
        let altered = format!("{name}-altered");
        std::fs::write(dir.join(&altered), tampered_pkcs7(body, &fetched.document)).unwrap();
        let out = openssl(
            dir,
            &[
                "smime",
                "-verify",
                "-in",
                &altered,
                "-inform",
                "PEM",
                "-certfile",
                "certificate",
                "-noverify",
            ],
        );
        assert!(
            !out.status.success(),
            "{name}: an altered signature must fail"
        );
    }
}

#[tokio::test]
async fn openssl_verifies_every_signature_against_ca_show_and_refuses_tampering() {
    let server = Server::start();
    let (_id, ip) = server.launch(None).await;
    let port = server.imds_port;

    let listing = get(&ip, port, "/latest/dynamic/instance-identity/", None);
    assert_eq!(listing.body, "rsa2048\npkcs7\ndocument\nsignature");

    let shown = ca_show(&server.data_dir);
    assert!(shown.status.success(), "{}", text(&shown.stderr));
    let certificate = text(&shown.stdout);
    assert!(
        certificate.starts_with("-----BEGIN CERTIFICATE-----\n"),
        "{certificate}"
    );
    assert!(
        certificate.ends_with("-----END CERTIFICATE-----\n"),
        "{certificate}"
    );

    let work = tempfile::tempdir().unwrap();
    std::fs::write(work.path().join("certificate"), &certificate).unwrap();
    let subject = openssl(
        work.path(),
        &["x509", "-in", "certificate", "-noout", "-subject"],
    );
    assert_eq!(
        text(&subject.stdout).trim(),
        "subject=CN = roleplane instance identity"
    );

    let v1 = fetch(&ip, port, None);
    let v2 = fetch(&ip, port, Some(&token(&ip, port)));
    for fetched in [&v1, &v2] {
        // EC2's shape: base64 in lines of 76 characters, no line break at the end.
        for body in [&fetched.signature, &fetched.rsa2048, &fetched.pkcs7] {
            let lines: Vec<&str> = body.split('\n').collect();
            assert!(
                lines[..lines.len() - 1].iter().all(|l| l.len() == 76),
                "{body}"
            );
            assert!(!body.ends_with('\n'));
        }
        verify_as_aws_does(work.path(), fetched);
    }
    // One document, signed once: both deliveries get the same bytes.
    assert_eq!(v1.document, v2.document);
    assert_eq!(
        [&v1.signature, &v1.rsa2048, &v1.pkcs7],
        [&v2.signature, &v2.rsa2048, &v2.pkcs7]
    );
}

/// The key lives in the store: a restarted server signs with the same key under the same
/// certificate (PKCS #1 v1.5 is deterministic, so even the plain signature is the same).
#[tokio::test]
async fn the_key_and_certificate_survive_a_restart() {
    let temp = tempfile::tempdir().unwrap();
    let data = temp.path().join("data");
    let mut server = Server::start_on(&data);
    let (_id, ip) = server.launch(None).await;
    let before = fetch(&ip, server.imds_port, None);
    let certificate = ca_show(&data).stdout;
    server.stop();
    // The server need not run for `ca show`.
    assert_eq!(ca_show(&data).stdout, certificate);

    let server = Server::start_on(&data);
    let after = fetch(&ip, server.imds_port, None);
    assert_eq!(ca_show(&data).stdout, certificate);
    assert_eq!(after.document, before.document);
    assert_eq!(after.signature, before.signature);
    std::fs::write(temp.path().join("certificate"), &certificate).unwrap();
    verify_as_aws_does(temp.path(), &after);
}

#[test]
fn ca_show_without_a_key_says_so_and_creates_nothing() {
    let temp = tempfile::tempdir().unwrap();
    let missing = temp.path().join("never-served");
    let out = ca_show(&missing);
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty());
    let message = text(&out.stderr);
    assert!(
        message.starts_with("roleplane: ") && message.contains("run `roleplane serve` on it once"),
        "{message}"
    );
    assert!(!missing.exists(), "ca show must not create a data dir");
}
