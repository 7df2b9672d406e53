//! The agent API (decision 0028): roleplane's own service on the API port for the metadata
//! agents of Dedicated Hosts (`roleplane agent`, [`crate::agent`]). SigV4 service name
//! `roleplane-agent` in the credential scope, versioned paths (`/v1/…`), JSON bodies in the
//! restJson1 dialect; the only service a host's agent credential may call, and only for its
//! own host (the path names the host, which must be the caller's).
//!
//! - [`instances`]: `GET /v1/hosts/{host}/instances`, the host's running instances with all
//!   their metadata, role and signed identity document; a long poll on changes.
//! - [`credentials`]: `POST /v1/hosts/{host}/credentials`, an instance's current role
//!   credential set, issued (and recorded as EC2's `AssumeRole`) by the control plane.
//! - [`served`]: `POST /v1/hosts/{host}/served-credentials`, which sets the agent served to
//!   which instance, kept in the audit trail.
//! - [`wire`]: the documents, shared with the agent.
//!
//! Everything is answered from the metadata service's in-memory instances
//! (`metadata::InstanceMetadata`), which every `serve` runs.

pub mod credentials;
pub mod instances;
pub mod served;
pub mod wire;

use protocol::AwsError;
use protocol::rest_json::{Reason, RestJson, RestJsonError, RestRequest, Route};
use store::Store;

use crate::request::{Call, Callers, Identity, Service};

/// The SigV4 service name (credential-scope service) of the agent API.
pub const SERVICE: &str = "roleplane-agent";

/// Every operation served.
pub const OPERATIONS: &[&str] = &[
    LIST_HOST_INSTANCES,
    GET_INSTANCE_CREDENTIALS,
    REPORT_SERVED_CREDENTIALS,
];

pub const LIST_HOST_INSTANCES: &str = "ListHostInstances";
pub const GET_INSTANCE_CREDENTIALS: &str = "GetInstanceCredentials";
pub const REPORT_SERVED_CREDENTIALS: &str = "ReportServedCredentials";

const ROUTES: &[Route] = &[
    Route {
        method: "GET",
        path: "/v1/hosts/{}/instances",
        operation: LIST_HOST_INSTANCES,
    },
    Route {
        method: "POST",
        path: "/v1/hosts/{}/credentials",
        operation: GET_INSTANCE_CREDENTIALS,
    },
    Route {
        method: "POST",
        path: "/v1/hosts/{}/served-credentials",
        operation: REPORT_SERVED_CREDENTIALS,
    },
];

/// The agent API on the request pipeline.
pub struct AgentApi;

type Reply = Result<serde_json::Value, RestJsonError>;

impl<S: Store> Service<S> for AgentApi {
    type Dialect = RestJson;
    const NAME: &'static str = SERVICE;
    const CALLERS: Callers = Callers::HostAgents;

    fn dialect(&self) -> &RestJson {
        const DIALECT: RestJson = RestJson { routes: ROUTES };
        &DIALECT
    }

    fn operations(&self) -> &'static [&'static str] {
        OPERATIONS
    }

    async fn call(&self, call: &Call<'_, S, RestRequest>) -> Result<String, RestJsonError> {
        let host = own_host(call)?;
        let Some(metadata) = call.app.instance_metadata() else {
            return Err(unavailable("the metadata service is not running"));
        };
        let output = match call.operation {
            LIST_HOST_INSTANCES => instances::list(call, &metadata, host).await,
            GET_INSTANCE_CREDENTIALS => credentials::get(call, &metadata, host).await,
            REPORT_SERVED_CREDENTIALS => served::report(call, host).await,
            other => Err(RestJsonError::Validation {
                message: format!("The operation {other} is not served here"),
                reason: Reason::UnknownOperation,
                fields: Vec::new(),
            }),
        }?;
        Ok(output.to_string())
    }
}

/// The host the path names (`/v1/hosts/{host}/…`), which must be the one the caller's agent
/// credential is bound to: an agent sees its own host and nothing else.
fn own_host<'c, S>(call: &'c Call<'_, S, RestRequest>) -> Result<&'c str, RestJsonError> {
    let named = call.input.path.split('/').nth(3).unwrap_or_default();
    let Identity::HostAgent(agent) = &call.caller.identity else {
        // The pipeline lets only host agents this far (`Callers::HostAgents`).
        let why = "only a host's agent credential may call the agent API";
        return Err(denied(call, named, why));
    };
    if named != agent.host_id {
        let why = format!(
            "its credential is bound to host {} and serves no other",
            agent.host_id
        );
        return Err(denied(call, named, &why));
    }
    Ok(agent.host_id.as_str())
}

fn denied<S, I>(call: &Call<'_, S, I>, host: &str, why: &str) -> RestJsonError {
    AwsError::access_denied(format!(
        "User: {} is not authorized to perform: {SERVICE}:{} on host {host} because {why}",
        call.caller.principal.arn(),
        call.operation,
    ))
    .into()
}

/// A passing failure of the control plane (the store, the signer): the agent tries again,
/// here or at another replica.
fn unavailable(why: &str) -> RestJsonError {
    AwsError::receiver("ServiceUnavailable", 503, why.to_owned()).into()
}

/// A member of the request that does not read.
fn invalid(message: String) -> RestJsonError {
    RestJsonError::cannot_parse(message)
}

/// The request's JSON body as `T`.
fn body<T: serde::de::DeserializeOwned>(request: &RestRequest) -> Result<T, RestJsonError> {
    serde_json::from_slice(&request.body).map_err(|e| {
        invalid(format!(
            "The request body is not the operation's input: {e}"
        ))
    })
}

/// `i-` and 8 or 17 hex digits.
fn is_instance_id(id: &str) -> bool {
    id.strip_prefix("i-").is_some_and(|hex| {
        matches!(hex.len(), 8 | 17) && hex.bytes().all(|b| b.is_ascii_hexdigit())
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use protocol::rest_json::route;

    #[test]
    fn routes_are_versioned_paths_under_the_host() {
        fn at(method: &str, path: &str) -> Option<&'static str> {
            route(ROUTES, method, path)
        }
        let host = "/v1/hosts/h-0123456789abcdef0";
        assert_eq!(
            at("GET", &format!("{host}/instances")),
            Some(LIST_HOST_INSTANCES)
        );
        assert_eq!(
            at("POST", &format!("{host}/credentials")),
            Some(GET_INSTANCE_CREDENTIALS)
        );
        assert_eq!(
            at("POST", &format!("{host}/served-credentials")),
            Some(REPORT_SERVED_CREDENTIALS)
        );
        assert_eq!(at("GET", &format!("{host}/credentials")), None);
        assert_eq!(at("GET", "/v2/hosts/h-1/instances"), None);
        assert_eq!(at("GET", "/v1/hosts//instances"), None);
    }

    #[test]
    fn instance_ids_are_checked_before_any_lookup() {
        for (id, ok) in [
            ("i-0123456789abcdef0", true),
            ("i-01234567", true),
            ("i-0123456789abcdef", false),
            ("i-0123456789abcdefg", false),
            ("h-0123456789abcdef0", false),
            ("", false),
        ] {
            assert_eq!(is_instance_id(id), ok, "{id}");
        }
    }
}
