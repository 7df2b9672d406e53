//! In-process tests: STS operations against a real SQLite store, without HTTP. Roles and users
//! are created through the store, so these run independently of the IAM service.

use std::net::SocketAddr;

use policy::{Principal, PrincipalKind};
use protocol::{AwsError, Params, Protocol};
use store::{
    InlinePolicy, NewPolicy, NewRole, NewUser, Principal as Owner, SqliteStore, Store, Tag,
};

use super::Sts;
use crate::credentials::{KeyRing, SealingKey, SessionClaims, SessionPrincipal};
use crate::request::Call;
use crate::request::Service;
use crate::request::{App, Caller, Identity};

const ACCOUNT: &str = "111111111111";
const OTHER: &str = "222222222222";
const NOW: u64 = 1_800_000_000;
const ALLOW_ALL: &str =
    r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#;

struct Fixture {
    app: App<SqliteStore>,
    _dir: tempfile::TempDir,
}

impl Fixture {
    async fn new() -> Fixture {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(dir.path()).await.unwrap();
        store.create_account(ACCOUNT).await.unwrap();
        store.create_account(OTHER).await.unwrap();
        let master = SealingKey::generate().unwrap();
        let ring = KeyRing::new(1, SealingKey::generate().unwrap());
        let app = App::new(store, master, ring, "us-east-1".into());
        Fixture { app, _dir: dir }
    }

    /// A user with the given identity policy (none if `None`).
    async fn user(&self, account: &str, name: &str, policy: Option<&str>) -> Caller {
        let store = self.app.store();
        let user = store
            .create_user(account, NewUser::new(name))
            .await
            .unwrap();
        if let Some(doc) = policy {
            let inline = InlinePolicy {
                name: "p".into(),
                document: doc.into(),
                size: doc.len() as u64,
            };
            store
                .put_inline_policy(account, Owner::User(name), inline, u64::MAX)
                .await
                .unwrap();
        }
        Caller {
            account_id: account.into(),
            access_key_id: "AKIATESTTESTTESTTEST".into(),
            principal: Principal::new(PrincipalKind::IamUser {
                account: account.into(),
                path: "/".into(),
                name: name.into(),
                user_id: Some(user.id.clone()),
            }),
            identity: Identity::User(user),
        }
    }

    async fn role(&self, account: &str, name: &str, trust: &str, policy: Option<&str>) -> String {
        self.role_with(account, NewRole::new(name, trust), policy)
            .await
    }

    async fn role_with(&self, account: &str, role: NewRole, policy: Option<&str>) -> String {
        let store = self.app.store();
        let name = role.name.clone();
        let role = store.create_role(account, role).await.unwrap();
        if let Some(doc) = policy {
            let inline = InlinePolicy {
                name: "p".into(),
                document: doc.into(),
                size: doc.len() as u64,
            };
            store
                .put_inline_policy(account, Owner::Role(&name), inline, u64::MAX)
                .await
                .unwrap();
        }
        role.arn
    }

    async fn call(&self, caller: &Caller, body: &str) -> Result<String, AwsError> {
        let params = Params::decode(Protocol::AwsQuery, body.as_bytes(), 1 << 20).unwrap();
        let call = Call {
            app: &self.app,
            caller,
            operation: params.action(),
            input: &params,
            request_id: "req",
            peer: SocketAddr::from(([127, 0, 0, 1], 40000)),
            now: NOW,
        };
        Service::<SqliteStore>::call(&Sts, &call).await
    }

    async fn assume(&self, caller: &Caller, extra: &str) -> Result<String, AwsError> {
        self.call(
            caller,
            &format!("Action=AssumeRole&Version=2011-06-15{extra}"),
        )
        .await
    }

    /// The session a successful response describes, as the next caller.
    fn session(&self, xml: &str) -> (Caller, SessionClaims) {
        let token = between(xml, "<SessionToken>", "</SessionToken>");
        let claims = self.app.keyring().open(token).unwrap();
        assert_eq!(
            between(xml, "<AccessKeyId>", "</AccessKeyId>"),
            claims.access_key_id
        );
        let principal = match &claims.principal {
            SessionPrincipal::AssumedRole {
                role_arn,
                role_id,
                session_name,
            } => {
                let (_, name) = role_arn.rsplit_once('/').unwrap();
                Principal::new(PrincipalKind::AssumedRole {
                    account: claims.account_id.clone(),
                    role_path: "/".into(),
                    role_name: name.into(),
                    session_name: session_name.clone(),
                    role_id: Some(role_id.clone()),
                })
            }
            SessionPrincipal::UserSession { user_arn, user_id } => {
                Principal::new(PrincipalKind::IamUser {
                    account: claims.account_id.clone(),
                    path: "/".into(),
                    name: user_arn.rsplit_once('/').unwrap().1.into(),
                    user_id: Some(user_id.clone()),
                })
            }
            SessionPrincipal::FederatedUser { name, .. } => {
                Principal::new(PrincipalKind::FederatedUser {
                    account: claims.account_id.clone(),
                    name: name.clone(),
                })
            }
            SessionPrincipal::RootSession => unreachable!(),
        };
        let caller = Caller {
            account_id: claims.account_id.clone(),
            access_key_id: claims.access_key_id.clone(),
            principal,
            identity: Identity::Session(claims.clone()),
        };
        (caller, claims)
    }
}

fn between<'a>(text: &'a str, open: &str, close: &str) -> &'a str {
    let start = text
        .find(open)
        .map(|i| i + open.len())
        .unwrap_or_else(|| panic!("{open} in {text}"));
    let end = text[start..].find(close).unwrap() + start;
    &text[start..end]
}

