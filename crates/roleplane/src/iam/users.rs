//! IAM users and their long-term access keys (two at most; the secret is shown once).

use crate::credentials::new_secret_access_key;
use store::{AccessKeyStatus, NewAccessKey, NewUser, Store, User, UserUpdate};

use protocol::{AwsError, Protocol};

use super::access::{Located, authorize, request_tags, single};
use super::paging;
use super::validate::{Input, KeyCase, LONG_NAME, SHORT_NAME, reject_reserved_or_duplicate_keys};
use super::xml::{self, UserView};
use super::{Reply, account, arn, done, listing, managed_policies, respond, store_error};
use crate::request::Call;
use crate::request::Identity;

/// Finds a user by name for an operation on it.
pub async fn locate<S: Store>(call: &Call<'_, S>, name: &str) -> Result<Located<User>, AwsError> {
    let found = call.app.store().user(account(call), name).await;
    Located::new(found, arn(call, "user", "/", name))
}

/// The `UserName` member, or the calling user when it is absent (GetUser, the access-key and
/// login-profile operations). Only a user's own long-term credentials imply a user: a session of a user
/// (GetSessionToken) never reaches IAM (`sts::restrict_session_token_credentials`).
pub(super) fn user_name_or_caller<'a, S>(
    call: &Call<'a, S>,
    given: Option<&'a str>,
) -> Result<&'a str, AwsError> {
    if let Some(name) = given {
        return Ok(name);
    }
    match &call.caller.identity {
        Identity::User(user) => Ok(&user.name),
        Identity::Session(_) | Identity::HostAgent(_) => Err(AwsError::validation(
            "Must specify userName when calling with non-User credentials",
        )),
    }
}

pub async fn create<S: Store>(call: &Call<'_, S>) -> Reply {
    let mut input = Input::new(call.input);
    let path = input.path("Path");
    let name = input.name("UserName", SHORT_NAME);
    let boundary = input.optional_arn("PermissionsBoundary");
    let tags = input.tags("Tags", false);
    input.finish()?;
    if let Some(boundary) = boundary {
        managed_policies::check_boundary_arn(boundary)?;
    }
    reject_reserved_or_duplicate_keys(&tags, KeyCase::Insensitive)?;
    let mut context = request_tags(&tags);
    if let Some(boundary) = boundary {
        context.push(single("iam:PermissionsBoundary", boundary));
    }
    authorize(call, &arn(call, "user", path, name), context).await?;
    if let Some(boundary) = boundary {
        super::aws_managed::require_exists(boundary, store::EntityKind::PermissionsBoundary)?;
    }
    let user = call
        .app
        .store()
        .create_user(
            account(call),
            NewUser {
                name: name.to_owned(),
                path: path.to_owned(),
                permissions_boundary_arn: boundary.map(str::to_owned),
                tags,
            },
        )
        .await
        .map_err(store_error)?;
    Ok(respond(call, |x| {
        x.node("User", |x| xml::user(x, &user, UserView::Single));
    }))
}

pub async fn get<S: Store>(call: &Call<'_, S>) -> Reply {
    let mut input = Input::new(call.input);
    let given = input.optional_name("UserName", LONG_NAME);
    input.finish()?;
    let name = user_name_or_caller(call, given)?;
    let user = locate(call, name)
        .await?
        .authorize(call, Vec::new())
        .await?;
    Ok(respond(call, |x| {
        x.node("User", |x| xml::user(x, &user, UserView::Single));
    }))
}

pub async fn list<S: Store>(call: &Call<'_, S>) -> Reply {
    let query = listing::query(call, "user").await?;
    let page = call
        .app
        .store()
        .list_users(account(call), &query)
        .await
        .map_err(store_error)?;
    Ok(listing::page(call, "Users", &page, |x, user| {
        xml::user(x, user, UserView::Listed)
    }))
}

/// Renames a user and/or moves it to another path. The user keeps its ID, so its access keys,
/// policies and tags go with it, and its keys authenticate as the new ARN from the next
/// request on (every IAM write moves the key cache's generation).
///
/// The caller needs `iam:UpdateUser` on the user as it is and, when the ARN changes, as it will
/// be (IAM User Guide, "Renaming an IAM user": permission on both the source and the target).
pub async fn update<S: Store>(call: &Call<'_, S>) -> Reply {
    let mut input = Input::new(call.input);
    let name = input.name("UserName", LONG_NAME);
    let new_path = input.optional_path("NewPath");
    let new_name = input.optional_name("NewUserName", SHORT_NAME);
    input.finish()?;
    let user = locate(call, name)
        .await?
        .authorize(call, Vec::new())
        .await?;
    let target = arn(
        call,
        "user",
        new_path.unwrap_or(&user.path),
        new_name.unwrap_or(&user.name),
    );
    if target != user.arn {
        authorize(call, &target, Vec::new()).await?;
    }
    call.app
        .store()
        .update_user(
            account(call),
            name,
            UserUpdate {
                new_name: new_name.map(str::to_owned),
                new_path: new_path.map(str::to_owned),
            },
        )
        .await
        .map_err(store_error)?;
    done(call)
}

pub async fn delete<S: Store>(call: &Call<'_, S>) -> Reply {
    let mut input = Input::new(call.input);
    let name = input.name("UserName", LONG_NAME);
    input.finish()?;
    locate(call, name)
        .await?
        .authorize(call, Vec::new())
        .await?;
    call.app
        .store()
        .delete_user(account(call), name)
        .await
        .map_err(store_error)?;
    done(call)
}

