//! Flexible checksums (`x-amz-checksum-*`): a write may declare one of the body's CRC32,
//! CRC32C, CRC64NVME, SHA-1 or SHA-256, as a header or, in an aws-chunked body, as a trailer
//! (`x-amz-trailer` names it). The body is hashed as it streams to its blob; a mismatch, or a
//! declared trailer that never came, refuses the write (the blob is dropped, nothing is
//! visible). The value is kept with the object and returned in checksum mode.

use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use axum::http::HeaderMap;
use bytes::Bytes;
use futures_core::Stream;
use s3s::checksum::ChecksumHasher;
use s3s::crypto::{Checksum as _, Crc32, Crc32c, Crc64Nvme, Sha1, Sha256};
use s3s::dto::StreamingBlob;
use s3s::stream::{ByteStream, RemainingLength};
use s3s::{S3Error, S3Result, StdError, s3_error};

/// The algorithms S3 takes, by the name their header carries after `x-amz-checksum-`.
const ALGORITHMS: &[&str] = &["crc32", "crc32c", "crc64nvme", "sha1", "sha256"];

/// Where a write's checksum comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Declared {
    None,
    /// `x-amz-checksum-ALGORITHM: VALUE`.
    Header {
        algorithm: &'static str,
        value: String,
    },
    /// `x-amz-trailer: x-amz-checksum-ALGORITHM`: the value follows the body.
    Trailer {
        algorithm: &'static str,
    },
}

impl Declared {
    /// What the request head declares.
    pub fn of(headers: &HeaderMap) -> S3Result<Declared> {
        if let Some(trailer) = headers.get("x-amz-trailer").and_then(|v| v.to_str().ok()) {
            let name = trailer.trim().to_ascii_lowercase();
            let algorithm = name
                .strip_prefix("x-amz-checksum-")
                .and_then(known)
                .ok_or_else(|| {
                    s3_error!(
                        InvalidRequest,
                        "The value specified in the x-amz-trailer header is not supported"
                    )
                })?;
            return Ok(Declared::Trailer { algorithm });
        }
        for algorithm in ALGORITHMS {
            let header = format!("x-amz-checksum-{algorithm}");
            if let Some(value) = headers.get(header.as_str()).and_then(|v| v.to_str().ok()) {
                return Ok(Declared::Header {
                    algorithm,
                    value: value.to_owned(),
                });
            }
        }
        Ok(Declared::None)
    }

    fn algorithm(&self) -> Option<&'static str> {
        match self {
            Declared::None => None,
            Declared::Header { algorithm, .. } | Declared::Trailer { algorithm } => Some(algorithm),
        }
    }
}

fn known(name: &str) -> Option<&'static str> {
    ALGORITHMS.iter().copied().find(|a| *a == name)
}

/// The computed checksum of a body once it has streamed through [`hashing`].
#[derive(Clone, Default)]
pub struct Computed(Arc<Mutex<Option<ChecksumHasher>>>);

impl Computed {
    /// `(algorithm, base64 value)`, or `None` when nothing was declared.
    fn value(&self, algorithm: &'static str) -> Option<String> {
        let hasher = self.0.lock().ok()?.take()?;
        let sums = hasher.finalize();
        match algorithm {
            "crc32" => sums.checksum_crc32,
            "crc32c" => sums.checksum_crc32c,
            "crc64nvme" => sums.checksum_crc64nvme,
            "sha1" => sums.checksum_sha1,
            _ => sums.checksum_sha256,
        }
    }
}

/// Wraps `body` so that it is hashed with the declared algorithm as it streams.
pub fn hashing(body: StreamingBlob, declared: &Declared) -> (StreamingBlob, Computed) {
    let computed = Computed::default();
    let Some(algorithm) = declared.algorithm() else {
        return (body, computed);
    };
    let mut hasher = ChecksumHasher::default();
    match algorithm {
        "crc32" => hasher.crc32 = Some(Crc32::new()),
        "crc32c" => hasher.crc32c = Some(Crc32c::new()),
        "crc64nvme" => hasher.crc64nvme = Some(Crc64Nvme::new()),
        "sha1" => hasher.sha1 = Some(Sha1::new()),
        _ => hasher.sha256 = Some(Sha256::new()),
    }
    if let Ok(mut slot) = computed.0.lock() {
        *slot = Some(hasher);
    }
    let stream = Hashing {
        inner: body,
        computed: computed.clone(),
    };
    (StreamingBlob::new(stream), computed)
}

