//! The network instances are on, through aws-sdk-ec2 and the metadata service of a real
//! `roleplane serve` (local mode): DescribeInstances' network fields equal what IMDS serves for
//! the same instance over IMDSv1 and IMDSv2, the VPC, subnet, security groups and zone behind
//! them answer DescribeVpcs/Subnets/SecurityGroups/AvailabilityZones, launches naming a subnet
//! or group are checked, and another account sees none of it.

use aws_sdk_ec2::error::ProvideErrorMetadata as _;
use aws_sdk_ec2::types::{AttachmentStatus, Filter, Instance, NetworkInterfaceStatus};
use e2e::imds::{Reply, get, token};
use e2e::{ACCOUNT_ID, Server};

/// GET `path` without a token and with one.
fn both(ip: &str, port: u16, path: &str) -> [Reply; 2] {
    let token = token(ip, port);
    [get(ip, port, path, None), get(ip, port, path, Some(&token))]
}

/// The one body both IMDS versions serve for `path` (200 each).
fn served(ip: &str, port: u16, path: &str) -> String {
    let [v1, v2] = both(ip, port, path);
    assert_eq!((v1.status, v2.status), (200, 200), "{path}: {v1:?} {v2:?}");
    assert_eq!(v1.body, v2.body, "{path}");
    assert_eq!(v1.header("content-type"), Some("text/plain"), "{path}");
    v1.body
}

async fn launch(ec2: &aws_sdk_ec2::Client, groups: &[&str]) -> Instance {
    let mut run = ec2
        .run_instances()
        .image_id("ami-0123456789abcdef0")
        .min_count(1)
        .max_count(1);
    for group in groups {
        run = run.security_groups(*group);
    }
    let out = run.send().await.expect("RunInstances");
    out.instances()[0].clone()
}

async fn described(ec2: &aws_sdk_ec2::Client, id: &str) -> Instance {
    let out = ec2
        .describe_instances()
        .instance_ids(id)
        .send()
        .await
        .expect("DescribeInstances");
    let reservation = &out.reservations()[0];
    assert!(
        reservation.groups().is_empty(),
        "a VPC reservation lists no groups"
    );
    reservation.instances()[0].clone()
}

fn filter(name: &str, value: &str) -> Filter {
    Filter::builder().name(name).values(value).build()
}

