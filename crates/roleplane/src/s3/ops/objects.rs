//! Objects: put, get, head, delete (one or many), copy. Bytes stream between the client and
//! a blob; the record that names the blob is written only once the blob is durable, so an
//! acknowledged PUT survives a crash and a failed one leaves nothing visible.

use std::sync::Arc;

use base64::Engine as _;
use s3s::dto::*;
use s3s::{S3Error, S3ErrorCode, S3Request, S3Response, S3Result, s3_error};
use store::{NewObject, ObjectHeaders, ObjectMeta, Store, StoreError};
use time::OffsetDateTime;

use super::headers::{
    DEFAULT_CONTENT_TYPE, etag, expires_of, grants, metadata_of, object_headers, refuse_acl,
    set_checksum, sse, tags_of_header,
};
use super::{Objects, Out, authorized, bucket_of};
use crate::request::authz::Conditions;
use crate::request::min_rate;
use crate::s3::access::{Authorized, authorize};
use crate::s3::actions;
use crate::s3::blobs::{BlobError, BlobStore, Written};
use crate::s3::{checksums, errors};

/// The largest object one PUT may write (S3's limit; larger ones need a multipart upload).
pub const MAX_PUT_BYTES: u64 = 5 << 30;
/// User metadata per object, in bytes of names and values.
const MAX_METADATA_BYTES: usize = 2048;
/// Keys per DeleteObjects request.
const MAX_DELETE_KEYS: usize = 1000;

pub async fn put<S: Store, B: BlobStore>(
    ops: &Objects<S, B>,
    req: S3Request<PutObjectInput>,
) -> Out<PutObjectOutput> {
    let bucket = bucket_of(&req)?.bucket.name.clone();
    let mut input = req.input;
    refuse_acl(input.acl.as_ref(), grants!(input))?;
    let tags = tags_of_header(input.tagging.as_deref())?;
    let expected = declared_length(input.content_length, MAX_PUT_BYTES)?;
    check_write_conditions(
        ops,
        &bucket,
        &input.key,
        input.if_match.as_ref(),
        input.if_none_match.as_ref(),
    )
    .await?;
    check_metadata_size(input.metadata.as_ref())?;
    let body = input.body.take().unwrap_or_else(empty_body);
    let received = receive(
        ops,
        body,
        expected,
        input.content_md5.as_deref(),
        &req.headers,
        req.trailing_headers.as_ref(),
    )
    .await?;
    let Received {
        written,
        etag: etag_hex,
        checksum,
    } = received;
    let mut headers = object_headers!(input);
    headers.checksum = checksum.clone();
    let object = NewObject {
        bucket,
        key: input.key.clone(),
        size: written.size,
        etag: etag_hex.clone(),
        blob: written.id.clone(),
        headers,
        tags,
    };
    store_object(ops, object, &written).await?;
    let mut output = PutObjectOutput {
        e_tag: Some(etag(&etag_hex)),
        server_side_encryption: sse(),
        ..PutObjectOutput::default()
    };
    if let Some((algorithm, value)) = checksum {
        set_checksum!(output, algorithm.as_str(), value);
    }
    Ok(S3Response::new(output))
}

/// A body received into a durable blob and checked against every digest the request declared.
pub(super) struct Received {
    pub written: Written,
    /// The MD5 in hex: the ETag of a single-part object or of a part.
    pub etag: String,
    /// `(ALGORITHM, base64)` of a flexible checksum the request declared.
    pub checksum: Option<(String, String)>,
}

