//! Policy documents as IAM accepts them: parsed and validated for their kind, and measured
//! (without whitespace) against the size quotas, which AWS reports as `LimitExceeded`.

use policy::{Policy, PolicyError, PolicyKind, size_without_whitespace};
use protocol::AwsError;

/// Trust policies: 2,048 characters by default (raisable to 4,096 on AWS).
pub const TRUST_POLICY_QUOTA: usize = 2048;
/// Managed policies: 6,144 characters.
pub const MANAGED_POLICY_QUOTA: usize = 6144;
/// Aggregate inline policies of a role, of a user and of a group.
pub const ROLE_INLINE_QUOTA: u64 = 10_240;
pub const USER_INLINE_QUOTA: u64 = 2048;
pub const GROUP_INLINE_QUOTA: u64 = 5120;

/// A role's trust policy (CreateRole, UpdateAssumeRolePolicy), parsed.
pub fn trust(document: &str) -> Result<Policy, AwsError> {
    let policy = Policy::parse(document, PolicyKind::Trust).map_err(malformed)?;
    within(
        document,
        TRUST_POLICY_QUOTA,
        "Cannot exceed quota for ACLSizePerRole",
    )?;
    Ok(policy)
}

/// A managed policy version (CreatePolicy, CreatePolicyVersion).
pub fn managed(document: &str) -> Result<(), AwsError> {
    Policy::parse(document, PolicyKind::Identity).map_err(malformed)?;
    within(
        document,
        MANAGED_POLICY_QUOTA,
        "Cannot exceed quota for PolicySize",
    )
}

/// An inline policy; returns its size for the store's aggregate quota check.
pub fn inline(document: &str) -> Result<u64, AwsError> {
    Policy::parse(document, PolicyKind::InlineIdentity).map_err(malformed)?;
    Ok(size_without_whitespace(document) as u64)
}

fn within(document: &str, quota: usize, message: &str) -> Result<(), AwsError> {
    if size_without_whitespace(document) > quota {
        return Err(AwsError::sender(
            "LimitExceeded",
            409,
            format!("{message}: {quota}"),
        ));
    }
    Ok(())
}

fn malformed(err: PolicyError) -> AwsError {
    AwsError::sender("MalformedPolicyDocument", 400, err.message)
}

#[cfg(test)]
mod tests {
    use super::*;

    const EC2_TRUST: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;

    #[test]
    fn trust_policies() {
        assert!(trust(EC2_TRUST).is_ok());
        let err = trust("{not json").expect_err("malformed");
        assert_eq!(
            (err.code.as_ref(), err.status, err.message.as_str()),
            (
                "MalformedPolicyDocument",
                400,
                "This policy contains invalid Json"
            )
        );
        let with_resource = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole","Resource":"*"}]}"#;
        assert_eq!(
            trust(with_resource).expect_err("resource").message,
            "Has prohibited field Resource"
        );
    }

    #[test]
    fn size_quotas_ignore_whitespace() {
        let sid = "a".repeat(2048);
        let big = format!(
            r#"{{"Version":"2012-10-17","Statement":[{{"Sid":"{sid}","Effect":"Allow","Principal":{{"Service":"ec2.amazonaws.com"}},"Action":"sts:AssumeRole"}}]}}"#
        );
        let err = trust(&big).expect_err("too large");
        assert_eq!(
            (err.code.as_ref(), err.status, err.message.as_str()),
            (
                "LimitExceeded",
                409,
                "Cannot exceed quota for ACLSizePerRole: 2048"
            )
        );
        let padded = EC2_TRUST.replace(',', &format!(",{}", " ".repeat(500)));
        assert!(trust(&padded).is_ok());
    }
}
