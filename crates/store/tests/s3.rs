//! S3 in the store: buckets and their settings, object records, ListObjects paging (checked
//! against a model), and multipart uploads.

mod common;

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicUsize, Ordering};

use common::{ACCOUNT, Backend, OTHER_ACCOUNT};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use store::{
    BucketChange, Conflict, EntityKind, NewObject, NewUpload, ObjectHeaders, ObjectListing,
    ObjectPage, Part, PublicAccessBlock, Store, StoreError, Tag,
};
use time::OffsetDateTime;

const REGION: &str = "us-east-1";

fn assert_not_found(result: Result<impl std::fmt::Debug, StoreError>, kind: EntityKind) {
    match result {
        Err(StoreError::NotFound { kind: got, .. }) => assert_eq!(got, kind),
        other => panic!("expected NotFound {kind:?}, got {other:?}"),
    }
}

fn object(bucket: &str, key: &str, blob: &str) -> NewObject {
    NewObject {
        bucket: bucket.into(),
        key: key.into(),
        size: 5,
        etag: "5d41402abc4b2a76b9719d911017c592".into(),
        blob: blob.into(),
        headers: ObjectHeaders::default(),
        tags: Vec::new(),
    }
}

fn upload(bucket: &str, key: &str) -> NewUpload {
    NewUpload {
        bucket: bucket.into(),
        key: key.into(),
        initiator_account: ACCOUNT.into(),
        initiator_arn: format!("arn:aws:iam::{ACCOUNT}:user/alice"),
        headers: ObjectHeaders {
            content_type: Some("text/plain".into()),
            ..ObjectHeaders::default()
        },
        tags: vec![Tag::new("k", "v")],
    }
}

fn part(part_number: u32, blob: &str) -> Part {
    Part {
        part_number,
        size: 5 * 1024 * 1024,
        etag: "0123456789abcdef0123456789abcdef".into(),
        blob: blob.into(),
        last_modified: OffsetDateTime::from_unix_timestamp(1_700_000_000).unwrap(),
    }
}

/// A store with [`ACCOUNT`]'s bucket `b` holding `keys` (each key's blob is `blob-KEY`).
async fn bucket_with<B: Backend>(keys: &[&str]) -> (B::Data, B::Store) {
    let (dir, store) = B::fresh().await;
    store.create_bucket(ACCOUNT, "b", REGION).await.unwrap();
    for key in keys {
        let blob = format!("blob-{key}");
        store.put_object(object("b", key, &blob)).await.unwrap();
    }
    (dir, store)
}

async fn list<S: Store>(
    store: &S,
    prefix: &str,
    delimiter: Option<&str>,
    after: Option<&str>,
    max_keys: usize,
) -> ObjectPage {
    let listing = ObjectListing {
        prefix: prefix.into(),
        delimiter: delimiter.map(Into::into),
        after: after.map(Into::into),
        max_keys,
    };
    store.list_objects("b", &listing).await.unwrap()
}

fn keys(page: &ObjectPage) -> Vec<&str> {
    page.objects.iter().map(|o| o.key.as_str()).collect()
}

async fn bucket_names_are_global_and_new_buckets_block_public_access<B: Backend>() {
    let (_dir, store) = B::fresh().await;
    store.create_account(OTHER_ACCOUNT).await.unwrap();
    let created = store.create_bucket(ACCOUNT, "logs", REGION).await.unwrap();
    assert_eq!(created.public_access_block, Some(PublicAccessBlock::ALL_ON));
    assert_eq!((created.policy.as_deref(), created.tags.len()), (None, 0));
    assert_eq!(store.bucket("logs").await.unwrap(), created);
    for account in [ACCOUNT, OTHER_ACCOUNT] {
        let err = store.create_bucket(account, "logs", "eu-west-1").await;
        assert!(
            matches!(
                err,
                Err(StoreError::AlreadyExists {
                    kind: EntityKind::Bucket,
                    ..
                })
            ),
            "{err:?}"
        );
    }
    store
        .create_bucket(ACCOUNT, "assets", REGION)
        .await
        .unwrap();
    store
        .create_bucket(OTHER_ACCOUNT, "theirs", "eu-west-1")
        .await
        .unwrap();
    let names = |buckets: Vec<store::Bucket>| buckets.into_iter().map(|b| b.name).collect();
    let mine: Vec<String> = names(store.buckets(ACCOUNT).await.unwrap());
    assert_eq!(mine, ["assets", "logs"]);
    let theirs = store.bucket("theirs").await.unwrap();
    assert_eq!(
        (theirs.account_id.as_str(), theirs.region.as_str()),
        (OTHER_ACCOUNT, "eu-west-1")
    );
    assert_not_found(store.bucket("nope").await, EntityKind::Bucket);
}

