//! [`DirBlobs`]: blobs as files under a root directory (`DATA_DIR/s3` by default):
//!
//! - `blobs/ab/<id>`: a blob, fanned out by the first two characters of its ID (all 1024
//!   fan-out directories exist from [`DirBlobs::open`] on, so a write never creates one);
//! - `tmp/<random>.part`: a write in progress, renamed into `blobs/` once fsynced.

use std::io::{self, SeekFrom};
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use futures_core::Stream;
use md5::{Digest as _, Md5};
use s3s::StdError;
use s3s::dto::StreamingBlob;
use tokio::fs::File;
use tokio::io::AsyncWriteExt as _;

use super::read_stream::BlobReadStream;
use super::small_cache::SmallBlobCache;
use super::{BlobError, BlobStore, READ_CHUNK, Written, id};

/// How old a temporary must be before [`DirBlobs::open`] removes it. Replicas sharing the
/// directory may be writing their own temporaries right now; a live write touches its file
/// with every chunk, so an hour-old temporary is one a crash left behind.
pub const STALE_TEMPORARY: Duration = Duration::from_secs(60 * 60);

/// Blobs in a directory; see the module documentation for the layout.
#[derive(Debug, Clone)]
pub struct DirBlobs {
    blobs: PathBuf,
    tmp: PathBuf,
    /// Shared by clones: blobs are the same files.
    small: Arc<SmallBlobCache>,
}

impl DirBlobs {
    /// Creates the layout under `root` if missing and removes temporaries older than
    /// [`STALE_TEMPORARY`].
    pub fn open(root: &Path) -> io::Result<Self> {
        let blobs = root.join("blobs");
        let tmp = root.join("tmp");
        std::fs::create_dir_all(&tmp)?;
        std::fs::create_dir_all(&blobs)?;
        for fanout in id::all_fanouts() {
            create_dir_if_missing(&blobs.join(fanout))?;
        }
        sync_dir(&blobs)?;
        sync_dir(root)?;
        remove_stale_temporaries(&tmp, STALE_TEMPORARY)?;
        Ok(Self {
            blobs,
            tmp,
            small: Arc::default(),
        })
    }

    /// The path of blob `id`, refusing any ID this store could not have issued.
    fn blob_path(&self, id: &str) -> Result<PathBuf, BlobError> {
        if !id::is_valid(id) {
            return Err(BlobError::InvalidId(id.to_owned()));
        }
        Ok(self.blobs.join(id::fanout(id)).join(id))
    }

    fn new_temporary(&self) -> io::Result<Temporary> {
        let path = self.tmp.join(format!("{}.part", id::new_id()?));
        Ok(Temporary { path, kept: false })
    }

    /// Gives the fsynced `temporary` a fresh blob ID and makes that name durable.
    async fn publish(&self, temporary: Temporary) -> Result<String, BlobError> {
        let id = id::new_id()?;
        let destination = self.blob_path(&id)?;
        temporary.rename_to(&destination).await?;
        make_name_durable(&destination).await?;
        Ok(id)
    }
}

#[async_trait::async_trait]
impl BlobStore for DirBlobs {
    async fn write(
        &self,
        mut body: StreamingBlob,
        expected_len: Option<u64>,
    ) -> Result<Written, BlobError> {
        let temporary = self.new_temporary()?;
        let mut file = create_new(&temporary.path).await?;
        let (size, md5) = copy_body(&mut body, &mut file, expected_len).await?;
        file.flush().await?;
        file.sync_all().await?;
        drop(file);
        let id = self.publish(temporary).await?;
        Ok(Written {
            id,
            size,
            md5: Some(md5),
        })
    }

