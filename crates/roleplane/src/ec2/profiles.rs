//! The `IamInstanceProfile` member (`Name` or `Arn`) of RunInstances, Associate and Replace,
//! resolved to a profile of the caller's account, and the `iam:PassRole` check on its role.
//!
//! A profile without a role is accepted, as EC2 accepts it: there is no role to pass, so no
//! PassRole check, and the instance simply gets no credentials from its metadata service.

use protocol::Scope;
use store::{InstanceProfile, ProfileRef, Store, StoreError};

use super::access::pass_role;
use super::error::{Ec2Error, from_store};
use crate::request::Call;

/// The profile `member` names; `MissingParameter` when the member is absent, an
/// `InvalidParameterValue` in AWS's words when it names no profile of this account.
pub async fn resolve<S: Store>(
    call: &Call<'_, S>,
    member: Option<Scope<'_>>,
) -> Result<InstanceProfile, protocol::AwsError> {
    let Some(member) = member else {
        return Err(call.input.root().missing("IamInstanceProfile").into());
    };
    let account = &call.caller.account_id;
    if let Some(arn) = member.optional_str("Arn") {
        let invalid = || Ec2Error::InvalidProfileArn(arn.to_owned());
        let name = arn
            .strip_prefix(&format!("arn:aws:iam::{account}:instance-profile/"))
            .and_then(|path_and_name| path_and_name.rsplit('/').next())
            .filter(|name| !name.is_empty())
            .ok_or_else(invalid)?;
        let profile = lookup(call, name).await?.ok_or_else(invalid)?;
        if profile.arn != arn {
            return Err(invalid().into());
        }
        if let Some(given) = member.optional_str("Name")
            && !given.eq_ignore_ascii_case(&profile.name)
        {
            return Err(Ec2Error::InvalidParameterCombination(
                "The parameter iamInstanceProfile.name cannot be used with a different iamInstanceProfile.arn".to_owned(),
            )
            .into());
        }
        return Ok(profile);
    }
    let name = member.required_str("Name")?;
    Ok(lookup(call, name)
        .await?
        .ok_or_else(|| Ec2Error::InvalidProfileName(name.to_owned()))?)
}

async fn lookup<S: Store>(
    call: &Call<'_, S>,
    name: &str,
) -> Result<Option<InstanceProfile>, Ec2Error> {
    match call
        .app
        .store()
        .instance_profile(&call.caller.account_id, name)
        .await
    {
        Ok(profile) => Ok(Some(profile)),
        Err(StoreError::NotFound { .. }) => Ok(None),
        Err(e) => Err(from_store(e)),
    }
}

/// Checks `iam:PassRole` on the profile's role (if it has one) for `instance_arn`.
pub async fn may_pass<S: Store>(
    call: &Call<'_, S>,
    profile: &InstanceProfile,
    instance_arn: &str,
) -> Result<(), Ec2Error> {
    for role in &profile.roles {
        pass_role(call, &role.arn, instance_arn).await?;
    }
    Ok(())
}

pub fn reference(profile: &InstanceProfile) -> ProfileRef {
    ProfileRef {
        arn: profile.arn.clone(),
        id: profile.id.clone(),
    }
}
