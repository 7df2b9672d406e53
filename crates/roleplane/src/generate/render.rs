//! Activity → policy documents: one statement per set of resources, holding every action used
//! on exactly that set; `iam:PassRole` statements per receiving service with the
//! `iam:PassedToService` condition; split where a document would pass IAM's managed-policy
//! size; each checked by the policy engine before anyone sees it.

use std::collections::{BTreeMap, BTreeSet};

use policy::{FindingType, Policy, PolicyKind};
use serde_json::{Value, json};

use super::activity::Activity;
use super::directory::{Directory, ResourceKind};
use super::key_prefixes::{self, KeyPattern};
use super::observed::{PassedRole, Touched};
use super::placeholders::placeholder;

/// A managed policy's size limit (characters, whitespace not counted); AWS splits generated
/// policies at it too.
const MAX_POLICY_CHARS: usize = 6_144;

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Options {
    /// `includeResourcePlaceholders`: resource templates instead of the ARNs seen.
    pub resource_placeholders: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GenerateError {
    /// Never expected: the generator wrote something the engine refuses.
    #[error("the generated policy is not valid: {0}")]
    Invalid(String),
}

/// The policy documents (JSON text) for `activity`; none when it used nothing.
pub fn render(
    activity: &Activity,
    options: Options,
    directory: &Directory,
) -> Result<Vec<String>, GenerateError> {
    let spell = |arn: String| {
        if options.resource_placeholders {
            placeholder(&arn)
        } else {
            arn
        }
    };
    let resolve = |touched: &Touched| match touched {
        Touched::Any => "*".to_owned(),
        Touched::Arn(arn) => spell(arn.clone()),
        Touched::Named {
            kind,
            account,
            name,
        } => spell(directory.arn(*kind, account, name)),
        Touched::Object { bucket, key } => spell(KeyPattern::Exact(key).arn(bucket)),
        Touched::AllObjects { bucket } => spell(KeyPattern::Everything.arn(bucket)),
    };

    // Resource set → the actions used on exactly it.
    let mut groups: BTreeMap<BTreeSet<String>, BTreeSet<&str>> = BTreeMap::new();
    for (action, touched) in activity.actions() {
        let resources: BTreeSet<String> = if touched.contains(&Touched::Any) {
            BTreeSet::from(["*".to_owned()])
        } else {
            let (objects, others): (Vec<&Touched>, Vec<&Touched>) =
                touched.iter().partition(|t| is_s3_object(t));
            others
                .into_iter()
                .map(resolve)
                .chain(object_arns(objects).into_iter().map(spell))
                .collect()
        };
        groups.entry(resources).or_default().insert(action);
    }
    let mut by_first_action: Vec<(BTreeSet<&str>, BTreeSet<String>)> =
        groups.into_iter().map(|(r, a)| (a, r)).collect();
    by_first_action.sort();
    let mut statements: Vec<Value> = by_first_action
        .into_iter()
        .enumerate()
        .map(|(i, (actions, resources))| {
            json!({
                "Sid": format!("SupportedServiceSid{i}"),
                "Effect": "Allow",
                "Action": actions,
                "Resource": resource_value(resources),
            })
        })
        .collect();

    let mut passed: BTreeMap<&str, BTreeSet<String>> = BTreeMap::new();
    for (service, role) in activity.passed() {
        let arn = match role {
            PassedRole::Role(touched) => Some(resolve(touched)),
            PassedRole::Profile { account, name } => activity
                .profile_role(account, name)
                .map(|role| directory.arn(ResourceKind::Role, account, role))
                .or_else(|| directory.profile_role(account, name).map(str::to_owned))
                .map(spell),
        };
        // A profile with no role passed nothing.
        if let Some(arn) = arn {
            passed.entry(service).or_default().insert(arn);
        }
    }
    statements.extend(passed.into_iter().enumerate().map(|(i, (service, roles))| {
        json!({
            "Sid": format!("PassRoleSid{i}"),
            "Effect": "Allow",
            "Action": ["iam:PassRole"],
            "Resource": resource_value(roles),
            "Condition": {"StringEquals": {"iam:PassedToService": service}},
        })
    }));

    split(statements).into_iter().map(validated).collect()
}

fn is_s3_object(touched: &Touched) -> bool {
    matches!(touched, Touched::Object { .. } | Touched::AllObjects { .. })
}

/// The ARNs of the S3 objects one action touched, each bucket's keys grouped by
/// [`key_prefixes::group`].
fn object_arns<'a>(objects: impl IntoIterator<Item = &'a Touched>) -> Vec<String> {
    // Bucket → (its keys, whether every object was touched).
    let mut buckets: BTreeMap<&str, (BTreeSet<&str>, bool)> = BTreeMap::new();
    for touched in objects {
        match touched {
            Touched::Object { bucket, key } => {
                buckets.entry(bucket).or_default().0.insert(key);
            }
            Touched::AllObjects { bucket } => buckets.entry(bucket).or_default().1 = true,
            _ => {}
        }
    }
    buckets
        .into_iter()
        .flat_map(|(bucket, (keys, everything))| {
            key_prefixes::group(&keys, everything)
                .into_iter()
                .map(move |pattern| pattern.arn(bucket))
        })
        .collect()
}

/// `"*"` alone stays a string, as AWS writes it; any other set is a sorted list.
fn resource_value(resources: BTreeSet<String>) -> Value {
    if resources.len() == 1 && resources.contains("*") {
        Value::from("*")
    } else {
        Value::from(resources.into_iter().collect::<Vec<_>>())
    }
}

/// Statements packed in order into documents under [`MAX_POLICY_CHARS`]; a statement larger
/// than that on its own still gets a document.
fn split(statements: Vec<Value>) -> Vec<String> {
    const ENVELOPE: usize = r#"{"Version":"2012-10-17","Statement":[]}"#.len();
    let mut documents = Vec::new();
    let mut current: Vec<Value> = Vec::new();
    let mut size = ENVELOPE;
    for statement in statements {
        let len = statement.to_string().len() + 1;
        if !current.is_empty() && size + len > MAX_POLICY_CHARS {
            documents.push(document(std::mem::take(&mut current)));
            size = ENVELOPE;
        }
        size += len;
        current.push(statement);
    }
    if !current.is_empty() {
        documents.push(document(current));
    }
    documents
}

fn document(statements: Vec<Value>) -> String {
    json!({"Version": "2012-10-17", "Statement": statements}).to_string()
}

fn validated(document: String) -> Result<String, GenerateError> {
    Policy::parse(&document, PolicyKind::Identity)
        .map_err(|e| GenerateError::Invalid(e.to_string()))?;
    if let Some(error) = policy::validate(&document, PolicyKind::Identity)
        .into_iter()
        .find(|f| f.finding_type == FindingType::Error)
    {
        return Err(GenerateError::Invalid(format!("{error:?}")));
    }
    Ok(document)
}

#[cfg(test)]
mod tests;
