//! The network instances are on, as EC2 describes it: each account's default VPC in the region,
//! its subnets, its security groups and each instance's one network interface.
//!
//! Nothing here is stored. IDs are derived from the account, the region and what they name
//! (SHA-256, 17 hex digits, EC2's ID shape), so every replica and every restart shows the same
//! ones; addresses decide subnets ([`cidr::subnet_block`]); the addressing mode decides the VPC's
//! blocks. Security groups are the names instances were launched with, plus `default`.
//! `docs/decisions/0015-network-model.md` says why.

pub mod cidr;
pub mod instance_filters;
pub mod zones;

use std::net::Ipv4Addr;

use sha2::{Digest, Sha256};
use store::{Instance, InstanceState};

use super::addresses::Addressing;
use cidr::{Ipv4Cidr, LOOPBACK, PRIVATE};

/// The group every VPC has, and every instance launched without one is in.
pub const DEFAULT_GROUP: &str = "default";

/// One account's default VPC in the region.
#[derive(Debug, Clone, Copy)]
pub struct Network<'a> {
    pub account: &'a str,
    pub region: &'a str,
}

/// A subnet: one block of the VPC.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subnet {
    pub id: String,
    pub block: Ipv4Cidr,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecurityGroup {
    pub id: String,
    pub name: String,
}

/// What EC2 shows about an instance's place in the network.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InstanceNetwork {
    pub vpc_id: String,
    pub subnet: Subnet,
    pub groups: Vec<SecurityGroup>,
    /// The primary network interface (`eni-…`) and its attachment (`eni-attach-…`).
    pub interface_id: String,
    pub attachment_id: String,
    pub mac: String,
    pub private_dns_name: String,
}

impl<'a> Network<'a> {
    pub fn new(account: &'a str, region: &'a str) -> Self {
        Self { account, region }
    }

    /// `prefix` + 17 hex digits of SHA-256 over the account, the region, the kind and `name`.
    fn derived_id(&self, prefix: &str, kind: &str, name: &str) -> String {
        let mut hash = Sha256::new();
        for part in ["roleplane-network", kind, self.account, self.region, name] {
            hash.update(part.as_bytes());
            hash.update([0]);
        }
        let hex = hex::encode(hash.finalize());
        format!("{prefix}{}", &hex[..17])
    }

    pub fn vpc_id(&self) -> String {
        self.derived_id("vpc-", "vpc", "")
    }

    /// `vpc-cidr-assoc-…` of one of the VPC's blocks.
    pub fn block_association_id(&self, block: Ipv4Cidr) -> String {
        self.derived_id("vpc-cidr-assoc-", "vpc-cidr-assoc", &block.to_string())
    }

    pub fn subnet(&self, block: Ipv4Cidr) -> Subnet {
        Subnet {
            id: self.derived_id("subnet-", "subnet", &block.to_string()),
            block,
        }
    }

    /// The subnet an instance at `address` is in.
    pub fn subnet_of(&self, address: Ipv4Addr) -> Subnet {
        self.subnet(cidr::subnet_block(address))
    }

    pub fn group(&self, name: &str) -> SecurityGroup {
        SecurityGroup {
            id: self.derived_id("sg-", "security-group", name),
            name: name.to_owned(),
        }
    }

    /// The instance's groups: the names it was launched with, `default` when none.
    pub fn groups_of(&self, stored: &[String]) -> Vec<SecurityGroup> {
        group_names(stored).map(|name| self.group(name)).collect()
    }

    pub fn instance(&self, instance: &Instance) -> InstanceNetwork {
        let address = instance.private_ip.parse().unwrap_or(Ipv4Addr::LOCALHOST);
        InstanceNetwork {
            vpc_id: self.vpc_id(),
            subnet: self.subnet_of(address),
            groups: self.groups_of(&instance.security_groups),
            interface_id: self.derived_id("eni-", "eni", &instance.id),
            attachment_id: self.derived_id("eni-attach-", "eni-attach", &instance.id),
            mac: mac_address(&instance.id),
            private_dns_name: private_dns_name(&instance.private_ip, self.region),
        }
    }

    /// The account's security groups: `default` and every name its instances were launched
    /// with (terminated ones included: a group outlives its instances), by name.
    pub fn groups(&self, instances: &[Instance]) -> Vec<SecurityGroup> {
        let mut names: Vec<&str> = instances
            .iter()
            .flat_map(|i| group_names(&i.security_groups))
            .chain([DEFAULT_GROUP])
            .collect();
        names.sort_unstable();
        names.dedup();
        names.into_iter().map(|name| self.group(name)).collect()
    }

    /// The account's subnets: one per block of the VPC, then the `/24` of each address outside
    /// those blocks that a live (not terminated) instance has, in block order.
    pub fn subnets(&self, addressing: Addressing, instances: &[Instance]) -> Vec<Subnet> {
        let fixed = vpc_blocks(addressing);
        let mut others: Vec<Ipv4Cidr> = instances
            .iter()
            .filter(|i| i.state != InstanceState::Terminated)
            .filter_map(|i| i.private_ip.parse().ok())
            .map(cidr::subnet_block)
            .filter(|block| !fixed.contains(block))
            .collect();
        others.sort_unstable();
        others.dedup();
        fixed
            .iter()
            .copied()
            .chain(others)
            .map(|block| self.subnet(block))
            .collect()
    }

    /// `arn:aws:ec2:REGION:ACCOUNT:KIND/ID`.
    pub fn arn(&self, kind: &str, id: &str) -> String {
        format!("arn:aws:ec2:{}:{}:{kind}/{id}", self.region, self.account)
    }
}

