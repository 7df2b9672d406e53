//! EC2 key pairs through aws-sdk-ec2: ImportKeyPair, DescribeKeyPairs, duplicates,
//! DeleteKeyPair, RunInstances with `KeyName`, and the instance's `public-keys/` over IMDSv2;
//! CreateKeyPair's keys checked with openssl and ssh-keygen against what DescribeKeyPairs and
//! IMDS show, their fingerprints recomputed, and their private halves absent from the data dir.

use aws_sdk_ec2::error::ProvideErrorMetadata as _;
use aws_sdk_ec2::primitives::Blob;
use aws_sdk_ec2::types::Filter;
use e2e::Server;
use e2e::imds::{get, token};

/// Public keys only (made with `ssh-keygen` for these tests; the private halves were discarded).
const ED25519: &str =
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKm6HYUS+qqLMx8WnF9ybpt5SwXtGRmHaBZip9zjCSyq me@laptop";
const RSA: &str = "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQCjR+6C9CbNOpC/flSyBsnpi+38HhYWLp2bbCSNbUipX7Ja/EDSHHlzQrfgbugtvYvtxBOvdxLrqJIS4kaoNUV3hMftTKQsQ6v3LCLQ+nvz2kvwHcVxZRCcHVTXBHj71uPDODWMOtULdqiGhPCyrPDNh8ZxESUKzk0PCfh7M0Eq9cksSlozf+z0QO9Kfdg4DUynqNUNfkK9ioby21w7x422+TeVYmNXXcCYE/P88XdJi2CgkML6IPOAX1Mw1fsrCsRSwAVTZaNdqlVLyuNRzf0aAoeR3aSg5FCZtajhrrT8o7VjkuKd6XiX6QkAh5aibQtK4PN4CGEHbwmwXzMn3odN me@laptop";

