//! Account isolation over the wire: a second account's administrator (full access in its own
//! account) against the first account's resources. Every operation roleplane serves is walked
//! (the walk fails when `roleplane::operations()` lists one it does not cover); each answer is
//! AWS's for a resource the caller cannot see, and the first account reads the same afterwards.
//! Beside it, the red-team findings about principals: a recreated role does not inherit the old
//! one's trust, and sessions of deleted principals are denied rather than failing.

use std::collections::BTreeSet;

use aws_sdk_iam::error::ProvideErrorMetadata;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use e2e::raw::{RawResponse, Signer, signed_post};
use e2e::{ACCOUNT_ID, ADMIN_KEY_ID, ADMIN_SECRET, EC2_TRUST, Server, url_decode};
use serde_json::{Value, json};

const OTHER: &str = "210987654321";
const ADMIN: (&str, &str) = (ADMIN_KEY_ID, ADMIN_SECRET);
const ALLOW_ALL: &str =
    r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#;
const ALLOW_S3_READ: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}"#;
const IAM_VERSION: &str = "2010-05-08";
const STS_VERSION: &str = "2011-06-15";
const EC2_VERSION: &str = "2016-11-15";
/// Account A's key pair (a public key only).
const VICTIM_PUBLIC_KEY: &str =
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKm6HYUS+qqLMx8WnF9ybpt5SwXtGRmHaBZip9zjCSyq me@laptop";

/// Epoch seconds an hour ago: a policy-generation window's start.
fn an_hour_ago() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_secs()
        - 3600
}

/// Account A's OpenID Connect provider.
const VICTIM_ISSUER: &str = "https://victim-issuer.example";

fn oidc_provider_arn() -> String {
    format!("arn:aws:iam::{ACCOUNT_ID}:oidc-provider/victim-issuer.example")
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
pub(crate) struct Victim {
    pub(crate) access_key: String,
    pub(crate) instance: String,
    /// The `key-…` ID of A's key pair `victim-key`.
    pub(crate) key_pair: String,
    pub(crate) association: String,
    pub(crate) generation_job: String,
    /// The instance's VPC, subnet and (default) security group.
    pub(crate) vpc: String,
    pub(crate) subnet: String,
    pub(crate) group: String,
    /// The multipart upload in progress in [`VICTIM_BUCKET`], and its first part's ETag.
    pub(crate) upload: String,
    pub(crate) part_etag: String,
    /// A's Dedicated Host (tagged `team=a`).
    pub(crate) host: String,
}

/// Account A's bucket: two objects (one tagged), bucket tags, a policy for A's own user, and
/// an upload in progress.
const VICTIM_BUCKET: &str = "victim-bucket";
/// Account B's own bucket, with `own.txt` in it.
const OWN_BUCKET: &str = "own-bucket";
const TAGGING: &str =
    "<Tagging><TagSet><Tag><Key>team</Key><Value>a</Value></Tag></TagSet></Tagging>";
const NO_PUBLIC_ACCESS_BLOCK: &str = "<PublicAccessBlockConfiguration><BlockPublicAcls>false</BlockPublicAcls><IgnorePublicAcls>false</IgnorePublicAcls><BlockPublicPolicy>false</BlockPublicPolicy><RestrictPublicBuckets>false</RestrictPublicBuckets></PublicAccessBlockConfiguration>";

/// A bucket policy letting `principal` do `action` on the objects of [`VICTIM_BUCKET`].
fn bucket_policy(principal: &str, action: &str) -> String {
    format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{{"AWS":"{principal}"}},"Action":"{action}","Resource":"arn:aws:s3:::{VICTIM_BUCKET}/*"}}]}}"#
    )
}

/// An S3 REST request (path-style) signed with `key`.
fn s3_call(
    server: &Server,
    key: (&str, &str),
    method: &str,
    target: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> RawResponse {
    Signer::new("s3", key).s3(&server.endpoint, method, target, headers, body.as_bytes())
}

fn header<'a>(response: &'a RawResponse, name: &str) -> Option<&'a str> {
    response.head.lines().find_map(|line| {
        let (key, value) = line.split_once(':')?;
        key.trim()
            .eq_ignore_ascii_case(name)
            .then_some(value.trim())
    })
}

/// Fills [`VICTIM_BUCKET`] as account A's admin; returns the upload in progress and the ETag
/// of its part.
fn victim_bucket(server: &Server) -> (String, String) {
    let policy = bucket_policy(
        &format!("arn:aws:iam::{ACCOUNT_ID}:user/victim"),
        "s3:GetObject",
    );
    let bucket = format!("/{VICTIM_BUCKET}");
    let setup = [
        ("PUT", bucket.clone(), ""),
        ("PUT", format!("{bucket}/report.txt"), "account A's report"),
        ("PUT", format!("{bucket}/notes/a.txt"), "a note"),
        ("PUT", format!("{bucket}/report.txt?tagging"), TAGGING),
        ("PUT", format!("{bucket}?tagging"), TAGGING),
        ("PUT", format!("{bucket}?policy"), policy.as_str()),
    ];
    for (method, target, body) in setup {
        let done = s3_call(server, ADMIN, method, &target, &[], body);
        assert!(done.status < 300, "{method} {target}: {}", done.body);
    }
    let started = s3_call(
        server,
        ADMIN,
        "POST",
        &format!("{bucket}/big.bin?uploads"),
        &[],
        "",
    );
    let upload = element(&started.body, "UploadId")
        .unwrap_or_else(|| panic!("CreateMultipartUpload: {}", started.body))
        .to_owned();
    let part = s3_call(
        server,
        ADMIN,
        "PUT",
        &format!("{bucket}/big.bin?partNumber=1&uploadId={upload}"),
        &[],
        "part one",
    );
    let etag = header(&part, "etag")
        .unwrap_or_else(|| panic!("UploadPart: {} {}", part.head, part.body))
        .to_owned();
    (upload, etag)
}

