//! Multipart uploads: parts stream into blobs of their own; completion joins the chosen parts
//! into the object's blob and drops every part's.

use s3s::dto::*;
use s3s::{S3Request, S3Response, S3Result, s3_error};
use store::{NewObject, NewUpload, ObjectHeaders, Part, Store};
use time::OffsetDateTime;

use super::headers::{
    etag, grants, multipart_etag, object_headers, owner, refuse_acl, set_checksum, sse,
    tags_of_header,
};
use super::objects::{check_metadata_size, copy_source, declared_length, receive, settle};
use super::{Objects, Out, authorized, bucket_of};
use crate::s3::blobs::BlobStore;
use crate::s3::blobs::Written;
use crate::s3::errors;

/// S3's limits: part numbers, part sizes (all but the last), parts listed per page.
const MAX_PART_NUMBER: i32 = 10_000;
const MIN_PART_BYTES: u64 = 5 << 20;
const MAX_PART_BYTES: u64 = 5 << 30;
const MAX_PARTS_LISTED: i32 = 1000;
const MAX_UPLOADS_LISTED: i32 = 1000;

pub async fn create<S: Store, B: BlobStore>(
    ops: &Objects<S, B>,
    req: S3Request<CreateMultipartUploadInput>,
) -> Out<CreateMultipartUploadOutput> {
    let bucket = bucket_of(&req)?.bucket.name.clone();
    let initiator = authorized(&req)?.caller.clone();
    let input = &req.input;
    refuse_acl(input.acl.as_ref(), grants!(input))?;
    check_metadata_size(input.metadata.as_ref())?;
    let tags = tags_of_header(input.tagging.as_deref())?;
    let (initiator_account, initiator_arn) = match &initiator {
        Some(caller) => (caller.account_id.clone(), caller.principal.arn().to_owned()),
        None => ("anonymous".to_owned(), "anonymous".to_owned()),
    };
    let upload_id = ops
        .app
        .store()
        .create_upload(NewUpload {
            bucket: bucket.clone(),
            key: input.key.clone(),
            initiator_account,
            initiator_arn,
            headers: object_headers!(input),
            tags,
        })
        .await
        .map_err(errors::from_store)?;
    Ok(S3Response::new(CreateMultipartUploadOutput {
        bucket: Some(bucket),
        key: Some(input.key.clone()),
        upload_id: Some(upload_id),
        server_side_encryption: sse(),
        ..CreateMultipartUploadOutput::default()
    }))
}

fn part_number_of(number: i32) -> S3Result<u32> {
    if !(1..=MAX_PART_NUMBER).contains(&number) {
        return Err(s3_error!(
            InvalidArgument,
            "Part number must be an integer between 1 and 10000, inclusive"
        ));
    }
    u32::try_from(number).map_err(|e| errors::internal(&e))
}

pub async fn upload_part<S: Store, B: BlobStore>(
    ops: &Objects<S, B>,
    req: S3Request<UploadPartInput>,
) -> Out<UploadPartOutput> {
    let bucket = bucket_of(&req)?.bucket.name.clone();
    let mut input = req.input;
    let part_number = part_number_of(input.part_number)?;
    let store = ops.app.store();
    store
        .upload(&bucket, &input.key, &input.upload_id)
        .await
        .map_err(errors::from_store)?;
    let expected = declared_length(input.content_length, MAX_PART_BYTES)?;
    let body = input.body.take().ok_or_else(|| {
        s3_error!(
            MissingContentLength,
            "You must provide the Content-Length HTTP header."
        )
    })?;
    let received = receive(
        ops,
        body,
        expected,
        input.content_md5.as_deref(),
        &req.headers,
        req.trailing_headers.as_ref(),
    )
    .await?;
    record_part(ops, &input.upload_id, part_number, &received.written).await?;
    let mut output = UploadPartOutput {
        e_tag: Some(etag(&received.etag)),
        server_side_encryption: sse(),
        ..UploadPartOutput::default()
    };
    if let Some((algorithm, value)) = received.checksum {
        set_checksum!(output, algorithm.as_str(), value);
    }
    Ok(S3Response::new(output))
}

