//! Amazon EC2 (ec2Query, 2016-11-15): the instance and instance-profile-association APIs.
//!
//! [`instances`] launches, lists and changes instances; [`attributes`] decodes user data and
//! serves Describe/ModifyInstanceAttribute; [`key_pairs`] creates, imports, lists and deletes
//! key pairs (public keys kept; a created key's private half is returned once, made by
//! [`key_generation`]); [`tags`] adds, removes and lists the tags of instances and key pairs
//! and holds EC2's tag rules; [`associations`] attaches, replaces and
//! detaches instance profiles; [`metadata`] manages metadata options and account defaults;
//! [`vpcs`], [`security_groups`] and [`zones`] describe the network instances are on, which
//! [`network`] computes (nothing of it is stored); [`hosts`] allocates, lists and releases
//! Dedicated Hosts, each with its agent's access key, and RunInstances places instances on them.
//! Beneath them, [`access`] authorizes (UnauthorizedOperation with an encoded message),
//! [`locate`] looks up the instances and associations an operation names (authorized before a
//! missing one is reported), [`profiles`] resolves `IamInstanceProfile` and checks
//! `iam:PassRole`, [`filters`] and [`ids`] validate input, [`addresses`] decides which
//! `PrivateIpAddress` an instance may have and [`ipv6_addresses`] which IPv6 addresses,
//! [`error`] words failures as EC2 does, and [`xml`] writes the shapes.
//!
//! States settle at once (see `store::sqlite::instances`): a write answers with the
//! transitional state and the next read shows the settled one, so tests are deterministic.

mod access;
pub mod addresses;
mod associations;
mod attributes;
pub mod error;
pub(crate) mod filters;
mod hosts;
mod ids;
mod instances;
pub mod ipv6_addresses;
mod key_generation;
mod key_pairs;
mod locate;
mod metadata;
pub mod network;
pub(crate) mod pages;
mod profiles;
mod security_groups;
mod tags;
mod vpcs;
mod xml;
mod zones;

use protocol::query::Query;
use protocol::{AwsError, Envelope, XmlWriter};
use store::{StateRequest, Store};

use crate::request::{Call, Service};

type Reply = Result<String, AwsError>;

/// EC2's signing name.
pub const SERVICE: &str = "ec2";

/// EC2 on the request pipeline.
pub struct Ec2;

impl<S: Store> Service<S> for Ec2 {
    type Dialect = Query;
    const NAME: &'static str = SERVICE;

    fn dialect(&self) -> &Query {
        const DIALECT: Query = Query(Envelope::EC2);
        &DIALECT
    }

    fn operations(&self) -> &'static [&'static str] {
        OPERATIONS
    }

    async fn call(&self, call: &Call<'_, S>) -> Reply {
        handle(call).await
    }
}

async fn handle<S: Store>(call: &Call<'_, S>) -> Reply {
    let reply = dispatch(call).await;
    // --- metadata service hook (IMDS engineer) ---
    // An instance's metadata service appears, changes or disappears with the write that caused
    // it: the response waits until IMDS reflects the store.
    if reply.is_ok() {
        let generation = call.app.store().changes().ec2;
        call.app.instance_sync().settle(generation).await;
    }
    // --- end of metadata service hook ---
    reply
}

/// Every operation served (see `iam::OPERATIONS`).
pub const OPERATIONS: &[&str] = &[
    "RunInstances",
    "DescribeInstances",
    "StartInstances",
    "StopInstances",
    "TerminateInstances",
    "DescribeInstanceAttribute",
    "ModifyInstanceAttribute",
    "CreateKeyPair",
    "ImportKeyPair",
    "DescribeKeyPairs",
    "DeleteKeyPair",
    "CreateTags",
    "DeleteTags",
    "DescribeTags",
    "AssociateIamInstanceProfile",
    "ReplaceIamInstanceProfileAssociation",
    "DisassociateIamInstanceProfile",
    "DescribeIamInstanceProfileAssociations",
    "ModifyInstanceMetadataOptions",
    "ModifyInstanceMetadataDefaults",
    "GetInstanceMetadataDefaults",
    "DescribeVpcs",
    "DescribeSubnets",
    "DescribeSecurityGroups",
    "DescribeAvailabilityZones",
    "AllocateHosts",
    "DescribeHosts",
    "ReleaseHosts",
];

async fn dispatch<S: Store>(call: &Call<'_, S>) -> Reply {
    match call.operation {
        "RunInstances" => instances::run(call).await,
        "DescribeInstances" => instances::describe(call).await,
        "StartInstances" => instances::change_state(call, StateRequest::Start).await,
        "StopInstances" => instances::change_state(call, StateRequest::Stop).await,
        "TerminateInstances" => instances::change_state(call, StateRequest::Terminate).await,
        "DescribeInstanceAttribute" => attributes::describe(call).await,
        "ModifyInstanceAttribute" => attributes::modify(call).await,

        "CreateKeyPair" => key_pairs::create(call).await,
        "ImportKeyPair" => key_pairs::import(call).await,
        "DescribeKeyPairs" => key_pairs::describe(call).await,
        "DeleteKeyPair" => key_pairs::delete(call).await,

        "CreateTags" => tags::create(call).await,
        "DeleteTags" => tags::delete(call).await,
        "DescribeTags" => tags::describe(call).await,

        "AssociateIamInstanceProfile" => associations::associate(call).await,
        "ReplaceIamInstanceProfileAssociation" => associations::replace(call).await,
        "DisassociateIamInstanceProfile" => associations::disassociate(call).await,
        "DescribeIamInstanceProfileAssociations" => associations::describe(call).await,

        "ModifyInstanceMetadataOptions" => metadata::modify_options(call).await,
        "ModifyInstanceMetadataDefaults" => metadata::modify_defaults(call).await,
        "GetInstanceMetadataDefaults" => metadata::get_defaults(call).await,

        "DescribeVpcs" => vpcs::describe_vpcs(call).await,
        "DescribeSubnets" => vpcs::describe_subnets(call).await,
        "DescribeSecurityGroups" => security_groups::describe(call).await,
        "DescribeAvailabilityZones" => zones::describe(call).await,

        "AllocateHosts" => hosts::allocate(call).await,
        "DescribeHosts" => hosts::describe(call).await,
        "ReleaseHosts" => hosts::release(call).await,

        action => Err(AwsError::invalid_action(
            Envelope::EC2.protocol,
            action,
            Envelope::EC2.version,
        )),
    }
}

fn respond<S>(call: &Call<'_, S>, output: impl FnOnce(&mut XmlWriter)) -> String {
    Envelope::EC2.success(call.operation, call.request_id, output)
}

/// The caller's account: EC2 resources are the caller's own.
fn account<'c, S>(call: &Call<'c, S>) -> &'c str {
    &call.caller.account_id
}
