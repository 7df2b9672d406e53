//! What can go wrong, and how AWS words it.
//!
//! Texts marked CONFIRMED were seen in real AWS responses quoted in public issue threads; the rest
//! are UNCONFIRMED (our best reconstruction, noted per variant). `Display` gives the IAM/STS
//! (awsQuery) message; [`SigV4Error::code`], [`SigV4Error::status`] and [`SigV4Error::message`]
//! take an [`ErrorDialect`] because EC2 words some failures differently.

use crate::CLOCK_SKEW_SECS;
use crate::amz_date;

/// Which family of AWS services the error is reported for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorDialect {
    /// awsQuery services: IAM, STS.
    Query,
    /// The ec2Query protocol: EC2 says `AuthFailure` and `RequestExpired` where IAM/STS say
    /// `SignatureDoesNotMatch` / `InvalidClientTokenId`.
    Ec2,
}

/// A request failed SigV4 authentication.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SigV4Error {
    /// No `Authorization` header and no `X-Amz-Algorithm` query parameter.
    /// CONFIRMED text and code; 403 per the AWS "Common Errors" pages.
    #[error("Request is missing Authentication Token")]
    MissingAuthenticationToken,

    /// The signature parameters are malformed or missing. The message is built at parse time.
    /// CONFIRMED: the "Authorization header requires '…' parameter." family and the
    /// "not a valid key=value pair (missing equal-sign)" text. UNCONFIRMED: the presigned
    /// ("AWS query-string parameters must include …"), date-format, credential-format and
    /// X-Amz-Expires texts.
    #[error("{0}")]
    IncompleteSignature(String),

    /// The recomputed signature differs from the one supplied. CONFIRMED.
    #[error(
        "The request signature we calculated does not match the signature you provided. \
         Check your AWS Secret Access Key and signing method. Consult the service documentation \
         for details."
    )]
    SignatureDoesNotMatch,

    /// The credential scope contradicts the request (date, terminator); reported by AWS under the
    /// `SignatureDoesNotMatch` code with this specific message. CONFIRMED texts (see the
    /// constructors in `authorization.rs`).
    #[error("{0}")]
    InvalidCredentialScope(String),

    /// Header-signed request dated more than 15 minutes in the past. CONFIRMED (STS, 2016–2022).
    #[error(
        "Signature expired: {} is now earlier than {} ({} - 15 min.)",
        amz_date::format(*signed_at),
        amz_date::format(now.saturating_sub(CLOCK_SKEW_SECS)),
        amz_date::format(*now)
    )]
    SignatureExpired { signed_at: u64, now: u64 },

    /// Request dated more than 15 minutes in the future. CONFIRMED wording (scratchstack's
    /// captured AWS messages; Elastic Beanstalk with a 5-minute window).
    #[error(
        "Signature not yet current: {} is still later than {} ({} + 15 min.)",
        amz_date::format(*signed_at),
        amz_date::format(now.saturating_add(CLOCK_SKEW_SECS)),
        amz_date::format(*now)
    )]
    SignatureNotYetCurrent { signed_at: u64, now: u64 },

    /// A presigned URL used after `X-Amz-Date + X-Amz-Expires`. `RequestExpired`/400 is the
    /// documented common error for this; the exact text for IAM/STS is UNCONFIRMED (EC2's
    /// "Request has expired." is reused).
    #[error("Request has expired.")]
    PresignedUrlExpired,

    /// A header that must be signed (`host`, any `x-amz-*`) is not in SignedHeaders.
    /// UNCONFIRMED for IAM/STS: this is S3's code and text (`AccessDenied`, "There were headers
    /// present in the request which were not signed"); the header name is kept for logs only.
    #[error("There were headers present in the request which were not signed")]
    HeaderNotSigned { name: String },

    /// `x-amz-content-sha256` is neither `UNSIGNED-PAYLOAD` nor the SHA-256 of the body.
    /// UNCONFIRMED for IAM/STS: S3's code and text.
    #[error("The provided 'x-amz-content-sha256' header does not match what was computed.")]
    ContentSha256Mismatch,

    /// The access key id is unknown. Raised by the server after its key lookup; it lives here so
    /// every authentication failure maps to AWS's wording in one place. CONFIRMED.
    #[error("The security token included in the request is invalid.")]
    InvalidClientTokenId,
}

const EC2_AUTH_FAILURE: &str = "AWS was not able to validate the provided access credentials";

