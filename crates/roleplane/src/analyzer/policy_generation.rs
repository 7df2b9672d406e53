//! The policy generation operations over [`generation_jobs`](super::generation_jobs):
//! - `PUT /policy/generation` StartPolicyGeneration `{policyGenerationDetails: {principalArn},
//!   cloudTrailDetails: {trails, accessRole, startTime, endTime?}, clientToken?}` → `{jobId}`;
//! - `GET /policy/generation/{jobId}?includeResourcePlaceholders=&includeServiceLevelTemplate=`
//!   GetGeneratedPolicy → `{jobDetails, generatedPolicyResult}`;
//! - `GET /policy/generation?principalArn=&maxResults=&nextToken=` ListPolicyGenerations;
//! - `PUT /policy/generation/{jobId}` CancelPolicyGeneration → `{}`.
//!
//! Our one audit trail serves every trail ARN a request names, in every region, and the
//! service role (`accessRole`) is not assumed: the server reads its own log.
//! `includeServiceLevelTemplate` is accepted and changes nothing: every service roleplane
//! serves gets action-level statements.

use policy::Arn;
use protocol::AwsError;
use serde_json::{Map, Value, json};
use store::Store;
use time::OffsetDateTime;
use time::format_description::well_known::{Iso8601, Rfc3339};

use super::generation_jobs::{self, Job, Request};
use super::{FieldError, Reply, RestJsonError, RestRequest};
use crate::generate::output::{Properties, generated_policy, timestamp};
use crate::generate::{Directory, Options, Window, is_principal_arn, render};
use crate::request::Call;
use crate::request::authz::authorize;

/// The longest window Access Analyzer reads.
const MAX_WINDOW: time::Duration = time::Duration::days(90);

pub async fn start<S: Store>(call: &Call<'_, S, RestRequest>, request: &RestRequest) -> Reply {
    let body = object(&request.body)?;
    let mut errors = Vec::new();
    let principal = body
        .get("policyGenerationDetails")
        .and_then(|d| d.get("principalArn"));
    let principal = match principal {
        Some(Value::String(arn)) if is_principal_arn(arn) => Some(arn.clone()),
        Some(Value::String(arn)) => {
            errors.push(field(
                "policyGenerationDetails.principalArn",
                format!(
                    "Value '{arn}' at 'policyGenerationDetails.principalArn' failed to satisfy constraint: Member must satisfy regular expression pattern: arn:[^:]*:iam::[^:]*:(role|user)/.{{1,576}}"
                ),
            ));
            None
        }
        _ => {
            errors.push(null_field("policyGenerationDetails.principalArn"));
            None
        }
    };
    let details = body.get("cloudTrailDetails");
    let trails = match details.and_then(|d| d.get("trails")) {
        Some(Value::Array(trails)) => trails_properties(trails, &mut errors),
        _ => {
            errors.push(null_field("cloudTrailDetails.trails"));
            Value::Array(Vec::new())
        }
    };
    if !matches!(
        details.and_then(|d| d.get("accessRole")),
        Some(Value::String(_))
    ) {
        errors.push(null_field("cloudTrailDetails.accessRole"));
    }
    let start_time = time_member(details, "startTime", &mut errors);
    if details.and_then(|d| d.get("startTime")).is_none() {
        errors.push(null_field("cloudTrailDetails.startTime"));
    }
    let end_time = time_member(details, "endTime", &mut errors);
    let client_token = match body.get("clientToken") {
        Some(Value::String(token)) if !token.is_empty() => Some(token.clone()),
        _ => None,
    };
    let (Some(principal), Some(start_time), true) = (principal, start_time, errors.is_empty())
    else {
        return Err(RestJsonError::fields(errors));
    };
    let now = OffsetDateTime::now_utc();
    let end_time = end_time.unwrap_or(now);
    // UNCONFIRMED: AWS's wording for a reversed or too-long window.
    if end_time < start_time {
        return Err(other("The endTime must be after the startTime."));
    }
    if end_time - start_time > MAX_WINDOW {
        return Err(other(
            "The time range between startTime and endTime must be 90 days or less.",
        ));
    }
    authorize(call, "access-analyzer:StartPolicyGeneration", "*").await?;

    let account = call.caller.account_id.clone();
    let log = match call.app.audit() {
        _ if Arn::parse(&principal).map(|arn| arn.account) != Some(account.as_str()) => Err((
            "AUTHORIZATION_ERROR",
            format!("The principal {principal} is not in account {account}."),
        )),
        Some(audit) => Ok(audit.log().clone()),
        None => Err((
            "SERVICE_ERROR",
            "The audit trail is not enabled on this server.".to_owned(),
        )),
    };
    let job = generation_jobs::start(
        call.app.store(),
        Request {
            account,
            principal,
            window: Window {
                start_ms: epoch_ms(start_time),
                end_ms: epoch_ms(end_time),
            },
            trails,
            client_token,
        },
        log,
    )
    .await
    .map_err(store_failure)?;
    Ok(json!({ "jobId": job.id }))
}

