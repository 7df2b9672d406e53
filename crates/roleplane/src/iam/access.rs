//! Authorization of IAM operations: the action is `iam:<Operation>`, the resource the entity's
//! ARN (with its path), and the condition keys the operation sets.
//!
//! AWS authorizes before it checks existence, so an entity is first *located*: found, or only
//! named (its ARN then built from the name at path `/`), and a missing one is reported only
//! after the caller was allowed to ask.

use policy::ContextValue;
use protocol::AwsError;
use store::{EntityKind, InstanceProfile, ManagedPolicy, Role, Store, StoreError, Tag, User};

use super::store_error;
use crate::request::Call;
use crate::request::authz::{Ask, require};
pub use crate::request::authz::{Conditions, request_tags, single, tag_keys};

/// Allows the call's own action (`iam:` + its Action) on `resource`, or answers AccessDenied.
pub async fn authorize<S: Store>(
    call: &Call<'_, S>,
    resource: &str,
    context: Conditions,
) -> Result<(), AwsError> {
    let action = format!("iam:{}", call.operation);
    authorize_action(call, &action, resource, context).await
}

/// Allows another action the operation implies (`iam:PassRole` when a role is put in a profile).
pub async fn authorize_action<S: Store>(
    call: &Call<'_, S>,
    action: &str,
    resource: &str,
    context: Conditions,
) -> Result<(), AwsError> {
    require(
        call,
        Ask {
            action,
            resource,
            context,
            ..Ask::default()
        },
    )
    .await
}

/// An entity with an ARN and tags: what authorization needs to know about a resource.
pub trait Resource {
    fn arn(&self) -> &str;
    fn tags(&self) -> &[Tag];
}

macro_rules! resource {
    ($($t:ty),*) => {$(
        impl Resource for $t {
            fn arn(&self) -> &str { &self.arn }
            fn tags(&self) -> &[Tag] { &self.tags }
        }
    )*};
}
resource!(Role, User, InstanceProfile, ManagedPolicy);

/// An entity looked up for an operation: found, or missing with the error to report once the
/// caller has been authorized.
///
/// The lookup is always made in the caller's account; an ARN naming another account is never
/// looked up at all ([`Located::foreign`]) and can only be refused, as AWS refuses it where no
/// resource-based policy lets the caller in (IAM's managed policies have none).
pub struct Located<T> {
    /// The entity's ARN, or the ARN its name implies when it does not exist.
    pub arn: String,
    /// The account named by an ARN of another account; `None` for the caller's own.
    foreign_account: Option<String>,
    entity: Result<T, StoreError>,
}

impl<T> Located<T> {
    /// The same lookup with the entity (if found) transformed.
    pub fn map<U>(self, f: impl FnOnce(T) -> U) -> Located<U> {
        Located {
            arn: self.arn,
            foreign_account: self.foreign_account,
            entity: self.entity.map(f),
        }
    }

    /// An entity of `account`, which is not the caller's: never read, only refused.
    pub fn foreign(arn: String, account: &str, kind: EntityKind) -> Self {
        Located {
            entity: Err(StoreError::NotFound {
                kind,
                name: arn.clone(),
            }),
            arn,
            foreign_account: Some(account.to_owned()),
        }
    }
}

impl<T: Resource> Located<T> {
    /// `lookup`'s result; `NotFound` is kept for later, any other failure is returned now.
    pub fn new(lookup: Result<T, StoreError>, implied_arn: String) -> Result<Self, AwsError> {
        match lookup {
            Ok(entity) => Ok(Located {
                arn: entity.arn().to_owned(),
                foreign_account: None,
                entity: Ok(entity),
            }),
            Err(e @ StoreError::NotFound { .. }) => Ok(Located {
                arn: implied_arn,
                foreign_account: None,
                entity: Err(e),
            }),
            Err(e) => Err(store_error(e)),
        }
    }

    /// `aws:ResourceTag/KEY` for each of the entity's tags.
    pub fn resource_tags(&self) -> Conditions {
        let tags = self.entity.as_ref().map(T::tags).unwrap_or_default();
        tags.iter()
            .map(|t| {
                (
                    format!("aws:ResourceTag/{}", t.key),
                    ContextValue::Single(t.value.clone()),
                )
            })
            .collect()
    }

    /// Authorizes the call on this entity (plus `extra` condition keys), then insists that it
    /// exists.
    pub async fn authorize<S: Store>(
        self,
        call: &Call<'_, S>,
        extra: Conditions,
    ) -> Result<T, AwsError> {
        self.authorize_only(call, extra).await?;
        self.entity.map_err(store_error)
    }

    /// Authorizes the call on this entity without insisting that it exists (for operations
    /// whose own store call reports a missing entity in its own words).
    pub async fn authorize_only<S: Store>(
        &self,
        call: &Call<'_, S>,
        extra: Conditions,
    ) -> Result<(), AwsError> {
        let mut context = self.resource_tags();
        context.extend(extra);
        let action = format!("iam:{}", call.operation);
        require(
            call,
            Ask {
                action: &action,
                resource: &self.arn,
                resource_account: self.foreign_account.as_deref(),
                context,
                ..Ask::default()
            },
        )
        .await?;
        // A foreign entity is refused above (no resource policy can allow it); should a
        // policy engine ever allow it, it still reads as missing rather than being touched.
        match &self.foreign_account {
            Some(_) => Err(AwsError::access_denied(format!(
                "User: {} is not authorized to perform: {action} on resource: {} because no \
                 resource-based policy allows the {action} action",
                call.caller.principal.arn(),
                self.arn
            ))),
            None => Ok(()),
        }
    }
}
