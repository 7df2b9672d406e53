//! EC2's errors, each with the code and message EC2 sends (aws-apis.md §3 where it has them;
//! the rest are marked UNCONFIRMED). Every one is a 400 except UnauthorizedOperation (403) and
//! InternalError (500).

use protocol::{AwsError, Protocol};
use store::{Ec2Rejection, EntityKind, Quota, StoreError};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Ec2Error {
    #[error("Invalid id: \"{0}\"")]
    MalformedInstanceId(String),
    #[error("{}", instances_not_found(.0))]
    InstanceNotFound(Vec<String>),
    #[error("Invalid id: \"{0}\" (expecting \"ami-...\")")]
    MalformedImageId(String),
    #[error("Invalid value for associationId.")]
    MalformedAssociationId(String),
    /// UNCONFIRMED wording: EC2's text for unknown Elastic IP associations.
    #[error("The association ID '{0}' does not exist")]
    AssociationNotFound(String),
    #[error("There is an existing association for instance {0}")]
    ExistingAssociation(String),
    #[error("The association {0} is not the active association")]
    NotActiveAssociation(String),
    #[error("The instance '{0}' is not in the 'running' or 'stopped' states.")]
    NotRunningOrStopped(String),
    /// ModifyInstanceAttribute on an instance that is not stopped, as the AWS CLI shows it.
    #[error("The instance '{0}' is not in the 'stopped' state.")]
    NotStopped(String),
    /// UNCONFIRMED: public CLI logs show `…from which it can be started.`
    #[error("The instance '{instance_id}' is not in a state from which it can be {verb}.")]
    NoTransition {
        instance_id: String,
        verb: &'static str,
    },
    #[error(
        "Value ({0}) for parameter iamInstanceProfile.name is invalid. Invalid IAM Instance Profile name"
    )]
    InvalidProfileName(String),
    #[error(
        "Value ({0}) for parameter iamInstanceProfile.arn is invalid. Invalid IAM Instance Profile ARN"
    )]
    InvalidProfileArn(String),
    /// UNCONFIRMED wording (public SDK logs).
    #[error(
        "Arguments on this idempotent request are inconsistent with arguments used in previous request(s)."
    )]
    IdempotentParameterMismatch,
    /// UNCONFIRMED wording.
    #[error("Address {0} is in use.")]
    AddressInUse(String),
    /// UNCONFIRMED wording.
    #[error("There are no free loopback addresses left for new instances.")]
    AddressesExhausted,
    /// EC2's answer to a `PrivateIpAddress` outside the subnet, as real RunInstances errors show
    /// it ("InvalidParameterValue: Address 172.31.0.16 does not fall within the subnet's address
    /// range", status 400: github.com/JamesWoolfenden/terraform-aws-cassandra/issues/18).
    #[error("Address {0} does not fall within the subnet's address range")]
    AddressOutsideRange(String),
    /// EC2's answer to one of a subnet's reserved addresses (first four, last), as the AWS CLI
    /// shows it: "An error occurred (InvalidParameterValue) when calling the RunInstances
    /// operation: Address 192.168.0.2 is in subnet's reserved address range" (quoted in public
    /// READMEs' troubleshooting notes; not in AWS's own docs).
    #[error("Address {0} is in subnet's reserved address range")]
    AddressReserved(String),
    /// Real RunInstances/DescribeKeyPairs output: "InvalidKeyPair.NotFound: The key pair
    /// 'learn-vault-key' does not exist" (github.com/hashicorp/vault-guides/issues/260).
    #[error("The key pair '{0}' does not exist")]
    KeyPairNotFound(String),
    /// UNCONFIRMED wording: the ID form of the message above.
    #[error("The key pair ID '{0}' does not exist")]
    KeyPairIdNotFound(String),
    /// Real ImportKeyPair output: "InvalidKeyPair.Duplicate: The keypair 'EKS-eks1' already
    /// exists." (github.com/eksctl-io/eksctl/issues/91; note "keypair", one word).
    #[error("The keypair '{0}' already exists.")]
    KeyPairDuplicate(String),
    /// An ID of no kind CreateTags/DeleteTags know (moto's wording of EC2's `InvalidID`).
    #[error("The ID '{0}' is not valid")]
    InvalidId(String),
    /// UNCONFIRMED wording (moto's): more than 50 tags on one resource.
    #[error("The maximum number of Tags for a resource has been reached.")]
    TagLimitExceeded,
    /// Real output: "InvalidVpcID.NotFound: The vpc ID 'vpc-ac2220ca' does not exist"
    /// (github.com/hashicorp/terraform-aws-consul/issues/29).
    #[error("The vpc ID '{0}' does not exist")]
    VpcNotFound(String),
    /// Real RunInstances and DescribeSubnets output, also for an ID of the wrong shape: "The
    /// subnet ID 'example' does not exist" (github.com/openshift/openshift-ansible/issues/1053).
    #[error("The subnet ID '{0}' does not exist")]
    SubnetNotFound(String),
    /// Real output: "InvalidGroup.NotFound: The security group 'sg-48118334' does not exist"
    /// (github.com/serverless/serverless/issues/2973).
    #[error("The security group '{0}' does not exist")]
    GroupIdNotFound(String),
    /// A group named where EC2 looks names up in the default VPC: "The security group
    /// 'launch-wizard-1' does not exist in default VPC 'vpc-…'" (github.com/aws/aws-cli/issues/1207).
    #[error("The security group '{name}' does not exist in default VPC '{vpc_id}'")]
    GroupNameNotFound { name: String, vpc_id: String },
    /// Real output: "InvalidGroupId.Malformed: Invalid id: \"x\" (expecting \"sg-...\")"
    /// (github.com/aws/aws-cdk/issues/20800).
    #[error("Invalid id: \"{0}\" (expecting \"sg-...\")")]
    MalformedGroupId(String),
    /// UNCONFIRMED wording: the instance ID form of the message (AWS's error code list names
    /// both `InvalidHostID.Malformed` and `InvalidHostId.Malformed`; this is the first).
    #[error("Invalid id: \"{0}\" (expecting \"h-...\")")]
    MalformedHostId(String),
    /// UNCONFIRMED wording, after the instance's.
    #[error("{}", hosts_not_found(.0))]
    HostNotFound(Vec<String>),
    /// UNCONFIRMED wording; the code is EC2's (its error code list: "The Dedicated Host must be
    /// in the available state to complete the operation").
    #[error("The Dedicated Host '{0}' must be in the available state to complete the operation.")]
    HostNotAvailable(String),
    /// UNCONFIRMED code and wording: a host that takes other instance types has no capacity for
    /// this one.
    #[error("There is no capacity for instance type {instance_type} on Dedicated Host {host_id}.")]
    HostIncompatible {
        host_id: String,
        instance_type: String,
    },
    /// EC2's `InvalidQuantity`; UNCONFIRMED wording.
    #[error("{0}")]
    InvalidQuantity(String),
    /// `InvalidKey.Format`, with EC2's text for a public key it cannot read.
    #[error("{0}")]
    InvalidKeyFormat(String),
    /// EC2's `UnsupportedOperation`; the message is this server's own.
    #[error("{0}")]
    UnsupportedOperation(String),
    #[error("{0}")]
    MissingParameter(String),
    #[error("{0}")]
    InvalidParameterValue(String),
    #[error("{0}")]
    InvalidParameterCombination(String),
    #[error("{0}")]
    InvalidParameter(String),
    #[error("{0}")]
    Unauthorized(String),
    #[error("An internal error has occurred")]
    Internal,
}

