use std::io;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use futures_core::Stream;
use md5::{Digest as _, Md5};
use s3s::dto::StreamingBlob;
use s3s::stream::ByteStream as _;

use super::*;

/// A request body from an iterator of chunks (or errors).
struct Chunks<I>(I);

impl<I> Stream for Chunks<I>
where
    I: Iterator<Item = io::Result<Bytes>> + Unpin,
{
    type Item = io::Result<Bytes>;

    fn poll_next(mut self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        Poll::Ready(self.0.next())
    }
}

/// A body that yields one chunk and then never another (a client that stalls).
struct Stalls(Option<Bytes>);

impl Stream for Stalls {
    type Item = io::Result<Bytes>;

    fn poll_next(mut self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        match self.0.take() {
            Some(chunk) => Poll::Ready(Some(Ok(chunk))),
            None => Poll::Pending,
        }
    }
}

fn body(bytes: &'static [u8]) -> StreamingBlob {
    StreamingBlob::wrap(Chunks(std::iter::once(Ok(Bytes::from_static(bytes)))))
}

fn store() -> (tempfile::TempDir, DirBlobs) {
    let root = tempfile::tempdir().expect("tempdir");
    let blobs = DirBlobs::open(root.path()).expect("open");
    (root, blobs)
}

async fn write(blobs: &DirBlobs, bytes: &'static [u8]) -> Written {
    blobs.write(body(bytes), None).await.expect("write")
}

async fn next(stream: &mut StreamingBlob) -> Option<Bytes> {
    std::future::poll_fn(|cx| Pin::new(&mut *stream).poll_next(cx))
        .await
        .map(|chunk| chunk.expect("read chunk"))
}

async fn read_all(blobs: &DirBlobs, id: &str, range: Option<std::ops::Range<u64>>) -> Vec<u8> {
    let mut stream = blobs.read(id, range).await.expect("read");
    let mut out = Vec::new();
    while let Some(chunk) = next(&mut stream).await {
        out.extend_from_slice(&chunk);
    }
    out
}

/// Every file (not directory) under `dir`.
fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).expect("read_dir") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            files.extend(files_under(&path));
        } else {
            files.push(path);
        }
    }
    files
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[tokio::test]
async fn round_trip() {
    let (_root, blobs) = store();
    let written = write(&blobs, b"some object bytes").await;
    assert_eq!(written.size, 17);
    assert_eq!(
        read_all(&blobs, &written.id, None).await,
        b"some object bytes"
    );
}

#[tokio::test]
async fn write_computes_the_md5_of_the_body() {
    let (_root, blobs) = store();
    let written = write(&blobs, b"hello").await;
    let md5 = written.md5.expect("write computes the md5");
    assert_eq!(hex(&md5), "5d41402abc4b2a76b9719d911017c592");
}

#[tokio::test]
async fn an_empty_body_is_an_empty_blob() {
    let (_root, blobs) = store();
    let written = write(&blobs, b"").await;
    assert_eq!(written.size, 0);
    assert_eq!(
        hex(&written.md5.expect("md5")),
        "d41d8cd98f00b204e9800998ecf8427e"
    );
    assert!(read_all(&blobs, &written.id, None).await.is_empty());
}

#[tokio::test]
async fn range_reads_at_the_edges() {
    let (_root, blobs) = store();
    let id = write(&blobs, b"0123456789").await.id;
    assert_eq!(read_all(&blobs, &id, Some(0..1)).await, b"0");
    assert_eq!(read_all(&blobs, &id, Some(9..10)).await, b"9");
    assert_eq!(read_all(&blobs, &id, Some(0..10)).await, b"0123456789");
    assert_eq!(read_all(&blobs, &id, Some(3..7)).await, b"3456");
    assert!(read_all(&blobs, &id, Some(5..5)).await.is_empty());
}

#[tokio::test]
async fn a_read_announces_its_exact_length() {
    let (_root, blobs) = store();
    let id = write(&blobs, b"0123456789").await.id;
    let whole = blobs.read(&id, None).await.expect("read");
    assert_eq!(whole.remaining_length().exact(), Some(10));
    let range = blobs.read(&id, Some(2..5)).await.expect("read");
    assert_eq!(range.remaining_length().exact(), Some(3));
}