impl SigV4Error {
    /// The AWS error code (`<Code>` in the XML error).
    pub fn code(&self, dialect: ErrorDialect) -> &'static str {
        use ErrorDialect::Ec2;
        match (self, dialect) {
            (Self::MissingAuthenticationToken, _) => "MissingAuthenticationToken",
            (Self::IncompleteSignature(_), _) => "IncompleteSignature",
            (Self::SignatureDoesNotMatch | Self::InvalidCredentialScope(_), Ec2) => "AuthFailure",
            (Self::SignatureDoesNotMatch | Self::InvalidCredentialScope(_), _) => {
                "SignatureDoesNotMatch"
            }
            (Self::SignatureExpired { .. } | Self::SignatureNotYetCurrent { .. }, Ec2) => {
                "RequestExpired"
            }
            (Self::SignatureExpired { .. } | Self::SignatureNotYetCurrent { .. }, _) => {
                "SignatureDoesNotMatch"
            }
            (Self::PresignedUrlExpired, _) => "RequestExpired",
            (Self::HeaderNotSigned { .. }, _) => "AccessDenied",
            (Self::ContentSha256Mismatch, _) => "XAmzContentSHA256Mismatch",
            (Self::InvalidClientTokenId, Ec2) => "AuthFailure",
            (Self::InvalidClientTokenId, _) => "InvalidClientTokenId",
        }
    }

    /// The HTTP status code AWS answers with.
    pub fn status(&self, dialect: ErrorDialect) -> u16 {
        match self.code(dialect) {
            "IncompleteSignature" | "RequestExpired" | "XAmzContentSHA256Mismatch" => 400,
            // EC2 AuthFailure is a 401 (hashicorp/terraform-provider-aws#9597).
            "AuthFailure" => 401,
            _ => 403,
        }
    }

    /// The human-readable message (`<Message>`).
    pub fn message(&self, dialect: ErrorDialect) -> String {
        match (self, dialect) {
            (
                Self::SignatureDoesNotMatch
                | Self::InvalidCredentialScope(_)
                | Self::InvalidClientTokenId,
                ErrorDialect::Ec2,
            ) => EC2_AUTH_FAILURE.to_owned(),
            (
                Self::SignatureExpired { .. } | Self::SignatureNotYetCurrent { .. },
                ErrorDialect::Ec2,
            ) => "Request has expired.".to_owned(),
            _ => self.to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ErrorDialect::{Ec2, Query};

    #[test]
    fn stale_and_future_texts_match_aws() {
        // The STS message from aws/aws-cli#6676, reproduced from its two instants.
        let signed_at = amz_date::parse("20220127T001427Z").unwrap();
        let now = amz_date::parse("20220127T015928Z").unwrap();
        let err = SigV4Error::SignatureExpired { signed_at, now };
        assert_eq!(
            err.message(Query),
            "Signature expired: 20220127T001427Z is now earlier than 20220127T014428Z \
             (20220127T015928Z - 15 min.)"
        );
        assert_eq!(
            (err.code(Query), err.status(Query)),
            ("SignatureDoesNotMatch", 403)
        );
        assert_eq!((err.code(Ec2), err.status(Ec2)), ("RequestExpired", 400));
        assert_eq!(err.message(Ec2), "Request has expired.");

        let signed_at = amz_date::parse("20210502T183640Z").unwrap();
        let now = amz_date::parse("20210502T173640Z").unwrap();
        assert_eq!(
            SigV4Error::SignatureNotYetCurrent { signed_at, now }.to_string(),
            "Signature not yet current: 20210502T183640Z is still later than 20210502T175140Z \
             (20210502T173640Z + 15 min.)"
        );
    }

    #[test]
    fn codes_and_statuses() {
        let cases = [
            (
                SigV4Error::MissingAuthenticationToken,
                "MissingAuthenticationToken",
                403,
            ),
            (
                SigV4Error::IncompleteSignature("x".into()),
                "IncompleteSignature",
                400,
            ),
            (
                SigV4Error::SignatureDoesNotMatch,
                "SignatureDoesNotMatch",
                403,
            ),
            (SigV4Error::PresignedUrlExpired, "RequestExpired", 400),
            (
                SigV4Error::InvalidClientTokenId,
                "InvalidClientTokenId",
                403,
            ),
        ];
        for (err, code, status) in cases {
            assert_eq!(
                (err.code(Query), err.status(Query)),
                (code, status),
                "{err:?}"
            );
        }
        let ec2 = SigV4Error::SignatureDoesNotMatch;
        assert_eq!((ec2.code(Ec2), ec2.status(Ec2)), ("AuthFailure", 401));
        assert_eq!(ec2.message(Ec2), EC2_AUTH_FAILURE);
    }
}
