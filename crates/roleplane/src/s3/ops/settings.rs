//! A bucket's settings: its policy (and whether it is public), its public access block, and
//! the fixed answers of what roleplane does not vary (ownership `BucketOwnerEnforced`,
//! unversioned, SSE-S3, owner-only ACLs).

use policy::{Policy, PolicyKind};
use s3s::dto::*;
use s3s::{S3Request, S3Response, S3Result, s3_error};
use store::{BucketChange, PublicAccessBlock, Store};

use super::headers::{canonical_id, grants, owner, refuse_acl};
use super::{Objects, Out, authorized, bucket_of};
use crate::s3::blobs::BlobStore;
use crate::s3::{errors, public};

async fn change<S: Store, B: BlobStore>(
    ops: &Objects<S, B>,
    bucket: &str,
    change: BucketChange,
) -> S3Result<()> {
    ops.app
        .store()
        .update_bucket(bucket, change)
        .await
        .map(drop)
        .map_err(errors::from_store)
}

pub async fn get_policy<S: Store, B: BlobStore>(
    _ops: &Objects<S, B>,
    req: S3Request<GetBucketPolicyInput>,
) -> Out<GetBucketPolicyOutput> {
    let policy = bucket_of(&req)?
        .bucket
        .policy
        .clone()
        .ok_or_else(no_policy)?;
    Ok(S3Response::new(GetBucketPolicyOutput {
        policy: Some(policy),
    }))
}

fn no_policy() -> s3s::S3Error {
    s3_error!(NoSuchBucketPolicy, "The bucket policy does not exist")
}

pub async fn put_policy<S: Store, B: BlobStore>(
    ops: &Objects<S, B>,
    req: S3Request<PutBucketPolicyInput>,
) -> Out<PutBucketPolicyOutput> {
    let view = bucket_of(&req)?;
    let bucket = &view.bucket;
    let document = &req.input.policy;
    let policy = Policy::parse(document, PolicyKind::Resource)
        .map_err(|e| s3_error!(MalformedPolicy, "{}", e.message))?;
    check_resources(&policy, &bucket.name)?;
    check_actions(&policy)?;
    let blocks_public = bucket
        .public_access_block
        .is_some_and(|block| block.block_public_policy);
    if blocks_public && public::is_public(&policy) {
        let caller = authorized(&req)?
            .caller
            .as_ref()
            .map_or("anonymous", |c| c.principal.arn());
        let resource = crate::s3::actions::bucket_arn(&bucket.name);
        // S3's own reason, in IAM's sentence (UNCONFIRMED wording).
        let message = format!(
            "User: {caller} is not authorized to perform: s3:PutBucketPolicy on resource: \
             \"{resource}\" because public policies are blocked by the BlockPublicPolicy \
             block public access setting."
        );
        return Err(s3_error!(AccessDenied, "{message}"));
    }
    change(
        ops,
        &bucket.name,
        BucketChange::Policy(Some(document.clone())),
    )
    .await?;
    Ok(S3Response::new(PutBucketPolicyOutput::default()))
}

/// Every resource a bucket policy names must be the bucket or objects in it.
fn check_resources(policy: &Policy, bucket: &str) -> S3Result<()> {
    let own = format!("arn:aws:s3:::{bucket}");
    for statement in &policy.statements {
        let Some(resources) = &statement.resource else {
            continue;
        };
        for pattern in &resources.resources {
            let source = pattern.source.as_str();
            let inside = source
                .strip_prefix(&own)
                .is_some_and(|rest| rest.is_empty() || rest.starts_with(['/', '*', '?']));
            if !inside {
                return Err(s3_error!(MalformedPolicy, "Policy has invalid resource"));
            }
        }
    }
    Ok(())
}

/// Every action a bucket policy names must be S3's: `*`, a pattern under `s3:`, or an action
/// S3 has (Service Authorization Reference, Amazon S3).
fn check_actions(policy: &Policy) -> S3Result<()> {
    for statement in &policy.statements {
        for pattern in &statement.action.actions {
            let action = pattern.source.to_ascii_lowercase();
            let valid = action == "*"
                || action
                    .strip_prefix("s3:")
                    .is_some_and(|name| name.contains(['*', '?']) || S3_ACTIONS.contains(&name));
            if !valid {
                return Err(s3_error!(MalformedPolicy, "Policy has invalid action"));
            }
        }
    }
    Ok(())
}

