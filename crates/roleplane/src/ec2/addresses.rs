//! Which `PrivateIpAddress` RunInstances may give an instance.
//!
//! An instance's address is how the metadata service tells it apart (its own listener in local
//! mode, the connection's source in host mode), so an address that is not usable as an
//! instance's own would let the instance take over someone else's: 127.0.0.1 is the host's
//! loopback, where the API and the metadata anchor listen.
//!
//! Loopback is treated as one subnet, 127.0.0.0/8, whose usable part is the range the store
//! assigns from (`store::assignable_loopback`: 127.1.0.1–127.254.255.254, no `.0` or `.255`
//! host part); the rest of it, 127.0.0.0, 127.0.0.1 and 127.255.255.255 included, is reserved
//! as AWS reserves a subnet's first four and last address. Beyond loopback, local mode has
//! nothing (nothing listens there); host mode takes real private addresses, but never
//! 0.0.0.0/8, link-local (169.254.169.254 is the metadata service itself), multicast, the
//! reserved 240.0.0.0/4 or the broadcast address.

use std::net::Ipv4Addr;

use super::error::Ec2Error;

/// How instances are addressed, following the metadata service's mode.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Addressing {
    /// `--imds-port`: each instance on its own loopback address.
    #[default]
    Local,
    /// `--imds-listen`: instances with real addresses, told apart by source address.
    Host,
}

/// Refuses an address no instance may have, worded as EC2 words an address outside a subnet or
/// reserved in it.
pub fn check(address: Ipv4Addr, addressing: Addressing) -> Result<(), Ec2Error> {
    if address.is_loopback() {
        return if store::assignable_loopback(address) {
            Ok(())
        } else {
            Err(Ec2Error::AddressReserved(address.to_string()))
        };
    }
    let usable = match addressing {
        Addressing::Local => false,
        Addressing::Host => {
            address.octets()[0] != 0
                && !address.is_link_local()
                && !address.is_multicast()
                && !address.is_broadcast()
                && address.octets()[0] < 240
        }
    };
    if usable {
        Ok(())
    } else {
        Err(Ec2Error::AddressOutsideRange(address.to_string()))
    }
}

/// The refusal of an address the store would not place an instance on.
pub fn unusable(address: String) -> Ec2Error {
    match address.parse::<Ipv4Addr>() {
        Ok(ip) if ip.is_loopback() => Ec2Error::AddressReserved(address),
        _ => Ec2Error::AddressOutsideRange(address),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn verdict(address: [u8; 4], addressing: Addressing) -> Result<(), Ec2Error> {
        check(Ipv4Addr::from(address), addressing)
    }

    #[test]
    fn loopback_outside_the_stores_range_is_reserved_in_both_modes() {
        for mode in [Addressing::Local, Addressing::Host] {
            for address in [
                [127, 0, 0, 0],
                [127, 0, 0, 1],
                [127, 0, 0, 2],
                [127, 1, 2, 0],
                [127, 1, 2, 255],
                [127, 255, 255, 255],
            ] {
                assert_eq!(
                    verdict(address, mode),
                    Err(Ec2Error::AddressReserved(
                        Ipv4Addr::from(address).to_string()
                    ))
                );
            }
            assert_eq!(verdict([127, 9, 8, 7], mode), Ok(()));
        }
    }

    #[test]
    fn beyond_loopback_only_host_mode_takes_real_addresses() {
        let outside = |a: &str| Err(Ec2Error::AddressOutsideRange(a.to_owned()));
        assert_eq!(
            verdict([10, 0, 0, 5], Addressing::Local),
            outside("10.0.0.5")
        );
        assert_eq!(verdict([0, 0, 0, 0], Addressing::Local), outside("0.0.0.0"));
        for ok in [[10, 213, 1, 2], [172, 31, 0, 16], [192, 168, 0, 9]] {
            assert_eq!(verdict(ok, Addressing::Host), Ok(()));
        }
        for (address, text) in [
            ([0, 0, 0, 0], "0.0.0.0"),
            ([0, 1, 2, 3], "0.1.2.3"),
            ([169, 254, 169, 254], "169.254.169.254"),
            ([224, 0, 0, 1], "224.0.0.1"),
            ([240, 0, 0, 1], "240.0.0.1"),
            ([255, 255, 255, 255], "255.255.255.255"),
        ] {
            assert_eq!(verdict(address, Addressing::Host), outside(text));
        }
    }

    #[test]
    fn the_stores_refusal_is_worded_alike() {
        assert_eq!(
            unusable("127.0.0.1".into()),
            Ec2Error::AddressReserved("127.0.0.1".into())
        );
        assert_eq!(
            unusable("0.0.0.0".into()),
            Ec2Error::AddressOutsideRange("0.0.0.0".into())
        );
    }
}