#[tokio::test]
async fn import_describe_delete_and_launch_with_a_key() {
    let server = Server::start();
    let ec2 = server.ec2().await;

    let imported = ec2
        .import_key_pair()
        .key_name("deploy")
        .public_key_material(Blob::new(format!("{ED25519}\n")))
        .send()
        .await
        .expect("ImportKeyPair");
    assert_eq!(imported.key_name(), Some("deploy"));
    let id = imported.key_pair_id().unwrap().to_owned();
    assert!(id.starts_with("key-") && id.len() == 21, "{id}");
    // `ssh-keygen -lf` prints SHA256:2X2Gn+BLzuTrzWwTql+QzdWWxn3qb8gcLyoGvVMotUE.
    assert_eq!(
        imported.key_fingerprint(),
        Some("2X2Gn+BLzuTrzWwTql+QzdWWxn3qb8gcLyoGvVMotUE=")
    );
    let rsa = ec2
        .import_key_pair()
        .key_name("legacy")
        .public_key_material(Blob::new(RSA))
        .send()
        .await
        .expect("ImportKeyPair (RSA)");
    assert_eq!(
        rsa.key_fingerprint(),
        Some("4b:34:09:c0:05:79:21:b5:1e:87:ec:e7:4e:13:99:14")
    );

    // Duplicate name.
    let dup = ec2
        .import_key_pair()
        .key_name("deploy")
        .public_key_material(Blob::new(RSA))
        .send()
        .await
        .unwrap_err();
    assert_eq!(dup.code(), Some("InvalidKeyPair.Duplicate"));
    assert_eq!(dup.message(), Some("The keypair 'deploy' already exists."));
    // Not a public key.
    let bad = ec2
        .import_key_pair()
        .key_name("bad")
        .public_key_material(Blob::new("-----BEGIN OPENSSH PRIVATE KEY-----"))
        .send()
        .await
        .unwrap_err();
    assert_eq!(bad.code(), Some("InvalidKey.Format"));
    // CreateKeyPair refuses a taken name with ImportKeyPair's words.
    let create = ec2
        .create_key_pair()
        .key_name("deploy")
        .send()
        .await
        .unwrap_err();
    assert_eq!(create.code(), Some("InvalidKeyPair.Duplicate"));
    assert_eq!(
        create.message(),
        Some("The keypair 'deploy' already exists.")
    );

    let all = ec2.describe_key_pairs().send().await.unwrap();
    let names: Vec<_> = all
        .key_pairs()
        .iter()
        .filter_map(|k| k.key_name())
        .collect();
    assert_eq!(names, ["deploy", "legacy"]);
    let one = ec2
        .describe_key_pairs()
        .key_names("deploy")
        .include_public_key(true)
        .send()
        .await
        .unwrap();
    let pair = &one.key_pairs()[0];
    assert_eq!(pair.key_pair_id(), Some(id.as_str()));
    assert_eq!(pair.key_type().map(|t| t.as_str()), Some("ed25519"));
    assert!(pair.create_time().is_some());
    let public = pair.public_key().unwrap();
    assert!(public.starts_with("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5") && public.ends_with(" deploy"));
    let by_id = ec2
        .describe_key_pairs()
        .key_pair_ids(&id)
        .send()
        .await
        .unwrap();
    assert_eq!(by_id.key_pairs()[0].key_name(), Some("deploy"));
    let filtered = ec2
        .describe_key_pairs()
        .filters(Filter::builder().name("key-type").values("rsa").build())
        .send()
        .await
        .unwrap();
    assert_eq!(filtered.key_pairs()[0].key_name(), Some("legacy"));
    let missing = ec2
        .describe_key_pairs()
        .key_names("nope")
        .send()
        .await
        .unwrap_err();
    assert_eq!(missing.code(), Some("InvalidKeyPair.NotFound"));
    assert_eq!(
        missing.message(),
        Some("The key pair 'nope' does not exist")
    );

    // RunInstances names a key pair of the caller's account.
    let unknown = ec2
        .run_instances()
        .image_id("ami-0123456789abcdef0")
        .min_count(1)
        .max_count(1)
        .key_name("nope")
        .send()
        .await
        .unwrap_err();
    assert_eq!(unknown.code(), Some("InvalidKeyPair.NotFound"));
    assert_eq!(
        unknown.message(),
        Some("The key pair 'nope' does not exist")
    );
    let run = ec2
        .run_instances()
        .image_id("ami-0123456789abcdef0")
        .min_count(1)
        .max_count(1)
        .key_name("deploy")
        .send()
        .await
        .expect("RunInstances with KeyName");
    let instance = &run.instances()[0];
    assert_eq!(instance.key_name(), Some("deploy"));
    let instance_id = instance.instance_id().unwrap().to_owned();
    let ip = instance.private_ip_address().unwrap().to_owned();
    let described = ec2
        .describe_instances()
        .instance_ids(&instance_id)
        .send()
        .await
        .unwrap();
    assert_eq!(
        described.reservations()[0].instances()[0].key_name(),
        Some("deploy")
    );

    // IMDSv2: public-keys/ for the instance with a key, nothing for one without.
    let port = server.imds_port;
    let t = token(&ip, port);
    let listing = get(&ip, port, "/latest/meta-data/", Some(&t));
    assert!(
        listing.body.split('\n').any(|l| l == "public-keys/"),
        "{}",
        listing.body
    );
    let keys = get(&ip, port, "/latest/meta-data/public-keys/", Some(&t));
    assert_eq!((keys.status, keys.body.as_str()), (200, "0=deploy"));
    let zero = get(&ip, port, "/latest/meta-data/public-keys/0/", Some(&t));
    assert_eq!((zero.status, zero.body.as_str()), (200, "openssh-key"));
    let key = get(
        &ip,
        port,
        "/latest/meta-data/public-keys/0/openssh-key",
        Some(&t),
    );
    assert_eq!(key.status, 200);
    assert_eq!(key.body, format!("{public}\n"));
    assert_eq!(key.header("content-type"), Some("text/plain"));

    let (_, plain_ip) = server.launch(None).await;
    let t2 = token(&plain_ip, port);
    let listing = get(&plain_ip, port, "/latest/meta-data/", Some(&t2));
    assert!(!listing.body.contains("public-keys"), "{}", listing.body);
    let none = get(&plain_ip, port, "/latest/meta-data/public-keys/", Some(&t2));
    assert_eq!(none.status, 404);

    // DeleteKeyPair by name and by ID; a missing one is no error. The instance keeps its key.
    ec2.delete_key_pair()
        .key_name("deploy")
        .send()
        .await
        .unwrap();
    ec2.delete_key_pair()
        .key_pair_id(rsa.key_pair_id().unwrap())
        .send()
        .await
        .unwrap();
    ec2.delete_key_pair()
        .key_name("deploy")
        .send()
        .await
        .expect("deleting a missing key pair");
    assert!(
        ec2.describe_key_pairs()
            .send()
            .await
            .unwrap()
            .key_pairs()
            .is_empty()
    );
    let key = get(
        &ip,
        port,
        "/latest/meta-data/public-keys/0/openssh-key",
        Some(&t),
    );
    assert_eq!(key.body, format!("{public}\n"));
    let gone = ec2
        .run_instances()
        .image_id("ami-0123456789abcdef0")
        .min_count(1)
        .max_count(1)
        .key_name("deploy")
        .send()
        .await
        .unwrap_err();
    assert_eq!(gone.code(), Some("InvalidKeyPair.NotFound"));
}