pub async fn get<S: Store>(call: &Call<'_, S, RestRequest>, request: &RestRequest) -> Reply {
    let mut errors = Vec::new();
    let placeholders = flag(request, "includeResourcePlaceholders", &mut errors);
    flag(request, "includeServiceLevelTemplate", &mut errors);
    if !errors.is_empty() {
        return Err(RestJsonError::fields(errors));
    }
    authorize(call, "access-analyzer:GetGeneratedPolicy", "*").await?;
    let job = job(call, request)?;
    let log = call.app.audit().map(|audit| audit.log());
    let activity = job.activity(log).await.map_err(|error| {
        tracing::error!(%error, job = %job.id, "recomputing a restored policy generation");
        internal("The generated policy could not be recomputed.")
    })?;
    let data_events = activity.as_ref().map_or(0, |a| a.data_events());
    let policies = match activity {
        Some(activity) => {
            let directory = Directory::load(
                call.app.store(),
                activity.touched(),
                activity.passed_roles(),
            )
            .await;
            let options = Options {
                resource_placeholders: placeholders,
            };
            let documents = render(&activity, options, &directory).map_err(|error| {
                tracing::error!(%error, job = %job.id, "generated policy refused by the engine");
                internal("The generated policy could not be validated.")
            })?;
            Some(documents)
        }
        None => None,
    };
    let properties = Properties {
        principal_arn: &job.request.principal,
        window: job.request.window,
        trails: &job.request.trails,
        is_complete: policies.is_some(),
        data_events,
    };
    Ok(generated_policy(
        &job.details(),
        &properties,
        policies.as_deref(),
    ))
}

pub async fn list<S: Store>(call: &Call<'_, S, RestRequest>, request: &RestRequest) -> Reply {
    let mut errors = Vec::new();
    let principal = request.query("principalArn");
    if let Some(arn) = principal
        && !is_principal_arn(arn)
    {
        errors.push(field(
            "principalArn",
            format!("Value '{arn}' at 'principalArn' failed to satisfy constraint: Member must satisfy regular expression pattern: arn:[^:]*:iam::[^:]*:(role|user)/.{{1,576}}"),
        ));
    }
    let max_results = match request.query("maxResults") {
        None => None,
        Some(text) => match text.parse::<usize>() {
            Ok(n) if n >= 1 => Some(n),
            _ => {
                errors.push(field(
                    "maxResults",
                    format!("Value '{text}' at 'maxResults' failed to satisfy constraint: Member must have value greater than or equal to 1"),
                ));
                None
            }
        },
    };
    let start = match request.query("nextToken") {
        None => 0,
        Some(token) => token
            .parse::<usize>()
            .map_err(|_| other("Invalid nextToken."))?,
    };
    if !errors.is_empty() {
        return Err(RestJsonError::fields(errors));
    }
    authorize(call, "access-analyzer:ListPolicyGenerations", "*").await?;
    let jobs = generation_jobs::list(&call.caller.account_id, principal);
    let end = max_results
        .map_or(jobs.len(), |n| start.saturating_add(n))
        .min(jobs.len());
    let page: Vec<Value> = jobs
        .get(start..end)
        .unwrap_or_default()
        .iter()
        .map(|job| summary(job))
        .collect();
    let mut output = json!({ "policyGenerations": page });
    if end < jobs.len() {
        output["nextToken"] = Value::String(end.to_string());
    }
    Ok(output)
}

pub async fn cancel<S: Store>(call: &Call<'_, S, RestRequest>, request: &RestRequest) -> Reply {
    authorize(call, "access-analyzer:CancelPolicyGeneration", "*").await?;
    job(call, request)?
        .cancel(call.app.store())
        .await
        .map_err(store_failure)?;
    Ok(json!({}))
}

fn internal(message: &str) -> RestJsonError {
    RestJsonError::from(AwsError::receiver("InternalServerException", 500, message))
}

/// Saving a job failed: the caller is told nothing was done.
fn store_failure(error: store::StoreError) -> RestJsonError {
    tracing::error!(%error, "saving a policy generation job");
    internal("The request could not be completed. Try again.")
}