async fn bucket_settings_round_trip<B: Backend>() {
    let (_dir, store) = bucket_with::<B>(&[]).await;
    let policy = r#"{"Version":"2012-10-17","Statement":[]}"#;
    let updated = store
        .update_bucket("b", BucketChange::Policy(Some(policy.into())))
        .await
        .unwrap();
    assert_eq!(updated.policy.as_deref(), Some(policy));
    let block = PublicAccessBlock {
        block_public_acls: true,
        ignore_public_acls: false,
        block_public_policy: false,
        restrict_public_buckets: true,
    };
    store
        .update_bucket("b", BucketChange::PublicAccessBlock(Some(block)))
        .await
        .unwrap();
    let tags = vec![Tag::new("z", "1"), Tag::new("a", "2")];
    let updated = store
        .update_bucket("b", BucketChange::Tags(tags.clone()))
        .await
        .unwrap();
    assert_eq!(
        (updated.public_access_block, &updated.tags),
        (Some(block), &tags),
        "each change keeps the others; tags keep their order"
    );
    assert_eq!(store.bucket("b").await.unwrap(), updated);

    store
        .update_bucket("b", BucketChange::Policy(None))
        .await
        .unwrap();
    let cleared = store
        .update_bucket("b", BucketChange::PublicAccessBlock(None))
        .await
        .unwrap();
    assert_eq!((cleared.policy, cleared.public_access_block), (None, None));
    assert_eq!(store.bucket("b").await.unwrap().public_access_block, None);
    assert_not_found(
        store
            .update_bucket("nope", BucketChange::Tags(Vec::new()))
            .await,
        EntityKind::Bucket,
    );
}

async fn a_bucket_holding_an_object_cannot_be_deleted<B: Backend>() {
    let (_dir, store) = bucket_with::<B>(&["k"]).await;
    let err = store.delete_bucket("b").await;
    assert!(
        matches!(
            err,
            Err(StoreError::DeleteConflict {
                reason: Conflict::BucketNotEmpty
            })
        ),
        "{err:?}"
    );
    store.delete_object("b", "k").await.unwrap();
    assert_eq!(
        store.delete_bucket("b").await.unwrap(),
        Vec::<String>::new()
    );
    assert_not_found(store.bucket("b").await, EntityKind::Bucket);
    assert_not_found(store.delete_bucket("b").await, EntityKind::Bucket);
    assert!(store.buckets(ACCOUNT).await.unwrap().is_empty());
}

async fn deleting_a_bucket_ends_its_uploads_and_returns_their_part_blobs<B: Backend>() {
    let (_dir, store) = bucket_with::<B>(&[]).await;
    let first = store.create_upload(upload("b", "x")).await.unwrap();
    let second = store.create_upload(upload("b", "y")).await.unwrap();
    store.put_part(&first, part(2, "p1-2")).await.unwrap();
    store.put_part(&first, part(1, "p1-1")).await.unwrap();
    store.put_part(&second, part(1, "p2-1")).await.unwrap();
    let mut blobs = store.delete_bucket("b").await.unwrap();
    blobs.sort();
    assert_eq!(blobs, ["p1-1", "p1-2", "p2-1"]);
    assert_not_found(store.parts(&first).await, EntityKind::Upload);
    // The name is free again, with nothing left of the old bucket.
    store.create_bucket(ACCOUNT, "b", REGION).await.unwrap();
    assert!(store.uploads("b", "", None, 10).await.unwrap().is_empty());
}

