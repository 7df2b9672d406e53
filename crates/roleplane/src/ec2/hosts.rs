//! Dedicated Hosts: AllocateHosts, DescribeHosts, ReleaseHosts.
//!
//! A host here is a machine the operator runs instances on, which EC2's API already names: a
//! Dedicated Host (`h-…`). RunInstances places an instance on one with `Placement.HostId`
//! (`instances::run`). Each host is allocated with its agent's access key (decision 0025): the
//! key is made and sealed here, bound to the host in the store, never returned by the API
//! (the operator reads it with `roleplane host credentials`), and deleted by ReleaseHosts in
//! the same write that releases the host.
//!
//! Hardware is not modelled: no capacity, cores, sockets or vCPUs are shown, and any number of
//! instances of the types a host takes fit on it. Auto-placement is stored and shown but
//! never places an instance: only launches that name the host land on it.

use std::collections::HashSet;

use protocol::{AwsError, Scope, XmlWriter};
use store::{Host, HostCapacity, HostRelease, NewAccessKey, NewHosts, Store};
use zeroize::Zeroizing;

use super::access::{authorize, request_tags, tag_conditions};
use super::error::{Ec2Error, from_store};
use super::filters::{self, Filter};
use super::network::{self, zones};
use super::tags::{self, OtherTypes};
use super::{Reply, account, ids, instances, pages, respond, xml};
use crate::credentials::new_secret_access_key;
use crate::request::Call;

/// Hosts one AllocateHosts call may allocate. EC2's own bound is the account's quota per
/// instance family; a server of real machines needs no more than this in one call.
const MAX_QUANTITY: i32 = 100;

/// DescribeHosts' largest page.
const MAX_RESULTS: i32 = 500;

/// DescribeHosts' filters (EC2 API reference), `tag-key` and `tag:KEY` besides.
const FILTERS: &[&str] = &[
    "auto-placement",
    "availability-zone",
    "client-token",
    "host-reservation-id",
    "instance-type",
    "state",
];

/// `arn:aws:ec2:REGION:ACCOUNT:dedicated-host/ID` (`*` for hosts not yet allocated).
pub fn host_arn<S>(call: &Call<'_, S>, host_id: &str) -> String {
    format!(
        "arn:aws:ec2:{}:{}:dedicated-host/{host_id}",
        call.app.region(),
        call.caller.account_id
    )
}

pub async fn allocate<S: Store>(call: &Call<'_, S>) -> Reply {
    let root = call.input.root();
    let availability_zone = zone(call, &root)?;
    let capacity = capacity(&root)?;
    let quantity = root
        .optional_i32("Quantity", i32::MIN..=i32::MAX)?
        .unwrap_or(1);
    if !(1..=MAX_QUANTITY).contains(&quantity) {
        // UNCONFIRMED wording.
        return Err(Ec2Error::InvalidQuantity(format!(
            "The quantity {quantity} is not valid: allocate between 1 and {MAX_QUANTITY} hosts."
        ))
        .into());
    }
    let auto_placement = on_off(&root, "AutoPlacement", "off")?;
    let host_recovery = on_off(&root, "HostRecovery", "off")?;
    let host_maintenance = on_off(&root, "HostMaintenance", "on")?;
    for (name, what) in [
        ("OutpostArn", "Outposts"),
        ("AssetId.1", "Outpost hardware assets"),
        ("CpuOptions.AmdSevSnp", "CPU options"),
    ] {
        if call.input.optional_str(name).is_some() {
            return Err(Ec2Error::UnsupportedOperation(format!(
                "{what} are not supported by this server."
            ))
            .into());
        }
    }
    let client_token = root.optional_str("ClientToken").map(str::to_owned);
    if client_token.as_ref().is_some_and(|t| t.len() > 64) {
        return Err(Ec2Error::InvalidParameterValue(
            "Value for parameter clientToken is invalid. It must be at most 64 characters long."
                .to_owned(),
        )
        .into());
    }
    let tags = tags::specified(call, "dedicated-host", OtherTypes::Refuse)?;

    let arn = host_arn(call, "*");
    authorize(call, "ec2:AllocateHosts", &arn, request_tags(&tags)).await?;
    tags::authorize_on_create(call, &arn, &tags).await?;

    let quantity = quantity.unsigned_abs() as usize;
    let mut agent_keys = Vec::with_capacity(quantity);
    for _ in 0..quantity {
        agent_keys.push(new_agent_key(call)?);
    }
    let allocation = call
        .app
        .store()
        .allocate_hosts(
            account(call),
            NewHosts {
                availability_zone,
                capacity,
                auto_placement,
                host_recovery,
                host_maintenance,
                tags,
                agent_keys,
                client_token,
                fingerprint: instances::fingerprint(call),
            },
        )
        .await
        .map_err(from_store)?;
    Ok(respond(call, |x| {
        x.list("hostIdSet", "item", &allocation.hosts, |x, h| {
            x.text(&h.id);
        });
    }))
}