fn instances_not_found(ids: &[String]) -> String {
    match ids {
        [one] => format!("The instance ID '{one}' does not exist"),
        many => format!("The instance IDs '{}' do not exist", many.join(", ")),
    }
}

fn hosts_not_found(ids: &[String]) -> String {
    match ids {
        [one] => format!("The host ID '{one}' does not exist"),
        many => format!("The host IDs '{}' do not exist", many.join(", ")),
    }
}

impl Ec2Error {
    pub fn code(&self) -> &'static str {
        match self {
            Self::MalformedInstanceId(_) => "InvalidInstanceID.Malformed",
            Self::InstanceNotFound(_) => "InvalidInstanceID.NotFound",
            Self::MalformedImageId(_) => "InvalidAMIID.Malformed",
            Self::MalformedAssociationId(_)
            | Self::InvalidProfileName(_)
            | Self::InvalidProfileArn(_)
            | Self::AddressOutsideRange(_)
            | Self::AddressReserved(_)
            | Self::InvalidParameterValue(_) => "InvalidParameterValue",
            Self::AssociationNotFound(_) => "InvalidAssociationID.NotFound",
            Self::ExistingAssociation(_) | Self::NotActiveAssociation(_) => "IncorrectState",
            Self::NotRunningOrStopped(_) | Self::NotStopped(_) | Self::NoTransition { .. } => {
                "IncorrectInstanceState"
            }
            Self::IdempotentParameterMismatch => "IdempotentParameterMismatch",
            Self::AddressInUse(_) => "InvalidIPAddress.InUse",
            Self::AddressesExhausted => "InsufficientInstanceCapacity",
            Self::InvalidParameterCombination(_) => "InvalidParameterCombination",
            Self::KeyPairNotFound(_) | Self::KeyPairIdNotFound(_) => "InvalidKeyPair.NotFound",
            Self::KeyPairDuplicate(_) => "InvalidKeyPair.Duplicate",
            Self::VpcNotFound(_) => "InvalidVpcID.NotFound",
            Self::SubnetNotFound(_) => "InvalidSubnetID.NotFound",
            Self::GroupIdNotFound(_) | Self::GroupNameNotFound { .. } => "InvalidGroup.NotFound",
            Self::MalformedGroupId(_) => "InvalidGroupId.Malformed",
            Self::InvalidKeyFormat(_) => "InvalidKey.Format",
            Self::MalformedHostId(_) => "InvalidHostID.Malformed",
            Self::HostNotFound(_) => "InvalidHostID.NotFound",
            Self::HostNotAvailable(_) => "InvalidHostState",
            Self::HostIncompatible { .. } => "InsufficientCapacityOnHost",
            Self::InvalidQuantity(_) => "InvalidQuantity",
            Self::InvalidId(_) => "InvalidID",
            Self::TagLimitExceeded => "TagLimitExceeded",
            Self::UnsupportedOperation(_) => "UnsupportedOperation",
            Self::MissingParameter(_) => "MissingParameter",
            Self::InvalidParameter(_) => "InvalidParameter",
            Self::Unauthorized(_) => "UnauthorizedOperation",
            Self::Internal => "InternalError",
        }
    }

    pub fn status(&self) -> u16 {
        match self {
            Self::Unauthorized(_) => 403,
            Self::Internal | Self::AddressesExhausted => 500,
            _ => 400,
        }
    }
}

