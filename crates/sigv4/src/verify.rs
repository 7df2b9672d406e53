//! Step two: with the secret in hand, check the time window and recompute the signature.

use hmac::Mac;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::authorization::{Authorization, SignatureLocation};
use crate::canonical::{self, Parts};
use crate::signing_key::{self, SigningKeyCache};
use crate::{ALGORITHM, CLOCK_SKEW_SECS, HttpRequest, SigV4Error};

const UNSIGNED_PAYLOAD: &str = "UNSIGNED-PAYLOAD";

impl Authorization<'_> {
    /// Verifies the signature of `req` (the request this claim was parsed from) with the secret
    /// access key of [`access_key_id`](Self::access_key_id), at `now` (Unix seconds).
    ///
    /// Header-signed requests must be dated within 15 minutes of `now`; presigned URLs are valid
    /// from `X-Amz-Date` (less the same skew) until `X-Amz-Date + X-Amz-Expires`.
    pub fn verify(
        &self,
        req: &HttpRequest<'_>,
        secret: &[u8],
        now: u64,
        cache: Option<&SigningKeyCache>,
    ) -> Result<(), SigV4Error> {
        self.check_time(now)?;
        let mut body_hash = [0u8; 64];
        let payload_hash = payload_hash(req, &mut body_hash)?;
        let canonical_query = self.canonical_query(req);
        let mut hasher = Sha256::new();
        canonical::write(
            &self.parts(req, &canonical_query, payload_hash),
            &mut hasher,
        );
        let mut canonical_hash = [0u8; 64];
        hex_into(&hasher.finalize(), &mut canonical_hash);

        let scope = self.scope();
        let derive = || signing_key::derive(secret, scope.date, scope.region, scope.service);
        let key = match cache {
            Some(cache) => cache.get_or_derive(&self.credential, secret, derive),
            None => derive(),
        };
        // The string to sign goes straight into the MAC, piece by piece.
        let scope_text = &self.credential[self.access_key_id().len() + 1..];
        let mut mac = signing_key::hmac(&[&key]);
        for piece in [
            ALGORITHM.as_bytes(),
            b"\n",
            self.amz_date.as_bytes(),
            b"\n",
            scope_text.as_bytes(),
            b"\n",
            &canonical_hash,
        ] {
            mac.update(piece);
        }
        let expected = mac.finalize().into_bytes();

        // Compared as the lowercase hex text SigV4 specifies, so an uppercase spelling is a
        // mismatch (whether AWS tolerates it is unconfirmed).
        let mut expected_hex = [0u8; 64];
        hex_into(&expected, &mut expected_hex);
        if bool::from(self.signature.as_bytes().ct_eq(expected_hex.as_slice())) {
            Ok(())
        } else {
            Err(SigV4Error::SignatureDoesNotMatch)
        }
    }

    /// The canonical request this claim was checked against, for debugging a mismatch
    /// (S3 returns it in its error; IAM/STS do not, so never send it to the client).
    pub fn canonical_request(&self, req: &HttpRequest<'_>) -> Result<String, SigV4Error> {
        let mut body_hash = [0u8; 64];
        let payload_hash = payload_hash(req, &mut body_hash)?;
        let canonical_query = self.canonical_query(req);
        let mut out = Vec::new();
        canonical::write(&self.parts(req, &canonical_query, payload_hash), &mut out);
        Ok(String::from_utf8_lossy(&out).into_owned())
    }

    fn canonical_query(&self, req: &HttpRequest<'_>) -> String {
        let presigned = matches!(self.location, SignatureLocation::Query { .. });
        canonical::query(req.query, presigned)
    }

    fn parts<'p>(
        &'p self,
        req: &'p HttpRequest<'_>,
        canonical_query: &'p str,
        payload_hash: &'p str,
    ) -> Parts<'p> {
        Parts {
            method: req.method,
            path: req.path,
            canonical_query,
            headers: req.headers,
            signed_headers: &self.signed_headers,
            payload_hash,
        }
    }

    fn check_time(&self, now: u64) -> Result<(), SigV4Error> {
        let signed_at = self.signed_at;
        if signed_at > now.saturating_add(CLOCK_SKEW_SECS) {
            return Err(SigV4Error::SignatureNotYetCurrent { signed_at, now });
        }
        match self.location {
            SignatureLocation::Header if signed_at < now.saturating_sub(CLOCK_SKEW_SECS) => {
                Err(SigV4Error::SignatureExpired { signed_at, now })
            }
            SignatureLocation::Query { expires_secs } if now > signed_at + expires_secs => {
                Err(SigV4Error::PresignedUrlExpired)
            }
            _ => Ok(()),
        }
    }
}

/// The payload hash of the canonical request: `x-amz-content-sha256` when sent (it is then
/// signed, see `check_signed_headers`), which must be `UNSIGNED-PAYLOAD` or the body's real hash
/// (otherwise the body could be swapped under a valid signature); else the body's hash.
fn payload_hash<'b>(
    req: &'b HttpRequest<'_>,
    buf: &'b mut [u8; 64],
) -> Result<&'b str, SigV4Error> {
    let declared = req
        .headers
        .iter()
        .find(|(name, _)| name.eq_ignore_ascii_case("x-amz-content-sha256"))
        .map(|&(_, value)| value.trim_matches(' '));
    if declared == Some(UNSIGNED_PAYLOAD) {
        return Ok(UNSIGNED_PAYLOAD);
    }
    let actual = hex_into(&Sha256::digest(req.body), buf);
    match declared {
        Some(declared) if !declared.eq_ignore_ascii_case(actual) => {
            Err(SigV4Error::ContentSha256Mismatch)
        }
        // The declared spelling is what the client signed (hex case included).
        Some(declared) => Ok(declared),
        None => Ok(actual),
    }
}

/// Lowercase hex of a 32-byte digest, without allocating.
pub(crate) fn hex_into<'b>(digest: &[u8], buf: &'b mut [u8; 64]) -> &'b str {
    // A 32-byte digest always fills the 64-byte buffer exactly.
    if hex::encode_to_slice(digest, buf).is_err() {
        return "";
    }
    std::str::from_utf8(buf).unwrap_or_default()
}
