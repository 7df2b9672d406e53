//! GetSessionToken: temporary credentials carrying an IAM user's own permissions.
//!
//! No permission is needed to call it (STS API reference: "No permissions are required"), and
//! it is for long-term credentials only: session credentials get AccessDenied.

use store::Store;

use super::credentials::{new_claims, seal, write_credentials};
use crate::credentials::SessionPrincipal;
use crate::protocol::{AwsError, Envelope};
use crate::server::Identity;
use crate::server::api::Call;

const DEFAULT_DURATION: i32 = 43200;
const MIN_DURATION: i32 = 900;
const MAX_DURATION: i32 = 129_600;

/// STS's wording (aws/aws-sdk-net#1704, aws/aws-sdk-php#1876).
const FROM_SESSION: &str = "Cannot call GetSessionToken with session credentials";

pub fn get_session_token<S: Store>(call: &Call<'_, S>) -> Result<String, AwsError> {
    let duration = call
        .params
        .optional_i32("DurationSeconds", MIN_DURATION..=MAX_DURATION)?
        .unwrap_or(DEFAULT_DURATION);
    let user = match &call.caller.identity {
        Identity::User(user) => user,
        Identity::Session(_) => return Err(AwsError::access_denied(FROM_SESSION)),
    };
    let principal = SessionPrincipal::UserSession {
        user_arn: call.caller.principal.arn().to_owned(),
        user_id: user.id.clone(),
    };
    let duration = u32::try_from(duration).unwrap_or(43200);
    let claims = new_claims(&user.account_id, principal, call.now, duration)?;
    let token = seal(call.app, &claims)?;
    Ok(
        Envelope::STS.success("GetSessionToken", call.request_id, |x| {
            write_credentials(x, &claims, &token);
        }),
    )
}
