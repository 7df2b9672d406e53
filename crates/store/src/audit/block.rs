//! A block: a run of consecutive journal lines in one segment, the unit the index knows about.
//! Its row holds where the lines are, their time span, and per lookup attribute the distinct
//! values its records carry, so a lookup reads only blocks that can hold a match and filters
//! their lines. Indexing a record is then a parse of its columns and a few set lookups, not a
//! row of its own in SQLite (see `docs/decisions/0003-audit-durability.md`).

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use super::line::LineKeys;
use super::model::EventFilter;

/// A block takes lines until it is this large; the next batch starts a new one.
pub(super) const BLOCK_BYTES: u64 = 1024 * 1024;

/// Distinct values kept per attribute; past this the block answers "maybe" for any value.
const MAX_VALUES: usize = 64;

/// One block's row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Block {
    pub segment: u64,
    /// Byte range of its lines in the segment.
    pub start: u64,
    pub end: u64,
    pub records: u64,
    pub min_time_ms: i64,
    pub max_time_ms: i64,
    pub keys: Keys,
    /// Retention hid the records older than this (a block straddling the cut-off keeps its
    /// row; its older lines are skipped).
    pub pruned_before_ms: Option<i64>,
}

impl Block {
    pub fn empty(segment: u64, start: u64) -> Self {
        Self {
            segment,
            start,
            end: start,
            records: 0,
            min_time_ms: i64::MAX,
            max_time_ms: i64::MIN,
            keys: Keys::default(),
            pruned_before_ms: None,
        }
    }

    pub fn add(&mut self, line: &LineKeys<'_>) {
        self.records += 1;
        self.min_time_ms = self.min_time_ms.min(line.event_time_ms);
        self.max_time_ms = self.max_time_ms.max(line.event_time_ms);
        self.keys.add(line);
    }

    /// Whether a line at `time_ms` is still visible after retention.
    pub fn keeps(&self, time_ms: i64) -> bool {
        self.pruned_before_ms.is_none_or(|cutoff| time_ms >= cutoff)
    }
}

/// The values a block's records carry, per attribute. Short keys: one row per block, but
/// every lookup reads them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(super) struct Keys {
    #[serde(rename = "a")]
    accounts: Values,
    #[serde(rename = "s")]
    sources: Values,
    #[serde(rename = "n")]
    names: Values,
    /// Bit 0: a write seen; bit 1: a read seen.
    #[serde(rename = "r")]
    read_only: u8,
    #[serde(rename = "k")]
    access_keys: Values,
    #[serde(rename = "u")]
    usernames: Values,
    #[serde(rename = "p")]
    principals: Values,
    #[serde(rename = "t")]
    resource_types: Values,
    #[serde(rename = "rn")]
    resource_names: Values,
    /// Bit 0: a management event seen; bit 1: a data event seen. A row written before data
    /// events existed lacks it and holds management events only.
    #[serde(rename = "c", default = "management_events_only")]
    categories: u8,
}

const MANAGEMENT_SEEN: u8 = 1;
const DATA_SEEN: u8 = 2;

fn management_events_only() -> u8 {
    MANAGEMENT_SEEN
}

impl Keys {
    /// Keys that rule nothing out (a row whose keys cannot be read).
    pub fn anything() -> Self {
        let any = || Values(None);
        Self {
            accounts: any(),
            sources: any(),
            names: any(),
            read_only: 3,
            access_keys: any(),
            usernames: any(),
            principals: any(),
            resource_types: any(),
            resource_names: any(),
            categories: MANAGEMENT_SEEN | DATA_SEEN,
        }
    }

    fn add(&mut self, line: &LineKeys<'_>) {
        self.accounts.add(&line.account_id);
        self.sources.add(&line.event_source);
        self.names.add(&line.event_name);
        self.read_only |= if line.read_only { 2 } else { 1 };
        self.categories |= if line.management {
            MANAGEMENT_SEEN
        } else {
            DATA_SEEN
        };
        for (values, value) in [
            (&mut self.access_keys, &line.access_key_id),
            (&mut self.usernames, &line.username),
            (&mut self.principals, &line.principal_arn),
        ] {
            if let Some(value) = value {
                values.add(value);
            }
        }
        if line.resources.get() != "[]" {
            for resource in line.resources() {
                self.resource_types.add(&resource.kind);
                self.resource_names.add(&resource.name);
            }
        }
    }

