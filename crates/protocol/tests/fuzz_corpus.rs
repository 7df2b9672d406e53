//! The fuzz targets' inputs as plain tests: every file of `fuzz/corpus/<target>/` and
//! `fuzz/regressions/<target>/` goes through the function the target calls, and none may panic.

use std::path::{Path, PathBuf};

use protocol::fuzzing::{self, seeds};
use serde_json::Value;

fn fuzz_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz")
}

fn replay(target: &str, run: impl Fn(&[u8])) {
    let mut replayed = 0;
    for kind in ["corpus", "regressions"] {
        let Ok(entries) = std::fs::read_dir(fuzz_dir().join(kind).join(target)) else {
            continue;
        };
        for entry in entries {
            let path = entry.expect("corpus entry").path();
            let data = std::fs::read(&path).expect("corpus file");
            let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| run(&data)));
            assert!(outcome.is_ok(), "{} panics", path.display());
            replayed += 1;
        }
    }
    assert!(replayed > 0, "no corpus for {target}");
}

#[test]
fn query_corpus() {
    replay("query", fuzzing::query);
}

#[test]
fn aws_json_corpus() {
    replay("aws_json", fuzzing::aws_json);
}

#[test]
fn rest_json_corpus() {
    replay("rest_json", fuzzing::rest_json);
}

#[test]
fn session_token_corpus() {
    replay("session_token", fuzzing::session_token);
}

#[test]
fn pagination_corpus() {
    replay("pagination", fuzzing::pagination);
}

/// Writes the named seeds of every target. `cargo test -p protocol --test fuzz_corpus --
/// --ignored`
#[test]
#[ignore = "regenerates committed seeds"]
fn write_seeds() {
    let write = |target: &str, seeds: Vec<(String, Vec<u8>)>| {
        let dir = fuzz_dir().join("corpus").join(target);
        std::fs::create_dir_all(&dir).expect("corpus dir");
        for (name, data) in seeds {
            std::fs::write(dir.join(name), data).expect("write seed");
        }
    };
    write("query", query_seeds());
    write("aws_json", named(AWS_JSON));
    write("rest_json", named(REST_JSON));
    write("session_token", seeds::session_tokens());
    write("pagination", seeds::markers());
}

fn named(seeds: &[(&str, &str)]) -> Vec<(String, Vec<u8>)> {
    seeds
        .iter()
        .map(|(name, text)| ((*name).to_owned(), text.as_bytes().to_vec()))
        .collect()
}

/// The botocore protocol test cases' serialized bodies, and requests as the AWS CLI sends them.
fn query_seeds() -> Vec<(String, Vec<u8>)> {
    let mut seeds = named(QUERY);
    let cases = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/protocol-cases");
    for file in ["input-query.json", "input-ec2.json"] {
        let text = std::fs::read_to_string(cases.join(file)).expect("protocol cases");
        let suites: Vec<Value> = serde_json::from_str(&text).expect("protocol cases JSON");
        for case in suites
            .iter()
            .flat_map(|suite| suite["cases"].as_array().into_iter().flatten())
        {
            if let (Some(id), Some(body)) =
                (case["id"].as_str(), case["serialized"]["body"].as_str())
            {
                seeds.push((format!("botocore-{id}"), body.as_bytes().to_vec()));
            }
        }
    }
    seeds
}

const QUERY: &[(&str, &str)] = &[
    (
        "iam-create-role",
        "Action=CreateRole&Version=2010-05-08&RoleName=web&Path=%2Fapps%2F&Description=web+servers&MaxSessionDuration=7200&AssumeRolePolicyDocument=%7B%22Version%22%3A%222012-10-17%22%2C%22Statement%22%3A%5B%7B%22Effect%22%3A%22Allow%22%2C%22Principal%22%3A%7B%22Service%22%3A%22ec2.amazonaws.com%22%7D%2C%22Action%22%3A%22sts%3AAssumeRole%22%7D%5D%7D&Tags.member.1.Key=team&Tags.member.1.Value=blue",
    ),
    (
        "iam-list-roles-marker",
        "Action=ListRoles&Version=2010-05-08&PathPrefix=%2Fapps%2F&Marker=726f6c652f7765622d31&MaxItems=2",
    ),
    (
        "iam-untag-role",
        "Action=UntagRole&Version=2010-05-08&RoleName=web&TagKeys.member.1=team&TagKeys.member.2=env",
    ),
    (
        "iam-attach-policy",
        "Action=AttachRolePolicy&Version=2010-05-08&RoleName=web&PolicyArn=arn%3Aaws%3Aiam%3A%3Aaws%3Apolicy%2FReadOnlyAccess",
    ),
    (
        "sts-assume-role",
        "Action=AssumeRole&Version=2011-06-15&RoleArn=arn%3Aaws%3Aiam%3A%3A123456789012%3Arole%2Fweb&RoleSessionName=alice&DurationSeconds=900&Tags.member.1.Key=team&Tags.member.1.Value=blue&TransitiveTagKeys.member.1=team&PolicyArns.member.1.arn=arn%3Aaws%3Aiam%3A%3Aaws%3Apolicy%2FReadOnlyAccess&Policy=%7B%7D&SourceIdentity=alice&ExternalId=x-1",
    ),
    (
        "sts-get-caller-identity",
        "Action=GetCallerIdentity&Version=2011-06-15",
    ),
    (
        "ec2-describe-instances-filters",
        "Action=DescribeInstances&Version=2016-11-15&Filter.1.Name=instance-state-name&Filter.1.Value.1=running&Filter.2.Name=tag%3AName&Filter.2.Value.1=web-*&InstanceId.1=i-0123456789abcdef0&MaxResults=5&NextToken=i-1",
    ),
    (
        "ec2-associate-profile",
        "Action=AssociateIamInstanceProfile&Version=2016-11-15&InstanceId=i-0123456789abcdef0&IamInstanceProfile.Name=web-profile",
    ),
    (
        "ec2-describe-associations",
        "Action=DescribeIamInstanceProfileAssociations&Version=2016-11-15&Filter.1.Name=state&Filter.1.Value.1=associated&Filter.2.Name=instance-id&Filter.2.Value.1=i-0123456789abcdef0",
    ),
    (
        "ec2-create-tags",
        "Action=CreateTags&Version=2016-11-15&ResourceId.1=i-0123456789abcdef0&Tag.1.Key=Name&Tag.1.Value=web-1&DryRun=true",
    ),
];