/// A new agent key: an `AKIA…` ID and a secret sealed under the master key as an IAM user's
/// is. The secret leaves this function sealed only; the operator reads it with the CLI.
fn new_agent_key<S>(call: &Call<'_, S>) -> Result<NewAccessKey, Ec2Error> {
    let access_key_id = store::ids::access_key_id();
    let secret = Zeroizing::new(new_secret_access_key().map_err(|_| {
        tracing::error!("reading the random source for a host agent's key");
        Ec2Error::Internal
    })?);
    let secret_ciphertext = call.app.seal_secret(&access_key_id, &secret).map_err(|_| {
        tracing::error!("sealing a host agent's key");
        Ec2Error::Internal
    })?;
    Ok(NewAccessKey {
        access_key_id,
        secret_ciphertext,
    })
}

/// `AvailabilityZone` or `AvailabilityZoneId`: the one zone this server has.
fn zone<S>(call: &Call<'_, S>, root: &Scope<'_>) -> Result<String, Ec2Error> {
    let region = call.app.region();
    let zone = network::availability_zone(region);
    let zone_id = zones::zone_id(&zone, region).unwrap_or_default();
    match (
        root.optional_str("AvailabilityZone"),
        root.optional_str("AvailabilityZoneId"),
    ) {
        (None, None) => Err(Ec2Error::MissingParameter(
            // UNCONFIRMED wording.
            "The request must contain the parameter availabilityZone or availabilityZoneId"
                .to_owned(),
        )),
        (Some(name), _) if name != zone => Err(Ec2Error::InvalidParameterValue(format!(
            // DescribeAvailabilityZones' wording (UNCONFIRMED there too).
            "Invalid availability zone: [{name}]"
        ))),
        (_, Some(id)) if id != zone_id => Err(Ec2Error::InvalidParameterValue(format!(
            "Invalid availability zone ID: [{id}]"
        ))),
        _ => Ok(zone),
    }
}

/// `InstanceType` (`m5.large`) or `InstanceFamily` (`m5`), exactly one.
fn capacity(root: &Scope<'_>) -> Result<HostCapacity, Ec2Error> {
    // UNCONFIRMED wordings throughout.
    match (
        root.optional_str("InstanceType"),
        root.optional_str("InstanceFamily"),
    ) {
        (Some(_), Some(_)) => Err(Ec2Error::InvalidParameterCombination(
            "You cannot specify both instanceType and instanceFamily.".to_owned(),
        )),
        (None, None) => Err(Ec2Error::MissingParameter(
            "The request must contain the parameter instanceType or instanceFamily".to_owned(),
        )),
        (Some(t), None) => match t.split_once('.') {
            Some((family, size)) if !family.is_empty() && !size.is_empty() => {
                Ok(HostCapacity::InstanceType(t.to_owned()))
            }
            _ => Err(Ec2Error::InvalidParameterValue(format!(
                "Invalid value '{t}' for instanceType."
            ))),
        },
        (None, Some(f)) if !f.is_empty() && !f.contains('.') => {
            Ok(HostCapacity::InstanceFamily(f.to_owned()))
        }
        (None, Some(f)) => Err(Ec2Error::InvalidParameterValue(format!(
            "Invalid value '{f}' for instanceFamily."
        ))),
    }
}

/// An `on`/`off` setting, `default` when absent.
fn on_off(root: &Scope<'_>, name: &str, default: &str) -> Result<String, Ec2Error> {
    match root.optional_str(name) {
        None => Ok(default.to_owned()),
        Some(v @ ("on" | "off")) => Ok(v.to_owned()),
        Some(v) => Err(Ec2Error::InvalidParameterValue(format!(
            // UNCONFIRMED wording.
            "Value ({v}) for parameter {} is invalid. Valid values are 'on' and 'off'.",
            lower_camel(name)
        ))),
    }
}

fn lower_camel(name: &str) -> String {
    let mut chars = name.chars();
    match chars.next() {
        Some(first) => first.to_ascii_lowercase().to_string() + chars.as_str(),
        None => String::new(),
    }
}

