//! GetFederationToken and GetAccessKeyInfo through the real aws-sdk-sts crate: federated
//! credentials work where the user's and the session's policies both allow, and nowhere
//! without a session policy.

use e2e::{ACCOUNT_ID, Server, failure, s3_client};

const ISSUER_POLICY: &str = r#"{"Version":"2012-10-17","Statement":[
    {"Effect":"Allow","Action":["sts:GetFederationToken","s3:ListAllMyBuckets"],"Resource":"*"}]}"#;
const S3_ALL: &str =
    r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]}"#;
const EC2_ALL: &str =
    r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"ec2:*","Resource":"*"}]}"#;

async fn issuer(server: &Server) -> aws_sdk_sts::Client {
    let key = server.user_with_key("issuer").await;
    server
        .iam()
        .await
        .put_user_policy()
        .user_name("issuer")
        .policy_name("p")
        .policy_document(ISSUER_POLICY)
        .send()
        .await
        .unwrap();
    aws_sdk_sts::Client::new(&server.key_config(&key).await)
}

// PackedPolicySize is deprecated in the SDK (SessionTokenUtilization replaces it); AWS's
// recorded answer still carries it, and so does ours.
#[allow(deprecated)]
#[tokio::test]
async fn federated_credentials_get_the_intersection_of_user_and_session_policies() {
    let server = Server::start();
    let sts = issuer(&server).await;

    // No session policy: the federated user exists but may do nothing.
    let out = sts
        .get_federation_token()
        .name("app")
        .duration_seconds(900)
        .send()
        .await
        .unwrap();
    let federated = out.federated_user().unwrap();
    assert_eq!(
        federated.arn(),
        format!("arn:aws:sts::{ACCOUNT_ID}:federated-user/app")
    );
    assert_eq!(federated.federated_user_id(), format!("{ACCOUNT_ID}:app"));
    assert_eq!(out.packed_policy_size(), Some(0));
    let creds = out.credentials().unwrap();
    assert!(creds.access_key_id().starts_with("ASIA"));
    let config = server.session_config(creds).await;
    let identity = aws_sdk_sts::Client::new(&config)
        .get_caller_identity()
        .send()
        .await
        .unwrap();
    assert_eq!(
        identity.arn(),
        Some(format!("arn:aws:sts::{ACCOUNT_ID}:federated-user/app").as_str())
    );
    assert_eq!(
        identity.user_id(),
        Some(format!("{ACCOUNT_ID}:app").as_str())
    );
    let denied = s3_client(&config).list_buckets().send().await.unwrap_err();
    assert_eq!(
        denied.as_service_error().and_then(|e| e.meta().code()),
        Some("AccessDenied")
    );

    // A session policy allowing S3: the user's policy allows ListAllMyBuckets, so that works.
    let out = sts
        .get_federation_token()
        .name("app")
        .policy(S3_ALL)
        .send()
        .await
        .unwrap();
    assert!(out.packed_policy_size().unwrap() > 0);
    let config = server.session_config(out.credentials().unwrap()).await;
    s3_client(&config).list_buckets().send().await.unwrap();

    // A session policy cannot grant what the user lacks.
    let out = sts
        .get_federation_token()
        .name("app")
        .policy(EC2_ALL)
        .send()
        .await
        .unwrap();
    let config = server.session_config(out.credentials().unwrap()).await;
    let denied = aws_sdk_ec2::Client::new(&config)
        .describe_instances()
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        denied.as_service_error().and_then(|e| e.meta().code()),
        Some("UnauthorizedOperation")
    );
    // And a federated user calls no IAM operation at all, whatever its policies.
    let out = sts
        .get_federation_token()
        .name("app")
        .policy(S3_ALL)
        .send()
        .await
        .unwrap();
    let config = server.session_config(out.credentials().unwrap()).await;
    let (code, _, status) = failure(aws_sdk_iam::Client::new(&config).list_users().send().await);
    assert_eq!((code.as_str(), status), ("InvalidClientTokenId", 403));
    let federated_sts = aws_sdk_sts::Client::new(&config);
    let refused = federated_sts
        .get_federation_token()
        .name("again")
        .send()
        .await
        .unwrap_err();
    let meta = refused.as_service_error().unwrap().meta();
    assert_eq!(
        (meta.code(), meta.message()),
        (
            Some("AccessDenied"),
            Some("Cannot call GetFederationToken with session credentials")
        )
    );
}