/// S3's actions, lowercased (the Service Authorization Reference's list for Amazon S3, object
/// and bucket resources).
const S3_ACTIONS: &[&str] = &[
    "abortmultipartupload",
    "bypassgovernanceretention",
    "createbucket",
    "createjob",
    "deletebucket",
    "deletebucketownershipcontrols",
    "deletebucketpolicy",
    "deletebucketwebsite",
    "deleteobject",
    "deleteobjecttagging",
    "deleteobjectversion",
    "deleteobjectversiontagging",
    "getaccelerateconfiguration",
    "getanalyticsconfiguration",
    "getbucketacl",
    "getbucketcors",
    "getbucketlocation",
    "getbucketlogging",
    "getbucketnotification",
    "getbucketobjectlockconfiguration",
    "getbucketownershipcontrols",
    "getbucketpolicy",
    "getbucketpolicystatus",
    "getbucketpublicaccessblock",
    "getbucketrequestpayment",
    "getbuckettagging",
    "getbucketversioning",
    "getbucketwebsite",
    "getencryptionconfiguration",
    "getintelligenttieringconfiguration",
    "getinventoryconfiguration",
    "getlifecycleconfiguration",
    "getmetricsconfiguration",
    "getobject",
    "getobjectacl",
    "getobjectattributes",
    "getobjectlegalhold",
    "getobjectretention",
    "getobjecttagging",
    "getobjecttorrent",
    "getobjectversion",
    "getobjectversionacl",
    "getobjectversionattributes",
    "getobjectversionforreplication",
    "getobjectversiontagging",
    "getobjectversiontorrent",
    "getreplicationconfiguration",
    "listallmybuckets",
    "listbucket",
    "listbucketmultipartuploads",
    "listbucketversions",
    "listmultipartuploadparts",
    "objectowneroverridetoowner",
    "putaccelerateconfiguration",
    "putanalyticsconfiguration",
    "putbucketacl",
    "putbucketcors",
    "putbucketlogging",
    "putbucketnotification",
    "putbucketobjectlockconfiguration",
    "putbucketownershipcontrols",
    "putbucketpolicy",
    "putbucketpublicaccessblock",
    "putbucketrequestpayment",
    "putbuckettagging",
    "putbucketversioning",
    "putbucketwebsite",
    "putencryptionconfiguration",
    "putintelligenttieringconfiguration",
    "putinventoryconfiguration",
    "putlifecycleconfiguration",
    "putmetricsconfiguration",
    "putobject",
    "putobjectacl",
    "putobjectlegalhold",
    "putobjectretention",
    "putobjecttagging",
    "putobjectversionacl",
    "putobjectversiontagging",
    "putreplicationconfiguration",
    "replicatedelete",
    "replicateobject",
    "replicatetags",
    "restoreobject",
];

pub async fn delete_policy<S: Store, B: BlobStore>(
    ops: &Objects<S, B>,
    req: S3Request<DeleteBucketPolicyInput>,
) -> Out<DeleteBucketPolicyOutput> {
    let name = bucket_of(&req)?.bucket.name.clone();
    change(ops, &name, BucketChange::Policy(None)).await?;
    Ok(S3Response::new(DeleteBucketPolicyOutput::default()))
}

pub async fn policy_status<S: Store, B: BlobStore>(
    _ops: &Objects<S, B>,
    req: S3Request<GetBucketPolicyStatusInput>,
) -> Out<GetBucketPolicyStatusOutput> {
    let view = bucket_of(&req)?;
    if view.bucket.policy.is_none() {
        return Err(no_policy());
    }
    Ok(S3Response::new(GetBucketPolicyStatusOutput {
        policy_status: Some(PolicyStatus {
            is_public: Some(view.public),
        }),
    }))
}

