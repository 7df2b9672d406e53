//! What each S3 operation asks IAM: its action and the resource it acts on, as AWS's Service
//! Authorization Reference maps them (ListObjectsV2 is `s3:ListBucket` on the bucket, an upload
//! part is `s3:PutObject` on the object, …). Pure: a table and the ARNs it implies.

/// The resource an operation's action applies to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// No resource (`*`): ListBuckets.
    Account,
    Bucket,
    Object,
}

/// How an operation is authorized.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rule {
    pub action: &'static str,
    pub target: Target,
    /// A data event in CloudTrail (object-level activity); else a management event.
    pub data: bool,
}

const fn rule(action: &'static str, target: Target, data: bool) -> Rule {
    Rule {
        action,
        target,
        data,
    }
}

use Target::{Account, Bucket, Object};

/// Every operation roleplane serves, by s3s's operation name.
const RULES: &[(&str, Rule)] = &[
    ("ListBuckets", rule("s3:ListAllMyBuckets", Account, false)),
    ("CreateBucket", rule("s3:CreateBucket", Bucket, false)),
    ("DeleteBucket", rule("s3:DeleteBucket", Bucket, false)),
    ("HeadBucket", rule("s3:ListBucket", Bucket, true)),
    (
        "GetBucketLocation",
        rule("s3:GetBucketLocation", Bucket, false),
    ),
    ("ListObjects", rule("s3:ListBucket", Bucket, true)),
    ("ListObjectsV2", rule("s3:ListBucket", Bucket, true)),
    (
        "ListMultipartUploads",
        rule("s3:ListBucketMultipartUploads", Bucket, true),
    ),
    ("GetObject", rule("s3:GetObject", Object, true)),
    ("HeadObject", rule("s3:GetObject", Object, true)),
    ("PutObject", rule("s3:PutObject", Object, true)),
    ("CopyObject", rule("s3:PutObject", Object, true)),
    ("DeleteObject", rule("s3:DeleteObject", Object, true)),
    // Authorized key by key inside the operation, as S3 does (`s3:DeleteObject` on each).
    ("DeleteObjects", rule("s3:DeleteObject", Bucket, true)),
    ("CreateMultipartUpload", rule("s3:PutObject", Object, true)),
    ("UploadPart", rule("s3:PutObject", Object, true)),
    // And `s3:GetObject` on the source, checked by the access check.
    ("UploadPartCopy", rule("s3:PutObject", Object, true)),
    (
        "CompleteMultipartUpload",
        rule("s3:PutObject", Object, true),
    ),
    (
        "AbortMultipartUpload",
        rule("s3:AbortMultipartUpload", Object, true),
    ),
    (
        "ListParts",
        rule("s3:ListMultipartUploadParts", Object, true),
    ),
    (
        "GetObjectTagging",
        rule("s3:GetObjectTagging", Object, true),
    ),
    (
        "PutObjectTagging",
        rule("s3:PutObjectTagging", Object, true),
    ),
    (
        "DeleteObjectTagging",
        rule("s3:DeleteObjectTagging", Object, true),
    ),
    ("GetObjectAcl", rule("s3:GetObjectAcl", Object, true)),
    ("PutObjectAcl", rule("s3:PutObjectAcl", Object, true)),
    (
        "GetBucketTagging",
        rule("s3:GetBucketTagging", Bucket, false),
    ),
    (
        "PutBucketTagging",
        rule("s3:PutBucketTagging", Bucket, false),
    ),
    (
        "DeleteBucketTagging",
        rule("s3:PutBucketTagging", Bucket, false),
    ),
    ("GetBucketPolicy", rule("s3:GetBucketPolicy", Bucket, false)),
    ("PutBucketPolicy", rule("s3:PutBucketPolicy", Bucket, false)),
    (
        "DeleteBucketPolicy",
        rule("s3:DeleteBucketPolicy", Bucket, false),
    ),
    (
        "GetBucketPolicyStatus",
        rule("s3:GetBucketPolicyStatus", Bucket, false),
    ),
    (
        "GetPublicAccessBlock",
        rule("s3:GetBucketPublicAccessBlock", Bucket, false),
    ),
    (
        "PutPublicAccessBlock",
        rule("s3:PutBucketPublicAccessBlock", Bucket, false),
    ),
    (
        "DeletePublicAccessBlock",
        rule("s3:PutBucketPublicAccessBlock", Bucket, false),
    ),
    (
        "GetBucketVersioning",
        rule("s3:GetBucketVersioning", Bucket, false),
    ),
    (
        "GetBucketOwnershipControls",
        rule("s3:GetBucketOwnershipControls", Bucket, false),
    ),
    ("GetBucketAcl", rule("s3:GetBucketAcl", Bucket, false)),
    ("PutBucketAcl", rule("s3:PutBucketAcl", Bucket, false)),
    (
        "GetBucketEncryption",
        rule("s3:GetEncryptionConfiguration", Bucket, false),
    ),
];

