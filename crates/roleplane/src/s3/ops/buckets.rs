//! Buckets: create, delete, head, list, and where they live.

use s3s::dto::*;
use s3s::{S3Request, S3Response, S3Result, s3_error};
use store::{Store, StoreError};

use super::headers::owner;
use super::{Objects, Out, authorized, bucket_of};
use crate::s3::blobs::BlobStore;
use crate::s3::errors;

pub async fn list<S: Store, X: BlobStore>(
    ops: &Objects<S, X>,
    req: S3Request<ListBucketsInput>,
) -> Out<ListBucketsOutput> {
    let caller = authorized(&req)?
        .caller
        .as_ref()
        .ok_or_else(|| s3_error!(AccessDenied, "{}", errors::ACCESS_DENIED))?;
    let buckets = ops
        .app
        .store()
        .buckets(&caller.account_id)
        .await
        .map_err(errors::from_store)?;
    let buckets = buckets
        .into_iter()
        .map(|b| Bucket {
            bucket_region: Some(b.region),
            creation_date: Some(Timestamp::from(b.created)),
            name: Some(b.name),
        })
        .collect();
    Ok(S3Response::new(ListBucketsOutput {
        buckets: Some(buckets),
        owner: Some(owner(&caller.account_id)),
        ..ListBucketsOutput::default()
    }))
}

pub async fn create<S: Store, X: BlobStore>(
    ops: &Objects<S, X>,
    req: S3Request<CreateBucketInput>,
) -> Out<CreateBucketOutput> {
    let caller = authorized(&req)?
        .caller
        .as_ref()
        .ok_or_else(|| s3_error!(AccessDenied, "{}", errors::ACCESS_DENIED))?;
    let input = &req.input;
    if input
        .acl
        .as_ref()
        .is_some_and(|acl| acl.as_str() != BucketCannedACL::PRIVATE)
        || input.grant_full_control.is_some()
        || input.grant_read.is_some()
        || input.grant_write.is_some()
    {
        return Err(s3_error!(
            InvalidBucketAclWithObjectOwnership,
            "Bucket cannot have ACLs set with ObjectOwnership's BucketOwnerEnforced setting"
        ));
    }
    let region = super::super::signed_region().unwrap_or_else(|| ops.app.region().to_owned());
    let constraint = input
        .create_bucket_configuration
        .as_ref()
        .and_then(|c| c.location_constraint.as_ref())
        .map(|c| c.as_str().to_owned());
    check_location(constraint.as_deref(), &region)?;
    let name = &input.bucket;
    match ops
        .app
        .store()
        .create_bucket(&caller.account_id, name, &region)
        .await
    {
        Ok(_) => {}
        Err(StoreError::AlreadyExists { .. }) => {
            let existing = ops
                .app
                .store()
                .bucket(name)
                .await
                .map_err(errors::from_store)?;
            // us-east-1 answers 200 to the owner re-creating its bucket there (legacy behaviour
            // AWS keeps); elsewhere the owner gets BucketAlreadyOwnedByYou.
            if existing.account_id != caller.account_id {
                return Err(s3_error!(BucketAlreadyExists, "{}", errors::BUCKET_EXISTS));
            }
            if existing.region != "us-east-1" || region != "us-east-1" {
                return Err(s3_error!(
                    BucketAlreadyOwnedByYou,
                    "Your previous request to create the named bucket succeeded and you already own it."
                ));
            }
        }
        Err(e) => return Err(errors::from_store(e)),
    }
    Ok(S3Response::new(CreateBucketOutput {
        location: Some(format!("/{name}")),
    }))
}

/// A `LocationConstraint` must name the region the request was signed for; us-east-1 is
/// named by leaving it out.
fn check_location(constraint: Option<&str>, region: &str) -> S3Result<()> {
    match constraint {
        None | Some("") if region == "us-east-1" => Ok(()),
        Some("us-east-1") => Err(s3_error!(
            InvalidLocationConstraint,
            "The specified location-constraint is not valid"
        )),
        Some(c) if c == region => Ok(()),
        Some(c) => Err(s3_error!(
            IllegalLocationConstraintException,
            "The {c} location constraint is incompatible for the region specific endpoint this request was sent to."
        )),
        _ => Err(s3_error!(
            IllegalLocationConstraintException,
            "The unspecified location constraint is incompatible for the region specific endpoint this request was sent to."
        )),
    }
}

pub async fn delete<S: Store, X: BlobStore>(
    ops: &Objects<S, X>,
    req: S3Request<DeleteBucketInput>,
) -> Out<DeleteBucketOutput> {
    let bucket = bucket_of(&req)?;
    let blobs = ops
        .app
        .store()
        .delete_bucket(&bucket.bucket.name)
        .await
        .map_err(errors::from_store)?;
    for blob in blobs {
        ops.blobs.delete(&blob).await;
    }
    Ok(S3Response::new(DeleteBucketOutput::default()))
}

pub async fn head<S: Store, X: BlobStore>(
    _ops: &Objects<S, X>,
    req: S3Request<HeadBucketInput>,
) -> Out<HeadBucketOutput> {
    let bucket = bucket_of(&req)?;
    Ok(S3Response::new(HeadBucketOutput {
        bucket_region: Some(bucket.bucket.region.clone()),
        ..HeadBucketOutput::default()
    }))
}

pub async fn location<S: Store, X: BlobStore>(
    _ops: &Objects<S, X>,
    req: S3Request<GetBucketLocationInput>,
) -> Out<GetBucketLocationOutput> {
    let region = &bucket_of(&req)?.bucket.region;
    // us-east-1 is the empty constraint, as S3 has always answered it.
    let location_constraint =
        (region != "us-east-1").then(|| BucketLocationConstraint::from(region.clone()));
    Ok(S3Response::new(GetBucketLocationOutput {
        location_constraint,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn location_constraints_must_name_the_signed_region() {
        assert!(check_location(None, "us-east-1").is_ok());
        assert!(check_location(Some("eu-west-1"), "eu-west-1").is_ok());
        assert!(check_location(Some("us-east-1"), "us-east-1").is_err());
        assert!(check_location(Some("eu-west-1"), "us-east-1").is_err());
        assert!(check_location(None, "eu-west-1").is_err());
    }
}
