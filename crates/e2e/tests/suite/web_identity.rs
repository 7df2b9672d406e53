//! AssumeRoleWithWebIdentity end to end, Kubernetes-style: a test issuer signs service-account
//! tokens (RS256 and ES256 keys generated here), account A has an OIDC provider for it, and a
//! role trusts the service account `system:serviceaccount:ns:app`. aws-sdk-rust's and boto3's
//! web-identity providers get sessions and use them; a wrong audience or subject, an expired
//! token and a token re-signed with another key are refused with AWS's errors; the trail
//! records the web identity and never the token. Keys come from the `--oidc-jwks` file, and in
//! [`keys_are_discovered_over_https_under_a_ca_or_a_thumbprint`] from the issuer's discovery
//! document over HTTPS on loopback.

use std::path::Path;
use std::process::Command;
use std::sync::{Arc, OnceLock};
use std::time::{SystemTime, UNIX_EPOCH};

use e2e::{ACCOUNT_ID, REGION, Server};
use jsonwebtoken::jwk::{Jwk, JwkSet};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};

const AUDIENCE: &str = "sts.amazonaws.com";
const SUBJECT: &str = "system:serviceaccount:ns:app";
const ISSUER_HOST: &str = "oidc.cluster.example/id/E2E";
const ISSUER: &str = "https://oidc.cluster.example/id/E2E";
const ROLE: &str = "app-role";

/// A key an issuer signs with, and its public half as a JWK.
struct SigningKey {
    kid: &'static str,
    alg: Algorithm,
    key: EncodingKey,
    jwk: Jwk,
}

impl SigningKey {
    fn rsa(kid: &'static str) -> SigningKey {
        use rsa::pkcs1::EncodeRsaPrivateKey as _;
        let private = rsa::PrivateKey::new(&mut getrandom::SysRng, 2048).expect("RSA key");
        let der = private.to_pkcs1_der().expect("PKCS#1");
        SigningKey::new(
            kid,
            Algorithm::RS256,
            EncodingKey::from_rsa_der(der.as_bytes()),
        )
    }

    fn ec(kid: &'static str) -> SigningKey {
        let pair = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).expect("EC key");
        SigningKey::new(
            kid,
            Algorithm::ES256,
            EncodingKey::from_ec_der(&pair.serialize_der()),
        )
    }

    fn new(kid: &'static str, alg: Algorithm, key: EncodingKey) -> SigningKey {
        let mut jwk = Jwk::from_encoding_key(&key, alg).expect("JWK");
        jwk.common.key_id = Some(kid.to_owned());
        SigningKey { kid, alg, key, jwk }
    }

    fn sign(&self, claims: &Value) -> String {
        let mut header = Header::new(self.alg);
        header.kid = Some(self.kid.to_owned());
        jsonwebtoken::encode(&header, claims, &self.key).expect("sign")
    }
}

/// The test issuer's keys: made once per test process (RSA generation is slow in a debug
/// build), plus an RSA key of the same `kid` that the issuer never published.
struct Keys {
    rsa: SigningKey,
    ec: SigningKey,
    impostor: SigningKey,
}

fn keys() -> &'static Keys {
    static KEYS: OnceLock<Keys> = OnceLock::new();
    KEYS.get_or_init(|| Keys {
        rsa: SigningKey::rsa("rsa-1"),
        ec: SigningKey::ec("ec-1"),
        impostor: SigningKey::rsa("rsa-1"),
    })
}

fn jwks() -> String {
    let k = keys();
    serde_json::to_string(&JwkSet {
        keys: vec![k.rsa.jwk.clone(), k.ec.jwk.clone()],
    })
    .unwrap()
}

fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

/// A service-account token's claims, as Kubernetes issues them.
fn claims(issuer: &str) -> Value {
    json!({"iss": issuer, "sub": SUBJECT, "aud": [AUDIENCE], "iat": now(), "nbf": now(),
        "exp": now() + 3600,
        "kubernetes.io": {"namespace": "ns", "serviceaccount": {"name": "app", "uid": "u-1"}}})
}

fn with(mut claims: Value, key: &str, value: Value) -> Value {
    claims[key] = value;
    claims
}

fn role_arn() -> String {
    format!("arn:aws:iam::{ACCOUNT_ID}:role/{ROLE}")
}

