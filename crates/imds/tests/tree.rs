//! The tree beyond credentials: API versions, empty path segments, user data and the keys EC2
//! always serves, each over IMDSv1 and IMDSv2.

mod common;

use std::net::SocketAddr;
use std::sync::Arc;

use common::*;

fn one() -> Fixture {
    fixture(&[("i-0aaaaaaaaaaaaaaaa", "127.0.0.31")], |_| {})
}

/// The same GET without a token and with one; both answers are returned.
async fn both(addr: SocketAddr, path: &str) -> [Response; 2] {
    let token = new_token(addr).await;
    [
        get(addr, path).await,
        get_with_token(addr, path, &token).await,
    ]
}

/// EC2's version list (EC2 User Guide example; 274 bytes, `latest` last, no trailing newline).
const VERSIONS: &str = "1.0\n2007-01-19\n2007-03-01\n2007-08-29\n2007-10-10\n2007-12-15\n\
2008-02-01\n2008-09-01\n2009-04-04\n2011-01-01\n2011-05-01\n2012-01-12\n2014-02-25\n2014-11-05\n\
2015-10-20\n2016-04-19\n2016-06-30\n2016-09-02\n2018-03-28\n2018-08-17\n2018-09-24\n2019-10-01\n\
2020-10-27\n2021-01-03\n2021-03-23\nlatest";

#[tokio::test]
async fn root_lists_every_version_as_ec2_does() {
    let f = one();
    for r in both(f.addrs[0], "/").await {
        assert_eq!((r.status, r.text()), (200, VERSIONS));
        assert_eq!(r.header("content-length"), Some("274"));
        assert_eq!(r.header("content-type"), Some("text/plain"));
    }
}

#[tokio::test]
async fn every_listed_version_serves_the_tree() {
    let f = one();
    let addr = f.addrs[0];
    let token = new_token(addr).await;
    for version in VERSIONS.split('\n') {
        let id = format!("/{version}/meta-data/instance-id");
        assert_eq!(get(addr, &id).await.text(), "i-0aaaaaaaaaaaaaaaa", "{id}");
        let listing = get_with_token(addr, &format!("/{version}/"), &token).await;
        assert_eq!(
            (listing.status, listing.text()),
            (200, "dynamic\nmeta-data")
        );
        let creds = format!("/{version}/meta-data/iam/security-credentials/s3access");
        assert_eq!(
            get_with_token(addr, &creds, &token).await.status,
            200,
            "{creds}"
        );
    }
    // cloud-init's first choice and its fallback.
    for path in ["/2021-03-23/meta-data/", "/2009-04-04/meta-data/"] {
        assert!(get(addr, path).await.text().starts_with("ami-id\n"));
    }
}

#[tokio::test]
async fn the_token_is_issued_at_latest_only() {
    let f = one();
    let addr = f.addrs[0];
    let ttl = [("X-aws-ec2-metadata-token-ttl-seconds", "21600")];
    for path in ["/2021-03-23/api/token", "/1.0/api/token"] {
        assert_eq!(request(addr, "PUT", path, &ttl).await.status, 403, "{path}");
    }
    assert_eq!(
        request(addr, "PUT", "/latest/api/token", &ttl).await.status,
        200
    );
}

#[tokio::test]
async fn empty_segments_are_collapsed() {
    let f = one();
    for path in [
        "/latest//meta-data/reservation-id",
        "//latest/meta-data/reservation-id",
        "/latest/meta-data//reservation-id//",
        "/2009-04-04//meta-data///reservation-id",
    ] {
        for r in both(f.addrs[0], path).await {
            assert_eq!((r.status, r.text()), (200, "r-0123456789abcdef0"), "{path}");
        }
    }
    let r = get(f.addrs[0], "//").await;
    assert_eq!(r.text(), VERSIONS);
    // Collapsing is not normalising: dot segments still name nothing.
    assert_eq!(
        get(f.addrs[0], "/latest/./meta-data/ami-id").await.status,
        404
    );
}

#[tokio::test]
async fn user_data_is_served_raw_and_listed_only_when_present() {
    let f = one();
    let addr = f.addrs[0];
    for r in both(addr, "/latest/user-data").await {
        assert_eq!(r.status, 404);
        assert_eq!(r.header("content-type"), Some("text/html"));
        assert!(r.text().contains("<title>404 - Not Found</title>"));
    }
    let data: &[u8] = b"#!/bin/bash\necho hi\n\x00\xff binary too";
    f.source
        .edit(addr.ip(), |v| v.user_data = Some(Arc::from(data)));
    for path in [
        "/latest/user-data",
        "/latest/user-data/",
        "/2009-04-04/user-data",
    ] {
        for r in both(addr, path).await {
            assert_eq!(r.status, 200, "{path}");
            assert_eq!(r.body, data, "{path}");
            assert_eq!(
                r.header("content-type"),
                Some("application/octet-stream"),
                "{path}"
            );
            assert_eq!(r.header("accept-ranges"), Some("none"));
            assert!(r.header("last-modified").is_some());
        }
    }
    for r in both(addr, "/latest/").await {
        assert_eq!(r.text(), "dynamic\nmeta-data\nuser-data");
    }
    assert_eq!(get(addr, "/latest/user-data/x").await.status, 404);
}

