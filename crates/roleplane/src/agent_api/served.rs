//! `POST /v1/hosts/{host}/served-credentials` `{"sets": [{instanceId, accessKeyId, delivery,
//! firstServed, lastServed, count}, …]}`: what the agent served since its last report. The
//! call's audit record carries the sets as its `requestParameters`; with the `AssumeRole`
//! records of their issue (session name = instance ID, the set's access key ID) the trail
//! tells which instance used which set, and how often it was handed out.
//!
//! Each set must name an instance placed on the caller's host (running or not: an instance may
//! stop between a serve and the report); anything else refuses the whole report, so a report
//! in the trail speaks only of the host's own instances.

use std::collections::BTreeSet;

use protocol::rest_json::{FieldError, RestJsonError, RestRequest};
use store::{InstanceQuery, Store};

use super::wire::{ServedAnswer, ServedReport, delivery};
use super::{Reply, body, is_instance_id, unavailable};
use crate::request::Call;

/// Sets in one report at most (an agent reports every minute; a host holds far fewer).
pub const MAX_SETS: usize = 1000;

pub async fn report<S: Store>(call: &Call<'_, S, RestRequest>, host: &str) -> Reply {
    let report: ServedReport = body(call.input)?;
    if report.sets.len() > MAX_SETS {
        return Err(RestJsonError::fields(vec![FieldError {
            name: "sets".into(),
            message: format!(
                "Value at 'sets' failed to satisfy constraint: Member must have length less than or equal to {MAX_SETS}"
            ),
        }]));
    }
    let mut problems = Vec::new();
    for (i, set) in report.sets.iter().enumerate() {
        let at = |member: &str, what: &str| FieldError {
            name: format!("sets.{}.{member}", i + 1),
            message: format!("Value at 'sets.{}.{member}' {what}", i + 1),
        };
        if !is_instance_id(&set.instance_id) {
            problems.push(at("instanceId", "is not an instance ID"));
        }
        let key_ok = set.access_key_id.len() == 20
            && set.access_key_id.starts_with("ASIA")
            && set.access_key_id.bytes().all(|b| b.is_ascii_alphanumeric());
        if !key_ok {
            problems.push(at("accessKeyId", "is not a temporary access key ID"));
        }
        if delivery(&set.delivery).is_none() {
            problems.push(at("delivery", "must be 1.0 or 2.0"));
        }
        if set.count == 0 || set.first_served > set.last_served {
            problems.push(at(
                "count",
                "must count at least one serve between firstServed and lastServed",
            ));
        }
    }
    if !problems.is_empty() {
        return Err(RestJsonError::fields(problems));
    }
    let named: BTreeSet<&str> = report.sets.iter().map(|s| s.instance_id.as_str()).collect();
    if !named.is_empty() {
        let query = InstanceQuery {
            ids: named.iter().map(|id| (*id).to_owned()).collect(),
            ..InstanceQuery::default()
        };
        let found = call
            .app
            .store()
            .instances(&call.caller.account_id, &query)
            .await
            .map_err(|e| unavailable(&format!("reading the reported instances: {e}")))?;
        let on_host: BTreeSet<&str> = found
            .iter()
            .filter(|i| i.host_id.as_deref() == Some(host))
            .map(|i| i.id.as_str())
            .collect();
        let strangers: Vec<FieldError> = named
            .difference(&on_host)
            .map(|id| FieldError {
                name: "sets".into(),
                message: format!("Instance {id} was never placed on host {host}"),
            })
            .collect();
        if !strangers.is_empty() {
            return Err(RestJsonError::fields(strangers));
        }
    }
    let answer = ServedAnswer {
        recorded: report.sets.len(),
    };
    serde_json::to_value(answer).map_err(|e| unavailable(&e.to_string()))
}
