//! OpenID Connect identity providers: the issuers whose tokens `AssumeRoleWithWebIdentity`
//! accepts (`sts::web_identity`). A provider is addressed by its ARN,
//! `arn:aws:iam::ACCOUNT:oidc-provider/HOST/PATH`: its URL without `https://`.
//!
//! Wording from AWS's recorded answers (LocalStack's test_iam_oidc.py snapshots).

use policy::Arn;
use protocol::AwsError;
use store::{EntityKind, NewOidcProvider, OidcProvider, OidcProviderChange, Store};

use super::access::{Located, Resource, authorize, request_tags};
use super::validate::{Input, KeyCase, reject_reserved_or_duplicate_keys};
use super::xml::{date, tags};
use super::{Reply, account, done, respond, store_error};
use crate::request::Call;

/// `OpenIDConnectProviderUrlType`: 1–255 characters.
const MAX_URL: usize = 255;
/// `clientIDType`: 1–255 characters.
const MAX_CLIENT_ID: usize = 255;
/// `thumbprintType`: exactly 40 characters (a SHA-1 in hex).
const THUMBPRINT_LEN: usize = 40;
/// Thumbprints per provider (a hard limit).
const MAX_THUMBPRINTS: usize = 5;
/// Client IDs per provider.
const MAX_CLIENT_IDS: usize = 100;

impl Resource for OidcProvider {
    fn arn(&self) -> &str {
        &self.arn
    }
    fn tags(&self) -> &[store::Tag] {
        &self.tags
    }
}

/// The provider an ARN names, in the caller's account only.
pub async fn locate<S: Store>(
    call: &Call<'_, S>,
    arn: &str,
) -> Result<Located<OidcProvider>, AwsError> {
    let owner = Arn::parse(arn)
        .filter(|a| {
            a.service == "iam"
                && a.region.is_empty()
                && !a.account.is_empty()
                && a.resource.starts_with("oidc-provider/")
        })
        .map(|a| a.account)
        .ok_or_else(|| AwsError::sender("InvalidInput", 400, format!("ARN {arn} is not valid.")))?;
    if owner != account(call) {
        return Ok(Located::foreign(
            arn.to_owned(),
            owner,
            EntityKind::OidcProvider,
        ));
    }
    let found = call.app.store().oidc_provider(account(call), arn).await;
    Located::new(found, arn.to_owned())
}

/// `https://HOST[/PATH]` → `HOST[/PATH]`: no query, fragment, user information or empty host.
fn url_without_scheme(url: &str) -> Option<&str> {
    let rest = url.strip_prefix("https://")?;
    let host = rest.split('/').next().unwrap_or("");
    let valid = !host.is_empty()
        && !rest.contains(['?', '#', '@'])
        && !rest.chars().any(|c| c.is_whitespace() || c.is_control());
    valid.then_some(rest)
}

fn too_many_thumbprints() -> AwsError {
    AwsError::sender(
        "InvalidInput",
        400,
        "Thumbprint list must contain fewer than 5 entries.",
    )
}

fn owned(list: Option<Vec<&str>>) -> Vec<String> {
    list.unwrap_or_default()
        .into_iter()
        .map(str::to_owned)
        .collect()
}

pub async fn create<S: Store>(call: &Call<'_, S>) -> Reply {
    let mut input = Input::new(call.input);
    let client_ids = owned(input.string_list("ClientIDList", 1, MAX_CLIENT_ID));
    let thumbprints = owned(input.string_list("ThumbprintList", THUMBPRINT_LEN, THUMBPRINT_LEN));
    let url = input.unshown_text("Url", 1, MAX_URL);
    let new_tags = input.tags("Tags", false);
    input.finish()?;
    let Some(bare_url) = url_without_scheme(url) else {
        return Err(AwsError::validation("Invalid Open ID Connect Provider URL"));
    };
    if thumbprints.len() > MAX_THUMBPRINTS {
        return Err(too_many_thumbprints());
    }
    if client_ids.len() > MAX_CLIENT_IDS {
        return Err(AwsError::sender(
            "LimitExceeded",
            409,
            format!("Cannot exceed quota for ClientIdsPerOpenIdConnectProvider: {MAX_CLIENT_IDS}"),
        ));
    }
    reject_reserved_or_duplicate_keys(&new_tags, KeyCase::Insensitive)?;
    let arn = format!("arn:aws:iam::{}:oidc-provider/{bare_url}", account(call));
    authorize(call, &arn, request_tags(&new_tags)).await?;
    let mut unique_client_ids: Vec<String> = Vec::with_capacity(client_ids.len());
    for id in client_ids {
        if !unique_client_ids.contains(&id) {
            unique_client_ids.push(id);
        }
    }
    let provider = call
        .app
        .store()
        .create_oidc_provider(
            account(call),
            NewOidcProvider {
                url: bare_url.to_owned(),
                client_ids: unique_client_ids,
                thumbprints,
                tags: new_tags,
            },
        )
        .await
        .map_err(store_error)?;
    Ok(respond(call, |x| {
        x.elem("OpenIDConnectProviderArn", &provider.arn);
        if !provider.tags.is_empty() {
            tags(x, &provider.tags);
        }
    }))
}

