//! RunInstances, DescribeInstances, and Start/Stop/TerminateInstances.

use std::net::Ipv4Addr;

use store::{Instance, InstanceQuery, NewLaunch, StateRequest, Store};

use super::access::{authorize, instance_arn, request_tags};
use super::error::{Ec2Error, from_store};
use super::filters::{self, Filter};
use super::metadata::{self, OptionsInput};
use super::{
    Reply, account, addresses, attributes, hosts, ids, ipv6_addresses, key_pairs, locate, network,
    profiles, respond, security_groups, tags, vpcs, xml,
};
use crate::request::Call;

/// Instances per RunInstances call; larger requests launch this many when MinCount allows it.
const MAX_LAUNCH: i32 = 1000;

/// EC2's default instance type when RunInstances names none.
const DEFAULT_INSTANCE_TYPE: &str = "m1.small";

pub async fn run<S: Store>(call: &Call<'_, S>) -> Reply {
    let p = call.input;
    let root = p.root();
    let image_id = ids::image_id(root.required_str("ImageId")?)?.to_owned();
    let min = root.required_i32("MinCount", 1..=MAX_LAUNCH)?;
    let max = root.required_i32("MaxCount", 1..=i32::MAX)?;
    if min > max {
        // UNCONFIRMED wording.
        return Err(Ec2Error::InvalidParameterValue(format!(
            "Invalid value '{max}' for maxCount. Must be greater than or equal to minCount."
        ))
        .into());
    }
    let count = max.min(MAX_LAUNCH).unsigned_abs();
    let private_ip = match root.optional_str("PrivateIpAddress") {
        None => None,
        Some(raw) => {
            let ip: Ipv4Addr = raw.parse().map_err(|_| {
                Ec2Error::InvalidParameterValue(format!(
                    "Value ({raw}) for parameter privateIpAddress is invalid. Not a valid IPv4 address."
                ))
            })?;
            if count > 1 {
                // UNCONFIRMED wording.
                return Err(Ec2Error::InvalidParameterCombination(
                    "A private IP address can only be specified when launching one instance."
                        .to_owned(),
                )
                .into());
            }
            addresses::check(ip, call.app.addressing())?;
            Some(ip)
        }
    };
    let ipv6_addresses = ipv6_addresses::from_request(&root, count, call.app.addressing())?;
    let client_token = root.optional_str("ClientToken").map(str::to_owned);
    if client_token.as_ref().is_some_and(|t| t.len() > 64) {
        return Err(Ec2Error::InvalidParameterValue(
            "Value for parameter clientToken is invalid. It must be at most 64 characters long."
                .to_owned(),
        )
        .into());
    }
    // Other resource types (volumes, interfaces) do not exist here: their tags are dropped.
    let tags = tags::specified(call, "instance", tags::OtherTypes::Ignore)?;
    let group_ids = root.list_str("SecurityGroupId")?;
    let group_names = root.list_str("SecurityGroup")?;
    let subnet_id = root.optional_str("SubnetId");
    let options = OptionsInput::parse(&root.scope("MetadataOptions"))?;
    let user_data = match root.optional_str("UserData") {
        Some(value) => attributes::decode_user_data(value)?,
        None => None,
    };

    let key_name = root.optional_str("KeyName").filter(|n| !n.is_empty());
    let host_id = placement_host(&root)?;

    let launch_arn = instance_arn(call, "*");
    authorize(call, "ec2:RunInstances", &launch_arn, request_tags(&tags)).await?;
    tags::authorize_on_create(call, &launch_arn, &tags).await?;
    let image_arn = format!("arn:aws:ec2:{}::image/{image_id}", call.app.region());
    authorize(call, "ec2:RunInstances", &image_arn, Vec::new()).await?;
    // A host is authorized before the store says whether the account has it.
    if let Some(host_id) = &host_id {
        authorize(
            call,
            "ec2:RunInstances",
            &hosts::host_arn(call, host_id),
            Vec::new(),
        )
        .await?;
    }
    // The key pair must be the caller's own: another account's name is simply not found.
    let public_key = match key_name {
        Some(name) => {
            let arn = key_pairs::key_pair_arn(call, name);
            authorize(call, "ec2:RunInstances", &arn, Vec::new()).await?;
            Some(key_pairs::for_launch(call, name).await?)
        }
        None => None,
    };
    let profile = match root.optional_scope("IamInstanceProfile") {
        Some(member) => {
            let profile = profiles::resolve(call, Some(member)).await?;
            profiles::may_pass(call, &profile, &launch_arn).await?;
            Some(profiles::reference(&profile))
        }
        None => None,
    };

    // The network the instance joins: named groups and subnet must be the account's own.
    let security_groups = security_groups::for_launch(call, &group_ids, &group_names).await?;
    let subnet = vpcs::for_launch(call, subnet_id, private_ip).await?;

    let store = call.app.store();
    let defaults = store
        .instance_metadata_defaults(account(call))
        .await
        .map_err(from_store)?;
    let launch = NewLaunch {
        count,
        image_id,
        instance_type: root
            .optional_str("InstanceType")
            .unwrap_or(DEFAULT_INSTANCE_TYPE)
            .to_owned(),
        availability_zone: network::availability_zone(call.app.region()),
        key_name: key_name.map(str::to_owned),
        public_key,
        subnet_id: Some(subnet.id),
        security_groups,
        private_ip: private_ip.map(|ip| ip.to_string()),
        ipv6_addresses,
        metadata_options: metadata::at_launch(&defaults, options),
        tags,
        user_data,
        profile,
        host_id,
        fingerprint: fingerprint(call),
        client_token,
    };
    let reservation = store
        .run_instances(account(call), launch)
        .await
        .map_err(from_store)?;
    let instances: Vec<&Instance> = reservation.instances.iter().collect();
    Ok(respond(call, |x| {
        // A fresh launch is still pending as far as its caller knows; a replay shows the truth.
        let shown: Vec<Instance> = instances
            .iter()
            .map(|i| {
                let mut i = (*i).clone();
                if !reservation.replayed {
                    i.state = store::InstanceState::Pending;
                }
                i
            })
            .collect();
        let shown: Vec<&Instance> = shown.iter().collect();
        xml::reservation(x, &reservation.id, &vpcs::network(call), &shown);
    }))
}

