//! Where S3 object bytes live: immutable blobs named by a random ID. Object metadata (bucket,
//! key, ETag, which blob) lives in the store and names a blob; a blob never changes once
//! written, so a new version of an object is a new blob and readers never see a partial one.
//!
//! [`BlobStore`] is roleplane's storage seam: [`DirBlobs`] keeps blobs in a directory (what a
//! single host, or every replica mounting one shared directory, uses); an S3-compatible
//! upstream could implement it later.
//!
//! Durability: when a write returns `Ok`, its bytes and its name survive a crash. Bytes go to
//! a temporary file, which is fsynced, renamed into place and its directory fsynced; until the
//! rename nothing is visible under the blob's name, and a failed or abandoned write deletes its
//! temporary. A crash mid-write leaves only a temporary, which [`DirBlobs::open`] removes.
//!
//! Garbage: a crash between a blob's rename and the store's commit of the metadata naming it
//! leaves an unreferenced blob. It is harmless (nothing can name it) and is not swept yet.

mod dir;
mod id;
mod read_stream;
mod small_cache;
#[cfg(test)]
mod tests;

use std::io;
use std::ops::Range;

use s3s::StdError;
use s3s::dto::StreamingBlob;

pub use self::dir::{DirBlobs, STALE_TEMPORARY};

/// Immutable blobs by ID. `#[async_trait]` rather than native `async fn` in the trait: the S3
/// operations hold the store as `Arc<dyn BlobStore>` (a directory now, an upstream later), and
/// native async trait methods are not object-safe; s3s's own traits use the same macro.
#[async_trait::async_trait]
pub trait BlobStore: Send + Sync + 'static {
    /// Streams `body` into a new blob, computing its MD5 (the S3 ETag) and size on the way;
    /// memory use does not grow with the body. On `Ok` the blob is durable. If `expected_len`
    /// is given and the body is shorter ([`BlobError::IncompleteBody`]) or longer
    /// ([`BlobError::TooLong`]), or the body fails ([`BlobError::Body`]), nothing is left
    /// behind.
    async fn write(
        &self,
        body: StreamingBlob,
        expected_len: Option<u64>,
    ) -> Result<Written, BlobError>;

    /// The blob's bytes, or the `range` of them (start inclusive, end exclusive, already
    /// clamped to the blob's size by the caller), streamed in chunks of at most
    /// [`READ_CHUNK`] bytes with an exact remaining length (GetObject's body).
    async fn read(&self, id: &str, range: Option<Range<u64>>) -> Result<StreamingBlob, BlobError>;

    /// A new blob holding the bytes of `ids` one after another (multipart completion), durable
    /// like [`write`](Self::write). [`Written::md5`] is `None`: a multipart ETag is built from
    /// the parts' ETags, which the caller has.
    async fn concat(&self, ids: &[String]) -> Result<Written, BlobError>;

    /// A new blob with the same bytes (CopyObject), durable like [`write`](Self::write).
    /// [`Written::md5`] is `None`: the caller carries the source's ETag.
    async fn duplicate(&self, id: &str) -> Result<Written, BlobError>;

    /// Removes the blob; an absent blob is not an error, and a failure is only logged (the
    /// blob becomes unreferenced garbage).
    async fn delete(&self, id: &str);
}

/// The largest chunk a blob read yields.
/// Larger chunks mean fewer trips to a blocking thread per object; one chunk per stream is
/// what a read holds in memory.
pub const READ_CHUNK: usize = 256 * 1024;

/// A blob just made durable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Written {
    pub id: String,
    pub size: u64,
    /// The MD5 of the bytes, where computing it was part of the work: `Some` from
    /// [`BlobStore::write`], `None` from `concat` and `duplicate` (see there).
    pub md5: Option<[u8; 16]>,
}

#[derive(Debug, thiserror::Error)]
pub enum BlobError {
    #[error("no blob {0}")]
    NotFound(String),
    /// An ID this store could not have issued; never turned into a path.
    #[error("{0:?} is not a blob ID")]
    InvalidId(String),
    #[error("the body ended after {got} bytes of the {expected} announced")]
    IncompleteBody { expected: u64, got: u64 },
    #[error("the body is longer than the {expected} bytes announced")]
    TooLong { expected: u64 },
    /// The request body failed (typically the client went away).
    #[error("reading the request body: {0}")]
    Body(#[source] StdError),
    #[error("blob storage: {0}")]
    Io(#[from] io::Error),
}
