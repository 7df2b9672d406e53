//! Encoded authorization failure messages, and DecodeAuthorizationMessage.
//!
//! Services that deny with `UnauthorizedOperation` (EC2) attach the decision's JSON sealed
//! under the data dir's master key, so only roleplane can read it, and only for a caller of the
//! same account who holds `sts:DecodeAuthorizationMessage`. The wire form is unpadded base64url,
//! as AWS's encoded messages look.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use protocol::{AwsError, Envelope, Protocol};
use store::Store;

use crate::request::App;
use crate::request::Call;
use crate::request::authz::authorize;

/// The sealing key's associated data is `access-key-secret:` + this label. No access key ID can
/// be spelled like it (those are 20 uppercase letters and digits), so an encoded message can
/// never be opened as a key's secret, nor the other way round.
const SEAL_LABEL: &str = "authorization-message";

/// Encoded messages longer than this are refused before any work (AWS's model: 1–10240).
const MAX_ENCODED_LEN: usize = 10240;

/// UNCONFIRMED wording: the botocore model documents the error but not its message.
const INVALID: &str = "The encoded authorization message is invalid.";

/// Seals `decoded_json` (the decision, as in aws-apis.md §3) for callers in `account_id`.
pub fn encode_authorization_message<S>(
    app: &App<S>,
    account_id: &str,
    decoded_json: &str,
) -> Result<String, AwsError> {
    let plaintext = format!("{account_id}\n{decoded_json}");
    let sealed = app.seal_secret(SEAL_LABEL, &plaintext).map_err(|e| {
        tracing::error!(error = %e, "sealing an authorization message");
        AwsError::internal(Protocol::AwsQuery)
    })?;
    Ok(URL_SAFE_NO_PAD.encode(sealed))
}

pub async fn decode<S: Store>(call: &Call<'_, S>) -> Result<String, AwsError> {
    let encoded = call.input.required_str("EncodedMessage")?;
    authorize(call, "sts:DecodeAuthorizationMessage", "*").await?;
    let decoded = open(call.app, &call.caller.account_id, encoded)?;
    Ok(
        Envelope::STS.success("DecodeAuthorizationMessage", call.request_id, |x| {
            x.elem("DecodedMessage", &decoded);
        }),
    )
}

fn invalid() -> AwsError {
    AwsError::sender("InvalidAuthorizationMessageException", 400, INVALID)
}

/// The decoded JSON, if `encoded` is a message we sealed for `account_id`.
fn open<S>(app: &App<S>, account_id: &str, encoded: &str) -> Result<String, AwsError> {
    if encoded.is_empty() || encoded.len() > MAX_ENCODED_LEN {
        return Err(invalid());
    }
    let sealed = URL_SAFE_NO_PAD.decode(encoded).map_err(|_| invalid())?;
    let plaintext = app
        .open_secret(SEAL_LABEL, &sealed)
        .map_err(|_| invalid())?;
    let text = std::str::from_utf8(&plaintext).map_err(|_| invalid())?;
    match text.split_once('\n') {
        Some((account, json)) if account == account_id => Ok(json.to_owned()),
        _ => Err(invalid()),
    }
}