#[tokio::test]
async fn federation_tokens_refuse_long_policies_as_aws_does() {
    let server = Server::start();
    let policy = format!(
        r#"{{"Version":"2012-10-17","Statement":[{}]}}"#,
        (0..30)
            .map(|n| format!(r#"{{"Effect":"Allow","Action":["s3:GetObject","s3:PutObject"],"Resource":"arn:aws:s3:::my-example-bucket-with-long-name/folder-name-{n}/*"}}"#))
            .collect::<Vec<_>>()
            .join(",")
    );
    assert!(policy.len() > 2048);
    let err = server
        .sts()
        .await
        .get_federation_token()
        .name("TestUser")
        .policy(&policy)
        .send()
        .await
        .unwrap_err();
    let meta = err.as_service_error().unwrap().meta();
    assert_eq!(meta.code(), Some("ValidationError"));
    assert_eq!(
        meta.message(),
        Some(
            format!(
                "1 validation error detected: Value '{policy}' at 'policy' failed to satisfy constraint: Member must have length less than or equal to 2048"
            )
            .as_str()
        )
    );
}

#[tokio::test]
async fn access_key_info_names_only_the_callers_own_account() {
    let server = Server::start();
    let sts = server.sts().await;
    let key = server.user_with_key("someone").await;
    let out = sts
        .get_access_key_info()
        .access_key_id(key.access_key_id())
        .send()
        .await
        .unwrap();
    assert_eq!(out.account(), Some(ACCOUNT_ID));

    let (other_key, _) = server.second_account("210987654321");
    for foreign in [other_key.as_str(), "AKIANOSUCHKEY0000000"] {
        let err = sts
            .get_access_key_info()
            .access_key_id(foreign)
            .send()
            .await
            .unwrap_err();
        let meta = err.as_service_error().unwrap().meta();
        assert_eq!(
            (meta.code(), meta.message()),
            (
                Some("InvalidParameterValue"),
                Some(
                    format!("The access key ID {foreign} does not belong to the calling account.")
                        .as_str()
                )
            )
        );
    }
}

/// "A resource-based policy can provide additional permissions for the session" (IAM UG,
/// "Permissions for GetFederationToken"): a bucket policy naming the federated user lets it in
/// even without a session policy, and one naming only the issuing user does not.
#[tokio::test]
async fn a_bucket_policy_naming_the_federated_user_lets_it_in_without_a_session_policy() {
    let server = Server::start();
    let sts = issuer(&server).await;
    let admin_s3 = server.s3().await;
    for bucket in ["fed-named", "issuer-named"] {
        admin_s3
            .create_bucket()
            .bucket(bucket)
            .send()
            .await
            .unwrap();
        admin_s3
            .put_object()
            .bucket(bucket)
            .key("k")
            .body(b"hello".to_vec().into())
            .send()
            .await
            .unwrap();
    }
    let policy = |bucket: &str, principal: &str| {
        format!(
            r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{{"AWS":"{principal}"}},
                "Action":"s3:GetObject","Resource":"arn:aws:s3:::{bucket}/*"}}]}}"#
        )
    };
    admin_s3
        .put_bucket_policy()
        .bucket("fed-named")
        .policy(policy(
            "fed-named",
            &format!("arn:aws:sts::{ACCOUNT_ID}:federated-user/app"),
        ))
        .send()
        .await
        .unwrap();
    admin_s3
        .put_bucket_policy()
        .bucket("issuer-named")
        .policy(policy(
            "issuer-named",
            &format!("arn:aws:iam::{ACCOUNT_ID}:user/issuer"),
        ))
        .send()
        .await
        .unwrap();

    let out = sts.get_federation_token().name("app").send().await.unwrap();
    let s3 = s3_client(&server.session_config(out.credentials().unwrap()).await);
    let got = s3
        .get_object()
        .bucket("fed-named")
        .key("k")
        .send()
        .await
        .unwrap();
    assert_eq!(
        got.body.collect().await.unwrap().into_bytes().as_ref(),
        b"hello"
    );
    let denied = s3
        .get_object()
        .bucket("issuer-named")
        .key("k")
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        denied.as_service_error().and_then(|e| e.meta().code()),
        Some("AccessDenied")
    );
}