fn trust(principal: &str) -> String {
    format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{{"AWS":"{principal}"}},"Action":"sts:AssumeRole"}}]}}"#
    )
}

fn trust_with(principal: &str, actions: &str, condition: &str) -> String {
    format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{{"AWS":"{principal}"}},"Action":{actions}{condition}}}]}}"#
    )
}

fn role_arn_param(arn: &str) -> String {
    format!("&RoleArn={}", urlencode(arn))
}

fn urlencode(s: &str) -> String {
    form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

fn assert_error(result: Result<String, AwsError>, code: &str, status: u16, message: &str) {
    let err = result.expect_err("the call must fail");
    assert_eq!(
        (err.code.as_ref(), err.status, err.message.as_str()),
        (code, status, message)
    );
}

#[tokio::test]
async fn a_trusted_user_gets_role_credentials() {
    let f = Fixture::new().await;
    let alice = f.user(ACCOUNT, "alice", None).await;
    let arn = f
        .role(
            ACCOUNT,
            "app",
            &trust("arn:aws:iam::111111111111:user/alice"),
            None,
        )
        .await;
    let xml = f
        .assume(
            &alice,
            &format!("{}&RoleSessionName=s1", role_arn_param(&arn)),
        )
        .await
        .unwrap();
    let (_, claims) = f.session(&xml);
    // An MFA serial number names a device the user does not have (roleplane has none).
    let err = f
        .assume(
            &alice,
            &format!(
                "{}&RoleSessionName=s2&SerialNumber=GAHT12345678&TokenCode=123456",
                role_arn_param(&arn)
            ),
        )
        .await
        .unwrap_err();
    assert_eq!((err.code.as_ref(), err.status), ("AccessDenied", 403));
    assert!(err.message.starts_with("MultiFactorAuthentication failed"));
    // The role's last use is noted in memory and reaches the store at the next flush.
    f.app.last_use().flush(f.app.store()).await.unwrap();
    let role = f.app.store().role_by_name(ACCOUNT, "app").await.unwrap();
    assert!(claims.access_key_id.starts_with("ASIA"));
    assert_eq!(claims.account_id, ACCOUNT);
    assert_eq!(claims.expires_at - claims.issued_at, 3600);
    assert!(!claims.chained);
    assert_eq!(
        between(&xml, "<AssumedRoleId>", "</AssumedRoleId>"),
        format!("{}:s1", role.id)
    );
    assert_eq!(
        between(&xml, "<Arn>", "</Arn>"),
        "arn:aws:sts::111111111111:assumed-role/app/s1"
    );
    assert_eq!(
        between(&xml, "<Expiration>", "</Expiration>"),
        "2027-01-15T09:00:00Z"
    );
    assert!(
        !xml.contains("PackedPolicySize"),
        "no policy, no tags: {xml}"
    );
    assert!(role.last_used.is_some(), "role last used is recorded");
}

#[tokio::test]
async fn trust_policy_must_allow_explicitly() {
    let f = Fixture::new().await;
    let admin = f.user(ACCOUNT, "admin", Some(ALLOW_ALL)).await;
    let bob = f.user(ACCOUNT, "bob", None).await;
    let names_other = f
        .role(
            ACCOUNT,
            "other",
            &trust("arn:aws:iam::111111111111:user/carol"),
            None,
        )
        .await;
    assert_error(
        f.assume(
            &admin,
            &format!("{}&RoleSessionName=ss", role_arn_param(&names_other)),
        )
        .await,
        "AccessDenied",
        403,
        "User: arn:aws:iam::111111111111:user/admin is not authorized to perform: sts:AssumeRole on resource: arn:aws:iam::111111111111:role/other",
    );
    // Trusting the account delegates to identity policies: admin may, bob may not.
    let account = f
        .role(
            ACCOUNT,
            "acct",
            &trust("arn:aws:iam::111111111111:root"),
            None,
        )
        .await;
    let body = format!("{}&RoleSessionName=ss", role_arn_param(&account));
    assert!(f.assume(&admin, &body).await.is_ok());
    assert_error(
        f.assume(&bob, &body).await,
        "AccessDenied",
        403,
        "User: arn:aws:iam::111111111111:user/bob is not authorized to perform: sts:AssumeRole on resource: arn:aws:iam::111111111111:role/acct",
    );
    // An unknown role looks the same as a refused one.
    assert_error(
        f.assume(
            &admin,
            "&RoleArn=arn%3Aaws%3Aiam%3A%3A111111111111%3Arole%2Fnope&RoleSessionName=ss",
        )
        .await,
        "AccessDenied",
        403,
        "User: arn:aws:iam::111111111111:user/admin is not authorized to perform: sts:AssumeRole on resource: arn:aws:iam::111111111111:role/nope",
    );
}

#[tokio::test]
async fn a_role_assumes_itself_only_when_its_trust_policy_names_it_or_its_account() {
    let f = Fixture::new().await;
    let admin = f.user(ACCOUNT, "admin", Some(ALLOW_ALL)).await;
    let anyone = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"*"},"Action":"sts:AssumeRole"}]}"#;
    let arn = f.role(ACCOUNT, "selfish", anyone, Some(ALLOW_ALL)).await;
    let body = format!("{}&RoleSessionName=first", role_arn_param(&arn));
    let (session, _) = f.session(&f.assume(&admin, &body).await.unwrap());
    let again = format!("{}&RoleSessionName=again", role_arn_param(&arn));
    // Trusting anyone does not let the role assume itself.
    assert_error(
        f.assume(&session, &again).await,
        "AccessDenied",
        403,
        "User: arn:aws:sts::111111111111:assumed-role/selfish/first is not authorized to perform: sts:AssumeRole on resource: arn:aws:iam::111111111111:role/selfish",
    );
    // The account ARN (delegating to the role's own policy, which allows it) or the role's own
    // ARN does.
    for principal in [
        r#""arn:aws:iam::111111111111:root""#.to_owned(),
        r#""111111111111""#.to_owned(),
        format!(r#""{arn}""#),
    ] {
        let named = format!(
            r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{{"AWS":{principal}}},"Action":"sts:AssumeRole"}}]}}"#
        );
        f.app
            .store()
            .update_assume_role_policy(ACCOUNT, "selfish", &named, &[])
            .await
            .unwrap();
        let (_, claims) = f.session(&f.assume(&session, &again).await.unwrap());
        assert!(claims.chained, "{principal}");
    }
}

