//! CreateTags, DeleteTags and DescribeTags through aws-sdk-ec2: instances and key pairs, EC2's
//! rules and errors, all-or-nothing writes, paging, filters, another account's resources,
//! DescribeInstances and the instance's `tags/instance` following every change, and
//! authorization with tag conditions (tagging at launch included).

use aws_sdk_ec2::Client;
use aws_sdk_ec2::error::ProvideErrorMetadata as _;
use aws_sdk_ec2::primitives::Blob;
use aws_sdk_ec2::types::{
    Filter, InstanceMetadataOptionsRequest, InstanceMetadataTagsState, ResourceType, Tag,
    TagSpecification,
};
use e2e::imds::{get, token};
use e2e::{ACCOUNT_ID, Server};

const IMAGE: &str = "ami-0123456789abcdef0";
const ED25519: &str =
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKm6HYUS+qqLMx8WnF9ybpt5SwXtGRmHaBZip9zjCSyq me@laptop";

fn tag(key: &str, value: &str) -> Tag {
    Tag::builder().key(key).value(value).build()
}

fn filter(name: &str, values: &[&str]) -> Filter {
    let mut f = Filter::builder().name(name);
    for v in values {
        f = f.values(*v);
    }
    f.build()
}

/// (code, message) of a failed EC2 call.
fn error<T, E: aws_sdk_ec2::error::ProvideErrorMetadata>(
    result: Result<T, aws_sdk_ec2::error::SdkError<E, aws_sdk_ec2::config::http::HttpResponse>>,
) -> (String, String) {
    let Err(err) = result else {
        panic!("the call succeeds")
    };
    (
        err.code().unwrap_or("<no code>").to_owned(),
        err.message().unwrap_or("<no message>").to_owned(),
    )
}

/// Every tag DescribeTags lists for the account (with `filters`), as (resource, key, value).
async fn described(ec2: &Client, filters: Vec<Filter>) -> Vec<(String, String, String)> {
    let out = ec2
        .describe_tags()
        .set_filters(Some(filters))
        .send()
        .await
        .expect("DescribeTags");
    out.tags()
        .iter()
        .map(|t| {
            (
                t.resource_id().unwrap_or_default().to_owned(),
                t.key().unwrap_or_default().to_owned(),
                t.value().unwrap_or_default().to_owned(),
            )
        })
        .collect()
}

fn triples(list: &[(&str, &str, &str)]) -> Vec<(String, String, String)> {
    list.iter()
        .map(|(r, k, v)| ((*r).to_owned(), (*k).to_owned(), (*v).to_owned()))
        .collect()
}

async fn import_key(ec2: &Client, name: &str) -> String {
    ec2.import_key_pair()
        .key_name(name)
        .public_key_material(Blob::new(ED25519))
        .send()
        .await
        .expect("ImportKeyPair")
        .key_pair_id()
        .expect("key pair id")
        .to_owned()
}

async fn instance_tags(ec2: &Client, id: &str) -> Vec<(String, String)> {
    let out = ec2
        .describe_instances()
        .instance_ids(id)
        .send()
        .await
        .expect("DescribeInstances");
    let mut tags: Vec<(String, String)> = out.reservations()[0].instances()[0]
        .tags()
        .iter()
        .map(|t| {
            (
                t.key().unwrap_or_default().to_owned(),
                t.value().unwrap_or_default().to_owned(),
            )
        })
        .collect();
    tags.sort();
    tags
}

