//! GetGeneratedPolicy's output, `{jobDetails, generatedPolicyResult}` (aws-apis.md §5), shared
//! by the Access Analyzer API and `roleplane policy generate` so both print the same thing.

use serde_json::{Value, json};
use time::OffsetDateTime;
use time::macros::format_description;

use super::activity::Window;

/// `JobStatus`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobStatus {
    InProgress,
    Succeeded,
    Failed,
    Canceled,
}

impl JobStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            JobStatus::InProgress => "IN_PROGRESS",
            JobStatus::Succeeded => "SUCCEEDED",
            JobStatus::Failed => "FAILED",
            JobStatus::Canceled => "CANCELED",
        }
    }
}

/// `JobDetails`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobDetails {
    pub job_id: String,
    pub status: JobStatus,
    pub started_on: OffsetDateTime,
    pub completed_on: Option<OffsetDateTime>,
    /// `JobError`: `(code, message)`, code one of AWS's `JobErrorCode`s.
    pub error: Option<(&'static str, String)>,
}

impl JobDetails {
    pub fn to_json(&self) -> Value {
        let mut details = json!({
            "jobId": self.job_id,
            "status": self.status.as_str(),
            "startedOn": timestamp(self.started_on),
        });
        if let Some(done) = self.completed_on {
            details["completedOn"] = timestamp(done).into();
        }
        if let Some((code, message)) = &self.error {
            details["jobError"] = json!({"code": code, "message": message});
        }
        details
    }
}

/// The generation's input as `properties` reports it.
#[derive(Debug, Clone, PartialEq)]
pub struct Properties<'a> {
    pub principal_arn: &'a str,
    pub window: Window,
    /// `trailProperties`, already in the wire shape.
    pub trails: &'a Value,
    /// `false` while nothing is known yet, or when the scan stopped early.
    pub is_complete: bool,
    /// How many of the calls read were CloudTrail data events ([`data_events_note`]).
    pub data_events: u64,
}

/// `properties`' member saying the policy rests on data events too. Not in Access Analyzer's
/// model, so SDKs and the AWS CLI skip it; `roleplane policy generate` and raw readers see it.
pub const NOTE_MEMBER: &str = "roleplaneNote";

/// What AWS would not have done: its Access Analyzer reads management events only.
pub fn data_events_note(data_events: u64) -> String {
    let calls = if data_events == 1 { "call" } else { "calls" };
    format!(
        "Generated from management events and {data_events} S3 data event {calls} (object-level \
         activity). AWS IAM Access Analyzer reads management events only and would not have \
         granted the object-level actions; roleplane records S3 data events and reads them."
    )
}

/// The whole GetGeneratedPolicy body. `policies` is `None` while the job has no result.
pub fn generated_policy(
    job: &JobDetails,
    properties: &Properties<'_>,
    policies: Option<&[String]>,
) -> Value {
    let mut result = json!({
        "properties": {
            "isComplete": properties.is_complete,
            "principalArn": properties.principal_arn,
            "cloudTrailProperties": {
                "trailProperties": properties.trails,
                "startTime": timestamp_ms(properties.window.start_ms),
                "endTime": timestamp_ms(properties.window.end_ms),
            },
        },
    });
    if properties.data_events > 0 {
        result["properties"][NOTE_MEMBER] = data_events_note(properties.data_events).into();
    }
    if let Some(policies) = policies {
        result["generatedPolicies"] = policies
            .iter()
            .map(|policy| json!({"policy": policy}))
            .collect();
    }
    json!({"jobDetails": job.to_json(), "generatedPolicyResult": result})
}

/// Access Analyzer's timestamps are ISO 8601 (its model's `timestampFormat`), UTC, seconds.
pub fn timestamp(at: OffsetDateTime) -> String {
    at.to_offset(time::UtcOffset::UTC)
        .format(format_description!(
            "[year]-[month]-[day]T[hour]:[minute]:[second]Z"
        ))
        .unwrap_or_default()
}

fn timestamp_ms(ms: i64) -> String {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .map(timestamp)
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn shaped_like_get_generated_policy() {
        let job = JobDetails {
            job_id: "c557dc4a-0338-4489-95dd-739014860ff9".into(),
            status: JobStatus::Succeeded,
            started_on: datetime!(2024-02-14 22:44:41 UTC),
            completed_on: Some(datetime!(2024-02-14 22:47:01 UTC)),
            error: None,
        };
        let trails = json!([{"cloudTrailArn": "arn:aws:cloudtrail:us-west-2:111122223333:trail/my-trail", "regions": [], "allRegions": true}]);
        let properties = Properties {
            principal_arn: "arn:aws:iam::111122223333:role/Admin",
            window: Window {
                start_ms: 1_707_784_200_000,
                end_ms: 1_707_950_680_000,
            },
            trails: &trails,
            is_complete: true,
            data_events: 0,
        };
        let policy = r#"{"Version":"2012-10-17","Statement":[]}"#.to_owned();
        let body = generated_policy(&job, &properties, Some(std::slice::from_ref(&policy)));
        assert_eq!(
            body,
            json!({
                "jobDetails": {"jobId": "c557dc4a-0338-4489-95dd-739014860ff9", "status": "SUCCEEDED",
                               "startedOn": "2024-02-14T22:44:41Z", "completedOn": "2024-02-14T22:47:01Z"},
                "generatedPolicyResult": {
                    "properties": {
                        "isComplete": true,
                        "principalArn": "arn:aws:iam::111122223333:role/Admin",
                        "cloudTrailProperties": {"trailProperties": trails,
                            "startTime": "2024-02-13T00:30:00Z", "endTime": "2024-02-14T22:44:40Z"}},
                    "generatedPolicies": [{"policy": policy}]}
            })
        );
        let running = JobDetails {
            status: JobStatus::InProgress,
            completed_on: None,
            ..job
        };
        let body = generated_policy(&running, &properties, None);
        assert!(
            body["generatedPolicyResult"]
                .get("generatedPolicies")
                .is_none()
        );
        assert_eq!(body["jobDetails"]["status"], "IN_PROGRESS");
        assert!(
            body["generatedPolicyResult"]["properties"]
                .get(NOTE_MEMBER)
                .is_none()
        );
    }

    #[test]
    fn data_events_are_noted_beside_the_modeled_properties() {
        let job = JobDetails {
            job_id: "j".into(),
            status: JobStatus::Succeeded,
            started_on: datetime!(2024-02-14 22:44:41 UTC),
            completed_on: Some(datetime!(2024-02-14 22:47:01 UTC)),
            error: None,
        };
        let trails = json!([]);
        let properties = Properties {
            principal_arn: "arn:aws:iam::111122223333:role/App",
            window: Window {
                start_ms: 0,
                end_ms: 1,
            },
            trails: &trails,
            is_complete: true,
            data_events: 3,
        };
        let body = generated_policy(&job, &properties, Some(&[]));
        let note = body["generatedPolicyResult"]["properties"][NOTE_MEMBER]
            .as_str()
            .unwrap();
        assert!(note.contains("3 S3 data event calls"), "{note}");
        assert!(note.contains("management events only"), "{note}");
        assert_eq!(
            body["generatedPolicyResult"]["properties"]["isComplete"],
            true
        );
    }
}