async fn objects_are_put_replaced_read_and_deleted<B: Backend>() {
    let (_dir, store) = bucket_with::<B>(&[]).await;
    let before = OffsetDateTime::now_utc() - time::Duration::seconds(1);
    let new = NewObject {
        headers: ObjectHeaders {
            content_type: Some("text/plain".into()),
            content_encoding: Some("gzip".into()),
            content_disposition: Some("attachment".into()),
            content_language: Some("en".into()),
            cache_control: Some("no-cache".into()),
            expires: Some("Thu, 01 Dec 1994 16:00:00 GMT".into()),
            metadata: vec![("z".into(), "1".into()), ("a".into(), "2".into())],
            checksum: Some(("CRC32".into(), "NhCmhg==".into())),
            part_sizes: vec![5, 3],
        },
        tags: vec![Tag::new("t2", "x"), Tag::new("t1", "y")],
        ..object("b", "dir/k", "blob-1")
    };
    assert_eq!(store.put_object(new.clone()).await.unwrap(), None);
    let stored = store.object("b", "dir/k").await.unwrap();
    assert_eq!(
        (
            &stored.bucket,
            &stored.key,
            stored.size,
            &stored.etag,
            &stored.blob
        ),
        (&new.bucket, &new.key, new.size, &new.etag, &new.blob)
    );
    assert_eq!((&stored.headers, &stored.tags), (&new.headers, &new.tags));
    assert!(stored.last_modified > before);

    let replaced = store
        .put_object(object("b", "dir/k", "blob-2"))
        .await
        .unwrap();
    assert_eq!(replaced.as_deref(), Some("blob-1"));
    let stored = store.object("b", "dir/k").await.unwrap();
    assert_eq!(
        (stored.blob.as_str(), &stored.headers, stored.tags.len()),
        ("blob-2", &ObjectHeaders::default(), 0),
        "a put replaces the whole record"
    );

    let tags = vec![Tag::new("b", "1"), Tag::new("a", "2")];
    store
        .set_object_tags("b", "dir/k", tags.clone())
        .await
        .unwrap();
    assert_eq!(store.object("b", "dir/k").await.unwrap().tags, tags);

    assert_eq!(
        store.delete_object("b", "dir/k").await.unwrap().as_deref(),
        Some("blob-2")
    );
    assert_eq!(store.delete_object("b", "dir/k").await.unwrap(), None);
    assert_not_found(store.object("b", "dir/k").await, EntityKind::Object);
    assert_not_found(
        store.set_object_tags("b", "dir/k", Vec::new()).await,
        EntityKind::Object,
    );
}

async fn object_calls_on_a_missing_bucket_say_so<B: Backend>() {
    let (_dir, store) = B::fresh().await;
    assert_not_found(
        store.put_object(object("nope", "k", "blob")).await,
        EntityKind::Bucket,
    );
    assert_not_found(store.object("nope", "k").await, EntityKind::Bucket);
    assert_not_found(store.delete_object("nope", "k").await, EntityKind::Bucket);
    assert_not_found(
        store.set_object_tags("nope", "k", Vec::new()).await,
        EntityKind::Bucket,
    );
    let listing = ObjectListing {
        max_keys: 10,
        ..ObjectListing::default()
    };
    assert_not_found(
        store.list_objects("nope", &listing).await,
        EntityKind::Bucket,
    );
    assert_not_found(
        store.create_upload(upload("nope", "k")).await,
        EntityKind::Bucket,
    );
    assert_not_found(
        store.uploads("nope", "", None, 10).await,
        EntityKind::Bucket,
    );
}

