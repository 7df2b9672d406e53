//! Access Analyzer policy-generation jobs, as the analyzer last saved them.

use time::OffsetDateTime;

use super::{Db, begin_write_of, from_ms, to_ms};
use crate::error::Result;
use crate::model::{PolicyGeneration, Topic};

/// Saves `job` (insert or replace) and forgets jobs started before `forget_before`.
pub(super) async fn put(
    db: &Db,
    job: &PolicyGeneration,
    forget_before: OffsetDateTime,
) -> Result<()> {
    let mut tx = begin_write_of(db, Topic::Bookkeeping).await?;
    sqlx::query("DELETE FROM policy_generations WHERE started_ms < $1")
        .bind(to_ms(forget_before))
        .execute(&mut *tx)
        .await?;
    sqlx::query(
        "INSERT INTO policy_generations (job_id, account_id, principal_arn, \
         window_start_ms, window_end_ms, trails, client_token, started_ms, status, \
         completed_ms, error_code, error_message) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) \
         ON CONFLICT (job_id) DO UPDATE SET account_id = excluded.account_id, \
         principal_arn = excluded.principal_arn, window_start_ms = excluded.window_start_ms, \
         window_end_ms = excluded.window_end_ms, trails = excluded.trails, \
         client_token = excluded.client_token, started_ms = excluded.started_ms, \
         status = excluded.status, completed_ms = excluded.completed_ms, \
         error_code = excluded.error_code, error_message = excluded.error_message",
    )
    .bind(&job.job_id)
    .bind(&job.account_id)
    .bind(&job.principal_arn)
    .bind(job.window_start_ms)
    .bind(job.window_end_ms)
    .bind(&job.trails)
    .bind(&job.client_token)
    .bind(to_ms(job.started))
    .bind(&job.status)
    .bind(job.completed.map(to_ms))
    .bind(&job.error_code)
    .bind(&job.error_message)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(())
}

#[derive(sqlx::FromRow)]
struct Row {
    job_id: String,
    account_id: String,
    principal_arn: String,
    window_start_ms: i64,
    window_end_ms: i64,
    trails: String,
    client_token: Option<String>,
    started_ms: i64,
    status: String,
    completed_ms: Option<i64>,
    error_code: Option<String>,
    error_message: Option<String>,
}

/// Every saved job started at or after `since`, oldest first.
pub(super) async fn since(db: &Db, since: OffsetDateTime) -> Result<Vec<PolicyGeneration>> {
    let rows: Vec<Row> = sqlx::query_as(
        "SELECT job_id, account_id, principal_arn, window_start_ms, window_end_ms, trails, \
         client_token, started_ms, status, completed_ms, error_code, error_message \
         FROM policy_generations WHERE started_ms >= $1 ORDER BY started_ms, job_id",
    )
    .bind(to_ms(since))
    .fetch_all(&db.pool)
    .await?;
    rows.into_iter()
        .map(|row| {
            Ok(PolicyGeneration {
                job_id: row.job_id,
                account_id: row.account_id,
                principal_arn: row.principal_arn,
                window_start_ms: row.window_start_ms,
                window_end_ms: row.window_end_ms,
                trails: row.trails,
                client_token: row.client_token,
                started: from_ms(row.started_ms)?,
                status: row.status,
                completed: row.completed_ms.map(from_ms).transpose()?,
                error_code: row.error_code,
                error_message: row.error_message,
            })
        })
        .collect()
}