/// Records a durable part blob under the upload (dropping a part it replaces); the result is
/// the part's ETag. If the upload ended meanwhile, the blob goes.
async fn record_part<S: Store, B: BlobStore>(
    ops: &Objects<S, B>,
    upload_id: &str,
    part_number: u32,
    written: &Written,
) -> S3Result<String> {
    let etag_hex = hex::encode(written.md5.unwrap_or_default());
    let part = Part {
        part_number,
        size: written.size,
        etag: etag_hex.clone(),
        blob: written.id.clone(),
        last_modified: OffsetDateTime::now_utc(),
    };
    let stored = ops.app.store().put_part(upload_id, part).await;
    settle(ops, written, stored).await?;
    Ok(etag_hex)
}

/// UploadPartCopy: a part whose bytes are (a range of) an existing object, which the access
/// check authorized the caller to read.
pub async fn upload_part_copy<S: Store, B: BlobStore>(
    ops: &Objects<S, B>,
    req: S3Request<UploadPartCopyInput>,
) -> Out<UploadPartCopyOutput> {
    let bucket = bucket_of(&req)?.bucket.name.clone();
    let input = &req.input;
    let part_number = part_number_of(input.part_number)?;
    let store = ops.app.store();
    store
        .upload(&bucket, &input.key, &input.upload_id)
        .await
        .map_err(errors::from_store)?;
    let (_, _, source) = copy_source!(ops, input)?;
    let range = copy_range(input.copy_source_range.as_deref(), source.size)?;
    let length = range.as_ref().map_or(source.size, |r| r.end - r.start);
    let bytes = ops
        .blobs
        .read(&source.blob, range)
        .await
        .map_err(|e| errors::internal(&e))?;
    let written = ops
        .blobs
        .write(bytes, Some(length))
        .await
        .map_err(|e| errors::internal(&e))?;
    let etag_hex = record_part(ops, &input.upload_id, part_number, &written).await?;
    Ok(S3Response::new(UploadPartCopyOutput {
        copy_part_result: Some(CopyPartResult {
            e_tag: Some(etag(&etag_hex)),
            last_modified: Some(Timestamp::from(OffsetDateTime::now_utc())),
            ..CopyPartResult::default()
        }),
        server_side_encryption: sse(),
        ..UploadPartCopyOutput::default()
    }))
}

/// `x-amz-copy-source-range: bytes=FIRST-LAST`, within the source.
fn copy_range(header: Option<&str>, size: u64) -> S3Result<Option<std::ops::Range<u64>>> {
    let Some(header) = header else {
        return Ok(None);
    };
    let invalid = || {
        s3_error!(
            InvalidArgument,
            "The x-amz-copy-source-range value must be of the form bytes=first-last where first and last are the zero-based offsets of the first and last bytes to copy"
        )
    };
    let (first, last) = header
        .strip_prefix("bytes=")
        .and_then(|r| r.split_once('-'))
        .ok_or_else(invalid)?;
    let first: u64 = first.parse().map_err(|_| invalid())?;
    let last: u64 = last.parse().map_err(|_| invalid())?;
    if first > last || last >= size {
        return Err(s3_error!(
            InvalidRange,
            "The requested range is not satisfiable"
        ));
    }
    Ok(Some(first..last + 1))
}

/// The parts a completion names, checked as S3 checks them against the uploaded ones: in
/// ascending order, each uploaded with that ETag, all but the last at least 5 MiB.
fn chosen_parts(requested: &[CompletedPart], uploaded: &[Part]) -> S3Result<Vec<Part>> {
    if requested.is_empty() {
        return Err(s3_error!(
            MalformedXML,
            "The XML you provided was not well-formed or did not validate against our published schema"
        ));
    }
    let mut chosen: Vec<Part> = Vec::with_capacity(requested.len());
    for wanted in requested {
        let number = wanted.part_number.unwrap_or(0);
        if chosen
            .last()
            .is_some_and(|previous| i64::from(previous.part_number) >= i64::from(number))
        {
            return Err(s3_error!(
                InvalidPartOrder,
                "The list of parts was not in ascending order. Parts must be ordered by part number."
            ));
        }
        let found = uploaded.iter().find(|part| {
            i64::from(part.part_number) == i64::from(number)
                && wanted
                    .e_tag
                    .as_ref()
                    .is_none_or(|tag| tag.value() == part.etag)
        });
        let Some(part) = found else {
            return Err(s3_error!(
                InvalidPart,
                "One or more of the specified parts could not be found.  The part may not have been uploaded, or the specified entity tag may not match the part's entity tag."
            ));
        };
        chosen.push(part.clone());
    }
    if chosen[..chosen.len() - 1]
        .iter()
        .any(|part| part.size < MIN_PART_BYTES)
    {
        return Err(s3_error!(
            EntityTooSmall,
            "Your proposed upload is smaller than the minimum allowed object size."
        ));
    }
    Ok(chosen)
}

