//! Account isolation over the wire: a second account's administrator (full access in its own
//! account) against the first account's resources. Every operation roleplane serves is walked
//! (the walk fails when `roleplane::operations()` lists one it does not cover); each answer is
//! AWS's for a resource the caller cannot see, and the first account reads the same afterwards.
//! Beside it, the red-team findings about principals: a recreated role does not inherit the old
//! one's trust, and sessions of deleted principals are denied rather than failing.

use std::collections::BTreeSet;

use aws_sdk_iam::error::ProvideErrorMetadata;
use e2e::raw::{RawResponse, Signer, signed_post};
use e2e::{ACCOUNT_ID, ADMIN_KEY_ID, ADMIN_SECRET, EC2_TRUST, Server};
use serde_json::{Value, json};

const OTHER: &str = "210987654321";
const ADMIN: (&str, &str) = (ADMIN_KEY_ID, ADMIN_SECRET);
const ALLOW_ALL: &str =
    r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#;
const ALLOW_S3_READ: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}"#;
const IAM_VERSION: &str = "2010-05-08";
const STS_VERSION: &str = "2011-06-15";
const EC2_VERSION: &str = "2016-11-15";

/// Epoch seconds an hour ago: a policy-generation window's start.
fn an_hour_ago() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_secs()
        - 3600
}

fn policy_arn() -> String {
    format!("arn:aws:iam::{ACCOUNT_ID}:policy/victim-policy")
}

fn encode(value: &str) -> String {
    let mut out = String::new();
    for byte in value.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(byte as char)
            }
            _ => out.push_str(&format!("%{byte:02X}")),
        }
    }
    out
}

fn form(action: &str, version: &str, params: &[(&str, &str)]) -> String {
    let mut body = format!("Action={action}&Version={version}");
    for (name, value) in params {
        body.push_str(&format!("&{name}={}", encode(value)));
    }
    body
}

fn query_call(
    server: &Server,
    service: &str,
    key: (&str, &str),
    action: &str,
    params: &[(&str, &str)],
) -> RawResponse {
    let version = match service {
        "iam" => IAM_VERSION,
        "sts" => STS_VERSION,
        _ => EC2_VERSION,
    };
    signed_post(
        &server.endpoint,
        service,
        key,
        form(action, version, params).as_bytes(),
    )
}

/// The text between `<name>` and `</name>`, first occurrence.
fn element<'a>(body: &'a str, name: &str) -> Option<&'a str> {
    let start = body.find(&format!("<{name}>"))? + name.len() + 2;
    let end = body[start..].find(&format!("</{name}>"))? + start;
    Some(&body[start..end])
}

/// A response with its request ID blanked, so two reads of unchanged state compare equal.
fn stable(response: &RawResponse) -> String {
    let mut body = response.body.clone();
    for tag in ["RequestId", "requestId"] {
        if let Some(id) = element(&body, tag) {
            body = body.replace(id, "");
        }
    }
    format!("{} {body}", response.status)
}

/// Account A's resources the walk aims at.
struct Victim {
    access_key: String,
    instance: String,
    association: String,
    generation_job: String,
}

