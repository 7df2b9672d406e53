//! The clients machines boot with: cloud-init's EC2 data source, `ec2metadata` and
//! `ec2-metadata`.
//!
//! `scripts/netns/clients.sh` runs the real clients (Debian's packages, which it installs when
//! missing) against host mode in network namespaces, checks what each gets and prints, and
//! removes its namespaces on exit; it skips, saying why, only when the kernel refuses a namespace
//! or a veth pair. The wire test beside it asks, in local mode over IMDSv1 and IMDSv2, for each
//! path those clients ask for, with what EC2 answers for an equivalent instance (an EBS-backed
//! HVM instance in a VPC, without public IP, kernel, RAM disk, product codes, placement group or
//! dedicated host: those paths are 404 on EC2).

use aws_sdk_ec2::primitives::Blob;
use aws_sdk_ec2::types::{
    InstanceMetadataOptionsRequest, InstanceMetadataTagsState, ResourceType, Tag, TagSpecification,
};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use e2e::Server;
use e2e::imds::{Reply, get, token};

/// Checks the script makes; fewer passing would mean some silently did not run.
const CHECKS: u32 = 30;

#[test]
fn cloud_init_ec2metadata_and_ec2_metadata_in_network_namespaces() {
    e2e::netns::run_script("clients.sh", CHECKS);
}

const USER_DATA: &str = "#!/bin/sh\necho \"grüße\" > /tmp/marker\n";
const PUBLIC_KEY: &str =
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAICmjSOpBo2V3jBF6LNckQqPDhxqxpRHDbwPgwLdtqnxs";

#[tokio::test]
async fn the_paths_boot_clients_ask_for_over_v1_and_v2() {
    let server = Server::start();
    let ec2 = server.ec2().await;
    ec2.import_key_pair()
        .key_name("boot")
        .public_key_material(Blob::new(format!("{PUBLIC_KEY} laptop\n")))
        .send()
        .await
        .expect("ImportKeyPair");
    let run = ec2
        .run_instances()
        .image_id("ami-0123456789abcdef0")
        .min_count(1)
        .max_count(1)
        .key_name("boot")
        .user_data(STANDARD.encode(USER_DATA))
        .metadata_options(
            InstanceMetadataOptionsRequest::builder()
                .instance_metadata_tags(InstanceMetadataTagsState::Enabled)
                .build(),
        )
        .tag_specifications(
            TagSpecification::builder()
                .resource_type(ResourceType::Instance)
                .tags(Tag::builder().key("Name").value("web-1").build())
                .build(),
        )
        .send()
        .await
        .expect("RunInstances");
    let instance = &run.instances()[0];
    let id = instance.instance_id().unwrap().to_owned();
    let ip = instance.private_ip_address().unwrap().to_owned();
    let zone = instance.placement().unwrap().availability_zone().unwrap();
    let dns = format!("ip-{}.ec2.internal", ip.replace('.', "-"));
    let key = format!("{PUBLIC_KEY} boot\n");
    let port = server.imds_port;

    // cloud-init asks under 2021-03-23 (2009-04-04 when that fails), ec2metadata under
    // 2009-04-04, ec2-metadata under `latest` and `latest/` (a doubled slash).
    let found: &[(&str, &str)] = &[
        ("/2009-04-04/meta-data/ami-id", "ami-0123456789abcdef0"),
        ("/2009-04-04/meta-data/ami-launch-index", "0"),
        ("/2009-04-04/meta-data/ami-manifest-path", "(unknown)"),
        ("/2009-04-04/meta-data/instance-action", "none"),
        ("/2009-04-04/meta-data/instance-id", &id),
        (
            "/2009-04-04/meta-data/instance-type",
            instance.instance_type().unwrap().as_str(),
        ),
        ("/2009-04-04/meta-data/local-hostname", &dns),
        ("/2021-03-23/meta-data/hostname", &dns),
        ("/2009-04-04/meta-data/local-ipv4", &ip),
        (
            "/2009-04-04/meta-data/reservation-id",
            run.reservation_id().unwrap(),
        ),
        (
            "/latest//meta-data/reservation-id",
            run.reservation_id().unwrap(),
        ),
        ("/2009-04-04/meta-data/security-groups", "default"),
        ("/2009-04-04/meta-data/profile", "default-hvm"),
        ("/2009-04-04/meta-data/block-device-mapping", "ami\nroot"),
        ("/2021-03-23/meta-data/block-device-mapping/", "ami\nroot"),
        (
            "/2021-03-23/meta-data/block-device-mapping/ami",
            "/dev/xvda",
        ),
        (
            "/2021-03-23/meta-data/block-device-mapping/root",
            "/dev/xvda",
        ),
        ("/2009-04-04/meta-data/placement/availability-zone", zone),
        ("/2009-04-04/meta-data/placement/region", "us-east-1"),
        ("/2009-04-04/meta-data/public-keys", "0=boot"),
        ("/latest/meta-data/public-keys/", "0=boot"),
        ("/latest/meta-data/public-keys/0/", "openssh-key"),
        ("/2009-04-04/meta-data/public-keys/0/openssh-key", &key),
        ("/latest/meta-data/tags/instance/", "Name"),
        ("/latest/meta-data/tags/instance/Name", "web-1"),
        ("/2021-03-23/meta-data/services/", "domain\npartition"),
        ("/2009-04-04/user-data", USER_DATA),
        ("/2021-03-23/user-data", USER_DATA),
        ("/latest/user-data", USER_DATA),
        ("/2021-03-23/dynamic/", "instance-identity/"),
    ];
    let missing = [
        "/2009-04-04/meta-data/ancestor-ami-ids",
        "/2009-04-04/meta-data/kernel-id",
        "/latest//meta-data/ramdisk-id",
        "/2009-04-04/meta-data/product-codes",
        "/2009-04-04/meta-data/public-hostname",
        "/2009-04-04/meta-data/public-ipv4",
        "/2009-04-04/meta-data/placement/host-id",
        "/2009-04-04/meta-data/placement/group-name",
        "/2009-04-04/meta-data/placement/partition-number",
    ];

    let v2 = token(&ip, port);
    for (delivery, token) in [("IMDSv1", None), ("IMDSv2", Some(v2.as_str()))] {
        let ask = |path: &str| -> Reply { get(&ip, port, path, token) };
        for (path, body) in found {
            let reply = ask(path);
            assert_eq!(
                (reply.status, reply.body.as_str()),
                (200, *body),
                "{delivery} {path}"
            );
        }
        for path in missing {
            let reply = ask(path);
            assert_eq!(reply.status, 404, "{delivery} {path}: {reply:?}");
            assert!(
                reply.body.contains("<title>404 - Not Found</title>"),
                "{path}"
            );
        }
        // Every listed key is served (cloud-init's crawl gives up on the first listed 404).
        let listing = ask("/2021-03-23/meta-data/").body;
        for key in listing.split('\n') {
            let reply = ask(&format!("/2021-03-23/meta-data/{key}"));
            assert_eq!(
                reply.status, 200,
                "{delivery} listed {key:?} in {listing:?}"
            );
        }
        let mac = ask("/2009-04-04/meta-data/mac").body;
        assert!(
            mac.len() == 17 && mac.split(':').all(|octet| octet.len() == 2),
            "{delivery} mac {mac:?}"
        );
        let document = ask("/2021-03-23/dynamic/instance-identity/document").json();
        assert_eq!(document["instanceId"], id.as_str(), "{delivery}");
        assert_eq!(document["availabilityZone"], zone, "{delivery}");
    }
}