#[tokio::test]
async fn a_64_mib_body_streams_in_and_out_in_bounded_chunks() {
    const SIZE: usize = 64 * 1024 * 1024;
    // An odd chunk size, so the reader's chunks do not line up with the writer's.
    const IN_CHUNK: usize = 100_003;
    let chunk = |i: usize| Bytes::from(vec![(i % 251) as u8; IN_CHUNK.min(SIZE - i * IN_CHUNK)]);
    let chunks = SIZE.div_ceil(IN_CHUNK);
    let mut expected = Md5::new();
    (0..chunks).for_each(|i| expected.update(chunk(i)));
    let expected: [u8; 16] = expected.finalize().into();

    let (_root, blobs) = store();
    let body = StreamingBlob::wrap(Chunks((0..chunks).map(move |i| Ok(chunk(i)))));
    let written = blobs.write(body, Some(SIZE as u64)).await.expect("write");
    assert_eq!(written.size, SIZE as u64);
    assert_eq!(written.md5, Some(expected));

    let mut stream = blobs.read(&written.id, None).await.expect("read");
    let (mut read, mut largest, mut hasher) = (0usize, 0usize, Md5::new());
    while let Some(chunk) = next(&mut stream).await {
        read += chunk.len();
        largest = largest.max(chunk.len());
        hasher.update(&chunk);
    }
    assert_eq!(read, SIZE);
    assert!(largest <= READ_CHUNK, "a read chunk of {largest} bytes");
    assert_eq!(<[u8; 16]>::from(hasher.finalize()), expected);
}

#[tokio::test]
async fn a_short_body_leaves_nothing_behind() {
    let (root, blobs) = store();
    let error = blobs.write(body(b"hello"), Some(8)).await.unwrap_err();
    assert!(
        matches!(
            error,
            BlobError::IncompleteBody {
                expected: 8,
                got: 5
            }
        ),
        "{error:?}"
    );
    assert_eq!(files_under(root.path()), Vec::<PathBuf>::new());
}

#[tokio::test]
async fn a_long_body_leaves_nothing_behind() {
    let (root, blobs) = store();
    let error = blobs.write(body(b"hello"), Some(4)).await.unwrap_err();
    assert!(
        matches!(error, BlobError::TooLong { expected: 4 }),
        "{error:?}"
    );
    assert_eq!(files_under(root.path()), Vec::<PathBuf>::new());
}

#[tokio::test]
async fn a_body_failing_midway_leaves_nothing_behind() {
    let (root, blobs) = store();
    let chunks = vec![
        Ok(Bytes::from_static(b"first")),
        Err(io::Error::new(
            io::ErrorKind::ConnectionReset,
            "client gone",
        )),
        Ok(Bytes::from_static(b"never")),
    ];
    let body = StreamingBlob::wrap(Chunks(chunks.into_iter()));
    let error = blobs.write(body, None).await.unwrap_err();
    assert!(matches!(error, BlobError::Body(_)), "{error:?}");
    assert_eq!(files_under(root.path()), Vec::<PathBuf>::new());
}

#[tokio::test]
async fn a_write_dropped_midway_leaves_nothing_behind() {
    let (root, blobs) = store();
    let body = StreamingBlob::wrap(Stalls(Some(Bytes::from_static(b"partial"))));
    let write = blobs.write(body, None);
    let outcome = tokio::time::timeout(Duration::from_millis(200), write).await;
    assert!(
        outcome.is_err(),
        "the stalled write should still be waiting"
    );
    assert_eq!(files_under(root.path()), Vec::<PathBuf>::new());
}

#[tokio::test]
async fn concat_joins_blobs_in_order() {
    let (_root, blobs) = store();
    let ids = vec![
        write(&blobs, b"one ").await.id,
        write(&blobs, b"two ").await.id,
        write(&blobs, b"three").await.id,
    ];
    let joined = blobs.concat(&ids).await.expect("concat");
    assert_eq!(joined.size, 13);
    assert_eq!(joined.md5, None);
    assert_eq!(read_all(&blobs, &joined.id, None).await, b"one two three");
}

