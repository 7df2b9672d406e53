//! A blob's bytes as a stream: at most [`READ_CHUNK`] bytes per item, so a read never holds
//! more than one chunk, and an exact remaining length, so the response can carry a
//! Content-Length.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use bytes::Bytes;
use futures_core::Stream;
use s3s::StdError;
use s3s::stream::{ByteStream, RemainingLength};
use tokio::fs::File;
use tokio::io::{AsyncRead, ReadBuf};

use super::READ_CHUNK;

/// Yields `first` (already read, with the file's opening), then reads `remaining` more bytes
/// from `file`'s current position.
pub(super) struct BlobReadStream {
    first: Option<Bytes>,
    /// `None` when the whole blob is `first` (served from memory).
    file: Option<File>,
    remaining: u64,
    /// The chunk being filled; kept across `Pending` polls and handed out when full.
    buffer: Option<Vec<u8>>,
}

impl BlobReadStream {
    pub(super) fn new(first: Bytes, file: File, remaining: u64) -> Self {
        Self {
            first: (!first.is_empty()).then_some(first),
            file: Some(file),
            remaining,
            buffer: None,
        }
    }

    /// A blob already in memory.
    pub(super) fn in_memory(bytes: Bytes) -> Self {
        Self {
            first: (!bytes.is_empty()).then_some(bytes),
            file: None,
            remaining: 0,
            buffer: None,
        }
    }

    fn next_chunk_len(&self) -> usize {
        usize::try_from(self.remaining).map_or(READ_CHUNK, |left| left.min(READ_CHUNK))
    }
}

impl Stream for BlobReadStream {
    type Item = Result<Bytes, StdError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        if let Some(first) = self.first.take() {
            return Poll::Ready(Some(Ok(first)));
        }
        if self.remaining == 0 {
            return Poll::Ready(None);
        }
        let this = &mut *self;
        let chunk_len = this.next_chunk_len();
        let Some(file) = this.file.as_mut() else {
            this.remaining = 0;
            return Poll::Ready(None);
        };
        let buffer = this.buffer.get_or_insert_with(|| vec![0; chunk_len]);
        let mut read_buf = ReadBuf::new(buffer);
        if let Err(e) = ready!(Pin::new(file).poll_read(cx, &mut read_buf)) {
            this.remaining = 0;
            return Poll::Ready(Some(Err(Box::new(e))));
        }
        let got = read_buf.filled().len();
        if got == 0 {
            // The blob is shorter than the range promised: end rather than send short.
            this.remaining = 0;
            let short = io::Error::new(io::ErrorKind::UnexpectedEof, "blob shorter than range");
            return Poll::Ready(Some(Err(Box::new(short))));
        }
        let mut chunk = this.buffer.take().unwrap_or_default();
        chunk.truncate(got);
        this.remaining -= got as u64;
        Poll::Ready(Some(Ok(Bytes::from(chunk))))
    }
}

impl ByteStream for BlobReadStream {
    fn remaining_length(&self) -> RemainingLength {
        let first = self.first.as_ref().map_or(0, |b| b.len() as u64);
        usize::try_from(self.remaining + first)
            .map_or_else(|_| RemainingLength::unknown(), RemainingLength::new_exact)
    }
}
