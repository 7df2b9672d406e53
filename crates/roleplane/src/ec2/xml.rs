//! EC2 response shapes: lowerCamel element names, `<item>` list entries, no result wrapper.

use store::{Association, AssociationState, Instance, InstanceState, MetadataOptions, StateChange};
use time::OffsetDateTime;

use crate::protocol::{Iso8601, XmlWriter};

/// EC2 timestamps carry milliseconds (`2026-01-02T03:04:05.000Z`).
pub(super) fn timestamp(t: OffsetDateTime) -> Iso8601 {
    Iso8601(t)
}

pub fn state(x: &mut XmlWriter, name: &str, state: InstanceState) {
    x.node(name, |x| {
        x.elem("code", state.code()).elem("name", state.as_str());
    });
}

/// One instance as DescribeInstances and RunInstances write it.
pub fn instance(x: &mut XmlWriter, i: &Instance) {
    let dns = format!("ip-{}.ec2.internal", i.private_ip.replace('.', "-"));
    let live = i.state != InstanceState::Terminated;
    x.elem("instanceId", &i.id).elem("imageId", &i.image_id);
    state(x, "instanceState", i.state);
    x.elem("privateDnsName", if live { dns.as_str() } else { "" })
        .elem("dnsName", "")
        .elem("reason", "")
        .opt_elem("keyName", i.key_name.as_deref())
        .elem("amiLaunchIndex", i.launch_index)
        .empty("productCodes")
        .elem("instanceType", &i.instance_type)
        .elem("launchTime", timestamp(i.launched))
        .node("placement", |x| {
            x.elem("availabilityZone", &i.availability_zone)
                .elem("groupName", "")
                .elem("tenancy", "default");
        })
        .node("monitoring", |x| {
            x.elem("state", "disabled");
        })
        .opt_elem("subnetId", i.subnet_id.as_deref());
    if live {
        x.elem("privateIpAddress", &i.private_ip);
    }
    // botocore's `Instance.Ipv6Address`: the first of the instance's IPv6 addresses.
    x.opt_elem("ipv6Address", i.ipv6_addresses.first().map(String::as_str));
    groups(x, &i.security_groups);
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
    if let Some(a) = &i.association {
        x.node("iamInstanceProfile", |x| {
            x.elem("arn", &a.profile.arn).elem("id", &a.profile.id);
        });
    }
    x.node("metadataOptions", |x| {
        metadata_options(x, &i.metadata_options, "applied");
    });
}

/// Security groups as given: IDs (`sg-…`) as groupId, anything else as groupName.
pub fn groups(x: &mut XmlWriter, groups: &[String]) {
    x.list("groupSet", "item", groups, |x, g| {
        if g.starts_with("sg-") {
            x.elem("groupId", g);
        } else {
            x.elem("groupName", g);
        }
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

/// `<reservationId/><ownerId/><groupSet/><instancesSet>` of one reservation.
pub fn reservation(x: &mut XmlWriter, id: &str, owner: &str, instances: &[&Instance]) {
    x.elem("reservationId", id).elem("ownerId", owner);
    let groups_of_first = instances
        .first()
        .map(|i| i.security_groups.as_slice())
        .unwrap_or_default();
    groups(x, groups_of_first);
    x.list("instancesSet", "item", instances, |x, i| instance(x, i));
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