async fn listing_filters_by_prefix_and_rolls_up_at_the_delimiter<B: Backend>() {
    let (_dir, store) = bucket_with::<B>(&[
        "a/1",
        "a/2",
        "a/b/3",
        "a_",
        "a%",
        "ab",
        "b",
        "c/d/e",
        "photos/2024/x.jpg",
    ])
    .await;
    let page = list(&store, "", Some("/"), None, 100).await;
    assert_eq!(keys(&page), ["a%", "a_", "ab", "b"]);
    assert_eq!(page.common_prefixes, ["a/", "c/", "photos/"]);
    assert_eq!(
        (page.truncated, page.last.as_deref()),
        (false, Some("photos/"))
    );

    let page = list(&store, "a/", Some("/"), None, 100).await;
    assert_eq!(keys(&page), ["a/1", "a/2"]);
    assert_eq!(page.common_prefixes, ["a/b/"]);

    // `%` and `_` are plain characters in a prefix.
    let page = list(&store, "a_", None, None, 100).await;
    assert_eq!(keys(&page), ["a_"]);
    let page = list(&store, "a", None, None, 100).await;
    assert_eq!(keys(&page), ["a%", "a/1", "a/2", "a/b/3", "a_", "ab"]);
    let page = list(&store, "A", None, None, 100).await;
    assert!(keys(&page).is_empty(), "prefixes are case-sensitive");

    // A delimiter of several characters, and one that never occurs.
    let page = list(&store, "", Some("/2"), None, 100).await;
    assert_eq!(page.common_prefixes, ["a/2", "photos/2"]);
    let page = list(&store, "", Some("|"), None, 100).await;
    assert_eq!(page.objects.len(), 9);
}

async fn listing_resumes_after_the_marker_even_inside_a_common_prefix<B: Backend>() {
    let (_dir, store) = bucket_with::<B>(&["a/a", "a/b", "a/c", "a/d/e", "b", "c/x"]).await;
    // The marker inside "a/": everything rolled up there is at or before it ("a/" < "a/b").
    let page = list(&store, "", Some("/"), Some("a/b"), 100).await;
    assert_eq!(keys(&page), ["b"]);
    assert_eq!(page.common_prefixes, ["c/"]);
    // The marker is a common prefix the previous page ended with.
    let page = list(&store, "", Some("/"), Some("a/"), 100).await;
    assert_eq!(keys(&page), ["b"]);
    assert_eq!(page.common_prefixes, ["c/"]);
    // Without a delimiter the same marker resumes among the keys.
    let page = list(&store, "", None, Some("a/b"), 100).await;
    assert_eq!(keys(&page), ["a/c", "a/d/e", "b", "c/x"]);
    // Inside a prefix's listing, the nested common prefix after the marker still appears.
    let page = list(&store, "a/", Some("/"), Some("a/b"), 100).await;
    assert_eq!(keys(&page), ["a/c"]);
    assert_eq!(page.common_prefixes, ["a/d/"]);
    // A marker before the prefix changes nothing; one past it leaves nothing.
    let page = list(&store, "a/", None, Some("0"), 100).await;
    assert_eq!(page.objects.len(), 4);
    let page = list(&store, "a/", None, Some("b"), 100).await;
    assert_eq!(
        (page.objects.len(), page.truncated, page.last),
        (0, false, None)
    );
}

async fn listing_pages_hold_max_keys_entries_and_say_when_more_follow<B: Backend>() {
    let (_dir, store) = bucket_with::<B>(&["a/1", "a/2", "b", "c/1", "d"]).await;
    let first = list(&store, "", Some("/"), None, 2).await;
    assert_eq!(
        (keys(&first), first.common_prefixes.clone()),
        (vec!["b"], vec!["a/".into()])
    );
    assert_eq!((first.truncated, first.last.as_deref()), (true, Some("b")));
    let second = list(&store, "", Some("/"), first.last.as_deref(), 2).await;
    assert_eq!(
        (keys(&second), second.common_prefixes.clone()),
        (vec!["d"], vec!["c/".into()])
    );
    assert_eq!(
        (second.truncated, second.last.as_deref()),
        (false, Some("d")),
        "a page that ends exactly at the last entry is not truncated"
    );
    let exact = list(&store, "", None, None, 5).await;
    assert_eq!((exact.objects.len(), exact.truncated), (5, false));
    let short = list(&store, "", None, None, 4).await;
    assert_eq!((short.objects.len(), short.truncated), (4, true));
    // A page ending on a common prefix reports it as the marker.
    let page = list(&store, "", Some("/"), None, 1).await;
    assert_eq!(
        (page.common_prefixes, page.truncated, page.last.as_deref()),
        (vec!["a/".into()], true, Some("a/"))
    );

    let empty = list(&store, "", Some("/"), None, 0).await;
    assert_eq!(
        empty,
        ObjectPage::default(),
        "0 keys: empty and not truncated"
    );
}

