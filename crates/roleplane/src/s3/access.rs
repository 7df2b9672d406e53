//! Authorization of every S3 request, before its body is read: s3s calls [`S3Access::check`]
//! once it has verified the signature (or found none). The operation's action and resource
//! come from [`super::actions`], its condition keys from the head ([`super::conditions`]) and
//! the object's tags; the decision is the policy engine's, over the caller's identity policies,
//! session policies and boundary (as for every other service) with the bucket policy as the
//! resource policy and the bucket's owner as the resource account. An unsigned request is the
//! anonymous principal, whom only a public bucket policy lets in.
//!
//! What the check learned (the caller, the bucket, the object it read) travels to the
//! operation in the request's extensions as [`Authorized`].

use std::net::SocketAddr;
use std::sync::Arc;

use policy::{Policy, PolicyKind};
use protocol::Protocol;
use s3s::access::{S3Access, S3AccessContext};
use s3s::dto::CopySource;
use s3s::path::S3Path;
use s3s::{S3Error, S3Result, s3_error};
use store::{Bucket, ObjectMeta, Store, StoreError};

use super::actions::{self, Rule, Target};
use super::auth::SEAM;
use super::{conditions, errors, public};
use crate::audit::S3Names;
use crate::metrics::Cache;
use crate::request::authz::{self, Ask, Conditions, single};
use crate::request::{App, Call, Caller, GenerationCache, host_agent};

/// A bucket as authorization sees it: its record and its policy, parsed once per change.
#[derive(Debug)]
pub struct BucketView {
    pub bucket: Bucket,
    pub policy: Option<Policy>,
    /// Whether the policy lets everyone in ([`public::is_public`]).
    pub public: bool,
}

/// What the access check hands the operation.
#[derive(Debug, Clone)]
pub struct Authorized {
    /// `None` for an anonymous request.
    pub caller: Option<Caller>,
    /// The bucket the request names, when it exists.
    pub bucket: Option<Arc<BucketView>>,
    /// The object the request reads, when the check needed it (for its tags).
    pub object: Option<Arc<ObjectMeta>>,
}

/// Who is asking, and when and from where: what every decision of one request shares.
#[derive(Debug, Clone)]
pub struct Asker {
    pub caller: Option<Caller>,
    pub peer: SocketAddr,
    pub now: u64,
    pub request_id: String,
}

pub struct RoleplaneAccess<S> {
    app: Arc<App<S>>,
    buckets: GenerationCache<BucketView>,
    /// Object records the check read, by `bucket/key`, while no object has changed: a GET of
    /// an unchanged object then costs no trip to the store's worker thread.
    objects: GenerationCache<ObjectMeta>,
}

impl<S: Store> RoleplaneAccess<S> {
    pub fn new(app: Arc<App<S>>) -> Self {
        let caches = &app.metrics().caches;
        Self {
            buckets: GenerationCache::counted(caches.of(Cache::S3Buckets)),
            objects: GenerationCache::counted(caches.of(Cache::S3Objects)),
            app,
        }
    }

    /// The object record, from the cache while no object has changed; `None` if absent.
    async fn object(&self, bucket: &str, key: &str) -> S3Result<Option<Arc<ObjectMeta>>> {
        let generation = self.app.store().changes().objects;
        let name = format!("{bucket}/{key}");
        if let Some(object) = self.objects.get(&name, generation) {
            return Ok(Some(object));
        }
        match self.app.store().object(bucket, key).await {
            Ok(meta) => {
                let object = Arc::new(meta);
                self.objects.insert(&name, generation, object.clone());
                Ok(Some(object))
            }
            Err(StoreError::NotFound { .. }) => Ok(None),
            Err(e) => Err(errors::internal(&e)),
        }
    }

    /// The bucket named `name`, from the cache while no bucket has changed.
    async fn view(&self, name: &str) -> Result<Arc<BucketView>, StoreError> {
        let generation = self.app.store().changes().buckets;
        if let Some(view) = self.buckets.get(name, generation) {
            return Ok(view);
        }
        let bucket = self.app.store().bucket(name).await?;
        let view = Arc::new(view_of(bucket));
        self.buckets.insert(name, generation, view.clone());
        Ok(view)
    }
}

/// The view of a bucket record. A stored policy was validated when put; one that no longer
/// parses grants nothing.
pub fn view_of(bucket: Bucket) -> BucketView {
    let policy = bucket
        .policy
        .as_deref()
        .and_then(|doc| Policy::parse(doc, PolicyKind::Resource).ok());
    let public = policy.as_ref().is_some_and(public::is_public);
    BucketView {
        bucket,
        policy,
        public,
    }
}

