//! Status codes, headers and bodies of every IMDS rule, over real TCP.

mod common;

use common::*;
use imds::{CredentialsResult, HttpTokens};

const NOT_FOUND_PAGE: &[u8] = b"<?xml version=\"1.0\" encoding=\"iso-8859-1\"?>\n<!DOCTYPE html PUBLIC \"-//W3C//DTD XHTML 1.0 Transitional//EN\"\n\t\t \"http://www.w3.org/TR/xhtml1/DTD/xhtml1-transitional.dtd\">\n<html xmlns=\"http://www.w3.org/1999/xhtml\" xml:lang=\"en\" lang=\"en\">\n <head>\n  <title>404 - Not Found</title>\n </head>\n <body>\n  <h1>404 - Not Found</h1>\n </body>\n</html>\n";

fn one() -> Fixture {
    fixture(&[("i-0aaaaaaaaaaaaaaaa", "127.0.0.21")], |_| {})
}

#[tokio::test]
async fn token_put_echoes_ttl_in_ec2_header_order() {
    let f = one();
    let r = token(f.addrs[0], "21600").await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body.len(), 56);
    assert!(r.text().ends_with("=="));
    assert_eq!(
        r.header_names(),
        [
            "X-Aws-Ec2-Metadata-Token-Ttl-Seconds",
            "Content-Type",
            "Content-Length",
            "Date",
            "Server"
        ]
    );
    assert_eq!(
        r.header("x-aws-ec2-metadata-token-ttl-seconds"),
        Some("21600")
    );
    assert_eq!(r.header("content-type"), Some("text/plain"));
    assert_eq!(r.header("server"), Some("EC2ws"));
    assert_eq!(r.header("date"), Some("Mon, 20 Sep 2021 21:42:26 GMT"));
    assert_eq!(
        token(f.addrs[0], "1")
            .await
            .header("x-aws-ec2-metadata-token-ttl-seconds"),
        Some("1")
    );
}

#[tokio::test]
async fn token_put_rejects_missing_or_invalid_ttl() {
    let f = one();
    let addr = f.addrs[0];
    let missing = request(addr, "PUT", "/latest/api/token", &[]).await;
    assert_eq!(missing.status, 400);
    assert_eq!(missing.header("content-type"), Some("text/html"));
    assert!(missing.text().contains("<title>400 - Bad Request</title>"));
    for bad in ["0", "21601", "-1", "abc", "1.5", ""] {
        assert_eq!(token(addr, bad).await.status, 400, "ttl {bad:?}");
    }
}

#[tokio::test]
async fn token_put_refuses_proxies_versions_and_other_methods() {
    let f = one();
    let addr = f.addrs[0];
    let forwarded = request(
        addr,
        "PUT",
        "/latest/api/token",
        &[
            ("X-aws-ec2-metadata-token-ttl-seconds", "60"),
            ("X-Forwarded-For", "10.0.0.9"),
        ],
    )
    .await;
    assert_eq!(forwarded.status, 403);
    let versioned = request(
        addr,
        "PUT",
        "/2021-03-23/api/token",
        &[("X-aws-ec2-metadata-token-ttl-seconds", "60")],
    )
    .await;
    assert_eq!(versioned.status, 403);
    for method in ["GET", "POST", "DELETE"] {
        let r = request(addr, method, "/latest/api/token", &[]).await;
        assert_eq!(r.status, 405, "{method}");
        assert_eq!(r.header("allow"), Some("OPTIONS, PUT"));
    }
}

