//! Revoking a role's active sessions, as the IAM console does it: an inline policy named
//! `AWSRevokeOlderSessions` denying everything to sessions whose `aws:TokenIssueTime` is before
//! the revocation time (aws-apis.md §5).
//!
//! Session tokens are self-contained, so nothing else can revoke them; because policies are read
//! at request time, the deny reaches every live session at once. The instance credential issuer
//! asks [`revoked_before`] for the same cut-off, so instances get a fresh set on their next
//! metadata request.

use policy::{Effect, Policy, PolicyKind};
use store::{InlinePolicy, Principal, Store, StoreError};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::documents::ROLE_INLINE_QUOTA;

/// The inline policy name the console writes.
pub const POLICY_NAME: &str = "AWSRevokeOlderSessions";

/// The revocation time for a revocation made at `now`.
///
/// Session issue times have whole-second precision, so a session issued earlier in the current
/// second carries the same `aws:TokenIssueTime` as one issued later in it. Rounding up denies
/// both: revocation must not let an older session through, at the price of refusing for under a
/// second the sessions issued right after it.
pub fn cutoff(now: OffsetDateTime) -> OffsetDateTime {
    let whole = now.replace_nanosecond(0).unwrap_or(now);
    if whole == now {
        now
    } else {
        whole + time::Duration::SECOND
    }
}

/// The console's policy text for a revocation at `cutoff` (an ISO 8601 UTC time).
pub fn document(cutoff: OffsetDateTime) -> String {
    let time = cutoff.format(&Rfc3339).unwrap_or_default();
    format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Deny","Action":["*"],"Resource":["*"],"Condition":{{"DateLessThan":{{"aws:TokenIssueTime":"{time}"}}}}}}]}}"#
    )
}

/// The revocation time a stored `AWSRevokeOlderSessions` document states, in epoch seconds:
/// the latest `DateLessThan` on `aws:TokenIssueTime` of a Deny statement. `None` when the
/// document states none (edited by hand into something else).
pub fn parse_cutoff(document: &str) -> Option<i64> {
    let policy = Policy::parse(document, PolicyKind::InlineIdentity).ok()?;
    let mut latest: Option<i64> = None;
    for statement in policy
        .statements
        .iter()
        .filter(|s| s.effect == Effect::Deny)
    {
        for condition in &statement.conditions {
            let is_cutoff = condition.operator.name.eq_ignore_ascii_case("DateLessThan")
                && condition.key.eq_ignore_ascii_case("aws:TokenIssueTime");
            if !is_cutoff {
                continue;
            }
            for value in &condition.values {
                if let Ok(t) = OffsetDateTime::parse(value, &Rfc3339) {
                    // A time inside a second denies the whole second before it.
                    let secs = cutoff(t).unix_timestamp();
                    latest = Some(latest.map_or(secs, |l| l.max(secs)));
                }
            }
        }
    }
    latest
}

/// The role's revocation time in epoch seconds, if its sessions were ever revoked: sessions
/// (and instance credential sets) issued before it are denied. This is the `not_before`
/// cut-off for `metadata::credentials::InstanceCredentials::current`.
pub async fn revoked_before<S: Store>(
    store: &S,
    account: &str,
    role_name: &str,
) -> Result<Option<i64>, StoreError> {
    match store
        .inline_policy(account, Principal::Role(role_name), POLICY_NAME)
        .await
    {
        Ok(policy) => Ok(parse_cutoff(&policy.document)),
        Err(StoreError::NotFound { .. }) => Ok(None),
        Err(e) => Err(e),
    }
}

/// Writes (or refreshes) the role's `AWSRevokeOlderSessions` policy for a revocation at `now`
/// and returns the revocation time. The same write as the console's PutRolePolicy.
pub async fn revoke_sessions<S: Store>(
    store: &S,
    account: &str,
    role_name: &str,
    now: OffsetDateTime,
) -> Result<OffsetDateTime, StoreError> {
    let at = cutoff(now);
    let document = document(at);
    let size = policy::size_without_whitespace(&document) as u64;
    let policy = InlinePolicy {
        name: POLICY_NAME.to_owned(),
        document,
        size,
    };
    store
        .put_inline_policy(
            account,
            Principal::Role(role_name),
            policy,
            ROLE_INLINE_QUOTA,
        )
        .await?;
    Ok(at)
}

