//! Policy generation jobs: started by `StartPolicyGeneration`, run in the background over the
//! audit log, read by `GetGeneratedPolicy` / `ListPolicyGenerations`, stopped by
//! `CancelPolicyGeneration`.
//!
//! A job is saved to the store when it starts and again when it ends, each time before the
//! caller hears of it, so a restart keeps every job ([`restore`]): one still running starts
//! over, and a succeeded one computes its activity again from the durable audit trail when its
//! policy is first asked for (a job keeps its [`Activity`], not a policy: the policy depends on
//! `GetGeneratedPolicy`'s flags and is rendered per request). The console keeps generated
//! policies for 7 days, so a job is forgotten 7 days after it started, and at most
//! [`MAX_JOBS`] are kept in memory.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, LazyLock, Mutex, MutexGuard};

use serde_json::Value;
use store::{AuditTrail, PolicyGeneration, Store, StoreError};
use time::OffsetDateTime;

use crate::generate::output::{JobDetails, JobStatus};
use crate::generate::{Activity, Window, scan};

/// Forgotten this long after starting.
const RETENTION: time::Duration = time::Duration::days(7);

/// The oldest are forgotten beyond this many.
const MAX_JOBS: usize = 1_000;

/// The `JobErrorCode`s a job can end with.
const ERROR_CODES: [&str; 4] = [
    "SERVICE_ERROR",
    "AUTHORIZATION_ERROR",
    "RESOURCE_NOT_FOUND_ERROR",
    "SERVICE_QUOTA_EXCEEDED_ERROR",
];

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
    /// Succeeded before a restart; [`Job::activity`] computes the activity again.
    SucceededBeforeRestart,
    Failed {
        code: &'static str,
        message: String,
    },
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
    /// A job in `state`, ended at `completed` unless it is running.
    fn new(
        id: String,
        request: Request,
        started_on: OffsetDateTime,
        (state, completed): (State, Option<OffsetDateTime>),
    ) -> Job {
        Job {
            id,
            request,
            started_on,
            state: Mutex::new((state, completed)),
            cancel: AtomicBool::new(false),
        }
    }

    /// The state and, once it ended, when.
    pub fn state(&self) -> (State, Option<OffsetDateTime>) {
        lock(&self.state).clone()
    }

    pub fn details(&self) -> JobDetails {
        let (state, completed_on) = self.state();
        let (status, error) = match state {
            State::Running => (JobStatus::InProgress, None),
            State::Succeeded(_) | State::SucceededBeforeRestart => (JobStatus::Succeeded, None),
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

    /// The activity of a succeeded job, computed again from `log` for a job that succeeded
    /// before a restart; `None` for a job that did not (or not yet) succeed.
    pub async fn activity(
        &self,
        log: Option<&AuditTrail>,
    ) -> Result<Option<Arc<Activity>>, String> {
        match self.state().0 {
            State::Succeeded(activity) => Ok(Some(activity)),
            State::SucceededBeforeRestart => {
                let log = log.ok_or("the audit trail is not enabled on this server")?;
                let mut activity = Activity::new(&self.request.principal, self.request.window);
                let never = AtomicBool::new(false);
                scan(log, &mut activity, &never, |_| {})
                    .await
                    .map_err(|e| e.to_string())?;
                let activity = Arc::new(activity);
                let mut state = lock(&self.state);
                if matches!(state.0, State::SucceededBeforeRestart) {
                    state.0 = State::Succeeded(Arc::clone(&activity));
                }
                Ok(Some(activity))
            }
            State::Running | State::Failed { .. } | State::Canceled => Ok(None),
        }
    }

    /// Ends a running job as canceled, and saves it; a finished one stays as it was.
    pub async fn cancel<S: Store>(&self, store: &S) -> Result<(), StoreError> {
        self.cancel.store(true, Ordering::Relaxed);
        if self.finish_if_running(State::Canceled) {
            save(store, self).await?;
        }
        Ok(())
    }

    /// Whether this call ended the job.
    fn finish_if_running(&self, outcome: State) -> bool {
        let mut state = lock(&self.state);
        if matches!(state.0, State::Running) {
            *state = (outcome, Some(OffsetDateTime::now_utc()));
            true
        } else {
            false
        }
    }

    /// The job as the store keeps it.
    fn saved(&self) -> PolicyGeneration {
        let details = self.details();
        let (error_code, error_message) = match details.error {
            Some((code, message)) => (Some(code.to_owned()), Some(message)),
            None => (None, None),
        };
        PolicyGeneration {
            job_id: self.id.clone(),
            account_id: self.request.account.clone(),
            principal_arn: self.request.principal.clone(),
            window_start_ms: self.request.window.start_ms,
            window_end_ms: self.request.window.end_ms,
            trails: self.request.trails.to_string(),
            client_token: self.request.client_token.clone(),
            started: self.started_on,
            status: details.status.as_str().to_owned(),
            completed: details.completed_on,
            error_code,
            error_message,
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

async fn save<S: Store>(store: &S, job: &Job) -> Result<(), StoreError> {
    let forget_before = OffsetDateTime::now_utc() - RETENTION;
    store
        .put_policy_generation(&job.saved(), forget_before)
        .await
}

/// Why a job cannot run: a `JobErrorCode` and its message.
pub type JobError = (&'static str, String);

/// Starts a job reading `log` (or fails it at once with the given error), unless the account
/// already started one with the same client token: then that job is the answer. The job is
/// saved before this returns.
pub async fn start<S: Store>(
    store: &S,
    request: Request,
    log: Result<AuditTrail, JobError>,
) -> Result<Arc<Job>, StoreError> {
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
            return Ok(Arc::clone(same));
        }
        if jobs.len() >= MAX_JOBS {
            jobs.remove(0);
        }
        let id = crate::request::request_id::new();
        let job = Arc::new(Job::new(id, request, now, (State::Running, None)));
        jobs.push(Arc::clone(&job));
        job
    };
    let log = match log {
        Ok(log) => Some(log),
        Err((code, message)) => {
            job.finish_if_running(State::Failed { code, message });
            None
        }
    };
    if let Err(error) = save(store, &job).await {
        // Not saved, not started: the caller is told so, and nobody may find it.
        lock(&JOBS).retain(|j| !Arc::ptr_eq(j, &job));
        return Err(error);
    }
    if let Some(log) = log {
        tokio::spawn(run(Arc::clone(&job), log, store.clone()));
    }
    Ok(job)
}

async fn run<S: Store>(job: Arc<Job>, log: AuditTrail, store: S) {
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
    if job.finish_if_running(outcome)
        && let Err(error) = save(&store, &job).await
    {
        tracing::error!(%error, job = %job.id, "saving a finished policy generation");
    }
}

/// Takes back the jobs saved in the last 7 days, once at start: a job that was running starts
/// over (or fails, without an audit trail), the others keep how they ended.
pub async fn restore<S: Store>(store: &S, log: Option<AuditTrail>) -> Result<(), StoreError> {
    let saved = store
        .policy_generations(OffsetDateTime::now_utc() - RETENTION)
        .await?;
    for record in saved {
        let trails = serde_json::from_str(&record.trails).unwrap_or(Value::Array(Vec::new()));
        let request = Request {
            account: record.account_id,
            principal: record.principal_arn,
            window: Window {
                start_ms: record.window_start_ms,
                end_ms: record.window_end_ms,
            },
            trails,
            client_token: record.client_token,
        };
        let state = match record.status.as_str() {
            "SUCCEEDED" => State::SucceededBeforeRestart,
            "CANCELED" => State::Canceled,
            "FAILED" => State::Failed {
                code: ERROR_CODES
                    .into_iter()
                    .find(|code| record.error_code.as_deref() == Some(code))
                    .unwrap_or("SERVICE_ERROR"),
                message: record.error_message.unwrap_or_default(),
            },
            _ => State::Running,
        };
        let running = matches!(state, State::Running);
        let job = Arc::new(Job::new(
            record.job_id,
            request,
            record.started,
            (state, record.completed),
        ));
        {
            let mut jobs = lock(&JOBS);
            if jobs.iter().any(|j| j.id == job.id) {
                continue;
            }
            jobs.push(Arc::clone(&job));
        }
        if running {
            match &log {
                Some(log) => {
                    tokio::spawn(run(Arc::clone(&job), log.clone(), store.clone()));
                }
                None => {
                    job.finish_if_running(State::Failed {
                        code: "SERVICE_ERROR",
                        message: "The audit trail is not enabled on this server.".into(),
                    });
                    save(store, &job).await?;
                }
            }
        }
    }
    Ok(())
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
    use store::AuditLog;

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

    async fn saved_status(store: &store::SqliteStore, id: &str) -> String {
        let saved = store
            .policy_generations(OffsetDateTime::UNIX_EPOCH)
            .await
            .unwrap();
        saved.into_iter().find(|j| j.job_id == id).unwrap().status
    }

    #[tokio::test]
    async fn jobs_run_cancel_are_saved_and_stay_in_their_account() {
        let dir = tempfile::tempdir().unwrap();
        let log = AuditTrail::from(AuditLog::open(dir.path()).await.unwrap());
        let store = store::SqliteStore::open(dir.path()).await.unwrap();

        let done = start(&store, request("111111111111", Some("t")), Ok(log.clone()))
            .await
            .unwrap();
        let details = ended(&done).await;
        assert_eq!(details.status, JobStatus::Succeeded);
        assert!(details.completed_on.is_some());
        assert!(matches!(done.state().0, State::Succeeded(_)));
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        assert_eq!(saved_status(&store, &done.id).await, "SUCCEEDED");
        // A finished job is not canceled after the fact.
        done.cancel(&store).await.unwrap();
        assert_eq!(done.details().status, JobStatus::Succeeded);

        // Canceled before its scan reports: canceled it stays, and so it is saved.
        let canceled = start(&store, request("111111111111", None), Ok(log.clone()))
            .await
            .unwrap();
        canceled.cancel(&store).await.unwrap();
        assert_eq!(ended(&canceled).await.status, JobStatus::Canceled);
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        assert_eq!(canceled.details().status, JobStatus::Canceled);
        assert_eq!(saved_status(&store, &canceled.id).await, "CANCELED");

        let failed = start(
            &store,
            request("111111111111", None),
            Err(("SERVICE_ERROR", "no trail".into())),
        )
        .await
        .unwrap();
        assert_eq!(
            failed.details().error,
            Some(("SERVICE_ERROR", "no trail".to_owned()))
        );
        assert_eq!(saved_status(&store, &failed.id).await, "FAILED");

        // Same token, same account: the same job; another account never sees it.
        let again = start(&store, request("111111111111", Some("t")), Ok(log.clone()))
            .await
            .unwrap();
        assert_eq!(again.id, done.id);
        let other = start(&store, request("222222222222", Some("t")), Ok(log))
            .await
            .unwrap();
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

    #[tokio::test]
    async fn a_job_that_cannot_be_saved_is_neither_started_nor_listed() {
        let dir = tempfile::tempdir().unwrap();
        let log = AuditTrail::from(AuditLog::open(dir.path()).await.unwrap());
        let store = store::SqliteStore::open(dir.path()).await.unwrap();
        store.close().await;
        start(&store, request("444444444444", None), Ok(log))
            .await
            .unwrap_err();
        assert!(list("444444444444", None).is_empty());
    }

    /// After a restart: a job that had succeeded keeps its status and computes its activity
    /// again on demand; one that was running runs again; a failed one keeps its error.
    #[tokio::test]
    async fn saved_jobs_come_back_after_a_restart() {
        let dir = tempfile::tempdir().unwrap();
        let log = AuditTrail::from(AuditLog::open(dir.path()).await.unwrap());
        let store = store::SqliteStore::open(dir.path()).await.unwrap();
        // Whole seconds: the store keeps milliseconds.
        let now = OffsetDateTime::from_unix_timestamp(OffsetDateTime::now_utc().unix_timestamp())
            .unwrap();
        let record = |id: &str, status: &str| PolicyGeneration {
            job_id: id.into(),
            account_id: "333333333333".into(),
            principal_arn: "arn:aws:iam::333333333333:role/app".into(),
            window_start_ms: 0,
            window_end_ms: i64::MAX,
            trails: "[]".into(),
            client_token: None,
            started: now,
            status: status.into(),
            completed: (status != "IN_PROGRESS").then_some(now),
            error_code: (status == "FAILED").then(|| "AUTHORIZATION_ERROR".into()),
            error_message: (status == "FAILED").then(|| "not yours".into()),
        };
        let forget_before = now - RETENTION;
        for (id, status) in [
            ("restored-done", "SUCCEEDED"),
            ("restored-running", "IN_PROGRESS"),
            ("restored-failed", "FAILED"),
        ] {
            store
                .put_policy_generation(&record(id, status), forget_before)
                .await
                .unwrap();
        }
        restore(&store, Some(log.clone())).await.unwrap();

        let done = find("333333333333", "restored-done").unwrap();
        assert_eq!(done.details().status, JobStatus::Succeeded);
        assert_eq!(done.details().completed_on, Some(now));
        assert!(matches!(done.state().0, State::SucceededBeforeRestart));
        assert!(done.activity(Some(&log)).await.unwrap().is_some());
        assert!(matches!(done.state().0, State::Succeeded(_)));
        assert!(
            done.activity(None).await.unwrap().is_some(),
            "kept once computed"
        );

        let running = find("333333333333", "restored-running").unwrap();
        assert_eq!(ended(&running).await.status, JobStatus::Succeeded);
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        assert_eq!(saved_status(&store, "restored-running").await, "SUCCEEDED");

        let failed = find("333333333333", "restored-failed").unwrap();
        assert_eq!(
            failed.details().error,
            Some(("AUTHORIZATION_ERROR", "not yours".to_owned()))
        );
    }
}