    /// Whether the block may hold a management event (LookupEvents reads no others).
    pub fn may_hold_management(&self) -> bool {
        self.categories & MANAGEMENT_SEEN != 0
    }

    /// Whether the block may hold a record of `account` (any when `None`) matching `filter`.
    /// Event IDs are not kept: their time narrows the blocks instead.
    pub fn may_match(&self, account: Option<&str>, filter: Option<EventFilter<'_>>) -> bool {
        if account.is_some_and(|account| !self.accounts.may_contain(account)) {
            return false;
        }
        match filter {
            None | Some(EventFilter::EventId(_)) => true,
            Some(EventFilter::EventName(name)) => self.names.may_contain(name),
            Some(EventFilter::ReadOnly(read_only)) => {
                self.read_only & if read_only { 2 } else { 1 } != 0
            }
            Some(EventFilter::Username(name)) => self.usernames.may_contain(name),
            Some(EventFilter::ResourceType(kind)) => self.resource_types.may_contain(kind),
            Some(EventFilter::ResourceName(name)) => self.resource_names.may_contain(name),
            Some(EventFilter::EventSource(source)) => self.sources.may_contain(source),
            Some(EventFilter::AccessKeyId(key)) => self.access_keys.may_contain(key),
            Some(EventFilter::PrincipalArn(arn)) => self.principals.may_contain(arn),
        }
    }
}

/// The distinct values of one attribute, or `None` once there were too many to list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct Values(Option<BTreeSet<String>>);

impl Default for Values {
    fn default() -> Self {
        Self(Some(BTreeSet::new()))
    }
}

impl Values {
    fn add(&mut self, value: &str) {
        let Some(set) = &mut self.0 else { return };
        if set.contains(value) {
            return;
        }
        if set.len() < MAX_VALUES {
            set.insert(value.to_owned());
        } else {
            self.0 = None;
        }
    }

    fn may_contain(&self, value: &str) -> bool {
        self.0.as_ref().is_none_or(|set| set.contains(value))
    }
}

