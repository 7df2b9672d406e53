//! `POST /v1/hosts/{host}/credentials` `{"instanceId": …, "delivery": "1.0"|"2.0"}`: the
//! instance's current role credential set, exactly as this server's own metadata service would
//! serve it (`InstanceMetadata::role_credentials`: one set per instance, role and delivery,
//! replaced at the refresh age, each new set recorded as EC2's `AssumeRole` before it leaves).
//! The call itself is recorded under the agent (`userIdentity` `HostAgent`), with the set's
//! access key ID as its response element: the trail names who fetched which set.
//!
//! Only an instance running on the caller's host is answered; any other (another host's,
//! another account's, stopped, unknown) is `InvalidInstanceID.NotFound`, the same answer
//! whether it exists or not.

use std::sync::Arc;
use std::time::UNIX_EPOCH;

use imds::CredentialsResult;
use protocol::AwsError;
use protocol::rest_json::RestRequest;
use store::Store;

use super::wire::{CredentialsRequest, InstanceCredentials, delivery};
use super::{Reply, body, invalid, is_instance_id, unavailable};
use crate::metadata::InstanceMetadata;
use crate::request::Call;

pub async fn get<S: Store>(
    call: &Call<'_, S, RestRequest>,
    metadata: &Arc<InstanceMetadata<S>>,
    host: &str,
) -> Reply {
    let request: CredentialsRequest = body(call.input)?;
    if !is_instance_id(&request.instance_id) {
        return Err(invalid(format!(
            "instanceId {:?} is not an instance ID",
            request.instance_id
        )));
    }
    let Some(delivery) = delivery(&request.delivery) else {
        return Err(invalid(format!(
            "delivery must be 1.0 or 2.0, not {:?}",
            request.delivery
        )));
    };
    let on_host = metadata
        .snapshot()
        .placement(&request.instance_id)
        .is_some_and(|p| {
            p.account_id == call.caller.account_id && p.host_id.as_deref() == Some(host)
        });
    if !on_host {
        return Err(AwsError::sender(
            "InvalidInstanceID.NotFound",
            404,
            format!(
                "The instance ID '{}' is not running on host {host}",
                request.instance_id
            ),
        )
        .into());
    }
    let result = metadata
        .role_credentials(&request.instance_id, delivery)
        .await
        .map_err(|e| unavailable(&format!("issuing the instance's credentials: {e}")))?;
    let refresh = i64::try_from(metadata.rotation().refresh_after.as_secs()).unwrap_or(i64::MAX);
    let answer = match result {
        CredentialsResult::Issued(set) => {
            let issued_at = secs(set.last_updated);
            let expiration = secs(set.expiration);
            InstanceCredentials::Issued {
                access_key_id: set.access_key_id.clone(),
                secret_access_key: set.secret_access_key.clone(),
                token: set.token.clone(),
                issued_at,
                expiration,
                refresh_at: issued_at.saturating_add(refresh).min(expiration),
            }
        }
        CredentialsResult::AssumeRoleUnauthorized {
            role_name,
            last_updated,
        } => InstanceCredentials::AssumeRoleUnauthorized {
            role_name,
            last_updated: secs(last_updated),
        },
        CredentialsResult::NoRole => InstanceCredentials::NoRole,
    };
    serde_json::to_value(answer).map_err(|e| unavailable(&e.to_string()))
}

fn secs(at: std::time::SystemTime) -> i64 {
    at.duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}