pub async fn get_public_access_block<S: Store, B: BlobStore>(
    _ops: &Objects<S, B>,
    req: S3Request<GetPublicAccessBlockInput>,
) -> Out<GetPublicAccessBlockOutput> {
    let block = bucket_of(&req)?.bucket.public_access_block.ok_or_else(|| {
        errors::custom(
            "NoSuchPublicAccessBlockConfiguration",
            404,
            "The public access block configuration was not found",
        )
    })?;
    Ok(S3Response::new(GetPublicAccessBlockOutput {
        public_access_block_configuration: Some(PublicAccessBlockConfiguration {
            block_public_acls: Some(block.block_public_acls),
            ignore_public_acls: Some(block.ignore_public_acls),
            block_public_policy: Some(block.block_public_policy),
            restrict_public_buckets: Some(block.restrict_public_buckets),
        }),
    }))
}

pub async fn put_public_access_block<S: Store, B: BlobStore>(
    ops: &Objects<S, B>,
    req: S3Request<PutPublicAccessBlockInput>,
) -> Out<PutPublicAccessBlockOutput> {
    let name = bucket_of(&req)?.bucket.name.clone();
    let given = &req.input.public_access_block_configuration;
    let block = PublicAccessBlock {
        block_public_acls: given.block_public_acls.unwrap_or(false),
        ignore_public_acls: given.ignore_public_acls.unwrap_or(false),
        block_public_policy: given.block_public_policy.unwrap_or(false),
        restrict_public_buckets: given.restrict_public_buckets.unwrap_or(false),
    };
    change(ops, &name, BucketChange::PublicAccessBlock(Some(block))).await?;
    Ok(S3Response::new(PutPublicAccessBlockOutput::default()))
}

pub async fn delete_public_access_block<S: Store, B: BlobStore>(
    ops: &Objects<S, B>,
    req: S3Request<DeletePublicAccessBlockInput>,
) -> Out<DeletePublicAccessBlockOutput> {
    let name = bucket_of(&req)?.bucket.name.clone();
    change(ops, &name, BucketChange::PublicAccessBlock(None)).await?;
    Ok(S3Response::new(DeletePublicAccessBlockOutput::default()))
}

pub async fn versioning<S: Store, B: BlobStore>(
    _ops: &Objects<S, B>,
    req: S3Request<GetBucketVersioningInput>,
) -> Out<GetBucketVersioningOutput> {
    bucket_of(&req)?;
    // Never versioned: S3 answers an empty configuration.
    Ok(S3Response::new(GetBucketVersioningOutput::default()))
}

pub async fn ownership<S: Store, B: BlobStore>(
    _ops: &Objects<S, B>,
    req: S3Request<GetBucketOwnershipControlsInput>,
) -> Out<GetBucketOwnershipControlsOutput> {
    bucket_of(&req)?;
    Ok(S3Response::new(GetBucketOwnershipControlsOutput {
        ownership_controls: Some(OwnershipControls {
            rules: vec![OwnershipControlsRule {
                object_ownership: ObjectOwnership::from_static(
                    ObjectOwnership::BUCKET_OWNER_ENFORCED,
                ),
            }],
        }),
    }))
}

/// The only ACL a `BucketOwnerEnforced` bucket has: the owner holds full control.
fn owner_grants(account: &str) -> Vec<Grant> {
    vec![Grant {
        grantee: Some(Grantee {
            id: Some(canonical_id(account)),
            type_: Type::from_static(Type::CANONICAL_USER),
            display_name: None,
            email_address: None,
            uri: None,
        }),
        permission: Some(Permission::from_static(Permission::FULL_CONTROL)),
    }]
}

pub async fn get_bucket_acl<S: Store, B: BlobStore>(
    _ops: &Objects<S, B>,
    req: S3Request<GetBucketAclInput>,
) -> Out<GetBucketAclOutput> {
    let account = &bucket_of(&req)?.bucket.account_id;
    Ok(S3Response::new(GetBucketAclOutput {
        grants: Some(owner_grants(account)),
        owner: Some(owner(account)),
    }))
}