#[tokio::test]
async fn create_describe_and_delete_on_instances_and_key_pairs() {
    let server = Server::start();
    let ec2 = server.ec2().await;
    let (a, _) = server.launch(None).await;
    let (b, _) = server.launch(None).await;
    let key = import_key(&ec2, "deploy").await;

    ec2.create_tags()
        .resources(&a)
        .resources(&b)
        .resources(&key)
        .tags(tag("Env", "prod"))
        .tags(tag("Owner", ""))
        .send()
        .await
        .expect("CreateTags");
    // Keys are case-sensitive; a value is replaced.
    ec2.create_tags()
        .resources(&a)
        .tags(tag("env", "lower"))
        .tags(tag("Env", "staging"))
        .send()
        .await
        .expect("CreateTags again");
    let mut expected = triples(&[
        (&a, "Env", "staging"),
        (&a, "Owner", ""),
        (&a, "env", "lower"),
        (&b, "Env", "prod"),
        (&b, "Owner", ""),
        (&key, "Env", "prod"),
        (&key, "Owner", ""),
    ]);
    expected.sort();
    let mut all = described(&ec2, Vec::new()).await;
    all.sort();
    assert_eq!(all, expected);
    let types = ec2.describe_tags().send().await.unwrap();
    let key_item = types
        .tags()
        .iter()
        .find(|t| t.resource_id() == Some(key.as_str()))
        .unwrap();
    assert_eq!(key_item.resource_type(), Some(&ResourceType::KeyPair));

    // DescribeInstances and DescribeKeyPairs show the same tags, and their filters follow.
    assert_eq!(
        instance_tags(&ec2, &a).await,
        [("Env", "staging"), ("Owner", ""), ("env", "lower")]
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
    );
    let by_tag = ec2
        .describe_instances()
        .filters(filter("tag:Env", &["prod"]))
        .send()
        .await
        .unwrap();
    let ids: Vec<&str> = by_tag
        .reservations()
        .iter()
        .flat_map(|r| r.instances())
        .filter_map(|i| i.instance_id())
        .collect();
    assert_eq!(ids, [b.as_str()]);
    let pairs = ec2
        .describe_key_pairs()
        .filters(filter("tag:Env", &["prod"]))
        .send()
        .await
        .unwrap();
    assert_eq!(pairs.key_pairs()[0].tags().len(), 2);

    // DeleteTags: a value that differs keeps the tag; a key alone removes any value; an
    // empty value removes only an empty value; no tags removes everything.
    ec2.delete_tags()
        .resources(&a)
        .tags(tag("Env", "prod"))
        .tags(Tag::builder().key("env").build())
        .tags(tag("Owner", ""))
        .send()
        .await
        .expect("DeleteTags");
    assert_eq!(
        instance_tags(&ec2, &a).await,
        [("Env".to_owned(), "staging".to_owned())]
    );
    ec2.delete_tags()
        .resources(&b)
        .resources(&key)
        .send()
        .await
        .expect("DeleteTags without tags");
    let mut left = described(&ec2, Vec::new()).await;
    left.sort();
    assert_eq!(left, triples(&[(&a, "Env", "staging")]));
    // Deleting the key pair takes its tags with it.
    ec2.create_tags()
        .resources(&key)
        .tags(tag("Team", "a"))
        .send()
        .await
        .unwrap();
    ec2.delete_key_pair()
        .key_name("deploy")
        .send()
        .await
        .unwrap();
    assert_eq!(
        described(&ec2, vec![filter("resource-type", &["key-pair"])]).await,
        []
    );
}

