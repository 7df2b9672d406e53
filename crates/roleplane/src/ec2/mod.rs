//! Amazon EC2 (ec2Query, 2016-11-15): the instance and instance-profile-association APIs.
//!
//! [`instances`] launches, lists and changes instances; [`associations`] attaches, replaces and
//! detaches instance profiles; [`metadata`] manages metadata options and account defaults.
//! Beneath them, [`access`] authorizes (UnauthorizedOperation with an encoded message),
//! [`locate`] looks up the instances and associations an operation names (authorized before a
//! missing one is reported), [`profiles`] resolves `IamInstanceProfile` and checks
//! `iam:PassRole`, [`filters`] and [`ids`] validate input, [`addresses`] decides which
//! `PrivateIpAddress` an instance may have, [`error`] words failures as EC2 does, and [`xml`]
//! writes the shapes.
//!
//! States settle at once (see `store::sqlite::instances`): a write answers with the
//! transitional state and the next read shows the settled one, so tests are deterministic.

mod access;
pub mod addresses;
mod associations;
pub mod error;
mod filters;
mod ids;
mod instances;
mod locate;
mod metadata;
mod profiles;
mod xml;

use store::{StateRequest, Store};

use crate::protocol::{AwsError, Envelope, XmlWriter};
use crate::server::api::Call;

type Reply = Result<String, AwsError>;

pub async fn handle<S: Store>(call: &Call<'_, S>) -> Reply {
    let reply = dispatch(call).await;
    // --- metadata service hook (IMDS engineer) ---
    // An instance's metadata service appears, changes or disappears with the write that caused
    // it: the response waits until IMDS reflects the store.
    if reply.is_ok() {
        let generation = call.app.store().ec2_generation();
        call.app.instance_sync().settle(generation).await;
    }
    // --- end of metadata service hook ---
    reply
}

/// Every operation served. An operation is dispatched only when listed here, so one added to
/// the dispatch alone answers InvalidAction; the cross-account walk (crates/e2e, `isolation`)
/// covers each listed operation and fails when one is missing from it.
pub const OPERATIONS: &[&str] = &[
    "RunInstances",
    "DescribeInstances",
    "StartInstances",
    "StopInstances",
    "TerminateInstances",
    "AssociateIamInstanceProfile",
    "ReplaceIamInstanceProfileAssociation",
    "DisassociateIamInstanceProfile",
    "DescribeIamInstanceProfileAssociations",
    "ModifyInstanceMetadataOptions",
    "ModifyInstanceMetadataDefaults",
    "GetInstanceMetadataDefaults",
];

async fn dispatch<S: Store>(call: &Call<'_, S>) -> Reply {
    let action = call.params.action();
    if !OPERATIONS.contains(&action) {
        return Err(AwsError::invalid_action(
            Envelope::EC2.protocol,
            action,
            Envelope::EC2.version,
        ));
    }
    match action {
        "RunInstances" => instances::run(call).await,
        "DescribeInstances" => instances::describe(call).await,
        "StartInstances" => instances::change_state(call, StateRequest::Start).await,
        "StopInstances" => instances::change_state(call, StateRequest::Stop).await,
        "TerminateInstances" => instances::change_state(call, StateRequest::Terminate).await,

        "AssociateIamInstanceProfile" => associations::associate(call).await,
        "ReplaceIamInstanceProfileAssociation" => associations::replace(call).await,
        "DisassociateIamInstanceProfile" => associations::disassociate(call).await,
        "DescribeIamInstanceProfileAssociations" => associations::describe(call).await,

        "ModifyInstanceMetadataOptions" => metadata::modify_options(call).await,
        "ModifyInstanceMetadataDefaults" => metadata::modify_defaults(call).await,
        "GetInstanceMetadataDefaults" => metadata::get_defaults(call).await,

        action => Err(AwsError::invalid_action(
            Envelope::EC2.protocol,
            action,
            Envelope::EC2.version,
        )),
    }
}

fn respond<S>(call: &Call<'_, S>, output: impl FnOnce(&mut XmlWriter)) -> String {
    Envelope::EC2.success(call.params.action(), call.request_id, output)
}

/// The caller's account: EC2 resources are the caller's own.
fn account<'c, S>(call: &Call<'c, S>) -> &'c str {
    &call.caller.account_id
}