#[tokio::test]
async fn a_role_trusting_its_account_assumes_itself_only_if_its_own_policy_allows_it() {
    let f = Fixture::new().await;
    let admin = f.user(ACCOUNT, "admin", Some(ALLOW_ALL)).await;
    let account_trust = trust("arn:aws:iam::111111111111:root");
    let reads_only = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iam:Get*","Resource":"*"}]}"#;
    let arn = f
        .role(ACCOUNT, "modest", &account_trust, Some(reads_only))
        .await;
    let body = format!("{}&RoleSessionName=first", role_arn_param(&arn));
    let (session, _) = f.session(&f.assume(&admin, &body).await.unwrap());
    let again = format!("{}&RoleSessionName=again", role_arn_param(&arn));
    assert_error(
        f.assume(&session, &again).await,
        "AccessDenied",
        403,
        "User: arn:aws:sts::111111111111:assumed-role/modest/first is not authorized to perform: sts:AssumeRole on resource: arn:aws:iam::111111111111:role/modest",
    );
}

#[tokio::test]
async fn durations_are_capped_by_the_role_and_by_chaining() {
    let f = Fixture::new().await;
    let admin = f.user(ACCOUNT, "admin", Some(ALLOW_ALL)).await;
    let mut long = NewRole::new("long", trust("arn:aws:iam::111111111111:root"));
    long.max_session_duration = Some(7200);
    let arn = f.role_with(ACCOUNT, long, Some(ALLOW_ALL)).await;
    let with = |d: &str| {
        format!(
            "{}&RoleSessionName=ss&DurationSeconds={d}",
            role_arn_param(&arn)
        )
    };
    let (_, claims) = f.session(&f.assume(&admin, &with("7200")).await.unwrap());
    assert_eq!(claims.expires_at - claims.issued_at, 7200);
    assert_error(
        f.assume(&admin, &with("7201")).await,
        "ValidationError",
        400,
        "The requested DurationSeconds exceeds the MaxSessionDuration set for this role.",
    );
    assert_error(
        f.assume(&admin, &with("43201")).await,
        "ValidationError",
        400,
        "1 validation error detected: Value '43201' at 'durationSeconds' failed to satisfy constraint: Member must have value less than or equal to 43200",
    );
    assert_error(
        f.assume(&admin, &with("899")).await,
        "ValidationError",
        400,
        "1 validation error detected: Value '899' at 'durationSeconds' failed to satisfy constraint: Member must have value greater than or equal to 900",
    );
    // A role session assuming a role: at most one hour, whatever the role allows.
    let (session, _) = f.session(&f.assume(&admin, &with("900")).await.unwrap());
    let hop = f.role(ACCOUNT, "hop", &trust(&arn), None).await;
    let hop_with = |d: &str| {
        format!(
            "{}&RoleSessionName=hh&DurationSeconds={d}",
            role_arn_param(&hop)
        )
    };
    assert_error(
        f.assume(&session, &hop_with("3601")).await,
        "ValidationError",
        400,
        "The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining.",
    );
    let (_, chained) = f.session(&f.assume(&session, &hop_with("3600")).await.unwrap());
    assert!(chained.chained);
}

#[tokio::test]
async fn bad_session_names_are_validation_errors() {
    let f = Fixture::new().await;
    let admin = f.user(ACCOUNT, "admin", Some(ALLOW_ALL)).await;
    assert_error(
        f.assume(
            &admin,
            "&RoleArn=arn%3Aaws%3Aiam%3A%3A111111111111%3Arole%2Fr&RoleSessionName=bad%20name",
        )
        .await,
        "ValidationError",
        400,
        r"1 validation error detected: Value 'bad name' at 'roleSessionName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\w+=,.@-]*",
    );
    assert_error(
        f.assume(&admin, "&RoleSessionName=ok").await,
        "ValidationError",
        400,
        "1 validation error detected: Value null at 'roleArn' failed to satisfy constraint: Member must not be null",
    );
}

#[tokio::test]
async fn external_id_conditions_are_enforced() {
    let f = Fixture::new().await;
    let partner = f.user(OTHER, "partner", Some(ALLOW_ALL)).await;
    let t = trust_with(
        "arn:aws:iam::222222222222:root",
        r#""sts:AssumeRole""#,
        r#","Condition":{"StringEquals":{"sts:ExternalId":"secret-42"}}"#,
    );
    let arn = f.role(ACCOUNT, "vendor", &t, None).await;
    let base = format!("{}&RoleSessionName=pp", role_arn_param(&arn));
    let denied = "User: arn:aws:iam::222222222222:user/partner is not authorized to perform: sts:AssumeRole on resource: arn:aws:iam::111111111111:role/vendor";
    assert_error(f.assume(&partner, &base).await, "AccessDenied", 403, denied);
    assert_error(
        f.assume(&partner, &format!("{base}&ExternalId=wrong-1"))
            .await,
        "AccessDenied",
        403,
        denied,
    );
    let (_, claims) = f.session(
        &f.assume(&partner, &format!("{base}&ExternalId=secret-42"))
            .await
            .unwrap(),
    );
    // The session belongs to the role's account.
    assert_eq!(claims.account_id, ACCOUNT);
}

