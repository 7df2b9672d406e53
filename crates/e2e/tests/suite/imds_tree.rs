//! A metadata service machines boot from: EC2's API versions, collapsed slashes, user data
//! (RunInstances, Describe/ModifyInstanceAttribute, `user-data`) and the keys EC2 always serves,
//! over IMDSv1 and IMDSv2 on a real `roleplane serve`.

use std::process::Command;

use aws_sdk_ec2::error::ProvideErrorMetadata as _;
use aws_sdk_ec2::primitives::Blob;
use aws_sdk_ec2::types::{InstanceAttributeName, SecureBlobAttributeValue};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use e2e::Server;
use e2e::imds::{Reply, get, request, token};

const CLOUD_CONFIG: &str = "#cloud-config\nruncmd:\n  - echo user-data-marker-7f3a > /tmp/marker\n";

/// GET `path` without a token and with one.
fn both(ip: &str, port: u16, path: &str) -> [Reply; 2] {
    let token = token(ip, port);
    [get(ip, port, path, None), get(ip, port, path, Some(&token))]
}

async fn launch_with_user_data(server: &Server, user_data: Option<&str>) -> (String, String) {
    let ec2 = server.ec2().await;
    let mut run = ec2
        .run_instances()
        .image_id("ami-0123456789abcdef0")
        .min_count(1)
        .max_count(1);
    if let Some(data) = user_data {
        run = run.user_data(STANDARD.encode(data));
    }
    let out = run.send().await.expect("RunInstances");
    let instance = &out.instances()[0];
    (
        instance.instance_id().unwrap().to_owned(),
        instance.private_ip_address().unwrap().to_owned(),
    )
}

#[tokio::test]
async fn versions_slashes_and_always_served_keys() {
    let server = Server::start();
    let (id, ip) = server.launch(None).await;
    let port = server.imds_port;
    let described = server
        .ec2()
        .await
        .describe_instances()
        .instance_ids(&id)
        .send()
        .await
        .unwrap();
    let reservation = described.reservations()[0]
        .reservation_id()
        .unwrap()
        .to_owned();

    for r in both(&ip, port, "/") {
        assert_eq!(r.status, 200);
        assert!(r.body.starts_with("1.0\n2007-01-19\n"), "{:?}", r.body);
        assert!(r.body.ends_with("\n2021-03-23\nlatest"), "{:?}", r.body);
        assert_eq!(r.header("content-length"), Some("274"));
    }
    // cloud-init asks for 2021-03-23 and falls back to 2009-04-04.
    for version in ["2021-03-23", "2009-04-04", "1.0", "latest"] {
        for r in both(&ip, port, &format!("/{version}/meta-data/instance-id")) {
            assert_eq!((r.status, r.body.as_str()), (200, id.as_str()), "{version}");
        }
    }
    // AWS's own scripts ask with a doubled slash.
    for r in both(&ip, port, "/latest//meta-data/reservation-id") {
        assert_eq!((r.status, r.body.as_str()), (200, reservation.as_str()));
    }
    let ttl = [("X-aws-ec2-metadata-token-ttl-seconds", "60")];
    assert_eq!(
        request(&ip, port, "PUT", "/2021-03-23/api/token", &ttl).status,
        403
    );
    for (path, body) in [
        ("/latest/meta-data/ami-launch-index", "0"),
        ("/latest/meta-data/ami-manifest-path", "(unknown)"),
        ("/latest/meta-data/instance-action", "none"),
        ("/latest/meta-data/instance-life-cycle", "on-demand"),
        ("/latest/meta-data/profile", "default-hvm"),
        ("/latest/meta-data/services/domain", "amazonaws.com"),
        ("/latest/meta-data/services/partition", "aws"),
        ("/latest/meta-data/block-device-mapping/", "ami\nroot"),
        ("/latest/meta-data/block-device-mapping/root", "/dev/xvda"),
    ] {
        for r in both(&ip, port, path) {
            assert_eq!((r.status, r.body.as_str()), (200, body), "{path}");
        }
    }
    let listing = get(&ip, port, "/latest/meta-data/", None).body;
    let lines: Vec<&str> = listing.split('\n').collect();
    let mut sorted = lines.clone();
    sorted.sort_unstable();
    assert_eq!(lines, sorted);
    for key in [
        "ami-launch-index",
        "ami-manifest-path",
        "block-device-mapping/",
        "instance-action",
        "profile",
        "services/",
    ] {
        assert!(lines.contains(&key), "{key} missing from {listing:?}");
    }
}

