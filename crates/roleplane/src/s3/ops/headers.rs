//! What every object operation shares: the headers an object keeps, its ETag, its owner,
//! the tag set a request asks for, and the server-side encryption every object reports.

use md5::{Digest, Md5};
use s3s::dto::{
    ETag, Metadata, ObjectCannedACL, Owner, ServerSideEncryption, Timestamp, TimestampFormat,
};
use s3s::{S3Result, s3_error};
use sha2::Sha256;
use store::{ObjectHeaders, Tag};

/// Tags per object, and per bucket (S3's limits).
pub const MAX_OBJECT_TAGS: usize = 10;
pub const MAX_BUCKET_TAGS: usize = 50;
const MAX_TAG_KEY: usize = 128;
const MAX_TAG_VALUE: usize = 256;

/// Every object is encrypted at rest with S3-managed keys, as on AWS since January 2023.
pub fn sse() -> Option<ServerSideEncryption> {
    Some(ServerSideEncryption::from_static(
        ServerSideEncryption::AES256,
    ))
}

/// S3's answer when no `Content-Type` was given.
pub const DEFAULT_CONTENT_TYPE: &str = "binary/octet-stream";

/// The 64-hex canonical user ID S3 shows for an account (owner IDs, grants).
pub fn canonical_id(account: &str) -> String {
    let digest = Sha256::digest(format!("roleplane canonical user {account}").as_bytes());
    hex::encode(digest)
}

pub fn owner(account: &str) -> Owner {
    Owner {
        id: Some(canonical_id(account)),
        ..Owner::default()
    }
}

pub fn etag(value: &str) -> ETag {
    ETag::Strong(value.to_owned())
}

/// The ETag of a multipart object: the MD5 of its parts' binary MD5s, then `-` and their count.
pub fn multipart_etag(part_etags: &[&str]) -> String {
    let mut hasher = Md5::new();
    for etag in part_etags {
        if let Ok(bytes) = hex::decode(etag) {
            hasher.update(&bytes);
        }
    }
    format!("{}-{}", hex::encode(hasher.finalize()), part_etags.len())
}

/// The headers an object is stored with, from a write's input (PutObject, CopyObject with
/// `REPLACE`, CreateMultipartUpload: s3s's types for each, with the same field names).
macro_rules! object_headers {
    ($input:expr) => {
        $crate::s3::ops::headers::stored_headers(
            $input.content_type.as_deref(),
            [
                $input.content_encoding.as_deref(),
                $input.content_disposition.as_deref(),
                $input.content_language.as_deref(),
                $input.cache_control.as_deref(),
            ],
            $input.expires.as_ref(),
            $input.metadata.as_ref(),
        )
    };
}
pub(crate) use object_headers;

/// Whether a write's input grants anything by header (`x-amz-grant-*`), which a
/// `BucketOwnerEnforced` bucket refuses.
macro_rules! grants {
    ($input:expr) => {
        $input.grant_full_control.is_some()
            || $input.grant_read.is_some()
            || $input.grant_read_acp.is_some()
            || $input.grant_write_acp.is_some()
    };
}
pub(crate) use grants;

/// Sets an output's `checksum_ALGORITHM` field (every output S3 returns checksums in has the
/// same five).
macro_rules! set_checksum {
    ($output:expr, $algorithm:expr, $value:expr) => {
        match $algorithm {
            "CRC32" => $output.checksum_crc32 = Some($value),
            "CRC32C" => $output.checksum_crc32c = Some($value),
            "CRC64NVME" => $output.checksum_crc64nvme = Some($value),
            "SHA1" => $output.checksum_sha1 = Some($value),
            "SHA256" => $output.checksum_sha256 = Some($value),
            _ => {}
        }
    };
}
pub(crate) use set_checksum;

/// The headers an object keeps: its content type, then content encoding, disposition,
/// language and cache control, `Expires`, and user metadata (names lowercased, sorted).
pub fn stored_headers(
    content_type: Option<&str>,
    [
        content_encoding,
        content_disposition,
        content_language,
        cache_control,
    ]: [Option<&str>; 4],
    expires: Option<&Timestamp>,
    metadata: Option<&Metadata>,
) -> ObjectHeaders {
    let mut metadata: Vec<(String, String)> = metadata
        .map(|m| {
            m.iter()
                .map(|(k, v)| (k.to_ascii_lowercase(), v.clone()))
                .collect()
        })
        .unwrap_or_default();
    metadata.sort();
    ObjectHeaders {
        content_type: content_type.map(str::to_owned),
        content_encoding: content_encoding.map(str::to_owned),
        content_disposition: content_disposition.map(str::to_owned),
        content_language: content_language.map(str::to_owned),
        cache_control: cache_control.map(str::to_owned),
        expires: expires.and_then(format_http_date),
        metadata,
        checksum: None,
        part_sizes: Vec::new(),
    }
}