async fn victim(server: &Server) -> Victim {
    let iam = server.iam().await;
    iam.create_role()
        .role_name("victim-role")
        .assume_role_policy_document(EC2_TRUST)
        .tags(
            aws_sdk_iam::types::Tag::builder()
                .key("team")
                .value("a")
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    iam.put_role_policy()
        .role_name("victim-role")
        .policy_name("inline")
        .policy_document(ALLOW_S3_READ)
        .send()
        .await
        .unwrap();
    iam.create_policy()
        .policy_name("victim-policy")
        .policy_document(ALLOW_S3_READ)
        .tags(
            aws_sdk_iam::types::Tag::builder()
                .key("team")
                .value("a")
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    iam.create_policy_version()
        .policy_arn(policy_arn())
        .policy_document(ALLOW_S3_READ)
        .send()
        .await
        .unwrap();
    iam.attach_role_policy()
        .role_name("victim-role")
        .policy_arn(policy_arn())
        .send()
        .await
        .unwrap();
    let key = server.user_with_key("victim").await;
    iam.attach_user_policy()
        .user_name("victim")
        .policy_arn(policy_arn())
        .send()
        .await
        .unwrap();
    iam.create_instance_profile()
        .instance_profile_name("victim-profile")
        .send()
        .await
        .unwrap();
    iam.add_role_to_instance_profile()
        .instance_profile_name("victim-profile")
        .role_name("victim-role")
        .send()
        .await
        .unwrap();
    let (instance, _) = server.launch(Some("victim-profile")).await;
    let associations = query_call(
        server,
        "ec2",
        ADMIN,
        "DescribeIamInstanceProfileAssociations",
        &[],
    );
    let association = element(&associations.body, "associationId")
        .expect("the instance's association")
        .to_owned();
    let job = Signer::new("access-analyzer", ADMIN).send(&server.endpoint, "PUT", "/policy/generation", &[("content-type", "application/json")], json!({
            "policyGenerationDetails": {"principalArn": format!("arn:aws:iam::{ACCOUNT_ID}:role/victim-role")},
            "cloudTrailDetails": {
                "trails": [{"cloudTrailArn": format!("arn:aws:cloudtrail:us-east-1:{ACCOUNT_ID}:trail/t"), "allRegions": true}],
                "accessRole": format!("arn:aws:iam::{ACCOUNT_ID}:role/victim-role"),
                "startTime": an_hour_ago()
            }
        })
        .to_string()
        .as_bytes());
    assert_eq!(job.status, 200, "{}", job.body);
    let job: Value = serde_json::from_str(&job.body).unwrap();
    let generation_job = job["jobId"].as_str().unwrap().to_owned();
    // Wait for the job to settle, so the snapshots compare a finished job.
    for _ in 0..100 {
        let got = analyzer(
            server,
            ADMIN,
            "GET",
            &format!("/policy/generation/{generation_job}"),
            "",
        );
        if !got.body.contains("IN_PROGRESS") {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    Victim {
        access_key: key.access_key_id().to_owned(),
        instance,
        association,
        generation_job,
    }
}

fn analyzer(
    server: &Server,
    key: (&str, &str),
    method: &str,
    path: &str,
    body: &str,
) -> RawResponse {
    Signer::new("access-analyzer", key).send(
        &server.endpoint,
        method,
        path,
        &[("content-type", "application/json")],
        body.as_bytes(),
    )
}

/// Everything account A's administrator can read about its resources.
fn snapshot(server: &Server, victim: &Victim) -> Vec<String> {
    let policy = policy_arn();
    let iam_reads: Vec<(&str, Vec<(&str, &str)>)> = vec![
        ("GetRole", vec![("RoleName", "victim-role")]),
        ("ListRoles", vec![]),
        ("ListRolePolicies", vec![("RoleName", "victim-role")]),
        (
            "GetRolePolicy",
            vec![("RoleName", "victim-role"), ("PolicyName", "inline")],
        ),
        (
            "ListAttachedRolePolicies",
            vec![("RoleName", "victim-role")],
        ),
        ("ListRoleTags", vec![("RoleName", "victim-role")]),
        (
            "ListInstanceProfilesForRole",
            vec![("RoleName", "victim-role")],
        ),
        ("GetUser", vec![("UserName", "victim")]),
        ("ListUsers", vec![]),
        ("ListAccessKeys", vec![("UserName", "victim")]),
        ("ListUserPolicies", vec![("UserName", "victim")]),
        ("ListAttachedUserPolicies", vec![("UserName", "victim")]),
        ("ListUserTags", vec![("UserName", "victim")]),
        (
            "GetAccessKeyLastUsed",
            vec![("AccessKeyId", &victim.access_key)],
        ),
        ("GetPolicy", vec![("PolicyArn", &policy)]),
        ("ListPolicies", vec![]),
        ("ListPolicyVersions", vec![("PolicyArn", &policy)]),
        (
            "GetPolicyVersion",
            vec![("PolicyArn", &policy), ("VersionId", "v1")],
        ),
        (
            "GetPolicyVersion",
            vec![("PolicyArn", &policy), ("VersionId", "v2")],
        ),
        ("ListPolicyTags", vec![("PolicyArn", &policy)]),
        (
            "GetInstanceProfile",
            vec![("InstanceProfileName", "victim-profile")],
        ),
        ("ListInstanceProfiles", vec![]),
        (
            "ListInstanceProfileTags",
            vec![("InstanceProfileName", "victim-profile")],
        ),
    ];
    let mut state: Vec<String> = iam_reads
        .iter()
        .map(|(action, params)| stable(&query_call(server, "iam", ADMIN, action, params)))
        .collect();
    for (action, params) in [
        ("DescribeInstances", vec![]),
        ("DescribeIamInstanceProfileAssociations", vec![]),
        ("GetInstanceMetadataDefaults", vec![]),
    ] {
        state.push(stable(&query_call(server, "ec2", ADMIN, action, &params)));
    }
    let job = format!("/policy/generation/{}", victim.generation_job);
    state.push(stable(&analyzer(server, ADMIN, "GET", &job, "")));
    state.push(stable(&analyzer(
        server,
        ADMIN,
        "GET",
        "/policy/generation",
        "",
    )));
    for read in &state {
        assert!(read.starts_with("200 "), "account A reads its own: {read}");
    }
    state
}

/// What the walk accepts as an answer.
enum Expect {
    /// 403 AccessDenied, worded for a resource of another account (this ARN) without a
    /// resource policy.
    ForeignArn(String),
    /// The status and code of a name looked up in the caller's own account, where it is absent
    /// (or of another account's ID, which EC2 reports as absent).
    Refused(u16, &'static str),
    /// Success, about the caller's own account only: account A's ID appears nowhere in it.
    Own,
    /// Success, without this string of account A's in it (where the caller's own data may
    /// name A's resources: its own policy-generation job for A's role, which fails with
    /// AUTHORIZATION_ERROR as on AWS, having read nothing).
    OwnWithout(String),
}

/// Sends one request to the server with the given key pair.
type Send = Box<dyn Fn(&Server, (&str, &str)) -> RawResponse>;

struct Step {
    service: &'static str,
    operation: &'static str,
    run: Send,
    expect: Expect,
}

fn query(
    service: &'static str,
    operation: &'static str,
    params: Vec<(&'static str, String)>,
    expect: Expect,
) -> Step {
    Step {
        service,
        operation,
        run: Box::new(move |server, key| {
            let params: Vec<(&str, &str)> = params.iter().map(|(n, v)| (*n, v.as_str())).collect();
            query_call(server, service, key, operation, &params)
        }),
        expect,
    }
}

fn rest(
    operation: &'static str,
    method: &'static str,
    path: String,
    body: String,
    expect: Expect,
) -> Step {
    Step {
        service: "access-analyzer",
        operation,
        run: Box::new(move |server, key| analyzer(server, key, method, &path, &body)),
        expect,
    }
}

fn p(name: &'static str, value: &str) -> (&'static str, String) {
    (name, value.to_owned())
}

/// Every operation, aimed at account A's resources (or, for operations that name none, run in
/// the caller's own account).
fn walk(victim: &Victim, a_message: &str) -> Vec<Step> {
    use Expect::*;
    let policy = policy_arn();
    let role = || p("RoleName", "victim-role");
    let user = || p("UserName", "victim");
    let profile = || p("InstanceProfileName", "victim-profile");
    let tag = || vec![p("Tags.member.1.Key", "k"), p("Tags.member.1.Value", "v")];
    let missing = Refused(404, "NoSuchEntity");
    let missing = || match missing {
        Refused(s, c) => Refused(s, c),
        _ => unreachable!(),
    };
    let a_role_arn = format!("arn:aws:iam::{ACCOUNT_ID}:role/victim-role");
    let a_profile_arn = format!("arn:aws:iam::{ACCOUNT_ID}:instance-profile/victim-profile");
    let mut steps = vec![
        // ---- IAM: names resolve in the caller's own account, ARNs of A are refused.
        query(
            "iam",
            "CreateRole",
            vec![
                p("RoleName", "walk-role"),
                p("AssumeRolePolicyDocument", EC2_TRUST),
                p("PermissionsBoundary", &policy),
            ],
            missing(),
        ),
        query("iam", "GetRole", vec![role()], missing()),
        query("iam", "ListRoles", vec![], Own),
        query(
            "iam",
            "UpdateRole",
            vec![role(), p("Description", "x")],
            missing(),
        ),
        query(
            "iam",
            "UpdateRoleDescription",
            vec![role(), p("Description", "x")],
            missing(),
        ),
        query("iam", "DeleteRole", vec![role()], missing()),
        query(
            "iam",
            "UpdateAssumeRolePolicy",
            vec![role(), p("PolicyDocument", EC2_TRUST)],
            missing(),
        ),
        query(
            "iam",
            "PutRolePolicy",
            vec![
                role(),
                p("PolicyName", "inline"),
                p("PolicyDocument", ALLOW_ALL),
            ],
            missing(),
        ),
        query(
            "iam",
            "GetRolePolicy",
            vec![role(), p("PolicyName", "inline")],
            missing(),
        ),
        query(
            "iam",
            "DeleteRolePolicy",
            vec![role(), p("PolicyName", "inline")],
            missing(),
        ),
        query("iam", "ListRolePolicies", vec![role()], missing()),
        query(
            "iam",
            "PutUserPolicy",
            vec![user(), p("PolicyName", "p"), p("PolicyDocument", ALLOW_ALL)],
            missing(),
        ),
        query(
            "iam",
            "GetUserPolicy",
            vec![user(), p("PolicyName", "p")],
            missing(),
        ),
        query(
            "iam",
            "DeleteUserPolicy",
            vec![user(), p("PolicyName", "p")],
            missing(),
        ),
        query("iam", "ListUserPolicies", vec![user()], missing()),
        query(
            "iam",
            "AttachRolePolicy",
            vec![role(), p("PolicyArn", &policy)],
            missing(),
        ),
        query(
            "iam",
            "DetachRolePolicy",
            vec![role(), p("PolicyArn", &policy)],
            missing(),
        ),
        query("iam", "ListAttachedRolePolicies", vec![role()], missing()),
        // The caller's own user with A's policy: not attachable from here.
        query(
            "iam",
            "AttachUserPolicy",
            vec![p("UserName", "admin"), p("PolicyArn", &policy)],
            missing(),
        ),
        query(
            "iam",
            "DetachUserPolicy",
            vec![p("UserName", "admin"), p("PolicyArn", &policy)],
            missing(),
        ),
        query("iam", "ListAttachedUserPolicies", vec![user()], missing()),
        query(
            "iam",
            "PutRolePermissionsBoundary",
            vec![role(), p("PermissionsBoundary", &policy)],
            missing(),
        ),
        query(
            "iam",
            "DeleteRolePermissionsBoundary",
            vec![role()],
            missing(),
        ),
        query(
            "iam",
            "PutUserPermissionsBoundary",
            vec![p("UserName", "admin"), p("PermissionsBoundary", &policy)],
            missing(),
        ),
        query(
            "iam",
            "DeleteUserPermissionsBoundary",
            vec![user()],
            missing(),
        ),
        query(
            "iam",
            "CreatePolicy",
            vec![
                p("PolicyName", "walk-policy"),
                p("PolicyDocument", ALLOW_S3_READ),
            ],
            Own,
        ),
        query(
            "iam",
            "GetPolicy",
            vec![p("PolicyArn", &policy)],
            ForeignArn(policy.clone()),
        ),
        query(
            "iam",
            "DeletePolicy",
            vec![p("PolicyArn", &policy)],
            ForeignArn(policy.clone()),
        ),
        query("iam", "ListPolicies", vec![], Own),
        query(
            "iam",
            "CreatePolicyVersion",
            vec![
                p("PolicyArn", &policy),
                p("PolicyDocument", ALLOW_ALL),
                p("SetAsDefault", "true"),
            ],
            ForeignArn(policy.clone()),
        ),
        query(
            "iam",
            "GetPolicyVersion",
            vec![p("PolicyArn", &policy), p("VersionId", "v1")],
            ForeignArn(policy.clone()),
        ),
        query(
            "iam",
            "ListPolicyVersions",
            vec![p("PolicyArn", &policy)],
            ForeignArn(policy.clone()),
        ),
        query(
            "iam",
            "DeletePolicyVersion",
            vec![p("PolicyArn", &policy), p("VersionId", "v2")],
            ForeignArn(policy.clone()),
        ),
        query(
            "iam",
            "SetDefaultPolicyVersion",
            vec![p("PolicyArn", &policy), p("VersionId", "v2")],
            ForeignArn(policy.clone()),
        ),
        query(
            "iam",
            "CreateInstanceProfile",
            vec![p("InstanceProfileName", "walk-profile")],
            Own,
        ),
        query("iam", "GetInstanceProfile", vec![profile()], missing()),
        query("iam", "ListInstanceProfiles", vec![], Own),
        query("iam", "DeleteInstanceProfile", vec![profile()], missing()),
        query(
            "iam",
            "AddRoleToInstanceProfile",
            vec![profile(), role()],
            missing(),
        ),
        query(
            "iam",
            "RemoveRoleFromInstanceProfile",
            vec![profile(), role()],
            missing(),
        ),
        query(
            "iam",
            "ListInstanceProfilesForRole",
            vec![role()],
            missing(),
        ),
        query(
            "iam",
            "CreateUser",
            vec![
                p("UserName", "walk-user"),
                p("PermissionsBoundary", &policy),
            ],
            missing(),
        ),
        query("iam", "GetUser", vec![user()], missing()),
        query("iam", "ListUsers", vec![], Own),
        query("iam", "DeleteUser", vec![user()], missing()),
        query("iam", "CreateAccessKey", vec![user()], missing()),
        query("iam", "ListAccessKeys", vec![user()], missing()),
        query(
            "iam",
            "UpdateAccessKey",
            vec![
                user(),
                p("AccessKeyId", &victim.access_key),
                p("Status", "Inactive"),
            ],
            missing(),
        ),
        // Without UserName the key is looked for among the caller's own.
        query(
            "iam",
            "UpdateAccessKey",
            vec![
                p("AccessKeyId", &victim.access_key),
                p("Status", "Inactive"),
            ],
            missing(),
        ),
        query(
            "iam",
            "DeleteAccessKey",
            vec![p("AccessKeyId", &victim.access_key)],
            missing(),
        ),
        query(
            "iam",
            "GetAccessKeyLastUsed",
            vec![p("AccessKeyId", &victim.access_key)],
            Refused(403, "AccessDenied"),
        ),
        query(
            "iam",
            "SimulatePrincipalPolicy",
            vec![
                p("PolicySourceArn", &a_role_arn),
                p("ActionNames.member.1", "s3:GetObject"),
            ],
            ForeignArn(a_role_arn.clone()),
        ),
        query(
            "iam",
            "SimulateCustomPolicy",
            vec![
                p("PolicyInputList.member.1", ALLOW_S3_READ),
                p("ActionNames.member.1", "s3:GetObject"),
            ],
            Own,
        ),
        query("iam", "TagRole", [vec![role()], tag()].concat(), missing()),
        query(
            "iam",
            "UntagRole",
            vec![role(), p("TagKeys.member.1", "team")],
            missing(),
        ),
        query("iam", "ListRoleTags", vec![role()], missing()),
        query("iam", "TagUser", [vec![user()], tag()].concat(), missing()),
        query(
            "iam",
            "UntagUser",
            vec![user(), p("TagKeys.member.1", "team")],
            missing(),
        ),
        query("iam", "ListUserTags", vec![user()], missing()),
        query(
            "iam",
            "TagInstanceProfile",
            [vec![profile()], tag()].concat(),
            missing(),
        ),
        query(
            "iam",
            "UntagInstanceProfile",
            vec![profile(), p("TagKeys.member.1", "team")],
            missing(),
        ),
        query("iam", "ListInstanceProfileTags", vec![profile()], missing()),
        query(
            "iam",
            "TagPolicy",
            [vec![p("PolicyArn", &policy)], tag()].concat(),
            ForeignArn(policy.clone()),
        ),
        query(
            "iam",
            "UntagPolicy",
            vec![p("PolicyArn", &policy), p("TagKeys.member.1", "team")],
            ForeignArn(policy.clone()),
        ),
        query(
            "iam",
            "ListPolicyTags",
            vec![p("PolicyArn", &policy)],
            ForeignArn(policy.clone()),
        ),
        // ---- STS
        query("sts", "GetCallerIdentity", vec![], Own),
        query(
            "sts",
            "AssumeRole",
            vec![p("RoleArn", &a_role_arn), p("RoleSessionName", "walk")],
            Refused(403, "AccessDenied"),
        ),
        // A's own policy as a session policy of the caller's role: not the role's account's.
        query(
            "sts",
            "AssumeRole",
            vec![
                p("RoleArn", &format!("arn:aws:iam::{OTHER}:role/own-role")),
                p("RoleSessionName", "walk"),
                p("PolicyArns.member.1.arn", &policy),
            ],
            Refused(400, "MalformedPolicyDocument"),
        ),
        query("sts", "GetSessionToken", vec![], Own),
        query(
            "sts",
            "DecodeAuthorizationMessage",
            vec![p("EncodedMessage", a_message)],
            Refused(400, "InvalidAuthorizationMessageException"),
        ),
        // ---- EC2: another account's IDs are absent.
        query(
            "ec2",
            "RunInstances",
            vec![
                p("ImageId", "ami-0123456789abcdef0"),
                p("MinCount", "1"),
                p("MaxCount", "1"),
                p("IamInstanceProfile.Arn", &a_profile_arn),
            ],
            Refused(400, "InvalidParameterValue"),
        ),
        query(
            "ec2",
            "DescribeInstances",
            vec![p("InstanceId.1", &victim.instance)],
            Refused(400, "InvalidInstanceID.NotFound"),
        ),
        query(
            "ec2",
            "StartInstances",
            vec![p("InstanceId.1", &victim.instance)],
            Refused(400, "InvalidInstanceID.NotFound"),
        ),
        query(
            "ec2",
            "StopInstances",
            vec![p("InstanceId.1", &victim.instance)],
            Refused(400, "InvalidInstanceID.NotFound"),
        ),
        query(
            "ec2",
            "TerminateInstances",
            vec![p("InstanceId.1", &victim.instance)],
            Refused(400, "InvalidInstanceID.NotFound"),
        ),
        query(
            "ec2",
            "AssociateIamInstanceProfile",
            vec![
                p("InstanceId", &victim.instance),
                p("IamInstanceProfile.Name", "own-profile"),
            ],
            Refused(400, "InvalidInstanceID.NotFound"),
        ),
        query(
            "ec2",
            "ReplaceIamInstanceProfileAssociation",
            vec![
                p("AssociationId", &victim.association),
                p("IamInstanceProfile.Name", "own-profile"),
            ],
            Refused(400, "InvalidAssociationID.NotFound"),
        ),
        query(
            "ec2",
            "DisassociateIamInstanceProfile",
            vec![p("AssociationId", &victim.association)],
            Refused(400, "InvalidAssociationID.NotFound"),
        ),
        query(
            "ec2",
            "DescribeIamInstanceProfileAssociations",
            vec![p("AssociationId.1", &victim.association)],
            Refused(400, "InvalidAssociationID.NotFound"),
        ),
        query(
            "ec2",
            "ModifyInstanceMetadataOptions",
            vec![
                p("InstanceId", &victim.instance),
                p("HttpTokens", "required"),
            ],
            Refused(400, "InvalidInstanceID.NotFound"),
        ),
        query(
            "ec2",
            "ModifyInstanceMetadataDefaults",
            vec![p("HttpTokens", "required")],
            Own,
        ),
        query("ec2", "GetInstanceMetadataDefaults", vec![], Own),
    ];
    // ---- CloudTrail: the caller's own trail only (checked record by record in the test).
    steps.push(Step {
        service: "cloudtrail",
        operation: "LookupEvents",
        run: Box::new(|server, key| {
            Signer::new("cloudtrail", key).send(
                &server.endpoint,
                "POST",
                "/",
                &[
                    ("content-type", "application/x-amz-json-1.1"),
                    (
                        "x-amz-target",
                        "com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101.LookupEvents",
                    ),
                ],
                br#"{"MaxResults":50}"#,
            )
        }),
        expect: Own,
    });
    // ---- Access Analyzer
    let job = format!("/policy/generation/{}", victim.generation_job);
    steps.extend([
        rest("ValidatePolicy", "POST", "/policy/validation".into(), json!({"policyDocument": ALLOW_S3_READ, "policyType": "IDENTITY_POLICY"}).to_string(), Own),
        rest("StartPolicyGeneration", "PUT", "/policy/generation".into(), json!({
            "policyGenerationDetails": {"principalArn": a_role_arn},
            "cloudTrailDetails": {
                "trails": [{"cloudTrailArn": format!("arn:aws:cloudtrail:us-east-1:{ACCOUNT_ID}:trail/t"), "allRegions": true}],
                "accessRole": a_role_arn,
                "startTime": an_hour_ago()
            }
        }).to_string(), Own),
        rest("ListPolicyGenerations", "GET", "/policy/generation".into(), String::new(), OwnWithout(victim.generation_job.clone())),
        rest("GetGeneratedPolicy", "GET", job.clone(), String::new(), Refused(404, "ResourceNotFoundException")),
        rest("CancelPolicyGeneration", "PUT", job, String::new(), Refused(404, "ResourceNotFoundException")),
    ]);
    steps
}

/// The error code of an XML or JSON error body.
fn error_code(response: &RawResponse) -> String {
    if let Some(code) = element(&response.body, "Code") {
        return code.to_owned();
    }
    let header = response.head.lines().find_map(|line| {
        let (name, value) = line.split_once(':')?;
        name.eq_ignore_ascii_case("x-amzn-errortype").then(|| {
            value
                .trim()
                .split(':')
                .next()
                .unwrap_or_default()
                .to_owned()
        })
    });
    if let Some(code) = header {
        return code;
    }
    let json: Value = serde_json::from_str(&response.body).unwrap_or_default();
    json["__type"]
        .as_str()
        .or_else(|| json["code"].as_str())
        .unwrap_or_default()
        .rsplit('#')
        .next()
        .unwrap_or_default()
        .to_owned()
}

#[tokio::test]
async fn a_second_accounts_admin_reaches_nothing_of_the_first() {
    let server = Server::start();
    let victim = victim(&server).await;
    // An authorization message encoded for account A (a denied EC2 call of A's user).
    let a_user = server.access_key("victim").await;
    let denied = query_call(
        &server,
        "ec2",
        (a_user.access_key_id(), a_user.secret_access_key()),
        "StopInstances",
        &[("InstanceId.1", &victim.instance)],
    );
    let a_message = element(&denied.body, "Message")
        .and_then(|m| m.rsplit("Encoded authorization failure message: ").next())
        .expect("an encoded message")
        .to_owned();
    let before = snapshot(&server, &victim);

    let (key_id, secret) = server.second_account(OTHER);
    let other = (key_id.as_str(), secret.as_str());
    // The second account's own role and profile, for the steps that need one.
    query_call(
        &server,
        "iam",
        other,
        "CreateRole",
        &[
            ("RoleName", "own-role"),
            (
                "AssumeRolePolicyDocument",
                &format!(
                    r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{{"AWS":"arn:aws:iam::{OTHER}:root"}},"Action":"sts:AssumeRole"}}]}}"#
                ),
            ),
        ],
    );
    query_call(
        &server,
        "iam",
        other,
        "CreateInstanceProfile",
        &[("InstanceProfileName", "own-profile")],
    );

    let steps = walk(&victim, &a_message);
    let mut failures = Vec::new();
    for step in &steps {
        let response = (step.run)(&server, other);
        let code = error_code(&response);
        let what = format!("{}:{}", step.service, step.operation);
        let ok = match &step.expect {
            Expect::ForeignArn(resource) => {
                let action = format!("iam:{}", step.operation);
                let message = format!(
                    "User: arn:aws:iam::{OTHER}:user/admin is not authorized to perform: {action} on resource: {resource} because no resource-based policy allows the {action} action"
                );
                response.status == 403 && code == "AccessDenied" && response.body.contains(&message)
            }
            Expect::Refused(status, expected) => response.status == *status && code == *expected,
            Expect::Own => response.status == 200 && !mentions_account_a(step, &response),
            Expect::OwnWithout(secret) => response.status == 200 && !response.body.contains(secret),
        };
        if !ok {
            failures.push(format!("{what}: {} {}", response.status, response.body));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));

    assert_eq!(snapshot(&server, &victim), before, "account A is unchanged");

    // The walk covers every operation served.
    let walked: BTreeSet<(String, String)> = steps
        .iter()
        .map(|s| (s.service.to_owned(), s.operation.to_owned()))
        .collect();
    let served: BTreeSet<(String, String)> = roleplane::operations()
        .into_iter()
        .flat_map(|(service, ops)| {
            ops.iter()
                .map(move |op| (service.to_owned(), (*op).to_owned()))
        })
        .collect();
    let unwalked: Vec<_> = served.difference(&walked).collect();
    assert!(
        unwalked.is_empty(),
        "operations missing from the walk: {unwalked:?}"
    );
}

/// Whether a successful answer to the second account mentions the first. LookupEvents shows
/// the caller's own calls, whose parameters name A's resources, so its records are checked by
/// the account they belong to instead.
fn mentions_account_a(step: &Step, response: &RawResponse) -> bool {
    if step.operation == "LookupEvents" {
        let body: Value = serde_json::from_str(&response.body).unwrap_or_default();
        let events = body["Events"].as_array().cloned().unwrap_or_default();
        assert!(
            !events.is_empty(),
            "the caller's own calls are in its trail"
        );
        return events.iter().any(|event| {
            let record: Value =
                serde_json::from_str(event["CloudTrailEvent"].as_str().unwrap_or("{}")).unwrap();
            record["recipientAccountId"] != OTHER
        });
    }
    response.body.contains(ACCOUNT_ID)
}

/// Finding 1 through an SDK: a user of account A holding A's policy stays denied, and the
/// policy's documents are never shown to account B.
#[tokio::test]
async fn another_account_cannot_rewrite_a_managed_policy() {
    let server = Server::start();
    let iam = server.iam().await;
    iam.create_policy()
        .policy_name("victim-policy")
        .policy_document(ALLOW_S3_READ)
        .send()
        .await
        .unwrap();
    let key = server.user_with_key("victim").await;
    iam.attach_user_policy()
        .user_name("victim")
        .policy_arn(policy_arn())
        .send()
        .await
        .unwrap();
    let victim = aws_sdk_iam::Client::new(&server.key_config(&key).await);
    let denied = victim.list_roles().send().await.unwrap_err();
    assert_eq!(denied.code(), Some("AccessDenied"));

    let (key_id, secret) = server.second_account(OTHER);
    let other = aws_sdk_iam::Client::new(&server.config(&key_id, &secret, None).await);
    let err = other
        .create_policy_version()
        .policy_arn(policy_arn())
        .policy_document(ALLOW_ALL)
        .set_as_default(true)
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some("AccessDenied"));
    let err = other
        .get_policy_version()
        .policy_arn(policy_arn())
        .version_id("v1")
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some("AccessDenied"));
    assert!(!format!("{err:?}").contains("s3:GetObject"));

    let still = victim.list_roles().send().await.unwrap_err();
    assert_eq!(still.code(), Some("AccessDenied"));
    let versions = iam
        .list_policy_versions()
        .policy_arn(policy_arn())
        .send()
        .await
        .unwrap();
    assert_eq!(versions.versions().len(), 1);
}