/// Operations whose decision may depend on the tags of the object they read.
const READS_EXISTING_OBJECT: &[&str] = &[
    "GetObject",
    "HeadObject",
    "GetObjectTagging",
    "PutObjectTagging",
    "DeleteObjectTagging",
    "GetObjectAcl",
    "PutObjectAcl",
];

#[async_trait::async_trait]
impl<S: Store> S3Access for RoleplaneAccess<S> {
    async fn check(&self, cx: &mut S3AccessContext<'_>) -> S3Result<()> {
        let operation = cx.s3_op().name();
        let (bucket_name, key) = match cx.s3_path() {
            S3Path::Root => (None, None),
            S3Path::Bucket { bucket } => (Some(bucket.to_string()), None),
            S3Path::Object { bucket, key } => (Some(bucket.to_string()), Some(key.to_string())),
        };
        let rule = actions::rule_of(operation);
        let (asker, region) = current_asker(cx.credentials())?;
        let copy_source = match operation {
            "CopyObject" => cx
                .headers()
                .get("x-amz-copy-source")
                .and_then(|v| v.to_str().ok()),
            _ => None,
        };
        let names = S3Names {
            bucket: bucket_name.as_deref(),
            key: key.as_deref(),
            copy_source,
        };
        SEAM.with(|seam| {
            let mut record = seam.record();
            record.s3_call(operation, &names, rule.is_some_and(|r| r.data));
            if let Some(listed) = actions::OPERATIONS.iter().find(|o| **o == operation) {
                record.listed_operation(listed);
            }
            if let Some(caller) = &asker.caller {
                // SigV2 names its key only in a form the pipeline does not read.
                let region = region.as_deref().unwrap_or(self.app.region());
                record.signed(super::SERVICE, region, &caller.access_key_id);
                record.caller(caller);
            }
        });
        // A host's agent credential opens no S3 operation: refused before any bucket is read,
        // so it learns not even which exist.
        if let Some(caller) = &asker.caller {
            host_agent::refuse(caller, super::SERVICE, operation, Protocol::AwsQuery)
                .map_err(errors::access_denied)?;
        }
        let Some(rule) = rule else {
            return Err(s3_error!(
                NotImplemented,
                "This operation is not implemented by roleplane"
            ));
        };
        let bucket_name = bucket_name.unwrap_or_default();
        let key = key.unwrap_or_default();
        let creates = operation == "CreateBucket";
        let bucket = match rule.target {
            Target::Account => None,
            _ if creates => None,
            _ => match self.view(&bucket_name).await {
                Ok(view) => Some(view),
                Err(StoreError::NotFound { .. }) => None,
                Err(e) => return Err(errors::internal(&e)),
            },
        };
        SEAM.with(|seam| match &bucket {
            Some(view) => seam
                .record()
                .s3_destination(Some(&view.bucket.account_id), &view.bucket.region),
            None => seam.record().s3_destination(None, self.app.region()),
        });
        let mut context = conditions::from_head(operation, cx.uri(), cx.headers());
        let object = match &bucket {
            Some(_) if READS_EXISTING_OBJECT.contains(&operation) => {
                self.object(&bucket_name, &key).await?
            }
            _ => None,
        };
        if let Some(object) = &object {
            context.extend(conditions::existing_object_tags(&object.tags));
        }
        // Whether a bucket exists, and where, S3 tells anyone (its names are global): before
        // authorization, as S3 answers.
        if rule.target != Target::Account && !creates {
            let Some(view) = &bucket else {
                return Err(s3_error!(NoSuchBucket, "{}", errors::NO_SUCH_BUCKET));
            };
            check_region(region.as_deref(), &view.bucket.region)?;
        }
        // DeleteObjects is authorized key by key, by the operation.
        if operation != "DeleteObjects" {
            let resource = actions::resource(rule.target, &bucket_name, &key);
            authorize(
                &self.app,
                &asker,
                bucket.as_deref(),
                rule,
                &resource,
                context,
            )
            .await?;
        }
        if matches!(operation, "CopyObject" | "UploadPartCopy") {
            self.check_copy_source(&asker, cx).await?;
        }
        if let Some(caller) = &asker.caller {
            note_key_use(&self.app, caller, asker.now, region.as_deref());
        }
        cx.extensions_mut().insert(Authorized {
            caller: asker.caller,
            bucket,
            object,
        });
        Ok(())
    }
}