async fn victim(server: &Server) -> Victim {
    let iam = server.iam().await;
    let team_tag = aws_sdk_iam::types::Tag::builder()
        .key("team")
        .value("a")
        .build()
        .unwrap();
    iam.create_role()
        .role_name("victim-role")
        .assume_role_policy_document(EC2_TRUST)
        .tags(team_tag.clone())
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
    iam.create_open_id_connect_provider()
        .url(VICTIM_ISSUER)
        .client_id_list("sts.amazonaws.com")
        .tags(team_tag.clone())
        .send()
        .await
        .unwrap();
    iam.create_policy()
        .policy_name("victim-policy")
        .policy_document(ALLOW_S3_READ)
        .tags(team_tag.clone())
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
    iam.create_login_profile()
        .user_name("victim")
        .password("Victim-Password-1")
        .send()
        .await
        .unwrap();
    iam.attach_user_policy()
        .user_name("victim")
        .policy_arn(policy_arn())
        .send()
        .await
        .unwrap();
    iam.create_group()
        .group_name("victim-group")
        .send()
        .await
        .unwrap();
    iam.put_group_policy()
        .group_name("victim-group")
        .policy_name("inline")
        .policy_document(ALLOW_S3_READ)
        .send()
        .await
        .unwrap();
    iam.attach_group_policy()
        .group_name("victim-group")
        .policy_arn(policy_arn())
        .send()
        .await
        .unwrap();
    iam.add_user_to_group()
        .group_name("victim-group")
        .user_name("victim")
        .send()
        .await
        .unwrap();
    iam.create_instance_profile()
        .instance_profile_name("victim-profile")
        .send()
        .await
        .unwrap();
    iam.create_account_alias()
        .account_alias("victim-alias")
        .send()
        .await
        .unwrap();
    iam.add_role_to_instance_profile()
        .instance_profile_name("victim-profile")
        .role_name("victim-role")
        .send()
        .await
        .unwrap();
    let imported = query_call(
        server,
        "ec2",
        ADMIN,
        "ImportKeyPair",
        &[
            ("KeyName", "victim-key"),
            ("PublicKeyMaterial", &STANDARD.encode(VICTIM_PUBLIC_KEY)),
        ],
    );
    assert_eq!(imported.status, 200, "{}", imported.body);
    let key_pair = element(&imported.body, "keyPairId")
        .expect("the key pair's ID")
        .to_owned();
    let (instance, _) = server.launch(Some("victim-profile")).await;
    let tagged = query_call(
        server,
        "ec2",
        ADMIN,
        "CreateTags",
        &[
            ("ResourceId.1", &instance),
            ("ResourceId.2", &key_pair),
            ("Tag.1.Key", "team"),
            ("Tag.1.Value", "a"),
        ],
    );
    assert_eq!(tagged.status, 200, "{}", tagged.body);
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
    let described = query_call(server, "ec2", ADMIN, "DescribeInstances", &[]);
    let network = |name: &str| {
        element(&described.body, name)
            .unwrap_or_else(|| panic!("{name} in {}", described.body))
            .to_owned()
    };
    let (vpc, subnet, group) = (network("vpcId"), network("subnetId"), network("groupId"));
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
    let (upload, part_etag) = victim_bucket(server);
    let allocated = query_call(
        server,
        "ec2",
        ADMIN,
        "AllocateHosts",
        &[
            ("AvailabilityZone", "us-east-1a"),
            ("InstanceFamily", "m5"),
            ("TagSpecification.1.ResourceType", "dedicated-host"),
            ("TagSpecification.1.Tag.1.Key", "team"),
            ("TagSpecification.1.Tag.1.Value", "a"),
        ],
    );
    assert_eq!(allocated.status, 200, "{}", allocated.body);
    let host = element(&allocated.body, "item")
        .expect("the host's ID")
        .to_owned();
    Victim {
        access_key: key.access_key_id().to_owned(),
        instance,
        key_pair,
        association,
        generation_job,
        vpc,
        subnet,
        group,
        upload,
        part_etag,
        host,
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
    let oidc = oidc_provider_arn();
    let iam_reads: Vec<(&str, Vec<(&str, &str)>)> = vec![
        ("GetRole", vec![("RoleName", "victim-role")]),
        (
            "GetOpenIDConnectProvider",
            vec![("OpenIDConnectProviderArn", &oidc)],
        ),
        ("ListOpenIDConnectProviders", vec![]),
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
        ("GetLoginProfile", vec![("UserName", "victim")]),
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
        ("GetGroup", vec![("GroupName", "victim-group")]),
        ("ListGroups", vec![]),
        ("ListGroupsForUser", vec![("UserName", "victim")]),
        ("ListGroupPolicies", vec![("GroupName", "victim-group")]),
        (
            "GetGroupPolicy",
            vec![("GroupName", "victim-group"), ("PolicyName", "inline")],
        ),
        (
            "ListAttachedGroupPolicies",
            vec![("GroupName", "victim-group")],
        ),
        ("ListEntitiesForPolicy", vec![("PolicyArn", &policy)]),
        (
            "GetInstanceProfile",
            vec![("InstanceProfileName", "victim-profile")],
        ),
        ("ListInstanceProfiles", vec![]),
        (
            "ListInstanceProfileTags",
            vec![("InstanceProfileName", "victim-profile")],
        ),
        ("ListAccountAliases", vec![]),
        ("GetAccountSummary", vec![]),
    ];
    let mut state: Vec<String> = iam_reads
        .iter()
        .map(|(action, params)| stable(&query_call(server, "iam", ADMIN, action, params)))
        .collect();
    for (action, params) in [
        ("DescribeInstances", vec![]),
        ("DescribeIamInstanceProfileAssociations", vec![]),
        ("GetInstanceMetadataDefaults", vec![]),
        ("DescribeKeyPairs", vec![("IncludePublicKey", "true")]),
        ("DescribeTags", vec![]),
        ("DescribeVpcs", vec![]),
        ("DescribeSubnets", vec![]),
        ("DescribeSecurityGroups", vec![]),
        ("DescribeHosts", vec![]),
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
    let bucket = format!("/{VICTIM_BUCKET}");
    let parts = format!("{bucket}/big.bin?uploadId={}", victim.upload);
    let s3_reads = [
        "/",
        &format!("{bucket}?list-type=2"),
        &format!("{bucket}/report.txt"),
        &format!("{bucket}/notes/a.txt"),
        &format!("{bucket}/report.txt?tagging"),
        &format!("{bucket}?tagging"),
        &format!("{bucket}?policy"),
        &format!("{bucket}?publicAccessBlock"),
        &format!("{bucket}?uploads"),
        &parts,
    ];
    for target in s3_reads {
        state.push(stable(&s3_call(server, ADMIN, "GET", target, &[], "")));
    }
    for read in &state {
        assert!(read.starts_with("200 "), "account A reads its own: {read}");
    }
    state
}

/// Every operation, aimed at account A's resources (or, for operations that name none, run in
/// the caller's own account), one line each: `service Operation request -> expected answer`.
/// Query services take `Name=value` members; CloudTrail a JSON body; Access Analyzer a method,
/// a path and a JSON body (`-` for none); S3 a method, a path-style path with its query, a body
/// (`-` for none) and `name:value` headers. `{name}` is one of the walk's values. Expected:
/// `foreign ARN` (403 AccessDenied for a resource of another account without a resource-based
/// policy), `STATUS Code`, `STATUS -` (that status and no body: S3's HEAD answers),
/// `own` (success, no mention of account A), `own-without TEXT`. DeleteObjects answers 200 with
/// a refusal per key, as S3 does: its only action is `s3:DeleteObject` on each key.
const WALK: &str = r#"
iam CreateRole RoleName=walk-role AssumeRolePolicyDocument={ec2_trust} PermissionsBoundary={policy} -> 404 NoSuchEntity
iam GetRole RoleName=victim-role -> 404 NoSuchEntity
iam ListRoles -> own
iam UpdateRole RoleName=victim-role Description=x -> 404 NoSuchEntity
iam UpdateRoleDescription RoleName=victim-role Description=x -> 404 NoSuchEntity
iam DeleteRole RoleName=victim-role -> 404 NoSuchEntity
iam UpdateAssumeRolePolicy RoleName=victim-role PolicyDocument={ec2_trust} -> 404 NoSuchEntity
iam PutRolePolicy RoleName=victim-role PolicyName=inline PolicyDocument={allow_all} -> 404 NoSuchEntity
iam GetRolePolicy RoleName=victim-role PolicyName=inline -> 404 NoSuchEntity
iam DeleteRolePolicy RoleName=victim-role PolicyName=inline -> 404 NoSuchEntity
iam ListRolePolicies RoleName=victim-role -> 404 NoSuchEntity
iam PutUserPolicy UserName=victim PolicyName=p PolicyDocument={allow_all} -> 404 NoSuchEntity
iam GetUserPolicy UserName=victim PolicyName=p -> 404 NoSuchEntity
iam DeleteUserPolicy UserName=victim PolicyName=p -> 404 NoSuchEntity
iam ListUserPolicies UserName=victim -> 404 NoSuchEntity
iam AttachRolePolicy RoleName=victim-role PolicyArn={policy} -> 404 NoSuchEntity
iam DetachRolePolicy RoleName=victim-role PolicyArn={policy} -> 404 NoSuchEntity
iam ListAttachedRolePolicies RoleName=victim-role -> 404 NoSuchEntity
iam AttachUserPolicy UserName=admin PolicyArn={policy} -> 404 NoSuchEntity
iam DetachUserPolicy UserName=admin PolicyArn={policy} -> 404 NoSuchEntity
iam ListAttachedUserPolicies UserName=victim -> 404 NoSuchEntity
iam PutRolePermissionsBoundary RoleName=victim-role PermissionsBoundary={policy} -> 404 NoSuchEntity
iam DeleteRolePermissionsBoundary RoleName=victim-role -> 404 NoSuchEntity
iam PutUserPermissionsBoundary UserName=admin PermissionsBoundary={policy} -> 404 NoSuchEntity
iam DeleteUserPermissionsBoundary UserName=victim -> 404 NoSuchEntity
iam CreatePolicy PolicyName=walk-policy PolicyDocument={s3_read} -> own
iam GetPolicy PolicyArn={policy} -> foreign {policy}
iam DeletePolicy PolicyArn={policy} -> foreign {policy}
iam ListPolicies -> own
iam CreatePolicyVersion PolicyArn={policy} PolicyDocument={allow_all} SetAsDefault=true -> foreign {policy}
iam GetPolicyVersion PolicyArn={policy} VersionId=v1 -> foreign {policy}
iam ListPolicyVersions PolicyArn={policy} -> foreign {policy}
iam DeletePolicyVersion PolicyArn={policy} VersionId=v2 -> foreign {policy}
iam SetDefaultPolicyVersion PolicyArn={policy} VersionId=v2 -> foreign {policy}
iam CreateInstanceProfile InstanceProfileName=walk-profile -> own
iam GetInstanceProfile InstanceProfileName=victim-profile -> 404 NoSuchEntity
iam ListInstanceProfiles -> own
iam DeleteInstanceProfile InstanceProfileName=victim-profile -> 404 NoSuchEntity
iam AddRoleToInstanceProfile InstanceProfileName=victim-profile RoleName=victim-role -> 404 NoSuchEntity
iam RemoveRoleFromInstanceProfile InstanceProfileName=victim-profile RoleName=victim-role -> 404 NoSuchEntity
iam ListInstanceProfilesForRole RoleName=victim-role -> 404 NoSuchEntity
iam CreateUser UserName=walk-user PermissionsBoundary={policy} -> 404 NoSuchEntity
iam GetUser UserName=victim -> 404 NoSuchEntity
iam ListUsers -> own
iam DeleteUser UserName=victim -> 404 NoSuchEntity
iam UpdateUser UserName=victim NewUserName=walk-renamed -> 404 NoSuchEntity
iam CreateLoginProfile UserName=victim Password=Walk-Password-1 -> 404 NoSuchEntity
iam GetLoginProfile UserName=victim -> 404 NoSuchEntity
iam UpdateLoginProfile UserName=victim PasswordResetRequired=true -> 404 NoSuchEntity
iam DeleteLoginProfile UserName=victim -> 404 NoSuchEntity
iam CreateAccessKey UserName=victim -> 404 NoSuchEntity
iam ListAccessKeys UserName=victim -> 404 NoSuchEntity
iam UpdateAccessKey UserName=victim AccessKeyId={key} Status=Inactive -> 404 NoSuchEntity
iam UpdateAccessKey AccessKeyId={key} Status=Inactive -> 404 NoSuchEntity
iam DeleteAccessKey AccessKeyId={key} -> 404 NoSuchEntity
iam GetAccessKeyLastUsed AccessKeyId={key} -> 403 AccessDenied
iam SimulatePrincipalPolicy PolicySourceArn={role} ActionNames.member.1=s3:GetObject -> foreign {role}
iam SimulateCustomPolicy PolicyInputList.member.1={s3_read} ActionNames.member.1=s3:GetObject -> own
iam CreateGroup GroupName=walk-group -> own
iam GetGroup GroupName=victim-group -> 404 NoSuchEntity
iam ListGroups -> own
iam UpdateGroup GroupName=victim-group NewGroupName=taken -> 404 NoSuchEntity
iam DeleteGroup GroupName=victim-group -> 404 NoSuchEntity
iam AddUserToGroup GroupName=victim-group UserName=victim -> 404 NoSuchEntity
iam RemoveUserFromGroup GroupName=victim-group UserName=victim -> 404 NoSuchEntity
iam ListGroupsForUser UserName=victim -> 404 NoSuchEntity
iam PutGroupPolicy GroupName=victim-group PolicyName=inline PolicyDocument={allow_all} -> 404 NoSuchEntity
iam GetGroupPolicy GroupName=victim-group PolicyName=inline -> 404 NoSuchEntity
iam DeleteGroupPolicy GroupName=victim-group PolicyName=inline -> 404 NoSuchEntity
iam ListGroupPolicies GroupName=victim-group -> 404 NoSuchEntity
iam AttachGroupPolicy GroupName=victim-group PolicyArn={policy} -> 404 NoSuchEntity
iam DetachGroupPolicy GroupName=victim-group PolicyArn={policy} -> 404 NoSuchEntity
iam ListAttachedGroupPolicies GroupName=victim-group -> 404 NoSuchEntity
iam ListEntitiesForPolicy PolicyArn={policy} -> foreign {policy}
iam SimulatePrincipalPolicy PolicySourceArn={iam_group} ActionNames.member.1=s3:GetObject -> foreign {iam_group}
iam GetAccountAuthorizationDetails -> own
iam GenerateCredentialReport -> own
iam GetCredentialReport -> own
iam TagRole RoleName=victim-role Tags.member.1.Key=k Tags.member.1.Value=v -> 404 NoSuchEntity
iam UntagRole RoleName=victim-role TagKeys.member.1=team -> 404 NoSuchEntity
iam ListRoleTags RoleName=victim-role -> 404 NoSuchEntity
iam TagUser UserName=victim Tags.member.1.Key=k Tags.member.1.Value=v -> 404 NoSuchEntity
iam UntagUser UserName=victim TagKeys.member.1=team -> 404 NoSuchEntity
iam ListUserTags UserName=victim -> 404 NoSuchEntity
iam TagInstanceProfile InstanceProfileName=victim-profile Tags.member.1.Key=k Tags.member.1.Value=v -> 404 NoSuchEntity
iam UntagInstanceProfile InstanceProfileName=victim-profile TagKeys.member.1=team -> 404 NoSuchEntity
iam ListInstanceProfileTags InstanceProfileName=victim-profile -> 404 NoSuchEntity
iam TagPolicy PolicyArn={policy} Tags.member.1.Key=k Tags.member.1.Value=v -> foreign {policy}
iam UntagPolicy PolicyArn={policy} TagKeys.member.1=team -> foreign {policy}
iam ListPolicyTags PolicyArn={policy} -> foreign {policy}
iam CreateAccountAlias AccountAlias=victim-alias -> 409 EntityAlreadyExists
iam DeleteAccountAlias AccountAlias=victim-alias -> 404 NoSuchEntity
iam ListAccountAliases -> own-without victim-alias
iam GetAccountSummary -> own
iam CreateOpenIDConnectProvider Url=https://victim-issuer.example ClientIDList.member.1=sts.amazonaws.com -> own
iam GetOpenIDConnectProvider OpenIDConnectProviderArn={oidc} -> foreign {oidc}
iam ListOpenIDConnectProviders -> own
iam UpdateOpenIDConnectProviderThumbprint OpenIDConnectProviderArn={oidc} ThumbprintList.member.1=0123456789abcdef0123456789abcdef01234567 -> foreign {oidc}
iam AddClientIDToOpenIDConnectProvider OpenIDConnectProviderArn={oidc} ClientID=walk -> foreign {oidc}
iam RemoveClientIDFromOpenIDConnectProvider OpenIDConnectProviderArn={oidc} ClientID=sts.amazonaws.com -> foreign {oidc}
iam TagOpenIDConnectProvider OpenIDConnectProviderArn={oidc} Tags.member.1.Key=k Tags.member.1.Value=v -> foreign {oidc}
iam UntagOpenIDConnectProvider OpenIDConnectProviderArn={oidc} TagKeys.member.1=team -> foreign {oidc}
iam ListOpenIDConnectProviderTags OpenIDConnectProviderArn={oidc} -> foreign {oidc}
iam DeleteOpenIDConnectProvider OpenIDConnectProviderArn={oidc} -> foreign {oidc}
sts GetCallerIdentity -> own
sts AssumeRoleWithWebIdentity RoleArn={role} RoleSessionName=walk WebIdentityToken=not-a-jwt -> 400 InvalidIdentityToken
sts AssumeRole RoleArn={role} RoleSessionName=walk -> 403 AccessDenied
sts AssumeRole RoleArn=arn:aws:iam::{other}:role/own-role RoleSessionName=walk PolicyArns.member.1.arn={policy} -> 400 MalformedPolicyDocument
sts GetSessionToken -> own
sts DecodeAuthorizationMessage EncodedMessage={message} -> 400 InvalidAuthorizationMessageException
sts GetFederationToken Name=walk -> own
sts GetAccessKeyInfo AccessKeyId={key} -> 400 InvalidParameterValue
ec2 RunInstances ImageId=ami-0123456789abcdef0 MinCount=1 MaxCount=1 IamInstanceProfile.Arn={profile} -> 400 InvalidParameterValue
ec2 DescribeInstances InstanceId.1={instance} -> 400 InvalidInstanceID.NotFound
ec2 StartInstances InstanceId.1={instance} -> 400 InvalidInstanceID.NotFound
ec2 StopInstances InstanceId.1={instance} -> 400 InvalidInstanceID.NotFound
ec2 TerminateInstances InstanceId.1={instance} -> 400 InvalidInstanceID.NotFound
ec2 DescribeInstanceAttribute InstanceId={instance} Attribute=userData -> 400 InvalidInstanceID.NotFound
ec2 ModifyInstanceAttribute InstanceId={instance} UserData.Value=aGkh -> 400 InvalidInstanceID.NotFound
ec2 RunInstances ImageId=ami-0123456789abcdef0 MinCount=1 MaxCount=1 KeyName=victim-key -> 400 InvalidKeyPair.NotFound
ec2 DescribeKeyPairs KeyName.1=victim-key -> 400 InvalidKeyPair.NotFound
ec2 CreateKeyPair KeyName=victim-key -> own
ec2 DeleteKeyPair KeyName=victim-key -> own
ec2 ImportKeyPair KeyName=victim-key PublicKeyMaterial={victim_key_material} -> own
ec2 AssociateIamInstanceProfile InstanceId={instance} IamInstanceProfile.Name=own-profile -> 400 InvalidInstanceID.NotFound
ec2 ReplaceIamInstanceProfileAssociation AssociationId={association} IamInstanceProfile.Name=own-profile -> 400 InvalidAssociationID.NotFound
ec2 DisassociateIamInstanceProfile AssociationId={association} -> 400 InvalidAssociationID.NotFound
ec2 DescribeIamInstanceProfileAssociations AssociationId.1={association} -> 400 InvalidAssociationID.NotFound
ec2 ModifyInstanceMetadataOptions InstanceId={instance} HttpTokens=required -> 400 InvalidInstanceID.NotFound
ec2 CreateTags ResourceId.1={instance} Tag.1.Key=k Tag.1.Value=v -> 400 InvalidInstanceID.NotFound
ec2 CreateTags ResourceId.1={key_pair} Tag.1.Key=k Tag.1.Value=v -> 400 InvalidKeyPair.NotFound
ec2 DeleteTags ResourceId.1={instance} -> 400 InvalidInstanceID.NotFound
ec2 DeleteTags ResourceId.1={key_pair} Tag.1.Key=team -> 400 InvalidKeyPair.NotFound
ec2 CreateTags ResourceId.1={host} Tag.1.Key=k Tag.1.Value=v -> 400 InvalidHostID.NotFound
ec2 DeleteTags ResourceId.1={host} -> 400 InvalidHostID.NotFound
ec2 DescribeTags Filter.1.Name=resource-id Filter.1.Value.1={instance} -> own-without {instance}
ec2 ModifyInstanceMetadataDefaults HttpTokens=required -> own
ec2 GetInstanceMetadataDefaults -> own
ec2 DescribeVpcs -> own
ec2 DescribeVpcs VpcId.1={vpc} -> 400 InvalidVpcID.NotFound
ec2 DescribeSubnets -> own
ec2 DescribeSubnets SubnetId.1={subnet} -> 400 InvalidSubnetID.NotFound
ec2 DescribeSecurityGroups -> own
ec2 DescribeSecurityGroups GroupId.1={group} -> 400 InvalidGroup.NotFound
ec2 DescribeAvailabilityZones -> own
ec2 RunInstances ImageId=ami-0123456789abcdef0 MinCount=1 MaxCount=1 SubnetId={subnet} -> 400 InvalidSubnetID.NotFound
ec2 RunInstances ImageId=ami-0123456789abcdef0 MinCount=1 MaxCount=1 SecurityGroupId.1={group} -> 400 InvalidGroup.NotFound
ec2 AllocateHosts AvailabilityZone=us-east-1a InstanceFamily=m5 -> own
ec2 DescribeHosts -> own-without {host}
ec2 DescribeHosts HostId.1={host} -> 400 InvalidHostID.NotFound
ec2 DescribeHosts Filter.1.Name=tag:team Filter.1.Value.1=a -> own-without {host}
ec2 ReleaseHosts HostId.1={host} -> 200 Client.InvalidHostID.NotFound
ec2 RunInstances ImageId=ami-0123456789abcdef0 MinCount=1 MaxCount=1 InstanceType=m5.large Placement.HostId={host} -> 400 InvalidHostID.NotFound
cloudtrail LookupEvents {"MaxResults":50} -> own
access-analyzer ValidatePolicy POST /policy/validation {"policyDocument":{s3_read_json},"policyType":"IDENTITY_POLICY"} -> own
access-analyzer StartPolicyGeneration PUT /policy/generation {"policyGenerationDetails":{"principalArn":"{role}"},"cloudTrailDetails":{"trails":[{"cloudTrailArn":"arn:aws:cloudtrail:us-east-1:{account}:trail/t","allRegions":true}],"accessRole":"{role}","startTime":{an_hour_ago}}} -> own
access-analyzer ListPolicyGenerations GET /policy/generation - -> own-without {job}
access-analyzer GetGeneratedPolicy GET /policy/generation/{job} - -> 404 ResourceNotFoundException
access-analyzer CancelPolicyGeneration PUT /policy/generation/{job} - -> 404 ResourceNotFoundException
s3 ListBuckets GET / - -> own-without {bucket}
s3 CreateBucket PUT /{bucket} - -> 409 BucketAlreadyExists
s3 DeleteBucket DELETE /{bucket} - -> 403 AccessDenied
s3 HeadBucket HEAD /{bucket} - -> 403 -
s3 GetBucketLocation GET /{bucket}?location - -> 403 AccessDenied
s3 ListObjects GET /{bucket} - -> 403 AccessDenied
s3 ListObjectsV2 GET /{bucket}?list-type=2 - -> 403 AccessDenied
s3 ListMultipartUploads GET /{bucket}?uploads - -> 403 AccessDenied
s3 GetObject GET /{bucket}/report.txt - -> 403 AccessDenied
s3 HeadObject HEAD /{bucket}/report.txt - -> 403 -
s3 PutObject PUT /{bucket}/report.txt overwritten -> 403 AccessDenied
s3 PutObject PUT /{bucket}/walk.txt new -> 403 AccessDenied
s3 CopyObject PUT /{bucket}/copy.txt - x-amz-copy-source:/{bucket}/report.txt -> 403 AccessDenied
s3 CopyObject PUT /{bucket}/report.txt - x-amz-copy-source:/{own_bucket}/own.txt -> 403 AccessDenied
s3 CopyObject PUT /{own_bucket}/stolen.txt - x-amz-copy-source:/{bucket}/report.txt -> 403 AccessDenied
s3 DeleteObject DELETE /{bucket}/report.txt - -> 403 AccessDenied
s3 DeleteObjects POST /{bucket}?delete <Delete><Object><Key>report.txt</Key></Object><Object><Key>notes/a.txt</Key></Object></Delete> -> 200 AccessDenied
s3 CreateMultipartUpload POST /{bucket}/walk.bin?uploads - -> 403 AccessDenied
s3 UploadPart PUT /{bucket}/big.bin?partNumber=2&uploadId={upload} part-two -> 403 AccessDenied
s3 UploadPartCopy PUT /{bucket}/big.bin?partNumber=3&uploadId={upload} - x-amz-copy-source:/{own_bucket}/own.txt -> 403 AccessDenied
s3 UploadPartCopy PUT /{bucket}/big.bin?partNumber=3&uploadId={upload} - x-amz-copy-source:/{bucket}/report.txt -> 403 AccessDenied
s3 CompleteMultipartUpload POST /{bucket}/big.bin?uploadId={upload} <CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>{part_etag}</ETag></Part></CompleteMultipartUpload> -> 403 AccessDenied
s3 AbortMultipartUpload DELETE /{bucket}/big.bin?uploadId={upload} - -> 403 AccessDenied
s3 ListParts GET /{bucket}/big.bin?uploadId={upload} - -> 403 AccessDenied
s3 GetObjectTagging GET /{bucket}/report.txt?tagging - -> 403 AccessDenied
s3 PutObjectTagging PUT /{bucket}/report.txt?tagging {tagging} -> 403 AccessDenied
s3 DeleteObjectTagging DELETE /{bucket}/report.txt?tagging - -> 403 AccessDenied
s3 GetObjectAcl GET /{bucket}/report.txt?acl - -> 403 AccessDenied
s3 PutObjectAcl PUT /{bucket}/report.txt?acl - x-amz-acl:private -> 403 AccessDenied
s3 GetBucketTagging GET /{bucket}?tagging - -> 403 AccessDenied
s3 PutBucketTagging PUT /{bucket}?tagging {tagging} -> 403 AccessDenied
s3 DeleteBucketTagging DELETE /{bucket}?tagging - -> 403 AccessDenied
s3 GetBucketPolicy GET /{bucket}?policy - -> 403 AccessDenied
s3 PutBucketPolicy PUT /{bucket}?policy {open_to_other} -> 403 AccessDenied
s3 DeleteBucketPolicy DELETE /{bucket}?policy - -> 403 AccessDenied
s3 GetBucketPolicyStatus GET /{bucket}?policyStatus - -> 403 AccessDenied
s3 GetPublicAccessBlock GET /{bucket}?publicAccessBlock - -> 403 AccessDenied
s3 PutPublicAccessBlock PUT /{bucket}?publicAccessBlock {no_block} -> 403 AccessDenied
s3 DeletePublicAccessBlock DELETE /{bucket}?publicAccessBlock - -> 403 AccessDenied
s3 GetBucketVersioning GET /{bucket}?versioning - -> 403 AccessDenied
s3 GetBucketOwnershipControls GET /{bucket}?ownershipControls - -> 403 AccessDenied
s3 GetBucketAcl GET /{bucket}?acl - -> 403 AccessDenied
s3 PutBucketAcl PUT /{bucket}?acl - x-amz-acl:private -> 403 AccessDenied
s3 GetBucketEncryption GET /{bucket}?encryption - -> 403 AccessDenied
"#;

/// One line of [`WALK`], its placeholders filled in.
pub(crate) struct Step {
    pub(crate) service: String,
    pub(crate) operation: String,
    request: Vec<String>,
    expect: Vec<String>,
}

impl Step {
    fn parse(line: &str, values: &[(&str, String)]) -> Step {
        let mut line = line.to_owned();
        for (name, value) in values {
            line = line.replace(&format!("{{{name}}}"), value);
        }
        let (request, expect) = line.split_once(" -> ").expect("`request -> answer`");
        let mut words = request.split(' ').map(str::to_owned);
        Step {
            service: words.next().expect("a service"),
            operation: words.next().expect("an operation"),
            request: words.collect(),
            expect: expect.split(' ').map(str::to_owned).collect(),
        }
    }

    /// The step's request, signed with `key`.
    pub(crate) fn send(&self, server: &Server, key: (&str, &str)) -> RawResponse {
        match self.service.as_str() {
            "cloudtrail" => Signer::new("cloudtrail", key).send(
                &server.endpoint,
                "POST",
                "/",
                &[
                    ("content-type", "application/x-amz-json-1.1"),
                    (
                        "x-amz-target",
                        &format!(
                            "com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101.{}",
                            self.operation
                        ),
                    ),
                ],
                self.request.join(" ").as_bytes(),
            ),
            "access-analyzer" => {
                let body = self
                    .request
                    .get(2)
                    .filter(|b| *b != "-")
                    .map_or("", String::as_str);
                analyzer(server, key, &self.request[0], &self.request[1], body)
            }
            "s3" => {
                let [method, target, body, headers @ ..] = &self.request[..] else {
                    panic!("s3 {}: METHOD PATH BODY [name:value…]", self.operation);
                };
                let headers: Vec<(&str, &str)> = headers
                    .iter()
                    .map(|header| header.split_once(':').expect("name:value"))
                    .collect();
                let body = if body == "-" { "" } else { body };
                s3_call(server, key, method, target, &headers, body)
            }
            service => {
                let params: Vec<(&str, &str)> = self
                    .request
                    .iter()
                    .map(|member| member.split_once('=').expect("Name=value"))
                    .collect();
                query_call(server, service, key, &self.operation, &params)
            }
        }
    }

    /// `None` when `response` is the answer this step expects, else why not.
    fn check(&self, response: &RawResponse) -> Option<String> {
        let code = error_code(response);
        let ok = match self.expect.iter().map(String::as_str).collect::<Vec<_>>()[..] {
            ["foreign", resource] => {
                let action = format!("iam:{}", self.operation);
                let message = format!(
                    "User: arn:aws:iam::{OTHER}:user/admin is not authorized to perform: {action} on resource: {resource} because no resource-based policy allows the {action} action"
                );
                response.status == 403 && code == "AccessDenied" && response.body.contains(&message)
            }
            ["own"] => response.status == 200 && !mentions_account_a(&self.operation, response),
            ["own-without", text] => response.status == 200 && !response.body.contains(text),
            [status, "-"] => response.status.to_string() == status && response.body.is_empty(),
            [status, expected] => response.status.to_string() == status && code == expected,
            _ => panic!("unknown expectation {:?}", self.expect),
        };
        (!ok).then(|| {
            format!(
                "{}:{} expected {:?}: {} {}",
                self.service, self.operation, self.expect, response.status, response.body
            )
        })
    }
}

/// Every step of [`WALK`]: every operation served, aimed at `victim`'s resources.
pub(crate) fn walk(victim: &Victim, a_message: &str) -> Vec<Step> {
    let values = [
        ("policy", policy_arn()),
        ("oidc", oidc_provider_arn()),
        (
            "role",
            format!("arn:aws:iam::{ACCOUNT_ID}:role/victim-role"),
        ),
        (
            "profile",
            format!("arn:aws:iam::{ACCOUNT_ID}:instance-profile/victim-profile"),
        ),
        (
            "iam_group",
            format!("arn:aws:iam::{ACCOUNT_ID}:group/victim-group"),
        ),
        ("key", victim.access_key.clone()),
        ("instance", victim.instance.clone()),
        ("key_pair", victim.key_pair.clone()),
        ("association", victim.association.clone()),
        ("vpc", victim.vpc.clone()),
        ("subnet", victim.subnet.clone()),
        ("group", victim.group.clone()),
        ("host", victim.host.clone()),
        ("job", victim.generation_job.clone()),
        ("message", a_message.to_owned()),
        ("ec2_trust", EC2_TRUST.to_owned()),
        ("allow_all", ALLOW_ALL.to_owned()),
        ("s3_read", ALLOW_S3_READ.to_owned()),
        ("s3_read_json", Value::from(ALLOW_S3_READ).to_string()),
        ("an_hour_ago", an_hour_ago().to_string()),
        ("account", ACCOUNT_ID.to_owned()),
        ("other", OTHER.to_owned()),
        ("victim_key_material", STANDARD.encode(VICTIM_PUBLIC_KEY)),
        ("bucket", VICTIM_BUCKET.to_owned()),
        ("own_bucket", OWN_BUCKET.to_owned()),
        ("upload", victim.upload.clone()),
        ("part_etag", victim.part_etag.clone()),
        ("tagging", TAGGING.to_owned()),
        (
            "open_to_other",
            bucket_policy(&format!("arn:aws:iam::{OTHER}:root"), "s3:*"),
        ),
        ("no_block", NO_PUBLIC_ACCESS_BLOCK.to_owned()),
    ];
    WALK.lines()
        .filter(|line| !line.trim().is_empty())
        .map(|line| Step::parse(line, &values))
        .collect()
}

/// The error code of an XML or JSON error body (or of the first item EC2 refused in a
/// successful answer, as ReleaseHosts lists them: `<code>`).
pub(crate) fn error_code(response: &RawResponse) -> String {
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
    let code = json["__type"]
        .as_str()
        .or_else(|| json["code"].as_str())
        .unwrap_or_default()
        .rsplit('#')
        .next()
        .unwrap_or_default();
    if code.is_empty()
        && let Some(item_code) = element(&response.body, "code")
    {
        return item_code.to_owned();
    }
    code.to_owned()
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
    // And its own bucket, for the copies between buckets.
    for (target, body) in [
        (format!("/{OWN_BUCKET}"), ""),
        (format!("/{OWN_BUCKET}/own.txt"), "account B's own"),
    ] {
        let done = s3_call(&server, other, "PUT", &target, &[], body);
        assert_eq!(done.status, 200, "PUT {target}: {}", done.body);
    }

    let steps = walk(&victim, &a_message);
    let failures: Vec<String> = steps
        .iter()
        .filter_map(|step| step.check(&step.send(&server, other)))
        .collect();
    assert!(failures.is_empty(), "{}", failures.join("\n"));

    assert_eq!(snapshot(&server, &victim), before, "account A is unchanged");

    // The walk covers every operation served.
    let walked: BTreeSet<(String, String)> = steps
        .iter()
        .map(|s| (s.service.clone(), s.operation.clone()))
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
fn mentions_account_a(operation: &str, response: &RawResponse) -> bool {
    if operation == "LookupEvents" {
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
    let first_sts = aws_sdk_sts::Client::new(&server.session_config(&first).await);
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
    let second_sts = aws_sdk_sts::Client::new(&server.session_config(&second).await);
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
