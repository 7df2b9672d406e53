//! The credential report (GenerateCredentialReport, GetCredentialReport): one CSV row per user
//! of the account with the state of its credentials, in the columns AWS documents ("Generate
//! credential reports for your AWS account", IAM User Guide).
//!
//! A report is generated whole when asked for and kept in the account's settings; as on AWS, a
//! new one is generated only when none exists or the last is older than four hours. A login
//! profile makes `password_enabled` true (its password never signs in: there is no console).
//! roleplane has no MFA devices, signing certificates or root user: their columns read as AWS
//! fills them for a user that has none, and the report has no `<root_account>` row (decision
//! 0020).

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use protocol::AwsError;
use store::{AccessKey, AccessKeyStatus, Store, UserCredentials};
use time::OffsetDateTime;

use super::access::authorize;
use super::validate::Input;
use super::{Reply, account, respond, store_error, xml};
use crate::request::Call;

/// Where the account's latest report is kept: `<generated, epoch seconds>\n<csv>`.
const SETTING: &str = "iam:credential-report";

/// How long a report stays current (AWS: "as often as once every four hours").
const LIFETIME_SECS: u64 = 4 * 60 * 60;

const COLUMNS: [&str; 22] = [
    "user",
    "arn",
    "user_creation_time",
    "password_enabled",
    "password_last_used",
    "password_last_changed",
    "password_next_rotation",
    "mfa_active",
    "access_key_1_active",
    "access_key_1_last_rotated",
    "access_key_1_last_used_date",
    "access_key_1_last_used_region",
    "access_key_1_last_used_service",
    "access_key_2_active",
    "access_key_2_last_rotated",
    "access_key_2_last_used_date",
    "access_key_2_last_used_region",
    "access_key_2_last_used_service",
    "cert_1_active",
    "cert_1_last_rotated",
    "cert_2_active",
    "cert_2_last_rotated",
];

/// "Not applicable": what AWS writes where a user lacks the credential.
const NA: &str = "N/A";

struct Report {
    generated: u64,
    csv: String,
}

async fn stored<S: Store>(call: &Call<'_, S>) -> Result<Option<Report>, AwsError> {
    let value = call
        .app
        .store()
        .setting(account(call), SETTING)
        .await
        .map_err(store_error)?;
    Ok(value.and_then(|value| {
        let (generated, csv) = value.split_once('\n')?;
        Some(Report {
            generated: generated.parse().ok()?,
            csv: csv.to_owned(),
        })
    }))
}

pub async fn generate<S: Store>(call: &Call<'_, S>) -> Reply {
    Input::new(call.input).finish()?;
    authorize(call, "*", Vec::new()).await?;
    let existing = stored(call).await?;
    if let Some(report) = &existing
        && call.now.saturating_sub(report.generated) < LIFETIME_SECS
    {
        return Ok(respond(call, |x| {
            x.elem("State", "COMPLETE");
        }));
    }
    let users = call
        .app
        .store()
        .user_credentials(account(call))
        .await
        .map_err(store_error)?;
    let csv = render(call, &users);
    call.app
        .store()
        .put_setting(account(call), SETTING, &format!("{}\n{csv}", call.now))
        .await
        .map_err(store_error)?;
    // Generation is immediate here, but the first answer says STARTED as AWS's does; the next
    // call finds the report COMPLETE (recorded AWS answers: LocalStack's
    // test_iam_credential_report.py, initial-generate-response and generate-completed-response).
    Ok(respond(call, |x| {
        x.elem("State", "STARTED");
        if existing.is_none() {
            x.elem(
                "Description",
                "No report exists. Starting a new report generation task",
            );
        }
    }))
}

pub async fn get<S: Store>(call: &Call<'_, S>) -> Reply {
    Input::new(call.input).finish()?;
    authorize(call, "*", Vec::new()).await?;
    let Some(report) = stored(call).await? else {
        // AWS's answer carries no message (recorded: get-credential-report-without-generate-error).
        return Err(AwsError::sender("ReportNotPresent", 410, ""));
    };
    if call.now.saturating_sub(report.generated) >= LIFETIME_SECS {
        return Err(AwsError::sender(
            "ReportExpired",
            410,
            "The most recent credential report has expired. To generate a new credential \
             report, use GenerateCredentialReport.",
        ));
    }
    let generated = OffsetDateTime::from_unix_timestamp(report.generated as i64)
        .unwrap_or(OffsetDateTime::UNIX_EPOCH);
    Ok(respond(call, |x| {
        x.elem("Content", STANDARD.encode(report.csv.as_bytes()))
            .elem("ReportFormat", "text/csv")
            .elem("GeneratedTime", xml::date(generated));
    }))
}

