//! iam:PassRole at RunInstances, Associate and Replace, with the seed's example policy, and
//! the encoded UnauthorizedOperation message decoded through STS.

use aws_sdk_ec2::error::ProvideErrorMetadata;
use aws_sdk_ec2::types::IamInstanceProfileSpecification;
use e2e::Server;

const TRUST: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;

/// The seed's policy, plus what this test needs to look around and decode the message.
const DEV_POLICY: &str = r#"{"Version":"2012-10-17","Statement":[
  {"Effect":"Allow","Action":["ec2:RunInstances","ec2:AssociateIamInstanceProfile","ec2:ReplaceIamInstanceProfileAssociation"],"Resource":"*"},
  {"Effect":"Allow","Action":"iam:PassRole","Resource":"arn:aws:iam::123456789012:role/DevTeam*"},
  {"Effect":"Allow","Action":["ec2:DescribeIamInstanceProfileAssociations","sts:DecodeAuthorizationMessage"],"Resource":"*"}
]}"#;

async fn profile_with_role(server: &Server, name: &str) {
    let iam = server.iam().await;
    iam.create_role()
        .role_name(name)
        .assume_role_policy_document(TRUST)
        .send()
        .await
        .unwrap();
    iam.create_instance_profile()
        .instance_profile_name(name)
        .send()
        .await
        .unwrap();
    iam.add_role_to_instance_profile()
        .instance_profile_name(name)
        .role_name(name)
        .send()
        .await
        .unwrap();
}

/// A user `dev` with the seed's policy, and its SDK configuration.
async fn dev_config(server: &Server) -> aws_config::SdkConfig {
    let iam = server.iam().await;
    iam.create_user().user_name("dev").send().await.unwrap();
    iam.put_user_policy()
        .user_name("dev")
        .policy_name("ec2-with-roles")
        .policy_document(DEV_POLICY)
        .send()
        .await
        .unwrap();
    server.key_config(&server.access_key("dev").await).await
}

fn by_name(name: &str) -> IamInstanceProfileSpecification {
    IamInstanceProfileSpecification::builder()
        .name(name)
        .build()
}

#[tokio::test]
async fn pass_role_follows_the_seed_policy_and_denials_decode() {
    let server = Server::start();
    profile_with_role(&server, "DevTeamWeb").await;
    profile_with_role(&server, "DevTeamApi").await;
    profile_with_role(&server, "Production").await;
    let dev = aws_sdk_ec2::Client::new(&dev_config(&server).await);

    // Allowed: a DevTeam* role, at launch, then replaced by another DevTeam* role.
    let launched = dev
        .run_instances()
        .image_id("ami-11aa22bb")
        .min_count(1)
        .max_count(1)
        .iam_instance_profile(by_name("DevTeamWeb"))
        .send()
        .await
        .unwrap();
    let id = launched.instances()[0].instance_id().unwrap().to_owned();
    let associations = dev
        .describe_iam_instance_profile_associations()
        .send()
        .await
        .unwrap();
    let association_id = associations.iam_instance_profile_associations()[0]
        .association_id()
        .unwrap()
        .to_owned();

    // Denied: the Production role, at launch, at replace.
    let denied = dev
        .run_instances()
        .image_id("ami-11aa22bb")
        .min_count(1)
        .max_count(1)
        .iam_instance_profile(by_name("Production"))
        .send()
        .await
        .unwrap_err();
    assert_eq!(denied.raw_response().unwrap().status().as_u16(), 403);
    let service = denied.as_service_error().unwrap();
    assert_eq!(service.code(), Some("UnauthorizedOperation"));
    let message = service.message().unwrap();
    let prefix = "You are not authorized to perform this operation. User: arn:aws:iam::123456789012:user/dev is not authorized to perform: iam:PassRole on resource: arn:aws:iam::123456789012:role/Production because no identity-based policy allows the iam:PassRole action. Encoded authorization failure message: ";
    assert!(message.starts_with(prefix), "{message}");
    let encoded = &message[prefix.len()..];

    let replace_denied = dev
        .replace_iam_instance_profile_association()
        .association_id(&association_id)
        .iam_instance_profile(by_name("Production"))
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        replace_denied.as_service_error().unwrap().code(),
        Some("UnauthorizedOperation")
    );
    dev.replace_iam_instance_profile_association()
        .association_id(&association_id)
        .iam_instance_profile(by_name("DevTeamApi"))
        .send()
        .await
        .unwrap();

    // Nothing was launched by the denied call.
    let admin = server.ec2().await;
    let all = admin.describe_instances().send().await.unwrap();
    assert_eq!(all.reservations().len(), 1);
    assert_eq!(
        all.reservations()[0].instances()[0].instance_id(),
        Some(id.as_str())
    );

    // The caller decodes the message through STS DecodeAuthorizationMessage.
    let sts = aws_sdk_sts::Client::new(&dev_config_again(&server).await);
    let decoded = sts
        .decode_authorization_message()
        .encoded_message(encoded)
        .send()
        .await
        .unwrap();
    let json = decoded.decoded_message().unwrap();
    for needle in [
        r#""allowed":false"#,
        r#""explicitDeny":false"#,
        r#""action":"iam:PassRole""#,
        r#""resource":"arn:aws:iam::123456789012:role/Production""#,
        r#""arn":"arn:aws:iam::123456789012:user/dev""#,
        r#""name":"dev""#,
        r#""key":"iam:PassedToService","values":{"items":[{"value":"ec2.amazonaws.com"}]}"#,
        r#""key":"aws:Region","values":{"items":[{"value":"us-east-1"}]}"#,
    ] {
        assert!(json.contains(needle), "{needle} missing in {json}");
    }
}

/// A second key of `dev` for the STS client (the first one's secret is not kept).
async fn dev_config_again(server: &Server) -> aws_config::SdkConfig {
    server.key_config(&server.access_key("dev").await).await
}

#[tokio::test]
async fn associate_checks_pass_role_and_describe_needs_its_own_permission() {
    let server = Server::start();
    profile_with_role(&server, "Production").await;
    profile_with_role(&server, "DevTeamDb").await;
    let admin = server.ec2().await;
    let out = admin
        .run_instances()
        .image_id("ami-11aa22bb")
        .min_count(1)
        .max_count(1)
        .send()
        .await
        .unwrap();
    let id = out.instances()[0].instance_id().unwrap().to_owned();
    let dev = aws_sdk_ec2::Client::new(&dev_config(&server).await);
    let denied = dev
        .associate_iam_instance_profile()
        .instance_id(&id)
        .iam_instance_profile(by_name("Production"))
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        denied.as_service_error().unwrap().code(),
        Some("UnauthorizedOperation")
    );
    dev.associate_iam_instance_profile()
        .instance_id(&id)
        .iam_instance_profile(by_name("DevTeamDb"))
        .send()
        .await
        .unwrap();
    // The seed policy does not grant ec2:DescribeInstances.
    let err = dev.describe_instances().send().await.unwrap_err();
    let service = err.as_service_error().unwrap();
    assert_eq!(service.code(), Some("UnauthorizedOperation"));
    assert!(
        service
            .message()
            .unwrap()
            .contains("is not authorized to perform: ec2:DescribeInstances on resource: *"),
        "{:?}",
        service.message()
    );
}