/// `HostId.N`: each the shape of a host ID, each once, in order.
fn requested_ids<S>(call: &Call<'_, S>) -> Result<Vec<String>, AwsError> {
    let mut seen = HashSet::new();
    let mut out = Vec::new();
    for id in call.input.list_str("HostId")? {
        ids::host_id(id)?;
        if seen.insert(id) {
            out.push(id.to_owned());
        }
    }
    Ok(out)
}

pub async fn describe<S: Store>(call: &Call<'_, S>) -> Reply {
    let requested = requested_ids(call)?;
    if call.input.optional_str("MaxResults").is_some() && !requested.is_empty() {
        // UNCONFIRMED wording, after DescribeInstances'.
        return Err(Ec2Error::InvalidParameterCombination(
            "The parameter hostSet cannot be used with the parameter maxResults".to_owned(),
        )
        .into());
    }
    let filters: Vec<Filter> = filters::parse(call.input)?;
    filters::check_names(&filters, FILTERS)?;
    authorize(call, "ec2:DescribeHosts", "*", Vec::new()).await?;
    let found = call
        .app
        .store()
        .hosts(account(call), &requested)
        .await
        .map_err(from_store)?;
    let missing: Vec<String> = requested
        .iter()
        .filter(|id| !found.iter().any(|h| h.id == **id))
        .cloned()
        .collect();
    if !missing.is_empty() {
        return Err(Ec2Error::HostNotFound(missing).into());
    }
    let selected: Vec<Host> = found
        .into_iter()
        .filter(|h| filters::all_match(&filters, |name| filter_values(h, name)))
        .collect();
    let (shown, next) =
        pages::page_of_at_most(call.input, selected, |h| h.id.as_str(), MAX_RESULTS)?;
    let region = call.app.region();
    Ok(respond(call, |x| {
        x.list("hostSet", "item", &shown, |x, h| host(x, h, region))
            .opt_elem("nextToken", next.as_deref());
    }))
}

/// A host's values for a DescribeHosts filter.
fn filter_values(host: &Host, name: &str) -> Vec<String> {
    let one = |s: &str| vec![s.to_owned()];
    match name {
        "auto-placement" => one(&host.auto_placement),
        "availability-zone" => one(&host.availability_zone),
        "client-token" => host.client_token.iter().cloned().collect(),
        "instance-type" => match &host.capacity {
            HostCapacity::InstanceType(t) => one(t),
            HostCapacity::InstanceFamily(_) => Vec::new(),
        },
        "state" => one(host.state.as_str()),
        "tag-key" => host.tags.iter().map(|t| t.key.clone()).collect(),
        name => match name.strip_prefix("tag:") {
            Some(key) => host
                .tags
                .iter()
                .filter(|t| t.key == key)
                .map(|t| t.value.clone())
                .collect(),
            // `host-reservation-id`: no host here has a reservation.
            None => Vec::new(),
        },
    }
}

/// One item of `hostSet`, its members in the order of botocore's `Host` shape.
fn host(x: &mut XmlWriter, h: &Host, region: &str) {
    x.elem("autoPlacement", &h.auto_placement)
        .elem("availabilityZone", &h.availability_zone)
        .opt_elem("clientToken", h.client_token.as_deref())
        .elem("hostId", &h.id)
        .node("hostProperties", |x| match &h.capacity {
            HostCapacity::InstanceType(t) => {
                x.elem("instanceType", t);
            }
            HostCapacity::InstanceFamily(f) => {
                x.elem("instanceFamily", f);
            }
        })
        .list("instances", "item", &h.instances, |x, i| {
            x.elem("instanceId", &i.instance_id)
                .elem("instanceType", &i.instance_type)
                .elem("ownerId", &h.account_id);
        })
        .elem("state", h.state.as_str())
        .elem("allocationTime", xml::timestamp(h.allocated))
        .opt_elem("releaseTime", h.released.map(xml::timestamp));
    if !h.tags.is_empty() {
        x.list("tagSet", "item", &h.tags, |x, t| {
            x.elem("key", &t.key).elem("value", &t.value);
        });
    }
    let multiple = matches!(h.capacity, HostCapacity::InstanceFamily(_));
    x.elem("hostRecovery", &h.host_recovery)
        .elem(
            "allowsMultipleInstanceTypes",
            if multiple { "on" } else { "off" },
        )
        .elem("ownerId", &h.account_id)
        .opt_elem(
            "availabilityZoneId",
            zones::zone_id(&h.availability_zone, region),
        )
        .elem("memberOfServiceLinkedResourceGroup", "false")
        .elem("hostMaintenance", &h.host_maintenance);
}

