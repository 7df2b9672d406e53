//! S3's records: buckets (global names, one owning account each) and the metadata of their
//! objects and multipart uploads. Object bytes are not here: they live in blobs the server
//! writes (`roleplane::s3::blobs`), which a record names by its blob ID.

use time::OffsetDateTime;

use crate::model::Tag;

/// A bucket. Names are unique across every account, as on AWS.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bucket {
    pub name: String,
    pub account_id: String,
    /// The region it was created in (`GetBucketLocation`).
    pub region: String,
    pub created: OffsetDateTime,
    /// The bucket policy document, as it was put.
    pub policy: Option<String>,
    /// `None` once deleted; new buckets have every setting on (AWS's default since April 2023).
    pub public_access_block: Option<PublicAccessBlock>,
    /// Bucket tags, in the order they were put.
    pub tags: Vec<Tag>,
}

/// The four settings of a bucket's public access block.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PublicAccessBlock {
    pub block_public_acls: bool,
    pub ignore_public_acls: bool,
    pub block_public_policy: bool,
    pub restrict_public_buckets: bool,
}

impl PublicAccessBlock {
    pub const ALL_ON: PublicAccessBlock = PublicAccessBlock {
        block_public_acls: true,
        ignore_public_acls: true,
        block_public_policy: true,
        restrict_public_buckets: true,
    };
}

/// One change to a bucket's settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BucketChange {
    Policy(Option<String>),
    PublicAccessBlock(Option<PublicAccessBlock>),
    Tags(Vec<Tag>),
}

/// The headers an object was stored with and is served with.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ObjectHeaders {
    pub content_type: Option<String>,
    pub content_encoding: Option<String>,
    pub content_disposition: Option<String>,
    pub content_language: Option<String>,
    pub cache_control: Option<String>,
    /// `Expires`, as the client sent it.
    pub expires: Option<String>,
    /// User metadata (`x-amz-meta-NAME`), names lowercased, in the order given.
    pub metadata: Vec<(String, String)>,
    /// The flexible checksum the object was written with: (`CRC32`… `SHA256`, base64).
    pub checksum: Option<(String, String)>,
    /// A multipart object's part sizes, in order (reads by `partNumber`); empty otherwise.
    pub part_sizes: Vec<u64>,
}

/// An object's record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectMeta {
    pub bucket: String,
    pub key: String,
    pub size: u64,
    /// Without quotes: 32 hex digits, or `HEX-N` for a multipart object.
    pub etag: String,
    pub last_modified: OffsetDateTime,
    /// The blob holding its bytes.
    pub blob: String,
    pub headers: ObjectHeaders,
    /// Object tags, in the order they were put.
    pub tags: Vec<Tag>,
}

/// An object to store (replacing any object of that key).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewObject {
    pub bucket: String,
    pub key: String,
    pub size: u64,
    pub etag: String,
    pub blob: String,
    pub headers: ObjectHeaders,
    pub tags: Vec<Tag>,
}

/// One page of a bucket's objects, as ListObjects(V2) asks for it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ObjectListing {
    /// Only keys that start with it.
    pub prefix: String,
    /// Keys that contain it after the prefix are rolled up into one common prefix each
    /// (prefix + everything up to and including the delimiter's first occurrence).
    pub delimiter: Option<String>,
    /// Only keys (and common prefixes) after it, in UTF-8 byte order.
    pub after: Option<String>,
    /// Keys plus common prefixes in the page; 0 gives an empty, untruncated page.
    pub max_keys: usize,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ObjectPage {
    /// In key order.
    pub objects: Vec<ObjectMeta>,
    /// In order, each once.
    pub common_prefixes: Vec<String>,
    /// Whether more keys or prefixes follow.
    pub truncated: bool,
    /// The last key or common prefix in the page (the marker for the next one).
    pub last: Option<String>,
}

/// A multipart upload in progress.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MultipartUpload {
    pub upload_id: String,
    pub bucket: String,
    pub key: String,
    pub initiated: OffsetDateTime,
    /// The account of the principal that created it.
    pub initiator_account: String,
    /// The initiator's ARN (`Initiator/ID` in the listings).
    pub initiator_arn: String,
    /// What the completed object will carry.
    pub headers: ObjectHeaders,
    pub tags: Vec<Tag>,
}

/// A new multipart upload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewUpload {
    pub bucket: String,
    pub key: String,
    pub initiator_account: String,
    pub initiator_arn: String,
    pub headers: ObjectHeaders,
    pub tags: Vec<Tag>,
}

/// One uploaded part.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Part {
    /// 1–10000.
    pub part_number: u32,
    pub size: u64,
    /// Without quotes: 32 hex digits.
    pub etag: String,
    pub blob: String,
    pub last_modified: OffsetDateTime,
}

/// What completing an upload left for the caller to delete.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CompletedUpload {
    /// The blob of the object the new one replaced.
    pub replaced: Option<String>,
    /// The blobs of the upload's parts.
    pub parts: Vec<String>,
}