#[tokio::test]
async fn cross_account_needs_both_sides() {
    let f = Fixture::new().await;
    let nobody = f.user(OTHER, "nobody", None).await;
    let arn = f
        .role(
            ACCOUNT,
            "shared",
            &trust("arn:aws:iam::222222222222:root"),
            None,
        )
        .await;
    let body = format!("{}&RoleSessionName=xx", role_arn_param(&arn));
    assert_error(
        f.assume(&nobody, &body).await,
        "AccessDenied",
        403,
        "User: arn:aws:iam::222222222222:user/nobody is not authorized to perform: sts:AssumeRole on resource: arn:aws:iam::111111111111:role/shared",
    );
    let allowed = f
        .user(
            OTHER,
            "allowed",
            Some(&format!(
                r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Action":"sts:AssumeRole","Resource":"{arn}"}}]}}"#
            )),
        )
        .await;
    assert!(f.assume(&allowed, &body).await.is_ok());
    let untrusted = f
        .role(
            ACCOUNT,
            "untrusted",
            &trust("arn:aws:iam::111111111111:root"),
            None,
        )
        .await;
    let admin = f.user(OTHER, "admin", Some(ALLOW_ALL)).await;
    assert!(
        f.assume(
            &admin,
            &format!("{}&RoleSessionName=xx", role_arn_param(&untrusted))
        )
        .await
        .is_err()
    );
}

#[tokio::test]
async fn session_tag_keys_differing_only_in_case_are_duplicates() {
    let f = Fixture::new().await;
    let admin = f.user(ACCOUNT, "admin", Some(ALLOW_ALL)).await;
    let t = trust_with(
        "arn:aws:iam::111111111111:root",
        r#"["sts:AssumeRole","sts:TagSession"]"#,
        "",
    );
    let arn = f.role(ACCOUNT, "twice", &t, Some(ALLOW_ALL)).await;
    let tags = "&RoleSessionName=tt&Tags.member.1.Key=Team&Tags.member.1.Value=a&Tags.member.2.Key=team&Tags.member.2.Value=b";
    assert_error(
        f.assume(&admin, &format!("{}{tags}", role_arn_param(&arn)))
            .await,
        "InvalidParameterValue",
        400,
        "Duplicate tag keys found. Please note that Tag keys are case insensitive.",
    );
}

#[tokio::test]
async fn session_tags_need_tag_session_and_flow_transitively() {
    let f = Fixture::new().await;
    let admin = f.user(ACCOUNT, "admin", Some(ALLOW_ALL)).await;
    let plain = f
        .role(
            ACCOUNT,
            "plain",
            &trust("arn:aws:iam::111111111111:root"),
            None,
        )
        .await;
    let tags = "&RoleSessionName=tt&Tags.member.1.Key=team&Tags.member.1.Value=blue&Tags.member.2.Key=env&Tags.member.2.Value=dev&TransitiveTagKeys.member.1=team";
    assert_error(
        f.assume(&admin, &format!("{}{tags}", role_arn_param(&plain)))
            .await,
        "AccessDenied",
        403,
        "User: arn:aws:iam::111111111111:user/admin is not authorized to perform: sts:TagSession on resource: arn:aws:iam::111111111111:role/plain",
    );
    let t = trust_with(
        "arn:aws:iam::111111111111:root",
        r#"["sts:AssumeRole","sts:TagSession"]"#,
        "",
    );
    let mut tagged = NewRole::new("tagged", t.clone());
    tagged.tags = vec![Tag::new("team", "red"), Tag::new("cost", "42")];
    let arn = f.role_with(ACCOUNT, tagged, Some(ALLOW_ALL)).await;
    let xml = f
        .assume(&admin, &format!("{}{tags}", role_arn_param(&arn)))
        .await
        .unwrap();
    assert!(xml.contains("<PackedPolicySize>"), "{xml}");
    let (session, claims) = f.session(&xml);
    let mut got = claims.tags.clone();
    got.sort();
    assert_eq!(
        got,
        [("cost", "42"), ("env", "dev"), ("team", "blue")]
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
    );
    assert_eq!(claims.transitive_tag_keys, ["team"]);
    // Chained: the transitive tag comes along and cannot be overridden; `env` does not.
    let next = f.role(ACCOUNT, "next", &t, None).await;
    let (_, chained) = f.session(
        &f.assume(
            &session,
            &format!("{}&RoleSessionName=nn", role_arn_param(&next)),
        )
        .await
        .unwrap(),
    );
    assert_eq!(chained.tags, [("team".to_owned(), "blue".to_owned())]);
    assert_eq!(chained.transitive_tag_keys, ["team"]);
    let err = f
        .assume(
            &session,
            &format!(
                "{}&RoleSessionName=nn&Tags.member.1.Key=TEAM&Tags.member.1.Value=x",
                role_arn_param(&next)
            ),
        )
        .await
        .unwrap_err();
    assert_eq!(err.status, 400);
    // AWS's recorded wording (LocalStack's test_sts.py, transitive tag cases).
    assert_eq!(
        (err.code.as_ref(), err.message.as_str()),
        (
            "InvalidParameterValue",
            "One of the specified transitive tag keys can't be set because it conflicts with a transitive tag key from the calling session."
        )
    );
    assert_error(
        f.assume(
            &admin,
            &format!(
                "{}&RoleSessionName=tt&Tags.member.1.Key=team&Tags.member.1.Value=blue&TransitiveTagKeys.member.1=InvalidKey",
                role_arn_param(&arn)
            ),
        )
        .await,
        "InvalidParameterValue",
        400,
        "The specified transitive tag key must be included in the requested tags.",
    );
    for bad in ["nothing-valid-in-here", "arn:a:a::aaaaaaaaaa:"] {
        assert_error(
            f.assume(
                &admin,
                &format!("&RoleArn={}&RoleSessionName=tt", urlencode(bad)),
            )
            .await,
            "ValidationError",
            400,
            &format!("{bad} is invalid"),
        );
    }
}

