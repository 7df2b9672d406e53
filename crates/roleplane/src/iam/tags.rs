//! Tags on roles, users, instance profiles, managed policies and OpenID Connect providers: one
//! implementation of Tag*, Untag* and List*Tags for all five.

use protocol::AwsError;
use store::{Store, Tag};

use super::access::{Located, Resource, request_tags, tag_keys};
use super::validate::{
    Input, KeyCase, LONG_NAME, MAX_TAGS, SHORT_NAME, reject_reserved_or_duplicate_keys,
};
use super::{
    Reply, account, done, instance_profiles, managed_policies, oidc_providers, paging, respond,
    roles, store_error, users,
};
use crate::request::Call;

/// Which kind of entity an operation tags.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Taggable {
    Role,
    User,
    InstanceProfile,
    Policy,
    OidcProvider,
}

/// A located entity, reduced to what tagging needs.
pub struct Entity {
    arn: String,
    tags: Vec<Tag>,
}

impl Resource for Entity {
    fn arn(&self) -> &str {
        &self.arn
    }
    fn tags(&self) -> &[Tag] {
        &self.tags
    }
}

fn entity(resource: &impl Resource) -> Entity {
    Entity {
        arn: resource.arn().to_owned(),
        tags: resource.tags().to_vec(),
    }
}

impl Taggable {
    /// Reads the member that names the entity.
    fn read_id<'a>(self, input: &mut Input<'a>) -> &'a str {
        match self {
            Taggable::Role => input.name("RoleName", SHORT_NAME),
            Taggable::User => input.name("UserName", LONG_NAME),
            Taggable::InstanceProfile => input.name("InstanceProfileName", LONG_NAME),
            Taggable::Policy => input.arn("PolicyArn"),
            Taggable::OidcProvider => input.arn("OpenIDConnectProviderArn"),
        }
    }

    fn store_ref(self, id: &str) -> store::Taggable<'_> {
        match self {
            Taggable::Role => store::Taggable::Role(id),
            Taggable::User => store::Taggable::User(id),
            Taggable::InstanceProfile => store::Taggable::InstanceProfile(id),
            Taggable::Policy => store::Taggable::Policy(id),
            Taggable::OidcProvider => store::Taggable::OidcProvider(id),
        }
    }

    fn key_case(self) -> KeyCase {
        match self {
            Taggable::Policy => KeyCase::Sensitive,
            _ => KeyCase::Insensitive,
        }
    }

    /// The order List*Tags answers in. Roles' and policies' come by key length, then key
    /// (recorded AWS answers: ListPolicyTags gives `a, b, z, abc` for tags added as
    /// `abc, b, z, a`, and `A, a` for `a, A`; LocalStack's AWS-validated provider sorts
    /// ListRoleTags the same way); users' and instance profiles' in the order they were added.
    fn list_order(self, tags: &mut [Tag]) {
        if matches!(self, Taggable::Role | Taggable::Policy) {
            tags.sort_by(|a, b| {
                (a.key.chars().count(), &a.key).cmp(&(b.key.chars().count(), &b.key))
            });
        }
    }

    /// The LimitExceeded message (UNCONFIRMED wording, after IAM's `Cannot exceed quota for …`
    /// messages, except OIDC providers': a recorded AWS answer, test_iam_oidc.py).
    fn quota_message(self) -> String {
        let name = match self {
            Taggable::Role => "TagsPerRole",
            Taggable::User => "TagsPerUser",
            Taggable::InstanceProfile => "TagsPerInstanceProfile",
            Taggable::Policy => "TagsPerPolicy",
            Taggable::OidcProvider => {
                return "The number of tags has reached the maximum limit.".to_owned();
            }
        };
        format!("Cannot exceed quota for {name}: {MAX_TAGS}")
    }

    async fn locate<S: Store>(
        self,
        call: &Call<'_, S>,
        id: &str,
    ) -> Result<Located<Entity>, AwsError> {
        Ok(match self {
            Taggable::Role => roles::locate(call, id).await?.map(|e| entity(&e)),
            Taggable::User => users::locate(call, id).await?.map(|e| entity(&e)),
            Taggable::InstanceProfile => instance_profiles::locate(call, id)
                .await?
                .map(|e| entity(&e)),
            Taggable::Policy => managed_policies::locate(call, id)
                .await?
                .map(|e| entity(&e)),
            Taggable::OidcProvider => oidc_providers::locate(call, id).await?.map(|e| entity(&e)),
        })
    }
}

pub async fn tag<S: Store>(call: &Call<'_, S>, which: Taggable) -> Reply {
    let mut input = Input::new(call.input);
    let id = which.read_id(&mut input);
    let tags = input.tags("Tags", true);
    input.finish()?;
    reject_reserved_or_duplicate_keys(&tags, which.key_case())?;
    let entity = which
        .locate(call, id)
        .await?
        .authorize(call, request_tags(&tags))
        .await?;
    let added = tags
        .iter()
        .filter(|new| {
            !entity
                .tags
                .iter()
                .any(|old| which.key_case().same(&old.key, &new.key))
        })
        .count();
    if entity.tags.len() + added > MAX_TAGS {
        return Err(AwsError::sender(
            "LimitExceeded",
            409,
            which.quota_message(),
        ));
    }
    call.app
        .store()
        .tag(account(call), which.store_ref(id), &tags)
        .await
        .map_err(store_error)?;
    done(call)
}

pub async fn untag<S: Store>(call: &Call<'_, S>, which: Taggable) -> Reply {
    let mut input = Input::new(call.input);
    let id = which.read_id(&mut input);
    let keys = input.tag_keys("TagKeys");
    input.finish()?;
    which
        .locate(call, id)
        .await?
        .authorize(call, vec![tag_keys(keys.clone())])
        .await?;
    call.app
        .store()
        .untag(account(call), which.store_ref(id), &keys)
        .await
        .map_err(store_error)?;
    done(call)
}

pub async fn list<S: Store>(call: &Call<'_, S>, which: Taggable) -> Reply {
    let mut input = Input::new(call.input);
    let id = which.read_id(&mut input);
    let query = input.list_query("/");
    input.finish()?;
    which
        .locate(call, id)
        .await?
        .authorize(call, Vec::new())
        .await?;
    let mut tags = call
        .app
        .store()
        .tags(account(call), which.store_ref(id))
        .await
        .map_err(store_error)?;
    which.list_order(&mut tags);
    let (tags, next) = paging::page(tags, &query)?;
    Ok(respond(call, |x| {
        super::xml::tags(x, &tags);
        x.truncation(next.as_deref());
    }))
}