#[tokio::test]
async fn get_with_token_carries_remaining_ttl_that_follows_the_clock() {
    let f = one();
    let addr = f.addrs[0];
    let t = new_token(addr).await;
    let r = get_with_token(addr, "/latest/meta-data/instance-id", &t).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.text(), "i-0aaaaaaaaaaaaaaaa");
    assert_eq!(
        r.header_names(),
        [
            "X-Aws-Ec2-Metadata-Token-Ttl-Seconds",
            "Content-Type",
            "Accept-Ranges",
            "Last-Modified",
            "Content-Length",
            "Date",
            "Server"
        ]
    );
    assert_eq!(
        r.header("x-aws-ec2-metadata-token-ttl-seconds"),
        Some("21600")
    );
    assert_eq!(r.header("accept-ranges"), Some("none"));
    assert_eq!(
        r.header("last-modified"),
        Some("Mon, 20 Sep 2021 20:42:26 GMT")
    );
    f.clock.advance(1);
    let r = get_with_token(addr, "/latest/meta-data/instance-id", &t).await;
    assert_eq!(
        r.header("x-aws-ec2-metadata-token-ttl-seconds"),
        Some("21599")
    );
    f.clock.advance(21_598);
    let r = get_with_token(addr, "/latest/meta-data/instance-id", &t).await;
    assert_eq!(r.header("x-aws-ec2-metadata-token-ttl-seconds"), Some("1"));
    f.clock.advance(1);
    let expired = get_with_token(addr, "/latest/meta-data/instance-id", &t).await;
    assert_eq!(expired.status, 401);
    assert!(expired.text().contains("401 - Unauthorized"));
}

#[tokio::test]
async fn token_of_another_instance_or_forged_is_refused() {
    let f = fixture(
        &[
            ("i-0aaaaaaaaaaaaaaaa", "127.0.0.22"),
            ("i-0bbbbbbbbbbbbbbbb", "127.0.0.23"),
        ],
        |_| {},
    );
    let (a, b) = (f.addrs[0], f.addrs[1]);
    let token_a = new_token(a).await;
    assert_eq!(
        get_with_token(a, "/latest/meta-data/instance-id", &token_a)
            .await
            .status,
        200
    );
    let on_b = get_with_token(
        b,
        "/latest/meta-data/iam/security-credentials/s3access",
        &token_a,
    )
    .await;
    assert_eq!(on_b.status, 401);
    let forged = "AQAEAKQRRHnsX8bpWKYZuiwAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA==";
    assert_eq!(forged.len(), 56);
    assert_eq!(
        get_with_token(a, "/latest/meta-data/", forged).await.status,
        401
    );
    assert_eq!(
        get_with_token(a, "/latest/meta-data/", "short")
            .await
            .status,
        401
    );
}

#[tokio::test]
async fn imdsv1_is_allowed_while_optional_and_refused_when_required() {
    let f = one();
    let addr = f.addrs[0];
    let v1 = get(addr, "/latest/meta-data/instance-id").await;
    assert_eq!(v1.status, 200);
    assert_eq!(v1.header("x-aws-ec2-metadata-token-ttl-seconds"), None);
    let ip = addr.ip();
    f.source
        .edit(ip, |v| v.options.http_tokens = HttpTokens::Required);
    assert_eq!(get(addr, "/latest/meta-data/instance-id").await.status, 401);
    let t = new_token(addr).await;
    assert_eq!(
        get_with_token(addr, "/latest/meta-data/instance-id", &t)
            .await
            .status,
        200
    );
}

#[tokio::test]
async fn token_bearing_get_through_a_proxy_is_refused() {
    let f = one();
    let t = new_token(f.addrs[0]).await;
    let r = request(
        f.addrs[0],
        "GET",
        "/latest/meta-data/instance-id",
        &[
            ("X-aws-ec2-metadata-token", &t),
            ("X-Forwarded-For", "1.2.3.4"),
        ],
    )
    .await;
    assert_eq!(r.status, 403);
}

#[tokio::test]
async fn disabled_endpoint_is_403_for_everything() {
    let f = one();
    let addr = f.addrs[0];
    f.source
        .edit(addr.ip(), |v| v.options.http_endpoint_enabled = false);
    assert_eq!(token(addr, "60").await.status, 403);
    assert_eq!(get(addr, "/latest/meta-data/").await.status, 403);
    assert_eq!(get(addr, "/nope").await.status, 403);
}

#[tokio::test]
async fn unknown_paths_get_ec2s_exact_404_page() {
    let f = one();
    for path in [
        "/nope",
        "/latest/meta-data/nope",
        "/latest/meta-data/../meta-data/ami-id",
        "/latest/meta-data/%61mi-id",
        "/2021-03-24/meta-data/ami-id",
        "/LATEST/meta-data/ami-id",
        "/latest/user-data",
        "/latest/meta-data/a/b/c/d/e/f/g/h",
        "/latest/dynamic/instance-identity/dsa2048",
        "/latest/dynamic/instance-identity/signature/x",
    ] {
        let r = get(f.addrs[0], path).await;
        assert_eq!(r.status, 404, "{path}");
        assert_eq!(r.header("content-type"), Some("text/html"), "{path}");
        assert_eq!(r.body, NOT_FOUND_PAGE, "{path}");
        assert_eq!(r.header("content-length"), Some("339"));
    }
}

