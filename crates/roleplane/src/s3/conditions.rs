//! The S3 condition keys a request sets, read from its head (the access check runs before any
//! body is read): `s3:prefix`, `s3:delimiter` and `s3:max-keys` of a listing, the
//! `x-amz-*` headers S3 exposes as keys, the tags a write asks for (`s3:RequestObjectTag/…`),
//! how it was signed (`s3:authType`, `s3:signatureversion`). Pure.

use axum::http::{HeaderMap, Uri};
use percent_encoding::percent_decode_str;
use policy::ContextValue;

use crate::request::authz::{Conditions, single};

/// Headers S3 exposes as `s3:NAME` condition keys.
const HEADER_KEYS: &[&str] = &[
    "x-amz-server-side-encryption",
    "x-amz-server-side-encryption-aws-kms-key-id",
    "x-amz-acl",
    "x-amz-content-sha256",
    "x-amz-copy-source",
    "x-amz-metadata-directive",
    "x-amz-storage-class",
    "x-amz-object-ownership",
];

/// Listing parameters S3 exposes as keys (ListObjects, ListObjectsV2).
const LISTING_KEYS: &[(&str, &str)] = &[
    ("prefix", "s3:prefix"),
    ("delimiter", "s3:delimiter"),
    ("max-keys", "s3:max-keys"),
];

/// Operations whose `x-amz-tagging` header tags the object they write.
const TAGGING_WRITES: &[&str] = &["PutObject", "CopyObject", "CreateMultipartUpload"];

/// The keys `operation`'s head sets.
pub fn from_head(operation: &str, uri: &Uri, headers: &HeaderMap) -> Conditions {
    let mut keys = Conditions::new();
    let query = uri.query().unwrap_or("");
    let presigned = query_pairs(query).any(|(name, _)| name == "X-Amz-Signature");
    let sigv2 = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("AWS "));
    keys.push(single(
        "s3:authType",
        if presigned {
            "REST-QUERY-STRING"
        } else {
            "REST-HEADER"
        },
    ));
    keys.push(single(
        "s3:signatureversion",
        if sigv2 { "AWS" } else { "AWS4-HMAC-SHA256" },
    ));
    for name in HEADER_KEYS {
        if let Some(value) = headers.get(*name).and_then(|v| v.to_str().ok()) {
            keys.push(single(&format!("s3:{name}"), value));
        }
    }
    if matches!(operation, "ListObjects" | "ListObjectsV2") {
        for (name, value) in query_pairs(query) {
            if let Some((_, key)) = LISTING_KEYS.iter().find(|(param, _)| *param == name) {
                keys.push(single(key, &value));
            }
        }
    }
    if TAGGING_WRITES.contains(&operation)
        && let Some(tagging) = headers.get("x-amz-tagging").and_then(|v| v.to_str().ok())
    {
        keys.extend(request_object_tags(tagging));
    }
    keys
}

/// `s3:RequestObjectTag/KEY` for each tag of an `x-amz-tagging` value (`k1=v1&k2=v2`) and
/// `s3:RequestObjectTagKeys` for all of them.
pub fn request_object_tags(tagging: &str) -> Conditions {
    let tags: Vec<(String, String)> = query_pairs(tagging).collect();
    let mut keys: Conditions = tags
        .iter()
        .map(|(key, value)| single(&format!("s3:RequestObjectTag/{key}"), value))
        .collect();
    if !tags.is_empty() {
        keys.push((
            "s3:RequestObjectTagKeys".to_owned(),
            ContextValue::Multi(tags.into_iter().map(|(key, _)| key).collect()),
        ));
    }
    keys
}

/// `s3:ExistingObjectTag/KEY` for each tag the object already has.
pub fn existing_object_tags(tags: &[store::Tag]) -> Conditions {
    tags.iter()
        .map(|tag| single(&format!("s3:ExistingObjectTag/{}", tag.key), &tag.value))
        .collect()
}

/// Percent-decoded `name=value` pairs (`+` is a space, as in forms).
fn query_pairs(query: &str) -> impl Iterator<Item = (String, String)> + '_ {
    query.split('&').filter(|p| !p.is_empty()).map(|piece| {
        let (name, value) = piece.split_once('=').unwrap_or((piece, ""));
        (decode(name), decode(value))
    })
}

fn decode(text: &str) -> String {
    percent_decode_str(&text.replace('+', " "))
        .decode_utf8_lossy()
        .into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn value<'a>(keys: &'a Conditions, name: &str) -> Option<&'a ContextValue> {
        keys.iter().find(|(key, _)| key == name).map(|(_, v)| v)
    }

    fn text(s: &str) -> Option<ContextValue> {
        Some(ContextValue::Single(s.to_owned()))
    }

    #[test]
    fn a_listing_sets_its_prefix_delimiter_and_max_keys() {
        let uri: Uri = "/b?list-type=2&prefix=home%2Fann%2F&delimiter=%2F&max-keys=10"
            .parse()
            .unwrap();
        let keys = from_head("ListObjectsV2", &uri, &HeaderMap::new());
        assert_eq!(value(&keys, "s3:prefix").cloned(), text("home/ann/"));
        assert_eq!(value(&keys, "s3:delimiter").cloned(), text("/"));
        assert_eq!(value(&keys, "s3:max-keys").cloned(), text("10"));
        assert_eq!(value(&keys, "s3:authType").cloned(), text("REST-HEADER"));
        let keys = from_head("GetObject", &uri, &HeaderMap::new());
        assert_eq!(value(&keys, "s3:prefix"), None);
    }

    #[test]
    fn a_write_sets_its_requested_tags_and_headers() {
        let mut headers = HeaderMap::new();
        headers.insert("x-amz-tagging", "team=a%20b&env=dev".parse().unwrap());
        headers.insert("x-amz-server-side-encryption", "AES256".parse().unwrap());
        let uri: Uri = "/b/k?X-Amz-Signature=00".parse().unwrap();
        let keys = from_head("PutObject", &uri, &headers);
        assert_eq!(
            value(&keys, "s3:RequestObjectTag/team").cloned(),
            text("a b")
        );
        assert_eq!(
            value(&keys, "s3:RequestObjectTagKeys").cloned(),
            Some(ContextValue::Multi(vec!["team".into(), "env".into()]))
        );
        assert_eq!(
            value(&keys, "s3:x-amz-server-side-encryption").cloned(),
            text("AES256")
        );
        assert_eq!(
            value(&keys, "s3:authType").cloned(),
            text("REST-QUERY-STRING")
        );
        let keys = from_head("GetObject", &uri, &headers);
        assert_eq!(value(&keys, "s3:RequestObjectTag/team"), None);
    }
}
