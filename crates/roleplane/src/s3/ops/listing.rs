//! ListObjects and ListObjectsV2: one page of a bucket's keys in UTF-8 byte order, with
//! prefixes rolled up at the delimiter. V2's continuation token is the last key or prefix of
//! the previous page, base64-encoded (opaque to clients, as S3's is;
//! `protocol::markers::list_objects`).

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use protocol::markers::list_objects;
use s3s::dto::*;
use s3s::{S3Request, S3Response, S3Result, s3_error};
use store::{ObjectListing, ObjectPage, Store};

use super::headers::{etag, owner};
use super::{Objects, Out, bucket_of};
use crate::s3::blobs::BlobStore;
use crate::s3::errors;

/// Keys per page, at most (and by default).
const MAX_KEYS: i32 = 1000;

/// `encoding-type=url`: every byte but the unreserved ones and `/` is percent-encoded (the
/// AWS CLI asks for it and decodes with `unquote_plus`, so `+` must be encoded too).
const URL_ENCODED: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~')
    .remove(b'/');

struct Encoding(bool);

impl Encoding {
    fn of(encoding_type: Option<&EncodingType>) -> S3Result<Encoding> {
        match encoding_type.map(EncodingType::as_str) {
            None => Ok(Encoding(false)),
            Some(EncodingType::URL) => Ok(Encoding(true)),
            Some(_) => Err(s3_error!(
                InvalidArgument,
                "Invalid Encoding Method specified in Request"
            )),
        }
    }

    fn apply(&self, text: &str) -> String {
        match self.0 {
            true => utf8_percent_encode(text, URL_ENCODED).to_string(),
            false => text.to_owned(),
        }
    }
}

fn max_keys_of(requested: Option<i32>) -> S3Result<i32> {
    match requested {
        None => Ok(MAX_KEYS),
        Some(n) if n < 0 => Err(s3_error!(
            InvalidArgument,
            "Argument maxKeys must be an integer between 0 and 2147483647"
        )),
        Some(n) => Ok(n.min(MAX_KEYS)),
    }
}

async fn page<S: Store, B: BlobStore>(
    ops: &Objects<S, B>,
    bucket: &str,
    prefix: &str,
    delimiter: Option<&str>,
    after: Option<String>,
    max_keys: i32,
) -> S3Result<ObjectPage> {
    let listing = ObjectListing {
        prefix: prefix.to_owned(),
        delimiter: delimiter.filter(|d| !d.is_empty()).map(str::to_owned),
        after,
        max_keys: usize::try_from(max_keys).unwrap_or(0),
    };
    ops.app
        .store()
        .list_objects(bucket, &listing)
        .await
        .map_err(errors::from_store)
}

fn contents(page: &ObjectPage, encoding: &Encoding, with_owner: Option<&str>) -> Vec<Object> {
    page.objects
        .iter()
        .map(|object| Object {
            e_tag: Some(etag(&object.etag)),
            key: Some(encoding.apply(&object.key)),
            last_modified: Some(Timestamp::from(object.last_modified)),
            owner: with_owner.map(owner),
            size: i64::try_from(object.size).ok(),
            storage_class: Some(ObjectStorageClass::from_static(
                ObjectStorageClass::STANDARD,
            )),
            ..Object::default()
        })
        .collect()
}

fn common_prefixes(page: &ObjectPage, encoding: &Encoding) -> Vec<CommonPrefix> {
    page.common_prefixes
        .iter()
        .map(|prefix| CommonPrefix {
            prefix: Some(encoding.apply(prefix)),
        })
        .collect()
}