#[tokio::test]
async fn concat_with_an_absent_part_leaves_nothing_behind() {
    let (root, blobs) = store();
    let present = write(&blobs, b"here").await.id;
    let absent = "a".repeat(26);
    let error = blobs.concat(&[present, absent.clone()]).await.unwrap_err();
    assert!(
        matches!(&error, BlobError::NotFound(id) if *id == absent),
        "{error:?}"
    );
    assert_eq!(files_under(root.path()).len(), 1);
}

#[tokio::test]
async fn duplicate_is_a_blob_of_its_own() {
    let (_root, blobs) = store();
    let original = write(&blobs, b"copy me").await;
    let copy = blobs.duplicate(&original.id).await.expect("duplicate");
    assert_ne!(copy.id, original.id);
    assert_eq!(copy.size, 7);
    assert_eq!(copy.md5, None);
    blobs.delete(&original.id).await;
    assert_eq!(read_all(&blobs, &copy.id, None).await, b"copy me");
}

#[tokio::test]
async fn delete_removes_and_absent_is_fine() {
    let (root, blobs) = store();
    let id = write(&blobs, b"gone soon").await.id;
    blobs.delete(&id).await;
    blobs.delete(&id).await;
    assert_eq!(files_under(root.path()), Vec::<PathBuf>::new());
}

#[tokio::test]
async fn absent_blobs_are_not_found() {
    let (_root, blobs) = store();
    let absent = "b".repeat(26);
    let error = blobs.read(&absent, None).await.unwrap_err();
    assert!(
        matches!(&error, BlobError::NotFound(id) if *id == absent),
        "{error:?}"
    );
    let error = blobs.duplicate(&absent).await.unwrap_err();
    assert!(matches!(error, BlobError::NotFound(_)), "{error:?}");
}

#[tokio::test]
async fn ids_outside_the_alphabet_or_length_are_refused() {
    let (root, blobs) = store();
    let outside = root.path().join("outside");
    std::fs::write(&outside, b"secret").expect("write outside");
    let traversal = format!("../../{}", "a".repeat(20));
    for id in [
        "",
        "../x",
        "abc",
        &"a".repeat(27),
        &"A".repeat(26),
        &"1".repeat(26),
        &traversal,
        "aa/../../../../outside000",
    ] {
        let error = blobs.read(id, None).await.unwrap_err();
        assert!(
            matches!(error, BlobError::InvalidId(_)),
            "{id:?}: {error:?}"
        );
        let error = blobs.duplicate(id).await.unwrap_err();
        assert!(
            matches!(error, BlobError::InvalidId(_)),
            "{id:?}: {error:?}"
        );
        let error = blobs.concat(&[id.to_owned()]).await.unwrap_err();
        assert!(
            matches!(error, BlobError::InvalidId(_)),
            "{id:?}: {error:?}"
        );
        blobs.delete(id).await;
    }
    assert!(outside.exists());
}

#[tokio::test]
async fn ids_are_fresh_and_well_formed() {
    let (_root, blobs) = store();
    let a = write(&blobs, b"same").await.id;
    let b = write(&blobs, b"same").await.id;
    assert_ne!(a, b);
    for id in [a, b] {
        assert!(id::is_valid(&id), "{id}");
    }
}

#[test]
fn open_removes_stale_temporaries_only() {
    let root = tempfile::tempdir().expect("tempdir");
    DirBlobs::open(root.path()).expect("first open");
    let tmp = root.path().join("tmp");
    let stale = tmp.join("stale.part");
    let fresh = tmp.join("fresh.part");
    std::fs::write(&fresh, b"another replica's write").expect("fresh");
    let file = std::fs::File::create(&stale).expect("stale");
    let long_ago = SystemTime::now() - STALE_TEMPORARY - Duration::from_secs(60);
    file.set_modified(long_ago).expect("backdate");
    drop(file);

    DirBlobs::open(root.path()).expect("reopen");
    assert!(!stale.exists());
    assert!(fresh.exists());
}
