//! Signing requests with the official `aws-sigv4` signer, our test oracle.
#![allow(dead_code)] // each test binary uses a different part

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use aws_credential_types::Credentials;
use aws_sigv4::http_request::{
    PayloadChecksumKind, SignableBody, SignableRequest, SignatureLocation, SigningSettings, sign,
};
use aws_sigv4::sign::v4;
use sigv4::HttpRequest;

pub const HOST: &str = "iam.amazonaws.com";

/// What to sign.
#[derive(Clone, Debug)]
pub struct Spec {
    pub method: String,
    /// Raw path as on the wire, starting with `/`.
    pub path: String,
    /// Raw query, without `?`.
    pub query: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    pub access_key_id: String,
    pub secret: String,
    pub session_token: Option<String>,
    pub region: String,
    pub service: String,
    pub time: u64,
    /// `Some(seconds)`: presign with this X-Amz-Expires.
    pub presign_expires: Option<u64>,
    pub payload: Payload,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Payload {
    /// Hash the body; no `x-amz-content-sha256` header.
    Hashed,
    /// Hash the body and send it as `x-amz-content-sha256`.
    HashedWithHeader,
    /// Send `x-amz-content-sha256: UNSIGNED-PAYLOAD`.
    Unsigned,
}

/// An IAM CreateRole-style POST, the common case on our server.
pub fn iam_post(time: u64) -> Spec {
    Spec {
        method: "POST".into(),
        path: "/".into(),
        query: String::new(),
        headers: vec![
            ("content-type".into(), "application/x-www-form-urlencoded; charset=utf-8".into()),
            ("host".into(), HOST.into()),
        ],
        body: b"Action=CreateRole&Version=2010-05-08&RoleName=web&AssumeRolePolicyDocument=%7B%22Version%22%3A%222012-10-17%22%2C%22Statement%22%3A%5B%7B%22Effect%22%3A%22Allow%22%2C%22Principal%22%3A%7B%22Service%22%3A%22ec2.amazonaws.com%22%7D%2C%22Action%22%3A%22sts%3AAssumeRole%22%7D%5D%7D".to_vec(),
        access_key_id: "AKIAIOSFODNN7EXAMPLE".into(),
        secret: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY".into(),
        session_token: None,
        region: "us-east-1".into(),
        service: "iam".into(),
        time,
        presign_expires: None,
        payload: Payload::Hashed,
    }
}

/// A request as the server would receive it.
#[derive(Clone, Debug)]
pub struct Wire {
    pub method: String,
    pub path: String,
    pub query: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Wire {
    pub fn header_pairs(&self) -> Vec<(&str, &str)> {
        self.headers
            .iter()
            .map(|(n, v)| (n.as_str(), v.as_str()))
            .collect()
    }

    pub fn request<'a>(&'a self, headers: &'a [(&'a str, &'a str)]) -> HttpRequest<'a> {
        HttpRequest {
            method: &self.method,
            path: &self.path,
            query: &self.query,
            headers,
            body: &self.body,
        }
    }

    /// Parses and verifies with `secret` at `now`.
    pub fn verify(&self, secret: &str, now: u64) -> Result<(), sigv4::SigV4Error> {
        let pairs = self.header_pairs();
        let req = self.request(&pairs);
        sigv4::parse(&req)?.verify(&req, secret.as_bytes(), now, None)
    }

    pub fn set_header(&mut self, name: &str, value: &str) {
        match self
            .headers
            .iter_mut()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
        {
            Some(slot) => slot.1 = value.to_owned(),
            None => self.headers.push((name.to_owned(), value.to_owned())),
        }
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// Signs `spec` with `aws-sigv4` and returns the request as sent.
pub fn sign_with_oracle(spec: &Spec) -> Wire {
    let identity = Credentials::new(
        &spec.access_key_id,
        &spec.secret,
        spec.session_token.clone(),
        None,
        "oracle",
    )
    .into();
    let mut settings = SigningSettings::default();
    if let Some(expires) = spec.presign_expires {
        settings.signature_location = SignatureLocation::QueryParams;
        settings.expires_in = Some(Duration::from_secs(expires));
    }
    if spec.payload != Payload::Hashed {
        settings.payload_checksum_kind = PayloadChecksumKind::XAmzSha256;
    }
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region(&spec.region)
        .name(&spec.service)
        .time(UNIX_EPOCH + Duration::from_secs(spec.time))
        .settings(settings)
        .build()
        .unwrap()
        .into();
    let uri = if spec.query.is_empty() {
        format!("https://{HOST}{}", spec.path)
    } else {
        format!("https://{HOST}{}?{}", spec.path, spec.query)
    };
    let body = match spec.payload {
        Payload::Unsigned => SignableBody::UnsignedPayload,
        _ => SignableBody::Bytes(&spec.body),
    };
    let signable = SignableRequest::new(
        &spec.method,
        uri.clone(),
        spec.headers.iter().map(|(n, v)| (n.as_str(), v.as_str())),
        body,
    )
    .unwrap();
    let (instructions, _signature) = sign(signable, &params).unwrap().into_parts();

    let mut request = http::Request::builder()
        .method(spec.method.as_str())
        .uri(&uri);
    for (name, value) in &spec.headers {
        request = request.header(name, value);
    }
    let mut request = request.body(()).unwrap();
    instructions.apply_to_request_http1x(&mut request);
    let headers = request
        .headers()
        .iter()
        .map(|(n, v)| (n.as_str().to_owned(), v.to_str().unwrap().to_owned()))
        .collect();
    Wire {
        method: spec.method.clone(),
        path: request.uri().path().to_owned(),
        query: request.uri().query().unwrap_or_default().to_owned(),
        headers,
        body: spec.body.clone(),
    }
}

pub fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}