#[tokio::test]
async fn source_identity_needs_permission_and_never_changes() {
    let f = Fixture::new().await;
    let admin = f.user(ACCOUNT, "admin", Some(ALLOW_ALL)).await;
    let plain = f
        .role(
            ACCOUNT,
            "plain",
            &trust("arn:aws:iam::111111111111:root"),
            None,
        )
        .await;
    assert_error(
        f.assume(
            &admin,
            &format!(
                "{}&RoleSessionName=ss&SourceIdentity=alice",
                role_arn_param(&plain)
            ),
        )
        .await,
        "AccessDenied",
        403,
        "User: arn:aws:iam::111111111111:user/admin is not authorized to perform: sts:SetSourceIdentity on resource: arn:aws:iam::111111111111:role/plain",
    );
    let t = trust_with(
        "arn:aws:iam::111111111111:root",
        r#"["sts:AssumeRole","sts:SetSourceIdentity"]"#,
        "",
    );
    let arn = f.role(ACCOUNT, "traced", &t, Some(ALLOW_ALL)).await;
    let xml = f
        .assume(
            &admin,
            &format!(
                "{}&RoleSessionName=ss&SourceIdentity=alice",
                role_arn_param(&arn)
            ),
        )
        .await
        .unwrap();
    assert_eq!(
        between(&xml, "<SourceIdentity>", "</SourceIdentity>"),
        "alice"
    );
    let (session, _) = f.session(&xml);
    let next = f.role(ACCOUNT, "next", &t, None).await;
    let (_, chained) = f.session(
        &f.assume(
            &session,
            &format!("{}&RoleSessionName=nn", role_arn_param(&next)),
        )
        .await
        .unwrap(),
    );
    assert_eq!(chained.source_identity.as_deref(), Some("alice"));
    let err = f
        .assume(
            &session,
            &format!(
                "{}&RoleSessionName=nn&SourceIdentity=mallory",
                role_arn_param(&next)
            ),
        )
        .await
        .unwrap_err();
    assert_eq!((err.code.as_ref(), err.status), ("AccessDenied", 403));
}

#[tokio::test]
async fn session_policies_are_validated_resolved_and_packed() {
    let f = Fixture::new().await;
    let admin = f.user(ACCOUNT, "admin", Some(ALLOW_ALL)).await;
    let arn = f
        .role(
            ACCOUNT,
            "r",
            &trust("arn:aws:iam::111111111111:root"),
            Some(ALLOW_ALL),
        )
        .await;
    let base = format!("{}&RoleSessionName=ss", role_arn_param(&arn));
    let err = f
        .assume(&admin, &format!("{base}&Policy={}", urlencode("{not json")))
        .await
        .unwrap_err();
    assert_eq!(
        (err.code.as_ref(), err.status),
        ("MalformedPolicyDocument", 400)
    );

    let read_only = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iam:Get*","Resource":"*"}]}"#;
    let managed = f
        .app
        .store()
        .create_policy(ACCOUNT, NewPolicy::new("ro", read_only))
        .await
        .unwrap();
    let inline = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]}"#;
    let xml = f
        .assume(
            &admin,
            &format!(
                "{base}&Policy={}&PolicyArns.member.1.arn={}",
                urlencode(inline),
                urlencode(&managed.arn)
            ),
        )
        .await
        .unwrap();
    let (_, claims) = f.session(&xml);
    assert_eq!(claims.session_policies, [inline, read_only]);
    let packed: usize = between(&xml, "<PackedPolicySize>", "</PackedPolicySize>")
        .parse()
        .unwrap();
    let token = between(&xml, "<SessionToken>", "</SessionToken>");
    assert_eq!(packed, (token.len() * 100).div_ceil(super::PACKED_LIMIT));
    assert!((1..=100).contains(&packed));

    let err = f
        .assume(
            &admin,
            &format!(
                "{base}&PolicyArns.member.1.arn={}",
                urlencode("arn:aws:iam::111111111111:policy/none")
            ),
        )
        .await
        .unwrap_err();
    assert_eq!(err.status, 400);

    // Ten large managed policies cannot fit into one token.
    let big_statement = format!(
        r#"{{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::{}/*"}}"#,
        "b".repeat(900)
    );
    let big = format!(r#"{{"Version":"2012-10-17","Statement":[{big_statement}]}}"#);
    let mut arns = String::new();
    for i in 1..=10 {
        let p = f
            .app
            .store()
            .create_policy(ACCOUNT, NewPolicy::new(format!("big{i}"), big.clone()))
            .await
            .unwrap();
        arns.push_str(&format!("&PolicyArns.member.{i}.arn={}", urlencode(&p.arn)));
    }
    let err = f
        .assume(&admin, &format!("{base}{arns}"))
        .await
        .unwrap_err();
    assert_eq!(
        (err.code.as_ref(), err.status),
        ("PackedPolicyTooLarge", 400)
    );
    assert!(
        err.message.starts_with("Packed policy consumes ")
            && err
                .message
                .ends_with("% of allotted space, please use smaller policy."),
        "{}",
        err.message
    );
}