#[tokio::test]
async fn describe_instances_and_imds_show_the_same_network() {
    let server = Server::start();
    let port = server.imds_port;
    let ec2 = server.ec2().await;
    let launched = launch(&ec2, &["web", "db"]).await;
    let id = launched.instance_id().unwrap();
    let i = described(&ec2, id).await;
    let ip = i.private_ip_address().unwrap();

    // DescribeInstances: the instance's own fields and its one interface agree.
    let vpc = i.vpc_id().expect("vpcId");
    let subnet = i.subnet_id().expect("subnetId");
    assert!(vpc.starts_with("vpc-") && vpc.len() == 21, "{vpc}");
    assert!(
        subnet.starts_with("subnet-") && subnet.len() == 24,
        "{subnet}"
    );
    assert_eq!(i.source_dest_check(), Some(true));
    let groups: Vec<(&str, &str)> = i
        .security_groups()
        .iter()
        .map(|g| (g.group_name().unwrap(), g.group_id().unwrap()))
        .collect();
    assert_eq!(
        groups.iter().map(|g| g.0).collect::<Vec<_>>(),
        ["web", "db"]
    );
    assert!(
        groups
            .iter()
            .all(|g| g.1.starts_with("sg-") && g.1.len() == 20)
    );
    let [nic] = i.network_interfaces() else {
        panic!("one interface: {:?}", i.network_interfaces());
    };
    let eni = nic.network_interface_id().unwrap();
    assert!(eni.starts_with("eni-") && eni.len() == 21, "{eni}");
    assert_eq!(nic.subnet_id(), Some(subnet));
    assert_eq!(nic.vpc_id(), Some(vpc));
    assert_eq!(nic.description(), Some(""));
    assert_eq!(nic.owner_id(), Some(ACCOUNT_ID));
    assert_eq!(nic.status(), Some(&NetworkInterfaceStatus::InUse));
    assert_eq!(nic.private_ip_address(), Some(ip));
    assert_eq!(nic.private_dns_name(), i.private_dns_name());
    assert_eq!(nic.source_dest_check(), Some(true));
    assert_eq!(nic.groups(), i.security_groups());
    assert_eq!(nic.interface_type(), Some("interface"));
    assert!(nic.ipv6_addresses().is_empty());
    let attachment = nic.attachment().expect("attachment");
    assert!(
        attachment
            .attachment_id()
            .is_some_and(|a| a.starts_with("eni-attach-") && a.len() == 28)
    );
    assert_eq!(attachment.device_index(), Some(0));
    assert_eq!(attachment.network_card_index(), Some(0));
    assert_eq!(attachment.status(), Some(&AttachmentStatus::Attached));
    assert_eq!(attachment.delete_on_termination(), Some(true));
    assert_eq!(attachment.attach_time(), i.launch_time());
    let [address] = nic.private_ip_addresses() else {
        panic!("one address: {:?}", nic.private_ip_addresses());
    };
    assert_eq!(address.private_ip_address(), Some(ip));
    assert_eq!(address.primary(), Some(true));
    // RunInstances answered with the same network.
    assert_eq!(launched.network_interfaces(), i.network_interfaces());
    assert_eq!(launched.vpc_id(), Some(vpc));

    // IMDS, over v1 and v2, serves the same values for the same instance.
    let mac = nic.mac_address().unwrap();
    assert_eq!(served(ip, port, "/latest/meta-data/mac"), mac);
    let listing = served(ip, port, "/latest/meta-data/");
    assert!(
        listing.contains("\nmac\nnetwork/\nplacement/\n"),
        "{listing:?}"
    );
    assert_eq!(
        served(ip, port, "/latest/meta-data/network/"),
        "interfaces/"
    );
    assert_eq!(
        served(ip, port, "/latest/meta-data/network/interfaces/"),
        "macs/"
    );
    assert_eq!(
        served(ip, port, "/latest/meta-data/network/interfaces/macs/"),
        format!("{mac}/")
    );
    let nic_path = format!("/latest/meta-data/network/interfaces/macs/{mac}");
    assert_eq!(
        served(ip, port, &format!("{nic_path}/")),
        "device-number\ninterface-id\nlocal-hostname\nlocal-ipv4s\nmac\nowner-id\nsecurity-group-ids\nsecurity-groups\nsubnet-id\nsubnet-ipv4-cidr-block\nvpc-id\nvpc-ipv4-cidr-block\nvpc-ipv4-cidr-blocks"
    );
    let ids = groups.iter().map(|g| g.1).collect::<Vec<_>>().join("\n");
    let dns = i.private_dns_name().unwrap();
    for (leaf, value) in [
        ("device-number", "0"),
        ("interface-id", eni),
        ("local-hostname", dns),
        ("local-ipv4s", ip),
        ("mac", mac),
        ("owner-id", ACCOUNT_ID),
        ("security-group-ids", &ids),
        ("security-groups", "web\ndb"),
        ("subnet-id", subnet),
        ("subnet-ipv4-cidr-block", "127.0.0.0/8"),
        ("vpc-id", vpc),
        ("vpc-ipv4-cidr-block", "127.0.0.0/8"),
        ("vpc-ipv4-cidr-blocks", "127.0.0.0/8"),
    ] {
        assert_eq!(
            served(ip, port, &format!("{nic_path}/{leaf}")),
            value,
            "{leaf}"
        );
        assert_eq!(
            served(ip, port, &format!("{nic_path}/{leaf}/")),
            value,
            "{leaf}/"
        );
    }
    assert_eq!(
        served(ip, port, "/latest/meta-data/security-groups"),
        "web\ndb"
    );
    assert_eq!(served(ip, port, "/latest/meta-data/hostname"), dns);
    for r in both(
        ip,
        port,
        "/latest/meta-data/network/interfaces/macs/02:00:00:00:00:00/",
    ) {
        assert_eq!(r.status, 404);
    }

    // placement/ and the instance's placement.
    let zone = i.placement().unwrap();
    assert_eq!(zone.availability_zone(), Some("us-east-1a"));
    assert_eq!(zone.availability_zone_id(), Some("use1-az1"));
    assert_eq!(
        served(ip, port, "/latest/meta-data/placement/"),
        "availability-zone\navailability-zone-id\nregion"
    );
    assert_eq!(
        served(ip, port, "/latest/meta-data/placement/availability-zone-id"),
        "use1-az1"
    );
    assert_eq!(
        served(
            ip,
            port,
            "/latest/meta-data/placement/availability-zone-id/"
        ),
        "use1-az1"
    );

    // The IDs behind them answer their own Describe calls.
    let vpcs = ec2.describe_vpcs().vpc_ids(vpc).send().await.unwrap();
    let [v] = vpcs.vpcs() else { panic!("{vpcs:?}") };
    assert_eq!(v.cidr_block(), Some("127.0.0.0/8"));
    assert_eq!(v.is_default(), Some(true));
    assert_eq!(v.owner_id(), Some(ACCOUNT_ID));
    let blocks = v.cidr_block_association_set();
    assert_eq!(blocks.len(), 1);
    assert_eq!(blocks[0].cidr_block(), Some("127.0.0.0/8"));
    let subnets = ec2
        .describe_subnets()
        .subnet_ids(subnet)
        .send()
        .await
        .unwrap();
    let [s] = subnets.subnets() else {
        panic!("{subnets:?}")
    };
    assert_eq!(s.vpc_id(), Some(vpc));
    assert_eq!(s.cidr_block(), Some("127.0.0.0/8"));
    assert_eq!(s.availability_zone(), Some("us-east-1a"));
    assert_eq!(s.availability_zone_id(), Some("use1-az1"));
    assert_eq!(s.default_for_az(), Some(true));
    // 2^24 addresses, EC2's five reserved, one instance.
    assert_eq!(s.available_ip_address_count(), Some((1 << 24) - 5 - 1));
    let sgs = ec2
        .describe_security_groups()
        .set_group_ids(Some(groups.iter().map(|g| g.1.to_owned()).collect()))
        .send()
        .await
        .unwrap();
    let mut found: Vec<(&str, &str)> = sgs
        .security_groups()
        .iter()
        .map(|g| (g.group_name().unwrap(), g.group_id().unwrap()))
        .collect();
    found.sort_unstable();
    let mut expected = groups.clone();
    expected.sort_unstable();
    assert_eq!(found, expected);
    assert!(
        sgs.security_groups()
            .iter()
            .all(|g| g.vpc_id() == Some(vpc))
    );
    let all = ec2.describe_security_groups().send().await.unwrap();
    let names: Vec<&str> = all
        .security_groups()
        .iter()
        .map(|g| g.group_name().unwrap())
        .collect();
    assert_eq!(names, ["db", "default", "web"]);
    let zones = ec2.describe_availability_zones().send().await.unwrap();
    let [z] = zones.availability_zones() else {
        panic!("{zones:?}")
    };
    assert_eq!(
        (z.zone_name(), z.zone_id(), z.region_name()),
        (Some("us-east-1a"), Some("use1-az1"), Some("us-east-1"))
    );

    // DescribeInstances filters on the network.
    for (name, value, hits) in [
        ("vpc-id", vpc, 1),
        ("subnet-id", subnet, 1),
        ("network-interface.network-interface-id", eni, 1),
        ("network-interface.mac-address", mac, 1),
        ("instance.group-name", "db", 1),
        ("instance.group-id", groups[0].1, 1),
        ("instance.group-name", "default", 0),
        ("subnet-id", "subnet-0123456789abcdef0", 0),
    ] {
        let out = ec2
            .describe_instances()
            .filters(filter(name, value))
            .send()
            .await
            .unwrap();
        let count: usize = out.reservations().iter().map(|r| r.instances().len()).sum();
        assert_eq!(count, hits, "{name}={value}");
    }
}

