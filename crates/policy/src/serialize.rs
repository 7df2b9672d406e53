//! [`Policy`] → JSON. Parsing the output gives back an equal model; one-element
//! lists are written as plain strings, the form AWS's own examples use.

use serde_json::{Map, Value};

use crate::condition::Condition;
use crate::document::{Policy, PrincipalSet, Statement};

pub fn to_json(policy: &Policy) -> Value {
    let mut top = Map::new();
    if let Some(version) = policy.version {
        top.insert("Version".into(), version.as_str().into());
    }
    if let Some(id) = &policy.id {
        top.insert("Id".into(), id.as_str().into());
    }
    top.insert(
        "Statement".into(),
        Value::Array(policy.statements.iter().map(statement).collect()),
    );
    Value::Object(top)
}

fn statement(s: &Statement) -> Value {
    let mut out = Map::new();
    if let Some(sid) = &s.sid {
        out.insert("Sid".into(), sid.as_str().into());
    }
    out.insert("Effect".into(), s.effect.as_str().into());
    if let Some(p) = &s.principal {
        let value = match &p.set {
            PrincipalSet::Any => Value::from("*"),
            PrincipalSet::Map(entries) => Value::Object(
                entries
                    .iter()
                    .map(|(t, values)| (t.as_str().to_owned(), list(values)))
                    .collect(),
            ),
        };
        out.insert(
            if p.negated {
                "NotPrincipal"
            } else {
                "Principal"
            }
            .into(),
            value,
        );
    }
    let actions: Vec<&str> = s.action.actions.iter().map(|a| a.source.as_str()).collect();
    out.insert(
        if s.action.negated {
            "NotAction"
        } else {
            "Action"
        }
        .into(),
        list(&actions),
    );
    if let Some(r) = &s.resource {
        let resources: Vec<&str> = r.resources.iter().map(|p| p.source.as_str()).collect();
        out.insert(
            if r.negated { "NotResource" } else { "Resource" }.into(),
            list(&resources),
        );
    }
    if !s.conditions.is_empty() {
        out.insert("Condition".into(), conditions(&s.conditions));
    }
    Value::Object(out)
}

/// Regroups the flat condition list under its operators, in first-seen order.
fn conditions(conditions: &[Condition]) -> Value {
    let mut by_operator = Map::new();
    for c in conditions {
        let keys = by_operator
            .entry(c.operator.name.to_string())
            .or_insert_with(|| Value::Object(Map::new()));
        if let Value::Object(keys) = keys {
            keys.insert(c.key.clone(), list(&c.values));
        }
    }
    Value::Object(by_operator)
}

fn list<S: AsRef<str>>(values: &[S]) -> Value {
    match values {
        [one] => Value::from(one.as_ref()),
        many => Value::Array(many.iter().map(|v| Value::from(v.as_ref())).collect()),
    }
}