#[tokio::test]
async fn get_session_token_is_for_long_term_credentials() {
    let f = Fixture::new().await;
    let bob = f.user(ACCOUNT, "bob", None).await;
    let xml = f
        .call(&bob, "Action=GetSessionToken&Version=2011-06-15")
        .await
        .unwrap();
    let (session, claims) = f.session(&xml);
    assert_eq!(claims.expires_at - claims.issued_at, 43200);
    let SessionPrincipal::UserSession { user_arn, .. } = &claims.principal else {
        panic!("{:?}", claims.principal)
    };
    assert_eq!(user_arn, "arn:aws:iam::111111111111:user/bob");
    assert_error(
        f.call(&session, "Action=GetSessionToken&Version=2011-06-15")
            .await,
        "AccessDenied",
        403,
        "Cannot call GetSessionToken with session credentials",
    );
    let xml = f
        .call(
            &bob,
            "Action=GetSessionToken&Version=2011-06-15&DurationSeconds=129600",
        )
        .await
        .unwrap();
    assert_eq!(f.session(&xml).1.expires_at - NOW as i64, 129_600);
    // No MFA device exists here, so any serial number is one the user does not have.
    let mfa_failed = "MultiFactorAuthentication failed, unable to validate MFA code.  Please verify your MFA serial number is valid and associated with this user.";
    assert_error(
        f.call(
            &bob,
            "Action=GetSessionToken&Version=2011-06-15&SerialNumber=arn%3Aaws%3Aiam%3A%3A111111111111%3Amfa%2Fbob&TokenCode=123456",
        )
        .await,
        "AccessDenied",
        403,
        mfa_failed,
    );
    assert_error(
        f.call(
            &bob,
            "Action=GetSessionToken&Version=2011-06-15&DurationSeconds=129601",
        )
        .await,
        "ValidationError",
        400,
        "1 validation error detected: Value '129601' at 'durationSeconds' failed to satisfy constraint: Member must have value less than or equal to 129600",
    );
}

#[tokio::test]
async fn authorization_messages_round_trip_for_the_same_account_only() {
    let f = Fixture::new().await;
    let admin = f.user(ACCOUNT, "admin", Some(ALLOW_ALL)).await;
    let bob = f.user(ACCOUNT, "bob", None).await;
    let outsider = f.user(OTHER, "outsider", Some(ALLOW_ALL)).await;
    let json = r#"{"allowed":false,"explicitDeny":false,"matchedStatements":{"items":[]}}"#;
    let encoded = super::encode_authorization_message(&f.app, ACCOUNT, json).unwrap();
    assert!(
        encoded
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    );
    let body =
        format!("Action=DecodeAuthorizationMessage&Version=2011-06-15&EncodedMessage={encoded}");
    let xml = f.call(&admin, &body).await.unwrap();
    assert_eq!(
        between(&xml, "<DecodedMessage>", "</DecodedMessage>"),
        json.replace('"', "&quot;")
    );
    assert_error(
        f.call(&bob, &body).await,
        "AccessDenied",
        403,
        "User: arn:aws:iam::111111111111:user/bob is not authorized to perform: sts:DecodeAuthorizationMessage on resource: * because no identity-based policy allows the sts:DecodeAuthorizationMessage action",
    );
    let invalid = "The encoded authorization message is invalid.";
    assert_error(
        f.call(&outsider, &body).await,
        "InvalidAuthorizationMessageException",
        400,
        invalid,
    );
    let mut tampered = encoded.clone().into_bytes();
    tampered[10] = if tampered[10] == b'A' { b'B' } else { b'A' };
    let tampered = String::from_utf8(tampered).unwrap();
    for garbage in ["garbage", "!!!", tampered.as_str()] {
        assert_error(
            f.call(
                &admin,
                &format!(
                    "Action=DecodeAuthorizationMessage&Version=2011-06-15&EncodedMessage={garbage}"
                ),
            )
            .await,
            "InvalidAuthorizationMessageException",
            400,
            invalid,
        );
    }
}

#[test]
fn the_packed_limit_is_the_longest_token_the_ring_opens() {
    let ring = KeyRing::new(1, SealingKey::generate().unwrap());
    let claims = |padding: usize| SessionClaims {
        access_key_id: "ASIAEXAMPLEEXAMPLE01".into(),
        secret_access_key: "s".into(),
        account_id: ACCOUNT.into(),
        principal: SessionPrincipal::RootSession,
        issued_at: 0,
        expires_at: 1,
        session_policies: vec!["x".repeat(padding)],
        tags: vec![],
        transitive_tag_keys: vec![],
        source_identity: None,
        context: vec![],
        chained: false,
    };
    let mut padding = 5000;
    let token = loop {
        let token = ring.seal(&claims(padding)).unwrap();
        if token.len() >= super::PACKED_LIMIT {
            break token;
        }
        padding += 1;
    };
    let at_limit = ring.seal(&claims(padding - 1)).unwrap();
    assert!(at_limit.len() <= super::PACKED_LIMIT);
    assert!(ring.open(&at_limit).is_ok());
    if token.len() > super::PACKED_LIMIT {
        assert!(
            ring.open(&token).is_err(),
            "tokens past the limit do not open"
        );
    }
    assert_eq!(super::packed_policy_size(&at_limit), 100);
}

const FEDERATE: &str = "Action=GetFederationToken&Version=2011-06-15";

