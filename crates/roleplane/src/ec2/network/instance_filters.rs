//! DescribeInstances' filters on an instance's network: computed from its address, ID and
//! groups as DescribeInstances shows them, never read from the store.

use store::{Instance, InstanceState};

use super::Network;

/// `Filter` values a DescribeInstances filter on the network has for `instance`.
/// `None` for a filter that is not about the network.
pub fn values(net: &Network<'_>, instance: &Instance, name: &str) -> Option<Vec<String>> {
    let live = instance.state != InstanceState::Terminated;
    let n = net.instance(instance);
    let values = match name {
        "subnet-id" | "network-interface.subnet-id" if live => vec![n.subnet.id],
        "vpc-id" | "network-interface.vpc-id" if live => vec![n.vpc_id],
        "network-interface.network-interface-id" | "network-interface.attachment.attachment-id"
            if live =>
        {
            vec![if name.ends_with("attachment-id") {
                n.attachment_id
            } else {
                n.interface_id
            }]
        }
        "network-interface.mac-address" if live => vec![n.mac],
        "instance.group-id" | "group-id" => n.groups.into_iter().map(|g| g.id).collect(),
        "instance.group-name" | "group-name" => n.groups.into_iter().map(|g| g.name).collect(),
        "subnet-id"
        | "network-interface.subnet-id"
        | "vpc-id"
        | "network-interface.vpc-id"
        | "network-interface.network-interface-id"
        | "network-interface.attachment.attachment-id"
        | "network-interface.mac-address" => Vec::new(),
        _ => return None,
    };
    Some(values)
}

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