#[tokio::test]
async fn launches_name_only_subnets_and_groups_that_exist() {
    let server = Server::start();
    let ec2 = server.ec2().await;
    let first = launch(&ec2, &[]).await;
    let subnet = first.subnet_id().unwrap().to_owned();
    let default_group = first.security_groups()[0].clone();
    assert_eq!(default_group.group_name(), Some("default"));

    // The subnet and the default group by ID.
    let out = ec2
        .run_instances()
        .image_id("ami-0123456789abcdef0")
        .min_count(1)
        .max_count(1)
        .subnet_id(&subnet)
        .security_group_ids(default_group.group_id().unwrap())
        .send()
        .await
        .expect("a launch into the account's own subnet and group");
    let launched = &out.instances()[0];
    assert_eq!(launched.subnet_id(), Some(subnet.as_str()));
    assert_eq!(
        launched.security_groups(),
        std::slice::from_ref(&default_group)
    );

    let run = || {
        ec2.run_instances()
            .image_id("ami-0123456789abcdef0")
            .min_count(1)
            .max_count(1)
    };
    let refusals = [
        (
            run().subnet_id("subnet-0123456789abcdef0").send().await,
            "InvalidSubnetID.NotFound",
            "The subnet ID 'subnet-0123456789abcdef0' does not exist",
        ),
        (
            run().subnet_id("example").send().await,
            "InvalidSubnetID.NotFound",
            "The subnet ID 'example' does not exist",
        ),
        (
            run()
                .security_group_ids("sg-0123456789abcdef0")
                .send()
                .await,
            "InvalidGroup.NotFound",
            "The security group 'sg-0123456789abcdef0' does not exist",
        ),
        (
            run().security_group_ids("web").send().await,
            "InvalidGroupId.Malformed",
            "Invalid id: \"web\" (expecting \"sg-...\")",
        ),
    ];
    for (result, code, message) in refusals {
        let err = result.expect_err(code);
        assert_eq!((err.code(), err.message()), (Some(code), Some(message)));
    }
    let vpc = first.vpc_id().unwrap();
    let err = run()
        .security_groups("sg-0123456789abcdef0")
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some("InvalidGroup.NotFound"));
    assert_eq!(
        err.message(),
        Some(
            format!(
                "The security group 'sg-0123456789abcdef0' does not exist in default VPC '{vpc}'"
            )
            .as_str()
        )
    );

    // A name given at launch makes the group; its ID then launches too.
    let web = launch(&ec2, &["web"]).await.security_groups()[0].clone();
    let by_id = run()
        .security_group_ids(web.group_id().unwrap())
        .security_groups("web")
        .send()
        .await
        .expect("the web group by ID");
    assert_eq!(by_id.instances()[0].security_groups(), [web]);

    // Describe* name what does not exist as EC2 does.
    let err = ec2
        .describe_vpcs()
        .vpc_ids("vpc-0123456789abcdef0")
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        (err.code(), err.message()),
        (
            Some("InvalidVpcID.NotFound"),
            Some("The vpc ID 'vpc-0123456789abcdef0' does not exist")
        )
    );
    let err = ec2
        .describe_subnets()
        .subnet_ids("subnet-0123456789abcdef0")
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some("InvalidSubnetID.NotFound"));
    let err = ec2
        .describe_security_groups()
        .group_ids("sg-0123456789abcdef0")
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        (err.code(), err.message()),
        (
            Some("InvalidGroup.NotFound"),
            Some("The security group 'sg-0123456789abcdef0' does not exist")
        )
    );
    let err = ec2
        .describe_security_groups()
        .group_names("nope")
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        err.message(),
        Some(format!("The security group 'nope' does not exist in default VPC '{vpc}'").as_str())
    );
    let err = ec2
        .describe_availability_zones()
        .zone_names("us-east-1z")
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some("InvalidParameterValue"));

    // Filters on the network's resources.
    let named = ec2
        .describe_security_groups()
        .filters(filter("group-name", "w*"))
        .send()
        .await
        .unwrap();
    assert_eq!(named.security_groups().len(), 1);
    let none = ec2
        .describe_vpcs()
        .filters(filter("is-default", "false"))
        .send()
        .await
        .unwrap();
    assert!(none.vpcs().is_empty());
    let err = ec2
        .describe_subnets()
        .filters(filter("no-such-filter", "x"))
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some("InvalidParameterValue"));
}