fn trust_in(principal: &str) -> String {
    format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{{"AWS":"{principal}"}},"Action":"sts:AssumeRole"}}]}}"#
    )
}

async fn assume(
    sts: &aws_sdk_sts::Client,
    role_arn: &str,
) -> Result<aws_sdk_sts::types::Credentials, String> {
    sts.assume_role()
        .role_arn(role_arn)
        .role_session_name("session")
        .send()
        .await
        .map(|out| out.credentials().unwrap().clone())
        .map_err(|e| e.code().unwrap_or_default().to_owned())
}

async fn session_config(
    server: &Server,
    creds: &aws_sdk_sts::types::Credentials,
) -> aws_config::SdkConfig {
    server
        .config(
            creds.access_key_id(),
            creds.secret_access_key(),
            Some(creds.session_token()),
        )
        .await
}

/// Finding 2: a trust policy naming `role/trustedR` trusts that role, not a new one of the
/// same name; GetRole shows the old role's ID once it is gone.
#[tokio::test]
async fn a_recreated_role_does_not_inherit_trust() {
    let server = Server::start();
    let iam = server.iam().await;
    let sts = server.sts().await;
    let account_trust = trust_in(&format!("arn:aws:iam::{ACCOUNT_ID}:root"));
    let trusted_arn = format!("arn:aws:iam::{ACCOUNT_ID}:role/trustedR");
    let create_trusted = || async {
        let role = iam
            .create_role()
            .role_name("trustedR")
            .assume_role_policy_document(&account_trust)
            .send()
            .await
            .unwrap();
        iam.put_role_policy()
            .role_name("trustedR")
            .policy_name("assume")
            .policy_document(ALLOW_ALL)
            .send()
            .await
            .unwrap();
        role.role().unwrap().role_id().to_owned()
    };
    let old_id = create_trusted().await;

    let target = iam
        .create_role()
        .role_name("target")
        .assume_role_policy_document(trust_in(&trusted_arn))
        .send()
        .await
        .unwrap();
    let target_arn = target.role().unwrap().arn().to_owned();

    let first = assume(&sts, &trusted_arn).await.unwrap();
    let first_sts = aws_sdk_sts::Client::new(&session_config(&server, &first).await);
    assert!(
        assume(&first_sts, &target_arn).await.is_ok(),
        "the named role is trusted"
    );

    iam.delete_role_policy()
        .role_name("trustedR")
        .policy_name("assume")
        .send()
        .await
        .unwrap();
    iam.delete_role()
        .role_name("trustedR")
        .send()
        .await
        .unwrap();
    let shown = iam.get_role().role_name("target").send().await.unwrap();
    let document = url_decode(shown.role().unwrap().assume_role_policy_document().unwrap());
    assert!(
        document.contains(&format!("\"AWS\":\"{old_id}\"")),
        "{document}"
    );

    let new_id = create_trusted().await;
    assert_ne!(new_id, old_id);
    let second = assume(&sts, &trusted_arn).await.unwrap();
    let second_sts = aws_sdk_sts::Client::new(&session_config(&server, &second).await);
    assert_eq!(
        assume(&second_sts, &target_arn).await.err().as_deref(),
        Some("AccessDenied"),
        "a new role of the same name is not the trusted one"
    );

    // Writing the trust policy again pins the new role.
    iam.update_assume_role_policy()
        .role_name("target")
        .policy_document(trust_in(&trusted_arn))
        .send()
        .await
        .unwrap();
    assert!(assume(&second_sts, &target_arn).await.is_ok());

    // A trust policy naming a role that does not exist is refused, as IAM refuses it.
    let err = iam
        .create_role()
        .role_name("target2")
        .assume_role_policy_document(trust_in(&format!("arn:aws:iam::{ACCOUNT_ID}:role/nobody")))
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some("MalformedPolicyDocument"));
    assert_eq!(
        err.message(),
        Some(
            format!(
                "Invalid principal in policy: \"AWS\":\"arn:aws:iam::{ACCOUNT_ID}:role/nobody\""
            )
            .as_str()
        )
    );
}

