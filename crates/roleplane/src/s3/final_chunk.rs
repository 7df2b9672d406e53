//! A signed aws-chunked body (`STREAMING-AWS4-HMAC-SHA256-PAYLOAD[-TRAILER]`) must end with its
//! zero-length final chunk, whose signature seals the stream. s3s's decoder takes a body that
//! stops cleanly after a data chunk as complete; S3 does not. This wrapper watches the raw
//! bytes on their way to s3s and turns such an end into a body error, so the write is refused
//! (IncompleteBody) and nothing is stored.

use std::pin::Pin;
use std::task::{Context, Poll};

use axum::body::Body;
use bytes::Bytes;
use http_body::{Body as HttpBody, Frame, SizeHint};

/// Enough of the body's end to hold the final chunk's line and a trailer block.
const TAIL: usize = 4096;
const FINAL_CHUNK: &[u8] = b"0;chunk-signature=";

/// Whether `content_sha256` (the `x-amz-content-sha256` header) announces a signed
/// aws-chunked body.
pub fn is_signed_stream(content_sha256: &str) -> bool {
    content_sha256.starts_with("STREAMING-AWS4-HMAC-SHA256-PAYLOAD")
}

pub struct FinalChunkWatch {
    inner: Body,
    /// The last [`TAIL`] bytes seen (all of them while the body is shorter).
    tail: Vec<u8>,
    /// Whether `tail` still starts at the body's first byte.
    whole: bool,
}

impl FinalChunkWatch {
    pub fn new(inner: Body) -> Self {
        Self {
            inner,
            tail: Vec::new(),
            whole: true,
        }
    }

    fn note(&mut self, data: &[u8]) {
        self.tail.extend_from_slice(data);
        if self.tail.len() > TAIL {
            let cut = self.tail.len() - TAIL;
            self.tail.drain(..cut);
            self.whole = false;
        }
    }

    /// The final chunk begins a line: at the body's start, or after a chunk's CRLF.
    fn ended_with_final_chunk(&self) -> bool {
        let after_crlf = self
            .tail
            .windows(2 + FINAL_CHUNK.len())
            .any(|w| w.starts_with(b"\r\n") && &w[2..] == FINAL_CHUNK);
        after_crlf || (self.whole && self.tail.starts_with(FINAL_CHUNK))
    }
}

impl HttpBody for FinalChunkWatch {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        let polled = Pin::new(&mut self.inner).poll_frame(cx);
        match &polled {
            Poll::Ready(Some(Ok(frame))) => {
                if let Some(data) = frame.data_ref() {
                    let data = data.clone();
                    self.note(&data);
                }
            }
            Poll::Ready(None) if !self.ended_with_final_chunk() => {
                let missing = std::io::Error::new(
                    std::io::ErrorKind::UnexpectedEof,
                    "aws-chunked body ended without its final chunk",
                );
                return Poll::Ready(Some(Err(axum::Error::new(missing))));
            }
            _ => {}
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        // The end is reported only once the final chunk has been checked.
        false
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn watched(chunks: &[&[u8]]) -> FinalChunkWatch {
        let mut watch = FinalChunkWatch::new(Body::empty());
        for chunk in chunks {
            watch.note(chunk);
        }
        watch
    }

    #[test]
    fn a_body_must_end_with_its_final_chunk() {
        let sig = [b'a'; 64];
        let data_chunk = [b"5;chunk-signature=".as_slice(), &sig, b"\r\nhello\r\n"].concat();
        let final_chunk = [FINAL_CHUNK, &sig, b"\r\n\r\n"].concat();
        assert!(watched(&[&data_chunk, &final_chunk]).ended_with_final_chunk());
        assert!(!watched(&[&data_chunk]).ended_with_final_chunk());
        assert!(watched(&[&final_chunk]).ended_with_final_chunk());
        let long = vec![b'x'; 3 * TAIL];
        assert!(watched(&[&data_chunk, &long, b"\r\n", &final_chunk]).ended_with_final_chunk());
        assert!(!watched(&[&long, &final_chunk[..5]]).ended_with_final_chunk());
        assert!(is_signed_stream(
            "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER"
        ));
        assert!(!is_signed_stream("STREAMING-UNSIGNED-PAYLOAD-TRAILER"));
    }
}