/// Streams `body` into a blob, then checks it against `Content-MD5` and a declared
/// `x-amz-checksum-*` (header or trailer); on any mismatch the blob goes, nothing is visible.
pub(super) async fn receive<S: Store, B: BlobStore>(
    ops: &Objects<S, B>,
    body: StreamingBlob,
    expected: Option<u64>,
    content_md5: Option<&str>,
    headers: &axum::http::HeaderMap,
    trailers: Option<&s3s::TrailingHeaders>,
) -> S3Result<Received> {
    let digest = content_md5.map(md5_of_header).transpose()?;
    let declared = checksums::Declared::of(headers)?;
    let (body, computed) = checksums::hashing(body, &declared);
    let written = ops
        .blobs
        .write(body, expected)
        .await
        .map_err(from_blob_error)?;
    let md5 = written.md5.unwrap_or_default();
    let verdict = match digest {
        Some(digest) if digest != md5 => Err(s3_error!(
            BadDigest,
            "The Content-MD5 you specified did not match what we received."
        )),
        _ => {
            let trailers = trailers.and_then(s3s::TrailingHeaders::take);
            checksums::verify(&declared, &computed, trailers.as_ref())
        }
    };
    match verdict {
        Ok(checksum) => Ok(Received {
            etag: hex::encode(md5),
            written,
            checksum,
        }),
        Err(e) => {
            ops.blobs.delete(&written.id).await;
            Err(e)
        }
    }
}

/// A `Content-MD5` header's digest; one that is not base64 of 16 bytes is InvalidDigest.
fn md5_of_header(header: &str) -> S3Result<[u8; 16]> {
    base64::engine::general_purpose::STANDARD
        .decode(header.trim())
        .ok()
        .and_then(|bytes| <[u8; 16]>::try_from(bytes).ok())
        .ok_or_else(|| s3_error!(InvalidDigest, "The Content-MD5 you specified was invalid."))
}

/// User metadata (names and values of `x-amz-meta-*`) is at most 2 KB, as on S3.
pub(super) fn check_metadata_size(metadata: Option<&Metadata>) -> S3Result<()> {
    let size: usize = metadata
        .map(|m| m.iter().map(|(k, v)| k.len() + v.len()).sum())
        .unwrap_or(0);
    if size > MAX_METADATA_BYTES {
        return Err(s3_error!(
            MetadataTooLarge,
            "Your metadata headers exceed the maximum allowed metadata size."
        ));
    }
    Ok(())
}

/// Writes the record naming a durable blob, then drops the blob it replaced. If the record
/// cannot be written (the bucket went away meanwhile), the new blob goes.
pub(super) async fn store_object<S: Store, B: BlobStore>(
    ops: &Objects<S, B>,
    object: NewObject,
    written: &Written,
) -> S3Result<()> {
    let stored = ops.app.store().put_object(object).await;
    settle(ops, written, stored).await
}

/// After a record naming `written` was (or failed to be) stored: the blob it replaced goes,
/// or, if nothing was stored, the new blob goes. Either way one blob is left per record.
pub(super) async fn settle<S: Store, B: BlobStore>(
    ops: &Objects<S, B>,
    written: &Written,
    stored: store::Result<Option<String>>,
) -> S3Result<()> {
    match stored {
        Ok(replaced) => {
            if let Some(old) = replaced {
                ops.blobs.delete(&old).await;
            }
            Ok(())
        }
        Err(e) => {
            ops.blobs.delete(&written.id).await;
            Err(errors::from_store(e))
        }
    }
}

fn empty_body() -> StreamingBlob {
    StreamingBlob::wrap(futures_stream_empty())
}

fn futures_stream_empty()
-> impl futures_core::Stream<Item = Result<bytes::Bytes, std::io::Error>> + Send + Sync + 'static {
    EmptyStream
}

struct EmptyStream;

