//! DescribeVpcs and DescribeSubnets over the account's default VPC (`network`), and the
//! `SubnetId` RunInstances may name.

use std::net::Ipv4Addr;

use protocol::XmlWriter;
use store::{Instance, InstanceQuery, Store};

use super::access::authorize;
use super::error::{Ec2Error, from_store};
use super::filters;
use super::network::{self, Network, Subnet, cidr};
use super::{Reply, account, pages, respond};
use crate::request::Call;

/// The caller's default VPC.
pub fn network<'c, S>(call: &Call<'c, S>) -> Network<'c> {
    Network::new(account(call), call.app.region())
}

/// Every instance of the caller's account: what its security groups and extra subnets are
/// computed from.
pub async fn account_instances<S: Store>(call: &Call<'_, S>) -> Result<Vec<Instance>, Ec2Error> {
    call.app
        .store()
        .instances(account(call), &InstanceQuery::default())
        .await
        .map_err(from_store)
}

const VPC_FILTERS: &[&str] = &[
    "vpc-id",
    "cidr",
    "cidr-block-association.cidr-block",
    "cidr-block-association.association-id",
    "cidr-block-association.state",
    "dhcp-options-id",
    "is-default",
    "owner-id",
    "state",
];

pub async fn describe_vpcs<S: Store>(call: &Call<'_, S>) -> Reply {
    let requested = call.input.list_str("VpcId")?;
    let filters = filters::parse(call.input)?;
    filters::check_names(&filters, VPC_FILTERS)?;
    authorize(call, "ec2:DescribeVpcs", "*", Vec::new()).await?;
    let net = network(call);
    let vpc_id = net.vpc_id();
    if let Some(missing) = requested.iter().find(|id| **id != vpc_id) {
        return Err(Ec2Error::VpcNotFound((*missing).to_owned()).into());
    }
    let blocks = network::vpc_blocks(call.app.addressing());
    let values = |name: &str| -> Vec<String> {
        match name {
            "vpc-id" => vec![vpc_id.clone()],
            "cidr" => vec![blocks[0].to_string()],
            "cidr-block-association.cidr-block" => blocks.iter().map(ToString::to_string).collect(),
            "cidr-block-association.association-id" => blocks
                .iter()
                .map(|b| net.block_association_id(*b))
                .collect(),
            "cidr-block-association.state" => vec!["associated".to_owned()],
            "dhcp-options-id" => vec![DHCP_OPTIONS.to_owned()],
            "is-default" => vec!["true".to_owned()],
            "owner-id" => vec![net.account.to_owned()],
            "state" => vec!["available".to_owned()],
            _ => Vec::new(),
        }
    };
    let shown: Vec<&str> = if filters::all_match(&filters, values) {
        vec![vpc_id.as_str()]
    } else {
        Vec::new()
    };
    let (shown, next) = pages::page(call.input, shown, |id| id)?;
    Ok(respond(call, |x| {
        x.list("vpcSet", "item", shown, |x, id| {
            x.elem("cidrBlock", blocks[0])
                .elem("dhcpOptionsId", DHCP_OPTIONS)
                .elem("state", "available")
                .elem("vpcId", id)
                .elem("ownerId", net.account)
                .elem("instanceTenancy", "default")
                .list("cidrBlockAssociationSet", "item", blocks, |x, block| {
                    x.elem("associationId", net.block_association_id(*block))
                        .elem("cidrBlock", block)
                        .node("cidrBlockState", |x| {
                            x.elem("state", "associated");
                        });
                })
                .elem("isDefault", "true")
                .node("blockPublicAccessStates", |x| {
                    x.elem("internetGatewayBlockMode", "off");
                });
        })
        .opt_elem("nextToken", next.as_deref());
    }))
}

/// A VPC without DHCP options of its own shows `default`.
const DHCP_OPTIONS: &str = "default";

const SUBNET_FILTERS: &[&str] = &[
    "subnet-id",
    "subnet-arn",
    "vpc-id",
    "cidr",
    "cidr-block",
    "cidrBlock",
    "availability-zone",
    "availability-zone-id",
    "availabilityZone",
    "default-for-az",
    "defaultForAz",
    "map-public-ip-on-launch",
    "owner-id",
    "state",
];

/// EC2 keeps a subnet's first four addresses and its last for itself.
const RESERVED_PER_SUBNET: u64 = 5;