#[tokio::test]
async fn listings_and_leaves() {
    let f = one();
    let addr = f.addrs[0];
    let cases: &[(&str, &str)] = &[
        ("/latest", "dynamic\nmeta-data"),
        ("/latest/", "dynamic\nmeta-data"),
        (
            "/latest/meta-data/",
            "ami-id\nami-launch-index\nami-manifest-path\nblock-device-mapping/\nhostname\niam/\ninstance-action\ninstance-id\ninstance-life-cycle\ninstance-type\nlocal-hostname\nlocal-ipv4\nmac\nnetwork/\nplacement/\nprofile\nreservation-id\nsecurity-groups\nservices/",
        ),
        ("/latest/meta-data/ami-id", "ami-0123456789abcdef0"),
        ("/latest/meta-data/ami-id/", "ami-0123456789abcdef0"),
        ("/latest/meta-data/hostname", "ip-10-0-0-5.ec2.internal"),
        (
            "/latest/meta-data/local-hostname",
            "ip-10-0-0-5.ec2.internal",
        ),
        ("/latest/meta-data/instance-type", "t3.micro"),
        ("/latest/meta-data/local-ipv4", "127.0.0.21"),
        ("/latest/meta-data/mac", "0e:49:61:0f:c3:11"),
        ("/latest/meta-data/reservation-id", "r-0123456789abcdef0"),
        ("/latest/meta-data/security-groups", "default\nweb"),
        (
            "/latest/meta-data/placement/",
            "availability-zone\navailability-zone-id\nregion",
        ),
        (
            "/latest/meta-data/placement/availability-zone-id",
            "use1-az1",
        ),
        (
            "/latest/meta-data/placement/availability-zone-id/",
            "use1-az1",
        ),
        (
            "/latest/meta-data/placement/availability-zone/",
            "us-east-1a",
        ),
        ("/latest/meta-data/placement/region", "us-east-1"),
        ("/latest/meta-data/iam/", "info\nsecurity-credentials/"),
        ("/latest/meta-data/iam/security-credentials/", "s3access"),
        ("/latest/meta-data/iam/security-credentials", "s3access"),
        (
            "/latest/meta-data/iam/security-credentials-extended/",
            "s3access",
        ),
        ("/latest/dynamic/", "instance-identity/"),
        (
            "/latest/dynamic/instance-identity/",
            "rsa2048\npkcs7\ndocument\nsignature",
        ),
        ("/latest/meta-data/instance-id?x=1", "i-0aaaaaaaaaaaaaaaa"),
    ];
    for (path, body) in cases {
        let r = get(addr, path).await;
        assert_eq!((r.status, r.text()), (200, *body), "{path}");
        assert_eq!(r.header("content-type"), Some("text/plain"), "{path}");
    }
    // The role list has no trailing newline: EC2 sent 21 bytes for a 21-character role.
    let r = get(addr, "/latest/meta-data/iam/security-credentials/").await;
    assert_eq!(r.header("content-length"), Some("8"));
}