/// `Placement.HostId`: the Dedicated Host to launch on. Host tenancy without a host would need
/// EC2's auto-placement, which is not served: refused rather than launched elsewhere.
fn placement_host(root: &protocol::Scope<'_>) -> Result<Option<String>, Ec2Error> {
    let Some(placement) = root.optional_scope("Placement") else {
        return Ok(None);
    };
    match (placement.optional_str("HostId"), placement.optional_str("Tenancy")) {
        (Some(id), None | Some("host")) => Ok(Some(ids::host_id(id)?.to_owned())),
        (Some(_), Some(tenancy)) => Err(Ec2Error::InvalidParameterCombination(format!(
            // UNCONFIRMED wording.
            "The tenancy '{tenancy}' cannot be used with a host ID: an instance on a Dedicated Host has host tenancy."
        ))),
        (None, Some("host")) => Err(Ec2Error::UnsupportedOperation(
            "Host tenancy without Placement.HostId needs auto-placement, which this server does not provide; name the host."
                .to_owned(),
        )),
        (None, _) => Ok(None),
    }
}

/// What makes two RunInstances (or AllocateHosts) requests "the same" for ClientToken idempotency: every parameter
/// except the token itself, in sorted order.
pub(super) fn fingerprint<S>(call: &Call<'_, S>) -> String {
    let mut out = String::new();
    for (name, value) in call.input.entries() {
        if matches!(name, "ClientToken" | "Version") {
            continue;
        }
        out.push_str(name);
        out.push('=');
        out.push_str(value);
        out.push('\n');
    }
    out
}

/// `NextToken` of DescribeInstances: the last instance ID of the previous page.
fn next_token(p: &protocol::Params) -> Result<Option<String>, Ec2Error> {
    match p.optional_str("NextToken") {
        None => Ok(None),
        Some(token) => ids::instance_id(token)
            .map(|t| Some(t.to_owned()))
            .map_err(|_| {
                Ec2Error::InvalidParameterValue(format!("Invalid value '{token}' for nextToken."))
            }),
    }
}

