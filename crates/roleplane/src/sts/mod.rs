//! AWS Security Token Service (awsQuery, 2011-06-15).

use store::Store;

use crate::protocol::{AwsError, Envelope};
use crate::server::api::Call;

pub async fn handle<S: Store>(call: &Call<'_, S>) -> Result<String, AwsError> {
    match call.params.action() {
        "GetCallerIdentity" => Ok(get_caller_identity(call)),
        action => Err(AwsError::invalid_action(
            Envelope::STS.protocol,
            action,
            Envelope::STS.version,
        )),
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
