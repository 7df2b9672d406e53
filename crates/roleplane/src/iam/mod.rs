//! AWS Identity and Access Management (awsQuery, 2010-05-08).

use store::Store;

use crate::protocol::{AwsError, Envelope};
use crate::server::api::Call;

pub async fn handle<S: Store>(call: &Call<'_, S>) -> Result<String, AwsError> {
    Err(AwsError::invalid_action(
        Envelope::IAM.protocol,
        call.params.action(),
        Envelope::IAM.version,
    ))
}
