//! A web identity token (an OpenID Connect ID token, a Kubernetes service-account token) as STS
//! reads it: a JWS whose claims name the issuer, subject and audience. Reading the claims
//! before the signature is checked only finds the issuer (whose keys verify it); nothing a
//! token says is trusted until [`verify_signature`] and [`check_claims`] pass.
//!
//! Pure: no I/O, and the time is an argument.

use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, Header, Validation};
use serde_json::{Map, Value};

/// `clientTokenType`'s longest value (botocore `sts/2011-06-15`): what an unauthenticated
/// caller can make us parse.
pub const MAX_TOKEN_CHARS: usize = 20_000;

/// The skew STS allows past `exp` ("IAM provides five minutes beyond the expiration time
/// specified in the JWT to account for clock skew", IAM User Guide, OIDC federation), and
/// before `nbf`/`iat`.
pub const SKEW_SECS: i64 = 300;

/// The signature algorithms STS accepts (RSA and ECDSA; never `none` or a shared secret).
const ALGORITHMS: &[Algorithm] = &[
    Algorithm::RS256,
    Algorithm::RS384,
    Algorithm::RS512,
    Algorithm::PS256,
    Algorithm::PS384,
    Algorithm::PS512,
    Algorithm::ES256,
    Algorithm::ES384,
];

/// The claim AWS derives session tags from.
const TAGS_CLAIM: &str = "https://aws.amazon.com/tags";
/// The claim AWS sets the session's source identity from.
const SOURCE_IDENTITY_CLAIM: &str = "https://aws.amazon.com/source_identity";

/// Why a token was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokenError {
    /// Not a JWS with JSON header and claims, or no string `iss`.
    Malformed,
    /// An algorithm STS does not accept.
    Algorithm,
    /// No key of the issuer's set can check it (no key with its `kid`, or of its type).
    NoKey,
    /// The signature does not verify.
    Signature,
    /// No `aud` value is a client ID of the provider.
    Audience,
    /// No string `sub`.
    Subject,
    /// `exp` is past (with the skew); both are seconds since the epoch.
    Expired { now: i64, exp: i64 },
    /// No numeric `exp`, or `nbf`/`iat` in the future.
    Validity,
    /// The session-tags claim is not the shape AWS defines.
    Tags,
}

/// A token whose signature is not checked yet: its header and claims.
#[derive(Debug, Clone)]
pub struct Unverified {
    pub header: Header,
    pub claims: Map<String, Value>,
}

impl Unverified {
    /// The `iss` claim.
    pub fn issuer(&self) -> &str {
        self.claims
            .get("iss")
            .and_then(Value::as_str)
            .unwrap_or_default()
    }
}

/// The token's header and claims, unverified.
pub fn read(token: &str) -> Result<Unverified, TokenError> {
    if token.len() > MAX_TOKEN_CHARS || token.split('.').count() != 3 {
        return Err(TokenError::Malformed);
    }
    let header = jsonwebtoken::decode_header(token).map_err(|_| TokenError::Malformed)?;
    let claims: Map<String, Value> = jsonwebtoken::dangerous::insecure_decode_claims(token)
        .map_err(|_| TokenError::Malformed)?;
    let token = Unverified { header, claims };
    if token.issuer().is_empty() {
        return Err(TokenError::Malformed);
    }
    Ok(token)
}

/// Checks the signature with the issuer's key named by the header's `kid` (or, without one,
/// each key of a matching type in turn).
pub fn verify_signature(
    token: &str,
    unverified: &Unverified,
    keys: &JwkSet,
) -> Result<(), TokenError> {
    let alg = unverified.header.alg;
    if !ALGORITHMS.contains(&alg) {
        return Err(TokenError::Algorithm);
    }
    let candidates: Vec<_> = match &unverified.header.kid {
        Some(kid) => keys.find(kid).into_iter().collect(),
        None => keys.keys.iter().collect(),
    };
    let mut validation = Validation::new(alg);
    // Only the signature here: the claims are checked by `check_claims`, against our clock.
    validation.validate_exp = false;
    validation.validate_nbf = false;
    validation.validate_aud = false;
    validation.required_spec_claims.clear();
    let mut tried = false;
    for jwk in candidates {
        let Ok(key) = DecodingKey::from_jwk(jwk) else {
            continue;
        };
        tried = true;
        if jsonwebtoken::decode::<Value>(token, &key, &validation).is_ok() {
            return Ok(());
        }
    }
    Err(if tried {
        TokenError::Signature
    } else {
        TokenError::NoKey
    })
}