impl futures_core::Stream for EmptyStream {
    type Item = Result<bytes::Bytes, std::io::Error>;
    fn poll_next(
        self: std::pin::Pin<&mut Self>,
        _cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Self::Item>> {
        std::task::Poll::Ready(None)
    }
}

/// The body length the request declares, within `max`.
pub(super) fn declared_length(length: Option<i64>, max: u64) -> S3Result<Option<u64>> {
    let Some(length) = length else {
        return Ok(None);
    };
    let length = u64::try_from(length).map_err(|_| {
        s3_error!(
            InvalidArgument,
            "Content-Length must be a non-negative number"
        )
    })?;
    if length > max {
        return Err(s3_error!(
            EntityTooLarge,
            "Your proposed upload exceeds the maximum allowed size"
        ));
    }
    Ok(Some(length))
}

/// A blob failure as S3 answers it: a body that ended early or ran long is the client's, and
/// an S3 error raised while decoding the body (a chunk signature that does not match) is
/// passed on as it is.
pub(super) fn from_blob_error(error: BlobError) -> S3Error {
    match error {
        BlobError::IncompleteBody { .. } | BlobError::TooLong { .. } => s3_error!(
            IncompleteBody,
            "You did not provide the number of bytes specified by the Content-Length HTTP header."
        ),
        BlobError::Body(source) => match source.downcast_ref::<S3Error>() {
            Some(inner) => S3Error::with_message(
                inner.code().clone(),
                inner
                    .message()
                    .unwrap_or("The request body could not be read")
                    .to_owned(),
            ),
            None if min_rate::TooSlow::caused(&*source) => errors::custom(
                "RequestTimeout",
                400,
                "Your socket connection to the server was not read from or written to within \
                 the timeout period. Idle connections will be closed.",
            ),
            None => body_error(&source.to_string()),
        },
        BlobError::NotFound(_) | BlobError::InvalidId(_) | BlobError::Io(_) => {
            errors::internal(&error)
        }
    }
}

/// An error s3s's body decoders raised. Their types are private to s3s, so they are told
/// apart by what they print (`UploadStreamError: …`, `AwsChunkedStreamError: …`).
fn body_error(printed: &str) -> S3Error {
    if printed.contains("Sha256Mismatch") {
        return errors::custom(
            "XAmzContentSHA256Mismatch",
            400,
            "The provided 'x-amz-content-sha256' header does not match what was computed.",
        );
    }
    if printed.contains("SignatureMismatch") {
        return s3_error!(
            SignatureDoesNotMatch,
            "The request signature we calculated does not match the signature you provided. \
             Check your key and signing method."
        );
    }
    s3_error!(
        IncompleteBody,
        "The request body ended before it was complete."
    )
}

/// Conditional writes: `If-None-Match: *` refuses to replace an object (412); `If-Match`
/// needs the current object to have that ETag (412), or to exist at all (404 NoSuchKey).
async fn check_write_conditions<S: Store, B: BlobStore>(
    ops: &Objects<S, B>,
    bucket: &str,
    key: &str,
    if_match: Option<&ETagCondition>,
    if_none_match: Option<&ETagCondition>,
) -> S3Result<()> {
    if if_match.is_none() && if_none_match.is_none() {
        return Ok(());
    }
    let current = match ops.app.store().object(bucket, key).await {
        Ok(object) => Some(object),
        Err(StoreError::NotFound { .. }) => None,
        Err(e) => return Err(errors::from_store(e)),
    };
    if if_none_match.is_some_and(ETagCondition::is_any) && current.is_some() {
        return Err(precondition_failed());
    }
    if let Some(condition) = if_match {
        let Some(current) = &current else {
            return Err(s3_error!(NoSuchKey, "{}", errors::NO_SUCH_KEY));
        };
        let holds = match condition {
            ETagCondition::Any => true,
            ETagCondition::ETag(tag) => tag.value() == current.etag,
        };
        if !holds {
            return Err(precondition_failed());
        }
    }
    Ok(())
}

/// The object the request reads: the one the access check loaded, else from the store.
async fn object_of<S: Store, B: BlobStore, T>(
    ops: &Objects<S, B>,
    req: &S3Request<T>,
    bucket: &str,
    key: &str,
) -> S3Result<Arc<ObjectMeta>> {
    if let Some(object) = &authorized(req)?.object {
        return Ok(object.clone());
    }
    ops.app
        .store()
        .object(bucket, key)
        .await
        .map(Arc::new)
        .map_err(errors::from_store)
}

/// The object GetObject and HeadObject read. A missing key is NoSuchKey only to a caller who
/// may list the bucket (`s3:ListBucket`); anyone else gets AccessDenied, as S3 documents for
/// both operations.
async fn readable_object_of<S: Store, B: BlobStore, T>(
    ops: &Objects<S, B>,
    req: &S3Request<T>,
    key: &str,
) -> S3Result<Arc<ObjectMeta>> {
    let view = bucket_of(req)?;
    let missing = match object_of(ops, req, &view.bucket.name, key).await {
        Err(e) if *e.code() == S3ErrorCode::NoSuchKey => e,
        found => return found,
    };
    let asker = super::asker_of(authorized(req)?)?;
    let rule =
        actions::rule_of("ListObjectsV2").ok_or_else(|| errors::internal(&"no ListBucket rule"))?;
    let resource = actions::bucket_arn(&view.bucket.name);
    authorize(
        &ops.app,
        &asker,
        Some(view),
        rule,
        &resource,
        Conditions::new(),
    )
    .await?;
    Err(missing)
}

fn precondition_failed() -> S3Error {
    s3_error!(
        PreconditionFailed,
        "At least one of the pre-conditions you specified did not hold"
    )
}

/// GET and HEAD preconditions in RFC 9110's order, as S3 applies them: If-Match, else
/// If-Unmodified-Since (412); then If-None-Match, else If-Modified-Since (304).
fn check_preconditions(
    object: &ObjectMeta,
    if_match: Option<&ETagCondition>,
    if_none_match: Option<&ETagCondition>,
    if_modified_since: Option<&Timestamp>,
    if_unmodified_since: Option<&Timestamp>,
) -> S3Result<()> {
    let matches = |condition: &ETagCondition| match condition {
        ETagCondition::Any => true,
        ETagCondition::ETag(tag) => tag.value() == object.etag,
    };
    let modified = object.last_modified.unix_timestamp();
    let seconds = |t: &Timestamp| OffsetDateTime::from(t.clone()).unix_timestamp();
    match if_match {
        Some(condition) if !matches(condition) => return Err(precondition_failed()),
        None if if_unmodified_since.is_some_and(|t| modified > seconds(t)) => {
            return Err(precondition_failed());
        }
        _ => {}
    }
    let not_modified = match if_none_match {
        Some(condition) => matches(condition),
        None => if_modified_since.is_some_and(|t| modified <= seconds(t)),
    };
    if not_modified {
        let mut error = S3Error::new(S3ErrorCode::NotModified);
        if let Ok(value) = format!("\"{}\"", object.etag).parse() {
            let mut headers = axum::http::HeaderMap::new();
            headers.insert("etag", value);
            error.set_headers(headers);
        }
        return Err(error);
    }
    Ok(())
}

/// The byte range a `Range` asks for, or InvalidRange.
fn range_of(range: Option<&Range>, size: u64) -> S3Result<Option<std::ops::Range<u64>>> {
    let Some(range) = range else {
        return Ok(None);
    };
    range
        .check(size)
        .map(Some)
        .map_err(|_| s3_error!(InvalidRange, "The requested range is not satisfiable"))
}

/// `x-amz-checksum-mode: ENABLED`.
fn checksum_mode(mode: Option<&ChecksumMode>) -> bool {
    mode.is_some_and(|m| m.as_str() == ChecksumMode::ENABLED)
}

/// What GET and HEAD both answer about an object (or the range of it asked for).
struct Representation {
    content_length: Option<i64>,
    content_range: Option<String>,
    content_type: String,
    headers: ObjectHeaders,
    e_tag: ETag,
    last_modified: Timestamp,
}

impl Representation {
    fn of(object: &ObjectMeta, range: Option<&std::ops::Range<u64>>) -> Self {
        let (length, content_range) = match range {
            Some(r) => (
                r.end - r.start,
                Some(format!(
                    "bytes {}-{}/{}",
                    r.start,
                    r.end.saturating_sub(1),
                    object.size
                )),
            ),
            None => (object.size, None),
        };
        let headers = object.headers.clone();
        Representation {
            content_length: i64::try_from(length).ok(),
            content_range,
            content_type: headers
                .content_type
                .clone()
                .unwrap_or_else(|| DEFAULT_CONTENT_TYPE.to_owned()),
            e_tag: etag(&object.etag),
            last_modified: Timestamp::from(object.last_modified),
            headers,
        }
    }
}

/// The object a GET or HEAD reads, once its preconditions held, and the range it asks for.
async fn readable<S: Store, B: BlobStore, T>(
    ops: &Objects<S, B>,
    req: &S3Request<T>,
    key: &str,
    conditions: [Option<&ETagCondition>; 2],
    dates: [Option<&Timestamp>; 2],
    range: Option<&Range>,
    part_number: Option<i32>,
) -> S3Result<(Arc<ObjectMeta>, Option<std::ops::Range<u64>>)> {
    let object = readable_object_of(ops, req, key).await?;
    let [if_match, if_none_match] = conditions;
    let [if_modified_since, if_unmodified_since] = dates;
    check_preconditions(
        &object,
        if_match,
        if_none_match,
        if_modified_since,
        if_unmodified_since,
    )?;
    let range = match part_number {
        Some(number) => Some(part_range(&object, number)?),
        None => range_of(range, object.size)?,
    };
    Ok((object, range))
}

/// The bytes of part `number` of an object (`?partNumber=N`): a multipart object's part, or
/// the whole of a single-part object as its part 1.
fn part_range(object: &ObjectMeta, number: i32) -> S3Result<std::ops::Range<u64>> {
    let invalid = || {
        errors::custom(
            "InvalidPartNumber",
            416,
            "The requested partnumber is not satisfiable",
        )
    };
    let index = usize::try_from(number)
        .ok()
        .and_then(|n| n.checked_sub(1))
        .ok_or_else(invalid)?;
    let sizes = &object.headers.part_sizes;
    if sizes.is_empty() {
        return (index == 0).then_some(0..object.size).ok_or_else(invalid);
    }
    let size = *sizes.get(index).ok_or_else(invalid)?;
    let start: u64 = sizes[..index].iter().sum();
    Ok(start..start + size)
}

/// `x-amz-mp-parts-count` of a read by part number.
fn parts_count(object: &ObjectMeta, part_number: Option<i32>) -> Option<i32> {
    part_number?;
    i32::try_from(object.headers.part_sizes.len().max(1)).ok()
}

pub async fn get<S: Store, B: BlobStore>(
    ops: &Objects<S, B>,
    req: S3Request<GetObjectInput>,
) -> Out<GetObjectOutput> {
    let input = &req.input;
    let (object, range) = readable(
        ops,
        &req,
        &input.key,
        [input.if_match.as_ref(), input.if_none_match.as_ref()],
        [
            input.if_modified_since.as_ref(),
            input.if_unmodified_since.as_ref(),
        ],
        input.range.as_ref(),
        input.part_number,
    )
    .await?;
    let body = ops
        .blobs
        .read(&object.blob, range.clone())
        .await
        .map_err(|e| errors::internal(&e))?;
    let r = Representation::of(&object, range.as_ref());
    let mut output = GetObjectOutput {
        body: Some(body),
        accept_ranges: Some("bytes".to_owned()),
        content_length: r.content_length,
        content_range: r.content_range,
        content_type: Some(r.content_type),
        expires: expires_of(&r.headers),
        metadata: metadata_of(&r.headers),
        content_encoding: r.headers.content_encoding,
        content_disposition: r.headers.content_disposition,
        content_language: r.headers.content_language,
        cache_control: r.headers.cache_control,
        e_tag: Some(r.e_tag),
        last_modified: Some(r.last_modified),
        server_side_encryption: sse(),
        tag_count: i32::try_from(object.tags.len()).ok().filter(|n| *n > 0),
        parts_count: parts_count(&object, input.part_number),
        ..GetObjectOutput::default()
    };
    if checksum_mode(input.checksum_mode.as_ref())
        && range.is_none()
        && let Some((algorithm, value)) = &object.headers.checksum
    {
        set_checksum!(output, algorithm.as_str(), value.clone());
    }
    Ok(S3Response::new(output))
}

pub async fn head<S: Store, B: BlobStore>(
    ops: &Objects<S, B>,
    req: S3Request<HeadObjectInput>,
) -> Out<HeadObjectOutput> {
    let input = &req.input;
    let (object, range) = readable(
        ops,
        &req,
        &input.key,
        [input.if_match.as_ref(), input.if_none_match.as_ref()],
        [
            input.if_modified_since.as_ref(),
            input.if_unmodified_since.as_ref(),
        ],
        input.range.as_ref(),
        input.part_number,
    )
    .await?;
    let r = Representation::of(&object, range.as_ref());
    let mut output = HeadObjectOutput {
        accept_ranges: Some("bytes".to_owned()),
        content_length: r.content_length,
        content_range: r.content_range,
        content_type: Some(r.content_type),
        expires: expires_of(&r.headers),
        metadata: metadata_of(&r.headers),
        content_encoding: r.headers.content_encoding,
        content_disposition: r.headers.content_disposition,
        content_language: r.headers.content_language,
        cache_control: r.headers.cache_control,
        e_tag: Some(r.e_tag),
        last_modified: Some(r.last_modified),
        server_side_encryption: sse(),
        parts_count: parts_count(&object, input.part_number),
        ..HeadObjectOutput::default()
    };
    if checksum_mode(input.checksum_mode.as_ref())
        && range.is_none()
        && let Some((algorithm, value)) = &object.headers.checksum
    {
        set_checksum!(output, algorithm.as_str(), value.clone());
    }
    Ok(S3Response::new(output))
}

pub async fn delete<S: Store, B: BlobStore>(
    ops: &Objects<S, B>,
    req: S3Request<DeleteObjectInput>,
) -> Out<DeleteObjectOutput> {
    let bucket = bucket_of(&req)?.bucket.name.clone();
    delete_key(ops, &bucket, &req.input.key).await?;
    Ok(S3Response::new(DeleteObjectOutput::default()))
}

async fn delete_key<S: Store, B: BlobStore>(
    ops: &Objects<S, B>,
    bucket: &str,
    key: &str,
) -> S3Result<()> {
    let blob = ops
        .app
        .store()
        .delete_object(bucket, key)
        .await
        .map_err(errors::from_store)?;
    if let Some(blob) = blob {
        ops.blobs.delete(&blob).await;
    }
    Ok(())
}

/// DeleteObjects: each key is authorized (`s3:DeleteObject` on it) and deleted on its own; a
/// key that fails is listed in `Error` and the others go on, as S3 does.
pub async fn delete_many<S: Store, B: BlobStore>(
    ops: &Objects<S, B>,
    req: S3Request<DeleteObjectsInput>,
) -> Out<DeleteObjectsOutput> {
    let authorized: Authorized = authorized(&req)?.clone();
    let view = bucket_of(&req)?.clone();
    let asker = super::asker_of(&authorized)?;
    let objects = &req.input.delete.objects;
    if objects.is_empty() || objects.len() > MAX_DELETE_KEYS {
        return Err(s3_error!(
            MalformedXML,
            "The XML you provided was not well-formed or did not validate against our published schema"
        ));
    }
    let rule = actions::rule_of("DeleteObject")
        .ok_or_else(|| errors::internal(&"no DeleteObject rule"))?;
    let quiet = req.input.delete.quiet.unwrap_or(false);
    let mut deleted = Vec::new();
    let mut failures = Vec::new();
    for object in objects {
        let resource = actions::object_arn(&view.bucket.name, &object.key);
        let outcome = match authorize(
            &ops.app,
            &asker,
            Some(&view),
            rule,
            &resource,
            Conditions::new(),
        )
        .await
        {
            Ok(()) => delete_key(ops, &view.bucket.name, &object.key).await,
            Err(denied) => Err(denied),
        };
        match outcome {
            Ok(()) if !quiet => deleted.push(DeletedObject {
                key: Some(object.key.clone()),
                ..DeletedObject::default()
            }),
            Ok(()) => {}
            Err(error) => failures.push(Error {
                code: Some(error.code().as_str().to_owned()),
                key: Some(object.key.clone()),
                message: error.message().map(str::to_owned),
                version_id: None,
            }),
        }
    }
    Ok(S3Response::new(DeleteObjectsOutput {
        deleted: Some(deleted),
        errors: (!failures.is_empty()).then_some(failures),
        ..DeleteObjectsOutput::default()
    }))
}

pub async fn copy<S: Store, B: BlobStore>(
    ops: &Objects<S, B>,
    req: S3Request<CopyObjectInput>,
) -> Out<CopyObjectOutput> {
    let bucket = bucket_of(&req)?.bucket.name.clone();
    let input = &req.input;
    refuse_acl(input.acl.as_ref(), grants!(input))?;
    let (source_bucket, source_key, source) = copy_source!(ops, input)?;
    let replace_metadata = input
        .metadata_directive
        .as_ref()
        .is_some_and(|d| d.as_str() == MetadataDirective::REPLACE);
    let replace_tags = input
        .tagging_directive
        .as_ref()
        .is_some_and(|d| d.as_str() == TaggingDirective::REPLACE);
    if *source_bucket == *bucket && *source_key == *input.key && !replace_metadata {
        return Err(s3_error!(
            InvalidRequest,
            "This copy request is illegal because it is trying to copy an object to itself \
             without changing the object's metadata, storage class, website redirect location \
             or encryption attributes."
        ));
    }
    let headers = if replace_metadata {
        check_metadata_size(input.metadata.as_ref())?;
        ObjectHeaders {
            // The bytes are the source's, so is their checksum.
            checksum: source.headers.checksum.clone(),
            ..object_headers!(input)
        }
    } else {
        source.headers.clone()
    };
    let tags = if replace_tags {
        tags_of_header(input.tagging.as_deref())?
    } else {
        source.tags.clone()
    };
    let written = ops
        .blobs
        .duplicate(&source.blob)
        .await
        .map_err(|e| errors::internal(&e))?;
    let object = NewObject {
        bucket,
        key: input.key.clone(),
        size: written.size,
        etag: source.etag.clone(),
        blob: written.id.clone(),
        headers,
        tags,
    };
    store_object(ops, object, &written).await?;
    Ok(S3Response::new(CopyObjectOutput {
        copy_object_result: Some(CopyObjectResult {
            e_tag: Some(etag(&source.etag)),
            last_modified: Some(Timestamp::from(OffsetDateTime::now_utc())),
            ..CopyObjectResult::default()
        }),
        server_side_encryption: sse(),
        ..CopyObjectOutput::default()
    }))
}

/// The object a copy reads (`x-amz-copy-source` of CopyObject or UploadPartCopy, whose inputs
/// share these fields), once its `x-amz-copy-source-if-*` conditions held:
/// `(bucket, key, object)`.
macro_rules! copy_source {
    ($ops:expr, $input:expr) => {
        $crate::s3::ops::objects::copy_source_object(
            $ops,
            &$input.copy_source,
            [
                $input.copy_source_if_match.as_ref(),
                $input.copy_source_if_none_match.as_ref(),
            ],
            [
                $input.copy_source_if_modified_since.as_ref(),
                $input.copy_source_if_unmodified_since.as_ref(),
            ],
        )
        .await
    };
}
pub(super) use copy_source;

pub(super) async fn copy_source_object<S: Store, B: BlobStore>(
    ops: &Objects<S, B>,
    source: &CopySource,
    conditions: [Option<&ETagCondition>; 2],
    dates: [Option<&Timestamp>; 2],
) -> S3Result<(String, String, ObjectMeta)> {
    let CopySource::Bucket { bucket, key, .. } = source else {
        return Err(s3_error!(
            NotImplemented,
            "Copying from an access point is not supported"
        ));
    };
    let object = ops
        .app
        .store()
        .object(bucket, key)
        .await
        .map_err(errors::from_store)?;
    check_copy_preconditions(&object, conditions, dates)?;
    Ok((bucket.to_string(), key.to_string(), object))
}

/// `x-amz-copy-source-if-*` (match, none-match, modified-since, unmodified-since): every
/// failed condition is 412 for a copy.
pub(super) fn check_copy_preconditions(
    source: &ObjectMeta,
    conditions: [Option<&ETagCondition>; 2],
    dates: [Option<&Timestamp>; 2],
) -> S3Result<()> {
    let [if_match, if_none_match] = conditions;
    let [if_modified_since, if_unmodified_since] = dates;
    match check_preconditions(
        source,
        if_match,
        if_none_match,
        if_modified_since,
        if_unmodified_since,
    ) {
        Err(e) if *e.code() == S3ErrorCode::NotModified => Err(precondition_failed()),
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use store::ObjectHeaders;
    use time::macros::datetime;

    fn object() -> ObjectMeta {
        ObjectMeta {
            bucket: "b".into(),
            key: "k".into(),
            size: 10,
            etag: "abc".into(),
            last_modified: datetime!(2026-01-02 00:00 UTC),
            blob: "x".into(),
            headers: ObjectHeaders::default(),
            tags: Vec::new(),
        }
    }

    fn tag(value: &str) -> ETagCondition {
        ETagCondition::ETag(ETag::Strong(value.into()))
    }

    fn at(t: OffsetDateTime) -> Timestamp {
        Timestamp::from(t)
    }

    fn code(result: S3Result<()>) -> Option<S3ErrorCode> {
        result.err().map(|e| e.code().clone())
    }

    #[test]
    fn preconditions_follow_rfc_9110_as_s3_applies_them() {
        let o = object();
        let before = at(datetime!(2026-01-01 00:00 UTC));
        let after = at(datetime!(2026-01-03 00:00 UTC));
        type Case = (
            Option<ETagCondition>,
            Option<ETagCondition>,
            Option<Timestamp>,
            Option<Timestamp>,
            Option<S3ErrorCode>,
        );
        let cases: Vec<Case> = vec![
            (None, None, None, None, None),
            (Some(tag("abc")), None, None, None, None),
            (
                Some(tag("zzz")),
                None,
                None,
                None,
                Some(S3ErrorCode::PreconditionFailed),
            ),
            (Some(ETagCondition::Any), None, None, None, None),
            (
                None,
                Some(tag("abc")),
                None,
                None,
                Some(S3ErrorCode::NotModified),
            ),
            (None, Some(tag("zzz")), None, None, None),
            (
                None,
                None,
                Some(after.clone()),
                None,
                Some(S3ErrorCode::NotModified),
            ),
            (None, None, Some(before.clone()), None, None),
            (
                None,
                None,
                None,
                Some(before.clone()),
                Some(S3ErrorCode::PreconditionFailed),
            ),
            (None, None, None, Some(after.clone()), None),
            // If-Match holding wins over a failing If-Unmodified-Since.
            (Some(tag("abc")), None, None, Some(before.clone()), None),
            // If-None-Match failing wins over a holding If-Modified-Since.
            (None, Some(tag("zzz")), Some(after.clone()), None, None),
        ];
        for (if_match, if_none_match, modified_since, unmodified_since, expected) in cases {
            let got = code(check_preconditions(
                &o,
                if_match.as_ref(),
                if_none_match.as_ref(),
                modified_since.as_ref(),
                unmodified_since.as_ref(),
            ));
            assert_eq!(
                got, expected,
                "{if_match:?} {if_none_match:?} {modified_since:?} {unmodified_since:?}"
            );
        }
    }

    #[test]
    fn ranges_outside_the_object_are_refused() {
        let first = Range::Int {
            first: 0,
            last: Some(9),
        };
        assert_eq!(range_of(Some(&first), 100).unwrap(), Some(0..10));
        let suffix = Range::Suffix { length: 5 };
        assert_eq!(range_of(Some(&suffix), 100).unwrap(), Some(95..100));
        let beyond = Range::Int {
            first: 200,
            last: None,
        };
        assert_eq!(
            range_of(Some(&beyond), 100).unwrap_err().code(),
            &S3ErrorCode::InvalidRange
        );
    }

    #[test]
    fn declared_lengths_are_bounded() {
        assert_eq!(declared_length(Some(5), 10).unwrap(), Some(5));
        assert!(declared_length(Some(11), 10).is_err());
        assert!(declared_length(Some(-1), 10).is_err());
        assert_eq!(declared_length(None, 10).unwrap(), None);
    }
}