impl<S: Store> RoleplaneAccess<S> {
    /// CopyObject and UploadPartCopy read their source: `s3:GetObject` on it, under the
    /// source bucket's own policy.
    async fn check_copy_source(&self, asker: &Asker, cx: &S3AccessContext<'_>) -> S3Result<()> {
        let header = cx
            .headers()
            .get("x-amz-copy-source")
            .and_then(|v| v.to_str().ok())
            .ok_or_else(|| {
                s3_error!(
                    InvalidArgument,
                    "Copy Source must mention the source bucket and key: sourcebucket/sourcekey"
                )
            })?;
        let CopySource::Bucket { bucket, key, .. } = CopySource::parse(header)
            .map_err(|_| s3_error!(InvalidArgument, "Invalid copy source object key"))?
        else {
            return Err(s3_error!(
                NotImplemented,
                "Copying from an access point is not supported"
            ));
        };
        let source = match self.view(&bucket).await {
            Ok(view) => view,
            Err(StoreError::NotFound { .. }) => {
                return Err(s3_error!(NoSuchBucket, "{}", errors::NO_SUCH_BUCKET));
            }
            Err(e) => return Err(errors::internal(&e)),
        };
        let rule =
            actions::rule_of("GetObject").ok_or_else(|| errors::internal(&"no GetObject rule"))?;
        let resource = actions::object_arn(&bucket, &key);
        authorize(
            &self.app,
            asker,
            Some(&source),
            rule,
            &resource,
            Conditions::new(),
        )
        .await
    }
}

/// The asker of the request in progress and the region its signature names.
fn current_asker(
    credentials: Option<&s3s::auth::Credentials>,
) -> S3Result<(Asker, Option<String>)> {
    let caller = super::caller(credentials);
    // s3s verified a signature, so the seam resolved its key: anything else is a bug.
    if credentials.is_some() && caller.is_none() {
        return Err(errors::internal(
            &"verified credentials without a resolved caller",
        ));
    }
    SEAM.try_with(|seam| {
        (
            Asker {
                caller,
                peer: seam.peer,
                now: seam.now,
                request_id: seam.request_id.clone(),
            },
            seam.region.clone(),
        )
    })
    .map_err(|_| errors::internal(&"S3 access check outside roleplane's S3 entry point"))
}

/// Allows `rule.action` on `resource` for `asker`, or answers S3's AccessDenied.
pub async fn authorize<S: Store>(
    app: &App<S>,
    asker: &Asker,
    bucket: Option<&BucketView>,
    rule: Rule,
    resource: &str,
    mut context: Conditions,
) -> S3Result<()> {
    let owner = bucket.map(|view| view.bucket.account_id.as_str());
    if let Some(owner) = owner {
        context.push(single("s3:ResourceAccount", owner));
        context.push(single("aws:ResourceAccount", owner));
    }
    let caller_account = asker.caller.as_ref().map(|c| c.account_id.as_str());
    let resource_policy = bucket.and_then(|view| {
        // RestrictPublicBuckets: a public policy lets in only the owner's own account.
        let restricted = view
            .bucket
            .public_access_block
            .is_some_and(|block| block.restrict_public_buckets)
            && view.public
            && caller_account != Some(view.bucket.account_id.as_str());
        (!restricted).then(|| view.policy.clone()).flatten()
    });
    let ask = Ask {
        action: rule.action,
        resource,
        resource_account: owner,
        resource_policy,
        context,
    };
    let Some(caller) = &asker.caller else {
        let decision = authz::decide_anonymous(app, asker.peer, asker.now, ask);
        return match decision.is_allowed() {
            true => Ok(()),
            false => Err(s3_error!(AccessDenied, "{}", errors::ACCESS_DENIED)),
        };
    };
    let call = Call {
        app,
        caller,
        operation: "",
        input: &(),
        request_id: &asker.request_id,
        peer: asker.peer,
        now: asker.now,
    };
    authz::require(&call, ask).await.map_err(|denied| {
        if denied.status >= 500 {
            return errors::internal(&denied.message);
        }
        errors::access_denied(denied)
    })
}

/// A bucket answers only requests signed for its own region, as S3 does.
fn check_region(signed: Option<&str>, bucket_region: &str) -> S3Result<()> {
    match signed {
        Some(region) if region != bucket_region => Err(S3Error::with_message(
            s3s::S3ErrorCode::AuthorizationHeaderMalformed,
            format!(
                "The authorization header is malformed; the region '{region}' is wrong; \
                 expecting '{bucket_region}'"
            ),
        )),
        _ => Ok(()),
    }
}

/// The key's last use, as `request::authenticate` notes it for the other services.
fn note_key_use<S: Store>(app: &App<S>, caller: &Caller, now: u64, region: Option<&str>) {
    if caller.access_key_id.starts_with("AKIA") {
        app.last_use().key_used(
            &caller.access_key_id,
            now,
            super::SERVICE,
            region.unwrap_or(app.region()),
        );
    }
}
