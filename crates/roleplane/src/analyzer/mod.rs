//! IAM Access Analyzer (restJson1, 2019-11-01, SigV4 service `access-analyzer`).
//!
//! Unlike the query services, an operation is named by its HTTP method and path, so [`handle`]
//! routes on both through [`ROUTES`]; an operation is one row there plus one module. Errors
//! travel as [`AnalyzerError`] and are written the restJson1 way: the code in the
//! `x-amzn-ErrorType` header, `{"message": …}` (plus `reason` and `fieldList` for
//! `ValidationException`) in the body.
//!
//! - [`validate_policy`]: `POST /policy/validation`, findings from the policy engine's validator
//!   and [`checks`]; [`span`] places each finding in the document's text.
//! - [`policy_generation`]: Start/Get/List/Cancel over the saved [`generation_jobs`], which
//!   run [`crate::generate`] over the audit log.

mod checks;
mod error;
mod generation_jobs;
mod policy_generation;
pub(crate) mod span;
mod validate_policy;

use std::net::SocketAddr;

use axum::body::Body;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use sigv4::{Authorization, HttpRequest};
use store::Store;

pub use error::{AnalyzerError, FieldError, Reason};

use crate::audit::CallRecord;
use crate::protocol::{AwsError, Params, Protocol, REQUEST_ID_HEADER};
use crate::server::api::Call;
use crate::server::{App, authenticate};

/// The SigV4 service name (and credential-scope service) of Access Analyzer.
pub const SERVICE: &str = "access-analyzer";

/// A request as an operation sees it: path segments decoded, query pairs, JSON body.
pub struct RestRequest<'a> {
    pub method: &'a str,
    pub path: &'a str,
    pub query: Vec<(String, String)>,
    pub body: &'a [u8],
}

impl RestRequest<'_> {
    pub fn from_http<'a>(http: &HttpRequest<'a>) -> RestRequest<'a> {
        RestRequest {
            method: http.method,
            path: http.path,
            query: form_urlencoded::parse(http.query.as_bytes())
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect(),
            body: http.body,
        }
    }

    /// A query-string member (`maxResults`, `nextToken`, …).
    pub fn query(&self, name: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

type Reply = Result<serde_json::Value, AnalyzerError>;

/// One operation: its method, its path (`{}` matches one segment), and its handler.
struct Route {
    method: &'static str,
    path: &'static str,
    operation: Operation,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Operation {
    ValidatePolicy,
    StartPolicyGeneration,
    GetGeneratedPolicy,
    ListPolicyGenerations,
    CancelPolicyGeneration,
}

impl Operation {
    fn name(self) -> &'static str {
        match self {
            Operation::ValidatePolicy => "ValidatePolicy",
            Operation::StartPolicyGeneration => "StartPolicyGeneration",
            Operation::GetGeneratedPolicy => "GetGeneratedPolicy",
            Operation::ListPolicyGenerations => "ListPolicyGenerations",
            Operation::CancelPolicyGeneration => "CancelPolicyGeneration",
        }
    }
}

/// Every operation served.
const ROUTES: &[Route] = &[
    Route {
        method: "POST",
        path: "/policy/validation",
        operation: Operation::ValidatePolicy,
    },
    Route {
        method: "PUT",
        path: "/policy/generation",
        operation: Operation::StartPolicyGeneration,
    },
    Route {
        method: "GET",
        path: "/policy/generation",
        operation: Operation::ListPolicyGenerations,
    },
    Route {
        method: "GET",
        path: "/policy/generation/{}",
        operation: Operation::GetGeneratedPolicy,
    },
    Route {
        method: "PUT",
        path: "/policy/generation/{}",
        operation: Operation::CancelPolicyGeneration,
    },
];

/// Every operation served (see `iam::OPERATIONS`): the routing table's.
pub fn operations() -> Vec<&'static str> {
    ROUTES.iter().map(|route| route.operation.name()).collect()
}

/// Takes back the policy-generation jobs saved before this start (see `generation_jobs`).
pub async fn restore_jobs<S: Store>(app: &App<S>) -> Result<(), store::StoreError> {
    generation_jobs::restore(app.store(), app.audit().map(|audit| audit.log().clone())).await
}

/// Serves a request signed for `access-analyzer`: routes, authenticates, runs the operation,
/// notes it in the call's audit record, and answers in restJson1.
pub async fn serve<S: Store>(
    app: &App<S>,
    peer: SocketAddr,
    http: &HttpRequest<'_>,
    claim: &Authorization<'_>,
    now: u64,
    request_id: &str,
    record: &mut CallRecord,
) -> Response {
    let request = RestRequest::from_http(http);
    let served = Served {
        app,
        peer,
        http,
        claim,
        now,
        request_id,
    };
    let result = served.run(&request, record).await;
    match &result {
        Ok(body) => record.succeeded(&body.to_string()),
        Err(error) => record.failed(&error.to_aws()),
    }
    respond(result, request_id)
}

