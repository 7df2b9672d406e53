//! Instances and associations looked up for an operation on them.
//!
//! AWS authorizes before it checks existence (as `iam::access::Located` does for IAM), so a
//! lookup keeps "not found" until the caller has been allowed the action on the ARN the ID
//! implies: a caller without permission is refused alike for an ID that exists and one that
//! does not, and only a caller allowed to ask learns which. Lookups are the caller's account's
//! (another account's IDs are not found).

use store::{Association, AssociationQuery, Host, Instance, InstanceQuery, KeyPair, Store};

use super::access::{Conditions, authorize, instance_arn, resource_tags, tag_conditions};
use super::error::{Ec2Error, from_store};
use super::{account, hosts, key_pairs};
use crate::request::Call;

/// A resource looked up: found, or the NotFound to report once the caller has been allowed.
pub struct Located<T> {
    /// The instance ARN the operation is authorized on.
    arn: String,
    /// `ec2:ResourceTag/…` of a found instance; none for a missing one.
    tags: Conditions,
    found: Result<T, Ec2Error>,
}

impl<T> Located<T> {
    /// Allows `action` on the resource, then insists that it exists.
    pub async fn authorize<S: Store>(
        self,
        call: &Call<'_, S>,
        action: &str,
    ) -> Result<T, Ec2Error> {
        authorize(call, action, &self.arn, self.tags).await?;
        self.found
    }

    /// As [`Self::authorize`], with the request's own condition keys beside the resource's
    /// (CreateTags' `aws:RequestTag/…`).
    pub async fn authorize_with<S: Store>(
        mut self,
        call: &Call<'_, S>,
        action: &str,
        request: Conditions,
    ) -> Result<T, Ec2Error> {
        self.tags.extend(request);
        self.authorize(call, action).await
    }

    /// The resource if it exists, before authorization: only to derive the request's own
    /// condition keys from it (DeleteTags without tags removes the keys it has), never to
    /// answer with.
    pub fn peek(&self) -> Option<&T> {
        self.found.as_ref().ok()
    }
}

/// Each of `ids`, in order, as found among the account's visible instances.
pub async fn instances<S: Store>(
    call: &Call<'_, S>,
    ids: &[String],
) -> Result<Vec<Located<Instance>>, Ec2Error> {
    let query = InstanceQuery {
        ids: ids.to_vec(),
        ..InstanceQuery::default()
    };
    let found = call
        .app
        .store()
        .instances(account(call), &query)
        .await
        .map_err(from_store)?;
    Ok(ids
        .iter()
        .map(|id| match found.iter().find(|i| &i.id == id) {
            Some(instance) => Located {
                arn: instance_arn(call, id),
                tags: resource_tags(instance),
                found: Ok(instance.clone()),
            },
            None => Located {
                arn: instance_arn(call, id),
                tags: Conditions::new(),
                found: Err(Ec2Error::InstanceNotFound(vec![id.clone()])),
            },
        })
        .collect())
}

/// One instance of the account.
pub async fn instance<S: Store>(
    call: &Call<'_, S>,
    id: &str,
) -> Result<Located<Instance>, Ec2Error> {
    let mut located = instances(call, &[id.to_owned()]).await?;
    located.pop().ok_or(Ec2Error::Internal)
}

/// The association `id` names, with its (visible) instance. A missing one implies no instance,
/// so it is authorized on every instance of the account (`instance/*`): only a caller allowed
/// the action on any instance learns that it does not exist.
pub async fn association<S: Store>(
    call: &Call<'_, S>,
    id: &str,
) -> Result<Located<(Association, Instance)>, Ec2Error> {
    let query = AssociationQuery {
        ids: vec![id.to_owned()],
        ..AssociationQuery::default()
    };
    let association = call
        .app
        .store()
        .instance_profile_associations(account(call), &query)
        .await
        .map_err(from_store)?
        .into_iter()
        .next();
    let found = match association {
        Some(association) => {
            let located = instance(call, &association.instance_id).await?;
            match located.found {
                Ok(instance) => Some((association, instance)),
                Err(_) => None,
            }
        }
        None => None,
    };
    Ok(match found {
        Some((association, instance)) => Located {
            arn: instance_arn(call, &instance.id),
            tags: resource_tags(&instance),
            found: Ok((association, instance)),
        },
        None => Located {
            arn: instance_arn(call, "*"),
            tags: Conditions::new(),
            found: Err(Ec2Error::AssociationNotFound(id.to_owned())),
        },
    })
}

/// The key pair with the ID `id`. Its ARN names it by name; a missing one implies no name, so
/// it is authorized on every key pair of the account (`key-pair/*`), as a missing association
/// is.
pub async fn key_pair<S: Store>(
    call: &Call<'_, S>,
    id: &str,
) -> Result<Located<KeyPair>, Ec2Error> {
    let pair = call
        .app
        .store()
        .key_pairs(account(call))
        .await
        .map_err(from_store)?
        .into_iter()
        .find(|p| p.id == id);
    Ok(match pair {
        Some(pair) => Located {
            arn: key_pairs::key_pair_arn(call, &pair.name),
            tags: tag_conditions(&pair.tags),
            found: Ok(pair),
        },
        None => Located {
            arn: key_pairs::key_pair_arn(call, "*"),
            tags: Conditions::new(),
            found: Err(Ec2Error::KeyPairIdNotFound(id.to_owned())),
        },
    })
}

/// The account's host `id` (a released one while it is listed), on its own ARN.
pub async fn host<S: Store>(call: &Call<'_, S>, id: &str) -> Result<Located<Host>, Ec2Error> {
    let host = call
        .app
        .store()
        .hosts(account(call), &[id.to_owned()])
        .await
        .map_err(from_store)?
        .into_iter()
        .next();
    Ok(Located {
        arn: hosts::host_arn(call, id),
        tags: host
            .as_ref()
            .map(|h| tag_conditions(&h.tags))
            .unwrap_or_default(),
        found: host.ok_or_else(|| Ec2Error::HostNotFound(vec![id.to_owned()])),
    })
}