/// What a verified token contributes to a session and its trust policy's condition keys.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    pub subject: String,
    /// The `aud` value that is one of the provider's client IDs.
    pub audience: String,
    /// Every `aud` value.
    pub audiences: Vec<String>,
    pub authorized_party: Option<String>,
    /// `amr` values, if any.
    pub amr: Vec<String>,
    /// Session tags from `https://aws.amazon.com/tags`: `principal_tags` (each a one-value
    /// list) and `transitive_tag_keys`.
    pub tags: Vec<(String, String)>,
    pub transitive_tag_keys: Vec<String>,
    pub source_identity: Option<String>,
}

fn strings(value: Option<&Value>) -> Vec<String> {
    match value {
        Some(Value::String(s)) => vec![s.clone()],
        Some(Value::Array(items)) => items
            .iter()
            .filter_map(|v| v.as_str().map(str::to_owned))
            .collect(),
        _ => Vec::new(),
    }
}

fn number(claims: &Map<String, Value>, name: &str) -> Option<i64> {
    let value = claims.get(name)?;
    value
        .as_i64()
        // NumericDate may carry a fraction.
        .or_else(|| value.as_f64().map(|f| f as i64))
}

/// Checks the claims of a token whose signature verified: `aud` against the provider's client
/// IDs, `sub`, and the validity window at `now` (seconds since the epoch).
pub fn check_claims(
    claims: &Map<String, Value>,
    client_ids: &[String],
    now: i64,
) -> Result<Verified, TokenError> {
    let audiences = strings(claims.get("aud"));
    let audience = audiences
        .iter()
        .find(|aud| client_ids.contains(aud))
        .cloned()
        .ok_or(TokenError::Audience)?;
    let Some(exp) = number(claims, "exp") else {
        return Err(TokenError::Validity);
    };
    if now > exp.saturating_add(SKEW_SECS) {
        return Err(TokenError::Expired { now, exp });
    }
    for early in ["nbf", "iat"] {
        if number(claims, early).is_some_and(|t| t > now.saturating_add(SKEW_SECS)) {
            return Err(TokenError::Validity);
        }
    }
    let subject = match claims.get("sub").and_then(Value::as_str) {
        Some(sub) if !sub.is_empty() => sub.to_owned(),
        _ => return Err(TokenError::Subject),
    };
    let (tags, transitive_tag_keys) = session_tags(claims.get(TAGS_CLAIM))?;
    Ok(Verified {
        subject,
        audience,
        audiences,
        authorized_party: claims.get("azp").and_then(Value::as_str).map(str::to_owned),
        amr: strings(claims.get("amr")),
        tags,
        transitive_tag_keys,
        source_identity: claims
            .get(SOURCE_IDENTITY_CLAIM)
            .and_then(Value::as_str)
            .map(str::to_owned),
    })
}

/// Session tags and the keys of those that are transitive.
type SessionTags = (Vec<(String, String)>, Vec<String>);

