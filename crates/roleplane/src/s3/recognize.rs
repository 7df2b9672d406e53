//! Is this request S3's? Decided from the request head alone, before any body is read (S3's
//! bodies stream; every other service's are buffered): a SigV4 credential scope naming `s3`
//! (the `Authorization` header or a presigned URL's `X-Amz-Credential`), an S3 SigV2
//! signature, or, for unsigned requests, S3's shape (a path below `/`, a virtual-hosted bucket
//! host, or S3's own query parameters). Pure.

use percent_encoding::percent_decode_str;

/// Who signed an S3 request, as its head names them (s3s verifies the signature).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Signer {
    pub access_key_id: String,
    pub region: String,
}

/// What the head says about the request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Recognized {
    /// Not S3's: the pipeline's other services answer it.
    Other,
    /// S3's, signed with SigV4 (`signer`) or SigV2 / POST policy (`None`), or unsigned.
    S3 { signer: Option<Signer> },
}

/// Query parameters only S3 uses on `/` (ListBuckets' pagination and friends); a request to `/`
/// with none of these and no S3 signature is left to the other services.
const S3_ROOT_PARAMETERS: &[&str] = &["max-buckets", "continuation-token", "bucket-region"];

/// Decides from the method-independent parts of the head. `host` is the `Host` header,
/// `domain` the virtual-hosted-style suffix.
pub fn recognize(
    path: &str,
    query: &str,
    authorization: Option<&str>,
    host: Option<&str>,
    domain: &str,
) -> Recognized {
    if let Some(header) = authorization {
        if let Some(credential) = header
            .strip_prefix("AWS4-HMAC-SHA256 ")
            .and_then(credential_of_header)
        {
            return match scope(credential) {
                Some(signer) => Recognized::S3 {
                    signer: Some(signer),
                },
                None => Recognized::Other,
            };
        }
        // SigV2 (`AWS KEY:SIGNATURE`): only S3 accepts it.
        return match header.starts_with("AWS ") {
            true => Recognized::S3 { signer: None },
            false => Recognized::Other,
        };
    }
    if let Some(credential) = query_value(query, "X-Amz-Credential") {
        return match scope(&credential) {
            Some(signer) => Recognized::S3 {
                signer: Some(signer),
            },
            None => Recognized::Other,
        };
    }
    let virtual_host = host.is_some_and(|h| is_bucket_host(h, domain));
    let below_root = path != "/" && !path.is_empty();
    let s3_query = query
        .split('&')
        .filter_map(|p| p.split('=').next())
        .any(|name| S3_ROOT_PARAMETERS.contains(&name) || name == "AWSAccessKeyId");
    if virtual_host || below_root || s3_query {
        Recognized::S3 { signer: None }
    } else {
        Recognized::Other
    }
}

/// The `Credential=` value of a SigV4 `Authorization` header.
fn credential_of_header(fields: &str) -> Option<&str> {
    fields
        .split(',')
        .map(str::trim)
        .find_map(|field| field.strip_prefix("Credential="))
}

/// `KEY/DATE/REGION/s3/aws4_request` → the signer, when the service is `s3`.
fn scope(credential: &str) -> Option<Signer> {
    let mut parts = credential.split('/');
    let access_key_id = parts.next()?;
    let _date = parts.next()?;
    let region = parts.next()?;
    let service = parts.next()?;
    (service == super::SERVICE).then(|| Signer {
        access_key_id: access_key_id.to_owned(),
        region: region.to_owned(),
    })
}

fn query_value(query: &str, name: &str) -> Option<String> {
    query.split('&').find_map(|piece| {
        let (key, value) = piece.split_once('=')?;
        (key == name).then(|| percent_decode_str(value).decode_utf8_lossy().into_owned())
    })
}

/// `BUCKET.DOMAIN` or `BUCKET.DOMAIN:PORT`.
pub fn is_bucket_host(host: &str, domain: &str) -> bool {
    bucket_of_host(host, domain).is_some()
}

/// The bucket a virtual-hosted-style host names.
pub fn bucket_of_host<'a>(host: &'a str, domain: &str) -> Option<&'a str> {
    let name = strip_port(host);
    let bucket = name.strip_suffix(domain)?.strip_suffix('.')?;
    (!bucket.is_empty()).then_some(bucket)
}

/// The host without its port (IPv6 literals keep their brackets).
pub fn strip_port(host: &str) -> &str {
    if host.starts_with('[') {
        return host
            .split_once(']')
            .map_or(host, |(addr, _)| &host[..=addr.len()]);
    }
    host.rsplit_once(':').map_or(host, |(name, _)| name)
}

#[cfg(test)]
mod tests {
    use super::*;

    const DOMAIN: &str = "s3.localhost";

    fn signed(key: &str, region: &str) -> Recognized {
        Recognized::S3 {
            signer: Some(Signer {
                access_key_id: key.into(),
                region: region.into(),
            }),
        }
    }

    #[test]
    fn requests_are_recognized_by_their_head() {
        let s3_header = "AWS4-HMAC-SHA256 Credential=AKIAX/20260101/eu-west-1/s3/aws4_request, \
                         SignedHeaders=host, Signature=00";
        let iam_header = "AWS4-HMAC-SHA256 Credential=AKIAX/20260101/us-east-1/iam/aws4_request, \
                          SignedHeaders=host, Signature=00";
        let presigned = "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAY%2F20260101%2Fus-east-1%2Fs3%2Faws4_request";
        type Case<'a> = (
            &'a str,
            &'a str,
            Option<&'a str>,
            Option<&'a str>,
            Recognized,
        );
        let cases: &[Case] = &[
            ("/", "", Some(s3_header), None, signed("AKIAX", "eu-west-1")),
            ("/", "", Some(iam_header), None, Recognized::Other),
            ("/b/k", presigned, None, None, signed("AKIAY", "us-east-1")),
            (
                "/b/k",
                "",
                Some("AWS AKIAX:c2ln"),
                None,
                Recognized::S3 { signer: None },
            ),
            ("/b/k", "", None, None, Recognized::S3 { signer: None }),
            (
                "/",
                "",
                None,
                Some("b.s3.localhost:9100"),
                Recognized::S3 { signer: None },
            ),
            ("/", "", None, Some("127.0.0.1:9100"), Recognized::Other),
            (
                "/",
                "max-buckets=1",
                None,
                None,
                Recognized::S3 { signer: None },
            ),
            ("/", "Action=GetUser", None, None, Recognized::Other),
        ];
        for (path, query, authorization, host, expected) in cases {
            assert_eq!(
                &recognize(path, query, *authorization, *host, DOMAIN),
                expected,
                "{path} {query} {authorization:?} {host:?}"
            );
        }
    }

    #[test]
    fn hosts_name_buckets_only_under_the_domain() {
        assert_eq!(bucket_of_host("b.s3.localhost", DOMAIN), Some("b"));
        assert_eq!(bucket_of_host("a.b.s3.localhost:80", DOMAIN), Some("a.b"));
        assert_eq!(bucket_of_host("s3.localhost", DOMAIN), None);
        assert_eq!(bucket_of_host("bs3.localhost", DOMAIN), None);
        assert_eq!(bucket_of_host("localhost:9100", DOMAIN), None);
        assert_eq!(strip_port("[::1]:80"), "[::1]");
        assert_eq!(strip_port("[::1]"), "[::1]");
    }
}