fn read_arn<'a>(input: &mut Input<'a>) -> &'a str {
    input.arn("OpenIDConnectProviderArn")
}

pub async fn get<S: Store>(call: &Call<'_, S>) -> Reply {
    let mut input = Input::new(call.input);
    let arn = read_arn(&mut input);
    input.finish()?;
    let provider = locate(call, arn).await?.authorize(call, Vec::new()).await?;
    Ok(respond(call, |x| {
        x.elem("Url", &provider.url);
        x.list("ClientIDList", "member", &provider.client_ids, |x, id| {
            x.text(id);
        });
        x.list("ThumbprintList", "member", &provider.thumbprints, |x, t| {
            x.text(t);
        });
        x.elem("CreateDate", date(provider.created));
        tags(x, &provider.tags);
    }))
}

pub async fn list<S: Store>(call: &Call<'_, S>) -> Reply {
    Input::new(call.input).finish()?;
    let resource = format!("arn:aws:iam::{}:oidc-provider/*", account(call));
    authorize(call, &resource, Vec::new()).await?;
    let providers = call
        .app
        .store()
        .list_oidc_providers(account(call))
        .await
        .map_err(store_error)?;
    Ok(respond(call, |x| {
        x.list("OpenIDConnectProviderList", "member", &providers, |x, p| {
            x.elem("Arn", &p.arn);
        });
    }))
}

pub async fn delete<S: Store>(call: &Call<'_, S>) -> Reply {
    let mut input = Input::new(call.input);
    let arn = read_arn(&mut input);
    input.finish()?;
    locate(call, arn)
        .await?
        .authorize(call, Vec::new())
        .await
        .map_err(|e| deletion_wording(e, arn))?;
    call.app
        .store()
        .delete_oidc_provider(account(call), arn)
        .await
        .map_err(|e| deletion_wording(store_error(e), arn))?;
    done(call)
}

/// DeleteOpenIDConnectProvider words a missing provider its own way (recorded AWS answer).
fn deletion_wording(error: AwsError, arn: &str) -> AwsError {
    if error.code == "NoSuchEntity" {
        return AwsError::sender(
            "NoSuchEntity",
            404,
            format!("OpenId connect Provider {arn} cannot be found."),
        );
    }
    error
}

pub async fn update_thumbprint<S: Store>(call: &Call<'_, S>) -> Reply {
    let mut input = Input::new(call.input);
    let arn = read_arn(&mut input);
    let thumbprints = input.string_list("ThumbprintList", THUMBPRINT_LEN, THUMBPRINT_LEN);
    if thumbprints.is_none() {
        input.missing("ThumbprintList");
    }
    input.finish()?;
    let thumbprints = owned(thumbprints);
    if thumbprints.len() > MAX_THUMBPRINTS {
        return Err(too_many_thumbprints());
    }
    change(call, arn, OidcProviderChange::Thumbprints(thumbprints)).await
}

pub async fn add_client_id<S: Store>(call: &Call<'_, S>) -> Reply {
    let mut input = Input::new(call.input);
    let arn = read_arn(&mut input);
    let client_id = input.unshown_text("ClientID", 1, MAX_CLIENT_ID);
    input.finish()?;
    change(
        call,
        arn,
        OidcProviderChange::AddClientId(client_id.to_owned()),
    )
    .await
}

pub async fn remove_client_id<S: Store>(call: &Call<'_, S>) -> Reply {
    let mut input = Input::new(call.input);
    let arn = read_arn(&mut input);
    let client_id = input.unshown_text("ClientID", 1, MAX_CLIENT_ID);
    input.finish()?;
    change(
        call,
        arn,
        OidcProviderChange::RemoveClientId(client_id.to_owned()),
    )
    .await
}

async fn change<S: Store>(call: &Call<'_, S>, arn: &str, change: OidcProviderChange) -> Reply {
    locate(call, arn).await?.authorize(call, Vec::new()).await?;
    call.app
        .store()
        .update_oidc_provider(account(call), arn, change)
        .await
        .map_err(store_error)?;
    done(call)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn provider_urls_are_https_without_query_or_fragment() {
        let cases: &[(&str, Option<&str>)] = &[
            ("https://example.com", Some("example.com")),
            ("https://example.com/path/x", Some("example.com/path/x")),
            (
                "https://oidc.eks.us-east-1.amazonaws.com/id/ABC",
                Some("oidc.eks.us-east-1.amazonaws.com/id/ABC"),
            ),
            ("example.org", None),
            ("http://example.com", None),
            ("https://", None),
            ("https:///path", None),
            ("https://example.com?x=1", None),
            ("https://example.com#f", None),
            ("https://user@example.com", None),
            ("https://exa mple.com", None),
        ];
        for (url, expected) in cases {
            assert_eq!(url_without_scheme(url), *expected, "{url}");
        }
    }
}