    async fn read(&self, id: &str, range: Option<Range<u64>>) -> Result<StreamingBlob, BlobError> {
        if let Some(bytes) = self.small.get(id, range.as_ref()) {
            return Ok(StreamingBlob::new(BlobReadStream::in_memory(bytes)));
        }
        let path = self.blob_path(id)?;
        let owned_id = id.to_owned();
        let whole = range.is_none();
        // Opening, sizing, seeking and the first chunk in one trip to a blocking thread: a
        // small object is then served without another (each trip is a thread switch).
        let (file, first, remaining) = tokio::task::spawn_blocking(move || {
            open_and_read_first(&path, range).map_err(|e| not_found_or_io(e, &owned_id))
        })
        .await
        .map_err(io::Error::other)??;
        if whole && remaining == 0 {
            self.small.insert(id, &first);
        }
        Ok(StreamingBlob::new(BlobReadStream::new(
            first,
            File::from_std(file),
            remaining,
        )))
    }

    async fn concat(&self, ids: &[String]) -> Result<Written, BlobError> {
        let sources = ids
            .iter()
            .map(|id| Ok((id.clone(), self.blob_path(id)?)))
            .collect::<Result<Vec<_>, BlobError>>()?;
        let temporary = self.new_temporary()?;
        // The temporary moves into the blocking task and comes back with the result, so it is
        // removed even if this future is dropped while the copy runs.
        let (temporary, size) =
            tokio::task::spawn_blocking(move || concat_into(temporary, &sources))
                .await
                .map_err(io::Error::other)??;
        let id = self.publish(temporary).await?;
        Ok(Written {
            id,
            size,
            md5: None,
        })
    }

    async fn duplicate(&self, id: &str) -> Result<Written, BlobError> {
        let source = self.blob_path(id)?;
        let new_id = id::new_id()?;
        let destination = self.blob_path(&new_id)?;
        match tokio::fs::hard_link(&source, &destination).await {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                return Err(BlobError::NotFound(id.to_owned()));
            }
            // Some shared filesystems refuse hard links: copy the bytes instead.
            Err(_) => return self.concat(&[id.to_owned()]).await,
        }
        make_name_durable(&destination).await?;
        let size = tokio::fs::metadata(&destination).await?.len();
        Ok(Written {
            id: new_id,
            size,
            md5: None,
        })
    }

    async fn delete(&self, id: &str) {
        self.small.remove(id);
        let path = match self.blob_path(id) {
            Ok(path) => path,
            Err(e) => {
                tracing::warn!(error = %e, "not deleting a blob");
                return;
            }
        };
        match tokio::fs::remove_file(&path).await {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => tracing::warn!(blob = id, error = %e, "could not delete a blob"),
        }
    }
}

/// A temporary file, removed when dropped unless renamed into place: this covers every error
/// and a write future dropped mid-body (the client went away). The removal is a synchronous
/// unlink, quick enough for `Drop`, and done before the caller can look.
struct Temporary {
    path: PathBuf,
    kept: bool,
}

impl Temporary {
    async fn rename_to(mut self, destination: &Path) -> io::Result<()> {
        tokio::fs::rename(&self.path, destination).await?;
        self.kept = true;
        Ok(())
    }
}