/// The network tree, byte for byte: listings without a trailing newline, multi-valued leaves
/// one per line, leaves with or without a trailing `/`, under any version, and the instance's
/// own MAC only.
#[tokio::test]
async fn network_interface_tree() {
    let f = one();
    let addr = f.addrs[0];
    let nic = "/latest/meta-data/network/interfaces/macs/0e:49:61:0f:c3:11";
    let cases: Vec<(String, &str)> = vec![
        ("/latest/meta-data/network".into(), "interfaces/"),
        ("/latest/meta-data/network/".into(), "interfaces/"),
        ("/latest/meta-data/network/interfaces/".into(), "macs/"),
        (
            "/latest/meta-data/network/interfaces/macs/".into(),
            "0e:49:61:0f:c3:11/",
        ),
        (
            format!("{nic}/"),
            "device-number\ninterface-id\nlocal-hostname\nlocal-ipv4s\nmac\nowner-id\nsecurity-group-ids\nsecurity-groups\nsubnet-id\nsubnet-ipv4-cidr-block\nvpc-id\nvpc-ipv4-cidr-block\nvpc-ipv4-cidr-blocks",
        ),
        (format!("{nic}/device-number"), "0"),
        (format!("{nic}/interface-id"), "eni-0be5d828a9a9fcf12"),
        (format!("{nic}/local-hostname"), "ip-10-0-0-5.ec2.internal"),
        (format!("{nic}/local-ipv4s"), "127.0.0.21"),
        (format!("{nic}/mac"), "0e:49:61:0f:c3:11"),
        (format!("{nic}/owner-id"), "123456789012"),
        (
            format!("{nic}/security-group-ids"),
            "sg-0e9890f7df19b3d12\nsg-02aa288b0c6e7374b",
        ),
        (format!("{nic}/security-groups"), "default\nweb"),
        (format!("{nic}/subnet-id"), "subnet-06dae7cfbcd72e932"),
        (format!("{nic}/subnet-ipv4-cidr-block"), "10.0.0.0/8"),
        (format!("{nic}/vpc-id"), "vpc-09e50608f10b6e923"),
        (format!("{nic}/vpc-ipv4-cidr-block"), "10.0.0.0/8"),
        (
            format!("{nic}/vpc-ipv4-cidr-blocks"),
            "10.0.0.0/8\n172.16.0.0/12",
        ),
        (format!("{nic}/vpc-id/"), "vpc-09e50608f10b6e923"),
        (
            "/2009-04-04/meta-data/network/interfaces/macs/0e:49:61:0f:c3:11/subnet-id".into(),
            "subnet-06dae7cfbcd72e932",
        ),
    ];
    for (path, body) in &cases {
        let r = get(addr, path).await;
        assert_eq!((r.status, r.text()), (200, *body), "{path}");
        assert_eq!(r.header("content-type"), Some("text/plain"), "{path}");
    }
    for missing in [
        "/latest/meta-data/network/interfaces/macs/02:00:00:00:00:01/".to_owned(),
        "/latest/meta-data/network/interfaces/macs/02:00:00:00:00:01/vpc-id".to_owned(),
        "/latest/meta-data/network/interfaces/macs/0E:49:61:0F:C3:11/vpc-id".to_owned(),
        format!("{nic}/ipv6s"),
        format!("{nic}/public-ipv4s"),
        format!("{nic}/vpc-id/extra"),
        format!("{nic}/vpc-id/extra/deeper/still"),
        "/latest/meta-data/network/interfaces/other".to_owned(),
        "/latest/meta-data/placement/group-name".to_owned(),
        "/latest/meta-data/placement/partition-number".to_owned(),
        "/latest/meta-data/placement/host-id".to_owned(),
    ] {
        assert_eq!(get(addr, &missing).await.status, 404, "{missing}");
    }
}

/// An instance on a Dedicated Host lists and serves `placement/host-id`; one without shows
/// neither (above).
#[tokio::test]
async fn an_instance_on_a_host_shows_its_host_id() {
    let f = one();
    let ip: std::net::IpAddr = "127.0.0.21".parse().unwrap();
    f.source
        .edit(ip, |v| v.host_id = Some("h-0123456789abcdef0".into()));
    let addr = f.addrs[0];
    let listing = get(addr, "/latest/meta-data/placement/").await;
    assert_eq!(
        (listing.status, listing.text()),
        (
            200,
            "availability-zone\navailability-zone-id\nhost-id\nregion"
        )
    );
    let host = get(addr, "/latest/meta-data/placement/host-id").await;
    assert_eq!((host.status, host.text()), (200, "h-0123456789abcdef0"));
}

#[tokio::test]
async fn head_is_get_without_body() {
    let f = one();
    let r = raw(
        f.addrs[0],
        b"HEAD /latest/meta-data/instance-id HTTP/1.1\r\nHost: 127.0.0.21\r\nConnection: close\r\n\r\n",
    )
    .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.header("content-length"), Some("19"));
    assert!(r.body.is_empty());
}