#[tokio::test]
async fn another_account_has_its_own_network_and_sees_nothing_of_the_first() {
    let server = Server::start();
    let ec2 = server.ec2().await;
    let a = launch(&ec2, &["web"]).await;
    let (key_id, secret) = server.second_account("210987654321");
    let other = aws_sdk_ec2::Client::new(&server.config(&key_id, &secret, None).await);

    let own = other.describe_vpcs().send().await.unwrap();
    let [own_vpc] = own.vpcs() else {
        panic!("{own:?}")
    };
    assert_eq!(own_vpc.owner_id(), Some("210987654321"));
    assert_ne!(own_vpc.vpc_id(), a.vpc_id());
    let groups = other.describe_security_groups().send().await.unwrap();
    let names: Vec<&str> = groups
        .security_groups()
        .iter()
        .map(|g| g.group_name().unwrap())
        .collect();
    assert_eq!(names, ["default"], "account A's `web` is not B's");

    let err = other
        .describe_vpcs()
        .vpc_ids(a.vpc_id().unwrap())
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some("InvalidVpcID.NotFound"));
    let err = other
        .describe_subnets()
        .subnet_ids(a.subnet_id().unwrap())
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some("InvalidSubnetID.NotFound"));
    let a_group = a.security_groups()[0].group_id().unwrap();
    let err = other
        .describe_security_groups()
        .group_ids(a_group)
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some("InvalidGroup.NotFound"));
    let err = other
        .run_instances()
        .image_id("ami-0123456789abcdef0")
        .min_count(1)
        .max_count(1)
        .security_group_ids(a_group)
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some("InvalidGroup.NotFound"));
    let err = other
        .run_instances()
        .image_id("ami-0123456789abcdef0")
        .min_count(1)
        .max_count(1)
        .subnet_id(a.subnet_id().unwrap())
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some("InvalidSubnetID.NotFound"));
}