async fn keys_list_in_utf8_byte_order<B: Backend>() {
    let keys_in_order = [
        "A",
        "B",
        "Z",
        "a",
        "b",
        "z",
        "é",
        "\u{D7FF}",
        "\u{E000}",
        "\u{FFFF}",
        "😀",
        "\u{10FFFF}",
        "\u{10FFFF}/x",
    ];
    let mut shuffled = keys_in_order.to_vec();
    shuffled.reverse();
    shuffled.swap(0, 5);
    let (_dir, store) = bucket_with::<B>(&shuffled).await;
    let page = list(&store, "", None, None, 100).await;
    assert_eq!(keys(&page), keys_in_order);
    // Paging one key at a time across every multi-byte boundary.
    let mut seen = Vec::new();
    let mut after = None;
    loop {
        let page = list(&store, "", None, after.as_deref(), 1).await;
        seen.extend(page.objects.iter().map(|o| o.key.clone()));
        if !page.truncated {
            break;
        }
        after = page.last;
    }
    assert_eq!(seen, keys_in_order);
    // Prefixes that end in the highest code points still bound their range.
    let page = list(&store, "\u{10FFFF}", None, None, 100).await;
    assert_eq!(keys(&page), ["\u{10FFFF}", "\u{10FFFF}/x"]);
    let page = list(&store, "\u{D7FF}", None, None, 100).await;
    assert_eq!(keys(&page), ["\u{D7FF}"]);
    let page = list(&store, "", Some("/"), None, 100).await;
    assert_eq!(page.common_prefixes, ["\u{10FFFF}/"]);
}

async fn a_multipart_upload_collects_parts_and_completes_once<B: Backend>() {
    let (_dir, store) = bucket_with::<B>(&["big"]).await;
    let id = store.create_upload(upload("b", "big")).await.unwrap();
    assert_eq!(id.len(), 64);
    let started = store.upload("b", "big", &id).await.unwrap();
    assert_eq!(
        (started.initiator_arn.as_str(), &started.tags),
        (
            "arn:aws:iam::123456789012:user/alice",
            &vec![Tag::new("k", "v")]
        )
    );
    assert_not_found(store.upload("b", "other", &id).await, EntityKind::Upload);
    assert_not_found(store.upload("c", "big", &id).await, EntityKind::Upload);
    assert_not_found(store.upload("b", "big", "nope").await, EntityKind::Upload);

    assert_eq!(store.put_part(&id, part(2, "part-2")).await.unwrap(), None);
    assert_eq!(store.put_part(&id, part(1, "part-1a")).await.unwrap(), None);
    let replaced = store.put_part(&id, part(1, "part-1b")).await.unwrap();
    assert_eq!(replaced.as_deref(), Some("part-1a"));
    let parts = store.parts(&id).await.unwrap();
    let numbered: Vec<_> = parts
        .iter()
        .map(|p| (p.part_number, p.blob.as_str()))
        .collect();
    assert_eq!(numbered, [(1, "part-1b"), (2, "part-2")]);
    assert_eq!(parts[0], part(1, "part-1b"));

    let finished = NewObject {
        etag: "0123456789abcdef0123456789abcdef-2".into(),
        headers: started.headers.clone(),
        ..object("b", "big", "assembled")
    };
    let mismatched = NewObject {
        key: "elsewhere".into(),
        ..finished.clone()
    };
    assert!(matches!(
        store.complete_upload(&id, mismatched).await,
        Err(StoreError::InvalidInput(_))
    ));
    let completed = store.complete_upload(&id, finished.clone()).await.unwrap();
    assert_eq!(completed.replaced.as_deref(), Some("blob-big"));
    assert_eq!(completed.parts, ["part-1b", "part-2"]);
    let stored = store.object("b", "big").await.unwrap();
    assert_eq!(
        (stored.blob.as_str(), &stored.headers),
        ("assembled", &started.headers)
    );
    assert_eq!(
        stored.last_modified, started.initiated,
        "dated at initiation, as on S3"
    );

    // Ended: a concurrent complete or abort finds nothing.
    assert_not_found(store.upload("b", "big", &id).await, EntityKind::Upload);
    assert_not_found(store.parts(&id).await, EntityKind::Upload);
    assert_not_found(
        store.put_part(&id, part(3, "late")).await,
        EntityKind::Upload,
    );
    assert_not_found(
        store.complete_upload(&id, finished).await,
        EntityKind::Upload,
    );
    assert_not_found(store.abort_upload(&id).await, EntityKind::Upload);
}