impl From<Ec2Error> for AwsError {
    fn from(err: Ec2Error) -> Self {
        match err {
            Ec2Error::Internal => AwsError::internal(Protocol::Ec2Query),
            err => AwsError::sender(err.code(), err.status(), err.to_string()),
        }
    }
}

/// A store failure as EC2 answers it; backend failures are logged and never described.
pub fn from_store(err: StoreError) -> Ec2Error {
    match err {
        StoreError::NotFound {
            kind: EntityKind::Instance,
            name,
        } => Ec2Error::InstanceNotFound(vec![name]),
        StoreError::NotFound {
            kind: EntityKind::Association,
            name,
        } => Ec2Error::AssociationNotFound(name),
        StoreError::NotFound {
            kind: EntityKind::KeyPair,
            name,
        } => Ec2Error::KeyPairNotFound(name),
        StoreError::NotFound {
            kind: EntityKind::KeyPairId,
            name,
        } => Ec2Error::KeyPairIdNotFound(name),
        StoreError::NotFound {
            kind: EntityKind::Host,
            name,
        } => Ec2Error::HostNotFound(vec![name]),
        StoreError::AlreadyExists {
            kind: EntityKind::KeyPair,
            name,
        } => Ec2Error::KeyPairDuplicate(name),
        StoreError::LimitExceeded {
            quota: Quota::Ec2TagsPerResource { .. },
        } => Ec2Error::TagLimitExceeded,
        StoreError::Ec2(rejection) => match rejection {
            Ec2Rejection::InstanceState { instance_id, .. } => {
                Ec2Error::NotRunningOrStopped(instance_id)
            }
            Ec2Rejection::NotStopped { instance_id } => Ec2Error::NotStopped(instance_id),
            Ec2Rejection::ExistingAssociation { instance_id } => {
                Ec2Error::ExistingAssociation(instance_id)
            }
            Ec2Rejection::NotActiveAssociation { association_id } => {
                Ec2Error::NotActiveAssociation(association_id)
            }
            Ec2Rejection::IdempotentParameterMismatch => Ec2Error::IdempotentParameterMismatch,
            Ec2Rejection::AddressInUse { address } => Ec2Error::AddressInUse(address),
            Ec2Rejection::AddressesExhausted => Ec2Error::AddressesExhausted,
            Ec2Rejection::AddressUnusable { address } => super::addresses::unusable(address),
            Ec2Rejection::HostUnavailable { host_id } => Ec2Error::HostNotAvailable(host_id),
            Ec2Rejection::HostIncompatible {
                host_id,
                instance_type,
            } => Ec2Error::HostIncompatible {
                host_id,
                instance_type,
            },
        },
        // A value the store cannot keep (U+0000 on PostgreSQL): the request's fault.
        StoreError::InvalidInput(message) => Ec2Error::InvalidParameterValue(message),
        err => {
            tracing::error!(error = %err, "store failure in an EC2 operation");
            Ec2Error::Internal
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_and_codes_match_aws() {
        let cases = [
            (
                Ec2Error::InstanceNotFound(vec!["i-0123456789abcdef0".into()]),
                "InvalidInstanceID.NotFound",
                "The instance ID 'i-0123456789abcdef0' does not exist",
            ),
            (
                Ec2Error::InstanceNotFound(vec!["i-1".into(), "i-2".into()]),
                "InvalidInstanceID.NotFound",
                "The instance IDs 'i-1, i-2' do not exist",
            ),
            (
                Ec2Error::MalformedInstanceId("ma1".into()),
                "InvalidInstanceID.Malformed",
                "Invalid id: \"ma1\"",
            ),
            (
                Ec2Error::ExistingAssociation("i-1".into()),
                "IncorrectState",
                "There is an existing association for instance i-1",
            ),
            (
                Ec2Error::NotRunningOrStopped("i-1".into()),
                "IncorrectInstanceState",
                "The instance 'i-1' is not in the 'running' or 'stopped' states.",
            ),
            (
                Ec2Error::AddressOutsideRange("10.0.0.5".into()),
                "InvalidParameterValue",
                "Address 10.0.0.5 does not fall within the subnet's address range",
            ),
            (
                Ec2Error::AddressReserved("127.0.0.1".into()),
                "InvalidParameterValue",
                "Address 127.0.0.1 is in subnet's reserved address range",
            ),
            (
                Ec2Error::KeyPairNotFound("x".into()),
                "InvalidKeyPair.NotFound",
                "The key pair 'x' does not exist",
            ),
            (
                Ec2Error::KeyPairDuplicate("x".into()),
                "InvalidKeyPair.Duplicate",
                "The keypair 'x' already exists.",
            ),
            (
                Ec2Error::VpcNotFound("vpc-1".into()),
                "InvalidVpcID.NotFound",
                "The vpc ID 'vpc-1' does not exist",
            ),
            (
                Ec2Error::SubnetNotFound("subnet-1".into()),
                "InvalidSubnetID.NotFound",
                "The subnet ID 'subnet-1' does not exist",
            ),
            (
                Ec2Error::GroupIdNotFound("sg-1".into()),
                "InvalidGroup.NotFound",
                "The security group 'sg-1' does not exist",
            ),
            (
                Ec2Error::GroupNameNotFound {
                    name: "web".into(),
                    vpc_id: "vpc-1".into(),
                },
                "InvalidGroup.NotFound",
                "The security group 'web' does not exist in default VPC 'vpc-1'",
            ),
            (
                Ec2Error::MalformedGroupId("web".into()),
                "InvalidGroupId.Malformed",
                "Invalid id: \"web\" (expecting \"sg-...\")",
            ),
            (
                Ec2Error::InvalidProfileName("nope".into()),
                "InvalidParameterValue",
                "Value (nope) for parameter iamInstanceProfile.name is invalid. Invalid IAM Instance Profile name",
            ),
        ];
        for (err, code, message) in cases {
            let aws = AwsError::from(err);
            assert_eq!(
                (aws.code.as_ref(), aws.message.as_str(), aws.status),
                (code, message, 400)
            );
        }
        let denied = AwsError::from(Ec2Error::Unauthorized("m".into()));
        assert_eq!(
            (denied.code.as_ref(), denied.status),
            ("UnauthorizedOperation", 403)
        );
    }
}
