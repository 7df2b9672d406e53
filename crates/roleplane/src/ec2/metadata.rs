//! Instance metadata options: per instance (ModifyInstanceMetadataOptions), the account's launch
//! defaults (Modify/GetInstanceMetadataDefaults), and how a launch combines them with its own
//! `MetadataOptions`: request over account default over EC2's default, member by member.
//!
//! A modification answers `pending` and every later read shows it `applied` (the metadata
//! service reads options from the store on each request, so they take effect at once).

use protocol::{AwsError, Scope};
use store::{MetadataDefaults, MetadataOptions, Store};

use super::access::authorize;
use super::error::{Ec2Error, from_store};
use super::{Reply, account, ids, locate, respond};
use crate::request::Call;

const ENABLED_DISABLED: &[&str] = &["enabled", "disabled"];
const HTTP_TOKENS: &[&str] = &["optional", "required"];
const NO_PREFERENCE: &str = "no-preference";

/// Options a request sets; `None` leaves the member as it was.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct OptionsInput {
    http_tokens: Option<String>,
    hop_limit: Option<u8>,
    http_endpoint: Option<String>,
    http_protocol_ipv6: Option<String>,
    instance_metadata_tags: Option<String>,
}

fn one_of(scope: &Scope<'_>, name: &str, allowed: &[&str]) -> Result<Option<String>, AwsError> {
    let Some(value) = scope.optional_str(name) else {
        return Ok(None);
    };
    if allowed.contains(&value) {
        return Ok(Some(value.to_owned()));
    }
    // UNCONFIRMED wording; the shape is EC2's parameter-value message.
    Err(Ec2Error::InvalidParameterValue(format!(
        "Value ({value}) for parameter {} is invalid. Valid values: {}",
        scope.error_path(name),
        allowed.join(", ")
    ))
    .into())
}

impl OptionsInput {
    /// The members of `scope` (a `MetadataOptions` structure, or the request itself).
    pub fn parse(scope: &Scope<'_>) -> Result<Self, AwsError> {
        Ok(Self {
            http_tokens: one_of(scope, "HttpTokens", HTTP_TOKENS)?,
            hop_limit: scope
                .optional_i32("HttpPutResponseHopLimit", 1..=64)?
                .and_then(|n| u8::try_from(n).ok()),
            http_endpoint: one_of(scope, "HttpEndpoint", ENABLED_DISABLED)?,
            http_protocol_ipv6: one_of(scope, "HttpProtocolIpv6", ENABLED_DISABLED)?,
            instance_metadata_tags: one_of(scope, "InstanceMetadataTags", ENABLED_DISABLED)?,
        })
    }

    pub fn apply(self, mut options: MetadataOptions) -> MetadataOptions {
        if let Some(v) = self.http_tokens {
            options.http_tokens = v;
        }
        if let Some(v) = self.hop_limit {
            options.http_put_response_hop_limit = v;
        }
        if let Some(v) = self.http_endpoint {
            options.http_endpoint = v;
        }
        if let Some(v) = self.http_protocol_ipv6 {
            options.http_protocol_ipv6 = v;
        }
        if let Some(v) = self.instance_metadata_tags {
            options.instance_metadata_tags = v;
        }
        options
    }
}

/// The options a new instance starts with.
pub fn at_launch(defaults: &MetadataDefaults, request: OptionsInput) -> MetadataOptions {
    let account_level = OptionsInput {
        http_tokens: defaults.http_tokens.clone(),
        hop_limit: defaults.http_put_response_hop_limit,
        http_endpoint: defaults.http_endpoint.clone(),
        http_protocol_ipv6: None,
        instance_metadata_tags: defaults.instance_metadata_tags.clone(),
    };
    request.apply(account_level.apply(MetadataOptions::default()))
}

