//! What an S3 call's record tells the generator: the IAM action S3 authorized it with
//! ([`crate::s3::actions`]: HeadObject is `s3:GetObject`, ListObjectsV2 `s3:ListBucket`,
//! UploadPart `s3:PutObject`), on the bucket or the object its `requestParameters` name, and
//! for CopyObject the source object it read, which S3 checks `s3:GetObject` on as well.
//!
//! Most of these are CloudTrail data events, which AWS's Access Analyzer never reads; roleplane
//! records them like any other call and generates from them too.

use percent_encoding::percent_decode_str;
use serde_json::Value;

use super::observed::Touched;
use crate::s3::actions::{Target, bucket_arn, rule_of};

/// The IAM action of an S3 operation roleplane serves; `None` for any other name.
pub fn action(event_name: &str) -> Option<&'static str> {
    rule_of(event_name).map(|rule| rule.action)
}

/// The resources the operation's action was authorized on; `None` for an operation roleplane
/// does not serve. Empty (the action on `*`) for ListBuckets, or a record that lost its names.
pub fn resources(event_name: &str, parameters: &Value) -> Option<Vec<Touched>> {
    let rule = rule_of(event_name)?;
    let bucket = string(parameters, "bucketName");
    let key = string(parameters, "key");
    let touched = match (rule.target, bucket, key) {
        // Its keys are in the body, which is never recorded: every object of the bucket.
        (Target::Bucket, Some(bucket), _) if event_name == "DeleteObjects" => Touched::AllObjects {
            bucket: bucket.to_owned(),
        },
        (Target::Bucket, Some(bucket), _) => Touched::Arn(bucket_arn(bucket)),
        (Target::Object, Some(bucket), Some(key)) => Touched::Object {
            bucket: bucket.to_owned(),
            key: key.to_owned(),
        },
        _ => return Some(Vec::new()),
    };
    Some(vec![touched])
}

/// The object a CopyObject read, from its `x-amz-copy-source` (`[/]bucket/key[?versionId=…]`,
/// URL-encoded as sent).
pub fn copy_source(event_name: &str, parameters: &Value) -> Option<Touched> {
    if event_name != "CopyObject" {
        return None;
    }
    let header = string(parameters, "x-amz-copy-source")?;
    let path = header.strip_prefix('/').unwrap_or(header);
    let path = path.split_once('?').map_or(path, |(path, _)| path);
    let decoded = percent_decode_str(path).decode_utf8().ok()?;
    let (bucket, key) = decoded.split_once('/')?;
    (!bucket.is_empty() && !key.is_empty()).then(|| Touched::Object {
        bucket: bucket.to_owned(),
        key: key.to_owned(),
    })
}

fn string<'a>(value: &'a Value, member: &str) -> Option<&'a str> {
    value.get(member)?.as_str().filter(|s| !s.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn object(bucket: &str, key: &str) -> Touched {
        Touched::Object {
            bucket: bucket.into(),
            key: key.into(),
        }
    }

    #[test]
    fn operations_take_the_action_s3_authorizes_them_with() {
        for (operation, expected) in [
            ("HeadObject", "s3:GetObject"),
            ("GetObject", "s3:GetObject"),
            ("ListObjectsV2", "s3:ListBucket"),
            ("ListObjects", "s3:ListBucket"),
            ("HeadBucket", "s3:ListBucket"),
            ("UploadPart", "s3:PutObject"),
            ("CreateMultipartUpload", "s3:PutObject"),
            ("CompleteMultipartUpload", "s3:PutObject"),
            ("CopyObject", "s3:PutObject"),
            ("DeleteObjects", "s3:DeleteObject"),
            ("ListBuckets", "s3:ListAllMyBuckets"),
            ("DeleteBucketTagging", "s3:PutBucketTagging"),
        ] {
            assert_eq!(action(operation), Some(expected), "{operation}");
        }
        assert_eq!(action("SelectObjectContent"), None);
    }

    #[test]
    fn resources_are_the_bucket_or_the_object_the_call_named() {
        let names = json!({"bucketName": "data", "key": "app/one.txt"});
        assert_eq!(
            resources("GetObject", &names),
            Some(vec![object("data", "app/one.txt")])
        );
        assert_eq!(
            resources("ListObjectsV2", &json!({"bucketName": "data"})),
            Some(vec![Touched::Arn("arn:aws:s3:::data".into())])
        );
        assert_eq!(
            resources("DeleteObjects", &json!({"bucketName": "data"})),
            Some(vec![Touched::AllObjects {
                bucket: "data".into()
            }])
        );
        assert_eq!(resources("ListBuckets", &json!({})), Some(Vec::new()));
        assert_eq!(resources("GetObject", &Value::Null), Some(Vec::new()));
        assert_eq!(resources("NotAnOperation", &names), None);
    }

    #[test]
    fn a_copy_reads_its_source() {
        for header in [
            "src/dir/a%20b.txt",
            "/src/dir/a%20b.txt",
            "src/dir/a%20b.txt?versionId=3",
        ] {
            let names = json!({"bucketName": "dst", "key": "k", "x-amz-copy-source": header});
            assert_eq!(
                copy_source("CopyObject", &names),
                Some(object("src", "dir/a b.txt")),
                "{header}"
            );
        }
        let names = json!({"bucketName": "dst", "key": "k", "x-amz-copy-source": "src/k"});
        assert_eq!(copy_source("PutObject", &names), None);
        for broken in ["src", "/src/", "%FF/x"] {
            let names = json!({"x-amz-copy-source": broken});
            assert_eq!(copy_source("CopyObject", &names), None, "{broken}");
        }
    }
}