async fn an_aborted_upload_returns_its_part_blobs<B: Backend>() {
    let (_dir, store) = bucket_with::<B>(&[]).await;
    let id = store.create_upload(upload("b", "k")).await.unwrap();
    assert_eq!(
        store
            .abort_upload(&store.create_upload(upload("b", "k")).await.unwrap())
            .await
            .unwrap(),
        Vec::<String>::new()
    );
    store.put_part(&id, part(3, "p3")).await.unwrap();
    store.put_part(&id, part(1, "p1")).await.unwrap();
    assert_eq!(store.abort_upload(&id).await.unwrap(), ["p1", "p3"]);
    assert_not_found(store.upload("b", "k", &id).await, EntityKind::Upload);
    assert_not_found(store.abort_upload(&id).await, EntityKind::Upload);
    assert_not_found(store.object("b", "k").await, EntityKind::Object);
}

async fn uploads_list_by_key_then_initiation_after_the_marker<B: Backend>() {
    let (_dir, store) = bucket_with::<B>(&[]).await;
    for key in ["b", "a", "a", "c/x", "a", "%"] {
        store.create_upload(upload("b", key)).await.unwrap();
    }
    let all = store.uploads("b", "", None, 100).await.unwrap();
    let order: Vec<_> = all
        .iter()
        .map(|u| (u.key.clone(), u.initiated, u.upload_id.clone()))
        .collect();
    let mut sorted = order.clone();
    sorted.sort();
    assert_eq!(order, sorted);
    let keys: Vec<_> = all.iter().map(|u| u.key.as_str()).collect();
    assert_eq!(keys, ["%", "a", "a", "a", "b", "c/x"]);

    // Following the marker, one at a time, visits every upload once.
    let mut seen = Vec::new();
    let mut after: Option<(String, String)> = None;
    loop {
        let marker = after.as_ref().map(|(k, id)| (k.as_str(), id.as_str()));
        let page = store.uploads("b", "", marker, 1).await.unwrap();
        let Some(last) = page.last() else { break };
        after = Some((last.key.clone(), last.upload_id.clone()));
        seen.extend(page);
    }
    assert_eq!(seen, all);

    // A key marker alone, or one naming an ended upload, resumes at the next key.
    let page = store.uploads("b", "", Some(("a", "")), 100).await.unwrap();
    assert_eq!(page, all[4..]);
    store.abort_upload(&all[2].upload_id).await.unwrap();
    let marker = Some(("a", all[2].upload_id.as_str()));
    assert_eq!(store.uploads("b", "", marker, 100).await.unwrap(), all[4..]);

    let page = store.uploads("b", "a", None, 100).await.unwrap();
    assert_eq!(page, [all[1].clone(), all[3].clone()]);
    let page = store.uploads("b", "c/", None, 100).await.unwrap();
    assert_eq!(page, all[5..]);
    assert_eq!(store.uploads("b", "", None, 2).await.unwrap(), all[..2]);
    assert!(store.uploads("b", "", None, 0).await.unwrap().is_empty());
}