/// The group names of an instance's stored list (`default` for an empty one).
pub fn group_names(stored: &[String]) -> impl Iterator<Item = &str> {
    let default = stored.is_empty().then_some(DEFAULT_GROUP);
    stored.iter().map(String::as_str).chain(default)
}

/// The VPC's blocks, primary first: loopback in local mode; in host mode the private blocks,
/// then loopback (where instances launched without an address still go).
pub fn vpc_blocks(addressing: Addressing) -> &'static [Ipv4Cidr] {
    const LOCAL: [Ipv4Cidr; 1] = [LOOPBACK];
    const HOST: [Ipv4Cidr; 5] = [PRIVATE[0], PRIVATE[1], PRIVATE[2], PRIVATE[3], LOOPBACK];
    match addressing {
        Addressing::Local => &LOCAL,
        Addressing::Host => &HOST,
    }
}

/// The zone every instance launches in, and every subnet is in.
pub fn availability_zone(region: &str) -> String {
    format!("{region}a")
}

/// A stable, locally administered unicast MAC derived from the instance ID (EC2's start with
/// `02:`, `06:`, `0a:`, `0e:`, … for the same reason).
pub fn mac_address(instance_id: &str) -> String {
    let hex = instance_id.trim_start_matches("i-");
    let tail = hex.get(hex.len().saturating_sub(10)..).unwrap_or("");
    let mut mac = String::from("02");
    for pair in tail.as_bytes().chunks(2) {
        mac.push(':');
        mac.push_str(std::str::from_utf8(pair).unwrap_or("00"));
    }
    mac
}

/// EC2's private DNS name: `ip-10-0-0-1.ec2.internal` in us-east-1, else
/// `ip-10-0-0-1.REGION.compute.internal`.
pub fn private_dns_name(ip: &str, region: &str) -> String {
    let dashed = ip.replace('.', "-");
    if region == "us-east-1" {
        format!("ip-{dashed}.ec2.internal")
    } else {
        format!("ip-{dashed}.{region}.compute.internal")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: Network<'static> = Network {
        account: "123456789012",
        region: "us-east-1",
    };

    fn is_id(id: &str, prefix: &str) -> bool {
        id.strip_prefix(prefix).is_some_and(|hex| {
            hex.len() == 17 && hex.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
        })
    }

    #[test]
    fn ids_have_ec2s_shape_and_never_change() {
        let vpc = A.vpc_id();
        assert!(is_id(&vpc, "vpc-"), "{vpc}");
        // Pinned: a change here renames every resource of every deployment.
        assert_eq!(vpc, Network::new("123456789012", "us-east-1").vpc_id());
        assert_eq!(vpc, "vpc-a45bfa463c30428ed");
        let subnet = A.subnet(LOOPBACK);
        assert!(is_id(&subnet.id, "subnet-"), "{}", subnet.id);
        assert!(is_id(&A.group("default").id, "sg-"));
        assert!(is_id(&A.block_association_id(LOOPBACK), "vpc-cidr-assoc-"));
    }

    #[test]
    fn ids_differ_by_account_region_and_name() {
        let b = Network::new("210987654321", "us-east-1");
        let west = Network::new("123456789012", "us-west-2");
        assert_ne!(A.vpc_id(), b.vpc_id());
        assert_ne!(A.vpc_id(), west.vpc_id());
        assert_ne!(A.group("default").id, b.group("default").id);
        assert_ne!(A.group("default").id, A.group("web").id);
        assert_ne!(A.subnet(LOOPBACK).id, A.subnet(PRIVATE[0]).id);
        assert_ne!(A.subnet(LOOPBACK).id, b.subnet(LOOPBACK).id);
    }

    #[test]
    fn an_instances_subnet_follows_its_address() {
        let at = |ip: &str| A.subnet_of(ip.parse().unwrap());
        assert_eq!(at("127.1.0.1"), at("127.9.9.9"));
        assert_eq!(at("127.1.0.1").block, LOOPBACK);
        assert_eq!(at("10.1.2.3").block, PRIVATE[0]);
        assert_ne!(at("203.0.113.5"), at("203.0.114.5"));
    }

    #[test]
    fn vpc_blocks_follow_the_addressing_mode() {
        let shown =
            |mode| -> Vec<String> { vpc_blocks(mode).iter().map(ToString::to_string).collect() };
        assert_eq!(shown(Addressing::Local), ["127.0.0.0/8"]);
        assert_eq!(
            shown(Addressing::Host),
            [
                "10.0.0.0/8",
                "172.16.0.0/12",
                "192.168.0.0/16",
                "100.64.0.0/10",
                "127.0.0.0/8"
            ]
        );
    }

    #[test]
    fn groups_default_when_none_were_named() {
        let names = |stored: &[&str]| -> Vec<String> {
            let stored: Vec<String> = stored.iter().map(|s| (*s).to_owned()).collect();
            A.groups_of(&stored).into_iter().map(|g| g.name).collect()
        };
        assert_eq!(names(&[]), ["default"]);
        assert_eq!(names(&["web", "db"]), ["web", "db"]);
    }

    #[test]
    fn mac_is_six_octets_from_the_instance_id() {
        assert_eq!(mac_address("i-0123456789abcdef0"), "02:78:9a:bc:de:f0");
    }

    #[test]
    fn dns_names_follow_ec2s_regional_form() {
        assert_eq!(
            private_dns_name("127.1.0.1", "us-east-1"),
            "ip-127-1-0-1.ec2.internal"
        );
        assert_eq!(
            private_dns_name("10.0.0.9", "eu-west-1"),
            "ip-10-0-0-9.eu-west-1.compute.internal"
        );
    }
}
