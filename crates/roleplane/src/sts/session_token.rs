//! GetSessionToken: temporary credentials carrying an IAM user's own permissions.
//!
//! No permission is needed to call it (STS API reference: "No permissions are required"), and
//! it is for long-term credentials only: session credentials get AccessDenied.
//!
//! What its credentials may call is narrower than the user's permissions (STS API reference,
//! GetSessionToken): no IAM operation without MFA (roleplane has no MFA devices, so none at
//! all), and of STS only AssumeRole and GetCallerIdentity. [`restrict`] enforces both, and
//! GetFederationToken's narrower rules for federated users' credentials.

use protocol::{AwsError, Envelope, Protocol};
use store::Store;

use super::credentials::{new_claims, seal, write_credentials};
use crate::credentials::SessionPrincipal;
use crate::request::Call;
use crate::request::{Caller, Identity, host_agent, invalid_token};

const DEFAULT_DURATION: i32 = 43200;
const MIN_DURATION: i32 = 900;
const MAX_DURATION: i32 = 129_600;

/// STS's wording (aws/aws-sdk-net#1704, aws/aws-sdk-php#1876).
const FROM_SESSION: &str = "Cannot call GetSessionToken with session credentials";

/// Refuses what credentials from GetSessionToken may not call, before the operation runs.
/// IAM answers as it does for any token it does not accept (aws/aws-sdk-js#460, 99designs/aws-vault#15).
pub fn restrict(caller: &Caller, service: &str, action: &str) -> Result<(), AwsError> {
    let Identity::Session(claims) = &caller.identity else {
        return Ok(());
    };
    match claims.principal {
        SessionPrincipal::UserSession { .. } => {}
        SessionPrincipal::FederatedUser { .. } => {
            return super::federation_token::restrict(service, action);
        }
        _ => return Ok(()),
    }
    match (service, action) {
        ("iam", _) => Err(invalid_token("iam")),
        // GetSessionToken and GetFederationToken refuse every session themselves.
        ("sts", "AssumeRole" | "GetCallerIdentity" | "GetSessionToken" | "GetFederationToken") => {
            Ok(())
        }
        // UNCONFIRMED wording, after GetSessionToken's and GetFederationToken's.
        ("sts", other) => Err(AwsError::access_denied(format!(
            "Cannot call {other} with session credentials from GetSessionToken"
        ))),
        _ => Ok(()),
    }
}

pub fn get_session_token<S: Store>(call: &Call<'_, S>) -> Result<String, AwsError> {
    let duration = call
        .input
        .optional_i32("DurationSeconds", MIN_DURATION..=MAX_DURATION)?
        .unwrap_or(DEFAULT_DURATION);
    let user = match &call.caller.identity {
        Identity::User(user) => user,
        Identity::Session(_) => return Err(AwsError::access_denied(FROM_SESSION)),
        Identity::HostAgent(_) => {
            return Err(host_agent::denial(
                call.caller,
                super::SERVICE,
                call.operation,
                Protocol::AwsQuery,
            ));
        }
    };
    super::refuse_mfa(call)?;
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
