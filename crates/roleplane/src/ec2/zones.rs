//! DescribeAvailabilityZones: the one zone instances launch in (`network::availability_zone`).

use store::Store;

use super::access::authorize;
use super::error::Ec2Error;
use super::filters;
use super::network::{self, zones};
use super::{Reply, respond};
use crate::request::Call;

const FILTERS: &[&str] = &[
    "zone-name",
    "zone-id",
    "zone-type",
    "region-name",
    "group-name",
    "group-long-name",
    "network-border-group",
    "opt-in-status",
    "state",
];

pub async fn describe<S: Store>(call: &Call<'_, S>) -> Reply {
    let names = call.input.list_str("ZoneName")?;
    let ids = call.input.list_str("ZoneId")?;
    call.input.optional_bool("AllAvailabilityZones")?;
    let filters = filters::parse(call.input)?;
    filters::check_names(&filters, FILTERS)?;
    authorize(call, "ec2:DescribeAvailabilityZones", "*", Vec::new()).await?;
    let region = call.app.region();
    let zone = network::availability_zone(region);
    let zone_id = zones::zone_id(&zone, region).unwrap_or_default();
    if let Some(unknown) = names.iter().find(|n| **n != zone) {
        // UNCONFIRMED wording.
        return Err(Ec2Error::InvalidParameterValue(format!(
            "Invalid availability zone: [{unknown}]"
        ))
        .into());
    }
    if let Some(unknown) = ids.iter().find(|i| **i != zone_id) {
        // UNCONFIRMED wording.
        return Err(Ec2Error::InvalidParameterValue(format!(
            "Invalid availability zone ID: [{unknown}]"
        ))
        .into());
    }
    let shown = filters::all_match(&filters, |name| {
        let value = match name {
            "zone-name" => zone.as_str(),
            "zone-id" => zone_id.as_str(),
            "zone-type" => "availability-zone",
            "region-name" | "group-name" | "network-border-group" => region,
            "opt-in-status" => "opt-in-not-required",
            "state" => "available",
            _ => return Vec::new(),
        };
        vec![value.to_owned()]
    });
    Ok(respond(call, |x| {
        x.list(
            "availabilityZoneInfo",
            "item",
            shown.then_some(()),
            |x, ()| {
                x.elem("zoneName", &zone)
                    .elem("zoneState", "available")
                    .elem("regionName", region)
                    .empty("messageSet")
                    .elem("zoneId", &zone_id)
                    .elem("optInStatus", "opt-in-not-required")
                    .elem("groupName", region)
                    .elem("networkBorderGroup", region)
                    .elem("zoneType", "availability-zone");
            },
        );
    }))
}
