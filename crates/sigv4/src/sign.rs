//! Client-side signing, for roleplane's own commands that call its API (`roleplane run`).
//! The same canonicalization as verification, so what we sign we also accept.

use sha2::{Digest, Sha256};

use crate::canonical::{self, Parts};
use crate::verify::hex_into;
use crate::{ALGORITHM, HttpRequest, amz_date, signing_key};

/// Who signs, and for which region and service.
#[derive(Clone, Copy, Debug)]
pub struct SigningIdentity<'a> {
    pub access_key_id: &'a str,
    pub secret_access_key: &'a str,
    pub session_token: Option<&'a str>,
    pub region: &'a str,
    pub service: &'a str,
}

/// The headers to add to `req` so that it is signed at `now` (Unix seconds): `x-amz-date`,
/// `x-amz-security-token` for temporary credentials, and `authorization`. Every header already in
/// `req` (which must include `host`) is signed.
pub fn sign(req: &HttpRequest<'_>, who: &SigningIdentity<'_>, now: u64) -> Vec<(String, String)> {
    let amz_date = amz_date::format(now);
    let date = &amz_date[..8];
    let mut added = vec![("x-amz-date".to_owned(), amz_date.clone())];
    if let Some(token) = who.session_token {
        added.push(("x-amz-security-token".to_owned(), token.to_owned()));
    }
    let mut all: Vec<(String, &str)> = req
        .headers
        .iter()
        .map(|(name, value)| (name.to_ascii_lowercase(), *value))
        .chain(
            added
                .iter()
                .map(|(name, value)| (name.clone(), value.as_str())),
        )
        .collect();
    all.sort_by(|a, b| a.0.cmp(&b.0));
    let mut names: Vec<&str> = all.iter().map(|(name, _)| name.as_str()).collect();
    names.dedup();
    let signed_headers = names.join(";");
    let headers: Vec<(&str, &str)> = all.iter().map(|(n, v)| (n.as_str(), *v)).collect();

    let mut body_hash = [0u8; 64];
    let payload_hash = hex_into(&Sha256::digest(req.body), &mut body_hash);
    let canonical_query = canonical::query(req.query, false);
    let mut hasher = Sha256::new();
    canonical::write(
        &Parts {
            method: req.method,
            path: req.path,
            canonical_query: &canonical_query,
            headers: &headers,
            signed_headers: &signed_headers,
            payload_hash,
        },
        &mut hasher,
    );
    let mut canonical_hash = [0u8; 64];
    let canonical_hash = hex_into(&hasher.finalize(), &mut canonical_hash);

    let scope = format!("{date}/{}/{}/aws4_request", who.region, who.service);
    let key = signing_key::derive(
        who.secret_access_key.as_bytes(),
        date,
        who.region,
        who.service,
    );
    let mut mac = signing_key::hmac(&[&key]);
    let string_to_sign = format!("{ALGORITHM}\n{amz_date}\n{scope}\n{canonical_hash}");
    hmac::Mac::update(&mut mac, string_to_sign.as_bytes());
    let mut signature = [0u8; 64];
    let signature = hex_into(&hmac::Mac::finalize(mac).into_bytes(), &mut signature);
    added.push((
        "authorization".to_owned(),
        format!(
            "{ALGORITHM} Credential={}/{scope}, SignedHeaders={signed_headers}, Signature={signature}",
            who.access_key_id
        ),
    ));
    added
}