#[tokio::test]
async fn other_methods_on_metadata_are_405() {
    let f = one();
    for method in ["POST", "DELETE", "OPTIONS", "PUT", "BREW"] {
        let r = request(f.addrs[0], method, "/latest/meta-data/", &[]).await;
        assert_eq!(r.status, 405, "{method}");
        assert_eq!(r.header("allow"), Some("GET, HEAD"));
    }
}

#[tokio::test]
async fn iam_info_bytes() {
    let f = one();
    let r = get(f.addrs[0], "/latest/meta-data/iam/info").await;
    assert_eq!(r.status, 200);
    assert_eq!(
        r.text(),
        "{\n  \"Code\" : \"Success\",\n  \"LastUpdated\" : \"2021-09-20T21:42:26Z\",\n  \"InstanceProfileArn\" : \"arn:aws:iam::123456789012:instance-profile/s3access-profile\",\n  \"InstanceProfileId\" : \"AIPAEXAMPLEPROFILE01\"\n}"
    );
    assert_eq!(
        r.header("last-modified"),
        Some("Mon, 20 Sep 2021 21:42:26 GMT")
    );
}

#[tokio::test]
async fn credentials_bytes_and_delivery_kinds() {
    let f = one();
    let addr = f.addrs[0];
    let v1 = get(addr, "/latest/meta-data/iam/security-credentials/s3access").await;
    assert_eq!(v1.status, 200);
    assert_eq!(v1.header("content-type"), Some("text/plain"));
    assert_eq!(
        v1.text(),
        "{\n  \"Code\" : \"Success\",\n  \"LastUpdated\" : \"2021-09-20T21:42:26Z\",\n  \"Type\" : \"AWS-HMAC\",\n  \"AccessKeyId\" : \"ASIAFAKEV1\",\n  \"SecretAccessKey\" : \"secret/+key\",\n  \"Token\" : \"IQoJb3JpZ2luX2VjEB4aCXVzLWVhc3QtMSJH\",\n  \"Expiration\" : \"2021-09-21T03:42:26Z\"\n}"
    );
    let t = new_token(addr).await;
    let v2 = get_with_token(
        addr,
        "/latest/meta-data/iam/security-credentials-extended/s3access/",
        &t,
    )
    .await;
    assert_eq!(
        v2.text(),
        "{\n  \"Code\" : \"Success\",\n  \"LastUpdated\" : \"2021-09-20T21:42:26Z\",\n  \"Type\" : \"AWS-HMAC\",\n  \"AccessKeyId\" : \"ASIAFAKEV2\",\n  \"SecretAccessKey\" : \"secret/+key\",\n  \"Token\" : \"IQoJb3JpZ2luX2VjEB4aCXVzLWVhc3QtMSJH\",\n  \"Expiration\" : \"2021-09-21T03:42:26Z\",\n  \"AccountId\" : \"123456789012\"\n}"
    );
    let calls = f.source.calls.lock().unwrap().clone();
    assert_eq!(
        calls,
        [
            ("i-0aaaaaaaaaaaaaaaa".to_string(), imds::RoleDelivery::V1),
            ("i-0aaaaaaaaaaaaaaaa".to_string(), imds::RoleDelivery::V2)
        ]
    );
}

#[tokio::test]
async fn wrong_role_no_role_and_no_profile_are_404() {
    let f = one();
    let addr = f.addrs[0];
    assert_eq!(
        get(addr, "/latest/meta-data/iam/security-credentials/other")
            .await
            .status,
        404
    );
    f.source
        .set_result("i-0aaaaaaaaaaaaaaaa", CredentialsResult::NoRole);
    assert_eq!(
        get(addr, "/latest/meta-data/iam/security-credentials/s3access")
            .await
            .status,
        404
    );
    f.source.edit(addr.ip(), |v| v.iam = None);
    assert_eq!(get(addr, "/latest/meta-data/iam/").await.status, 404);
    assert_eq!(
        get(addr, "/latest/meta-data/iam/security-credentials/")
            .await
            .status,
        404
    );
    let listing = get(addr, "/latest/meta-data/").await;
    assert!(!listing.text().contains("iam/"));
}

