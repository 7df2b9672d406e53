//! RunInstances' `PrivateIpAddress` in local mode: only an address the store could have assigned
//! itself (127.1.0.1–127.254.255.254, no `.0` or `.255` host part) is taken. 127.0.0.1 (where
//! the API and the metadata anchor listen), the network and broadcast addresses of 127.0.0.0/8,
//! 0.0.0.0 and addresses beyond loopback are refused as EC2 refuses an address outside or
//! reserved in a subnet, and nothing is launched.

use e2e::raw::signed_post;
use e2e::{ADMIN_KEY_ID, ADMIN_SECRET, Server};

const ADMIN: (&str, &str) = (ADMIN_KEY_ID, ADMIN_SECRET);

fn run_instances(server: &Server, address: &str) -> e2e::raw::RawResponse {
    let body = format!(
        "Action=RunInstances&Version=2016-11-15&ImageId=ami-11aa22bb&MinCount=1&MaxCount=1\
         &PrivateIpAddress={address}"
    );
    signed_post(&server.endpoint, "ec2", ADMIN, body.as_bytes())
}

#[tokio::test]
async fn unusable_private_addresses_are_refused_and_nothing_launches() {
    let server = Server::start();
    let reserved = |a: &str| format!("Address {a} is in subnet's reserved address range");
    let outside = |a: &str| format!("Address {a} does not fall within the subnet's address range");
    let cases = [
        ("127.0.0.1", reserved("127.0.0.1")),
        ("127.0.0.0", reserved("127.0.0.0")),
        ("127.255.255.255", reserved("127.255.255.255")),
        ("127.0.0.2", reserved("127.0.0.2")),
        ("127.3.4.0", reserved("127.3.4.0")),
        ("127.3.4.255", reserved("127.3.4.255")),
        ("0.0.0.0", outside("0.0.0.0")),
        ("10.0.0.5", outside("10.0.0.5")),
        ("169.254.169.254", outside("169.254.169.254")),
    ];
    for (address, message) in &cases {
        let response = run_instances(&server, address);
        assert_eq!(response.status, 400, "{address}: {}", response.body);
        assert!(
            response.body.starts_with("<?xml")
                && response.body.contains(
                    "<Response><Errors><Error><Code>InvalidParameterValue</Code><Message>"
                ),
            "{address}: EC2's error shape: {}",
            response.body
        );
        assert!(
            response.body.contains(&format!(
                "<Message>{}</Message>",
                message.replace('\'', "&apos;")
            )),
            "{address}: {}",
            response.body
        );
    }
    let described = server
        .ec2()
        .await
        .describe_instances()
        .send()
        .await
        .unwrap();
    assert!(
        described.reservations().is_empty(),
        "a refused launch writes nothing: {described:?}"
    );

    // An address of the store's own range is still taken as asked.
    let response = run_instances(&server, "127.9.8.7");
    assert_eq!(response.status, 200, "{}", response.body);
    assert!(
        response
            .body
            .contains("<privateIpAddress>127.9.8.7</privateIpAddress>"),
        "{}",
        response.body
    );
}