#[tokio::test]
async fn federation_tokens_need_permission_on_the_federated_user() {
    let f = Fixture::new().await;
    let bob = f.user(ACCOUNT, "bob", None).await;
    assert_error(
        f.call(&bob, &format!("{FEDERATE}&Name=app")).await,
        "AccessDenied",
        403,
        "User: arn:aws:iam::111111111111:user/bob is not authorized to perform: sts:GetFederationToken on resource: arn:aws:sts::111111111111:federated-user/app because no identity-based policy allows the sts:GetFederationToken action",
    );
    let only_app = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sts:GetFederationToken","Resource":"arn:aws:sts::111111111111:federated-user/app"}]}"#;
    let carol = f.user(ACCOUNT, "carol", Some(only_app)).await;
    assert!(
        f.call(&carol, &format!("{FEDERATE}&Name=app"))
            .await
            .is_ok()
    );
    assert!(
        f.call(&carol, &format!("{FEDERATE}&Name=other"))
            .await
            .is_err()
    );
    // Tags also need sts:TagSession.
    let err = f
        .call(
            &carol,
            &format!("{FEDERATE}&Name=app&Tags.member.1.Key=team&Tags.member.1.Value=a"),
        )
        .await
        .unwrap_err();
    assert!(err.message.contains("sts:TagSession"), "{}", err.message);
}

#[tokio::test]
async fn federation_tokens_describe_the_federated_user() {
    let f = Fixture::new().await;
    let admin = f.user(ACCOUNT, "admin", Some(ALLOW_ALL)).await;
    let xml = f
        .call(&admin, &format!("{FEDERATE}&Name=app@ci"))
        .await
        .unwrap();
    assert_eq!(
        between(&xml, "<FederatedUserId>", "</FederatedUserId>"),
        "111111111111:app@ci"
    );
    assert_eq!(
        between(&xml, "<Arn>", "</Arn>"),
        "arn:aws:sts::111111111111:federated-user/app@ci"
    );
    assert_eq!(
        between(&xml, "<PackedPolicySize>", "</PackedPolicySize>"),
        "0"
    );
    let (session, claims) = f.session(&xml);
    assert_eq!(claims.expires_at - claims.issued_at, 43200);
    assert!(claims.session_policies.is_empty());
    let SessionPrincipal::FederatedUser { user_arn, name, .. } = &claims.principal else {
        panic!("{:?}", claims.principal)
    };
    assert_eq!(
        (user_arn.as_str(), name.as_str()),
        ("arn:aws:iam::111111111111:user/admin", "app@ci")
    );
    assert_eq!(
        session.principal.arn(),
        "arn:aws:sts::111111111111:federated-user/app@ci"
    );
    assert_eq!(
        session.principal.global_key("aws:userid"),
        Some("111111111111:app@ci")
    );
    // A federated user federates no one.
    assert_error(
        f.call(&session, &format!("{FEDERATE}&Name=again")).await,
        "AccessDenied",
        403,
        "Cannot call GetFederationToken with session credentials",
    );

    let policy = urlencode(ALLOW_ALL);
    let xml = f
        .call(
            &admin,
            &format!("{FEDERATE}&Name=app&DurationSeconds=129600&Policy={policy}&Tags.member.1.Key=team&Tags.member.1.Value=a"),
        )
        .await
        .unwrap();
    let (_, claims) = f.session(&xml);
    assert_eq!(claims.expires_at - claims.issued_at, 129_600);
    assert_eq!(claims.session_policies, vec![ALLOW_ALL.to_owned()]);
    assert_eq!(claims.tags, vec![("team".to_owned(), "a".to_owned())]);
    let packed: usize = between(&xml, "<PackedPolicySize>", "</PackedPolicySize>")
        .parse()
        .unwrap();
    assert!(packed > 0);
}

#[tokio::test]
async fn federation_token_input_follows_the_model() {
    let f = Fixture::new().await;
    let admin = f.user(ACCOUNT, "admin", Some(ALLOW_ALL)).await;
    let cases: &[(&str, &str, &str)] = &[
        (
            "",
            "ValidationError",
            "1 validation error detected: Value null at 'name' failed to satisfy constraint: Member must not be null",
        ),
        (
            "&Name=a",
            "ValidationError",
            "1 validation error detected: Value 'a' at 'name' failed to satisfy constraint: Member must have length greater than or equal to 2",
        ),
        (
            "&Name=has%20space",
            "ValidationError",
            r"1 validation error detected: Value 'has space' at 'name' failed to satisfy constraint: Member must satisfy regular expression pattern: [\w+=,.@-]*",
        ),
        (
            "&Name=app&DurationSeconds=899",
            "ValidationError",
            "1 validation error detected: Value '899' at 'durationSeconds' failed to satisfy constraint: Member must have value greater than or equal to 900",
        ),
        ("&Name=app&Policy=not-json", "MalformedPolicyDocument", ""),
        (
            "&Name=app&Tags.member.1.Key=aws%3Ax&Tags.member.1.Value=v",
            "InvalidParameterValue",
            "Tag keys starting with 'aws:' are reserved for internal use",
        ),
        (
            "&Name=app&Tags.member.1.Key=A&Tags.member.1.Value=v&Tags.member.2.Key=a&Tags.member.2.Value=v",
            "InvalidParameterValue",
            "Duplicate tag keys found. Please note that Tag keys are case insensitive.",
        ),
    ];
    for (extra, code, message) in cases {
        let err = f
            .call(&admin, &format!("{FEDERATE}{extra}"))
            .await
            .expect_err(extra);
        assert_eq!(err.code.as_ref(), *code, "{extra}: {}", err.message);
        if !message.is_empty() {
            assert_eq!(err.message, *message, "{extra}");
        }
    }
    let long = format!("{{\"x\":\"{}\"}}", "a".repeat(2048));
    let err = f
        .call(
            &admin,
            &format!("{FEDERATE}&Name=app&Policy={}", urlencode(&long)),
        )
        .await
        .unwrap_err();
    assert!(
        err.message
            .ends_with("at 'policy' failed to satisfy constraint: Member must have length less than or equal to 2048"),
        "{}",
        err.message
    );
}

