//! Instance-profile associations (`iip-assoc-…`): at most one active per instance.
//!
//! Like instance states, association states settle at once: the row says `associated` or
//! `disassociated`, the write reports `associating` or `disassociating`. The active one is
//! unique per instance by index as well as by the check inside each transaction, so of two
//! racing Associate calls exactly one wins.

use std::collections::HashMap;

use sqlx::{QueryBuilder, Sqlite, SqliteConnection, SqlitePool};

use super::instances::{self, TERMINATED_VISIBLE_MS};
use super::{begin_write_of, ec2_ids, from_ms, is_unique_violation, now_ms};
use crate::error::{Ec2Rejection, EntityKind, Result, StoreError};
use crate::model::{
    Association, AssociationQuery, AssociationState, InstanceState, ProfileRef, Topic,
};

pub(crate) const COLUMNS: &str = "a.association_id, a.account_id, a.instance_id, a.profile_arn, a.profile_id, a.state, a.created_ms";

/// Ended associations stay listed as long as terminated instances do.
pub(crate) const ENDED_VISIBLE_MS: i64 = TERMINATED_VISIBLE_MS;

#[derive(sqlx::FromRow)]
pub(crate) struct AssociationRow {
    association_id: String,
    account_id: String,
    instance_id: String,
    profile_arn: String,
    profile_id: String,
    state: String,
    created_ms: i64,
}

impl AssociationRow {
    pub(crate) fn into_association(self) -> Result<Association> {
        Ok(Association {
            state: AssociationState::parse(&self.state).ok_or_else(|| {
                super::corrupt(format!("association {}: state", self.association_id))
            })?,
            created: from_ms(self.created_ms)?,
            id: self.association_id,
            account_id: self.account_id,
            instance_id: self.instance_id,
            profile: ProfileRef {
                arn: self.profile_arn,
                id: self.profile_id,
            },
        })
    }
}

fn rejected(rejection: Ec2Rejection) -> StoreError {
    StoreError::Ec2(rejection)
}

/// A new active association, inside the caller's transaction.
pub(super) async fn insert(
    conn: &mut SqliteConnection,
    account: &str,
    instance_id: &str,
    profile: &ProfileRef,
    now: i64,
) -> Result<Association> {
    let id = ec2_ids::new("iip-assoc-");
    let inserted = sqlx::query(
        "INSERT INTO iam_instance_profile_associations \
         (association_id, account_id, instance_id, profile_arn, profile_id, state, created_ms) \
         VALUES ($1, $2, $3, $4, $5, 'associated', $6)",
    )
    .bind(&id)
    .bind(account)
    .bind(instance_id)
    .bind(&profile.arn)
    .bind(&profile.id)
    .bind(now)
    .execute(&mut *conn)
    .await;
    match inserted {
        Ok(_) => {}
        Err(e) if is_unique_violation(&e) => {
            return Err(rejected(Ec2Rejection::ExistingAssociation {
                instance_id: instance_id.to_owned(),
            }));
        }
        Err(e) => return Err(e.into()),
    }
    Ok(Association {
        id,
        account_id: account.to_owned(),
        instance_id: instance_id.to_owned(),
        profile: profile.clone(),
        state: AssociationState::Associating,
        created: from_ms(now)?,
    })
}

/// The active association of each of `instance_ids` that has one.
pub(super) async fn active_for(
    conn: &mut SqliteConnection,
    instance_ids: &[&str],
) -> Result<HashMap<String, Association>> {
    let mut qb = QueryBuilder::<Sqlite>::new(format!(
        "SELECT {COLUMNS} FROM iam_instance_profile_associations a \
         WHERE a.state IN ('associating', 'associated') AND a.instance_id IN ("
    ));
    let mut list = qb.separated(", ");
    for id in instance_ids {
        list.push_bind((*id).to_owned());
    }
    qb.push(")");
    let rows: Vec<AssociationRow> = qb.build_query_as().fetch_all(&mut *conn).await?;
    rows.into_iter()
        .map(|row| {
            let association = row.into_association()?;
            Ok((association.instance_id.clone(), association))
        })
        .collect()
}

