//! Availability zone IDs (`use1-az1`): the region's short code and the zone's number.
//!
//! EC2 maps zone names (`us-east-1a`) to zone IDs differently per account; the ID is what stays
//! the same. With one deployment there is nothing to shuffle, so letter `a` is `az1`, `b` is
//! `az2`, and so on.

/// `use1-az1` for `us-east-1a`; `None` when the name is not a region followed by one letter.
pub fn zone_id(zone_name: &str, region: &str) -> Option<String> {
    let letter = zone_name.strip_prefix(region)?;
    let [letter] = letter.as_bytes() else {
        return None;
    };
    if !letter.is_ascii_lowercase() {
        return None;
    }
    Some(format!("{}-az{}", region_code(region), letter - b'a' + 1))
}

/// EC2's short code of a region: the geography kept, each direction shortened, the number kept
/// (`us-east-1` → `use1`, `ap-southeast-2` → `apse2`, `us-gov-west-1` → `usgw1`). A word it does
/// not know contributes its first letter.
pub fn region_code(region: &str) -> String {
    let mut code = String::with_capacity(8);
    for (i, part) in region.split('-').enumerate() {
        let short = match part {
            _ if i == 0 => part,
            "east" => "e",
            "west" => "w",
            "north" => "n",
            "south" => "s",
            "central" => "c",
            "northeast" => "ne",
            "northwest" => "nw",
            "southeast" => "se",
            "southwest" => "sw",
            _ if part.bytes().all(|b| b.is_ascii_digit()) => part,
            _ => part.get(..1).unwrap_or(""),
        };
        code.push_str(short);
    }
    code
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zone_ids_follow_ec2s_region_codes() {
        for (zone, region, id) in [
            ("us-east-1a", "us-east-1", "use1-az1"),
            ("us-east-1c", "us-east-1", "use1-az3"),
            ("us-west-2a", "us-west-2", "usw2-az1"),
            ("eu-west-2a", "eu-west-2", "euw2-az1"),
            ("eu-central-1b", "eu-central-1", "euc1-az2"),
            ("eu-north-1a", "eu-north-1", "eun1-az1"),
            ("ap-southeast-1a", "ap-southeast-1", "apse1-az1"),
            ("ap-northeast-1a", "ap-northeast-1", "apne1-az1"),
            ("ap-south-1a", "ap-south-1", "aps1-az1"),
            ("ca-central-1a", "ca-central-1", "cac1-az1"),
            ("sa-east-1a", "sa-east-1", "sae1-az1"),
            ("me-south-1a", "me-south-1", "mes1-az1"),
            ("af-south-1a", "af-south-1", "afs1-az1"),
            ("cn-northwest-1a", "cn-northwest-1", "cnnw1-az1"),
            ("us-gov-west-1a", "us-gov-west-1", "usgw1-az1"),
        ] {
            assert_eq!(zone_id(zone, region).as_deref(), Some(id), "{zone}");
        }
    }

    #[test]
    fn names_outside_the_region_have_no_id() {
        for zone in ["us-east-1", "us-east-1ab", "us-west-2a", "us-east-1A", ""] {
            assert_eq!(zone_id(zone, "us-east-1"), None, "{zone}");
        }
    }
}
