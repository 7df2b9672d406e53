//! Policy generation jobs: started by `StartPolicyGeneration`, run in the background over the
//! audit log, read by `GetGeneratedPolicy` / `ListPolicyGenerations`, stopped by
//! `CancelPolicyGeneration`.
//!
//! Jobs live in memory, in this process: a restart forgets them (a client starts a new one;
//! the audit log they read is durable). The console keeps generated policies for 7 days, so a
//! job is forgotten 7 days after it started, and at most [`MAX_JOBS`] are kept. A job keeps its
//! [`Activity`], not a policy: the policy depends on `GetGeneratedPolicy`'s flags and is
//! rendered per request.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, LazyLock, Mutex, MutexGuard};

use serde_json::Value;
use store::AuditLog;
use time::OffsetDateTime;

use crate::generate::output::{JobDetails, JobStatus};
use crate::generate::{Activity, Window, scan};

/// Forgotten this long after starting.
const RETENTION: time::Duration = time::Duration::days(7);

/// The oldest are forgotten beyond this many.
const MAX_JOBS: usize = 1_000;

/// What a job was asked.
#[derive(Debug, Clone)]
pub struct Request {
    pub account: String,
    pub principal: String,
    pub window: Window,
    /// `trailProperties`, echoed in the result.
    pub trails: Value,
    pub client_token: Option<String>,
}

#[derive(Debug, Clone)]
pub enum State {
    Running,
    Succeeded(Arc<Activity>),
    Failed { code: &'static str, message: String },
    Canceled,
}

#[derive(Debug)]
pub struct Job {
    pub id: String,
    pub request: Request,
    pub started_on: OffsetDateTime,
    state: Mutex<(State, Option<OffsetDateTime>)>,
    cancel: AtomicBool,
}

impl Job {
    /// The state and, once it ended, when.
    pub fn state(&self) -> (State, Option<OffsetDateTime>) {
        lock(&self.state).clone()
    }

    pub fn details(&self) -> JobDetails {
        let (state, completed_on) = self.state();
        let (status, error) = match state {
            State::Running => (JobStatus::InProgress, None),
            State::Succeeded(_) => (JobStatus::Succeeded, None),
            State::Failed { code, message } => (JobStatus::Failed, Some((code, message))),
            State::Canceled => (JobStatus::Canceled, None),
        };
        JobDetails {
            job_id: self.id.clone(),
            status,
            started_on: self.started_on,
            completed_on,
            error,
        }
    }

    /// Ends a running job as canceled; a finished one stays as it was.
    pub fn cancel(&self) {
        self.cancel.store(true, Ordering::Relaxed);
        self.finish_if_running(State::Canceled);
    }

