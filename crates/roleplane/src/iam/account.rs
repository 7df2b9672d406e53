//! Account-level IAM: the account alias (one per account, unique across the deployment's
//! accounts as AWS keeps it unique across AWS) and GetAccountSummary. Every operation here
//! acts on the caller's own account; the resource is `*`, as IAM's service authorization
//! reference lists for these actions.

use store::Store;

use super::access::authorize;
use super::paging;
use super::validate::Input;
use super::{Reply, account, done, respond, store_error};
use crate::request::Call;

/// CreateAccountAlias: sets the account's alias, replacing the one it had (AWS replaces it
/// rather than refusing); `EntityAlreadyExists` when any account, this one included, has it.
pub async fn create_alias<S: Store>(call: &Call<'_, S>) -> Reply {
    let mut input = Input::new(call.input);
    let alias = input.account_alias("AccountAlias");
    input.finish()?;
    authorize(call, "*", Vec::new()).await?;
    call.app
        .store()
        .set_account_alias(account(call), alias)
        .await
        .map_err(store_error)?;
    done(call)
}

/// DeleteAccountAlias: only the account's own alias can be named; any other is NoSuchEntity,
/// whether another account holds it or none does.
pub async fn delete_alias<S: Store>(call: &Call<'_, S>) -> Reply {
    let mut input = Input::new(call.input);
    let alias = input.account_alias("AccountAlias");
    input.finish()?;
    authorize(call, "*", Vec::new()).await?;
    call.app
        .store()
        .delete_account_alias(account(call), alias)
        .await
        .map_err(store_error)?;
    done(call)
}

pub async fn list_aliases<S: Store>(call: &Call<'_, S>) -> Reply {
    let mut input = Input::new(call.input);
    let query = input.list_query("/");
    input.finish()?;
    authorize(call, "*", Vec::new()).await?;
    let aliases: Vec<String> = call
        .app
        .store()
        .account_alias(account(call))
        .await
        .map_err(store_error)?
        .into_iter()
        .collect();
    let (aliases, next) = paging::page(aliases, &query)?;
    Ok(respond(call, |x| {
        x.list("AccountAliases", "member", &aliases, |x, alias| {
            x.text(alias);
        })
        .truncation(next.as_deref());
    }))
}

/// AWS's default quotas, as GetAccountSummary reports them (recorded AWS answer: LocalStack's
/// test_iam_account_summary.py). roleplane enforces some of them (policy sizes, attached
/// policies, access keys per user, versions per policy); the others are reported as AWS
/// reports them.
const QUOTAS: &[(&str, u64)] = &[
    ("AccessKeysPerUserQuota", 2),
    ("AssumeRolePolicySizeQuota", 2048),
    ("AttachedPoliciesPerGroupQuota", 10),
    ("AttachedPoliciesPerRoleQuota", 10),
    ("AttachedPoliciesPerUserQuota", 10),
    ("GlobalEndpointTokenVersion", 1),
    ("GroupPolicySizeQuota", 5120),
    ("GroupsPerUserQuota", 10),
    ("GroupsQuota", 300),
    ("InstanceProfilesQuota", 1000),
    ("PoliciesQuota", 1500),
    ("PolicySizeQuota", 6144),
    ("PolicyVersionsInUseQuota", 10000),
    ("RolePolicySizeQuota", 10240),
    ("RolesQuota", 1000),
    ("ServerCertificatesQuota", 20),
    ("SigningCertificatesPerUserQuota", 2),
    ("UserPolicySizeQuota", 2048),
    ("UsersQuota", 5000),
    ("VersionsPerPolicyQuota", 5),
];

/// GetAccountSummary: the caller's account's entity counts beside AWS's default quotas.
/// What roleplane has no notion of (root access keys or MFA, passwords, MFA devices, server
/// and signing certificates) is 0, which is what AWS reports for an account without them.
pub async fn summary<S: Store>(call: &Call<'_, S>) -> Reply {
    Input::new(call.input).finish()?;
    authorize(call, "*", Vec::new()).await?;
    let counts = call
        .app
        .store()
        .account_counts(account(call))
        .await
        .map_err(store_error)?;
    let mut entries: Vec<(&str, u64)> = vec![
        ("AccountAccessKeysPresent", 0),
        ("AccountMFAEnabled", 0),
        ("AccountPasswordPresent", 0),
        ("AccountSigningCertificatesPresent", 0),
        ("Groups", counts.groups),
        ("InstanceProfiles", counts.instance_profiles),
        ("MFADevices", 0),
        ("MFADevicesInUse", 0),
        ("Policies", counts.policies),
        ("PolicyVersionsInUse", counts.policy_versions_in_use),
        ("Providers", counts.providers),
        ("Roles", counts.roles),
        ("ServerCertificates", 0),
        ("Users", counts.users),
    ];
    entries.extend_from_slice(QUOTAS);
    entries.sort_by_key(|(key, _)| *key);
    Ok(respond(call, |x| {
        x.node("SummaryMap", |x| {
            for (key, value) in &entries {
                x.node("entry", |x| {
                    x.elem("key", key).elem("value", value);
                });
            }
        });
    }))
}