#[tokio::test]
async fn user_data_from_launch_to_metadata() {
    let server = Server::start();
    let port = server.imds_port;
    let (id, ip) = launch_with_user_data(&server, Some(CLOUD_CONFIG)).await;
    for r in both(&ip, port, "/latest/user-data") {
        assert_eq!(r.status, 200);
        assert_eq!(r.body, CLOUD_CONFIG);
        assert_eq!(r.header("content-type"), Some("application/octet-stream"));
    }
    for r in both(&ip, port, "/2021-03-23/") {
        assert_eq!(r.body, "dynamic\nmeta-data\nuser-data");
    }

    // None given: 404 and not listed.
    let (_, bare_ip) = launch_with_user_data(&server, None).await;
    for r in both(&bare_ip, port, "/latest/user-data") {
        assert_eq!(r.status, 404);
        assert!(r.body.contains("<title>404 - Not Found</title>"));
    }
    assert_eq!(
        get(&bare_ip, port, "/latest/", None).body,
        "dynamic\nmeta-data"
    );

    let ec2 = server.ec2().await;
    let attribute = ec2
        .describe_instance_attribute()
        .instance_id(&id)
        .attribute(InstanceAttributeName::UserData)
        .send()
        .await
        .expect("DescribeInstanceAttribute userData");
    let value = attribute.user_data().and_then(|v| v.value()).unwrap();
    assert_eq!(STANDARD.decode(value).unwrap(), CLOUD_CONFIG.as_bytes());
    let kind = ec2
        .describe_instance_attribute()
        .instance_id(&id)
        .attribute(InstanceAttributeName::InstanceType)
        .send()
        .await
        .expect("DescribeInstanceAttribute instanceType");
    assert_eq!(
        kind.instance_type().and_then(|v| v.value()),
        Some("m1.small")
    );

    // Only a stopped instance takes new user data.
    let modify = |data: &'static [u8]| {
        ec2.modify_instance_attribute()
            .instance_id(&id)
            .user_data(
                SecureBlobAttributeValue::builder()
                    .value(Blob::new(data))
                    .build(),
            )
            .send()
    };
    let refused = modify(b"#!/bin/sh\necho new\n").await.unwrap_err();
    assert_eq!(refused.code(), Some("IncorrectInstanceState"));
    assert_eq!(
        refused.message(),
        Some(format!("The instance '{id}' is not in the 'stopped' state.").as_str())
    );
    ec2.stop_instances().instance_ids(&id).send().await.unwrap();
    modify(b"#!/bin/sh\necho new\n")
        .await
        .expect("modify while stopped");
    ec2.start_instances()
        .instance_ids(&id)
        .send()
        .await
        .unwrap();
    for r in both(&ip, port, "/latest/user-data") {
        assert_eq!((r.status, r.body.as_str()), (200, "#!/bin/sh\necho new\n"));
    }

    // The trail never holds the user data, plain or encoded.
    let output = Command::new(e2e::binary())
        .args(["audit", "export", "--since", "0", "--data-dir"])
        .arg(&server.data_dir)
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    let trail = String::from_utf8(output.stdout).unwrap();
    assert!(trail.contains("ModifyInstanceAttribute"));
    assert!(trail.contains("DescribeInstanceAttribute"));
    for secret in [
        STANDARD.encode(CLOUD_CONFIG),
        STANDARD.encode("#!/bin/sh\necho new\n"),
        "user-data-marker-7f3a".to_owned(),
    ] {
        assert!(!trail.contains(&secret), "{secret} reached the audit trail");
    }
}

#[tokio::test]
async fn bad_user_data_gets_ec2s_errors() {
    let server = Server::start();
    let ec2 = server.ec2().await;
    let run = |data: String| {
        ec2.run_instances()
            .image_id("ami-0123456789abcdef0")
            .min_count(1)
            .max_count(1)
            .user_data(data)
            .send()
    };
    let too_big = run(STANDARD.encode(vec![b'x'; 16_385])).await.unwrap_err();
    assert_eq!(too_big.code(), Some("InvalidParameterValue"));
    assert_eq!(
        too_big.message(),
        Some("User data is limited to 16384 bytes")
    );
    let invalid = run("not base64!".to_owned()).await.unwrap_err();
    assert_eq!(invalid.code(), Some("InvalidParameterValue"));
    assert_eq!(
        invalid.message(),
        Some("Invalid BASE64 encoding of user data")
    );
    // Exactly 16 KiB is fine, and base64 wrapped at 76 columns (as `base64` writes it) too.
    run(STANDARD.encode(vec![b'x'; 16_384]))
        .await
        .expect("16384 bytes");
    let wrapped: Vec<String> = STANDARD
        .encode(CLOUD_CONFIG)
        .as_bytes()
        .chunks(76)
        .map(|c| String::from_utf8(c.to_vec()).unwrap())
        .collect();
    run(wrapped.join("\n")).await.expect("wrapped base64");
    let unknown = ec2
        .describe_instance_attribute()
        .instance_id("i-0123456789abcdef0")
        .attribute(InstanceAttributeName::UserData)
        .send()
        .await
        .unwrap_err();
    assert_eq!(unknown.code(), Some("InvalidInstanceID.NotFound"));
}