pub async fn get_object_acl<S: Store, B: BlobStore>(
    ops: &Objects<S, B>,
    req: S3Request<GetObjectAclInput>,
) -> Out<GetObjectAclOutput> {
    let view = bucket_of(&req)?;
    ops.app
        .store()
        .object(&view.bucket.name, &req.input.key)
        .await
        .map_err(errors::from_store)?;
    let account = &view.bucket.account_id;
    Ok(S3Response::new(GetObjectAclOutput {
        grants: Some(owner_grants(account)),
        owner: Some(owner(account)),
        ..GetObjectAclOutput::default()
    }))
}

pub async fn put_bucket_acl<S: Store, B: BlobStore>(
    _ops: &Objects<S, B>,
    req: S3Request<PutBucketAclInput>,
) -> Out<PutBucketAclOutput> {
    bucket_of(&req)?;
    let input = &req.input;
    let private = input
        .acl
        .as_ref()
        .is_some_and(|acl| acl.as_str() == BucketCannedACL::PRIVATE);
    let grants =
        grants!(input) || input.grant_write.is_some() || input.access_control_policy.is_some();
    if private && !grants {
        return Ok(S3Response::new(PutBucketAclOutput::default()));
    }
    Err(s3_error!(
        AccessControlListNotSupported,
        "The bucket does not allow ACLs"
    ))
}

pub async fn put_object_acl<S: Store, B: BlobStore>(
    ops: &Objects<S, B>,
    req: S3Request<PutObjectAclInput>,
) -> Out<PutObjectAclOutput> {
    let view = bucket_of(&req)?;
    let input = &req.input;
    let grants =
        grants!(input) || input.grant_write.is_some() || input.access_control_policy.is_some();
    refuse_acl(input.acl.as_ref(), grants || input.acl.is_none())?;
    ops.app
        .store()
        .object(&view.bucket.name, &input.key)
        .await
        .map_err(errors::from_store)?;
    Ok(S3Response::new(PutObjectAclOutput::default()))
}

pub async fn encryption<S: Store, B: BlobStore>(
    _ops: &Objects<S, B>,
    req: S3Request<GetBucketEncryptionInput>,
) -> Out<GetBucketEncryptionOutput> {
    bucket_of(&req)?;
    Ok(S3Response::new(GetBucketEncryptionOutput {
        server_side_encryption_configuration: Some(ServerSideEncryptionConfiguration {
            rules: vec![ServerSideEncryptionRule {
                apply_server_side_encryption_by_default: Some(ServerSideEncryptionByDefault {
                    sse_algorithm: ServerSideEncryption::from_static(ServerSideEncryption::AES256),
                    kms_master_key_id: None,
                }),
                bucket_key_enabled: Some(false),
            }],
        }),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(resource: &str) -> Policy {
        let doc = format!(
            r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"{resource}"}}]}}"#
        );
        Policy::parse(&doc, PolicyKind::Resource).unwrap()
    }

    #[test]
    fn a_bucket_policy_names_only_s3_actions() {
        let with = |action: &str| {
            let doc = format!(
                r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":"*","Action":"{action}","Resource":"arn:aws:s3:::docs/*"}}]}}"#
            );
            check_actions(&Policy::parse(&doc, PolicyKind::Resource).unwrap())
        };
        assert!(with("s3:GetObject").is_ok());
        assert!(with("s3:Get*").is_ok());
        assert!(with("*").is_ok());
        assert!(with("s3:FlyAway").is_err());
        assert!(with("iam:GetUser").is_err());
    }

    #[test]
    fn a_bucket_policy_names_only_its_own_bucket() {
        assert!(check_resources(&policy("arn:aws:s3:::docs/*"), "docs").is_ok());
        assert!(check_resources(&policy("arn:aws:s3:::docs"), "docs").is_ok());
        assert!(check_resources(&policy("arn:aws:s3:::docs*"), "docs").is_ok());
        assert!(check_resources(&policy("arn:aws:s3:::docs2/*"), "docs").is_err());
        assert!(check_resources(&policy("arn:aws:s3:::other/*"), "docs").is_err());
    }
}