pub fn metadata_of(headers: &ObjectHeaders) -> Option<Metadata> {
    (!headers.metadata.is_empty()).then(|| headers.metadata.iter().cloned().collect())
}

pub fn expires_of(headers: &ObjectHeaders) -> Option<Timestamp> {
    let text = headers.expires.as_deref()?;
    Timestamp::parse(TimestampFormat::HttpDate, text).ok()
}

fn format_http_date(timestamp: &Timestamp) -> Option<String> {
    let mut out = Vec::new();
    timestamp.format(TimestampFormat::HttpDate, &mut out).ok()?;
    String::from_utf8(out).ok()
}

/// A bucket whose ownership is `BucketOwnerEnforced` takes only the ACLs that grant the owner
/// everything (S3's rule since April 2023).
pub fn refuse_acl(acl: Option<&ObjectCannedACL>, grants: bool) -> S3Result<()> {
    let allowed = acl.is_none_or(|acl| {
        matches!(
            acl.as_str(),
            ObjectCannedACL::PRIVATE | ObjectCannedACL::BUCKET_OWNER_FULL_CONTROL
        )
    });
    if allowed && !grants {
        return Ok(());
    }
    Err(s3_error!(
        AccessControlListNotSupported,
        "The bucket does not allow ACLs"
    ))
}

/// The `x-amz-tagging` header (`k1=v1&k2=v2`, URL-encoded).
pub fn tags_of_header(header: Option<&str>) -> S3Result<Vec<Tag>> {
    let Some(header) = header.filter(|h| !h.is_empty()) else {
        return Ok(Vec::new());
    };
    let tags = form_urlencoded::parse(header.as_bytes())
        .map(|(k, v)| Tag::new(k.into_owned(), v.into_owned()))
        .collect();
    check_tags(tags, MAX_OBJECT_TAGS)
}

/// A tag set as S3 checks it: at most `max` tags, unique keys, S3's lengths.
pub fn check_tags(tags: Vec<Tag>, max: usize) -> S3Result<Vec<Tag>> {
    if tags.len() > max {
        let message = format!("Object tags cannot be greater than {max}");
        return Err(crate::s3::errors::custom("BadRequest", 400, &message));
    }
    for (i, tag) in tags.iter().enumerate() {
        if tag.key.is_empty() || tag.key.chars().count() > MAX_TAG_KEY {
            return Err(s3_error!(
                InvalidTag,
                "The TagKey you have provided is invalid"
            ));
        }
        if tag.value.chars().count() > MAX_TAG_VALUE {
            return Err(s3_error!(
                InvalidTag,
                "The TagValue you have provided is invalid"
            ));
        }
        if tags[..i].iter().any(|other| other.key == tag.key) {
            return Err(s3_error!(
                InvalidTag,
                "Cannot provide multiple Tags with the same key"
            ));
        }
    }
    Ok(tags)
}

pub fn to_dto_tags(tags: &[Tag]) -> Vec<s3s::dto::Tag> {
    tags.iter()
        .map(|t| s3s::dto::Tag {
            key: Some(t.key.clone()),
            value: Some(t.value.clone()),
        })
        .collect()
}

pub fn from_dto_tags(tags: Vec<s3s::dto::Tag>) -> Vec<Tag> {
    tags.into_iter()
        .map(|t| Tag::new(t.key.unwrap_or_default(), t.value.unwrap_or_default()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_multipart_etag_hashes_the_parts_md5s() {
        // Two parts "a" and "b": md5(md5("a") ‖ md5("b")) with "-2".
        let a = "0cc175b9c0f1b6a831c399e269772661";
        let b = "92eb5ffee6ae2fec3ad71c777531578f";
        let etag = multipart_etag(&[a, b]);
        assert!(etag.ends_with("-2"));
        assert_eq!(etag.len(), 34);
    }

    #[test]
    fn tag_headers_are_parsed_and_checked() {
        let tags = tags_of_header(Some("a=1&b=x%20y")).unwrap();
        assert_eq!(tags, vec![Tag::new("a", "1"), Tag::new("b", "x y")]);
        assert!(tags_of_header(Some("a=1&a=2")).is_err());
        let many: Vec<String> = (0..11).map(|i| format!("k{i}=v")).collect();
        assert!(tags_of_header(Some(&many.join("&"))).is_err());
        assert_eq!(tags_of_header(None).unwrap(), vec![]);
    }

    #[test]
    fn canonical_ids_are_64_hex_and_per_account() {
        let id = canonical_id("123456789012");
        assert_eq!(id.len(), 64);
        assert_ne!(id, canonical_id("210987654321"));
    }
}