pub async fn describe<S: Store>(call: &Call<'_, S>) -> Reply {
    let p = call.input;
    let requested: Vec<&str> = p.list_str("InstanceId")?;
    for id in &requested {
        ids::instance_id(id)?;
    }
    let max_results = p.optional_i32("MaxResults", 5..=1000)?;
    if max_results.is_some() && !requested.is_empty() {
        return Err(Ec2Error::InvalidParameterCombination(
            "The parameter instancesSet cannot be used with the parameter maxResults".to_owned(),
        )
        .into());
    }
    let filters: Vec<Filter> = filters::parse(p)?;
    filters::check_instance_filters(&filters)?;
    let after = next_token(p)?;
    authorize(call, "ec2:DescribeInstances", "*", Vec::new()).await?;

    let query = InstanceQuery {
        ids: requested.iter().map(|s| (*s).to_owned()).collect(),
        conditions: filters::instance_conditions(&filters),
        after,
        limit: max_results.map(|n| n.unsigned_abs()),
    };
    let found = call
        .app
        .store()
        .instances(account(call), &query)
        .await
        .map_err(from_store)?;
    let missing: Vec<String> = requested
        .iter()
        .filter(|id| !found.iter().any(|i| i.id == **id))
        .map(|id| (*id).to_owned())
        .collect();
    if !missing.is_empty() {
        return Err(Ec2Error::InstanceNotFound(missing).into());
    }
    // A full page may have more after it; filters applied here can make a page short, which
    // EC2 allows too.
    let next = match max_results {
        Some(n) if found.len() == n.unsigned_abs() as usize => found.last().map(|i| i.id.clone()),
        _ => None,
    };
    let net = vpcs::network(call);
    let selected: Vec<&Instance> = found
        .iter()
        .filter(|i| filters::instance_matches(i, &filters, &net))
        .collect();
    let reservations = by_reservation(&selected);
    Ok(respond(call, |x| {
        x.list(
            "reservationSet",
            "item",
            &reservations,
            |x, (id, instances)| {
                xml::reservation(x, id, &net, instances);
            },
        )
        .opt_elem("nextToken", next.as_deref());
    }))
}

/// Instances grouped by reservation, reservations in order of first appearance.
fn by_reservation<'a>(instances: &[&'a Instance]) -> Vec<(&'a str, Vec<&'a Instance>)> {
    let mut groups: Vec<(&str, Vec<&Instance>)> = Vec::new();
    let mut index = std::collections::HashMap::new();
    for i in instances {
        let slot = *index.entry(i.reservation_id.as_str()).or_insert_with(|| {
            groups.push((i.reservation_id.as_str(), Vec::new()));
            groups.len() - 1
        });
        groups[slot].1.push(i);
    }
    groups
}

/// Start, Stop or Terminate: authorize each instance (found or not), then change them all in
/// one write.
pub async fn change_state<S: Store>(call: &Call<'_, S>, request: StateRequest) -> Reply {
    let requested: Vec<String> = call
        .input
        .list_str("InstanceId")?
        .into_iter()
        .map(str::to_owned)
        .collect();
    if requested.is_empty() {
        return Err(call.input.root().missing("InstanceId").into());
    }
    for id in &requested {
        ids::instance_id(id)?;
    }
    // Every instance is authorized, found or not, before a missing one is reported.
    let action = format!("ec2:{}", call.operation);
    let mut missing: Vec<String> = Vec::new();
    for located in locate::instances(call, &requested).await? {
        match located.authorize(call, &action).await {
            Ok(_) => {}
            Err(Ec2Error::InstanceNotFound(ids)) => missing.extend(ids),
            Err(other) => return Err(other.into()),
        }
    }
    if !missing.is_empty() {
        return Err(Ec2Error::InstanceNotFound(missing).into());
    }
    let changes = call
        .app
        .store()
        .change_instance_states(account(call), &requested, request)
        .await
        .map_err(|e| match from_store(e) {
            Ec2Error::NotRunningOrStopped(instance_id) => Ec2Error::NoTransition {
                instance_id,
                verb: match request {
                    StateRequest::Start => "started",
                    StateRequest::Stop => "stopped",
                    StateRequest::Terminate => "terminated",
                },
            },
            other => other,
        })?;
    Ok(respond(call, |x| xml::state_changes(x, &changes)))
}
