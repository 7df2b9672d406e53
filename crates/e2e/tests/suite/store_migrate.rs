//! `roleplane store migrate --from DATA_DIR --to URL`: a server's embedded store, filled through
//! the SDKs, copied into an empty PostgreSQL database, and a replica on that database serving
//! all of it — keys that sign, tags in their order, policy versions, group members, an
//! instance's role credentials, S3 objects through the data dir's S3 directory — while a second
//! copy into the now filled database is refused.

use std::process::Command;

use aws_sdk_ec2::types::{ResourceType, Tag, TagSpecification};
use e2e::{Server, imds, pg};

const ALLOW_ALL: &str =
    r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#;
const READ: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iam:Get*","Resource":"*"}]}"#;

fn migrate(from: &std::path::Path, to: &str) -> std::process::Output {
    Command::new(e2e::binary())
        .args(["store", "migrate", "--from"])
        .arg(from)
        .args(["--to", to])
        .output()
        .expect("run roleplane store migrate")
}

#[tokio::test]
async fn an_embedded_store_moves_to_postgres_whole() {
    let temp = tempfile::tempdir().unwrap();
    let data = temp.path().join("data");
    let mut server = Server::start_on(&data);
    let (iam, ec2, s3) = (server.iam().await, server.ec2().await, server.s3().await);

    let carol = server.user_with_key("carol").await;
    iam.create_group().group_name("devs").send().await.unwrap();
    iam.add_user_to_group()
        .group_name("devs")
        .user_name("carol")
        .send()
        .await
        .unwrap();
    iam.create_login_profile()
        .user_name("carol")
        .password("Not-a-real-password-1!")
        .send()
        .await
        .unwrap();
    iam.create_account_alias()
        .account_alias("moved-along")
        .send()
        .await
        .unwrap();
    let policy = iam
        .create_policy()
        .policy_name("read")
        .policy_document(READ)
        .send()
        .await
        .unwrap();
    let policy_arn = policy.policy().unwrap().arn().unwrap().to_owned();
    iam.create_policy_version()
        .policy_arn(&policy_arn)
        .policy_document(ALLOW_ALL)
        .set_as_default(true)
        .send()
        .await
        .unwrap();
    server.instance_role("app", "app-profile", ALLOW_ALL).await;
    iam.attach_role_policy()
        .role_name("app")
        .policy_arn(&policy_arn)
        .send()
        .await
        .unwrap();
    let tags = [("team", "platform"), ("env", "test"), ("cost", "42")];
    let mut tag_role = iam.tag_role().role_name("app");
    for (key, value) in tags {
        tag_role = tag_role.tags(
            aws_sdk_iam::types::Tag::builder()
                .key(key)
                .value(value)
                .build()
                .unwrap(),
        );
    }
    tag_role.send().await.unwrap();
    let (instance, ip) = server.launch(Some("app-profile")).await;
    let hosts = ec2
        .allocate_hosts()
        .availability_zone("us-east-1a")
        .instance_family("m5")
        .quantity(1)
        .tag_specifications(
            TagSpecification::builder()
                .resource_type(ResourceType::DedicatedHost)
                .tags(Tag::builder().key("purpose").value("agents").build())
                .build(),
        )
        .send()
        .await
        .unwrap();
    let host = hosts.host_ids()[0].clone();
    s3.create_bucket().bucket("kept").send().await.unwrap();
    s3.put_object()
        .bucket("kept")
        .key("note.txt")
        .body(b"bytes from the data dir".to_vec().into())
        .send()
        .await
        .unwrap();
    server.stop();

    let database = pg::Database::create().await;
    let copied = migrate(&data, &database.url);
    let stdout = String::from_utf8_lossy(&copied.stdout);
    assert!(
        copied.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&copied.stderr)
    );
    assert!(stdout.contains("copied "), "{stdout}");
    assert!(
        !stdout.contains(&database.url),
        "the URL's password is never printed: {stdout}"
    );

    // A replica on the database, with the data dir's master key and S3 directory.
    let master = std::fs::read_to_string(data.join("master.key")).unwrap();
    let s3_dir = data.join("s3");
    let replica = Server::start_configured(
        &[],
        &temp.path().join("replica"),
        &[
            "--store",
            &database.url,
            "--s3-dir",
            s3_dir.to_str().unwrap(),
        ],
        &[("ROLEPLANE_MASTER_KEY", master.trim())],
    );
    let iam = replica.iam().await;

    let caller = aws_sdk_sts::Client::new(&replica.key_config(&carol).await)
        .get_caller_identity()
        .send()
        .await
        .expect("carol's key signs on the replica");
    assert!(caller.arn().unwrap().ends_with(":user/carol"));
    let role = iam.get_role().role_name("app").send().await.unwrap();
    let kept: Vec<_> = role
        .role()
        .unwrap()
        .tags()
        .iter()
        .map(|tag| (tag.key(), tag.value()))
        .collect();
    assert_eq!(kept, tags, "tags keep their order");
    let groups = iam
        .list_groups_for_user()
        .user_name("carol")
        .send()
        .await
        .unwrap();
    assert_eq!(groups.groups()[0].group_name(), "devs");
    let read = iam
        .get_policy()
        .policy_arn(&policy_arn)
        .send()
        .await
        .unwrap();
    assert_eq!(read.policy().unwrap().default_version_id(), Some("v2"));
    iam.get_login_profile()
        .user_name("carol")
        .send()
        .await
        .expect("the login profile moved");
    let aliases = iam.list_account_aliases().send().await.unwrap();
    assert_eq!(aliases.account_aliases(), ["moved-along"]);

    let ec2 = replica.ec2().await;
    let described = ec2
        .describe_instances()
        .instance_ids(&instance)
        .send()
        .await
        .unwrap();
    let described = &described.reservations()[0].instances()[0];
    assert!(
        described
            .iam_instance_profile()
            .and_then(|p| p.arn())
            .is_some_and(|arn| arn.ends_with(":instance-profile/app-profile")),
        "{described:?}"
    );
    let hosts = ec2.describe_hosts().host_ids(&host).send().await.unwrap();
    assert_eq!(hosts.hosts()[0].tags()[0].value(), Some("agents"));

    // The instance's role credentials come from the replica's metadata service.
    let set = imds::credentials(&ip, replica.imds_port, "app", true);
    assert_eq!(set["Code"], "Success");

    let object = e2e::s3_client(&replica.admin_config().await)
        .get_object()
        .bucket("kept")
        .key("note.txt")
        .send()
        .await
        .expect("the object through the data dir's S3 directory");
    let bytes = object.body.collect().await.unwrap().into_bytes();
    assert_eq!(&bytes[..], b"bytes from the data dir");

    // The database holds accounts now: a second copy is refused and changes nothing.
    let again = migrate(&data, &database.url);
    assert!(!again.status.success());
    let stderr = String::from_utf8_lossy(&again.stderr);
    assert!(stderr.contains("already holds accounts"), "{stderr}");
}
