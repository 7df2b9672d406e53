//! AWS Security Token Service (awsQuery, 2011-06-15).
//!
//! - [`assume_role`]: AssumeRole, with the role's trust policy as the resource policy.
//! - [`session_token`]: GetSessionToken for IAM users.
//! - [`federation_token`]: GetFederationToken, federated users issued by IAM users.
//! - [`access_key_info`]: GetAccessKeyInfo, for the caller's own account's keys.
//! - [`authorization_message`]: DecodeAuthorizationMessage, and the encoder other services use.
//! - [`credentials`]: minting and sealing temporary credentials (ASIA…), shared by the above.
//! - [`input`]: the model constraints of STS inputs, worded as AWS words them.
//! - [`web_identity`]: AssumeRoleWithWebIdentity, the one operation served unsigned
//!   ([`serve_unsigned`]).

mod access_key_info;
mod assume_role;
pub mod authorization_message;
pub(crate) mod credentials;
mod federation_token;
pub(crate) mod input;
mod session_token;
#[cfg(test)]
mod tests;
pub mod web_identity;

use store::Store;

pub use authorization_message::encode_authorization_message;
pub use credentials::{PACKED_LIMIT, packed_policy_size};
pub use session_token::restrict as restrict_session_token_credentials;

use std::net::SocketAddr;

use protocol::query::Query;
use protocol::{AwsError, Dialect, Envelope, Rendered};
use sigv4::HttpRequest;

use crate::audit::CallRecord;
use crate::request::{App, Call, Service};

/// Every operation served (see `iam::OPERATIONS`).
pub const OPERATIONS: &[&str] = &[
    "GetCallerIdentity",
    "AssumeRole",
    "GetSessionToken",
    "DecodeAuthorizationMessage",
    "GetFederationToken",
    "GetAccessKeyInfo",
    web_identity::OPERATION,
];

/// STS's signing name.
pub const SERVICE: &str = "sts";

/// STS on the request pipeline.
pub struct Sts;

impl<S: Store> Service<S> for Sts {
    type Dialect = Query;
    const NAME: &'static str = SERVICE;

    fn dialect(&self) -> &Query {
        const DIALECT: Query = Query(Envelope::STS);
        &DIALECT
    }

    fn operations(&self) -> &'static [&'static str] {
        OPERATIONS
    }

    async fn call(&self, call: &Call<'_, S>) -> Result<String, AwsError> {
        dispatch(call).await
    }
}

async fn dispatch<S: Store>(call: &Call<'_, S>) -> Result<String, AwsError> {
    match call.operation {
        "GetCallerIdentity" => Ok(get_caller_identity(call)),
        "AssumeRole" => assume_role::assume_role(call).await,
        "GetSessionToken" => session_token::get_session_token(call),
        "DecodeAuthorizationMessage" => authorization_message::decode(call).await,
        "GetFederationToken" => federation_token::get_federation_token(call).await,
        "GetAccessKeyInfo" => access_key_info::get_access_key_info(call).await,
        // Signed or not, the token alone decides (the signer is only recorded).
        web_identity::OPERATION => {
            let (result, _) =
                web_identity::serve(call.app, call.input, call.peer, call.now, call.request_id)
                    .await;
            result
        }
        action => Err(AwsError::invalid_action(
            Envelope::STS.protocol,
            action,
            Envelope::STS.version,
        )),
    }
}

/// AWS's answer to an MFA serial number that no device of the caller has (aws/aws-cli#6325,
/// 99designs/aws-vault#676; two spaces after the first sentence, as AWS sends it).
const MFA_FAILED: &str = "MultiFactorAuthentication failed, unable to validate MFA code.  \
Please verify your MFA serial number is valid and associated with this user.";

/// roleplane has no MFA devices, so a `SerialNumber` (GetSessionToken, AssumeRole) names none
/// of the caller's, and AWS refuses that rather than ignoring it. Credentials issued without
/// MFA would only fail later and more obscurely (IAM refuses them).
fn refuse_mfa<S>(call: &Call<'_, S>) -> Result<(), AwsError> {
    match call.input.optional_str("SerialNumber") {
        Some(_) => Err(AwsError::access_denied(MFA_FAILED)),
        None => Ok(()),
    }
}

/// Always allowed, even under an explicit deny (IAM UG: "No permissions are required").
fn get_caller_identity<S>(call: &Call<'_, S>) -> String {
    let principal = &call.caller.principal;
    Envelope::STS.success("GetCallerIdentity", call.request_id, |x| {
        x.elem("Arn", principal.arn())
            .elem(
                "UserId",
                principal.global_key("aws:userid").unwrap_or_default(),
            )
            .elem("Account", &call.caller.account_id);
    })
}

/// Serves an unsigned request if it is one STS takes without a signature
/// (AssumeRoleWithWebIdentity, as on AWS); `None` for any other. Its record names the web
/// identity once the token's provider is found; a call whose token did not verify is
/// recorded as a stranger's (decision 0017), and one naming no provider of the role's
/// account is not recorded at all, like any other unauthenticated call.
pub async fn serve_unsigned<S: Store>(
    app: &App<S>,
    http: &HttpRequest<'_>,
    peer: SocketAddr,
    now: u64,
    request_id: &str,
    record: &mut CallRecord,
) -> Option<Rendered> {
    const DIALECT: Query = Query(Envelope::STS);
    let (operation, params) = DIALECT.decode(http).ok()?;
    if operation != web_identity::OPERATION || params.version() != Some(Envelope::STS.version) {
        return None;
    }
    record.unsigned(SERVICE, app.region());
    record.served_by(SERVICE);
    record.listed_operation(web_identity::OPERATION);
    record.input(&operation, &params);
    let (result, who) = web_identity::serve(app, &params, peer, now, request_id).await;
    if let Some(who) = who {
        record.web_identity(
            &who.account_id,
            &who.provider_arn,
            who.audience.as_deref(),
            who.subject.as_deref(),
        );
    }
    match &result {
        Ok(body) => record.succeeded(body),
        Err(error) => record.failed(error),
    }
    Some(DIALECT.render(result, request_id))
}
