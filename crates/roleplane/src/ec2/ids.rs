//! The shapes of EC2 resource IDs a request may name: a prefix and 8 or 17 lowercase hex
//! digits (the older and current lengths).

use super::error::Ec2Error;

fn has_shape(id: &str, prefix: &str) -> bool {
    id.strip_prefix(prefix).is_some_and(|hex| {
        matches!(hex.len(), 8 | 17)
            && hex
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    })
}

pub fn instance_id(id: &str) -> Result<&str, Ec2Error> {
    if has_shape(id, "i-") {
        Ok(id)
    } else {
        Err(Ec2Error::MalformedInstanceId(id.to_owned()))
    }
}

pub fn association_id(id: &str) -> Result<&str, Ec2Error> {
    if has_shape(id, "iip-assoc-") {
        Ok(id)
    } else {
        Err(Ec2Error::MalformedAssociationId(id.to_owned()))
    }
}

/// A resource CreateTags/DeleteTags may name: an instance (`i-…`), a key pair (`key-…`) or a
/// Dedicated Host (`h-…`); any other ID is EC2's `InvalidID`.
pub fn taggable(id: &str) -> Result<store::Ec2Resource, Ec2Error> {
    if has_shape(id, "i-") {
        Ok(store::Ec2Resource::Instance(id.to_owned()))
    } else if has_shape(id, "key-") {
        Ok(store::Ec2Resource::KeyPair(id.to_owned()))
    } else if has_shape(id, "h-") {
        Ok(store::Ec2Resource::Host(id.to_owned()))
    } else {
        Err(Ec2Error::InvalidId(id.to_owned()))
    }
}

/// `h-…`, a Dedicated Host; EC2 answers a malformed one with its own code.
pub fn host_id(id: &str) -> Result<&str, Ec2Error> {
    if has_shape(id, "h-") {
        Ok(id)
    } else {
        Err(Ec2Error::MalformedHostId(id.to_owned()))
    }
}

/// `ami-…`; EC2 answers a malformed one with its own code.
pub fn image_id(id: &str) -> Result<&str, Ec2Error> {
    if has_shape(id, "ami-") {
        Ok(id)
    } else {
        Err(Ec2Error::MalformedImageId(id.to_owned()))
    }
}

/// `sg-…`; EC2 answers a malformed one with its own code.
pub fn group_id(id: &str) -> Result<&str, Ec2Error> {
    if has_shape(id, "sg-") {
        Ok(id)
    } else {
        Err(Ec2Error::MalformedGroupId(id.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shapes() {
        assert!(instance_id("i-0123456789abcdef0").is_ok());
        assert!(instance_id("i-12345678").is_ok());
        for bad in [
            "i-0123456789ABCDEF0",
            "i-123",
            "ma1",
            "",
            "i-0123456789abcdef0x",
        ] {
            assert_eq!(
                instance_id(bad),
                Err(Ec2Error::MalformedInstanceId(bad.into()))
            );
        }
        assert!(association_id("iip-assoc-0e7736511a163c209").is_ok());
        assert!(association_id("i-0e7736511a163c209").is_err());
        assert!(image_id("ami-11aa22bb").is_ok());
        assert!(image_id("{var.ami_id}").is_err());
        assert_eq!(
            taggable("i-12345678"),
            Ok(store::Ec2Resource::Instance("i-12345678".into()))
        );
        assert_eq!(
            taggable("key-0123456789abcdef0"),
            Ok(store::Ec2Resource::KeyPair("key-0123456789abcdef0".into()))
        );
        assert_eq!(
            taggable("h-0123456789abcdef0"),
            Ok(store::Ec2Resource::Host("h-0123456789abcdef0".into()))
        );
        for bad in [
            "vol-12345678",
            "i-123",
            "key-xyz",
            "",
            "ami-11aa22bb",
            "h-1",
        ] {
            assert_eq!(taggable(bad), Err(Ec2Error::InvalidId(bad.into())));
        }
        assert!(host_id("h-0123456789abcdef0").is_ok());
        for bad in ["h-", "h-0123456789ABCDEF0", "i-0123456789abcdef0", "host-1"] {
            assert_eq!(host_id(bad), Err(Ec2Error::MalformedHostId(bad.into())));
        }
        assert!(group_id("sg-0123456789abcdef0").is_ok());
        assert_eq!(
            group_id("web"),
            Err(Ec2Error::MalformedGroupId("web".into()))
        );
    }
}