/// Ends the instance's active association (termination takes the profile with it).
pub(super) async fn end_for_instance(
    conn: &mut SqliteConnection,
    instance_id: &str,
    now: i64,
) -> Result<()> {
    sqlx::query(
        "UPDATE iam_instance_profile_associations SET state = 'disassociated', ended_ms = $1 \
         WHERE instance_id = $2 AND state IN ('associating', 'associated')",
    )
    .bind(now)
    .bind(instance_id)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

async fn one(conn: &mut SqliteConnection, account: &str, id: &str) -> Result<Association> {
    let sql = format!(
        "SELECT {COLUMNS} FROM iam_instance_profile_associations a \
         WHERE a.account_id = $1 AND a.association_id = $2"
    );
    let row: Option<AssociationRow> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(account)
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?;
    row.ok_or_else(|| StoreError::not_found(EntityKind::Association, id))?
        .into_association()
}

fn is_active(association: &Association) -> bool {
    matches!(
        association.state,
        AssociationState::Associating | AssociationState::Associated
    )
}

pub(super) async fn associate(
    pool: &SqlitePool,
    account: &str,
    instance_id: &str,
    profile: &ProfileRef,
) -> Result<Association> {
    let mut tx = begin_write_of(pool, Topic::Ec2).await?;
    let instance = instances::one(&mut tx, account, instance_id).await?;
    if !matches!(
        instance.state,
        InstanceState::Running | InstanceState::Stopped
    ) {
        return Err(rejected(Ec2Rejection::InstanceState {
            instance_id: instance_id.to_owned(),
            state: instance.state.as_str().to_owned(),
        }));
    }
    if instance.association.is_some() {
        return Err(rejected(Ec2Rejection::ExistingAssociation {
            instance_id: instance_id.to_owned(),
        }));
    }
    let association = insert(&mut tx, account, instance_id, profile, now_ms()).await?;
    tx.commit().await?;
    Ok(association)
}

/// Swaps the profile of a running instance's active association under a new association ID.
pub(super) async fn replace(
    pool: &SqlitePool,
    account: &str,
    association_id: &str,
    profile: &ProfileRef,
) -> Result<Association> {
    let mut tx = begin_write_of(pool, Topic::Ec2).await?;
    let current = one(&mut tx, account, association_id).await?;
    let instance = instances::one(&mut tx, account, &current.instance_id).await?;
    if !is_active(&current) || instance.state != InstanceState::Running {
        return Err(rejected(Ec2Rejection::NotActiveAssociation {
            association_id: association_id.to_owned(),
        }));
    }
    let now = now_ms();
    end(&mut tx, association_id, now).await?;
    let association = insert(&mut tx, account, &current.instance_id, profile, now).await?;
    tx.commit().await?;
    Ok(association)
}

/// Ends an active association; an ended one is as good as unknown.
pub(super) async fn disassociate(
    pool: &SqlitePool,
    account: &str,
    association_id: &str,
) -> Result<Association> {
    let mut tx = begin_write_of(pool, Topic::Ec2).await?;
    let mut association = one(&mut tx, account, association_id).await?;
    if !is_active(&association) {
        return Err(StoreError::not_found(
            EntityKind::Association,
            association_id,
        ));
    }
    end(&mut tx, association_id, now_ms()).await?;
    tx.commit().await?;
    association.state = AssociationState::Disassociating;
    Ok(association)
}

async fn end(conn: &mut SqliteConnection, association_id: &str, now: i64) -> Result<()> {
    sqlx::query(
        "UPDATE iam_instance_profile_associations SET state = 'disassociated', ended_ms = $1 \
         WHERE association_id = $2",
    )
    .bind(now)
    .bind(association_id)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// The account's associations `query` selects, active ones and recently ended ones, in
/// association ID order.
pub(super) async fn list(
    pool: &SqlitePool,
    account: &str,
    query: &AssociationQuery,
) -> Result<Vec<Association>> {
    let mut conn = pool.acquire().await?;
    let mut qb = QueryBuilder::<Sqlite>::new(format!(
        "SELECT {COLUMNS} FROM iam_instance_profile_associations a WHERE a.account_id = "
    ));
    qb.push_bind(account.to_owned())
        .push(" AND (a.ended_ms IS NULL OR a.ended_ms > ")
        .push_bind(now_ms() - ENDED_VISIBLE_MS)
        .push(")");
    push_in(&mut qb, "a.association_id", &query.ids);
    push_in(&mut qb, "a.instance_id", &query.instance_ids);
    let states: Vec<String> = query.states.iter().map(|s| s.as_str().to_owned()).collect();
    push_in(&mut qb, "a.state", &states);
    if let Some(after) = &query.after {
        qb.push(" AND a.association_id > ").push_bind(after.clone());
    }
    qb.push(" ORDER BY a.association_id");
    if let Some(limit) = query.limit {
        qb.push(" LIMIT ").push_bind(i64::from(limit));
    }
    let rows: Vec<AssociationRow> = qb.build_query_as().fetch_all(&mut *conn).await?;
    rows.into_iter()
        .map(AssociationRow::into_association)
        .collect()
}

/// `AND column IN (…)`, nothing for an empty list (no condition).
fn push_in(qb: &mut QueryBuilder<Sqlite>, column: &str, values: &[String]) {
    if values.is_empty() {
        return;
    }
    qb.push(" AND ").push(column).push(" IN (");
    let mut list = qb.separated(", ");
    for value in values {
        list.push_bind(value.clone());
    }
    qb.push(")");
}