/// EC2's codes in ReleaseHosts' `unsuccessful` items carry the `Client.` prefix (the API
/// reference's example: `Client.InvalidHost.Occupied`; Terraform's provider matches
/// `Client.InvalidHostID.NotFound` there).
const OCCUPIED: &str = "Client.InvalidHost.Occupied";
const NOT_FOUND: &str = "Client.InvalidHostID.NotFound";

pub async fn release<S: Store>(call: &Call<'_, S>) -> Reply {
    let requested = requested_ids(call)?;
    if requested.is_empty() {
        return Err(call.input.root().missing("HostId").into());
    }
    // Each host is authorized, found or not, before the store says which exist; a found
    // host's tags are its `ec2:ResourceTag/…`.
    let found = call
        .app
        .store()
        .hosts(account(call), &requested)
        .await
        .map_err(from_store)?;
    for id in &requested {
        let conditions = found
            .iter()
            .find(|h| h.id == *id)
            .map(|h| tag_conditions(&h.tags))
            .unwrap_or_default();
        authorize(call, "ec2:ReleaseHosts", &host_arn(call, id), conditions).await?;
    }
    let outcomes = call
        .app
        .store()
        .release_hosts(account(call), &requested)
        .await
        .map_err(from_store)?;
    let released: Vec<&str> = outcomes
        .iter()
        .filter_map(|o| match o {
            HostRelease::Released(id) => Some(id.as_str()),
            _ => None,
        })
        .collect();
    let refused: Vec<(&str, &str, String)> = outcomes
        .iter()
        .filter_map(|o| match o {
            HostRelease::Released(_) => None,
            HostRelease::Occupied(id) => Some((
                id.as_str(),
                OCCUPIED,
                // The API reference's example message.
                format!("Dedicated host '{id}' cannot be released as it is occupied"),
            )),
            // UNCONFIRMED wording.
            HostRelease::NotFound(id) => Some((
                id.as_str(),
                NOT_FOUND,
                format!("The host ID '{id}' does not exist"),
            )),
        })
        .collect();
    Ok(respond(call, |x| {
        x.list("successful", "item", &released, |x, id| {
            x.text(id);
        })
        .list(
            "unsuccessful",
            "item",
            &refused,
            |x, (id, code, message)| {
                x.node("error", |x| {
                    x.elem("code", code).elem("message", message);
                })
                .elem("resourceId", id);
            },
        );
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use protocol::{Params, Protocol};

    fn params(pairs: &[(&str, &str)]) -> Params {
        let mut body = String::from("Action=AllocateHosts&Version=2016-11-15");
        for (k, v) in pairs {
            body.push_str(&format!("&{k}={v}"));
        }
        Params::decode(Protocol::Ec2Query, body.as_bytes(), 1 << 20).unwrap()
    }

    /// Request members, and the capacity they ask for or the code refusing them.
    type Case = (
        &'static [(&'static str, &'static str)],
        Result<HostCapacity, &'static str>,
    );

    #[test]
    fn a_host_takes_one_type_or_one_family() {
        let cases: [Case; 7] = [
            (
                &[("InstanceType", "m5.large")],
                Ok(HostCapacity::InstanceType("m5.large".into())),
            ),
            (
                &[("InstanceFamily", "m5")],
                Ok(HostCapacity::InstanceFamily("m5".into())),
            ),
            (
                &[("InstanceType", "m5.large"), ("InstanceFamily", "m5")],
                Err("InvalidParameterCombination"),
            ),
            (&[], Err("MissingParameter")),
            (&[("InstanceType", "m5")], Err("InvalidParameterValue")),
            (&[("InstanceType", ".large")], Err("InvalidParameterValue")),
            (
                &[("InstanceFamily", "m5.large")],
                Err("InvalidParameterValue"),
            ),
        ];
        for (pairs, expected) in cases {
            let p = params(pairs);
            let got = capacity(&p.root()).map_err(|e| e.code());
            assert_eq!(got, expected, "{pairs:?}");
        }
    }

    #[test]
    fn settings_are_on_or_off() {
        let p = params(&[("AutoPlacement", "on"), ("HostRecovery", "maybe")]);
        assert_eq!(on_off(&p.root(), "AutoPlacement", "off").unwrap(), "on");
        assert_eq!(on_off(&p.root(), "HostMaintenance", "on").unwrap(), "on");
        let err = on_off(&p.root(), "HostRecovery", "off").unwrap_err();
        assert_eq!(err.code(), "InvalidParameterValue");
        assert!(err.to_string().contains("parameter hostRecovery"), "{err}");
    }
}
