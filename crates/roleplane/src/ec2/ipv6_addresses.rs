//! Which IPv6 addresses RunInstances may give an instance (`Ipv6Address.N.Ipv6Address`).
//!
//! In host mode an IPv6 connection to the metadata service is attributed by its source address,
//! so, as with `PrivateIpAddress` (see [`super::addresses`]), an address that is not usable as
//! an instance's own would let the instance take over a caller that is not it: loopback and
//! the unspecified address are the host's, link-local and multicast are no single host's,
//! IPv4-mapped (`::ffff:0:0/96`) and IPv4-compatible (`::/96`) addresses are IPv4 callers in
//! disguise (the metadata service sees them as IPv4), and `fd00:ec2::254` is the metadata
//! service itself. Local mode listens on IPv4 loopback only, so it takes no IPv6 address.
//!
//! `Ipv6AddressCount` asks EC2 to pick addresses from the subnet's IPv6 block; roleplane has no
//! such block to pick from (an instance's addresses must be the ones its host really uses), so
//! a count above zero is refused and each address must be named.

use std::net::Ipv6Addr;

use protocol::{AwsError, Scope};

use super::addresses::Addressing;
use super::error::Ec2Error;

/// EC2's IPv6 metadata endpoint.
pub const METADATA_ENDPOINT: Ipv6Addr = Ipv6Addr::new(0xfd00, 0xec2, 0, 0, 0, 0, 0, 0x254);

/// Addresses one launch may name: as many as EC2's largest instance types take on one
/// interface. UNCONFIRMED: EC2's limit depends on the instance type.
const MAX_PER_INSTANCE: usize = 50;

/// The canonical text of each `Ipv6Address.N.Ipv6Address` of a RunInstances request, checked.
pub fn from_request(
    root: &Scope<'_>,
    count: u32,
    addressing: Addressing,
) -> Result<Vec<String>, AwsError> {
    let raw = root.list("Ipv6Address", |item| item.required_str("Ipv6Address"))?;
    let asked_count = root.optional_i32("Ipv6AddressCount", 0..=i32::MAX)?;
    if !raw.is_empty() && asked_count.is_some() {
        // EC2's words (ansible/ansible#40334 quotes the RunInstances error).
        return Err(Ec2Error::InvalidParameterCombination(
            "IPv6 addresses and IPv6 address count may not be specified on the same request"
                .to_owned(),
        )
        .into());
    }
    if let Some(wanted) = asked_count.filter(|n| *n > 0) {
        // UNCONFIRMED wording: roleplane's own reason, in EC2's error shape.
        return Err(Ec2Error::InvalidParameterValue(format!(
            "Value ({wanted}) for parameter ipv6AddressCount is invalid. No subnet has an IPv6 \
             CIDR block to assign addresses from; name each address with Ipv6Address.N.Ipv6Address."
        ))
        .into());
    }
    if raw.is_empty() {
        return Ok(Vec::new());
    }
    if count > 1 {
        // UNCONFIRMED wording, as for PrivateIpAddress.
        return Err(Ec2Error::InvalidParameterCombination(
            "IPv6 addresses can only be specified when launching one instance.".to_owned(),
        )
        .into());
    }
    if raw.len() > MAX_PER_INSTANCE {
        // UNCONFIRMED wording.
        return Err(Ec2Error::InvalidParameterValue(format!(
            "The number of IPv6 addresses specified exceeds the limit of {MAX_PER_INSTANCE}."
        ))
        .into());
    }
    let mut addresses = Vec::with_capacity(raw.len());
    for text in raw {
        let address: Ipv6Addr = text.parse().map_err(|_| {
            // UNCONFIRMED wording, shaped as the PrivateIpAddress message.
            Ec2Error::InvalidParameterValue(format!(
                "Value ({text}) for parameter ipv6Address is invalid. Not a valid IPv6 address."
            ))
        })?;
        check(address, addressing)?;
        addresses.push(address.to_string());
    }
    Ok(addresses)
}

/// Refuses an address no instance may have, worded as EC2 words an address outside the
/// subnet (UNCONFIRMED for IPv6: the wording is the IPv4 one).
pub fn check(address: Ipv6Addr, addressing: Addressing) -> Result<(), Ec2Error> {
    let usable = addressing == Addressing::Host
        && !address.is_unspecified()
        && !address.is_loopback()
        && !address.is_multicast()
        && !address.is_unicast_link_local()
        && address.to_ipv4_mapped().is_none()
        && !is_ipv4_compatible(address)
        && address != METADATA_ENDPOINT;
    if usable {
        Ok(())
    } else {
        Err(Ec2Error::AddressOutsideRange(address.to_string()))
    }
}