/// The report's CSV: the header, then one row per user by name.
fn render<S>(call: &Call<'_, S>, users: &[UserCredentials]) -> String {
    let mut lines = vec![COLUMNS.join(",")];
    for entry in users {
        let user = &entry.user;
        let mut row: Vec<String> =
            vec![user.name.clone(), user.arn.clone(), timestamp(user.created)];
        row.extend(password_columns(entry.login_profile.as_ref()));
        // No MFA devices.
        row.push("false".into());
        for slot in 0..2 {
            row.extend(key_columns(
                call,
                slots(&entry.access_keys).get(slot).copied(),
            ));
        }
        // No signing certificates.
        row.extend(["false", NA, "false", NA].map(String::from));
        lines.push(row.iter().map(|f| field(f)).collect::<Vec<_>>().join(","));
    }
    lines.join("\n")
}

/// `password_enabled`, `password_last_used`, `password_last_changed` and
/// `password_next_rotation`, as AWS writes them for a user with a password that has never
/// signed in (there is no console to sign in to) under no rotation policy, or with none.
fn password_columns(profile: Option<&store::LoginProfile>) -> [String; 4] {
    match profile {
        Some(profile) => [
            "true".into(),
            "no_information".into(),
            timestamp(profile.password_changed),
            NA.into(),
        ],
        None => ["false", NA, NA, NA].map(String::from),
    }
}

/// The keys in the report's slot order: active keys first, each group oldest first (the store
/// gives them oldest first). AWS documents no order; its one recording (LocalStack's
/// test_iam_credential_report.py: a first key made inactive, then a second) has the active
/// second key in slot 1, which this rule fits and creation order does not.
fn slots(keys: &[AccessKey]) -> Vec<&AccessKey> {
    let mut ordered: Vec<&AccessKey> = keys.iter().collect();
    ordered.sort_by_key(|key| key.status != AccessKeyStatus::Active);
    ordered
}

/// The five columns of one access key slot, in the order of [`COLUMNS`].
fn key_columns<S>(call: &Call<'_, S>, key: Option<&AccessKey>) -> [String; 5] {
    let Some(key) = key else {
        return ["false", NA, NA, NA, NA].map(String::from);
    };
    let active = key.status == AccessKeyStatus::Active;
    let used = call
        .app
        .last_use()
        .key(&key.access_key_id, key.last_used.clone());
    let (date, region, service) = match used {
        Some(used) => (
            timestamp(used.date),
            used.region.unwrap_or_else(|| NA.into()),
            used.service.unwrap_or_else(|| NA.into()),
        ),
        None => (NA.into(), NA.into(), NA.into()),
    };
    [
        active.to_string(),
        timestamp(key.created),
        date,
        region,
        service,
    ]
}

/// ISO 8601 in UTC, whole seconds, `Z`: AWS's recorded report (LocalStack's
/// test_iam_credential_report.py) has its times in this form, not the `+00:00` of the User
/// Guide's example.
fn timestamp(at: OffsetDateTime) -> String {
    xml::date(at).to_string()
}

/// A CSV field, quoted when it holds a comma or a quote (IAM names may hold commas).
fn field(value: &str) -> String {
    if value.contains([',', '"', '\n']) {
        format!("\"{}\"", value.replace('"', "\"\""))
    } else {
        value.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_with_commas_are_quoted() {
        assert_eq!(field("plain"), "plain");
        assert_eq!(field("a,b"), "\"a,b\"");
        assert_eq!(field("a\"b"), "\"a\"\"b\"");
    }

    #[test]
    fn active_keys_take_the_first_slots_then_the_oldest() {
        let key = |id: &str, status| AccessKey {
            access_key_id: id.into(),
            account_id: "123456789012".into(),
            user_name: "u".into(),
            user_id: "AIDA".into(),
            status,
            secret_ciphertext: Vec::new(),
            created: OffsetDateTime::UNIX_EPOCH,
            last_used: None,
        };
        let ids = |keys: &[AccessKey]| -> Vec<String> {
            slots(keys)
                .iter()
                .map(|k| k.access_key_id.clone())
                .collect()
        };
        use AccessKeyStatus::{Active, Inactive};
        assert_eq!(
            ids(&[key("old", Inactive), key("new", Active)]),
            ["new", "old"]
        );
        assert_eq!(
            ids(&[key("old", Active), key("new", Active)]),
            ["old", "new"]
        );
        assert_eq!(
            ids(&[key("old", Active), key("new", Inactive)]),
            ["old", "new"]
        );
    }

    #[test]
    fn times_are_utc_with_z_in_whole_seconds() {
        let at = OffsetDateTime::from_unix_timestamp(1_657_720_081).unwrap();
        assert_eq!(timestamp(at), "2022-07-13T13:48:01Z");
    }
}