pub async fn create_access_key<S: Store>(call: &Call<'_, S>) -> Reply {
    let mut input = Input::new(call.input);
    let given = input.optional_name("UserName", LONG_NAME);
    input.finish()?;
    let name = user_name_or_caller(call, given)?;
    let user = locate(call, name)
        .await?
        .authorize(call, Vec::new())
        .await?;

    let access_key_id = store::ids::access_key_id();
    let secret = new_secret_access_key().map_err(|_| internal("reading the random source"))?;
    let secret_ciphertext = call
        .app
        .seal_secret(&access_key_id, &secret)
        .map_err(|_| internal("sealing a new access key's secret"))?;
    let key = call
        .app
        .store()
        .create_access_key(
            account(call),
            &user.name,
            NewAccessKey {
                access_key_id,
                secret_ciphertext,
            },
        )
        .await
        .map_err(store_error)?;
    Ok(respond(call, |x| {
        x.node("AccessKey", |x| {
            x.elem("UserName", &key.user_name)
                .elem("AccessKeyId", &key.access_key_id)
                .elem("Status", key.status.as_str())
                .elem("SecretAccessKey", secret.as_str())
                .elem("CreateDate", xml::date(key.created));
        });
    }))
}

pub async fn list_access_keys<S: Store>(call: &Call<'_, S>) -> Reply {
    let mut input = Input::new(call.input);
    let given = input.optional_name("UserName", LONG_NAME);
    let query = input.list_query("/");
    input.finish()?;
    let name = user_name_or_caller(call, given)?;
    let user = locate(call, name)
        .await?
        .authorize(call, Vec::new())
        .await?;
    let keys = call
        .app
        .store()
        .list_access_keys(account(call), &user.name)
        .await
        .map_err(store_error)?;
    let (keys, next) = paging::page(keys, &query)?;
    Ok(respond(call, |x| {
        x.list("AccessKeyMetadata", "member", &keys, |x, key| {
            xml::access_key_metadata(x, key)
        })
        .truncation(next.as_deref());
    }))
}

pub async fn update_access_key<S: Store>(call: &Call<'_, S>) -> Reply {
    let mut input = Input::new(call.input);
    let given = input.optional_name("UserName", LONG_NAME);
    let access_key_id = input.access_key_id("AccessKeyId");
    let status = input.enumeration("Status", &["Active", "Inactive", "Expired"]);
    input.finish()?;
    let status = match status {
        "Active" => AccessKeyStatus::Active,
        "Inactive" => AccessKeyStatus::Inactive,
        // UNCONFIRMED wording: `Expired` is in the model but is not a status one can set.
        other => {
            return Err(AwsError::sender(
                "InvalidInput",
                400,
                format!("Status {other} cannot be set on an access key."),
            ));
        }
    };
    let name = user_name_or_caller(call, given)?;
    let user = locate(call, name)
        .await?
        .authorize(call, Vec::new())
        .await?;
    call.app
        .store()
        .set_access_key_status(account(call), &user.name, access_key_id, status)
        .await
        .map_err(store_error)?;
    done(call)
}

pub async fn delete_access_key<S: Store>(call: &Call<'_, S>) -> Reply {
    let mut input = Input::new(call.input);
    let given = input.optional_name("UserName", LONG_NAME);
    let access_key_id = input.access_key_id("AccessKeyId");
    input.finish()?;
    let name = user_name_or_caller(call, given)?;
    let user = locate(call, name)
        .await?
        .authorize(call, Vec::new())
        .await?;
    call.app
        .store()
        .delete_access_key(account(call), &user.name, access_key_id)
        .await
        .map_err(store_error)?;
    done(call)
}

/// When, for which service and in which region a key was last used; `N/A` for what is not
/// known, as AWS answers for a key never used.
pub async fn get_access_key_last_used<S: Store>(call: &Call<'_, S>) -> Reply {
    let mut input = Input::new(call.input);
    let access_key_id = input.access_key_id("AccessKeyId");
    input.finish()?;
    let (key, user) = match call.app.store().access_key(access_key_id).await {
        Ok(found) if found.1.account_id == *account(call) => found,
        Ok(_) | Err(store::StoreError::NotFound { .. }) => {
            // Another account's key or none at all: the caller learns nothing either way.
            // AWS's wording has no colon after "perform" here (recorded AWS answer:
            // LocalStack's test_iam_users.py, get-last-used-nonexistent-key-error).
            return Err(AwsError::access_denied(format!(
                "User: {} is not authorized to perform iam:GetAccessKeyLastUsed on resource: access key {access_key_id}",
                call.caller.principal.arn()
            )));
        }
        Err(e) => return Err(store_error(e)),
    };
    Located::new(Ok(user), String::new())?
        .authorize(call, Vec::new())
        .await?;
    let last_used = call.app.last_use().key(access_key_id, key.last_used);
    Ok(respond(call, |x| {
        x.elem("UserName", &key.user_name)
            .node("AccessKeyLastUsed", |x| match &last_used {
                Some(used) => {
                    x.elem("LastUsedDate", xml::date(used.date))
                        .elem("ServiceName", used.service.as_deref().unwrap_or("N/A"))
                        .elem("Region", used.region.as_deref().unwrap_or("N/A"));
                }
                None => {
                    x.elem("ServiceName", "N/A").elem("Region", "N/A");
                }
            });
    }))
}

fn internal(what: &str) -> AwsError {
    tracing::error!("{what} failed");
    AwsError::internal(Protocol::AwsQuery)
}