pub async fn complete<S: Store, B: BlobStore>(
    ops: &Objects<S, B>,
    req: S3Request<CompleteMultipartUploadInput>,
) -> Out<CompleteMultipartUploadOutput> {
    let bucket = bucket_of(&req)?.bucket.name.clone();
    let input = &req.input;
    let store = ops.app.store();
    let upload = store
        .upload(&bucket, &input.key, &input.upload_id)
        .await
        .map_err(errors::from_store)?;
    let uploaded = store
        .parts(&input.upload_id)
        .await
        .map_err(errors::from_store)?;
    let requested = input
        .multipart_upload
        .as_ref()
        .and_then(|m| m.parts.as_deref())
        .unwrap_or_default();
    let chosen = chosen_parts(requested, &uploaded)?;
    let blobs: Vec<String> = chosen.iter().map(|p| p.blob.clone()).collect();
    let written = ops
        .blobs
        .concat(&blobs)
        .await
        .map_err(|e| errors::internal(&e))?;
    let part_etags: Vec<&str> = chosen.iter().map(|p| p.etag.as_str()).collect();
    let object_etag = multipart_etag(&part_etags);
    let object = NewObject {
        bucket: bucket.clone(),
        key: input.key.clone(),
        size: written.size,
        etag: object_etag.clone(),
        blob: written.id.clone(),
        headers: ObjectHeaders {
            part_sizes: chosen.iter().map(|p| p.size).collect(),
            ..upload.headers
        },
        tags: upload.tags,
    };
    let completed = match store.complete_upload(&input.upload_id, object).await {
        Ok(completed) => completed,
        Err(e) => {
            ops.blobs.delete(&written.id).await;
            return Err(errors::from_store(e));
        }
    };
    for blob in completed.parts.iter().chain(&completed.replaced) {
        ops.blobs.delete(blob).await;
    }
    Ok(S3Response::new(CompleteMultipartUploadOutput {
        bucket: Some(bucket.clone()),
        key: Some(input.key.clone()),
        e_tag: Some(etag(&object_etag)),
        location: Some(format!("/{bucket}/{}", input.key)),
        server_side_encryption: sse(),
        ..CompleteMultipartUploadOutput::default()
    }))
}

pub async fn abort<S: Store, B: BlobStore>(
    ops: &Objects<S, B>,
    req: S3Request<AbortMultipartUploadInput>,
) -> Out<AbortMultipartUploadOutput> {
    let bucket = bucket_of(&req)?.bucket.name.clone();
    let input = &req.input;
    let store = ops.app.store();
    store
        .upload(&bucket, &input.key, &input.upload_id)
        .await
        .map_err(errors::from_store)?;
    let blobs = store
        .abort_upload(&input.upload_id)
        .await
        .map_err(errors::from_store)?;
    for blob in blobs {
        ops.blobs.delete(&blob).await;
    }
    Ok(S3Response::new(AbortMultipartUploadOutput::default()))
}