fn url_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && let Some(Ok(b)) = s.get(i + 1..i + 3).map(|h| u8::from_str_radix(h, 16))
        {
            out.push(b);
            i += 3;
            continue;
        }
        out.push(if bytes[i] == b'+' { b' ' } else { bytes[i] });
        i += 1;
    }
    String::from_utf8(out).unwrap()
}

/// Finding 3: a session whose role was deleted (and recreated under the same name) is denied
/// in every service with a 4xx, never a 500.
#[tokio::test]
async fn sessions_of_deleted_roles_are_denied_not_failed() {
    let server = Server::start();
    let iam = server.iam().await;
    let account_trust = trust_in(&format!("arn:aws:iam::{ACCOUNT_ID}:root"));
    let role_arn = format!("arn:aws:iam::{ACCOUNT_ID}:role/doomed");
    let create = || async {
        iam.create_role()
            .role_name("doomed")
            .assume_role_policy_document(&account_trust)
            .send()
            .await
            .unwrap();
        iam.put_role_policy()
            .role_name("doomed")
            .policy_name("all")
            .policy_document(ALLOW_ALL)
            .send()
            .await
            .unwrap();
    };
    create().await;
    let creds = assume(&server.sts().await, &role_arn).await.unwrap();
    let session = (creds.access_key_id(), creds.secret_access_key());
    let token = creds.session_token();
    let call = |service: &str, body: &str| {
        Signer::new(service, session).token(token).send(
            &server.endpoint,
            "POST",
            "/",
            &[(
                "content-type",
                "application/x-www-form-urlencoded; charset=utf-8",
            )],
            body.as_bytes(),
        )
    };
    assert_eq!(
        call("iam", "Action=ListRoles&Version=2010-05-08").status,
        200
    );

    iam.delete_role_policy()
        .role_name("doomed")
        .policy_name("all")
        .send()
        .await
        .unwrap();
    iam.delete_role().role_name("doomed").send().await.unwrap();
    for round in ["deleted", "recreated"] {
        let iam_answer = call("iam", "Action=ListRoles&Version=2010-05-08");
        assert_eq!(
            (iam_answer.status, error_code(&iam_answer)),
            (403, "AccessDenied".into()),
            "{round}: {}",
            iam_answer.body
        );
        let ec2_answer = call("ec2", "Action=DescribeInstances&Version=2016-11-15");
        assert_eq!(
            (ec2_answer.status, error_code(&ec2_answer)),
            (403, "UnauthorizedOperation".into()),
            "{round}: {}",
            ec2_answer.body
        );
        let trail = Signer::new("cloudtrail", session).token(token).send(
            &server.endpoint,
            "POST",
            "/",
            &[
                ("content-type", "application/x-amz-json-1.1"),
                (
                    "x-amz-target",
                    "com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101.LookupEvents",
                ),
            ],
            b"{}",
        );
        assert!(
            (400..500).contains(&trail.status),
            "{round}: {} {}",
            trail.status,
            trail.body
        );
        if round == "deleted" {
            create().await;
        }
    }
}
