//! The S3 operations roleplane serves, over bucket and object records in the store and object
//! bytes in a [`BlobStore`]. Each runs after the access check ([`super::access`]) allowed it
//! and left what it learned in the request's extensions ([`Authorized`]).
//!
//! The `S3` trait is one impl block; it only dispatches, each concept in its own module:
//! [`buckets`], [`objects`], [`listing`], [`multipart`], [`settings`] (policy, public access
//! block, ownership, versioning, ACLs, encryption) and [`tagging`].

mod buckets;
pub(crate) mod headers;
pub(crate) mod listing;
mod multipart;
mod objects;
mod settings;
mod tagging;

use std::sync::Arc;

use s3s::dto::*;
use s3s::{S3, S3Request, S3Response, S3Result};
use store::Store;

use super::access::{Asker, Authorized, BucketView};
use super::auth::SEAM;
use super::blobs::BlobStore;
use super::errors;
use crate::request::App;

/// roleplane's S3.
pub struct Objects<S, B> {
    app: Arc<App<S>>,
    blobs: Arc<B>,
}

impl<S, B> Objects<S, B> {
    pub fn new(app: Arc<App<S>>, blobs: Arc<B>) -> Self {
        Self { app, blobs }
    }
}

/// What the access check left for the operation; its absence is a bug (the check runs for
/// every request once authentication is configured).
fn authorized<T>(req: &S3Request<T>) -> S3Result<&Authorized> {
    req.extensions
        .get::<Authorized>()
        .ok_or_else(|| errors::internal(&"an S3 operation ran without its access check"))
}

/// The bucket the request names (the check found it).
fn bucket_of<T>(req: &S3Request<T>) -> S3Result<&Arc<BucketView>> {
    authorized(req)?
        .bucket
        .as_ref()
        .ok_or_else(|| s3s::s3_error!(NoSuchBucket, "{}", errors::NO_SUCH_BUCKET))
}

/// The asker of the request in progress, for a decision the operation makes itself
/// (DeleteObjects' keys).
fn asker_of(authorized: &Authorized) -> S3Result<Asker> {
    SEAM.try_with(|seam| Asker {
        caller: authorized.caller.clone(),
        peer: seam.peer,
        now: seam.now,
        request_id: seam.request_id.clone(),
    })
    .map_err(|_| errors::internal(&"an S3 operation outside roleplane's S3 entry point"))
}

type Out<T> = S3Result<S3Response<T>>;

macro_rules! dispatch {
    ($($name:ident => $module:ident :: $function:ident ($input:ty) -> $output:ty;)*) => {
        #[async_trait::async_trait]
        impl<S: Store, B: BlobStore> S3 for Objects<S, B> {
            $(
                async fn $name(&self, req: S3Request<$input>) -> Out<$output> {
                    $module::$function(self, req).await
                }
            )*
        }
    };
}

dispatch! {
    list_buckets => buckets::list(ListBucketsInput) -> ListBucketsOutput;
    create_bucket => buckets::create(CreateBucketInput) -> CreateBucketOutput;
    delete_bucket => buckets::delete(DeleteBucketInput) -> DeleteBucketOutput;
    head_bucket => buckets::head(HeadBucketInput) -> HeadBucketOutput;
    get_bucket_location => buckets::location(GetBucketLocationInput) -> GetBucketLocationOutput;
    list_objects => listing::list_v1(ListObjectsInput) -> ListObjectsOutput;
    list_objects_v2 => listing::list_v2(ListObjectsV2Input) -> ListObjectsV2Output;
    put_object => objects::put(PutObjectInput) -> PutObjectOutput;
    get_object => objects::get(GetObjectInput) -> GetObjectOutput;
    head_object => objects::head(HeadObjectInput) -> HeadObjectOutput;
    delete_object => objects::delete(DeleteObjectInput) -> DeleteObjectOutput;
    delete_objects => objects::delete_many(DeleteObjectsInput) -> DeleteObjectsOutput;
    copy_object => objects::copy(CopyObjectInput) -> CopyObjectOutput;
    create_multipart_upload => multipart::create(CreateMultipartUploadInput) -> CreateMultipartUploadOutput;
    upload_part => multipart::upload_part(UploadPartInput) -> UploadPartOutput;
    upload_part_copy => multipart::upload_part_copy(UploadPartCopyInput) -> UploadPartCopyOutput;
    complete_multipart_upload => multipart::complete(CompleteMultipartUploadInput) -> CompleteMultipartUploadOutput;
    abort_multipart_upload => multipart::abort(AbortMultipartUploadInput) -> AbortMultipartUploadOutput;
    list_parts => multipart::list_parts(ListPartsInput) -> ListPartsOutput;
    list_multipart_uploads => multipart::list_uploads(ListMultipartUploadsInput) -> ListMultipartUploadsOutput;
    get_object_tagging => tagging::get_object(GetObjectTaggingInput) -> GetObjectTaggingOutput;
    put_object_tagging => tagging::put_object(PutObjectTaggingInput) -> PutObjectTaggingOutput;
    delete_object_tagging => tagging::delete_object(DeleteObjectTaggingInput) -> DeleteObjectTaggingOutput;
    get_bucket_tagging => tagging::get_bucket(GetBucketTaggingInput) -> GetBucketTaggingOutput;
    put_bucket_tagging => tagging::put_bucket(PutBucketTaggingInput) -> PutBucketTaggingOutput;
    delete_bucket_tagging => tagging::delete_bucket(DeleteBucketTaggingInput) -> DeleteBucketTaggingOutput;
    get_bucket_policy => settings::get_policy(GetBucketPolicyInput) -> GetBucketPolicyOutput;
    put_bucket_policy => settings::put_policy(PutBucketPolicyInput) -> PutBucketPolicyOutput;
    delete_bucket_policy => settings::delete_policy(DeleteBucketPolicyInput) -> DeleteBucketPolicyOutput;
    get_bucket_policy_status => settings::policy_status(GetBucketPolicyStatusInput) -> GetBucketPolicyStatusOutput;
    get_public_access_block => settings::get_public_access_block(GetPublicAccessBlockInput) -> GetPublicAccessBlockOutput;
    put_public_access_block => settings::put_public_access_block(PutPublicAccessBlockInput) -> PutPublicAccessBlockOutput;
    delete_public_access_block => settings::delete_public_access_block(DeletePublicAccessBlockInput) -> DeletePublicAccessBlockOutput;
    get_bucket_versioning => settings::versioning(GetBucketVersioningInput) -> GetBucketVersioningOutput;
    get_bucket_ownership_controls => settings::ownership(GetBucketOwnershipControlsInput) -> GetBucketOwnershipControlsOutput;
    get_bucket_acl => settings::get_bucket_acl(GetBucketAclInput) -> GetBucketAclOutput;
    put_bucket_acl => settings::put_bucket_acl(PutBucketAclInput) -> PutBucketAclOutput;
    get_object_acl => settings::get_object_acl(GetObjectAclInput) -> GetObjectAclOutput;
    put_object_acl => settings::put_object_acl(PutObjectAclInput) -> PutObjectAclOutput;
    get_bucket_encryption => settings::encryption(GetBucketEncryptionInput) -> GetBucketEncryptionOutput;
}
