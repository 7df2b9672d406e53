//! Login profiles: that a user has a console password. roleplane has no console, so the
//! password is checked against AWS's default password policy and then dropped, never stored or
//! recorded (the audit trail hides it too); what remains is what IAM shows of a profile and
//! what the credential report says (decision 0023).

use protocol::AwsError;
use store::Store;

use super::access::Located;
use super::users::{locate, user_name_or_caller};
use super::validate::{Input, LONG_NAME};
use super::xml;
use super::{Reply, account, done, respond, store_error};
use crate::request::Call;

/// `passwordType`'s length (IAM's model).
const MAX_PASSWORD: usize = 128;
/// AWS's default password policy: at least 8 characters…
const MIN_PASSWORD: usize = 8;
/// …of at least three of four kinds: upper case, lower case, digits, symbols.
const MIN_KINDS: usize = 3;

/// Refuses a password AWS's default policy refuses (there is no custom account policy here).
fn check_policy(password: &str) -> Result<(), AwsError> {
    let kinds = [
        password.chars().any(|c| c.is_ascii_uppercase()),
        password.chars().any(|c| c.is_ascii_lowercase()),
        password.chars().any(|c| c.is_ascii_digit()),
        password.chars().any(|c| !c.is_ascii_alphanumeric()),
    ];
    if password.chars().count() < MIN_PASSWORD
        || kinds.iter().filter(|&&kind| kind).count() < MIN_KINDS
    {
        // UNCONFIRMED wording; the code is IAM's.
        return Err(AwsError::sender(
            "PasswordPolicyViolation",
            400,
            "Password does not conform to the account password policy.",
        ));
    }
    Ok(())
}

async fn user<'a, S: Store>(
    call: &Call<'a, S>,
    given: Option<&'a str>,
) -> Result<store::User, AwsError> {
    let name = user_name_or_caller(call, given)?;
    let located: Located<store::User> = locate(call, name).await?;
    located.authorize(call, Vec::new()).await
}

fn profile_xml(x: &mut protocol::XmlWriter, profile: &store::LoginProfile) {
    x.node("LoginProfile", |x| {
        x.elem("UserName", &profile.user_name)
            .elem("CreateDate", xml::date(profile.created))
            .elem("PasswordResetRequired", profile.password_reset_required);
    });
}

pub async fn create<S: Store>(call: &Call<'_, S>) -> Reply {
    let mut input = Input::new(call.input);
    let given = input.optional_name("UserName", LONG_NAME);
    let password = input.unshown_text("Password", 1, MAX_PASSWORD);
    let reset = input.boolean("PasswordResetRequired").unwrap_or(false);
    input.finish()?;
    let user = user(call, given).await?;
    check_policy(password)?;
    let profile = call
        .app
        .store()
        .create_login_profile(account(call), &user.name, reset)
        .await
        .map_err(store_error)?;
    Ok(respond(call, |x| profile_xml(x, &profile)))
}

pub async fn get<S: Store>(call: &Call<'_, S>) -> Reply {
    let mut input = Input::new(call.input);
    let given = input.optional_name("UserName", LONG_NAME);
    input.finish()?;
    let user = user(call, given).await?;
    let profile = call
        .app
        .store()
        .login_profile(account(call), &user.name)
        .await
        .map_err(store_error)?;
    Ok(respond(call, |x| profile_xml(x, &profile)))
}

pub async fn update<S: Store>(call: &Call<'_, S>) -> Reply {
    let mut input = Input::new(call.input);
    let given = input.optional_name("UserName", LONG_NAME);
    let password = call
        .input
        .optional_str("Password")
        .is_some()
        .then(|| input.unshown_text("Password", 1, MAX_PASSWORD));
    let reset = input.boolean("PasswordResetRequired");
    input.finish()?;
    let user = user(call, given).await?;
    if let Some(password) = password {
        check_policy(password)?;
    }
    call.app
        .store()
        .update_login_profile(account(call), &user.name, password.is_some(), reset)
        .await
        .map_err(store_error)?;
    done(call)
}

pub async fn delete<S: Store>(call: &Call<'_, S>) -> Reply {
    let mut input = Input::new(call.input);
    let given = input.optional_name("UserName", LONG_NAME);
    input.finish()?;
    let user = user(call, given).await?;
    call.app
        .store()
        .delete_login_profile(account(call), &user.name)
        .await
        .map_err(store_error)?;
    done(call)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_password_policy() {
        for (password, ok) in [
            ("TestPassword123!", true),
            ("Abcdefg1", true),
            ("abcdef1!", true),
            ("Abc1!", false),
            ("abcdefgh", false),
            ("abcdefg1", false),
            ("ABCDEFGH!", false),
        ] {
            assert_eq!(check_policy(password).is_ok(), ok, "{password}");
        }
    }
}