#[tokio::test]
async fn federated_users_inherit_the_users_tags_overridden_by_the_request() {
    let f = Fixture::new().await;
    let store = f.app.store();
    let mut new = NewUser::new("tagged");
    new.tags = vec![
        Tag {
            key: "team".into(),
            value: "core".into(),
        },
        Tag {
            key: "cost".into(),
            value: "1".into(),
        },
    ];
    let user = store.create_user(ACCOUNT, new).await.unwrap();
    let inline = InlinePolicy {
        name: "p".into(),
        document: ALLOW_ALL.into(),
        size: ALLOW_ALL.len() as u64,
    };
    store
        .put_inline_policy(ACCOUNT, Owner::User("tagged"), inline, u64::MAX)
        .await
        .unwrap();
    let caller = Caller {
        account_id: ACCOUNT.into(),
        access_key_id: "AKIATESTTESTTESTTEST".into(),
        principal: Principal::new(PrincipalKind::IamUser {
            account: ACCOUNT.into(),
            path: "/".into(),
            name: "tagged".into(),
            user_id: Some(user.id.clone()),
        }),
        identity: Identity::User(user),
    };
    let xml = f
        .call(
            &caller,
            &format!("{FEDERATE}&Name=app&Tags.member.1.Key=TEAM&Tags.member.1.Value=edge"),
        )
        .await
        .unwrap();
    let (_, claims) = f.session(&xml);
    assert_eq!(
        claims.tags,
        vec![
            ("TEAM".to_owned(), "edge".to_owned()),
            ("cost".to_owned(), "1".to_owned())
        ]
    );
}

#[tokio::test]
async fn federated_credentials_reach_only_get_caller_identity_of_sts_and_no_iam() {
    let f = Fixture::new().await;
    let admin = f.user(ACCOUNT, "admin", Some(ALLOW_ALL)).await;
    let xml = f
        .call(&admin, &format!("{FEDERATE}&Name=app"))
        .await
        .unwrap();
    let (session, _) = f.session(&xml);
    let restrict = super::restrict_session_token_credentials;
    assert!(restrict(&session, "sts", "GetCallerIdentity").is_ok());
    assert!(restrict(&session, "s3", "GetObject").is_ok());
    assert!(restrict(&session, "ec2", "DescribeInstances").is_ok());
    for (service, action) in [
        ("iam", "GetUser"),
        ("iam", "ListRoles"),
        ("sts", "AssumeRole"),
        ("sts", "GetAccessKeyInfo"),
        ("sts", "DecodeAuthorizationMessage"),
    ] {
        assert!(
            restrict(&session, service, action).is_err(),
            "{service}:{action}"
        );
    }
    // GetSessionToken's credentials keep AssumeRole and GetCallerIdentity of STS only.
    let xml = f
        .call(&admin, "Action=GetSessionToken&Version=2011-06-15")
        .await
        .unwrap();
    let (user_session, _) = f.session(&xml);
    assert!(restrict(&user_session, "sts", "AssumeRole").is_ok());
    assert!(restrict(&user_session, "sts", "GetAccessKeyInfo").is_err());
}

#[tokio::test]
async fn access_key_info_answers_for_the_callers_account_only() {
    let f = Fixture::new().await;
    let admin = f.user(ACCOUNT, "admin", Some(ALLOW_ALL)).await;
    let bob = f.user(ACCOUNT, "bob", None).await;
    let store = f.app.store();
    let key = |id: &str| store::NewAccessKey {
        access_key_id: id.into(),
        secret_ciphertext: vec![0],
    };
    store
        .create_access_key(ACCOUNT, "bob", key("AKIAOWNACCOUNTKEY001"))
        .await
        .unwrap();
    f.user(OTHER, "eve", None).await;
    store
        .create_access_key(OTHER, "eve", key("AKIAOTHERACCOUNTKEY1"))
        .await
        .unwrap();
    let info = |id: &str| format!("Action=GetAccessKeyInfo&Version=2011-06-15&AccessKeyId={id}");
    for own in ["AKIAOWNACCOUNTKEY001", "AKIATESTTESTTESTTEST"] {
        let xml = f.call(&admin, &info(own)).await.unwrap();
        assert_eq!(between(&xml, "<Account>", "</Account>"), ACCOUNT);
    }
    // Another account's key and an unknown one get the same answer.
    for foreign in ["AKIAOTHERACCOUNTKEY1", "AKIANOSUCHKEYANYWHER"] {
        assert_error(
            f.call(&admin, &info(foreign)).await,
            "InvalidParameterValue",
            400,
            &format!("The access key ID {foreign} does not belong to the calling account."),
        );
    }
    assert_error(
        f.call(&bob, &info("AKIAOWNACCOUNTKEY001")).await,
        "AccessDenied",
        403,
        "User: arn:aws:iam::111111111111:user/bob is not authorized to perform: sts:GetAccessKeyInfo on resource: * because no identity-based policy allows the sts:GetAccessKeyInfo action",
    );
    assert_error(
        f.call(&admin, &info("AKIA-short")).await,
        "ValidationError",
        400,
        r"2 validation errors detected: Value 'AKIA-short' at 'accessKeyId' failed to satisfy constraint: Member must have length greater than or equal to 16; Value 'AKIA-short' at 'accessKeyId' failed to satisfy constraint: Member must satisfy regular expression pattern: [\w]*",
    );
}