#[tokio::test]
async fn keys_ec2_always_serves() {
    let f = one();
    let addr = f.addrs[0];
    let cases: &[(&str, &str)] = &[
        ("/latest/meta-data/ami-launch-index", "0"),
        ("/latest/meta-data/instance-life-cycle", "on-demand"),
        ("/latest/meta-data/profile", "default-hvm"),
        ("/latest/meta-data/services/", "domain\npartition"),
        ("/latest/meta-data/services/domain", "amazonaws.com"),
        ("/latest/meta-data/services/partition", "aws"),
        ("/latest/meta-data/block-device-mapping/", "ami\nroot"),
        ("/latest/meta-data/block-device-mapping/ami", "/dev/xvda"),
        ("/latest/meta-data/block-device-mapping/root", "/dev/xvda"),
    ];
    for (path, body) in cases {
        for r in both(addr, path).await {
            assert_eq!((r.status, r.text()), (200, *body), "{path}");
            assert_eq!(r.header("content-type"), Some("text/plain"), "{path}");
        }
    }
    f.source.edit(addr.ip(), |v| {
        v.launch_index = 7;
        v.region = "cn-north-1".into();
    });
    assert_eq!(
        get(addr, "/latest/meta-data/ami-launch-index").await.text(),
        "7"
    );
    assert_eq!(
        get(addr, "/latest/meta-data/services/partition")
            .await
            .text(),
        "aws-cn"
    );
    assert_eq!(
        get(addr, "/latest/meta-data/services/domain").await.text(),
        "amazonaws.com.cn"
    );
    assert_eq!(
        get(addr, "/latest/meta-data/services/nope").await.status,
        404
    );
}

/// Without a profile `iam/` disappears and the rest of the listing keeps EC2's (sorted) order.
#[tokio::test]
async fn meta_data_listing_is_sorted() {
    let f = one();
    let addr = f.addrs[0];
    f.source.edit(addr.ip(), |v| v.iam = None);
    let listing = get(addr, "/latest/meta-data/").await;
    let lines: Vec<&str> = listing.text().split('\n').collect();
    let mut sorted = lines.clone();
    sorted.sort_unstable();
    assert_eq!(lines, sorted);
    assert!(!lines.contains(&"iam/"));
}

/// `public-keys/` exists only for an instance launched with a key pair: `0=NAME`, then the
/// OpenSSH line with a trailing line break.
#[tokio::test]
async fn public_keys_only_with_a_key_pair() {
    let f = one();
    let addr = f.addrs[0];
    for path in [
        "/latest/meta-data/public-keys/",
        "/latest/meta-data/public-keys/0/openssh-key",
    ] {
        assert_eq!(get(addr, path).await.status, 404, "{path}");
    }
    assert!(
        !get(addr, "/latest/meta-data/")
            .await
            .text()
            .contains("public-keys")
    );
    let line =
        "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl deploy";
    f.source.edit(addr.ip(), |v| {
        v.public_key = Some(("deploy".into(), line.into()));
    });
    let listing = get(addr, "/latest/meta-data/").await;
    let lines: Vec<&str> = listing.text().split('\n').collect();
    assert!(lines.contains(&"public-keys/"));
    let mut sorted = lines.clone();
    sorted.sort_unstable();
    assert_eq!(lines, sorted);
    let cases: &[(&str, String)] = &[
        ("/latest/meta-data/public-keys", "0=deploy".into()),
        ("/latest/meta-data/public-keys/", "0=deploy".into()),
        ("/latest/meta-data/public-keys/0/", "openssh-key".into()),
        (
            "/latest/meta-data/public-keys/0/openssh-key",
            format!("{line}\n"),
        ),
        (
            "/latest//meta-data/public-keys/0/openssh-key",
            format!("{line}\n"),
        ),
    ];
    for (path, body) in cases {
        for r in both(addr, path).await {
            assert_eq!((r.status, r.text()), (200, body.as_str()), "{path}");
            assert_eq!(r.header("content-type"), Some("text/plain"), "{path}");
        }
    }
    assert_eq!(
        get(addr, "/latest/meta-data/public-keys/1/openssh-key")
            .await
            .status,
        404
    );
}