#[tokio::test]
async fn ec2s_errors_and_nothing_written_on_any_of_them() {
    let server = Server::start();
    let ec2 = server.ec2().await;
    let (a, _) = server.launch(None).await;
    let missing = "i-0000000000000000f";
    let cases: Vec<(Vec<&str>, Vec<Tag>, &str, String)> = vec![
        (
            vec![a.as_str(), "vol-0123456789abcdef0"],
            vec![tag("k", "v")],
            "InvalidID",
            "The ID 'vol-0123456789abcdef0' is not valid".to_owned(),
        ),
        (
            vec![a.as_str(), "i-xyz"],
            vec![tag("k", "v")],
            "InvalidID",
            "The ID 'i-xyz' is not valid".to_owned(),
        ),
        (
            vec![a.as_str(), missing],
            vec![tag("k", "v")],
            "InvalidInstanceID.NotFound",
            format!("The instance ID '{missing}' does not exist"),
        ),
        (
            vec![a.as_str(), "key-0000000000000000f"],
            vec![tag("k", "v")],
            "InvalidKeyPair.NotFound",
            "The key pair ID 'key-0000000000000000f' does not exist".to_owned(),
        ),
        (
            vec![a.as_str()],
            vec![tag("aws:team", "v")],
            "InvalidParameterValue",
            "Value ( aws:team ) for parameter key is invalid. Tag keys starting with 'aws:' are reserved for internal use".to_owned(),
        ),
        (
            vec![a.as_str()],
            vec![tag(&"k".repeat(129), "v")],
            "InvalidParameterValue",
            "Tag key exceeds the maximum length of 128 characters".to_owned(),
        ),
        (
            vec![a.as_str()],
            vec![tag("k", &"v".repeat(257))],
            "InvalidParameterValue",
            "Tag value exceeds the maximum length of 256 characters".to_owned(),
        ),
        (
            vec![a.as_str()],
            (0..51).map(|n| tag(&format!("k{n}"), "v")).collect(),
            "TagLimitExceeded",
            "The maximum number of Tags for a resource has been reached.".to_owned(),
        ),
    ];
    for (resources, tags, code, message) in cases {
        let result = ec2
            .create_tags()
            .set_resources(Some(resources.iter().map(|r| (*r).to_owned()).collect()))
            .set_tags(Some(tags))
            .send()
            .await;
        assert_eq!(error(result), (code.to_owned(), message), "{resources:?}");
    }
    // Every refusal wrote nothing: only the (empty) launch state remains.
    assert_eq!(described(&ec2, Vec::new()).await, []);

    // 50 is allowed; the 51st on a full instance is refused and a missing resource in the same
    // call changes nothing of the others.
    let fifty: Vec<Tag> = (0..50).map(|n| tag(&format!("k{n:02}"), "v")).collect();
    ec2.create_tags()
        .resources(&a)
        .set_tags(Some(fifty))
        .send()
        .await
        .expect("50 tags");
    let (code, _) = error(
        ec2.create_tags()
            .resources(&a)
            .tags(tag("one", "more"))
            .send()
            .await,
    );
    assert_eq!(code, "TagLimitExceeded");
    let (b, _) = server.launch(None).await;
    let (code, _) = error(
        ec2.delete_tags()
            .resources(&a)
            .resources(missing)
            .send()
            .await,
    );
    assert_eq!(code, "InvalidInstanceID.NotFound");
    assert_eq!(
        described(&ec2, vec![filter("resource-id", &[&a])])
            .await
            .len(),
        50
    );
    let (code, message) = error(
        ec2.delete_tags()
            .resources(&b)
            .tags(tag("aws:x", ""))
            .send()
            .await,
    );
    assert_eq!(
        (code.as_str(), message.as_str()),
        (
            "InvalidParameterValue",
            "Value ( aws:x ) for parameter key is invalid. Tag keys starting with 'aws:' are reserved for internal use"
        )
    );

    // RunInstances applies the same rules to TagSpecification, in RunInstances' words.
    let (code, message) = error(
        ec2.run_instances()
            .image_id(IMAGE)
            .min_count(1)
            .max_count(1)
            .tag_specifications(
                TagSpecification::builder()
                    .resource_type(ResourceType::Instance)
                    .tags(tag("aws:cloudformation:stack-name", "x"))
                    .build(),
            )
            .send()
            .await,
    );
    assert_eq!(
        (code.as_str(), message.as_str()),
        (
            "InvalidParameterValue",
            "Tag keys starting with 'aws:' are reserved for internal use"
        )
    );
}

