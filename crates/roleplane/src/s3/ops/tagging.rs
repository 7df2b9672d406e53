//! Object and bucket tags. Object tags take part in authorization
//! (`s3:ExistingObjectTag/…`, read by the access check).

use s3s::dto::*;
use s3s::{S3Request, S3Response, s3_error};
use store::{BucketChange, Store};

use super::headers::{MAX_BUCKET_TAGS, MAX_OBJECT_TAGS, check_tags, from_dto_tags, to_dto_tags};
use super::{Objects, Out, bucket_of};
use crate::s3::blobs::BlobStore;
use crate::s3::errors;

pub async fn get_object<S: Store, B: BlobStore>(
    ops: &Objects<S, B>,
    req: S3Request<GetObjectTaggingInput>,
) -> Out<GetObjectTaggingOutput> {
    let bucket = bucket_of(&req)?.bucket.name.clone();
    let object = ops
        .app
        .store()
        .object(&bucket, &req.input.key)
        .await
        .map_err(errors::from_store)?;
    Ok(S3Response::new(GetObjectTaggingOutput {
        tag_set: to_dto_tags(&object.tags),
        version_id: None,
    }))
}

pub async fn put_object<S: Store, B: BlobStore>(
    ops: &Objects<S, B>,
    req: S3Request<PutObjectTaggingInput>,
) -> Out<PutObjectTaggingOutput> {
    let bucket = bucket_of(&req)?.bucket.name.clone();
    let input = req.input;
    let tags = check_tags(from_dto_tags(input.tagging.tag_set), MAX_OBJECT_TAGS)?;
    ops.app
        .store()
        .set_object_tags(&bucket, &input.key, tags)
        .await
        .map_err(errors::from_store)?;
    Ok(S3Response::new(PutObjectTaggingOutput::default()))
}

pub async fn delete_object<S: Store, B: BlobStore>(
    ops: &Objects<S, B>,
    req: S3Request<DeleteObjectTaggingInput>,
) -> Out<DeleteObjectTaggingOutput> {
    let bucket = bucket_of(&req)?.bucket.name.clone();
    ops.app
        .store()
        .set_object_tags(&bucket, &req.input.key, Vec::new())
        .await
        .map_err(errors::from_store)?;
    Ok(S3Response::new(DeleteObjectTaggingOutput::default()))
}

pub async fn get_bucket<S: Store, B: BlobStore>(
    _ops: &Objects<S, B>,
    req: S3Request<GetBucketTaggingInput>,
) -> Out<GetBucketTaggingOutput> {
    let tags = &bucket_of(&req)?.bucket.tags;
    if tags.is_empty() {
        return Err(s3_error!(NoSuchTagSet, "The TagSet does not exist"));
    }
    Ok(S3Response::new(GetBucketTaggingOutput {
        tag_set: to_dto_tags(tags),
    }))
}

pub async fn put_bucket<S: Store, B: BlobStore>(
    ops: &Objects<S, B>,
    req: S3Request<PutBucketTaggingInput>,
) -> Out<PutBucketTaggingOutput> {
    let name = bucket_of(&req)?.bucket.name.clone();
    let tags = check_tags(from_dto_tags(req.input.tagging.tag_set), MAX_BUCKET_TAGS)?;
    ops.app
        .store()
        .update_bucket(&name, BucketChange::Tags(tags))
        .await
        .map_err(errors::from_store)?;
    Ok(S3Response::new(PutBucketTaggingOutput::default()))
}

pub async fn delete_bucket<S: Store, B: BlobStore>(
    ops: &Objects<S, B>,
    req: S3Request<DeleteBucketTaggingInput>,
) -> Out<DeleteBucketTaggingOutput> {
    let name = bucket_of(&req)?.bucket.name.clone();
    ops.app
        .store()
        .update_bucket(&name, BucketChange::Tags(Vec::new()))
        .await
        .map_err(errors::from_store)?;
    Ok(S3Response::new(DeleteBucketTaggingOutput::default()))
}
