//! Parse/validation messages per policy kind, table-driven.

use policy::{Policy, PolicyKind};

const V: &str = r#""Version":"2012-10-17""#;

fn doc(statement: &str) -> String {
    format!(r#"{{{V},"Statement":{statement}}}"#)
}

#[test]
fn malformed_policy_messages() {
    use PolicyKind::*;
    let ok = r#"{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}"#;
    let cases: Vec<(&str, PolicyKind, String, Option<&str>)> = vec![
        ("valid", Identity, doc(ok), None),
        ("statement object or array", Identity, doc(&format!("[{ok},{ok}]")), None),
        ("invalid json", Identity, "{".into(), Some("Syntax errors in policy.")),
        ("invalid json trust", Trust, "{".into(), Some("This policy contains invalid Json")),
        ("duplicate keys", Identity, format!(r#"{{{V},{V},"Statement":{ok}}}"#), Some("Syntax errors in policy.")),
        ("duplicate nested keys", Trust, doc(r#"{"Effect":"Allow","Effect":"Allow","Action":"s3:x","Resource":"*"}"#), Some("This policy contains invalid Json")),
        ("not an object", Identity, "[]".into(), Some("Syntax errors in policy.")),
        ("unknown top element", Identity, format!(r#"{{{V},"Foo":1,"Statement":{ok}}}"#), Some("Syntax errors in policy.")),
        ("bad version", Identity, r#"{"Version":"2012-10-18","Statement":[]}"#.into(), Some("Syntax errors in policy.")),
        ("no statement", Identity, format!("{{{V}}}"), Some("Syntax errors in policy.")),
        ("empty statement list", Identity, doc("[]"), Some("Syntax errors in policy.")),
        ("unknown statement element", Identity, doc(r#"{"Effect":"Allow","Action":"s3:x","Resource":"*","Foo":"x"}"#), Some("Syntax errors in policy.")),
        ("effect missing", Identity, doc(r#"{"Action":"s3:x","Resource":"*"}"#), Some("Syntax errors in policy.")),
        ("effect invalid", Identity, doc(r#"{"Effect":"Permit","Action":"s3:x","Resource":"*"}"#), Some("Syntax errors in policy.")),
        ("effect lowercase", Identity, doc(r#"{"Effect":"allow","Action":"s3:x","Resource":"*"}"#), Some("The policy failed legacy parsing")),
        ("action and notaction", Identity, doc(r#"{"Effect":"Allow","Action":"s3:x","NotAction":"s3:y","Resource":"*"}"#), Some("Syntax errors in policy.")),
        ("action not string", Identity, doc(r#"{"Effect":"Allow","Action":1,"Resource":"*"}"#), Some("Syntax errors in policy.")),
        ("unknown operator", Identity, doc(r#"{"Effect":"Allow","Action":"s3:x","Resource":"*","Condition":{"StringEqualz":{"aws:username":"a"}}}"#), Some("Syntax errors in policy.")),
        ("null if exists", Identity, doc(r#"{"Effect":"Allow","Action":"s3:x","Resource":"*","Condition":{"NullIfExists":{"aws:username":"true"}}}"#), Some("Syntax errors in policy.")),
        ("bad date", Identity, doc(r#"{"Effect":"Allow","Action":"s3:x","Resource":"*","Condition":{"DateLessThan":{"aws:CurrentTime":"tomorrow"}}}"#), Some("The policy failed legacy parsing")),
        ("missing version managed", Identity, format!(r#"{{"Statement":{ok}}}"#), Some("Policy document must be version 2012-10-17 or greater.")),
        ("2008 managed", Identity, format!(r#"{{"Version":"2008-10-17","Statement":{ok}}}"#), Some("Policy document must be version 2012-10-17 or greater.")),
        ("missing version inline", InlineIdentity, format!(r#"{{"Statement":{ok}}}"#), None),
        ("2008 trust", Trust, r#"{"Version":"2008-10-17","Statement":{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}}"#.into(), None),
        ("duplicate sid", Identity, doc(r#"[{"Sid":"A","Effect":"Allow","Action":"s3:x","Resource":"*"},{"Sid":"A","Effect":"Deny","Action":"s3:x","Resource":"*"}]"#), Some("Statement IDs (SID) in a single policy must be unique.")),
        ("no action", Identity, doc(r#"{"Effect":"Allow","Resource":"*"}"#), Some("Policy statement must contain actions.")),
        ("empty action list", Identity, doc(r#"{"Effect":"Allow","Action":[],"Resource":"*"}"#), Some("Policy statement must contain actions.")),
        ("no resource", Identity, doc(r#"{"Effect":"Allow","Action":"s3:x"}"#), Some("Policy statement must contain resources.")),
        ("no vendor", Identity, doc(r#"{"Effect":"Allow","Action":"GetObject","Resource":"*"}"#), Some("Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc.")),
        // IAM takes condition keys without a vendor (AWS-validated corpus, valid-32).
        ("condition key without vendor", Identity, doc(r#"{"Effect":"Allow","Action":"s3:x","Resource":"*","Condition":{"StringEquals":{"username":"a"}}}"#), None),
        ("two colons", Identity, doc(r#"{"Effect":"Allow","Action":"s3:Get:Object","Resource":"*"}"#), Some("Actions/Condition can contain only one colon.")),
        ("bad vendor", Identity, doc(r#"{"Effect":"Allow","Action":"s 3:GetObject","Resource":"*"}"#), Some("Vendor s 3 is not valid")),
        ("resource not arn", Identity, doc(r#"{"Effect":"Allow","Action":"s3:x","Resource":"bucket"}"#), Some("Resource bucket must be in ARN format or \"*\".")),
        ("bad partition", Identity, doc(r#"{"Effect":"Allow","Action":"s3:x","Resource":"arn:foo:s3:::b"}"#), Some("Partition \"foo\" is not valid for resource \"arn:foo:s3:::b\".")),
        // AWS's own managed policies use `arn:*:` (AWSServiceRoleForAmazonEKSNodegroup).
        ("any partition", Identity, doc(r#"{"Effect":"Allow","Action":"ec2:x","Resource":"arn:*:ec2:*:*:instance/*"}"#), None),
        ("named partition", Identity, doc(r#"{"Effect":"Allow","Action":"s3:x","Resource":"arn:aws-us-gov:s3:::b"}"#), None),
        ("partition pattern", Identity, doc(r#"{"Effect":"Allow","Action":"s3:x","Resource":"arn:aws*:s3:::b"}"#), Some("Partition \"aws*\" is not valid for resource \"arn:aws*:s3:::b\".")),
        // S3's regional resource types (SageMakerStudioProjectRoleMachineLearningPolicy).
        ("s3 access grant region", Identity, doc(r#"{"Effect":"Allow","Action":"s3:x","Resource":"arn:aws:s3:*:*:access-grants/default/grant/*"}"#), None),
        ("s3 job region", Identity, doc(r#"{"Effect":"Allow","Action":"s3:x","Resource":"arn:aws:s3:us-east-1:111122223333:job/*"}"#), None),
        ("null in a resource list", Identity, doc(r#"{"Effect":"Allow","Action":"kms:CreateGrant","Resource":["arn:aws:kms:*:123456789012:key/*",null]}"#), None),
        ("null as the resource", Identity, doc(r#"{"Effect":"Allow","Action":"kms:CreateGrant","Resource":null}"#), Some("Syntax errors in policy.")),
        ("vendor missing", Identity, doc(r#"{"Effect":"Allow","Action":"s3:x","Resource":"arn:aws"}"#), Some("Resource vendor must be fully qualified and cannot contain regexes.")),
        ("iam region", Identity, doc(r#"{"Effect":"Allow","Action":"iam:x","Resource":"arn:aws:iam:us-east-1:1:role/x"}"#), Some("IAM resource arn:aws:iam:us-east-1:1:role/x cannot contain region information.")),
        ("s3 region", Identity, doc(r#"{"Effect":"Allow","Action":"s3:x","Resource":"arn:aws:s3:us-east-1::b"}"#), Some("Resource arn:aws:s3:us-east-1::b can not contain region information.")),
        ("principal in identity", Identity, doc(r#"{"Effect":"Allow","Principal":"*","Action":"s3:x","Resource":"*"}"#), Some("Policy document should not specify a principal.")),
        ("trust ok", Trust, doc(r#"{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:root"},"Action":["sts:AssumeRole","sts:TagSession"]}"#), None),
        ("trust resource", Trust, doc(r#"{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole","Resource":"*"}"#), Some("Has prohibited field Resource")),
        ("trust no principal", Trust, doc(r#"{"Effect":"Allow","Action":"sts:AssumeRole"}"#), Some("Invalid principal in policy: com.amazon.balsa.error.InvalidPolicyException: The passed in policy has a statement with no principals!")),
        ("trust other action", Trust, doc(r#"{"Effect":"Allow","Principal":"*","Action":"s3:GetObject"}"#), Some("AssumeRole policy may only specify STS AssumeRole actions.")),
        ("trust notprincipal", Trust, doc(r#"{"Effect":"Deny","NotPrincipal":"*","Action":"sts:AssumeRole"}"#), Some("Has prohibited field NotPrincipal")),
        ("resource policy ok", Resource, doc(r#"{"Sid":"a-b","Effect":"Allow","Principal":{"AWS":["111122223333"]},"Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"}"#), None),
        ("resource policy no principal", Resource, doc(ok), Some("Missing required field Principal")),
        ("session principal", Session, doc(r#"{"Effect":"Allow","Principal":"*","Action":"s3:x","Resource":"*"}"#), Some("Policy document should not specify a principal.")),
        ("wildcard vendor", Identity, doc(r#"{"Effect":"Allow","Action":"s3:x","Resource":"arn:aws:s*:::b"}"#), Some("Resource vendor must be fully qualified and cannot contain regexes.")),
        ("bad principal type", Resource, doc(r#"{"Effect":"Allow","Principal":{"Robot":"x"},"Action":"s3:x","Resource":"*"}"#), Some("Syntax errors in policy.")),
        ("sid not alphanumeric", Identity, doc(r#"{"Sid":"a-b","Effect":"Allow","Action":"s3:x","Resource":"*"}"#), Some("Statement IDs (SID) must be alpha-numeric. Check that your input satisfies the regular expression [0-9A-Za-z]*")),
        ("bool value in condition", Identity, doc(r#"{"Effect":"Allow","Action":"s3:x","Resource":"*","Condition":{"Bool":{"aws:MultiFactorAuthPresent":true}}}"#), None),
    ];
    let mut failures = Vec::new();
    for (name, kind, text, expected) in &cases {
        let got = Policy::parse(text, *kind).err().map(|e| e.message);
        if got.as_deref() != *expected {
            failures.push(format!("{name}: expected {expected:?}, got {got:?}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn serialization_round_trips() {
    let text = doc(
        r#"[{"Sid":"A","Effect":"Allow","Action":["s3:Get*","s3:List*"],"Resource":"arn:aws:s3:::b/${aws:username}/*",
            "Condition":{"StringLike":{"s3:prefix":["a","b"]},"Bool":{"aws:SecureTransport":"true"}}},
           {"Effect":"Deny","NotAction":"iam:*","NotResource":"*"}]"#,
    );
    let policy = Policy::parse(&text, PolicyKind::Identity).expect("valid");
    let again =
        Policy::parse(&policy.to_json().to_string(), PolicyKind::Identity).expect("round trip");
    assert_eq!(policy, again);
    assert_eq!(
        policy.to_json()["Statement"][0]["Condition"]["StringLike"]["s3:prefix"][1],
        "b"
    );
    assert_eq!(policy.to_json()["Statement"][1]["NotResource"], "*");
}