/// `{"principal_tags": {"k": ["v"]}, "transitive_tag_keys": ["k"]}` (IAM User Guide, "Passing
/// session tags using AssumeRoleWithWebIdentity": each tag's value is a list of one string).
fn session_tags(claim: Option<&Value>) -> Result<SessionTags, TokenError> {
    let Some(claim) = claim else {
        return Ok((Vec::new(), Vec::new()));
    };
    let claim = claim.as_object().ok_or(TokenError::Tags)?;
    let mut tags = Vec::new();
    if let Some(principal_tags) = claim.get("principal_tags") {
        for (key, value) in principal_tags.as_object().ok_or(TokenError::Tags)? {
            let value = match value {
                Value::Array(items) if items.len() == 1 => items[0].as_str(),
                Value::String(s) => Some(s.as_str()),
                _ => None,
            };
            tags.push((key.clone(), value.ok_or(TokenError::Tags)?.to_owned()));
        }
    }
    let transitive = match claim.get("transitive_tag_keys") {
        None => Vec::new(),
        Some(Value::Array(keys)) => keys
            .iter()
            .map(|k| k.as_str().map(str::to_owned).ok_or(TokenError::Tags))
            .collect::<Result<_, _>>()?,
        Some(_) => return Err(TokenError::Tags),
    };
    Ok((tags, transitive))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn claims(value: Value) -> Map<String, Value> {
        value.as_object().cloned().unwrap()
    }

    const NOW: i64 = 1_800_000_000;

    #[test]
    fn claims_are_checked_as_sts_checks_them() {
        let ids = vec!["sts.amazonaws.com".to_owned()];
        let base = json!({"iss": "https://issuer.example", "sub": "system:serviceaccount:ns:app",
            "aud": ["other", "sts.amazonaws.com"], "exp": NOW + 60, "iat": NOW - 10});
        let with = |patch: Value| {
            let mut c = claims(base.clone());
            for (k, v) in patch.as_object().unwrap() {
                if v.is_null() {
                    c.remove(k);
                } else {
                    c.insert(k.clone(), v.clone());
                }
            }
            check_claims(&c, &ids, NOW)
        };
        let ok = with(json!({})).unwrap();
        assert_eq!(ok.audience, "sts.amazonaws.com");
        assert_eq!(ok.subject, "system:serviceaccount:ns:app");
        assert_eq!(
            with(json!({"aud": "sts.amazonaws.com"})).map(|v| v.audiences.len()),
            Ok(1)
        );
        let cases: &[(Value, TokenError)] = &[
            (json!({"aud": "other"}), TokenError::Audience),
            (json!({"aud": null}), TokenError::Audience),
            (json!({"aud": 7}), TokenError::Audience),
            (
                json!({"exp": NOW - 301}),
                TokenError::Expired {
                    now: NOW,
                    exp: NOW - 301,
                },
            ),
            (json!({"exp": null}), TokenError::Validity),
            (json!({"exp": "soon"}), TokenError::Validity),
            (json!({"nbf": NOW + 301}), TokenError::Validity),
            (json!({"iat": NOW + 301}), TokenError::Validity),
            (json!({"sub": null}), TokenError::Subject),
            (json!({"sub": ""}), TokenError::Subject),
            (
                json!({"https://aws.amazon.com/tags": "x"}),
                TokenError::Tags,
            ),
            (
                json!({"https://aws.amazon.com/tags": {"principal_tags": {"k": ["a", "b"]}}}),
                TokenError::Tags,
            ),
        ];
        for (patch, expected) in cases {
            assert_eq!(
                with(patch.clone()).as_ref().err(),
                Some(expected),
                "{patch}"
            );
        }
        // Within the skew.
        assert!(with(json!({"exp": NOW - 299, "nbf": NOW + 299})).is_ok());
    }

    #[test]
    fn session_tags_come_from_the_aws_tags_claim() {
        let ids = vec!["a".to_owned()];
        let c = claims(
            json!({"iss": "https://i", "sub": "s", "aud": "a", "exp": NOW,
            "https://aws.amazon.com/tags": {"principal_tags": {"team": ["blue"], "env": ["prod"]},
                "transitive_tag_keys": ["team"]},
            "https://aws.amazon.com/source_identity": "alice"}),
        );
        let v = check_claims(&c, &ids, NOW).unwrap();
        assert_eq!(
            v.tags,
            vec![
                ("team".to_owned(), "blue".to_owned()),
                ("env".to_owned(), "prod".to_owned())
            ]
        );
        assert_eq!(v.transitive_tag_keys, vec!["team".to_owned()]);
        assert_eq!(v.source_identity.as_deref(), Some("alice"));
    }

    #[test]
    fn only_jws_with_an_issuer_are_read() {
        for bad in [
            "",
            "abc",
            "a.b",
            "a.b.c.d",
            "eyJhbGciOiJSUzI1NiJ9.e30.x", // no iss
            &"a".repeat(MAX_TOKEN_CHARS + 1),
        ] {
            assert_eq!(read(bad).err(), Some(TokenError::Malformed), "{bad:.40}");
        }
    }
}
