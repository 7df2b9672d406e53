//! Which credential-scope regions roleplane answers for. One listener plays every endpoint of one
//! configured region (`--region`): a regional service (STS, EC2, CloudTrail, Access Analyzer)
//! accepts a signature for that region only, as AWS's regional endpoints do. IAM is global and
//! AWS signs it for `us-east-1`; a client pointed at roleplane with a custom endpoint signs IAM
//! with its own region, which is the configured one when the two agree.

/// The region AWS's global IAM endpoint signs for in the `aws` partition.
pub const IAM_SIGNING_REGION: &str = "us-east-1";

/// The regions a signature for `service` may be scoped to when roleplane serves `served` (a
/// slice of a fixed array: this runs on every signed request, so it allocates nothing).
pub fn valid_regions<'a>(service: &str, served: &'a str) -> Regions<'a> {
    if service == "iam" && served != IAM_SIGNING_REGION {
        Regions([IAM_SIGNING_REGION, served], 2)
    } else {
        Regions([served, served], 1)
    }
}

/// One or two region names.
pub struct Regions<'a>([&'a str; 2], usize);

impl<'a> std::ops::Deref for Regions<'a> {
    type Target = [&'a str];
    fn deref(&self) -> &[&'a str] {
        &self.0[..self.1]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iam_also_takes_its_global_signing_region() {
        assert_eq!(*valid_regions("iam", "us-east-1"), ["us-east-1"]);
        assert_eq!(
            *valid_regions("iam", "eu-west-1"),
            ["us-east-1", "eu-west-1"]
        );
        for service in ["sts", "ec2", "cloudtrail", "access-analyzer"] {
            assert_eq!(
                *valid_regions(service, "eu-west-1"),
                ["eu-west-1"],
                "{service}"
            );
        }
    }
}