impl Drop for Temporary {
    fn drop(&mut self) {
        if !self.kept {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

async fn create_new(path: &Path) -> io::Result<File> {
    tokio::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
        .await
}

/// Copies `body` to `file`, hashing as it goes; returns the size and MD5.
async fn copy_body(
    body: &mut StreamingBlob,
    file: &mut File,
    expected_len: Option<u64>,
) -> Result<(u64, [u8; 16]), BlobError> {
    let mut hasher = Md5::new();
    let mut size = 0u64;
    while let Some(chunk) = next_chunk(body).await {
        let chunk = chunk.map_err(BlobError::Body)?;
        size += chunk.len() as u64;
        if let Some(expected) = expected_len
            && size > expected
        {
            return Err(BlobError::TooLong { expected });
        }
        hasher.update(&chunk);
        file.write_all(&chunk).await?;
    }
    if let Some(expected) = expected_len
        && size < expected
    {
        return Err(BlobError::IncompleteBody {
            expected,
            got: size,
        });
    }
    Ok((size, hasher.finalize().into()))
}

async fn next_chunk(body: &mut StreamingBlob) -> Option<Result<bytes::Bytes, StdError>> {
    std::future::poll_fn(|cx| std::pin::Pin::new(&mut *body).poll_next(cx)).await
}

/// Appends each source blob to `temporary` (`std::io::copy` between files is
/// `copy_file_range` on Linux) and fsyncs it; returns it with the total size.
fn concat_into(
    temporary: Temporary,
    sources: &[(String, PathBuf)],
) -> Result<(Temporary, u64), BlobError> {
    let mut out = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&temporary.path)?;
    let mut size = 0;
    for (id, path) in sources {
        let mut source = std::fs::File::open(path).map_err(|e| not_found_or_io(e, id))?;
        size += io::copy(&mut source, &mut out)?;
    }
    out.sync_all()?;
    Ok((temporary, size))
}

/// Fsyncs the directory holding the new name `path`; if that fails the name may not survive a
/// crash, so it is removed (best effort) rather than reported.
async fn make_name_durable(path: &Path) -> Result<(), BlobError> {
    let dir = path.parent().unwrap_or(path).to_owned();
    let synced = tokio::task::spawn_blocking(move || sync_dir(&dir))
        .await
        .map_err(io::Error::other)
        .and_then(|result| result);
    if let Err(e) = synced {
        let _ = tokio::fs::remove_file(path).await;
        return Err(e.into());
    }
    Ok(())
}

fn sync_dir(dir: &Path) -> io::Result<()> {
    std::fs::File::open(dir)?.sync_all()
}

fn create_dir_if_missing(dir: &Path) -> io::Result<()> {
    match std::fs::create_dir(dir) {
        Err(e) if e.kind() != io::ErrorKind::AlreadyExists => Err(e),
        _ => Ok(()),
    }
}

/// Removes the temporaries in `tmp` last modified at least `max_age` ago.
fn remove_stale_temporaries(tmp: &Path, max_age: Duration) -> io::Result<()> {
    let now = SystemTime::now();
    for entry in std::fs::read_dir(tmp)? {
        let path = entry?.path();
        let modified = match std::fs::metadata(&path).and_then(|m| m.modified()) {
            Ok(modified) => modified,
            // Another replica finished or removed it meanwhile.
            Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
            Err(e) => return Err(e),
        };
        if now.duration_since(modified).is_ok_and(|age| age >= max_age) {
            match std::fs::remove_file(&path) {
                Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(e),
                _ => {}
            }
        }
    }
    Ok(())
}

fn not_found_or_io(error: io::Error, id: &str) -> BlobError {
    if error.kind() == io::ErrorKind::NotFound {
        BlobError::NotFound(id.to_owned())
    } else {
        BlobError::Io(error)
    }
}

/// Opens a blob at the start of `range` (the whole blob when `None`) and reads its first
/// chunk: (the file, positioned after that chunk; the chunk; the bytes left after it).
fn open_and_read_first(
    path: &Path,
    range: Option<Range<u64>>,
) -> io::Result<(std::fs::File, bytes::Bytes, u64)> {
    use std::io::{Read as _, Seek as _};
    let mut file = std::fs::File::open(path)?;
    let (start, len) = match range {
        Some(range) => (range.start, range.end.saturating_sub(range.start)),
        None => (0, file.metadata()?.len()),
    };
    if start > 0 && len > 0 {
        file.seek(SeekFrom::Start(start))?;
    }
    let first_len = usize::try_from(len).map_or(READ_CHUNK, |len| len.min(READ_CHUNK));
    let mut first = vec![0; first_len];
    file.read_exact(&mut first)?;
    Ok((file, bytes::Bytes::from(first), len - first_len as u64))
}