/// Runs a program, returning its standard output; panics with its standard error on failure.
fn run(program: &str, args: &[&str], stdin: Option<&[u8]>) -> String {
    use std::io::Write as _;
    use std::process::{Command, Stdio};
    let mut child = Command::new(program)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("{program}: {e}"));
    let mut input = child.stdin.take().unwrap();
    input.write_all(stdin.unwrap_or_default()).unwrap();
    drop(input);
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{program} {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// The first two fields of an OpenSSH public key line: algorithm and key, without comment.
fn key_fields(line: &str) -> String {
    line.split_whitespace()
        .take(2)
        .collect::<Vec<_>>()
        .join(" ")
}

/// Every file under `dir` that contains `needle`.
fn files_containing(dir: &std::path::Path, needle: &[u8]) -> Vec<std::path::PathBuf> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            found.extend(files_containing(&path, needle));
        } else if let Ok(bytes) = std::fs::read(&path)
            && bytes.windows(needle.len()).any(|w| w == needle)
        {
            found.push(path);
        }
    }
    found
}

#[tokio::test]
async fn created_keys_are_ec2s_and_their_private_halves_are_never_kept() {
    use aws_sdk_ec2::types::{KeyFormat, KeyType, ResourceType, Tag, TagSpecification};
    if !e2e::installed("openssl") || !e2e::installed("ssh-keygen") {
        eprintln!("skipped: openssl and ssh-keygen are needed to check the keys");
        return;
    }
    let server = Server::start();
    let ec2 = server.ec2().await;
    let dir = tempfile::tempdir().unwrap();
    let mut secrets = Vec::new();
    for (name, key_type) in [("made-rsa", KeyType::Rsa), ("made-ed", KeyType::Ed25519)] {
        let created = ec2
            .create_key_pair()
            .key_name(name)
            .key_type(key_type.clone())
            .tag_specifications(
                TagSpecification::builder()
                    .resource_type(ResourceType::KeyPair)
                    .tags(Tag::builder().key("Team").value("core").build())
                    .build(),
            )
            .send()
            .await
            .expect("CreateKeyPair");
        assert_eq!(created.key_name(), Some(name));
        let id = created.key_pair_id().unwrap();
        assert!(id.starts_with("key-") && id.len() == 21, "{id}");
        assert_eq!(created.tags().len(), 1);
        let material = created.key_material().expect("keyMaterial");
        let file = dir.path().join(name);
        std::fs::write(&file, material).unwrap();
        std::fs::set_permissions(&file, std::os::unix::fs::PermissionsExt::from_mode(0o600))
            .unwrap();
        let path = file.to_str().unwrap();
        let fingerprint = created.key_fingerprint().unwrap();
        if key_type == KeyType::Rsa {
            assert!(
                material.starts_with("-----BEGIN RSA PRIVATE KEY-----\n"),
                "{material}"
            );
            assert!(
                run("openssl", &["rsa", "-check", "-noout", "-in", path], None)
                    .contains("RSA key ok")
            );
            let bits = run("openssl", &["rsa", "-text", "-noout", "-in", path], None);
            assert!(bits.contains("2048 bit"), "{bits}");
            // The User Guide's recipe for a key EC2 created.
            let der = std::process::Command::new("openssl")
                .args([
                    "pkcs8", "-in", path, "-inform", "PEM", "-outform", "DER", "-topk8", "-nocrypt",
                ])
                .output()
                .unwrap()
                .stdout;
            let sha1 = run("openssl", &["sha1", "-c"], Some(&der));
            assert_eq!(sha1.trim().rsplit(' ').next(), Some(fingerprint), "{sha1}");
        } else {
            assert!(
                material.starts_with("-----BEGIN OPENSSH PRIVATE KEY-----\n"),
                "{material}"
            );
            // `ssh-keygen -l` prints SHA256:<base64 without padding>; EC2 pads it.
            let listed = run("ssh-keygen", &["-l", "-f", path], None);
            let printed = listed.split_whitespace().nth(1).unwrap();
            assert_eq!(
                printed.strip_prefix("SHA256:"),
                Some(fingerprint.trim_end_matches('=')),
                "{listed}"
            );
        }
        // The public key derived from the private one is the one EC2 shows and IMDS serves.
        let derived = run("ssh-keygen", &["-y", "-f", path], None);
        let described = ec2
            .describe_key_pairs()
            .key_names(name)
            .include_public_key(true)
            .send()
            .await
            .unwrap();
        let pair = &described.key_pairs()[0];
        let public = pair.public_key().unwrap().to_owned();
        assert_eq!(key_fields(&derived), key_fields(&public));
        assert_eq!(pair.key_fingerprint(), Some(fingerprint));
        assert_eq!(pair.key_type(), Some(&key_type));
        assert_eq!(pair.tags()[0].key(), Some("Team"));
        let run = ec2
            .run_instances()
            .image_id("ami-0123456789abcdef0")
            .min_count(1)
            .max_count(1)
            .key_name(name)
            .send()
            .await
            .unwrap();
        let ip = run.instances()[0].private_ip_address().unwrap().to_owned();
        let t = token(&ip, server.imds_port);
        let served = get(
            &ip,
            server.imds_port,
            "/latest/meta-data/public-keys/0/openssh-key",
            Some(&t),
        );
        assert_eq!(served.body, format!("{public}\n"));
        // A distinctive run of the private key's base64, to look for on disk.
        let body: String = material
            .lines()
            .filter(|l| !l.starts_with("-----"))
            .collect();
        secrets.push(body[body.len() / 2..body.len() / 2 + 48].to_owned());
    }

    // PuTTY's format is refused (decision 0012), a bad key type in EC2's words, a name taken.
    let ppk = ec2
        .create_key_pair()
        .key_name("putty")
        .key_format(KeyFormat::Ppk)
        .send()
        .await
        .unwrap_err();
    assert_eq!(ppk.code(), Some("UnsupportedOperation"));
    let dup = ec2
        .create_key_pair()
        .key_name("made-ed")
        .send()
        .await
        .unwrap_err();
    assert_eq!(dup.message(), Some("The keypair 'made-ed' already exists."));
    let wrong_type = ec2
        .create_key_pair()
        .key_name("x")
        .tag_specifications(
            TagSpecification::builder()
                .resource_type(ResourceType::Instance)
                .tags(Tag::builder().key("k").value("v").build())
                .build(),
        )
        .send()
        .await
        .unwrap_err();
    assert_eq!(wrong_type.code(), Some("InvalidParameterValue"));

    // The audit trail has the calls and none of the private keys, nor has any other file.
    let events = server.data_dir.join("audit");
    assert!(events.exists());
    for secret in &secrets {
        let found = files_containing(&server.data_dir, secret.as_bytes());
        assert!(found.is_empty(), "private key material in {found:?}");
    }
    let journal_mentions = files_containing(&server.data_dir, b"\"eventName\":\"CreateKeyPair\"");
    assert!(!journal_mentions.is_empty(), "CreateKeyPair is audited");
}
