//! STS through the real aws-sdk-sts crate.

use e2e::{ACCOUNT_ID, ADMIN_KEY_ID, Server};

#[tokio::test]
async fn get_caller_identity_names_the_admin() {
    let server = Server::start();
    let out = server
        .sts()
        .await
        .get_caller_identity()
        .send()
        .await
        .unwrap();
    assert_eq!(out.account(), Some(ACCOUNT_ID));
    assert_eq!(out.arn(), Some("arn:aws:iam::123456789012:user/admin"));
    assert!(out.user_id().unwrap().starts_with("AIDA"));
}

#[tokio::test]
async fn a_wrong_secret_is_signature_does_not_match() {
    let server = Server::start();
    let config = server
        .config(ADMIN_KEY_ID, "not-the-secret-at-all-0000000000000000", None)
        .await;
    let err = aws_sdk_sts::Client::new(&config)
        .get_caller_identity()
        .send()
        .await
        .unwrap_err();
    let service = err.as_service_error().expect("a service error");
    assert_eq!(service.meta().code(), Some("SignatureDoesNotMatch"));
    assert_eq!(err.raw_response().unwrap().status().as_u16(), 403);
}

/// STS ends the message with a period and IAM does not (aws/aws-cli#8918 shows IAM's raw body).
#[tokio::test]
async fn an_unknown_key_is_invalid_client_token_id() {
    let server = Server::start();
    let config = server
        .config(
            "AKIAUNKNOWNKEY000000",
            "whatever-secret-0000000000000000000000",
            None,
        )
        .await;
    let err = aws_sdk_sts::Client::new(&config)
        .get_caller_identity()
        .send()
        .await
        .unwrap_err();
    let service = err.as_service_error().expect("a service error");
    assert_eq!(service.meta().code(), Some("InvalidClientTokenId"));
    assert_eq!(
        service.meta().message(),
        Some("The security token included in the request is invalid.")
    );

    let err = aws_sdk_iam::Client::new(&config)
        .list_roles()
        .send()
        .await
        .unwrap_err();
    let service = err.as_service_error().expect("a service error");
    assert_eq!(
        (service.meta().code(), service.meta().message()),
        (
            Some("InvalidClientTokenId"),
            Some("The security token included in the request is invalid")
        )
    );
}