#[tokio::test]
async fn describe_tags_pages_and_filters() {
    let server = Server::start();
    let ec2 = server.ec2().await;
    let mut ids = Vec::new();
    for _ in 0..3 {
        ids.push(server.launch(None).await.0);
    }
    for (n, id) in ids.iter().enumerate() {
        // Four tags each, one with characters a token must survive.
        ec2.create_tags()
            .resources(id)
            .tags(tag("Name", &format!("web-{n}")))
            .tags(tag("Env", if n == 0 { "prod" } else { "dev" }))
            .tags(tag("a&b <c>", "x"))
            .tags(tag("Team", "core"))
            .send()
            .await
            .unwrap();
    }
    let everything = described(&ec2, Vec::new()).await;
    assert_eq!(everything.len(), 12);

    // Pages of 5: 5, 5, 2, each tag once, in the unpaged order.
    let mut paged = Vec::new();
    let mut next: Option<String> = None;
    let mut pages = 0;
    loop {
        let out = ec2
            .describe_tags()
            .max_results(5)
            .set_next_token(next.clone())
            .send()
            .await
            .expect("a page");
        pages += 1;
        for t in out.tags() {
            paged.push((
                t.resource_id().unwrap().to_owned(),
                t.key().unwrap().to_owned(),
                t.value().unwrap().to_owned(),
            ));
        }
        next = out.next_token().map(str::to_owned);
        if next.is_none() {
            break;
        }
    }
    assert_eq!((pages, &paged), (3, &everything));

    assert_eq!(
        described(&ec2, vec![filter("key", &["Name"])]).await.len(),
        3
    );
    assert_eq!(
        described(&ec2, vec![filter("value", &["web-*"])])
            .await
            .len(),
        3
    );
    assert_eq!(
        described(
            &ec2,
            vec![
                filter("resource-id", &[&ids[1]]),
                filter("key", &["Env", "Team"])
            ]
        )
        .await,
        triples(&[(&ids[1], "Env", "dev"), (&ids[1], "Team", "core")])
    );
    assert_eq!(
        described(&ec2, vec![filter("resource-type", &["instance"])])
            .await
            .len(),
        12
    );
    assert_eq!(
        described(&ec2, vec![filter("resource-type", &["key-pair"])])
            .await
            .len(),
        0
    );
    // tag:Env=prod: the tags of the resources carrying Env=prod.
    let prod = described(&ec2, vec![filter("tag:Env", &["prod"])]).await;
    assert_eq!(prod.len(), 4);
    assert!(prod.iter().all(|(r, _, _)| r == &ids[0]));

    let (code, message) = error(ec2.describe_tags().max_results(4).send().await);
    assert_eq!(code, "InvalidParameterValue");
    assert!(message.contains("maxResults"), "{message}");
    let (code, message) = error(ec2.describe_tags().next_token("forged").send().await);
    assert_eq!(
        (code.as_str(), message.as_str()),
        (
            "InvalidParameterValue",
            "Invalid value 'forged' for nextToken."
        )
    );
    let (code, message) = error(
        ec2.describe_tags()
            .filters(filter("owner-id", &["x"]))
            .send()
            .await,
    );
    assert_eq!(
        (code.as_str(), message.as_str()),
        ("InvalidParameterValue", "The filter 'owner-id' is invalid")
    );
}

#[tokio::test]
async fn another_accounts_resources_are_not_found_and_never_listed() {
    let server = Server::start();
    let ec2 = server.ec2().await;
    let (theirs, _) = server.launch(None).await;
    let their_key = import_key(&ec2, "k").await;
    ec2.create_tags()
        .resources(&theirs)
        .resources(&their_key)
        .tags(tag("Team", "a"))
        .send()
        .await
        .unwrap();
    let (key_id, secret) = server.second_account("210987654321");
    let other = Client::new(&server.config(&key_id, &secret, None).await);
    let (code, message) = error(
        other
            .create_tags()
            .resources(&theirs)
            .tags(tag("x", "y"))
            .send()
            .await,
    );
    assert_eq!(
        (code.as_str(), message),
        (
            "InvalidInstanceID.NotFound",
            format!("The instance ID '{theirs}' does not exist")
        )
    );
    let (code, _) = error(other.delete_tags().resources(&their_key).send().await);
    assert_eq!(code, "InvalidKeyPair.NotFound");
    assert_eq!(described(&other, Vec::new()).await, []);
    assert_eq!(
        described(&ec2, Vec::new()).await.len(),
        2,
        "A's tags are intact"
    );
}