    fn finish_if_running(&self, outcome: State) {
        let mut state = lock(&self.state);
        if matches!(state.0, State::Running) {
            *state = (outcome, Some(OffsetDateTime::now_utc()));
        }
    }
}

static JOBS: LazyLock<Mutex<Vec<Arc<Job>>>> = LazyLock::new(|| Mutex::new(Vec::new()));

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic elsewhere while holding the lock leaves plain data behind; keep serving.
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Why a job cannot run: a `JobErrorCode` and its message.
pub type JobError = (&'static str, String);

/// Starts a job reading `log` (or fails it at once with the given error), unless the account
/// already started one with the same client token: then that job is the answer.
pub fn start(request: Request, log: Result<AuditLog, JobError>) -> Arc<Job> {
    let now = OffsetDateTime::now_utc();
    let job = {
        let mut jobs = lock(&JOBS);
        jobs.retain(|job| now - job.started_on < RETENTION);
        if let Some(token) = &request.client_token
            && let Some(same) = jobs.iter().find(|j| {
                j.request.account == request.account
                    && j.request.client_token.as_ref() == Some(token)
            })
        {
            return Arc::clone(same);
        }
        if jobs.len() >= MAX_JOBS {
            jobs.remove(0);
        }
        let job = Arc::new(Job {
            id: crate::server::request_id::new(),
            request,
            started_on: now,
            state: Mutex::new((State::Running, None)),
            cancel: AtomicBool::new(false),
        });
        jobs.push(Arc::clone(&job));
        job
    };
    match log {
        Ok(log) => {
            tokio::spawn(run(Arc::clone(&job), log));
        }
        Err((code, message)) => job.finish_if_running(State::Failed { code, message }),
    }
    job
}

async fn run(job: Arc<Job>, log: AuditLog) {
    let request = &job.request;
    let mut activity = Activity::new(&request.principal, request.window);
    let outcome = match scan(&log, &mut activity, &job.cancel, |_| {}).await {
        Ok(true) => State::Succeeded(Arc::new(activity)),
        Ok(false) => State::Canceled,
        Err(error) => {
            tracing::warn!(%error, job = %job.id, "policy generation failed");
            State::Failed {
                code: "SERVICE_ERROR",
                message: "Reading the audit trail failed.".into(),
            }
        }
    };
    job.finish_if_running(outcome);
}

/// The account's job with this ID.
pub fn find(account: &str, id: &str) -> Option<Arc<Job>> {
    lock(&JOBS)
        .iter()
        .find(|job| job.id == id && job.request.account == account)
        .cloned()
}

/// The account's jobs, oldest first, optionally only those for `principal`.
pub fn list(account: &str, principal: Option<&str>) -> Vec<Arc<Job>> {
    lock(&JOBS)
        .iter()
        .filter(|job| job.request.account == account)
        .filter(|job| principal.is_none_or(|p| job.request.principal == p))
        .cloned()
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::generate::output::JobStatus;

    fn request(account: &str, token: Option<&str>) -> Request {
        Request {
            account: account.into(),
            principal: format!("arn:aws:iam::{account}:role/app"),
            window: Window {
                start_ms: 0,
                end_ms: i64::MAX,
            },
            trails: Value::Array(Vec::new()),
            client_token: token.map(str::to_owned),
        }
    }

    async fn ended(job: &Job) -> JobDetails {
        for _ in 0..500 {
            let details = job.details();
            if details.status != JobStatus::InProgress {
                return details;
            }
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
        panic!("job {} never ended", job.id);
    }

    #[tokio::test]
    async fn jobs_run_cancel_and_stay_in_their_account() {
        let dir = tempfile::tempdir().unwrap();
        let log = AuditLog::open(dir.path()).await.unwrap();

        let done = start(request("111111111111", Some("t")), Ok(log.clone()));
        let details = ended(&done).await;
        assert_eq!(details.status, JobStatus::Succeeded);
        assert!(details.completed_on.is_some());
        assert!(matches!(done.state().0, State::Succeeded(_)));
        // A finished job is not canceled after the fact.
        done.cancel();
        assert_eq!(done.details().status, JobStatus::Succeeded);

        // Canceled before its scan reports: canceled it stays.
        let canceled = start(request("111111111111", None), Ok(log.clone()));
        canceled.cancel();
        assert_eq!(ended(&canceled).await.status, JobStatus::Canceled);
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        assert_eq!(canceled.details().status, JobStatus::Canceled);

        let failed = start(
            request("111111111111", None),
            Err(("SERVICE_ERROR", "no trail".into())),
        );
        assert_eq!(
            failed.details().error,
            Some(("SERVICE_ERROR", "no trail".to_owned()))
        );

        // Same token, same account: the same job; another account never sees it.
        let again = start(request("111111111111", Some("t")), Ok(log.clone()));
        assert_eq!(again.id, done.id);
        let other = start(request("222222222222", Some("t")), Ok(log));
        assert_ne!(other.id, done.id);
        assert!(find("222222222222", &done.id).is_none());
        assert!(find("111111111111", &done.id).is_some());
        let listed: Vec<String> = list("111111111111", None)
            .iter()
            .map(|j| j.id.clone())
            .collect();
        assert!(listed.contains(&done.id) && !listed.contains(&other.id));
        ended(&other).await;
    }
}
