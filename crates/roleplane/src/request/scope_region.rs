//! Which credential-scope regions roleplane answers for. One listener plays every endpoint of one
//! configured region (`--region`): a regional service (STS, EC2, CloudTrail, Access Analyzer)
//! accepts a signature for that region only, as AWS's regional endpoints do. IAM is global and
//! AWS signs it for `us-east-1`; a client pointed at roleplane with a custom endpoint signs IAM
//! with its own region, which is the configured one when the two agree.

/// The region AWS's global IAM endpoint signs for in the `aws` partition.
pub const IAM_SIGNING_REGION: &str = "us-east-1";

/// The regions a signature for `service` may be scoped to when roleplane serves `served`.
pub fn valid_regions<'a>(service: &str, served: &'a str) -> Vec<&'a str> {
    if service == "iam" && served != IAM_SIGNING_REGION {
        vec![IAM_SIGNING_REGION, served]
    } else {
        vec![served]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iam_also_takes_its_global_signing_region() {
        assert_eq!(valid_regions("iam", "us-east-1"), ["us-east-1"]);
        assert_eq!(
            valid_regions("iam", "eu-west-1"),
            ["us-east-1", "eu-west-1"]
        );
        for service in ["sts", "ec2", "cloudtrail", "access-analyzer"] {
            assert_eq!(
                valid_regions(service, "eu-west-1"),
                ["eu-west-1"],
                "{service}"
            );
        }
    }
}