#[tokio::test]
async fn tags_instance_in_imds_follows_create_and_delete() {
    let server = Server::start();
    let ec2 = server.ec2().await;
    let run = ec2
        .run_instances()
        .image_id(IMAGE)
        .min_count(1)
        .max_count(1)
        .metadata_options(
            InstanceMetadataOptionsRequest::builder()
                .instance_metadata_tags(InstanceMetadataTagsState::Enabled)
                .build(),
        )
        .tag_specifications(
            TagSpecification::builder()
                .resource_type(ResourceType::Instance)
                .tags(tag("Name", "web"))
                .build(),
        )
        .send()
        .await
        .expect("RunInstances");
    let instance = &run.instances()[0];
    let id = instance.instance_id().unwrap().to_owned();
    let ip = instance.private_ip_address().unwrap().to_owned();
    let port = server.imds_port;
    let t = token(&ip, port);
    let listing = |t: &str| get(&ip, port, "/latest/meta-data/tags/instance", Some(t)).body;
    assert_eq!(listing(&t), "Name");

    ec2.create_tags()
        .resources(&id)
        .tags(tag("Role", "db"))
        .send()
        .await
        .unwrap();
    // No waiting: the write answers once the metadata service shows it.
    let role = get(&ip, port, "/latest/meta-data/tags/instance/Role", Some(&t));
    assert_eq!((role.status, role.body.as_str()), (200, "db"));
    assert_eq!(listing(&t), "Name\nRole");

    ec2.create_tags()
        .resources(&id)
        .tags(tag("Role", "cache"))
        .send()
        .await
        .unwrap();
    let role = get(&ip, port, "/latest/meta-data/tags/instance/Role", Some(&t));
    assert_eq!(role.body, "cache");

    ec2.delete_tags()
        .resources(&id)
        .tags(Tag::builder().key("Role").build())
        .send()
        .await
        .unwrap();
    let gone = get(&ip, port, "/latest/meta-data/tags/instance/Role", Some(&t));
    assert_eq!(gone.status, 404);
    assert_eq!(listing(&t), "Name");
    ec2.delete_tags().resources(&id).send().await.unwrap();
    let empty = get(&ip, port, "/latest/meta-data/tags/instance", Some(&t));
    assert_eq!((empty.status, empty.body.as_str()), (200, ""));
}

/// A user allowed to tag instances only with `Team=blue`, and to launch instances, tagging
/// them only at launch.
const TAGGER_POLICY: &str = r#"{"Version":"2012-10-17","Statement":[
  {"Effect":"Allow","Action":["ec2:DescribeTags","ec2:RunInstances"],"Resource":"*"},
  {"Effect":"Allow","Action":"ec2:CreateTags","Resource":"arn:aws:ec2:us-east-1:123456789012:instance/*",
   "Condition":{"StringEquals":{"aws:RequestTag/Team":"blue"},"ForAllValues:StringEquals":{"aws:TagKeys":["Team"]}}},
  {"Effect":"Allow","Action":"ec2:CreateTags","Resource":"arn:aws:ec2:us-east-1:123456789012:instance/*",
   "Condition":{"StringEquals":{"ec2:CreateAction":"RunInstances"}}},
  {"Effect":"Allow","Action":"ec2:DeleteTags","Resource":"*",
   "Condition":{"StringEquals":{"ec2:ResourceTag/Owner":"tagger"}}}
]}"#;

