//! restJson1 (Access Analyzer): the operation named by method and path, members in the path,
//! the query string and a JSON body; errors in `x-amzn-ErrorType` and `{"message": …}`.

mod error;

use serde_json::Value;
use sigv4::HttpRequest;

pub use error::{FieldError, Reason, RestJsonError};

use crate::AwsError;
use crate::dialect::{Dialect, Rendered};

/// One operation of a restJson1 service: its method and its path (`{}` matches one segment).
pub struct Route {
    pub method: &'static str,
    pub path: &'static str,
    pub operation: &'static str,
}

/// A restJson1 service's dialect: its routing table.
pub struct RestJson {
    pub routes: &'static [Route],
}

/// A request as an operation sees it: the path, the query pairs, the JSON body's bytes.
pub struct RestRequest {
    pub method: String,
    pub path: String,
    pub query: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl RestRequest {
    pub fn from_http(http: &HttpRequest<'_>) -> RestRequest {
        RestRequest {
            method: http.method.to_owned(),
            path: http.path.to_owned(),
            query: form_urlencoded::parse(http.query.as_bytes())
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect(),
            body: http.body.to_vec(),
        }
    }

    /// A query-string member (`maxResults`, `nextToken`, …).
    pub fn query(&self, name: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// The body as JSON, when it is JSON (what the audit record keeps).
    pub fn json_body(&self) -> Option<Value> {
        serde_json::from_slice(&self.body).ok()
    }
}

impl Dialect for RestJson {
    type Input = RestRequest;
    type Error = RestJsonError;

    fn decode(&self, http: &HttpRequest<'_>) -> Result<(String, RestRequest), RestJsonError> {
        let operation = route(self.routes, http.method, http.path)
            .ok_or_else(|| RestJsonError::unknown_operation(http.method, http.path))?;
        Ok((operation.to_owned(), RestRequest::from_http(http)))
    }

    fn unknown_operation(&self, operation: &str) -> RestJsonError {
        RestJsonError::Validation {
            message: format!("The operation {operation} is not served here"),
            reason: Reason::UnknownOperation,
            fields: Vec::new(),
        }
    }

    fn shared_shape(&self, error: &RestJsonError) -> AwsError {
        error.to_aws()
    }

    fn render(&self, result: Result<String, RestJsonError>, _request_id: &str) -> Rendered {
        let (status, body, error_type) = match result {
            Ok(body) => (200, body, None),
            Err(err) => (
                err.status(),
                err.body().to_string(),
                Some(err.code().to_owned()),
            ),
        };
        Rendered {
            status,
            content_type: "application/json",
            error_type,
            body,
        }
    }
}

/// The operation of the first route matching `method` and `path` (a trailing `/` ignored).
pub fn route(routes: &[Route], method: &str, path: &str) -> Option<&'static str> {
    let path = path
        .strip_suffix('/')
        .filter(|p| !p.is_empty())
        .unwrap_or(path);
    routes
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