async fn bucket_writes_move_the_bucket_counter_and_object_writes_the_object_counter<B: Backend>() {
    let (_dir, store) = B::fresh().await;
    let moved = |before: store::Changes, after: store::Changes| {
        (
            after.buckets - before.buckets,
            after.objects - before.objects,
            after.iam - before.iam,
            after.any - before.any,
        )
    };

    let before = store.changes();
    store.create_bucket(ACCOUNT, "b", REGION).await.unwrap();
    assert_eq!(
        moved(before, store.changes()),
        (1, 0, 0, 1),
        "create_bucket"
    );
    let before = store.changes();
    store
        .update_bucket("b", BucketChange::Policy(Some("{}".into())))
        .await
        .unwrap();
    assert_eq!(
        moved(before, store.changes()),
        (1, 0, 0, 1),
        "update_bucket"
    );

    let before = store.changes();
    store.put_object(object("b", "k", "blob")).await.unwrap();
    assert_eq!(moved(before, store.changes()), (0, 1, 0, 1), "put_object");
    let before = store.changes();
    store.set_object_tags("b", "k", Vec::new()).await.unwrap();
    store.delete_object("b", "k").await.unwrap();
    assert_eq!(
        moved(before, store.changes()),
        (0, 2, 0, 2),
        "tags, delete_object"
    );
    let before = store.changes();
    let id = store.create_upload(upload("b", "k")).await.unwrap();
    store.put_part(&id, part(1, "p")).await.unwrap();
    store.abort_upload(&id).await.unwrap();
    assert_eq!(
        moved(before, store.changes()),
        (0, 3, 0, 3),
        "an upload's writes"
    );

    let before = store.changes();
    store.object("b", "nope").await.unwrap_err();
    store.bucket("b").await.unwrap();
    assert_eq!(moved(before, store.changes()), (0, 0, 0, 0), "reads");
    let before = store.changes();
    store.delete_bucket("b").await.unwrap();
    assert_eq!(
        moved(before, store.changes()),
        (1, 0, 0, 1),
        "delete_bucket"
    );
}

// ---- ListObjects paging against a model ----------------------------------------------------

/// Keys are built of these pieces: delimiters, case, multi-byte and highest code points, and
/// the characters `LIKE` would treat specially.
const PIECES: &[&str] = &["a", "b", "A", "/", "é", "\u{10FFFF}", "%", "_", "ab/"];

fn piece_string(pieces: std::ops::Range<usize>) -> impl Strategy<Value = String> {
    prop::collection::vec(prop::sample::select(PIECES), pieces).prop_map(|p| p.concat())
}

#[derive(Debug, Clone)]
struct ListingCase {
    keys: BTreeSet<String>,
    prefix: String,
    delimited: bool,
    /// Where the first page starts (a client's own StartAfter).
    start_after: Option<String>,
    page_sizes: Vec<usize>,
}

fn listing_case() -> impl Strategy<Value = ListingCase> {
    (
        prop::collection::btree_set(piece_string(1..5), 0..30),
        piece_string(0..3),
        any::<bool>(),
        prop::option::weighted(0.3, piece_string(1..4)),
        prop::collection::vec(1usize..6, 1..4),
    )
        .prop_map(
            |(keys, prefix, delimited, start_after, page_sizes)| ListingCase {
                keys,
                prefix,
                delimited,
                start_after,
                page_sizes,
            },
        )
}

/// A key or a common prefix, as a listing returns them.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Entry {
    Key(String),
    Prefix(String),
}

impl Entry {
    fn name(&self) -> &str {
        match self {
            Entry::Key(name) | Entry::Prefix(name) => name,
        }
    }
}

/// The whole listing, simply: keys in byte order (a `BTreeSet<String>`'s order), those with
/// the prefix, rolled up at the delimiter, each entry once, after the marker.
fn model(case: &ListingCase) -> Vec<Entry> {
    let mut entries: Vec<Entry> = Vec::new();
    for key in case.keys.iter().filter(|k| k.starts_with(&case.prefix)) {
        let rest = &key[case.prefix.len()..];
        let entry = match rest.find('/').filter(|_| case.delimited) {
            Some(at) => Entry::Prefix(key[..case.prefix.len() + at + 1].to_owned()),
            None => Entry::Key(key.clone()),
        };
        if entries.last() != Some(&entry) {
            entries.push(entry);
        }
    }
    let after = case.start_after.as_deref();
    entries.retain(|e| after.is_none_or(|after| e.name() > after));
    entries
}

