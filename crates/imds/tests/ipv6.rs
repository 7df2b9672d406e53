//! Host mode over IPv6: an IPv6 connection is attributed by its source address and answered
//! only for an instance whose `HttpProtocolIpv6` is enabled; `meta-data/ipv6` shows the
//! instance's first IPv6 address. The listeners are on loopback (`[::1]` and `127.0.0.1`), so
//! the source addresses are `::1` and `127.0.0.1`.

mod common;

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use common::*;
use imds::Mode;

const ID: &str = "i-0eeeeeeeeeeeeeeee";
const V6: IpAddr = IpAddr::V6(Ipv6Addr::LOCALHOST);
const V4: IpAddr = IpAddr::V4(Ipv4Addr::LOCALHOST);

/// One instance holding both loopback addresses, host mode, a listener on each; `None` when
/// this machine has no IPv6 loopback.
fn dual_stack() -> Option<(Fixture, SocketAddr, SocketAddr)> {
    let f = fixture(&[], |c| c.mode = Mode::Host);
    let mut view = instance(ID, "127.0.0.1");
    view.ipv6 = Some("::1".into());
    f.source.put(V4, view.clone());
    f.source.put(V6, view);
    let v6 = f.imds.add_listener(SocketAddr::new(V6, 0)).ok()?;
    let v4 = f.imds.add_listener(SocketAddr::new(V4, 0)).unwrap();
    Some((f, v6, v4))
}

/// Changes the options of the instance under both of its addresses.
fn set_ipv6(f: &Fixture, enabled: bool) {
    for addr in [V4, V6] {
        f.source
            .edit(addr, |v| v.options.http_protocol_ipv6 = enabled);
    }
}

#[tokio::test]
async fn an_instance_is_answered_over_ipv6_only_while_enabled() {
    let Some((f, v6, v4)) = dual_stack() else {
        println!("skipped: IPv6 loopback unavailable");
        return;
    };
    // Disabled (EC2's default): over IPv6 the instance is nobody, token PUT included.
    for (method, path) in [
        ("GET", "/latest/meta-data/instance-id"),
        ("GET", "/latest/meta-data/iam/security-credentials/s3access"),
        ("PUT", "/latest/api/token"),
    ] {
        let headers = [("X-aws-ec2-metadata-token-ttl-seconds", "60")];
        let r = request(v6, method, path, &headers).await;
        assert_eq!(r.status, 404, "{method} {path}");
    }
    // IPv4 does not depend on the setting.
    assert_eq!(get(v4, "/latest/meta-data/instance-id").await.text(), ID);

    set_ipv6(&f, true);
    let r = get(v6, "/latest/meta-data/instance-id").await;
    assert_eq!((r.status, r.text()), (200, ID));
    let token = new_token(v6).await;
    let r = get_with_token(
        v6,
        "/latest/meta-data/iam/security-credentials/s3access",
        &token,
    )
    .await;
    assert_eq!(r.status, 200);
    assert!(r.text().contains("\"Code\" : \"Success\""), "{}", r.text());

    // Disabled again: the next request is refused, even with a token minted over IPv6.
    set_ipv6(&f, false);
    let r = get_with_token(v6, "/latest/meta-data/instance-id", &token).await;
    assert_eq!(r.status, 404);
}

/// Tokens are bound to the instance, not to the endpoint that minted them.
#[tokio::test]
async fn a_token_minted_over_ipv4_is_good_over_ipv6() {
    let Some((f, v6, v4)) = dual_stack() else {
        println!("skipped: IPv6 loopback unavailable");
        return;
    };
    set_ipv6(&f, true);
    let token = new_token(v4).await;
    let r = get_with_token(v6, "/latest/meta-data/instance-id", &token).await;
    assert_eq!((r.status, r.text()), (200, ID));
    let token = new_token(v6).await;
    let r = get_with_token(v4, "/latest/meta-data/instance-id", &token).await;
    assert_eq!((r.status, r.text()), (200, ID));
}

/// `ipv6` answers only for an instance that has an IPv6 address, and is listed in its sorted
/// place (between `instance-type` and `local-hostname`) only then.
#[tokio::test]
async fn meta_data_ipv6_is_the_first_address_and_listed_only_when_present() {
    let f = fixture(&[("i-0aaaaaaaaaaaaaaaa", "127.0.0.33")], |_| {});
    let addr = f.addrs[0];
    assert_eq!(get(addr, "/latest/meta-data/ipv6").await.status, 404);
    let listing = get(addr, "/latest/meta-data/").await;
    assert!(!listing.text().split('\n').any(|l| l == "ipv6"));

    f.source
        .edit(addr.ip(), |v| v.ipv6 = Some("2001:db8:0:1::10".into()));
    for path in ["/latest/meta-data/ipv6", "/2021-01-03/meta-data/ipv6/"] {
        let r = get(addr, path).await;
        assert_eq!((r.status, r.text()), (200, "2001:db8:0:1::10"), "{path}");
    }
    let listing = get(addr, "/latest/meta-data/").await;
    let lines: Vec<&str> = listing.text().split('\n').collect();
    let at = |name: &str| lines.iter().position(|l| *l == name).unwrap();
    assert_eq!(at("ipv6"), at("instance-type") + 1);
    assert_eq!(at("local-hostname"), at("ipv6") + 1);
    let mut sorted = lines.clone();
    sorted.sort_unstable();
    assert_eq!(lines, sorted);
}
