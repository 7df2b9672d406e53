//! EC2 response shapes: lowerCamel element names, `<item>` list entries, no result wrapper.

use protocol::{Iso8601, XmlWriter};
use store::{Association, AssociationState, Instance, InstanceState, MetadataOptions, StateChange};
use time::OffsetDateTime;

use super::network::{InstanceNetwork, Network, SecurityGroup, zones};

/// EC2 timestamps carry milliseconds (`2026-01-02T03:04:05.000Z`).
pub(super) fn timestamp(t: OffsetDateTime) -> Iso8601 {
    Iso8601(t)
}

pub fn state(x: &mut XmlWriter, name: &str, state: InstanceState) {
    x.node(name, |x| {
        x.elem("code", state.code()).elem("name", state.as_str());
    });
}

/// One instance as DescribeInstances and RunInstances write it. A terminated instance has left
/// the network: no address, subnet, VPC or interface.
pub fn instance(x: &mut XmlWriter, i: &Instance, net: &Network<'_>) {
    let n = net.instance(i);
    let live = i.state != InstanceState::Terminated;
    x.elem("instanceId", &i.id).elem("imageId", &i.image_id);
    state(x, "instanceState", i.state);
    x.elem(
        "privateDnsName",
        if live {
            n.private_dns_name.as_str()
        } else {
            ""
        },
    )
    .elem("dnsName", "")
    .elem("reason", "")
    .opt_elem("keyName", i.key_name.as_deref())
    .elem("amiLaunchIndex", i.launch_index)
    .empty("productCodes")
    .elem("instanceType", &i.instance_type)
    .elem("launchTime", timestamp(i.launched))
    .node("placement", |x| {
        x.elem("availabilityZone", &i.availability_zone)
            .opt_elem(
                "availabilityZoneId",
                zones::zone_id(&i.availability_zone, net.region),
            )
            .elem("groupName", "")
            .opt_elem("hostId", i.host_id.as_deref())
            .elem(
                "tenancy",
                if i.host_id.is_some() {
                    "host"
                } else {
                    "default"
                },
            );
    })
    .node("monitoring", |x| {
        x.elem("state", "disabled");
    });
    if live {
        x.elem("subnetId", &n.subnet.id)
            .elem("vpcId", &n.vpc_id)
            .elem("privateIpAddress", &i.private_ip)
            .elem("sourceDestCheck", "true");
    }
    // botocore's `Instance.Ipv6Address`: the first of the instance's IPv6 addresses.
    x.opt_elem("ipv6Address", i.ipv6_addresses.first().map(String::as_str));
    groups(x, &n.groups);
    x.elem("architecture", "x86_64")
        .elem("rootDeviceType", "ebs")
        .elem("rootDeviceName", "/dev/xvda")
        .elem("virtualizationType", "hvm")
        .opt_elem("clientToken", i.client_token.as_deref());
    if !i.tags.is_empty() {
        x.list("tagSet", "item", &i.tags, |x, t| {
            x.elem("key", &t.key).elem("value", &t.value);
        });
    }
    x.list("networkInterfaceSet", "item", live.then_some(&n), |x, n| {
        network_interface(x, i, net.account, n);
    });
    if let Some(a) = &i.association {
        x.node("iamInstanceProfile", |x| {
            x.elem("arn", &a.profile.arn).elem("id", &a.profile.id);
        });
    }
    x.node("metadataOptions", |x| {
        metadata_options(x, &i.metadata_options, "applied");
    });
}

/// The instance's primary network interface, attached at launch and deleted with it.
fn network_interface(x: &mut XmlWriter, i: &Instance, owner: &str, n: &InstanceNetwork) {
    x.elem("networkInterfaceId", &n.interface_id)
        .elem("subnetId", &n.subnet.id)
        .elem("vpcId", &n.vpc_id)
        .elem("description", "")
        .elem("ownerId", owner)
        .elem("status", "in-use")
        .elem("macAddress", &n.mac)
        .elem("privateIpAddress", &i.private_ip)
        .elem("privateDnsName", &n.private_dns_name)
        .elem("sourceDestCheck", "true");
    groups(x, &n.groups);
    x.node("attachment", |x| {
        x.elem("attachmentId", &n.attachment_id)
            .elem("deviceIndex", 0)
            .elem("status", "attached")
            .elem("attachTime", timestamp(i.launched))
            .elem("deleteOnTermination", "true")
            .elem("networkCardIndex", 0);
    })
    .list("privateIpAddressesSet", "item", [()], |x, ()| {
        x.elem("privateIpAddress", &i.private_ip)
            .elem("privateDnsName", &n.private_dns_name)
            .elem("primary", "true");
    })
    .list(
        "ipv6AddressesSet",
        "item",
        &i.ipv6_addresses,
        |x, address| {
            x.elem("ipv6Address", address)
                .elem("isPrimaryIpv6", "false");
        },
    )
    .elem("interfaceType", "interface");
}

/// Security groups with their IDs and names.
pub fn groups(x: &mut XmlWriter, groups: &[SecurityGroup]) {
    x.list("groupSet", "item", groups, |x, g| {
        x.elem("groupId", &g.id).elem("groupName", &g.name);
    });
}

pub fn metadata_options(x: &mut XmlWriter, o: &MetadataOptions, state: &str) {
    x.elem("state", state)
        .elem("httpTokens", &o.http_tokens)
        .elem("httpPutResponseHopLimit", o.http_put_response_hop_limit)
        .elem("httpEndpoint", &o.http_endpoint)
        .elem("httpProtocolIpv6", &o.http_protocol_ipv6)
        .elem("instanceMetadataTags", &o.instance_metadata_tags);
}

/// `<reservationId/><ownerId/><groupSet/><instancesSet>` of one reservation. The reservation's
/// groups are empty, as EC2 shows them for instances in a VPC (each instance lists its own).
pub fn reservation(x: &mut XmlWriter, id: &str, net: &Network<'_>, instances: &[&Instance]) {
    x.elem("reservationId", id).elem("ownerId", net.account);
    groups(x, &[]);
    x.list("instancesSet", "item", instances, |x, i| {
        instance(x, i, net)
    });
}

pub fn state_changes(x: &mut XmlWriter, changes: &[StateChange]) {
    x.list("instancesSet", "item", changes, |x, c| {
        x.elem("instanceId", &c.instance_id);
        state(x, "currentState", c.current);
        state(x, "previousState", c.previous);
    });
}

pub fn association(x: &mut XmlWriter, a: &Association, shown: AssociationState) {
    x.elem("associationId", &a.id)
        .elem("instanceId", &a.instance_id)
        .node("iamInstanceProfile", |x| {
            x.elem("arn", &a.profile.arn).elem("id", &a.profile.id);
        })
        .elem("state", shown.as_str())
        .elem("timestamp", timestamp(a.created));
}
