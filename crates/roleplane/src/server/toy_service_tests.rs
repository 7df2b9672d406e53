//! The pipeline serves a service it has never heard of: a test-only dialect ("toy": the
//! operation in a header, the input as plain text) and a test-only service with one operation,
//! written here and nowhere else. The request is really signed, really authenticated against
//! the store, authorized by the policy engine, and audited; the pipeline code is untouched.

use std::net::SocketAddr;

use protocol::{AwsError, Dialect, Rendered};
use sigv4::{HttpRequest, SigningIdentity};
use store::{SqliteStore, Store};

use super::pipeline::{Arrival, serve};
use super::test_support::app_with_admin;
use crate::audit::{AuditedInput, CallRecord};
use crate::request::{App, Call, Service, authz};

const ACCOUNT: &str = "123456789012";
const KEY_ID: &str = "AKIATOYTOYTOYTOY0001";
const SECRET: &str = "toy/secret/toy/secret/toy/secret/toy/00";
const NOW: u64 = 1_800_000_000;

/// The toy protocol: `x-toy-operation` names the operation, the body is the input.
struct ToyDialect;

struct ToyInput(String);

impl AuditedInput for ToyInput {
    fn note(&self, operation: &str, record: &mut CallRecord) {
        record.json(operation, &serde_json::json!({ "text": self.0 }));
    }
}

impl Dialect for ToyDialect {
    type Input = ToyInput;
    type Error = AwsError;

    fn decode(&self, http: &HttpRequest<'_>) -> Result<(String, ToyInput), AwsError> {
        let operation = http
            .headers
            .iter()
            .find(|(name, _)| name.eq_ignore_ascii_case("x-toy-operation"))
            .map(|(_, value)| (*value).to_owned())
            .ok_or_else(|| AwsError::sender("NoOperation", 400, "name one"))?;
        let text = String::from_utf8(http.body.to_vec())
            .map_err(|_| AwsError::sender("NotText", 400, "send text"))?;
        Ok((operation, ToyInput(text)))
    }

    fn unknown_operation(&self, operation: &str) -> AwsError {
        AwsError::sender("UnknownToy", 400, format!("no toy operation {operation}"))
    }

    fn shared_shape(&self, error: &AwsError) -> AwsError {
        error.clone()
    }

    fn render(&self, result: Result<String, AwsError>, _request_id: &str) -> Rendered {
        let (status, body) = match result {
            Ok(body) => (200, body),
            Err(err) => (err.status, format!("{}: {}", err.code, err.message)),
        };
        Rendered {
            status,
            content_type: "text/plain",
            error_type: None,
            body,
        }
    }
}

/// One operation, `Shout`, authorized as `toy:Shout` on `*`.
struct Toy;

impl<S: Store> Service<S> for Toy {
    type Dialect = ToyDialect;
    const NAME: &'static str = "toy";

    fn dialect(&self) -> &ToyDialect {
        &ToyDialect
    }

    fn operations(&self) -> &'static [&'static str] {
        &["Shout"]
    }

    async fn call(&self, call: &Call<'_, S, ToyInput>) -> Result<String, AwsError> {
        authz::authorize(call, "toy:Shout", "*").await?;
        Ok(call.input.0.to_uppercase())
    }
}

async fn app() -> (App<SqliteStore>, tempfile::TempDir) {
    app_with_admin(ACCOUNT, (KEY_ID, SECRET)).await
}

/// Signs and serves one toy request as the admin.
async fn toy(app: &App<SqliteStore>, operation: &str, body: &str) -> Rendered {
    let unsigned = [("host", "localhost"), ("x-toy-operation", operation)];
    let request = HttpRequest {
        method: "POST",
        path: "/",
        query: "",
        headers: &unsigned,
        body: body.as_bytes(),
    };
    let who = SigningIdentity {
        access_key_id: KEY_ID,
        secret_access_key: SECRET,
        session_token: None,
        region: "us-east-1",
        service: "toy",
    };
    let added = sigv4::sign(&request, &who, NOW);
    let mut headers: Vec<(&str, &str)> = unsigned.to_vec();
    headers.extend(added.iter().map(|(n, v)| (n.as_str(), v.as_str())));
    let http = HttpRequest {
        headers: &headers,
        ..request
    };
    let claim = sigv4::parse(&http).unwrap();
    let arrival = Arrival {
        peer: SocketAddr::from(([127, 0, 0, 1], 40000)),
        now: NOW,
        request_id: "toy-request",
    };
    let mut record = CallRecord::off();
    serve(app, &Toy, &http, &claim, &arrival, &mut record).await
}

#[tokio::test]
async fn a_test_only_service_and_dialect_run_through_the_pipeline() {
    let (app, _dir) = app().await;
    let shout = toy(&app, "Shout", "hello").await;
    assert_eq!((shout.status, shout.body.as_str()), (200, "HELLO"));
    assert_eq!(shout.content_type, "text/plain");

    let unknown = toy(&app, "Whisper", "hello").await;
    assert_eq!(
        (unknown.status, unknown.body.as_str()),
        (400, "UnknownToy: no toy operation Whisper")
    );
}