const AWS_JSON: &[(&str, &str)] = &[
    (
        "lookup-events-empty",
        "POST / HTTP/1.1\nHost: cloudtrail.us-east-1.amazonaws.com\nX-Amz-Target: com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101.LookupEvents\nContent-Type: application/x-amz-json-1.1\n\n{}",
    ),
    (
        "lookup-events-attribute",
        "POST / HTTP/1.1\nX-Amz-Target: com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101.LookupEvents\nContent-Type: application/x-amz-json-1.1\n\n{\"LookupAttributes\":[{\"AttributeKey\":\"EventName\",\"AttributeValue\":\"CreateRole\"}],\"MaxResults\":5}",
    ),
    (
        "lookup-events-time-range",
        "POST / HTTP/1.1\nX-Amz-Target: com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101.LookupEvents\n\n{\"StartTime\":1.7999e9,\"EndTime\":\"2027-01-15T08:00:00Z\",\"EventCategory\":\"insight\",\"NextToken\":\"djEuMTgwMDAwMDAwMDEyMy40Mi4wMDAwMDAwMDAwMDAwMDAw\"}",
    ),
    (
        "lookup-events-read-only",
        "POST / HTTP/1.1\nX-Amz-Target: com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101.LookupEvents\n\n{\"LookupAttributes\":[{\"AttributeKey\":\"ReadOnly\",\"AttributeValue\":\"true\"}],\"StartTime\":1800000000,\"EndTime\":1800003600}",
    ),
    (
        "unknown-operation",
        "POST / HTTP/1.1\nX-Amz-Target: com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101.DescribeTrails\n\n{\"trailNameList\":[]}",
    ),
];

const REST_JSON: &[(&str, &str)] = &[
    (
        "validate-identity",
        "POST /policy/validation HTTP/1.1\nContent-Type: application/json\n\n{\"policyDocument\":\"{\\\"Version\\\":\\\"2012-10-17\\\",\\\"Statement\\\":[{\\\"Effect\\\":\\\"Allow\\\",\\\"Action\\\":[\\\"s3:GetObject\\\",\\\"s3:Get*\\\",\\\"iam:PassRole\\\"],\\\"Resource\\\":\\\"*\\\"}]}\",\"policyType\":\"IDENTITY_POLICY\",\"locale\":\"EN\"}",
    ),
    (
        "validate-trust-paged",
        "POST /policy/validation?maxResults=1&nextToken=1 HTTP/1.1\n\n{\"policyDocument\":\"{\\\"Version\\\":\\\"2012-10-17\\\",\\\"Statement\\\":{\\\"Effect\\\":\\\"Allow\\\",\\\"Principal\\\":{\\\"Service\\\":\\\"ec2.amazonaws.com\\\"},\\\"Action\\\":\\\"sts:AssumeRole\\\",\\\"Condition\\\":{\\\"StringEquals\\\":{\\\"aws:SourceAccount\\\":\\\"123456789012\\\"}}}}\",\"policyType\":\"RESOURCE_POLICY\",\"validatePolicyResourceType\":\"AWS::IAM::AssumeRolePolicyDocument\"}",
    ),
    (
        "validate-scp-broken",
        "POST /policy/validation HTTP/1.1\n\n{\"policyDocument\":\"{\\\"Version\\\":\\\"2012-10-17\\\",\\\"Statement\\\":[{\\\"Effect\\\":\\\"Deny\\\",\\\"NotAction\\\":\\\"s3:*\\\",\\\"Resource\\\":\\\"arn:aws:s3:::b/*\\\",\\\"Condition\\\":{\\\"DateGreaterThan\\\":{\\\"aws:CurrentTime\\\":\\\"soon\\\"}}}\",\"policyType\":\"SERVICE_CONTROL_POLICY\"}",
    ),
    (
        "start-generation",
        "PUT /policy/generation HTTP/1.1\n\n{\"policyGenerationDetails\":{\"principalArn\":\"arn:aws:iam::123456789012:role/web\"},\"cloudTrailDetails\":{\"accessRole\":\"arn:aws:iam::123456789012:role/at\",\"startTime\":\"2027-01-01T00:00:00Z\",\"trails\":[{\"cloudTrailArn\":\"arn:aws:cloudtrail:us-east-1:123456789012:trail/t\",\"allRegions\":true}]}}",
    ),
    (
        "list-generations",
        "GET /policy/generation?principalArn=arn%3Aaws%3Aiam%3A%3A123456789012%3Arole%2Fweb&maxResults=2 HTTP/1.1\n\n",
    ),
    (
        "get-generated",
        "GET /policy/generation/job-1?includeResourcePlaceholders=true&includeServiceLevelTemplate=false HTTP/1.1\n\n",
    ),
];