/// The provider for `issuer_url` and a role trusting its `sub`/`aud` (or any token of it when
/// `conditions` is false); the role may read itself.
async fn provider_and_role(
    server: &Server,
    issuer_url: &str,
    thumbprints: &[&str],
    conditions: bool,
) {
    let iam = server.iam().await;
    let mut create = iam
        .create_open_id_connect_provider()
        .url(issuer_url)
        .client_id_list(AUDIENCE);
    for print in thumbprints {
        create = create.thumbprint_list(*print);
    }
    let provider_arn = create
        .send()
        .await
        .expect("CreateOpenIDConnectProvider")
        .open_id_connect_provider_arn()
        .unwrap()
        .to_owned();
    let host = issuer_url.trim_start_matches("https://");
    assert_eq!(
        provider_arn,
        format!("arn:aws:iam::{ACCOUNT_ID}:oidc-provider/{host}")
    );
    let condition = if conditions {
        json!({"StringEquals": {format!("{host}:sub"): SUBJECT, format!("{host}:aud"): AUDIENCE}})
    } else {
        json!({})
    };
    let trust = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
        "Principal": {"Federated": provider_arn}, "Action": "sts:AssumeRoleWithWebIdentity",
        "Condition": condition}]});
    iam.create_role()
        .role_name(ROLE)
        .assume_role_policy_document(trust.to_string())
        .send()
        .await
        .expect("CreateRole");
    let read_self = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
        "Action": "iam:GetRole", "Resource": role_arn()}]});
    iam.put_role_policy()
        .role_name(ROLE)
        .policy_name("read-self")
        .policy_document(read_self.to_string())
        .send()
        .await
        .expect("PutRolePolicy");
}

/// A server whose keys for [`ISSUER`] come from a file, with the provider and role in place.
async fn server_with_key_file(dir: &Path) -> Server {
    let path = dir.join("jwks.json");
    std::fs::write(&path, jwks()).unwrap();
    let flag = format!("{ISSUER}={}", path.display());
    let server = Server::start_with(&dir.join("data"), &["--oidc-jwks", &flag]);
    provider_and_role(&server, ISSUER, &[], true).await;
    server
}

/// An STS client with no credentials: AssumeRoleWithWebIdentity is sent unsigned.
fn anonymous_sts(server: &Server) -> aws_sdk_sts::Client {
    let config = aws_sdk_sts::Config::builder()
        .behavior_version(aws_sdk_sts::config::BehaviorVersion::latest())
        .region(aws_sdk_sts::config::Region::new(REGION))
        .endpoint_url(&server.endpoint)
        .build();
    aws_sdk_sts::Client::from_conf(config)
}