/// Checks the computed checksum against the declared one (a header, or the trailer s3s
/// verified with the body); the result is what the object keeps: `(ALGORITHM, value)`.
pub fn verify(
    declared: &Declared,
    computed: &Computed,
    trailers: Option<&HeaderMap>,
) -> S3Result<Option<(String, String)>> {
    let (algorithm, expected) = match declared {
        Declared::None => return Ok(None),
        Declared::Header { algorithm, value } => (*algorithm, value.clone()),
        Declared::Trailer { algorithm } => {
            let name = format!("x-amz-checksum-{algorithm}");
            let value = trailers
                .and_then(|t| t.get(name.as_str()))
                .and_then(|v| v.to_str().ok())
                .ok_or_else(|| {
                    s3_error!(
                        IncompleteBody,
                        "The request body ended before its trailing checksum."
                    )
                })?;
            (*algorithm, value.to_owned())
        }
    };
    let actual = computed.value(algorithm).unwrap_or_default();
    if actual != expected.trim() {
        let name = algorithm.to_ascii_uppercase();
        return Err(S3Error::with_message(
            s3s::S3ErrorCode::BadDigest,
            format!("The {name} you specified did not match the calculated checksum."),
        ));
    }
    Ok(Some((algorithm.to_ascii_uppercase(), actual)))
}

struct Hashing {
    inner: StreamingBlob,
    computed: Computed,
}

impl Stream for Hashing {
    type Item = Result<Bytes, StdError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let next = Pin::new(&mut self.inner).poll_next(cx);
        if let Poll::Ready(Some(Ok(bytes))) = &next
            && let Ok(mut slot) = self.computed.0.lock()
            && let Some(hasher) = slot.as_mut()
        {
            hasher.update(bytes);
        }
        next
    }
}

impl ByteStream for Hashing {
    fn remaining_length(&self) -> RemainingLength {
        self.inner.remaining_length()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.insert(*name, value.parse().unwrap());
        }
        map
    }

    #[test]
    fn a_write_declares_its_checksum_by_header_or_trailer() {
        assert_eq!(Declared::of(&HeaderMap::new()).unwrap(), Declared::None);
        assert_eq!(
            Declared::of(&headers(&[("x-amz-checksum-crc32", "I1kLdA==")])).unwrap(),
            Declared::Header {
                algorithm: "crc32",
                value: "I1kLdA==".into()
            }
        );
        assert_eq!(
            Declared::of(&headers(&[("x-amz-trailer", "x-amz-checksum-sha256")])).unwrap(),
            Declared::Trailer {
                algorithm: "sha256"
            }
        );
        assert!(Declared::of(&headers(&[("x-amz-trailer", "x-amz-checksum-md5")])).is_err());
    }

    #[tokio::test]
    async fn a_body_is_hashed_as_it_streams_and_checked() {
        use futures_util_free::collect;
        let declared = Declared::Trailer { algorithm: "crc32" };
        let body = StreamingBlob::wrap(OneShot(Some(Bytes::from_static(b"hello"))));
        let (body, computed) = hashing(body, &declared);
        collect(body).await;
        // CRC32("hello") = 0x3610a686.
        let trailers = headers(&[("x-amz-checksum-crc32", "NhCmhg==")]);
        assert_eq!(
            verify(&declared, &computed, Some(&trailers)).unwrap(),
            Some(("CRC32".into(), "NhCmhg==".into()))
        );
        let missing = verify(&declared, &Computed::default(), None).unwrap_err();
        assert_eq!(missing.code(), &s3s::S3ErrorCode::IncompleteBody);
        let header = Declared::Header {
            algorithm: "crc32",
            value: "AAAAAA==".into(),
        };
        let body = StreamingBlob::wrap(OneShot(Some(Bytes::from_static(b"hello"))));
        let (body, computed) = hashing(body, &header);
        collect(body).await;
        let wrong = verify(&header, &computed, None).unwrap_err();
        assert_eq!(wrong.code(), &s3s::S3ErrorCode::BadDigest);
    }

    struct OneShot(Option<Bytes>);

    impl Stream for OneShot {
        type Item = Result<Bytes, std::io::Error>;
        fn poll_next(mut self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<Option<Self::Item>> {
            Poll::Ready(self.0.take().map(Ok))
        }
    }

    mod futures_util_free {
        use super::*;

        /// Drains a stream (the blob store does this in the server).
        pub async fn collect(mut body: StreamingBlob) {
            std::future::poll_fn(|cx| {
                loop {
                    match Pin::new(&mut body).poll_next(cx) {
                        Poll::Ready(Some(_)) => continue,
                        Poll::Ready(None) => return Poll::Ready(()),
                        Poll::Pending => return Poll::Pending,
                    }
                }
            })
            .await;
        }
    }
}
