//! EC2 key pairs through aws-sdk-ec2: ImportKeyPair, DescribeKeyPairs, duplicates,
//! DeleteKeyPair, CreateKeyPair's refusal, RunInstances with `KeyName`, and the instance's
//! `public-keys/` over IMDSv2.

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
    // CreateKeyPair: this server does not generate private keys.
    let create = ec2
        .create_key_pair()
        .key_name("new")
        .send()
        .await
        .unwrap_err();
    assert_eq!(create.code(), Some("UnsupportedOperation"));

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
