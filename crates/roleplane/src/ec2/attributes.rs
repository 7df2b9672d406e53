//! User data (RunInstances `UserData`), DescribeInstanceAttribute and ModifyInstanceAttribute.

use base64::Engine;
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig};
use base64::engine::{DecodePaddingMode, general_purpose};
use store::Store;

use super::error::{Ec2Error, from_store};
use super::{Reply, account, ids, locate, respond};
use crate::request::Call;

/// EC2's limit on decoded user data.
pub const MAX_USER_DATA: usize = 16_384;

/// Standard alphabet, padding optional (EC2 accepts what `base64` tools write).
const LENIENT: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// Decodes a `UserData` value: base64 (line breaks and other ASCII whitespace, as `base64`
/// wraps its output, are ignored), at most 16 KiB once decoded. An empty value is no user data.
///
/// Errors as EC2 words them: "Invalid BASE64 encoding of user data" and "User data is limited
/// to 16384 bytes", both InvalidParameterValue.
pub fn decode_user_data(value: &str) -> Result<Option<Vec<u8>>, Ec2Error> {
    // Longer input cannot decode to 16 KiB or less, whitespace aside; refuse before copying.
    if value.len() > 4 * MAX_USER_DATA {
        return Err(too_large());
    }
    let compact: Vec<u8> = value.bytes().filter(|b| !b.is_ascii_whitespace()).collect();
    if compact.is_empty() {
        return Ok(None);
    }
    let decoded = LENIENT.decode(&compact).map_err(|_| {
        Ec2Error::InvalidParameterValue("Invalid BASE64 encoding of user data".to_owned())
    })?;
    if decoded.len() > MAX_USER_DATA {
        return Err(too_large());
    }
    Ok(Some(decoded))
}

fn too_large() -> Ec2Error {
    Ec2Error::InvalidParameterValue(format!("User data is limited to {MAX_USER_DATA} bytes"))
}

/// The attributes DescribeInstanceAttribute answers (EC2's `InstanceAttributeName` values this
/// server has something truthful for).
const ATTRIBUTES: &[&str] = &[
    "userData",
    "instanceType",
    "disableApiTermination",
    "disableApiStop",
    "instanceInitiatedShutdownBehavior",
    "rootDeviceName",
];

pub async fn describe<S: Store>(call: &Call<'_, S>) -> Reply {
    let id = ids::instance_id(call.input.required_str("InstanceId")?)?;
    let attribute = call.input.required_str("Attribute")?;
    if !ATTRIBUTES.contains(&attribute) {
        // UNCONFIRMED wording.
        return Err(Ec2Error::InvalidParameterValue(format!(
            "Value ({attribute}) for parameter attribute is invalid. Unknown attribute."
        ))
        .into());
    }
    let instance = locate::instance(call, id)
        .await?
        .authorize(call, "ec2:DescribeInstanceAttribute")
        .await?;
    Ok(respond(call, |x| {
        x.elem("instanceId", id);
        let value = |x: &mut protocol::XmlWriter, name: &str, value: &str| {
            x.node(name, |x| {
                x.elem("value", value);
            });
        };
        match attribute {
            "userData" => match &instance.user_data {
                Some(data) => value(x, "userData", &general_purpose::STANDARD.encode(data)),
                None => {
                    x.empty("userData");
                }
            },
            "instanceType" => value(x, "instanceType", &instance.instance_type),
            "instanceInitiatedShutdownBehavior" => {
                value(x, "instanceInitiatedShutdownBehavior", "stop")
            }
            "rootDeviceName" => value(x, "rootDeviceName", "/dev/xvda"),
            other => value(x, other, "false"),
        }
    }))
}

pub async fn modify<S: Store>(call: &Call<'_, S>) -> Reply {
    let root = call.input.root();
    let id = ids::instance_id(root.required_str("InstanceId")?)?;
    // `UserData.Value`, or the older `Attribute=userData` with `Value`.
    let user_data = match (
        root.optional_str("UserData.Value"),
        root.optional_str("Attribute"),
    ) {
        (Some(value), _) => value,
        (None, Some("userData")) => root.optional_str("Value").unwrap_or(""),
        _ => {
            // UNCONFIRMED wording; only user data can be modified here.
            return Err(Ec2Error::InvalidParameterCombination(
                "No attributes specified.".to_owned(),
            )
            .into());
        }
    };
    let user_data = decode_user_data(user_data)?;
    locate::instance(call, id)
        .await?
        .authorize(call, "ec2:ModifyInstanceAttribute")
        .await?;
    call.app
        .store()
        .set_instance_user_data(account(call), id, user_data.as_deref())
        .await
        .map_err(from_store)?;
    Ok(respond(call, |x| {
        x.elem("return", "true");
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_data_decoding() {
        assert_eq!(decode_user_data("").unwrap(), None);
        assert_eq!(
            decode_user_data("I2Nsb3VkLWNvbmZpZw==").unwrap().unwrap(),
            b"#cloud-config"
        );
        assert_eq!(
            decode_user_data("I2Nsb3VkLWNv\nbmZpZw").unwrap().unwrap(),
            b"#cloud-config"
        );
        let bad = decode_user_data("not base64!").unwrap_err();
        assert_eq!(bad.code(), "InvalidParameterValue");
        assert_eq!(bad.to_string(), "Invalid BASE64 encoding of user data");
        let exact = general_purpose::STANDARD.encode(vec![7u8; MAX_USER_DATA]);
        assert_eq!(
            decode_user_data(&exact).unwrap().unwrap().len(),
            MAX_USER_DATA
        );
        let over = general_purpose::STANDARD.encode(vec![7u8; MAX_USER_DATA + 1]);
        let err = decode_user_data(&over).unwrap_err();
        assert_eq!(err.to_string(), "User data is limited to 16384 bytes");
        assert!(decode_user_data(&"A".repeat(200_000)).is_err());
    }
}
