//! The `lookup_keys` of a row: one text per LookupEvents attribute value the record carries,
//! `prefix` `account:` `value`, so one GIN index answers a filter on any of them. The account
//! is in the key because LookupEvents always asks within one: the planner's estimate of a key
//! is then its count in that account, not across accounts (a username common in one account
//! and absent from the asking one would otherwise send it walking the whole trail). The
//! attributes a btree or a plain column serves instead are left out: the principal (its own
//! index, policy generation's scans), read-only (two values: a filter on the time walk), the
//! event ID (its UUIDv7 milliseconds narrow the time range to one).

use super::super::line::ResourceRef;
use super::super::model::{EventFilter, NewEvent};

const EVENT_NAME: &str = "n:";
const EVENT_SOURCE: &str = "s:";
const USERNAME: &str = "u:";
const ACCESS_KEY: &str = "k:";
const RESOURCE_TYPE: &str = "rt:";
const RESOURCE_NAME: &str = "rn:";

fn key(prefix: &str, account: &str, value: &str) -> String {
    let mut key = String::with_capacity(prefix.len() + account.len() + 1 + value.len());
    key.push_str(prefix);
    key.push_str(account);
    key.push(':');
    key.push_str(value);
    key
}

/// The keys `event`'s row is indexed under.
pub(super) fn of_event(event: &NewEvent) -> Vec<String> {
    let key = |prefix: &str, value: &str| key(prefix, &event.account_id, value);
    let mut keys = vec![
        key(EVENT_NAME, &event.event_name),
        key(EVENT_SOURCE, &event.event_source),
    ];
    if let Some(username) = &event.username {
        keys.push(key(USERNAME, username));
    }
    if let Some(access_key) = &event.access_key_id {
        keys.push(key(ACCESS_KEY, access_key));
    }
    if event.resources != "[]" {
        // Not the expected shape: no resource keys, as the journal's index reads it.
        let resources: Vec<ResourceRef<'_>> =
            serde_json::from_str(&event.resources).unwrap_or_default();
        for resource in resources {
            keys.push(key(RESOURCE_TYPE, &resource.kind));
            keys.push(key(RESOURCE_NAME, &resource.name));
        }
    }
    keys.sort_unstable();
    keys.dedup();
    keys
}

/// The key a row of `account` matching `filter` carries, for the attributes the GIN index
/// serves.
pub(super) fn of_filter(account: &str, filter: EventFilter<'_>) -> Option<String> {
    let (prefix, value) = match filter {
        EventFilter::EventName(v) => (EVENT_NAME, v),
        EventFilter::EventSource(v) => (EVENT_SOURCE, v),
        EventFilter::Username(v) => (USERNAME, v),
        EventFilter::AccessKeyId(v) => (ACCESS_KEY, v),
        EventFilter::ResourceType(v) => (RESOURCE_TYPE, v),
        EventFilter::ResourceName(v) => (RESOURCE_NAME, v),
        EventFilter::EventId(_) | EventFilter::ReadOnly(_) | EventFilter::PrincipalArn(_) => {
            return None;
        }
    };
    Some(key(prefix, account, value))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(resources: &str) -> NewEvent {
        NewEvent {
            event_id: "e".into(),
            event_time_ms: 1,
            account_id: "123456789012".into(),
            event_source: "iam.amazonaws.com".into(),
            event_name: "CreateRole".into(),
            read_only: false,
            access_key_id: Some("AKIA1".into()),
            username: None,
            principal_arn: Some("arn:aws:iam::123456789012:user/alice".into()),
            error_code: None,
            resources: resources.into(),
            management: true,
            record: "{}".into(),
        }
    }

    #[test]
    fn a_row_carries_a_key_per_attribute_value_and_a_filter_names_one() {
        let keys = of_event(&event(
            r#"[{"ResourceType":"AWS::IAM::Role","ResourceName":"web"},{"ResourceType":"AWS::IAM::Role","ResourceName":"n:x"}]"#,
        ));
        assert_eq!(
            keys,
            [
                "k:123456789012:AKIA1",
                "n:123456789012:CreateRole",
                "rn:123456789012:n:x",
                "rn:123456789012:web",
                "rt:123456789012:AWS::IAM::Role",
                "s:123456789012:iam.amazonaws.com"
            ]
        );
        for (filter, expected) in [
            (EventFilter::EventName("CreateRole"), Some("n:1:CreateRole")),
            (EventFilter::ResourceName("n:x"), Some("rn:1:n:x")),
            (EventFilter::Username("alice"), Some("u:1:alice")),
            (EventFilter::ReadOnly(true), None),
            (EventFilter::EventId("e"), None),
            (EventFilter::PrincipalArn("arn"), None),
        ] {
            assert_eq!(of_filter("1", filter).as_deref(), expected, "{filter:?}");
        }
        // Resources that do not read as LookupEvents' shape give no resource keys.
        assert_eq!(of_event(&event("not json")).len(), 3);
    }
}