pub async fn list_v2<S: Store, B: BlobStore>(
    ops: &Objects<S, B>,
    req: S3Request<ListObjectsV2Input>,
) -> Out<ListObjectsV2Output> {
    let view = bucket_of(&req)?;
    let input = &req.input;
    let encoding = Encoding::of(input.encoding_type.as_ref())?;
    let max_keys = max_keys_of(input.max_keys)?;
    let after = match &input.continuation_token {
        Some(token) => Some(decode_token(token)?),
        None => input.start_after.clone().filter(|s| !s.is_empty()),
    };
    let prefix = input.prefix.clone().unwrap_or_default();
    let page = page(
        ops,
        &view.bucket.name,
        &prefix,
        input.delimiter.as_deref(),
        after,
        max_keys,
    )
    .await?;
    let fetch_owner = input
        .fetch_owner
        .unwrap_or(false)
        .then_some(view.bucket.account_id.as_str());
    let key_count = page.objects.len() + page.common_prefixes.len();
    Ok(S3Response::new(ListObjectsV2Output {
        name: Some(view.bucket.name.clone()),
        prefix: Some(encoding.apply(&prefix)),
        delimiter: input.delimiter.as_deref().map(|d| encoding.apply(d)),
        max_keys: Some(max_keys),
        key_count: i32::try_from(key_count).ok(),
        continuation_token: input.continuation_token.clone(),
        start_after: input.start_after.as_deref().map(|s| encoding.apply(s)),
        is_truncated: Some(page.truncated),
        next_continuation_token: page
            .truncated
            .then(|| page.last.as_deref().map(list_objects::encode))
            .flatten(),
        contents: Some(contents(&page, &encoding, fetch_owner)),
        common_prefixes: Some(common_prefixes(&page, &encoding)),
        encoding_type: input.encoding_type.clone(),
        ..ListObjectsV2Output::default()
    }))
}

pub async fn list_v1<S: Store, B: BlobStore>(
    ops: &Objects<S, B>,
    req: S3Request<ListObjectsInput>,
) -> Out<ListObjectsOutput> {
    let view = bucket_of(&req)?;
    let input = &req.input;
    let encoding = Encoding::of(input.encoding_type.as_ref())?;
    let max_keys = max_keys_of(input.max_keys)?;
    let prefix = input.prefix.clone().unwrap_or_default();
    let marker = input.marker.clone().filter(|m| !m.is_empty());
    let page = page(
        ops,
        &view.bucket.name,
        &prefix,
        input.delimiter.as_deref(),
        marker,
        max_keys,
    )
    .await?;
    // S3 gives NextMarker only with a delimiter; without one, clients take the last key.
    let next_marker = (page.truncated && input.delimiter.is_some())
        .then(|| page.last.as_deref().map(|m| encoding.apply(m)))
        .flatten();
    Ok(S3Response::new(ListObjectsOutput {
        name: Some(view.bucket.name.clone()),
        prefix: Some(encoding.apply(&prefix)),
        marker: Some(encoding.apply(input.marker.as_deref().unwrap_or_default())),
        delimiter: input.delimiter.as_deref().map(|d| encoding.apply(d)),
        max_keys: Some(max_keys),
        is_truncated: Some(page.truncated),
        next_marker,
        contents: Some(contents(&page, &encoding, Some(&view.bucket.account_id))),
        common_prefixes: Some(common_prefixes(&page, &encoding)),
        encoding_type: input.encoding_type.clone(),
        ..ListObjectsOutput::default()
    }))
}

/// The place a continuation token names (`protocol::markers::list_objects`), or S3's refusal.
fn decode_token(token: &str) -> S3Result<String> {
    list_objects::decode(token).ok_or_else(|| {
        s3_error!(
            InvalidArgument,
            "The continuation token provided is incorrect"
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_forged_continuation_token_is_s3s_invalid_argument() {
        assert_eq!(decode_token(&list_objects::encode("a/b")).unwrap(), "a/b");
        assert!(decode_token("bm90LWEtdG9rZW4=").is_err());
    }

    #[test]
    fn url_encoding_keeps_slashes_and_encodes_plus_and_spaces() {
        let encoding = Encoding(true);
        assert_eq!(encoding.apply("a b+c/é~"), "a%20b%2Bc/%C3%A9~");
        assert_eq!(Encoding(false).apply("a b"), "a b");
    }

    #[test]
    fn max_keys_are_capped_at_1000() {
        assert_eq!(max_keys_of(None).unwrap(), 1000);
        assert_eq!(max_keys_of(Some(5000)).unwrap(), 1000);
        assert_eq!(max_keys_of(Some(0)).unwrap(), 0);
        assert!(max_keys_of(Some(-1)).is_err());
    }
}