#[tokio::test]
async fn untrusted_role_gets_assume_role_unauthorized_document() {
    let f = one();
    f.source.set_result(
        "i-0aaaaaaaaaaaaaaaa",
        CredentialsResult::AssumeRoleUnauthorized {
            role_name: "s3access".into(),
            last_updated: at(T0),
        },
    );
    let r = get(
        f.addrs[0],
        "/latest/meta-data/iam/security-credentials/s3access",
    )
    .await;
    assert_eq!(r.status, 200);
    assert_eq!(
        r.text(),
        "{\n  \"Code\" : \"AssumeRoleUnauthorizedAccess\",\n  \"Message\" : \"EC2 cannot assume the role s3access.  Please see documentation at https://docs.aws.amazon.com/IAM/latest/UserGuide/troubleshoot_iam-ec2.html#troubleshoot_iam-ec2_errors-info-doc.\",\n  \"LastUpdated\" : \"2021-09-20T21:42:26Z\"\n}"
    );
}

#[tokio::test]
async fn tags_only_when_enabled() {
    let f = one();
    let addr = f.addrs[0];
    assert_eq!(
        get(addr, "/latest/meta-data/tags/instance").await.status,
        404
    );
    f.source
        .edit(addr.ip(), |v| v.options.instance_metadata_tags = true);
    assert!(
        get(addr, "/latest/meta-data/")
            .await
            .text()
            .ends_with("security-groups\nservices/\ntags/")
    );
    assert_eq!(
        get(addr, "/latest/meta-data/tags/").await.text(),
        "instance"
    );
    // Keys EC2 cannot expose (spaces) are left out.
    assert_eq!(
        get(addr, "/latest/meta-data/tags/instance").await.text(),
        "Name"
    );
    assert_eq!(
        get(addr, "/latest/meta-data/tags/instance/Name")
            .await
            .text(),
        "web-1"
    );
    assert_eq!(
        get(addr, "/latest/meta-data/tags/instance/bad%20key")
            .await
            .status,
        404
    );
    f.source.edit(addr.ip(), |v| v.tags.clear());
    let empty = get(addr, "/latest/meta-data/tags/instance").await;
    assert_eq!((empty.status, empty.body.len()), (200, 0));
}

#[tokio::test]
async fn identity_document_bytes() {
    let f = one();
    let r = get(f.addrs[0], "/latest/dynamic/instance-identity/document").await;
    assert_eq!(r.status, 200);
    assert_eq!(
        r.text(),
        "{\n  \"accountId\" : \"123456789012\",\n  \"architecture\" : \"x86_64\",\n  \"availabilityZone\" : \"us-east-1a\",\n  \"billingProducts\" : null,\n  \"devpayProductCodes\" : null,\n  \"marketplaceProductCodes\" : null,\n  \"imageId\" : \"ami-0123456789abcdef0\",\n  \"instanceId\" : \"i-0aaaaaaaaaaaaaaaa\",\n  \"instanceType\" : \"t3.micro\",\n  \"kernelId\" : null,\n  \"pendingTime\" : \"2021-09-20T20:42:26Z\",\n  \"privateIp\" : \"127.0.0.21\",\n  \"ramdiskId\" : null,\n  \"region\" : \"us-east-1\",\n  \"version\" : \"2017-09-30\"\n}"
    );
}

/// The signature paths serve the source's bytes over exactly the served document, in base64
/// lines of 76 characters, over IMDSv1 and IMDSv2 alike.
#[tokio::test]
async fn identity_signatures_cover_the_served_document() {
    use base64::Engine as _;
    let f = one();
    let addr = f.addrs[0];
    let document = get(addr, "/latest/dynamic/instance-identity/document").await;
    let token = token(addr, "60").await.text().to_owned();
    for (path, label) in [
        ("signature", ""),
        ("rsa2048", "rsa2048:"),
        ("pkcs7", "pkcs7:"),
    ] {
        let path = format!("/latest/dynamic/instance-identity/{path}");
        for r in [
            get(addr, &path).await,
            get_with_token(addr, &path, &token).await,
        ] {
            assert_eq!(r.status, 200, "{path}");
            assert_eq!(r.header("content-type"), Some("text/plain"), "{path}");
            assert_eq!(
                r.header("last-modified"),
                document.header("last-modified"),
                "{path}"
            );
            let lines: Vec<&str> = r.text().split('\n').collect();
            assert!(
                lines[..lines.len() - 1].iter().all(|l| l.len() == 76),
                "{path}"
            );
            assert!(!r.text().ends_with('\n'), "{path}");
            let decoded = base64::engine::general_purpose::STANDARD
                .decode(r.text().replace('\n', ""))
                .unwrap();
            assert_eq!(
                decoded,
                [label.as_bytes(), &document.body].concat(),
                "{path}"
            );
        }
    }
}