pub async fn describe_subnets<S: Store>(call: &Call<'_, S>) -> Reply {
    let requested = call.input.list_str("SubnetId")?;
    let filters = filters::parse(call.input)?;
    filters::check_names(&filters, SUBNET_FILTERS)?;
    authorize(call, "ec2:DescribeSubnets", "*", Vec::new()).await?;
    let net = network(call);
    let instances = account_instances(call).await?;
    let subnets = net.subnets(call.app.addressing(), &instances);
    if let Some(missing) = requested
        .iter()
        .find(|id| !subnets.iter().any(|s| s.id == **id))
    {
        return Err(Ec2Error::SubnetNotFound((*missing).to_owned()).into());
    }
    let zone = network::availability_zone(call.app.region());
    let zone_id = network::zones::zone_id(&zone, call.app.region()).unwrap_or_default();
    let vpc_id = net.vpc_id();
    let shown: Vec<Subnet> = subnets
        .into_iter()
        .filter(|s| requested.is_empty() || requested.contains(&s.id.as_str()))
        .filter(|s| {
            filters::all_match(&filters, |name| match name {
                "subnet-id" => vec![s.id.clone()],
                "subnet-arn" => vec![net.arn("subnet", &s.id)],
                "vpc-id" => vec![vpc_id.clone()],
                "cidr" | "cidr-block" | "cidrBlock" => vec![s.block.to_string()],
                "availability-zone" | "availabilityZone" => vec![zone.clone()],
                "availability-zone-id" => vec![zone_id.clone()],
                "default-for-az" | "defaultForAz" => vec!["true".to_owned()],
                "map-public-ip-on-launch" => vec!["false".to_owned()],
                "owner-id" => vec![net.account.to_owned()],
                "state" => vec!["available".to_owned()],
                _ => Vec::new(),
            })
        })
        .collect();
    let (shown, next) = pages::page(call.input, shown, |s| s.id.as_str())?;
    let in_use = |s: &Subnet| {
        instances
            .iter()
            .filter(|i| i.state != store::InstanceState::Terminated)
            .filter(|i| i.private_ip.parse().is_ok_and(|ip| s.block.contains(ip)))
            .count() as u64
    };
    Ok(respond(call, |x| {
        x.list("subnetSet", "item", &shown, |x, s| {
            let available = s
                .block
                .size()
                .saturating_sub(RESERVED_PER_SUBNET + in_use(s));
            subnet(x, &net, s, &vpc_id, &zone, &zone_id, available);
        })
        .opt_elem("nextToken", next.as_deref());
    }))
}

fn subnet(
    x: &mut XmlWriter,
    net: &Network<'_>,
    s: &Subnet,
    vpc_id: &str,
    zone: &str,
    zone_id: &str,
    available: u64,
) {
    x.elem("subnetId", &s.id)
        .elem("subnetArn", net.arn("subnet", &s.id))
        .elem("state", "available")
        .elem("vpcId", vpc_id)
        .elem("ownerId", net.account)
        .elem("cidrBlock", s.block)
        .empty("ipv6CidrBlockAssociationSet")
        .elem("availableIpAddressCount", available)
        .elem("availabilityZone", zone)
        .elem("availabilityZoneId", zone_id)
        .elem("defaultForAz", "true")
        .elem("mapPublicIpOnLaunch", "false")
        .elem("mapCustomerOwnedIpOnLaunch", "false")
        .elem("assignIpv6AddressOnCreation", "false")
        .elem("enableDns64", "false")
        .elem("ipv6Native", "false")
        .node("privateDnsNameOptionsOnLaunch", |x| {
            x.elem("hostnameType", "ip-name")
                .elem("enableResourceNameDnsARecord", "false")
                .elem("enableResourceNameDnsAAAARecord", "false");
        })
        .node("blockPublicAccessStates", |x| {
            x.elem("internetGatewayBlockMode", "off");
        });
}

/// The subnet an instance launched at `address` (or, without one, at a loopback address the
/// store assigns) is in, after checking a `SubnetId` the request names: it must be one of the
/// account's subnets and hold the address.
pub async fn for_launch<S: Store>(
    call: &Call<'_, S>,
    named: Option<&str>,
    address: Option<Ipv4Addr>,
) -> Result<Subnet, Ec2Error> {
    let net = network(call);
    let target = match address {
        Some(address) => net.subnet_of(address),
        None => net.subnet(cidr::LOOPBACK),
    };
    let Some(named) = named else {
        return Ok(target);
    };
    if named == target.id {
        return Ok(target);
    }
    let instances = account_instances(call).await?;
    let Some(other) = net
        .subnets(call.app.addressing(), &instances)
        .into_iter()
        .find(|s| s.id == named)
    else {
        return Err(Ec2Error::SubnetNotFound(named.to_owned()));
    };
    Err(match address {
        Some(address) => Ec2Error::AddressOutsideRange(address.to_string()),
        // This server assigns addresses in loopback only; EC2 would pick one in the subnet.
        None => Ec2Error::InvalidParameterCombination(format!(
            "Instances launched into subnet {} ({}) need a PrivateIpAddress in it: this server \
             assigns addresses only in {}.",
            other.id,
            other.block,
            cidr::LOOPBACK
        )),
    })
}