/// `PolicyGeneration`, a list entry.
fn summary(job: &Job) -> Value {
    let details = job.details();
    let mut entry = json!({
        "jobId": job.id,
        "principalArn": job.request.principal,
        "status": details.status.as_str(),
        "startedOn": timestamp(job.started_on),
    });
    if let Some(done) = details.completed_on {
        entry["completedOn"] = timestamp(done).into();
    }
    entry
}

/// The job the path names (`/policy/generation/{jobId}`), in the caller's account.
fn job<S>(
    call: &Call<'_, S, RestRequest>,
    request: &RestRequest,
) -> Result<std::sync::Arc<Job>, RestJsonError> {
    let id = request
        .path
        .trim_end_matches('/')
        .rsplit('/')
        .next()
        .unwrap_or_default();
    let id = percent_decode(id);
    generation_jobs::find(&call.caller.account_id, &id).ok_or_else(|| {
        // UNCONFIRMED: the model lists no not-found error for these operations; this is the
        // service's general one.
        RestJsonError::from(AwsError::sender(
            "ResourceNotFoundException",
            404,
            format!("Could not find a policy generation job with id {id}."),
        ))
    })
}

fn percent_decode(segment: &str) -> String {
    form_urlencoded::parse(format!("x={segment}").as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default()
}

/// `trails[]` echoed as `trailProperties[]`.
fn trails_properties(trails: &[Value], errors: &mut Vec<FieldError>) -> Value {
    let mut out = Vec::with_capacity(trails.len());
    for (i, trail) in trails.iter().enumerate() {
        let Some(arn) = trail.get("cloudTrailArn").and_then(Value::as_str) else {
            errors.push(null_field(&format!(
                "cloudTrailDetails.trails.{}.member.cloudTrailArn",
                i + 1
            )));
            continue;
        };
        let regions = trail
            .get("regions")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        let all_regions = trail
            .get("allRegions")
            .and_then(Value::as_bool)
            .unwrap_or(false);
        out.push(json!({"cloudTrailArn": arn, "regions": regions, "allRegions": all_regions}));
    }
    Value::Array(out)
}

/// An ISO 8601 timestamp (the model's format), or epoch seconds as some clients send.
fn time_member(
    details: Option<&Value>,
    member: &str,
    errors: &mut Vec<FieldError>,
) -> Option<OffsetDateTime> {
    let value = details?.get(member)?;
    let parsed = match value {
        Value::String(text) => OffsetDateTime::parse(text, &Rfc3339)
            .or_else(|_| OffsetDateTime::parse(text, &Iso8601::DEFAULT))
            .ok(),
        Value::Number(n) => n
            .as_f64()
            .and_then(|s| OffsetDateTime::from_unix_timestamp_nanos((s * 1e9) as i128).ok()),
        _ => None,
    };
    if parsed.is_none() {
        errors.push(field(
            &format!("cloudTrailDetails.{member}"),
            format!("Value at 'cloudTrailDetails.{member}' failed to satisfy constraint: Member must be a timestamp"),
        ));
    }
    parsed
}

/// A boolean query member; absent is `false`.
fn flag(request: &RestRequest, name: &str, errors: &mut Vec<FieldError>) -> bool {
    match request.query(name) {
        None | Some("false") => false,
        Some("true") => true,
        Some(other) => {
            errors.push(field(
                name,
                format!("Value '{other}' at '{name}' failed to satisfy constraint: Member must be a boolean"),
            ));
            false
        }
    }
}

fn object(body: &[u8]) -> Result<Map<String, Value>, RestJsonError> {
    if body.is_empty() {
        return Ok(Map::new());
    }
    serde_json::from_slice(body)
        .map_err(|_| RestJsonError::cannot_parse("Request body is not a valid JSON object"))
}

fn field(name: &str, message: String) -> FieldError {
    FieldError {
        name: name.to_owned(),
        message,
    }
}

fn null_field(name: &str) -> FieldError {
    field(
        name,
        format!("Value null at '{name}' failed to satisfy constraint: Member must not be null"),
    )
}

fn other(message: &str) -> RestJsonError {
    RestJsonError::Validation {
        message: message.to_owned(),
        reason: super::Reason::Other,
        fields: Vec::new(),
    }
}

fn epoch_ms(at: OffsetDateTime) -> i64 {
    i64::try_from(at.unix_timestamp_nanos() / 1_000_000).unwrap_or(i64::MAX)
}