/// A source that cannot sign leaves the signature paths 404, the document still served.
#[tokio::test]
async fn unsigned_documents_have_no_signature_paths() {
    let f = one();
    f.source
        .unsigned
        .store(true, std::sync::atomic::Ordering::SeqCst);
    for path in ["signature", "rsa2048", "pkcs7"] {
        let r = get(
            f.addrs[0],
            &format!("/latest/dynamic/instance-identity/{path}"),
        )
        .await;
        assert_eq!(
            (r.status, r.body.as_slice()),
            (404, NOT_FOUND_PAGE),
            "{path}"
        );
    }
    let document = get(f.addrs[0], "/latest/dynamic/instance-identity/document").await;
    assert_eq!(document.status, 200);
}

#[tokio::test]
async fn dns_rebinding_host_is_refused() {
    let f = one();
    let r = raw(
        f.addrs[0],
        b"GET /latest/meta-data/iam/security-credentials/s3access HTTP/1.1\r\nHost: attacker.example\r\n\r\n",
    )
    .await;
    assert_eq!(r.status, 403);
    let ok = raw(
        f.addrs[0],
        b"GET /latest/meta-data/instance-id HTTP/1.0\r\n\r\n",
    )
    .await;
    assert_eq!(ok.status, 200);
}

#[tokio::test]
async fn keep_alive_serves_several_requests_and_close_mode_matches_ec2() {
    use tokio::io::AsyncWriteExt;
    let f = one();
    let mut stream = tokio::net::TcpStream::connect(f.addrs[0]).await.unwrap();
    for _ in 0..3 {
        stream
            .write_all(b"GET /latest/meta-data/ami-id HTTP/1.1\r\nHost: 127.0.0.21\r\n\r\n")
            .await
            .unwrap();
        let r = read_response(&mut stream, false).await.unwrap();
        assert_eq!(r.text(), "ami-0123456789abcdef0");
        assert_eq!(r.header("connection"), None);
    }
    // Pipelined: two requests in one write, two responses in order.
    stream
        .write_all(b"GET /latest/meta-data/mac HTTP/1.1\r\n\r\nGET /latest/meta-data/instance-type HTTP/1.1\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    let mut rest = Vec::new();
    tokio::io::AsyncReadExt::read_to_end(&mut stream, &mut rest)
        .await
        .unwrap();
    let rest = String::from_utf8(rest).unwrap();
    let first = rest
        .find("\r\n\r\n0e:49:61:0f:c3:11HTTP/1.1 200 OK\r\n")
        .unwrap();
    assert!(!rest[..first].contains("Connection"));
    assert!(rest.ends_with("Connection: close\r\n\r\nt3.micro"));

    let ec2 = fixture(&[("i-0ccccccccccccccc", "127.0.0.24")], |c| {
        c.limits.close_after_response = true
    });
    let r = get(ec2.addrs[0], "/latest/meta-data/ami-id").await;
    assert_eq!(r.header_names().last(), Some(&"Connection"));
    assert_eq!(r.header("connection"), Some("close"));
}

#[tokio::test]
async fn listeners_come_and_go() {
    let f = one();
    let addr = f.addrs[0];
    assert_eq!(f.imds.listening(), vec![addr]);
    assert!(f.imds.remove_listener(addr).await);
    assert!(!f.imds.remove_listener(addr).await);
    assert!(tokio::net::TcpStream::connect(addr).await.is_err());
    let again = f.imds.add_listener(addr).unwrap();
    assert_eq!(again, addr);
    assert!(f.imds.add_listener(addr).is_err());
    assert_eq!(get(addr, "/latest/meta-data/ami-id").await.status, 200);
    f.imds.shutdown().await;
    assert!(f.imds.listening().is_empty());
    assert!(tokio::net::TcpStream::connect(addr).await.is_err());
}