/// Host mode (`--imds-listen`): the VPC is the private blocks then loopback, an address's
/// subnet is its block (or the `/24` around it), and a launch's `SubnetId` must hold its address.
#[tokio::test]
async fn host_mode_subnets_follow_real_addresses() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start_with(&dir.path().join("data"), &["--imds-listen", "127.0.0.1:0"]);
    let ec2 = server.ec2().await;
    let at = |ip: &'static str| {
        ec2.run_instances()
            .image_id("ami-0123456789abcdef0")
            .min_count(1)
            .max_count(1)
            .private_ip_address(ip)
    };
    let private = at("10.20.30.40").send().await.unwrap().instances()[0].clone();
    let public = at("203.0.113.7").send().await.unwrap().instances()[0].clone();
    let looped = launch(&ec2, &[]).await;

    let vpcs = ec2.describe_vpcs().send().await.unwrap();
    let blocks: Vec<&str> = vpcs.vpcs()[0]
        .cidr_block_association_set()
        .iter()
        .map(|b| b.cidr_block().unwrap())
        .collect();
    assert_eq!(
        blocks,
        [
            "10.0.0.0/8",
            "172.16.0.0/12",
            "192.168.0.0/16",
            "100.64.0.0/10",
            "127.0.0.0/8"
        ]
    );
    assert_eq!(vpcs.vpcs()[0].cidr_block(), Some("10.0.0.0/8"));
    let subnets = ec2.describe_subnets().send().await.unwrap();
    let block_of = |id: &str| {
        subnets
            .subnets()
            .iter()
            .find(|s| s.subnet_id() == Some(id))
            .and_then(|s| s.cidr_block())
            .map(str::to_owned)
    };
    assert_eq!(subnets.subnets().len(), 6, "{subnets:?}");
    assert_eq!(
        block_of(private.subnet_id().unwrap()).as_deref(),
        Some("10.0.0.0/8")
    );
    assert_eq!(
        block_of(public.subnet_id().unwrap()).as_deref(),
        Some("203.0.113.0/24")
    );
    assert_eq!(
        block_of(looped.subnet_id().unwrap()).as_deref(),
        Some("127.0.0.0/8")
    );

    // A subnet that does not hold the address, with and without one.
    let err = at("10.20.30.41")
        .subnet_id(public.subnet_id().unwrap())
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        (err.code(), err.message()),
        (
            Some("InvalidParameterValue"),
            Some("Address 10.20.30.41 does not fall within the subnet's address range")
        )
    );
    let err = ec2
        .run_instances()
        .image_id("ami-0123456789abcdef0")
        .min_count(1)
        .max_count(1)
        .subnet_id(private.subnet_id().unwrap())
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some("InvalidParameterCombination"));
    let same = at("10.9.9.9")
        .subnet_id(private.subnet_id().unwrap())
        .send()
        .await
        .expect("an address in the named subnet");
    assert_eq!(same.instances()[0].subnet_id(), private.subnet_id());
}