#[tokio::test]
async fn tag_conditions_authorize_each_resource_and_tagging_at_launch() {
    let server = Server::start();
    let iam = server.iam().await;
    iam.create_user().user_name("tagger").send().await.unwrap();
    iam.put_user_policy()
        .user_name("tagger")
        .policy_name("tags")
        .policy_document(TAGGER_POLICY)
        .send()
        .await
        .unwrap();
    let tagger = Client::new(&server.key_config(&server.access_key("tagger").await).await);
    let admin = server.ec2().await;
    let (id, _) = server.launch(None).await;

    tagger
        .create_tags()
        .resources(&id)
        .tags(tag("Team", "blue"))
        .send()
        .await
        .expect("Team=blue is allowed");
    for denied in [tag("Team", "red"), tag("Env", "prod")] {
        let (code, message) = error(
            tagger
                .create_tags()
                .resources(&id)
                .tags(denied)
                .send()
                .await,
        );
        assert_eq!(code, "UnauthorizedOperation");
        assert!(
            message.contains(&format!(
                "is not authorized to perform: ec2:CreateTags on resource: arn:aws:ec2:us-east-1:{ACCOUNT_ID}:instance/{id}"
            )),
            "{message}"
        );
    }
    // Denied before existence is revealed: a missing instance is refused alike.
    let (code, _) = error(
        tagger
            .create_tags()
            .resources("i-0000000000000000f")
            .tags(tag("Env", "prod"))
            .send()
            .await,
    );
    assert_eq!(code, "UnauthorizedOperation");

    // DeleteTags by the resource's own tag: only where Owner=tagger.
    let (code, _) = error(tagger.delete_tags().resources(&id).send().await);
    assert_eq!(code, "UnauthorizedOperation");
    admin
        .create_tags()
        .resources(&id)
        .tags(tag("Owner", "tagger"))
        .send()
        .await
        .unwrap();
    tagger
        .delete_tags()
        .resources(&id)
        .tags(Tag::builder().key("Team").build())
        .send()
        .await
        .expect("Owner=tagger allows DeleteTags");
    assert_eq!(
        described(&tagger, vec![filter("resource-id", &[&id])]).await,
        triples(&[(&id, "Owner", "tagger")])
    );

    // RunInstances with tags needs ec2:CreateTags with ec2:CreateAction=RunInstances, which
    // the policy grants; a policy without it refuses the launch (next user).
    tagger
        .run_instances()
        .image_id(IMAGE)
        .min_count(1)
        .max_count(1)
        .tag_specifications(
            TagSpecification::builder()
                .resource_type(ResourceType::Instance)
                .tags(tag("Env", "prod"))
                .build(),
        )
        .send()
        .await
        .expect("tagging at launch");
    iam.create_user()
        .user_name("launcher")
        .send()
        .await
        .unwrap();
    iam.put_user_policy()
        .user_name("launcher")
        .policy_name("launch")
        .policy_document(
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"ec2:RunInstances","Resource":"*"}]}"#,
        )
        .send()
        .await
        .unwrap();
    let launcher = Client::new(
        &server
            .key_config(&server.access_key("launcher").await)
            .await,
    );
    launcher
        .run_instances()
        .image_id(IMAGE)
        .min_count(1)
        .max_count(1)
        .send()
        .await
        .expect("an untagged launch needs no ec2:CreateTags");
    let (code, message) = error(
        launcher
            .run_instances()
            .image_id(IMAGE)
            .min_count(1)
            .max_count(1)
            .tag_specifications(
                TagSpecification::builder()
                    .resource_type(ResourceType::Instance)
                    .tags(tag("Env", "prod"))
                    .build(),
            )
            .send()
            .await,
    );
    assert_eq!(code, "UnauthorizedOperation");
    assert!(message.contains("ec2:CreateTags"), "{message}");
}
