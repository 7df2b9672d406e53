//! IpAddress / NotIpAddress: IPv4 and IPv6 CIDR blocks; a bare address is /32 or /128.

use std::net::IpAddr;

use ipnet::IpNet;

pub fn parse(text: &str) -> Option<IpNet> {
    let text = text.trim();
    text.parse::<IpNet>()
        .ok()
        .or_else(|| text.parse::<IpAddr>().ok().map(IpNet::from))
}

pub fn test(policy: &IpNet, request: &str) -> bool {
    request
        .trim()
        .parse::<IpAddr>()
        .is_ok_and(|ip| policy.contains(&ip))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_cidrs() {
        let cases: &[(&str, &str, bool)] = &[
            ("203.0.113.0/24", "203.0.113.7", true),
            ("203.0.113.0/24", "203.0.114.7", false),
            ("203.0.113.7", "203.0.113.7", true),
            ("203.0.113.7", "203.0.113.8", false),
            ("2001:db8::/32", "2001:db8:1::1", true),
            ("2001:db8::/32", "2001:db9::1", false),
            ("203.0.113.0/24", "2001:db8::1", false),
            ("203.0.113.0/24", "not-an-ip", false),
        ];
        for (policy, request, expected) in cases {
            let net = parse(policy).expect(policy);
            assert_eq!(test(&net, request), *expected, "{policy} vs {request}");
        }
        assert_eq!(parse("300.1.1.1"), None);
    }
}