pub async fn modify_options<S: Store>(call: &Call<'_, S>) -> Reply {
    let id = ids::instance_id(call.input.required_str("InstanceId")?)?;
    let input = OptionsInput::parse(&call.input.root())?;
    let instance = locate::instance(call, id)
        .await?
        .authorize(call, "ec2:ModifyInstanceMetadataOptions")
        .await?;
    let options = input.apply(instance.metadata_options);
    let updated = call
        .app
        .store()
        .set_instance_metadata_options(account(call), id, &options)
        .await
        .map_err(from_store)?;
    Ok(respond(call, |x| {
        x.elem("instanceId", id)
            .node("instanceMetadataOptions", |x| {
                super::xml::metadata_options(x, &updated.metadata_options, "pending");
            });
    }))
}

/// A defaults member: `no-preference` clears it, absence keeps it.
fn default_member(
    scope: &Scope<'_>,
    name: &str,
    allowed: &[&str],
    current: &mut Option<String>,
) -> Result<(), AwsError> {
    if scope.optional_str(name) == Some(NO_PREFERENCE) {
        *current = None;
    } else if let Some(value) = one_of(scope, name, allowed)? {
        *current = Some(value);
    }
    Ok(())
}

pub async fn modify_defaults<S: Store>(call: &Call<'_, S>) -> Reply {
    let root = call.input.root();
    let store = call.app.store();
    authorize(call, "ec2:ModifyInstanceMetadataDefaults", "*", Vec::new()).await?;
    let mut defaults = store
        .instance_metadata_defaults(account(call))
        .await
        .map_err(from_store)?;
    default_member(&root, "HttpTokens", HTTP_TOKENS, &mut defaults.http_tokens)?;
    default_member(
        &root,
        "HttpEndpoint",
        ENABLED_DISABLED,
        &mut defaults.http_endpoint,
    )?;
    default_member(
        &root,
        "InstanceMetadataTags",
        ENABLED_DISABLED,
        &mut defaults.instance_metadata_tags,
    )?;
    // -1 is the hop limit's no-preference.
    match root.optional_i32("HttpPutResponseHopLimit", -1..=64)? {
        Some(-1) => defaults.http_put_response_hop_limit = None,
        Some(0) => {
            return Err(root
                .invalid("HttpPutResponseHopLimit", "0", protocol::Constraint::Min(1))
                .into());
        }
        Some(n) => defaults.http_put_response_hop_limit = u8::try_from(n).ok(),
        None => {}
    }
    store
        .put_instance_metadata_defaults(account(call), &defaults)
        .await
        .map_err(from_store)?;
    Ok(respond(call, |x| {
        x.elem("return", true);
    }))
}

pub async fn get_defaults<S: Store>(call: &Call<'_, S>) -> Reply {
    authorize(call, "ec2:GetInstanceMetadataDefaults", "*", Vec::new()).await?;
    let defaults = call
        .app
        .store()
        .instance_metadata_defaults(account(call))
        .await
        .map_err(from_store)?;
    Ok(respond(call, |x| {
        x.node("accountLevel", |x| {
            x.opt_elem("httpTokens", defaults.http_tokens.as_deref())
                .opt_elem(
                    "httpPutResponseHopLimit",
                    defaults.http_put_response_hop_limit,
                )
                .opt_elem("httpEndpoint", defaults.http_endpoint.as_deref())
                .opt_elem(
                    "instanceMetadataTags",
                    defaults.instance_metadata_tags.as_deref(),
                );
        });
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn launch_options_layer_request_over_account_over_ec2() {
        let defaults = MetadataDefaults {
            http_tokens: Some("required".into()),
            http_put_response_hop_limit: Some(2),
            ..MetadataDefaults::default()
        };
        let request = OptionsInput {
            hop_limit: Some(5),
            ..OptionsInput::default()
        };
        let options = at_launch(&defaults, request);
        assert_eq!(options.http_tokens, "required");
        assert_eq!(options.http_put_response_hop_limit, 5);
        assert_eq!(options.http_endpoint, "enabled");
        assert_eq!(
            at_launch(&MetadataDefaults::default(), OptionsInput::default()),
            MetadataOptions::default()
        );
    }
}
