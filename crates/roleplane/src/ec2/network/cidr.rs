//! IPv4 CIDR blocks and which block an instance's address belongs to.

use std::fmt;
use std::net::Ipv4Addr;

/// An IPv4 block: a network address and a prefix length (the host bits of `base` are zero).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Ipv4Cidr {
    base: Ipv4Addr,
    prefix: u8,
}

impl Ipv4Cidr {
    /// The block of `prefix` bits that contains `address`.
    pub const fn containing(address: Ipv4Addr, prefix: u8) -> Self {
        let mask = mask(prefix);
        Self {
            base: Ipv4Addr::from_bits(address.to_bits() & mask),
            prefix,
        }
    }

    pub const fn prefix(&self) -> u8 {
        self.prefix
    }

    pub fn contains(&self, address: Ipv4Addr) -> bool {
        address.to_bits() & mask(self.prefix) == self.base.to_bits()
    }

    /// How many addresses the block holds.
    pub fn size(&self) -> u64 {
        1u64 << (32 - u32::from(self.prefix))
    }

    /// Parses `a.b.c.d/n`; `None` for anything else, or host bits set.
    pub fn parse(text: &str) -> Option<Self> {
        let (address, prefix) = text.split_once('/')?;
        let address: Ipv4Addr = address.parse().ok()?;
        let prefix: u8 = prefix.parse().ok().filter(|p| *p <= 32)?;
        let block = Self::containing(address, prefix);
        (block.base == address).then_some(block)
    }
}

const fn mask(prefix: u8) -> u32 {
    if prefix == 0 {
        0
    } else {
        u32::MAX << (32 - prefix as u32)
    }
}

impl fmt::Display for Ipv4Cidr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.base, self.prefix)
    }
}

/// Loopback, where local mode places instances (`ec2::addresses` treats it as one subnet).
pub const LOOPBACK: Ipv4Cidr = Ipv4Cidr::containing(Ipv4Addr::new(127, 0, 0, 0), 8);

/// The private blocks a host-mode network uses (RFC 1918, then RFC 6598 shared space), in the
/// order the VPC lists them.
pub const PRIVATE: [Ipv4Cidr; 4] = [
    Ipv4Cidr::containing(Ipv4Addr::new(10, 0, 0, 0), 8),
    Ipv4Cidr::containing(Ipv4Addr::new(172, 16, 0, 0), 12),
    Ipv4Cidr::containing(Ipv4Addr::new(192, 168, 0, 0), 16),
    Ipv4Cidr::containing(Ipv4Addr::new(100, 64, 0, 0), 10),
];

/// The prefix of the subnet an address outside every known block gets.
const OTHER_PREFIX: u8 = 24;

/// The subnet an instance at `address` is in: loopback as one block, each private block as
/// one, and the `/24` around any other address.
pub fn subnet_block(address: Ipv4Addr) -> Ipv4Cidr {
    std::iter::once(LOOPBACK)
        .chain(PRIVATE)
        .find(|block| block.contains(address))
        .unwrap_or(Ipv4Cidr::containing(address, OTHER_PREFIX))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_address_falls_in_its_block() {
        for (address, block) in [
            ("127.1.0.1", "127.0.0.0/8"),
            ("127.254.3.9", "127.0.0.0/8"),
            ("10.213.1.2", "10.0.0.0/8"),
            ("172.16.0.1", "172.16.0.0/12"),
            ("172.31.255.254", "172.16.0.0/12"),
            ("172.32.0.1", "172.32.0.0/24"),
            ("192.168.7.9", "192.168.0.0/16"),
            ("100.64.0.1", "100.64.0.0/10"),
            ("100.127.255.1", "100.64.0.0/10"),
            ("100.128.0.1", "100.128.0.0/24"),
            ("203.0.113.77", "203.0.113.0/24"),
        ] {
            let address: Ipv4Addr = address.parse().unwrap();
            assert_eq!(subnet_block(address).to_string(), block, "{address}");
            assert!(subnet_block(address).contains(address));
        }
    }

    #[test]
    fn blocks_parse_print_and_count() {
        let block = Ipv4Cidr::parse("172.16.0.0/12").unwrap();
        assert_eq!(block, PRIVATE[1]);
        assert_eq!(block.size(), 1 << 20);
        assert_eq!(LOOPBACK.size(), 1 << 24);
        assert_eq!(Ipv4Cidr::parse("0.0.0.0/0").unwrap().size(), 1 << 32);
        for bad in [
            "10.0.0.1/8",
            "10.0.0.0",
            "10.0.0.0/33",
            "x/8",
            "10.0.0.0/-1",
        ] {
            assert_eq!(Ipv4Cidr::parse(bad), None, "{bad}");
        }
        assert!(!PRIVATE[0].contains(Ipv4Addr::new(11, 0, 0, 0)));
    }
}
