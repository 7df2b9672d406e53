//! DescribeSecurityGroups, and the groups RunInstances may name.
//!
//! An account's groups are `default` and the names its instances were launched with
//! (`network::Network::groups`): a name given at launch makes the group, as this server has no
//! CreateSecurityGroup. Rules are shown as EC2 creates them (`default` admits its own members,
//! every group lets everything out); nothing here filters traffic.

use protocol::XmlWriter;
use store::Store;

use super::access::authorize;
use super::error::Ec2Error;
use super::filters;
use super::network::{DEFAULT_GROUP, Network, SecurityGroup};
use super::vpcs::{account_instances, network};
use super::{Reply, ids, pages, respond};
use crate::request::Call;

const FILTERS: &[&str] = &[
    "group-id",
    "group-name",
    "description",
    "vpc-id",
    "owner-id",
];

pub async fn describe<S: Store>(call: &Call<'_, S>) -> Reply {
    let ids = call.input.list_str("GroupId")?;
    for id in &ids {
        ids::group_id(id)?;
    }
    let names = call.input.list_str("GroupName")?;
    let filters = filters::parse(call.input)?;
    filters::check_names(&filters, FILTERS)?;
    authorize(call, "ec2:DescribeSecurityGroups", "*", Vec::new()).await?;
    let net = network(call);
    let groups = net.groups(&account_instances(call).await?);
    if let Some(missing) = ids.iter().find(|id| !groups.iter().any(|g| g.id == **id)) {
        return Err(Ec2Error::GroupIdNotFound((*missing).to_owned()).into());
    }
    if let Some(missing) = names
        .iter()
        .find(|name| !groups.iter().any(|g| g.name == **name))
    {
        return Err(Ec2Error::GroupNameNotFound {
            name: (*missing).to_owned(),
            vpc_id: net.vpc_id(),
        }
        .into());
    }
    let vpc_id = net.vpc_id();
    let shown: Vec<SecurityGroup> = groups
        .into_iter()
        .filter(|g| ids.is_empty() || ids.contains(&g.id.as_str()))
        .filter(|g| names.is_empty() || names.contains(&g.name.as_str()))
        .filter(|g| {
            filters::all_match(&filters, |name| match name {
                "group-id" => vec![g.id.clone()],
                "group-name" => vec![g.name.clone()],
                "description" => vec![description(&g.name).to_owned()],
                "vpc-id" => vec![vpc_id.clone()],
                "owner-id" => vec![net.account.to_owned()],
                _ => Vec::new(),
            })
        })
        .collect();
    let (shown, next) = pages::page(call.input, shown, |g| g.id.as_str())?;
    Ok(respond(call, |x| {
        x.list("securityGroupInfo", "item", &shown, |x, g| {
            group(x, &net, g, &vpc_id);
        })
        .opt_elem("nextToken", next.as_deref());
    }))
}

/// `default`'s description is EC2's; the others say where they came from.
fn description(name: &str) -> &'static str {
    if name == DEFAULT_GROUP {
        "default VPC security group"
    } else {
        "Named at launch by RunInstances"
    }
}

fn group(x: &mut XmlWriter, net: &Network<'_>, g: &SecurityGroup, vpc_id: &str) {
    x.elem("ownerId", net.account)
        .elem("groupId", &g.id)
        .elem("groupName", &g.name)
        .elem("groupDescription", description(&g.name))
        .elem("vpcId", vpc_id)
        .elem("securityGroupArn", net.arn("security-group", &g.id));
    let from_itself = g.name == DEFAULT_GROUP;
    x.list(
        "ipPermissions",
        "item",
        from_itself.then_some(()),
        |x, ()| {
            x.elem("ipProtocol", "-1")
                .list("groups", "item", [()], |x, ()| {
                    x.elem("userId", net.account).elem("groupId", &g.id);
                })
                .empty("ipRanges")
                .empty("ipv6Ranges")
                .empty("prefixListIds");
        },
    )
    .list("ipPermissionsEgress", "item", [()], |x, ()| {
        x.elem("ipProtocol", "-1")
            .empty("groups")
            .list("ipRanges", "item", [()], |x, ()| {
                x.elem("cidrIp", "0.0.0.0/0");
            })
            .empty("ipv6Ranges")
            .empty("prefixListIds");
    });
}

/// The group names an instance launches with: each `SecurityGroupId` must be one of the
/// account's groups; each `SecurityGroup` name is taken as given (it makes the group), except
/// one in the form `sg-…`, which EC2 refuses as a name. Duplicates go; none means `default`.
pub async fn for_launch<S: Store>(
    call: &Call<'_, S>,
    ids: &[&str],
    names: &[&str],
) -> Result<Vec<String>, Ec2Error> {
    let net = network(call);
    let mut chosen: Vec<String> = Vec::new();
    if !ids.is_empty() {
        for id in ids {
            ids::group_id(id)?;
        }
        let groups = net.groups(&account_instances(call).await?);
        for id in ids {
            let group = groups
                .iter()
                .find(|g| g.id == *id)
                .ok_or_else(|| Ec2Error::GroupIdNotFound((*id).to_owned()))?;
            chosen.push(group.name.clone());
        }
    }
    for name in names {
        if name.starts_with("sg-") {
            return Err(Ec2Error::GroupNameNotFound {
                name: (*name).to_owned(),
                vpc_id: net.vpc_id(),
            });
        }
        if name.is_empty() || name.len() > 255 || !name.bytes().all(|b| (0x20..0x7f).contains(&b)) {
            // UNCONFIRMED wording.
            return Err(Ec2Error::InvalidParameterValue(format!(
                "Value ({name}) for parameter groupName is invalid. Group names must be 1-255 ASCII characters."
            )));
        }
        chosen.push((*name).to_owned());
    }
    let mut seen = std::collections::HashSet::new();
    chosen.retain(|name| seen.insert(name.clone()));
    Ok(chosen)
}