/// `Ok(assumed role ARN)`, or the error's (code, message).
async fn assume(server: &Server, token: &str) -> Result<String, (String, String)> {
    match anonymous_sts(server)
        .assume_role_with_web_identity()
        .role_arn(role_arn())
        .role_session_name("app")
        .web_identity_token(token)
        .send()
        .await
    {
        Ok(out) => Ok(out.assumed_role_user().unwrap().arn().to_owned()),
        Err(e) => {
            let e = e.into_service_error();
            let meta = aws_sdk_sts::error::ProvideErrorMetadata::meta(&e);
            Err((
                meta.code().unwrap_or_default().to_owned(),
                meta.message().unwrap_or_default().to_owned(),
            ))
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn service_account_tokens_get_sessions_and_bad_ones_are_refused_as_aws_refuses_them() {
    let dir = tempfile::tempdir().unwrap();
    let server = server_with_key_file(dir.path()).await;
    let k = keys();

    // The response, as AWS shapes it.
    let token = k.rsa.sign(&claims(ISSUER));
    let out = anonymous_sts(&server)
        .assume_role_with_web_identity()
        .role_arn(role_arn())
        .role_session_name("app")
        .web_identity_token(&token)
        .send()
        .await
        .expect("AssumeRoleWithWebIdentity");
    assert_eq!(out.subject_from_web_identity_token(), Some(SUBJECT));
    assert_eq!(out.audience(), Some(AUDIENCE));
    assert_eq!(
        out.provider(),
        Some(format!("arn:aws:iam::{ACCOUNT_ID}:oidc-provider/{ISSUER_HOST}").as_str())
    );
    let user = out.assumed_role_user().unwrap();
    assert_eq!(
        user.arn(),
        format!("arn:aws:sts::{ACCOUNT_ID}:assumed-role/{ROLE}/app")
    );
    assert!(user.assumed_role_id().starts_with("AROA"));
    assert!(user.assumed_role_id().ends_with(":app"));
    let creds = out.credentials().unwrap();
    assert!(creds.access_key_id().starts_with("ASIA"));
    // The session works, under the role's own policies.
    let session = server.session_config(creds).await;
    let identity = aws_sdk_sts::Client::new(&session)
        .get_caller_identity()
        .send()
        .await
        .unwrap();
    assert_eq!(identity.arn(), Some(user.arn()));
    let iam = aws_sdk_iam::Client::new(&session);
    iam.get_role()
        .role_name(ROLE)
        .send()
        .await
        .expect("GetRole");
    assert!(
        iam.list_users().send().await.is_err(),
        "no more than the role allows"
    );

    // ES256 tokens too.
    assert!(assume(&server, &k.ec.sign(&claims(ISSUER))).await.is_ok());

    let refused = |code: &str, message: &str| Err((code.to_owned(), message.to_owned()));
    let wrong_aud = with(claims(ISSUER), "aud", json!("another-audience"));
    assert_eq!(
        assume(&server, &k.rsa.sign(&wrong_aud)).await,
        refused("InvalidIdentityToken", "Incorrect token audience")
    );
    let wrong_sub = with(
        claims(ISSUER),
        "sub",
        json!("system:serviceaccount:ns:other"),
    );
    assert_eq!(
        assume(&server, &k.rsa.sign(&wrong_sub)).await,
        refused(
            "AccessDenied",
            "Not authorized to perform sts:AssumeRoleWithWebIdentity"
        )
    );
    let exp = now() - 3600;
    let expired = with(claims(ISSUER), "exp", json!(exp));
    let (code, message) = assume(&server, &k.rsa.sign(&expired)).await.unwrap_err();
    assert_eq!(code, "ExpiredTokenException");
    assert!(
        message.starts_with("Token expired: current date/time ")
            && message.ends_with(&format!(" must be before the expiration date/time {exp}")),
        "{message}"
    );
    // Same kid, another key: the signature does not verify.
    let (code, _) = assume(&server, &k.impostor.sign(&claims(ISSUER)))
        .await
        .unwrap_err();
    assert_eq!(code, "InvalidIdentityToken");
    // A token altered after signing (another subject; the signature no longer verifies).
    let mut parts: Vec<String> = token.split('.').map(str::to_owned).collect();
    let altered = with(
        claims(ISSUER),
        "sub",
        json!("system:serviceaccount:ns:admin"),
    );
    parts[1] = base64_url(&altered.to_string());
    let (code, _) = assume(&server, &parts.join(".")).await.unwrap_err();
    assert_eq!(code, "InvalidIdentityToken");
    let other_issuer = "https://other.example";
    assert_eq!(
        assume(&server, &k.rsa.sign(&claims(other_issuer))).await,
        refused(
            "InvalidIdentityToken",
            "No OpenIDConnect provider found in your account for https://other.example"
        )
    );
    assert_eq!(
        assume(&server, "not.a-jwt.at-all").await,
        refused(
            "InvalidIdentityToken",
            "The ID Token provided is not a valid JWT. (You may see this error if you sent an Access Token)"
        )
    );

    // Only AssumeRoleWithWebIdentity is served unsigned.
    let unsigned = e2e::raw::unsigned(
        &server.endpoint,
        "POST",
        "/",
        &[("content-type", "application/x-www-form-urlencoded")],
        b"Action=GetCallerIdentity&Version=2011-06-15",
    );
    assert_eq!(unsigned.status, 403, "{}", unsigned.body);
    assert!(
        unsigned
            .body
            .contains("<Code>MissingAuthenticationToken</Code>"),
        "{}",
        unsigned.body
    );

    // The trail: the web identity as the caller, never the token.
    let export = Command::new(e2e::binary())
        .args(["audit", "export", "--since", "0", "--data-dir"])
        .arg(&server.data_dir)
        .output()
        .unwrap();
    assert!(export.status.success(), "{export:?}");
    let export = String::from_utf8(export.stdout).unwrap();
    assert!(!export.contains(&token), "a token reached the trail");
    assert!(
        !export.contains(&token[..40]),
        "a token's header reached the trail"
    );
    let records: Vec<Value> = export
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .filter(|r: &Value| r["eventName"] == "AssumeRoleWithWebIdentity")
        .collect();
    let ok = records
        .iter()
        .find(|r| r["errorCode"].is_null())
        .expect("a recorded success");
    let provider = format!("arn:aws:iam::{ACCOUNT_ID}:oidc-provider/{ISSUER_HOST}");
    assert_eq!(
        ok["userIdentity"],
        json!({"type": "WebIdentityUser", "principalId": format!("{provider}:{AUDIENCE}:{SUBJECT}"),
            "userName": SUBJECT, "identityProvider": provider})
    );
    assert_eq!(ok["eventSource"], "sts.amazonaws.com");
    assert_eq!(ok["recipientAccountId"], ACCOUNT_ID);
    assert_eq!(
        ok["requestParameters"]["webIdentityToken"],
        "HIDDEN_DUE_TO_SECURITY_REASONS"
    );
    assert_eq!(
        ok["responseElements"]["subjectFromWebIdentityToken"],
        SUBJECT
    );
    assert!(ok["responseElements"]["credentials"]["sessionToken"].is_null());
    assert!(
        records.iter().any(|r| r["errorCode"] == "AccessDenied"
            && r["userIdentity"]["userName"] == SUBJECT.replace("app", "other")),
        "a refused verified token is recorded with its subject"
    );
    // A token that did not verify: the provider only, without the request's parameters.
    let unproven = records
        .iter()
        .find(|r| r["errorMessage"] == "Incorrect token audience")
        .expect("a refused unverified token is recorded");
    assert_eq!(
        unproven["userIdentity"],
        json!({"type": "WebIdentityUser", "identityProvider": provider})
    );
    assert!(unproven["requestParameters"].is_null());
    assert!(
        !records.iter().any(|r| r["errorMessage"]
            .as_str()
            .is_some_and(|m| m.contains("other.example"))),
        "a token naming no provider of the role's account is not recorded"
    );
    assert!(
        server.logged(&token[..40]).is_empty(),
        "a token reached the log"
    );
}

fn base64_url(text: &str) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(text)
}

/// aws-config's web identity provider, as a profile with `web_identity_token_file` and
/// `role_arn` configures it, against this server.
#[tokio::test(flavor = "multi_thread")]
async fn aws_sdk_rusts_web_identity_provider_gets_a_session() {
    let dir = tempfile::tempdir().unwrap();
    let server = server_with_key_file(dir.path()).await;
    let token_file = dir.path().join("token");
    std::fs::write(&token_file, keys().rsa.sign(&claims(ISSUER))).unwrap();
    let config_file = dir.path().join("config");
    std::fs::write(
        &config_file,
        format!(
            "[profile app]\nregion = {REGION}\nweb_identity_token_file = {}\nrole_arn = {}\n\
             role_session_name = rust-sdk\nendpoint_url = {}\n",
            token_file.display(),
            role_arn(),
            server.endpoint
        ),
    )
    .unwrap();
    let files = aws_runtime::env_config::file::EnvConfigFiles::builder()
        .with_file(
            aws_runtime::env_config::file::EnvConfigFileKind::Config,
            &config_file,
        )
        .build();
    let provider = aws_config::profile::ProfileFileCredentialsProvider::builder()
        .profile_files(files.clone())
        .profile_name("app")
        .build();
    let config = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .profile_files(files)
        .profile_name("app")
        .region(aws_config::Region::new(REGION))
        .endpoint_url(&server.endpoint)
        .credentials_provider(provider)
        .load()
        .await;
    let identity = aws_sdk_sts::Client::new(&config)
        .get_caller_identity()
        .send()
        .await
        .expect("GetCallerIdentity with web identity credentials");
    assert_eq!(
        identity.arn(),
        Some(format!("arn:aws:sts::{ACCOUNT_ID}:assumed-role/{ROLE}/rust-sdk").as_str())
    );
    aws_sdk_iam::Client::new(&config)
        .get_role()
        .role_name(ROLE)
        .send()
        .await
        .expect("GetRole with web identity credentials");
}

/// boto3's web identity provider, configured by the environment as Kubernetes configures it
/// (AWS_WEB_IDENTITY_TOKEN_FILE, AWS_ROLE_ARN), makes calls with its session.
#[tokio::test(flavor = "multi_thread")]
async fn boto3s_web_identity_provider_gets_a_session() {
    let python = if e2e::installed("python3") {
        "python3"
    } else {
        "python"
    };
    let probe = Command::new(python).args(["-c", "import boto3"]).status();
    if !probe.is_ok_and(|s| s.success()) {
        eprintln!("skipped: boto3 is not installed");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let server = server_with_key_file(dir.path()).await;
    let token_file = dir.path().join("token");
    std::fs::write(&token_file, keys().ec.sign(&claims(ISSUER))).unwrap();
    let script = format!(
        "import boto3\n\
         s = boto3.session.Session()\n\
         assert s.get_credentials().method == 'assume-role-with-web-identity', s.get_credentials().method\n\
         print(s.client('sts').get_caller_identity()['Arn'])\n\
         print(s.client('iam').get_role(RoleName='{ROLE}')['Role']['Arn'])\n"
    );
    let out = Command::new(python)
        .args(["-c", &script])
        .env("AWS_WEB_IDENTITY_TOKEN_FILE", &token_file)
        .env("AWS_ROLE_ARN", role_arn())
        .env("AWS_ROLE_SESSION_NAME", "boto3")
        .env("AWS_ENDPOINT_URL", &server.endpoint)
        .env("AWS_DEFAULT_REGION", REGION)
        .env("AWS_CONFIG_FILE", "/dev/null")
        .env("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env_remove("AWS_PROFILE")
        .env_remove("AWS_ACCESS_KEY_ID")
        .env_remove("AWS_SECRET_ACCESS_KEY")
        .env_remove("AWS_SESSION_TOKEN")
        .output()
        .expect("run python");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    assert_eq!(
        stdout.lines().collect::<Vec<_>>(),
        vec![
            format!("arn:aws:sts::{ACCOUNT_ID}:assumed-role/{ROLE}/boto3"),
            role_arn()
        ],
        "{stderr}"
    );
}

/// A test CA and a server certificate for 127.0.0.1 under it.
struct TestCa {
    ca_pem: String,
    ca_der: Vec<u8>,
    chain: Vec<rustls::pki_types::CertificateDer<'static>>,
    key: rustls::pki_types::PrivateKeyDer<'static>,
}

fn test_ca() -> TestCa {
    let ca_key = rcgen::KeyPair::generate().unwrap();
    let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "roleplane e2e issuer CA");
    let ca = ca_params.self_signed(&ca_key).unwrap();
    let issuer = rcgen::Issuer::new(ca_params, ca_key);
    let leaf_key = rcgen::KeyPair::generate().unwrap();
    let leaf_params = rcgen::CertificateParams::new(vec!["127.0.0.1".to_owned()]).unwrap();
    let leaf = leaf_params.signed_by(&leaf_key, &issuer).unwrap();
    TestCa {
        ca_pem: ca.pem(),
        ca_der: ca.der().to_vec(),
        chain: vec![leaf.der().clone(), ca.der().clone()],
        key: rustls::pki_types::PrivateKeyDer::Pkcs8(leaf_key.serialize_der().into()),
    }
}

/// An OIDC issuer on `https://127.0.0.1:PORT`: its discovery document and its key set. Each
/// connection is one request (`Connection: close`).
async fn https_issuer(ca: &TestCa) -> (String, tokio::task::JoinHandle<()>) {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let issuer = format!("https://{}", listener.local_addr().unwrap());
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_no_client_auth()
    .with_single_cert(ca.chain.clone(), ca.key.clone_key())
    .unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let discovery = json!({"issuer": issuer, "jwks_uri": format!("{issuer}/openid/v1/jwks"),
        "response_types_supported": ["id_token"], "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256", "ES256"]})
    .to_string();
    let keys = jwks();
    let task = tokio::spawn(async move {
        loop {
            let Ok((tcp, _)) = listener.accept().await else {
                return;
            };
            let acceptor = acceptor.clone();
            let (discovery, keys) = (discovery.clone(), keys.clone());
            tokio::spawn(async move {
                let Ok(mut tls) = acceptor.accept(tcp).await else {
                    return;
                };
                let mut head = Vec::new();
                let mut buf = [0u8; 1024];
                while !head.windows(4).any(|w| w == b"\r\n\r\n") && head.len() < 16_384 {
                    match tls.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => head.extend_from_slice(&buf[..n]),
                    }
                }
                let head = String::from_utf8_lossy(&head);
                let path = head.split_whitespace().nth(1).unwrap_or("");
                let (status, body) = match path {
                    "/.well-known/openid-configuration" => ("200 OK", discovery),
                    "/openid/v1/jwks" => ("200 OK", keys),
                    _ => ("404 Not Found", String::new()),
                };
                let response = format!(
                    "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = tls.write_all(response.as_bytes()).await;
                let _ = tls.shutdown().await;
            });
        }
    });
    (issuer, task)
}

#[tokio::test(flavor = "multi_thread")]
async fn keys_are_discovered_over_https_under_a_ca_or_a_thumbprint() {
    let ca = test_ca();
    let (issuer, task) = https_issuer(&ca).await;
    let k = keys();

    // Trusted through the operator's CA file.
    let dir = tempfile::tempdir().unwrap();
    let ca_file = dir.path().join("ca.pem");
    std::fs::write(&ca_file, &ca.ca_pem).unwrap();
    let server = Server::start_with(
        &dir.path().join("data"),
        &["--oidc-ca-file", ca_file.to_str().unwrap()],
    );
    provider_and_role(&server, &issuer, &[], false).await;
    let arn = assume(&server, &k.rsa.sign(&claims(&issuer))).await;
    assert_eq!(
        arn,
        Ok(format!("arn:aws:sts::{ACCOUNT_ID}:assumed-role/{ROLE}/app"))
    );
    assert!(assume(&server, &k.ec.sign(&claims(&issuer))).await.is_ok());
    drop(server);

    // Without the CA file: refused until the provider pins the CA's thumbprint.
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start_on(&dir.path().join("data"));
    provider_and_role(&server, &issuer, &[], false).await;
    let (code, message) = assume(&server, &k.rsa.sign(&claims(&issuer)))
        .await
        .unwrap_err();
    assert_eq!(code, "IDPCommunicationError");
    assert!(
        message.starts_with("Couldn't retrieve verification key"),
        "{message}"
    );
    let thumbprint = {
        use sha1::Digest as _;
        hex::encode(sha1::Sha1::digest(&ca.ca_der))
    };
    let provider_arn = format!(
        "arn:aws:iam::{ACCOUNT_ID}:oidc-provider/{}",
        issuer.trim_start_matches("https://")
    );
    server
        .iam()
        .await
        .update_open_id_connect_provider_thumbprint()
        .open_id_connect_provider_arn(&provider_arn)
        .thumbprint_list(&thumbprint)
        .send()
        .await
        .expect("UpdateOpenIDConnectProviderThumbprint");
    assert!(
        assume(&server, &k.rsa.sign(&claims(&issuer))).await.is_ok(),
        "the pinned CA vouches for the issuer"
    );
    task.abort();
}

/// The provider operations through aws-sdk-iam: what Get and List answer, client IDs,
/// thumbprints and tags.
#[tokio::test(flavor = "multi_thread")]
async fn oidc_providers_are_managed_as_iam_manages_them() {
    let server = Server::start();
    let iam = server.iam().await;
    let arn = iam
        .create_open_id_connect_provider()
        .url("https://token.example/path")
        .client_id_list("a")
        .thumbprint_list("a".repeat(40))
        .send()
        .await
        .unwrap()
        .open_id_connect_provider_arn()
        .unwrap()
        .to_owned();
    assert_eq!(
        arn,
        format!("arn:aws:iam::{ACCOUNT_ID}:oidc-provider/token.example/path")
    );
    let duplicate = iam
        .create_open_id_connect_provider()
        .url("https://token.example/path")
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert_eq!(
        aws_sdk_iam::error::ProvideErrorMetadata::message(&duplicate),
        Some("Provider with url https://token.example/path already exists.")
    );
    iam.add_client_id_to_open_id_connect_provider()
        .open_id_connect_provider_arn(&arn)
        .client_id("b")
        .send()
        .await
        .unwrap();
    iam.remove_client_id_from_open_id_connect_provider()
        .open_id_connect_provider_arn(&arn)
        .client_id("a")
        .send()
        .await
        .unwrap();
    iam.tag_open_id_connect_provider()
        .open_id_connect_provider_arn(&arn)
        .tags(
            aws_sdk_iam::types::Tag::builder()
                .key("team")
                .value("blue")
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    let got = iam
        .get_open_id_connect_provider()
        .open_id_connect_provider_arn(&arn)
        .send()
        .await
        .unwrap();
    assert_eq!(got.url(), Some("token.example/path"));
    assert_eq!(got.client_id_list(), ["b"]);
    assert_eq!(got.thumbprint_list(), ["a".repeat(40)]);
    assert_eq!(got.tags().len(), 1);
    assert!(got.create_date().is_some());
    let listed = iam.list_open_id_connect_providers().send().await.unwrap();
    let arns: Vec<_> = listed
        .open_id_connect_provider_list()
        .iter()
        .filter_map(|p| p.arn())
        .collect();
    assert_eq!(arns, [arn.as_str()]);
    iam.delete_open_id_connect_provider()
        .open_id_connect_provider_arn(&arn)
        .send()
        .await
        .unwrap();
    let gone = iam
        .delete_open_id_connect_provider()
        .open_id_connect_provider_arn(&arn)
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert_eq!(
        aws_sdk_iam::error::ProvideErrorMetadata::message(&gone),
        Some(format!("OpenId connect Provider {arn} cannot be found.").as_str())
    );
}

/// Session tags from the token's `https://aws.amazon.com/tags` claim: they need
/// `sts:TagSession` in the trust policy, and become the session's `aws:PrincipalTag/…`.
#[tokio::test(flavor = "multi_thread")]
async fn the_tokens_session_tags_need_tag_session_and_tag_the_session() {
    let dir = tempfile::tempdir().unwrap();
    let server = server_with_key_file(dir.path()).await;
    let k = keys();
    let tagged = with(
        claims(ISSUER),
        "https://aws.amazon.com/tags",
        json!({"principal_tags": {"team": ["blue"]}, "transitive_tag_keys": ["team"]}),
    );
    // The trust policy allows sts:AssumeRoleWithWebIdentity only.
    assert_eq!(
        assume(&server, &k.rsa.sign(&tagged)).await,
        Err((
            "AccessDenied".to_owned(),
            "Not authorized to perform sts:AssumeRoleWithWebIdentity".to_owned()
        ))
    );
    let provider_arn = format!("arn:aws:iam::{ACCOUNT_ID}:oidc-provider/{ISSUER_HOST}");
    let trust = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
        "Principal": {"Federated": provider_arn},
        "Action": ["sts:AssumeRoleWithWebIdentity", "sts:TagSession"],
        "Condition": {"StringEquals": {format!("{ISSUER_HOST}:sub"): SUBJECT}}}]});
    let iam = server.iam().await;
    iam.update_assume_role_policy()
        .role_name(ROLE)
        .policy_document(trust.to_string())
        .send()
        .await
        .unwrap();
    // The role reads itself only from sessions tagged team=blue.
    let by_tag = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
        "Action": "iam:GetRole", "Resource": role_arn(),
        "Condition": {"StringEquals": {"aws:PrincipalTag/team": "blue"}}}]});
    iam.put_role_policy()
        .role_name(ROLE)
        .policy_name("read-self")
        .policy_document(by_tag.to_string())
        .send()
        .await
        .unwrap();
    let session = |token: String| {
        let sts = anonymous_sts(&server);
        async move {
            let out = sts
                .assume_role_with_web_identity()
                .role_arn(role_arn())
                .role_session_name("app")
                .web_identity_token(token)
                .send()
                .await
                .expect("AssumeRoleWithWebIdentity");
            // PackedPolicySize: what roleplane answers (the SDK now deprecates it).
            #[allow(deprecated)]
            let packed = out.packed_policy_size();
            (packed, out.credentials().unwrap().clone())
        }
    };
    let (packed, creds) = session(k.rsa.sign(&tagged)).await;
    assert!(packed.is_some_and(|p| p > 0), "tags are reported as packed");
    let reads = aws_sdk_iam::Client::new(&server.session_config(&creds).await)
        .get_role()
        .role_name(ROLE)
        .send()
        .await;
    assert!(reads.is_ok(), "{reads:?}");
    let (packed, creds) = session(k.rsa.sign(&claims(ISSUER))).await;
    assert_eq!(packed, None);
    let reads = aws_sdk_iam::Client::new(&server.session_config(&creds).await)
        .get_role()
        .role_name(ROLE)
        .send()
        .await;
    assert!(reads.is_err(), "an untagged session may not read the role");
}