/// The rule for an operation served here; `None` for one that is not.
pub fn rule_of(operation: &str) -> Option<Rule> {
    RULES
        .iter()
        .find(|(name, _)| *name == operation)
        .map(|(_, rule)| *rule)
}

/// Every operation served, by s3s's operation name, in [`RULES`]' order.
pub const OPERATIONS: &[&str] = &names::<{ RULES.len() }>(RULES);

/// The operation names of `rules`, of which there are `N`.
const fn names<const N: usize>(rules: &[(&'static str, Rule)]) -> [&'static str; N] {
    let mut out = [""; N];
    let mut i = 0;
    while i < N {
        out[i] = rules[i].0;
        i += 1;
    }
    out
}

/// `arn:aws:s3:::bucket`.
pub fn bucket_arn(bucket: &str) -> String {
    format!("arn:aws:s3:::{bucket}")
}

/// `arn:aws:s3:::bucket/key`.
pub fn object_arn(bucket: &str, key: &str) -> String {
    format!("arn:aws:s3:::{bucket}/{key}")
}

/// The resource ARN an operation's action names.
pub fn resource(target: Target, bucket: &str, key: &str) -> String {
    match target {
        Target::Account => "*".to_owned(),
        Target::Bucket => bucket_arn(bucket),
        Target::Object => object_arn(bucket, key),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn operations_map_to_the_actions_and_resources_aws_documents() {
        let cases = [
            ("ListBuckets", "s3:ListAllMyBuckets", Target::Account),
            ("ListObjectsV2", "s3:ListBucket", Target::Bucket),
            ("HeadBucket", "s3:ListBucket", Target::Bucket),
            ("HeadObject", "s3:GetObject", Target::Object),
            ("UploadPart", "s3:PutObject", Target::Object),
            ("CompleteMultipartUpload", "s3:PutObject", Target::Object),
            ("ListParts", "s3:ListMultipartUploadParts", Target::Object),
            ("DeleteBucketTagging", "s3:PutBucketTagging", Target::Bucket),
            (
                "DeletePublicAccessBlock",
                "s3:PutBucketPublicAccessBlock",
                Target::Bucket,
            ),
        ];
        for (operation, action, target) in cases {
            let rule = rule_of(operation).unwrap();
            assert_eq!((rule.action, rule.target), (action, target), "{operation}");
        }
        assert_eq!(rule_of("PutBucketLifecycleConfiguration"), None);
    }

    #[test]
    fn object_operations_are_data_events_and_bucket_settings_are_management_events() {
        assert!(rule_of("GetObject").unwrap().data);
        assert!(rule_of("ListObjectsV2").unwrap().data);
        assert!(!rule_of("CreateBucket").unwrap().data);
        assert!(!rule_of("PutBucketPolicy").unwrap().data);
    }

    #[test]
    fn resources_are_s3_arns() {
        assert_eq!(resource(Target::Account, "b", ""), "*");
        assert_eq!(resource(Target::Bucket, "b", ""), "arn:aws:s3:::b");
        assert_eq!(
            resource(Target::Object, "b", "a/c d"),
            "arn:aws:s3:::b/a/c d"
        );
    }

    #[test]
    fn every_operation_is_listed_once() {
        let mut names = OPERATIONS.to_vec();
        let count = names.len();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), count);
        assert_eq!(count, RULES.len());
    }
}
