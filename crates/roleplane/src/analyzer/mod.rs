//! IAM Access Analyzer (restJson1, 2019-11-01, SigV4 service `access-analyzer`).
//!
//! Unlike the query services, an operation is named by its HTTP method and path: the restJson1
//! dialect routes on both through [`ROUTES`]; an operation is one row there plus one module.
//! Errors travel as [`RestJsonError`], written the restJson1 way.
//!
//! - [`validate_policy`]: `POST /policy/validation`, findings from the policy engine's validator
//!   and [`checks`]; [`span`] places each finding in the document's text.
//! - [`policy_generation`]: Start/Get/List/Cancel over the saved [`generation_jobs`], which
//!   run [`crate::generate`] over the audit log.

pub(crate) mod checks;
mod generation_jobs;
mod policy_generation;
pub(crate) mod span;
pub(crate) mod validate_policy;

use protocol::rest_json::{FieldError, Reason, RestJson, RestJsonError, RestRequest, Route};
use store::Store;

use crate::request::{App, Call, Service};

/// The SigV4 service name (and credential-scope service) of Access Analyzer.
pub const SERVICE: &str = "access-analyzer";

type Reply = Result<serde_json::Value, RestJsonError>;

/// Every operation served (see `iam::OPERATIONS`).
pub const OPERATIONS: &[&str] = &[
    VALIDATE_POLICY,
    START_POLICY_GENERATION,
    GET_GENERATED_POLICY,
    LIST_POLICY_GENERATIONS,
    CANCEL_POLICY_GENERATION,
];

pub(crate) const VALIDATE_POLICY: &str = "ValidatePolicy";
const START_POLICY_GENERATION: &str = "StartPolicyGeneration";
const GET_GENERATED_POLICY: &str = "GetGeneratedPolicy";
const LIST_POLICY_GENERATIONS: &str = "ListPolicyGenerations";
const CANCEL_POLICY_GENERATION: &str = "CancelPolicyGeneration";

/// Each operation's method and path.
pub(crate) const ROUTES: &[Route] = &[
    Route {
        method: "POST",
        path: "/policy/validation",
        operation: VALIDATE_POLICY,
    },
    Route {
        method: "PUT",
        path: "/policy/generation",
        operation: START_POLICY_GENERATION,
    },
    Route {
        method: "GET",
        path: "/policy/generation",
        operation: LIST_POLICY_GENERATIONS,
    },
    Route {
        method: "GET",
        path: "/policy/generation/{}",
        operation: GET_GENERATED_POLICY,
    },
    Route {
        method: "PUT",
        path: "/policy/generation/{}",
        operation: CANCEL_POLICY_GENERATION,
    },
];

/// Access Analyzer on the request pipeline.
pub struct AccessAnalyzer;

impl<S: Store> Service<S> for AccessAnalyzer {
    type Dialect = RestJson;
    const NAME: &'static str = SERVICE;

    fn dialect(&self) -> &RestJson {
        const DIALECT: RestJson = RestJson { routes: ROUTES };
        &DIALECT
    }

    fn operations(&self) -> &'static [&'static str] {
        OPERATIONS
    }

    async fn call(&self, call: &Call<'_, S, RestRequest>) -> Result<String, RestJsonError> {
        let request = call.input;
        let output = match call.operation {
            VALIDATE_POLICY => validate_policy::handle(call, request).await,
            START_POLICY_GENERATION => policy_generation::start(call, request).await,
            GET_GENERATED_POLICY => policy_generation::get(call, request).await,
            LIST_POLICY_GENERATIONS => policy_generation::list(call, request).await,
            CANCEL_POLICY_GENERATION => policy_generation::cancel(call, request).await,
            other => Err(RestJsonError::Validation {
                message: format!("The operation {other} is not served here"),
                reason: Reason::UnknownOperation,
                fields: Vec::new(),
            }),
        }?;
        Ok(output.to_string())
    }
}

/// Takes back the policy-generation jobs saved before this start (see `generation_jobs`).
pub async fn restore_jobs<S: Store>(app: &App<S>) -> Result<(), store::StoreError> {
    generation_jobs::restore(app.store(), app.audit().map(|audit| audit.log().clone())).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use protocol::rest_json::route;

    #[test]
    fn routes_by_method_and_path() {
        let at = |method, path| route(ROUTES, method, path);
        assert_eq!(at("POST", "/policy/validation"), Some(VALIDATE_POLICY));
        assert_eq!(at("POST", "/policy/validation/"), Some(VALIDATE_POLICY));
        assert_eq!(at("GET", "/policy/validation"), None);
        assert_eq!(at("POST", "/policy/validation/x"), None);
        assert_eq!(at("POST", "/"), None);
        assert_eq!(
            at("PUT", "/policy/generation"),
            Some(START_POLICY_GENERATION)
        );
        assert_eq!(
            at("GET", "/policy/generation"),
            Some(LIST_POLICY_GENERATIONS)
        );
        assert_eq!(
            at(
                "GET",
                "/policy/generation/c557dc4a-0338-4489-95dd-739014860ff9"
            ),
            Some(GET_GENERATED_POLICY)
        );
        assert_eq!(
            at("PUT", "/policy/generation/c557dc4a"),
            Some(CANCEL_POLICY_GENERATION)
        );
        assert_eq!(at("DELETE", "/policy/generation/c557dc4a"), None);
        assert_eq!(
            at("GET", "/policy/generation/"),
            Some(LIST_POLICY_GENERATIONS)
        );
    }

    #[test]
    fn every_route_is_a_listed_operation_and_every_operation_has_a_route() {
        for route in ROUTES {
            assert!(OPERATIONS.contains(&route.operation), "{}", route.operation);
        }
        for operation in OPERATIONS {
            assert!(
                ROUTES.iter().any(|r| r.operation == *operation),
                "{operation}"
            );
        }
    }
}