/// `::/96`, the deprecated IPv4-compatible form (`::10.0.0.1`).
fn is_ipv4_compatible(address: Ipv6Addr) -> bool {
    address.segments()[..6] == [0; 6]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_mode_takes_real_unicast_addresses_only() {
        for ok in [
            "2001:db8:0:1::10",
            "2600:1f14:bb2:e501::10",
            "fd00:db8:1::2",
            "fd00:ec2::253",
            "fec0::1",
        ] {
            let address: Ipv6Addr = ok.parse().unwrap();
            assert_eq!(check(address, Addressing::Host), Ok(()), "{ok}");
        }
        for (refused, why) in [
            ("::", "unspecified"),
            ("::1", "loopback"),
            ("fe80::1", "link-local"),
            ("febf:ffff::1", "link-local, top of fe80::/10"),
            ("ff02::1", "multicast"),
            ("ff05::2", "multicast"),
            ("::ffff:10.0.0.5", "IPv4-mapped"),
            ("::10.0.0.5", "IPv4-compatible"),
            ("fd00:ec2::254", "the metadata service"),
            (
                "fd00:ec2:0:0:0:0:0:254",
                "the metadata service, spelled out",
            ),
        ] {
            let address: Ipv6Addr = refused.parse().unwrap();
            assert_eq!(
                check(address, Addressing::Host),
                Err(Ec2Error::AddressOutsideRange(address.to_string())),
                "{refused}: {why}"
            );
        }
    }

    #[test]
    fn local_mode_takes_no_ipv6_address() {
        let address: Ipv6Addr = "2001:db8::10".parse().unwrap();
        assert_eq!(
            check(address, Addressing::Local),
            Err(Ec2Error::AddressOutsideRange("2001:db8::10".into()))
        );
    }

    /// `from_request` on an ec2Query body: the codes and messages it answers with.
    fn parse(body: &str, count: u32) -> Result<Vec<String>, (String, String)> {
        use protocol::{Params, Protocol};
        let body = format!("Action=RunInstances&Version=2016-11-15{body}");
        let params = Params::decode(Protocol::Ec2Query, body.as_bytes(), 1 << 20).unwrap();
        from_request(&params.root(), count, Addressing::Host)
            .map_err(|e| (e.code.to_string(), e.message))
    }

    #[test]
    fn request_members_are_read_checked_and_canonical() {
        assert_eq!(parse("", 1), Ok(vec![]));
        assert_eq!(parse("&Ipv6AddressCount=0", 3), Ok(vec![]));
        assert_eq!(
            parse(
                "&Ipv6Address.1.Ipv6Address=2001:DB8:0:0::10\
                 &Ipv6Address.2.Ipv6Address=fd00:db8:1:0:0:0:0:2",
                1
            ),
            Ok(vec!["2001:db8::10".into(), "fd00:db8:1::2".into()])
        );
        let refused: &[(&str, u32, &str, &str)] = &[
            (
                "&Ipv6Address.1.Ipv6Address=2001:db8::10&Ipv6AddressCount=1",
                1,
                "InvalidParameterCombination",
                "IPv6 addresses and IPv6 address count may not be specified on the same request",
            ),
            (
                "&Ipv6AddressCount=2",
                1,
                "InvalidParameterValue",
                "Value (2) for parameter ipv6AddressCount is invalid.",
            ),
            (
                "&Ipv6Address.1.Ipv6Address=2001:db8::10",
                2,
                "InvalidParameterCombination",
                "IPv6 addresses can only be specified when launching one instance.",
            ),
            (
                "&Ipv6Address.1.Ipv6Address=10.0.0.5",
                1,
                "InvalidParameterValue",
                "Value (10.0.0.5) for parameter ipv6Address is invalid. Not a valid IPv6 address.",
            ),
            (
                "&Ipv6Address.1.Ipv6Address=2001:db8::10&Ipv6Address.2.Ipv6Address=fd00:ec2::254",
                1,
                "InvalidParameterValue",
                "Address fd00:ec2::254 does not fall within the subnet's address range",
            ),
            (
                "&Ipv6Address.1.Ipv6Address=fe80::1",
                1,
                "InvalidParameterValue",
                "Address fe80::1 does not fall within the subnet's address range",
            ),
        ];
        for (body, count, code, message) in refused {
            let (got_code, got_message) = parse(body, *count).unwrap_err();
            assert_eq!(got_code, *code, "{body}");
            assert!(got_message.starts_with(message), "{body}: {got_message}");
        }
        let many: String = (1..=51)
            .map(|n| format!("&Ipv6Address.{n}.Ipv6Address=2001:db8::{n:x}"))
            .collect();
        assert_eq!(parse(&many, 1).unwrap_err().0, "InvalidParameterValue");
    }

    #[test]
    fn the_endpoint_constant_is_ec2s() {
        assert_eq!(METADATA_ENDPOINT.to_string(), "fd00:ec2::254");
    }
}