pub async fn list_parts<S: Store, B: BlobStore>(
    ops: &Objects<S, B>,
    req: S3Request<ListPartsInput>,
) -> Out<ListPartsOutput> {
    let view = bucket_of(&req)?;
    let input = &req.input;
    let store = ops.app.store();
    let upload = store
        .upload(&view.bucket.name, &input.key, &input.upload_id)
        .await
        .map_err(errors::from_store)?;
    let max = input
        .max_parts
        .unwrap_or(MAX_PARTS_LISTED)
        .clamp(0, MAX_PARTS_LISTED);
    let marker = input
        .part_number_marker
        .and_then(|m| u32::try_from(m).ok())
        .unwrap_or(0);
    let all = store
        .parts(&input.upload_id)
        .await
        .map_err(errors::from_store)?;
    let after: Vec<&Part> = all.iter().filter(|p| p.part_number > marker).collect();
    let take = usize::try_from(max).unwrap_or(0);
    let page = &after[..take.min(after.len())];
    let truncated = after.len() > page.len();
    let parts = page
        .iter()
        .map(|part| s3s::dto::Part {
            e_tag: Some(etag(&part.etag)),
            last_modified: Some(Timestamp::from(part.last_modified)),
            part_number: i32::try_from(part.part_number).ok(),
            size: i64::try_from(part.size).ok(),
            ..s3s::dto::Part::default()
        })
        .collect();
    Ok(S3Response::new(ListPartsOutput {
        bucket: Some(view.bucket.name.clone()),
        key: Some(input.key.clone()),
        upload_id: Some(input.upload_id.clone()),
        initiator: Some(Initiator {
            id: Some(upload.initiator_arn.clone()),
            display_name: None,
        }),
        owner: Some(owner(&view.bucket.account_id)),
        max_parts: Some(max),
        part_number_marker: input.part_number_marker,
        next_part_number_marker: page.last().and_then(|p| i32::try_from(p.part_number).ok()),
        is_truncated: Some(truncated),
        parts: Some(parts),
        storage_class: Some(StorageClass::from_static(StorageClass::STANDARD)),
        ..ListPartsOutput::default()
    }))
}

pub async fn list_uploads<S: Store, B: BlobStore>(
    ops: &Objects<S, B>,
    req: S3Request<ListMultipartUploadsInput>,
) -> Out<ListMultipartUploadsOutput> {
    let view = bucket_of(&req)?;
    let input = &req.input;
    let max = input
        .max_uploads
        .unwrap_or(MAX_UPLOADS_LISTED)
        .clamp(0, MAX_UPLOADS_LISTED);
    let take = usize::try_from(max).unwrap_or(0);
    let prefix = input.prefix.clone().unwrap_or_default();
    let delimiter = input.delimiter.as_deref().filter(|d| !d.is_empty());
    let marker = input
        .key_marker
        .clone()
        .map(|key| (key, input.upload_id_marker.clone().unwrap_or_default()));
    let page = uploads_page(ops, &view.bucket.name, &prefix, delimiter, marker, take).await?;
    let listed = page
        .uploads
        .into_iter()
        .map(|upload| MultipartUpload {
            initiated: Some(Timestamp::from(upload.initiated)),
            initiator: Some(Initiator {
                id: Some(upload.initiator_arn),
                display_name: None,
            }),
            key: Some(upload.key),
            owner: Some(owner(&view.bucket.account_id)),
            storage_class: Some(StorageClass::from_static(StorageClass::STANDARD)),
            upload_id: Some(upload.upload_id),
            ..MultipartUpload::default()
        })
        .collect();
    let common_prefixes = page
        .prefixes
        .into_iter()
        .map(|prefix| CommonPrefix {
            prefix: Some(prefix),
        })
        .collect();
    let (next_key, next_id) = match page.next {
        Some((key, id)) => (Some(key), Some(id)),
        None => (None, None),
    };
    let truncated = next_key.is_some();
    Ok(S3Response::new(ListMultipartUploadsOutput {
        bucket: Some(view.bucket.name.clone()),
        prefix: Some(prefix),
        key_marker: input.key_marker.clone(),
        upload_id_marker: input.upload_id_marker.clone(),
        next_key_marker: next_key,
        next_upload_id_marker: next_id,
        max_uploads: Some(max),
        is_truncated: Some(truncated),
        uploads: Some(listed),
        common_prefixes: Some(common_prefixes),
        delimiter: input.delimiter.clone(),
        ..ListMultipartUploadsOutput::default()
    }))
}

/// One page of ListMultipartUploads: uploads, and keys rolled up at the delimiter.
struct UploadsPage {
    uploads: Vec<store::MultipartUpload>,
    prefixes: Vec<String>,
    /// The `(key, upload ID)` marker of the next page, when there is one.
    next: Option<(String, String)>,
}

