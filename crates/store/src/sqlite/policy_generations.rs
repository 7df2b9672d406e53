//! Access Analyzer policy-generation jobs, as the analyzer last saved them.

use sqlx::SqlitePool;
use time::OffsetDateTime;

use super::{begin_write, from_ms, to_ms};
use crate::error::Result;
use crate::model::PolicyGeneration;

/// Saves `job` (insert or replace) and forgets jobs started before `forget_before`.
pub(super) async fn put(
    pool: &SqlitePool,
    job: &PolicyGeneration,
    forget_before: OffsetDateTime,
) -> Result<()> {
    let mut tx = begin_write(pool).await?;
    sqlx::query("DELETE FROM policy_generations WHERE started_ms < $1")
        .bind(to_ms(forget_before))
        .execute(&mut *tx)
        .await?;
    sqlx::query(
        "INSERT OR REPLACE INTO policy_generations (job_id, account_id, principal_arn, \
         window_start_ms, window_end_ms, trails, client_token, started_ms, status, \
         completed_ms, error_code, error_message) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
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

type Row = (
    String,
    String,
    String,
    i64,
    i64,
    String,
    Option<String>,
    i64,
    String,
    Option<i64>,
    Option<String>,
    Option<String>,
);

/// Every saved job started at or after `since`, oldest first.
pub(super) async fn since(
    pool: &SqlitePool,
    since: OffsetDateTime,
) -> Result<Vec<PolicyGeneration>> {
    let rows: Vec<Row> = sqlx::query_as(
        "SELECT job_id, account_id, principal_arn, window_start_ms, window_end_ms, trails, \
         client_token, started_ms, status, completed_ms, error_code, error_message \
         FROM policy_generations WHERE started_ms >= $1 ORDER BY started_ms, job_id",
    )
    .bind(to_ms(since))
    .fetch_all(pool)
    .await?;
    rows.into_iter()
        .map(|row| {
            Ok(PolicyGeneration {
                job_id: row.0,
                account_id: row.1,
                principal_arn: row.2,
                window_start_ms: row.3,
                window_end_ms: row.4,
                trails: row.5,
                client_token: row.6,
                started: from_ms(row.7)?,
                status: row.8,
                completed: row.9.map(from_ms).transpose()?,
                error_code: row.10,
                error_message: row.11,
            })
        })
        .collect()
}