/// Whether `line` matches `account` and `filter` exactly.
pub(super) fn matches(
    line: &LineKeys<'_>,
    account: Option<&str>,
    filter: Option<EventFilter<'_>>,
) -> bool {
    if account.is_some_and(|account| line.account_id != account) {
        return false;
    }
    let is =
        |value: &Option<std::borrow::Cow<'_, str>>, wanted: &str| value.as_deref() == Some(wanted);
    match filter {
        None => true,
        Some(EventFilter::EventId(id)) => line.event_id == id,
        Some(EventFilter::EventName(name)) => line.event_name == name,
        Some(EventFilter::ReadOnly(read_only)) => line.read_only == read_only,
        Some(EventFilter::Username(name)) => is(&line.username, name),
        Some(EventFilter::EventSource(source)) => line.event_source == source,
        Some(EventFilter::AccessKeyId(key)) => is(&line.access_key_id, key),
        Some(EventFilter::PrincipalArn(arn)) => is(&line.principal_arn, arn),
        Some(EventFilter::ResourceType(kind)) => line.resources().iter().any(|r| r.kind == kind),
        Some(EventFilter::ResourceName(name)) => line.resources().iter().any(|r| r.name == name),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line_keys(json: &str) -> LineKeys<'_> {
        LineKeys::parse(json.as_bytes()).unwrap()
    }

    const A: &str = r#"["e1",5,"111111111111","iam.amazonaws.com","GetRole",true,"AKIA1","alice","arn:aws:iam::111111111111:user/alice",null,[{"ResourceType":"AWS::IAM::Role","ResourceName":"app"}],{}]"#;
    const B: &str = r#"["e2",9,"222222222222","sts.amazonaws.com","AssumeRole",false,null,null,null,"AccessDenied",[],{}]"#;

    #[test]
    fn a_block_rules_out_only_values_none_of_its_records_carry() {
        let mut block = Block::empty(1, 0);
        block.add(&line_keys(A));
        block.add(&line_keys(B));
        assert_eq!(
            (block.records, block.min_time_ms, block.max_time_ms),
            (2, 5, 9)
        );
        let keys = &block.keys;
        let cases: &[(Option<&str>, Option<EventFilter<'_>>, bool)] = &[
            (None, None, true),
            (Some("111111111111"), None, true),
            (Some("333333333333"), None, false),
            (None, Some(EventFilter::EventName("AssumeRole")), true),
            (None, Some(EventFilter::EventName("ListRoles")), false),
            (None, Some(EventFilter::ReadOnly(true)), true),
            (None, Some(EventFilter::Username("bob")), false),
            (None, Some(EventFilter::ResourceName("app")), true),
            (
                None,
                Some(EventFilter::ResourceType("AWS::EC2::Instance")),
                false,
            ),
            (
                None,
                Some(EventFilter::EventSource("ec2.amazonaws.com")),
                false,
            ),
            (None, Some(EventFilter::AccessKeyId("AKIA1")), true),
            (
                None,
                Some(EventFilter::PrincipalArn(
                    "arn:aws:iam::111111111111:user/bob",
                )),
                false,
            ),
            (None, Some(EventFilter::EventId("anything")), true),
        ];
        for (account, filter, expected) in cases {
            assert_eq!(
                keys.may_match(*account, *filter),
                *expected,
                "{account:?} {filter:?}"
            );
        }
        assert!(keys.may_hold_management());
        let mut writes_only = Block::empty(1, 0);
        writes_only.add(&line_keys(B));
        assert!(
            !writes_only
                .keys
                .may_match(None, Some(EventFilter::ReadOnly(true)))
        );
    }

    #[test]
    fn past_the_limit_an_attribute_matches_anything() {
        let mut values = Values::default();
        for n in 0..MAX_VALUES {
            values.add(&format!("v{n}"));
        }
        assert!(!values.may_contain("other"));
        values.add("one-too-many");
        assert!(values.may_contain("other"));
    }

    #[test]
    fn a_block_of_data_events_only_holds_no_management_event() {
        let data = r#"["e3",9,"111111111111","s3.amazonaws.com","GetObject",true,"AKIA1",null,null,null,[],false,{}]"#;
        let mut block = Block::empty(1, 0);
        block.add(&line_keys(data));
        assert!(!block.keys.may_hold_management());
        block.add(&line_keys(A));
        assert!(block.keys.may_hold_management());
        assert!(Keys::anything().may_hold_management());
    }

    #[test]
    fn a_row_from_before_data_events_holds_management_events() {
        let old: Keys = serde_json::from_str(
            r#"{"a":["1"],"s":[],"n":[],"r":1,"k":[],"u":[],"p":[],"t":[],"rn":[]}"#,
        )
        .unwrap();
        assert!(old.may_hold_management());
    }

    #[test]
    fn keys_survive_their_json_form() {
        let mut block = Block::empty(1, 0);
        block.add(&line_keys(A));
        let text = serde_json::to_string(&block.keys).unwrap();
        assert_eq!(serde_json::from_str::<Keys>(&text).unwrap(), block.keys);
    }

    #[test]
    fn a_line_matches_exactly() {
        let a = line_keys(A);
        assert!(matches(
            &a,
            Some("111111111111"),
            Some(EventFilter::ResourceType("AWS::IAM::Role"))
        ));
        assert!(!matches(&a, Some("222222222222"), None));
        assert!(matches(&a, None, Some(EventFilter::EventId("e1"))));
        assert!(!matches(
            &line_keys(B),
            None,
            Some(EventFilter::Username("alice"))
        ));
    }
}
