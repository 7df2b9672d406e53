//! The ARNs behind the names records spell: a role's ARN carries its path, which `GetRole`'s
//! parameters do not, and an instance profile's role is not in `RunInstances`' record at all.
//! Loaded from the store once per rendering; anything it cannot find falls back to the
//! default path (`/`), or for a profile, to no role.

use std::collections::HashMap;

use store::Store;

use super::observed::{PassedRole, Touched};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ResourceKind {
    Role,
    User,
    InstanceProfile,
}

impl ResourceKind {
    /// The ARN's resource-type segment.
    pub fn segment(self) -> &'static str {
        match self {
            ResourceKind::Role => "role",
            ResourceKind::User => "user",
            ResourceKind::InstanceProfile => "instance-profile",
        }
    }

    pub fn arn(self, account: &str, path: &str, name: &str) -> String {
        format!("arn:aws:iam::{account}:{}{path}{name}", self.segment())
    }
}

/// Names resolved to ARNs, keyed by `(kind, account, name)`, and profiles to their role's ARN.
#[derive(Debug, Default, Clone)]
pub struct Directory {
    arns: HashMap<(ResourceKind, String, String), String>,
    profile_roles: HashMap<(String, String), String>,
}

impl Directory {
    pub fn insert(&mut self, kind: ResourceKind, account: &str, name: &str, arn: &str) {
        self.arns
            .insert((kind, account.to_owned(), name.to_owned()), arn.to_owned());
    }

    pub fn insert_profile_role(&mut self, account: &str, profile: &str, role_arn: &str) {
        self.profile_roles.insert(
            (account.to_owned(), profile.to_owned()),
            role_arn.to_owned(),
        );
    }

    /// The entity's ARN; with the default path when the store does not know it (deleted since).
    pub fn arn(&self, kind: ResourceKind, account: &str, name: &str) -> String {
        self.arns
            .get(&(kind, account.to_owned(), name.to_owned()))
            .cloned()
            .unwrap_or_else(|| kind.arn(account, "/", name))
    }

    /// The role the profile carries now, if any.
    pub fn profile_role(&self, account: &str, profile: &str) -> Option<&str> {
        self.profile_roles
            .get(&(account.to_owned(), profile.to_owned()))
            .map(String::as_str)
    }

    /// Looks up every name in `resources` and every profile in `passed` in the store.
    /// A lookup that fails leaves the name to the fallback: the policy is still worth having.
    pub async fn load<'a, S: Store>(
        store: &S,
        resources: impl IntoIterator<Item = &'a Touched>,
        passed: impl IntoIterator<Item = &'a PassedRole>,
    ) -> Directory {
        let mut directory = Directory::default();
        let passed: Vec<&PassedRole> = passed.into_iter().collect();
        let named = resources
            .into_iter()
            .chain(passed.iter().filter_map(|p| match p {
                PassedRole::Role(role) => Some(role),
                PassedRole::Profile { .. } => None,
            }));
        for touched in named {
            let Touched::Named {
                kind,
                account,
                name,
            } = touched
            else {
                continue;
            };
            if directory
                .arns
                .contains_key(&(*kind, account.clone(), name.clone()))
            {
                continue;
            }
            let arn = match kind {
                ResourceKind::Role => store.role_by_name(account, name).await.map(|r| r.arn),
                ResourceKind::User => store.user(account, name).await.map(|u| u.arn),
                ResourceKind::InstanceProfile => {
                    store.instance_profile(account, name).await.map(|p| p.arn)
                }
            };
            if let Ok(arn) = arn {
                directory.insert(*kind, account, name, &arn);
            }
        }
        for profile in passed {
            if let PassedRole::Profile { account, name } = profile
                && let Ok(found) = store.instance_profile(account, name).await
                && let Some(role) = found.roles.first()
            {
                directory.insert_profile_role(account, name, &role.arn);
            }
        }
        directory
    }
}