/// The page's entries in order: its keys and common prefixes merged.
fn entries(page: &ObjectPage) -> Vec<Entry> {
    let mut entries: Vec<Entry> = page
        .objects
        .iter()
        .map(|o| Entry::Key(o.key.clone()))
        .chain(page.common_prefixes.iter().cloned().map(Entry::Prefix))
        .collect();
    entries.sort_by(|a, b| a.name().cmp(b.name()));
    entries
}

/// Lists the case's bucket page by page, marker to marker, checking each page's promises.
async fn list_every_page<S: Store>(
    store: &S,
    bucket: &str,
    case: &ListingCase,
    most_pages: usize,
) -> Result<Vec<Entry>, TestCaseError> {
    let mut listed = Vec::new();
    let mut after = case.start_after.clone();
    for page_index in 0..most_pages {
        let max_keys = case.page_sizes[page_index % case.page_sizes.len()];
        let listing = ObjectListing {
            prefix: case.prefix.clone(),
            delimiter: case.delimited.then(|| "/".to_owned()),
            after: after.clone(),
            max_keys,
        };
        let page = store
            .list_objects(bucket, &listing)
            .await
            .map_err(|e| TestCaseError::fail(e.to_string()))?;
        let got = entries(&page);
        prop_assert!(got.len() <= max_keys);
        prop_assert_eq!(page.last.as_deref(), got.last().map(Entry::name));
        listed.extend(got);
        if !page.truncated {
            return Ok(listed);
        }
        prop_assert_eq!(page.objects.len() + page.common_prefixes.len(), max_keys);
        after = page.last;
    }
    Err(TestCaseError::fail("the listing never ended"))
}

/// Runs on a multi-threaded runtime: proptest's runner is synchronous, so each case blocks in
/// place on the case's runtime, which holds the store's connections.
async fn paging_marker_to_marker_lists_what_the_model_does<B: Backend>() {
    let (_dir, store) = B::fresh().await;
    let runtime = tokio::runtime::Handle::current();
    let buckets = AtomicUsize::new(0);
    let config = Config {
        cases: 128,
        failure_persistence: None,
        ..Config::default()
    };
    let mut runner = TestRunner::new(config);
    tokio::task::block_in_place(|| {
        let result = runner.run(&listing_case(), |case| {
            runtime.block_on(async {
                let bucket = format!("case-{}", buckets.fetch_add(1, Ordering::Relaxed));
                store.create_bucket(ACCOUNT, &bucket, REGION).await.unwrap();
                for key in &case.keys {
                    store.put_object(object(&bucket, key, key)).await.unwrap();
                }
                let expected = model(&case);
                let listed = list_every_page(&store, &bucket, &case, expected.len() + 2).await?;
                prop_assert_eq!(listed, expected);
                Ok(())
            })
        });
        if let Err(failure) = result {
            panic!("{failure}");
        }
    });
}

contract_tests! {
    bucket_names_are_global_and_new_buckets_block_public_access,
    bucket_settings_round_trip,
    a_bucket_holding_an_object_cannot_be_deleted,
    deleting_a_bucket_ends_its_uploads_and_returns_their_part_blobs,
    objects_are_put_replaced_read_and_deleted,
    object_calls_on_a_missing_bucket_say_so,
    listing_filters_by_prefix_and_rolls_up_at_the_delimiter,
    listing_resumes_after_the_marker_even_inside_a_common_prefix,
    listing_pages_hold_max_keys_entries_and_say_when_more_follow,
    keys_list_in_utf8_byte_order,
    a_multipart_upload_collects_parts_and_completes_once,
    an_aborted_upload_returns_its_part_blobs,
    uploads_list_by_key_then_initiation_after_the_marker,
    bucket_writes_move_the_bucket_counter_and_object_writes_the_object_counter,
    paging_marker_to_marker_lists_what_the_model_does(flavor = "multi_thread", worker_threads = 2),
}