/// Reads uploads after `marker` in batches until `take` entries (an upload, or a common
/// prefix counted once) are in the page.
async fn uploads_page<S: Store, B: BlobStore>(
    ops: &Objects<S, B>,
    bucket: &str,
    prefix: &str,
    delimiter: Option<&str>,
    mut marker: Option<(String, String)>,
    take: usize,
) -> S3Result<UploadsPage> {
    const BATCH: usize = 1000;
    let mut page = UploadsPage {
        uploads: Vec::new(),
        prefixes: Vec::new(),
        next: None,
    };
    loop {
        let after = marker.as_ref().map(|(k, id)| (k.as_str(), id.as_str()));
        let batch = ops
            .app
            .store()
            .uploads(bucket, prefix, after, BATCH)
            .await
            .map_err(errors::from_store)?;
        let exhausted = batch.len() < BATCH;
        for upload in batch {
            let rolled_up = delimiter.and_then(|d| {
                let rest = upload.key.get(prefix.len()..)?;
                let at = rest.find(d)?;
                Some(upload.key[..prefix.len() + at + d.len()].to_owned())
            });
            if let Some(common) = &rolled_up
                && page.prefixes.last() == Some(common)
            {
                marker = Some((upload.key.clone(), upload.upload_id.clone()));
                continue;
            }
            if page.uploads.len() + page.prefixes.len() == take {
                page.next = marker;
                return Ok(page);
            }
            marker = Some((upload.key.clone(), upload.upload_id.clone()));
            match rolled_up {
                Some(common) => page.prefixes.push(common),
                None => page.uploads.push(upload),
            }
        }
        if exhausted {
            return Ok(page);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn uploaded(number: u32, size: u64) -> Part {
        Part {
            part_number: number,
            size,
            etag: format!("{number:032x}"),
            blob: format!("blob{number}"),
            last_modified: OffsetDateTime::UNIX_EPOCH,
        }
    }

    fn wanted(number: i32) -> CompletedPart {
        CompletedPart {
            part_number: Some(number),
            e_tag: Some(ETag::Strong(format!("{number:032x}"))),
            ..CompletedPart::default()
        }
    }

    fn code(result: S3Result<Vec<Part>>) -> Option<String> {
        result.err().map(|e| e.code().as_str().to_owned())
    }

    #[test]
    fn completions_are_checked_as_s3_checks_them() {
        let big = MIN_PART_BYTES;
        let parts = [uploaded(1, big), uploaded(2, big), uploaded(3, 1)];
        assert_eq!(code(chosen_parts(&[wanted(1), wanted(3)], &parts)), None);
        assert_eq!(
            code(chosen_parts(&[wanted(2), wanted(1)], &parts)).as_deref(),
            Some("InvalidPartOrder")
        );
        assert_eq!(
            code(chosen_parts(&[wanted(1), wanted(4)], &parts)).as_deref(),
            Some("InvalidPart")
        );
        assert_eq!(
            code(chosen_parts(
                &[wanted(3), wanted(4)],
                &[uploaded(3, 1), uploaded(4, 1)]
            ))
            .as_deref(),
            Some("EntityTooSmall")
        );
        assert_eq!(
            code(chosen_parts(&[], &parts)).as_deref(),
            Some("MalformedXML")
        );
        let mut wrong_tag = wanted(1);
        wrong_tag.e_tag = Some(ETag::Strong("ffff".into()));
        assert_eq!(
            code(chosen_parts(&[wrong_tag], &parts)).as_deref(),
            Some("InvalidPart")
        );
    }

    #[test]
    fn copy_ranges_lie_within_the_source() {
        assert_eq!(copy_range(None, 10).unwrap(), None);
        assert_eq!(copy_range(Some("bytes=0-9"), 10).unwrap(), Some(0..10));
        assert!(copy_range(Some("bytes=0-10"), 10).is_err());
        assert!(copy_range(Some("bytes=5-4"), 10).is_err());
        assert!(copy_range(Some("0-4"), 10).is_err());
    }

    #[test]
    fn part_numbers_are_1_to_10000() {
        assert!(part_number_of(0).is_err());
        assert_eq!(part_number_of(1).unwrap(), 1);
        assert_eq!(part_number_of(10_000).unwrap(), 10_000);
        assert!(part_number_of(10_001).is_err());
    }
}