#[cfg(test)]
mod tests {
    use super::*;
    use policy::{Context, ContextValue, Outcome, PolicySet, Request};
    use time::macros::datetime;

    /// `aws:TokenIssueTime` as the API sets it for a session issued at `issued_at`.
    fn token_issue_time(issued_at: i64) -> ContextValue {
        let t = OffsetDateTime::from_unix_timestamp(issued_at).expect("valid time");
        ContextValue::Single(t.format(&Rfc3339).expect("formats"))
    }

    fn decide(document: &str, issued_at: i64) -> Outcome {
        let policy = Policy::parse(document, PolicyKind::InlineIdentity).expect("parses");
        let allow = Policy::parse(
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#,
            PolicyKind::InlineIdentity,
        )
        .expect("allow");
        let mut context = Context::new();
        context.insert("aws:TokenIssueTime", token_issue_time(issued_at));
        let request = Request {
            principal: policy::Principal::from_arn(
                "arn:aws:sts::123456789012:assumed-role/app/session",
            )
            .expect("session ARN"),
            action: "s3:GetObject".into(),
            resource: "*".into(),
            resource_account: "123456789012".into(),
            context,
        };
        let set = PolicySet {
            identity: vec![allow, policy],
            ..PolicySet::default()
        };
        policy::evaluate(&request, &set).outcome
    }

    #[test]
    fn document_is_the_console_text() {
        assert_eq!(
            document(datetime!(2026-03-04 05:06:07 UTC)),
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":["*"],"Resource":["*"],"Condition":{"DateLessThan":{"aws:TokenIssueTime":"2026-03-04T05:06:07Z"}}}]}"#
        );
    }

    #[test]
    fn cutoff_rounds_up_to_the_next_second() {
        assert_eq!(
            cutoff(datetime!(2026-03-04 05:06:07.001 UTC)),
            datetime!(2026-03-04 05:06:08 UTC)
        );
        assert_eq!(
            cutoff(datetime!(2026-03-04 05:06:07 UTC)),
            datetime!(2026-03-04 05:06:07 UTC)
        );
    }

    #[test]
    fn denies_sessions_issued_before_the_cutoff_only() {
        let at = datetime!(2026-03-04 05:06:07.500 UTC);
        let doc = document(cutoff(at));
        let issued_same_second = at.unix_timestamp();
        assert_eq!(decide(&doc, issued_same_second - 60), Outcome::ExplicitDeny);
        assert_eq!(decide(&doc, issued_same_second), Outcome::ExplicitDeny);
        assert_eq!(decide(&doc, issued_same_second + 1), Outcome::Allowed);
    }

    #[test]
    fn parses_the_cutoff_back() {
        let at = datetime!(2026-03-04 05:06:07 UTC);
        assert_eq!(parse_cutoff(&document(at)), Some(at.unix_timestamp()));
        // The documented single-statement form, and a console copy with milliseconds.
        let documented = r#"{"Version":"2012-10-17","Statement":{"Effect":"Deny","Action":"*","Resource":"*","Condition":{"DateLessThan":{"aws:TokenIssueTime":"2014-05-07T23:47:00Z"}}}}"#;
        assert_eq!(
            parse_cutoff(documented),
            Some(datetime!(2014-05-07 23:47:00 UTC).unix_timestamp())
        );
        let millis = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":["*"],"Resource":["*"],"Condition":{"DateLessThan":{"aws:TokenIssueTime":"2024-10-10T09:43:48.085Z"}}}]}"#;
        assert_eq!(
            parse_cutoff(millis),
            Some(datetime!(2024-10-10 09:43:49 UTC).unix_timestamp())
        );
        let unrelated = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"DateLessThan":{"aws:TokenIssueTime":"2024-10-10T09:43:48Z"}}}]}"#;
        assert_eq!(parse_cutoff(unrelated), None);
        assert_eq!(parse_cutoff("{"), None);
    }
}
