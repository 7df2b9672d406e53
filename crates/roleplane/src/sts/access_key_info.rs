//! GetAccessKeyInfo: the account an access key ID belongs to, for keys of the caller's own
//! account only (decision 0021).
//!
//! AWS decodes the account from the key ID itself, so on AWS the answer tells nothing the ID
//! did not already carry. roleplane's key IDs are random: mapping one to its account would
//! tell a caller which tenant of the deployment holds a key it found, and whether the key
//! exists at all. So a long-term key of the caller's account, or the caller's own key
//! (temporary ones included), gets the account; every other ID, another account's, a deleted
//! one, an unknown one or another session's temporary key, gets one and the same refusal.

use protocol::{AwsError, Envelope, Protocol, Violations};
use store::{Store, StoreError};

use super::input::Text;
use crate::request::Call;
use crate::request::authz::authorize;

/// `accessKeyIdType`: 16–128 characters of `[\w]`.
const ACCESS_KEY_ID: Text = Text {
    path: "accessKeyId",
    min: 16,
    max: 128,
    pattern: r"[\w]*",
    allowed: |c| c.is_ascii_alphanumeric() || c == '_',
};

pub async fn get_access_key_info<S: Store>(call: &Call<'_, S>) -> Result<String, AwsError> {
    let mut v = Violations::new();
    let key_id = call.input.root().optional_str("AccessKeyId");
    match key_id {
        Some(id) => ACCESS_KEY_ID.check(id, &mut v),
        None => v.null("accessKeyId"),
    }
    v.into_result()?;
    let key_id = key_id.unwrap_or_default();
    authorize(call, "sts:GetAccessKeyInfo", "*").await?;

    let account = &call.caller.account_id;
    let own = key_id == call.caller.access_key_id
        || match call.app.store().access_key(key_id).await {
            Ok((_, user)) => user.account_id == *account,
            Err(StoreError::NotFound { .. }) => false,
            Err(e) => {
                tracing::error!(error = %e, "looking up an access key");
                return Err(AwsError::internal(Protocol::AwsQuery));
            }
        };
    if !own {
        return Err(not_in_account(key_id));
    }
    Ok(
        Envelope::STS.success("GetAccessKeyInfo", call.request_id, |x| {
            x.elem("Account", account);
        }),
    )
}

/// roleplane's refusal (decision 0021): the same for every key that is not the caller
/// account's, so that it reveals neither the key's existence nor its account.
fn not_in_account(key_id: &str) -> AwsError {
    AwsError::invalid_parameter_value(format!(
        "The access key ID {key_id} does not belong to the calling account."
    ))
}