/// One request on its way through [`serve`].
struct Served<'a, S> {
    app: &'a App<S>,
    peer: SocketAddr,
    http: &'a HttpRequest<'a>,
    claim: &'a Authorization<'a>,
    now: u64,
    request_id: &'a str,
}

impl<S: Store> Served<'_, S> {
    async fn run(&self, request: &RestRequest<'_>, record: &mut CallRecord) -> Reply {
        let operation = route(request.method, request.path)
            .ok_or_else(|| AnalyzerError::unknown_operation(request.method, request.path))?;
        if let Ok(body) = serde_json::from_slice::<serde_json::Value>(request.body) {
            record.json(operation.name(), &body);
        }
        let caller = authenticate(
            self.app,
            self.http,
            self.claim,
            self.now,
            Protocol::AwsQuery,
        )
        .await?;
        record.caller(&caller);
        // Authorization reads the caller, the clock and the peer; the query-style parameter
        // set only names the operation.
        let params = Params::from_pairs(
            Protocol::AwsQuery,
            vec![("Action".to_owned(), operation.name().to_owned())],
        )
        .map_err(AwsError::from)?;
        let call = Call {
            app: self.app,
            caller: &caller,
            params: &params,
            request_id: self.request_id,
            peer: self.peer,
            now: self.now,
        };
        match operation {
            Operation::ValidatePolicy => validate_policy::handle(&call, request).await,
            Operation::StartPolicyGeneration => policy_generation::start(&call, request).await,
            Operation::GetGeneratedPolicy => policy_generation::get(&call, request).await,
            Operation::ListPolicyGenerations => policy_generation::list(&call, request).await,
            Operation::CancelPolicyGeneration => policy_generation::cancel(&call, request).await,
        }
    }
}

fn route(method: &str, path: &str) -> Option<Operation> {
    let path = path
        .strip_suffix('/')
        .filter(|p| !p.is_empty())
        .unwrap_or(path);
    ROUTES
        .iter()
        .find(|r| r.method == method && path_matches(r.path, path))
        .map(|r| r.operation)
}

/// `pattern` segments are literal or `{}` (any one non-empty segment).
fn path_matches(pattern: &str, path: &str) -> bool {
    let mut want = pattern.split('/');
    let mut got = path.split('/');
    loop {
        match (want.next(), got.next()) {
            (None, None) => return true,
            (Some("{}"), Some(segment)) if !segment.is_empty() => {}
            (Some(w), Some(g)) if w == g => {}
            _ => return false,
        }
    }
}

/// The HTTP response for an operation's result, with the request ID header AWS sends.
pub fn respond(result: Reply, request_id: &str) -> Response {
    let (status, body, error_type) = match result {
        Ok(body) => (200, body.to_string(), None),
        Err(err) => (
            err.status(),
            err.body().to_string(),
            Some(err.code().to_owned()),
        ),
    };
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut response = (status, Body::from(body)).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    if let Some(code) = error_type
        && let Ok(value) = HeaderValue::from_str(&code)
    {
        headers.insert("x-amzn-ErrorType", value);
    }
    if let Ok(value) = HeaderValue::from_str(request_id) {
        headers.insert(REQUEST_ID_HEADER, value);
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_by_method_and_path() {
        assert_eq!(
            route("POST", "/policy/validation"),
            Some(Operation::ValidatePolicy)
        );
        assert_eq!(
            route("POST", "/policy/validation/"),
            Some(Operation::ValidatePolicy)
        );
        assert_eq!(route("GET", "/policy/validation"), None);
        assert_eq!(route("POST", "/policy/validation/x"), None);
        assert_eq!(route("POST", "/"), None);
        assert_eq!(
            route("PUT", "/policy/generation"),
            Some(Operation::StartPolicyGeneration)
        );
        assert_eq!(
            route("GET", "/policy/generation"),
            Some(Operation::ListPolicyGenerations)
        );
        assert_eq!(
            route(
                "GET",
                "/policy/generation/c557dc4a-0338-4489-95dd-739014860ff9"
            ),
            Some(Operation::GetGeneratedPolicy)
        );
        assert_eq!(
            route("PUT", "/policy/generation/c557dc4a"),
            Some(Operation::CancelPolicyGeneration)
        );
        assert_eq!(route("DELETE", "/policy/generation/c557dc4a"), None);
        assert!(path_matches(
            "/policy/generation/{}",
            "/policy/generation/abc"
        ));
        assert!(!path_matches(
            "/policy/generation/{}",
            "/policy/generation/"
        ));
    }
}
