//! DescribeInstances' filters on an instance's network: computed from its address, ID and
//! groups as DescribeInstances shows them, never read from the store.

use store::{Instance, InstanceState};

use super::Network;

/// The network filters DescribeInstances takes (see [`values`]).
pub const NAMES: &[&str] = &[
    "subnet-id",
    "network-interface.subnet-id",
    "vpc-id",
    "network-interface.vpc-id",
    "network-interface.network-interface-id",
    "network-interface.attachment.attachment-id",
    "network-interface.mac-address",
    "instance.group-id",
    "group-id",
    "instance.group-name",
    "group-name",
];

/// `Filter` values a DescribeInstances filter on the network has for `instance`; `None` for a
/// filter that is not about the network. A terminated instance has left its subnet, VPC and
/// interface, and keeps its groups.
pub fn values(net: &Network<'_>, instance: &Instance, name: &str) -> Option<Vec<String>> {
    if !NAMES.contains(&name) {
        return None;
    }
    let n = net.instance(instance);
    let values = match name {
        "instance.group-id" | "group-id" => n.groups.into_iter().map(|g| g.id).collect(),
        "instance.group-name" | "group-name" => n.groups.into_iter().map(|g| g.name).collect(),
        _ if instance.state == InstanceState::Terminated => Vec::new(),
        "subnet-id" | "network-interface.subnet-id" => vec![n.subnet.id],
        "vpc-id" | "network-interface.vpc-id" => vec![n.vpc_id],
        "network-interface.network-interface-id" => vec![n.interface_id],
        "network-interface.attachment.attachment-id" => vec![n.attachment_id],
        _ => vec![n.mac],
    };
    Some(values)
}
