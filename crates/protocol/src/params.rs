//! The decoded parameter set of an awsQuery or ec2Query request, with typed accessors.
//!
//! Parameters are flat `name=value` pairs whose names encode structure: dotted structures
//! (`IamInstanceProfile.Name`), lists (`Tags.member.N.Key` in awsQuery, `InstanceId.N` in
//! ec2Query) and maps (`X.entry.N.key`). [`Params`] keeps the pairs sorted by name, so every
//! lookup is a binary search and every list is one contiguous range; nothing is allocated per
//! list index, so `Tags.member.99999999` costs what `Tags.member.1` does.
//!
//! A [`Scope`] is a view of the parameters under one prefix (the whole request, one structure,
//! one list element); handlers read through it:
//!
//! ```
//! # use protocol::{Params, Protocol, ParamError};
//! struct Tag<'a> { key: &'a str, value: &'a str }
//! let body = b"Action=TagRole&Version=2010-05-08&RoleName=r&Tags.member.1.Key=k&Tags.member.1.Value=v";
//! let p = Params::decode(Protocol::AwsQuery, body, 1 << 20).unwrap();
//! let tags = p.list("Tags", |t| Ok(Tag { key: t.required_str("Key")?, value: t.required_str("Value")? })).unwrap();
//! assert_eq!((p.required_str("RoleName").unwrap(), tags[0].key, tags[0].value), ("r", "k", "v"));
//! ```

use std::borrow::Cow;
use std::ops::RangeInclusive;

use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::Protocol;
use crate::error::{Constraint, DecodeError, ParamError, ec2_member_path, query_member_path};
use crate::form::decode_form;

/// How a list is spelled on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ListLayout<'n> {
    /// `Name.<member>.N`: awsQuery's default, with `member` (or a model's own member name).
    Wrapped(&'n str),
    /// `Name.N`: ec2Query lists, and awsQuery lists marked `flattened`.
    Flat,
}

impl ListLayout<'static> {
    /// The layout a protocol uses unless the model says otherwise.
    pub fn default_for(protocol: Protocol) -> Self {
        match protocol {
            Protocol::AwsQuery => ListLayout::Wrapped("member"),
            Protocol::Ec2Query => ListLayout::Flat,
        }
    }
}

/// How a map is spelled on the wire: `Name.entry.N.key` / `Name.entry.N.value` by default,
/// `Name.N.key` when flattened, with the model's own key/value names if it has them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MapLayout<'n> {
    pub entry: Option<&'n str>,
    pub key: &'n str,
    pub value: &'n str,
}

impl Default for MapLayout<'static> {
    fn default() -> Self {
        MapLayout {
            entry: Some("entry"),
            key: "key",
            value: "value",
        }
    }
}

/// IAM's pagination input: `Marker` and `MaxItems` (1–1000, default 100).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Page<'a> {
    pub marker: Option<&'a str>,
    pub max_items: usize,
}

/// The parameters of one request, sorted by name, with `Action` known to be present.
#[derive(Debug, Clone)]
pub struct Params {
    protocol: Protocol,
    entries: Vec<(String, String)>,
}

impl Params {
    /// Decodes a form body (see [`decode_form`]) into a parameter set.
    pub fn decode(protocol: Protocol, body: &[u8], limit: usize) -> Result<Self, DecodeError> {
        Self::from_pairs(protocol, decode_form(body, limit)?)
    }

    /// Builds a parameter set from already-decoded pairs (e.g. a presigned URL's query string
    /// joined with the body). A name given twice is rejected rather than resolved by guessing
    /// which one the client meant; a request without `Action` is rejected.
    pub fn from_pairs(
        protocol: Protocol,
        mut entries: Vec<(String, String)>,
    ) -> Result<Self, DecodeError> {
        entries.sort_unstable_by(|a, b| a.0.cmp(&b.0));
        if let Some(w) = entries.windows(2).find(|w| w[0].0 == w[1].0) {
            return Err(DecodeError::DuplicateParameter(w[0].0.clone()));
        }
        let params = Params { protocol, entries };
        if params
            .root()
            .optional_str("Action")
            .is_none_or(str::is_empty)
        {
            return Err(DecodeError::MissingAction);
        }
        Ok(params)
    }

    pub fn protocol(&self) -> Protocol {
        self.protocol
    }

    /// The operation name (`Action`); never empty.
    pub fn action(&self) -> &str {
        self.optional_str("Action").unwrap_or_default()
    }

    /// The API version the client targets (`Version`), if it sent one.
    pub fn version(&self) -> Option<&str> {
        self.optional_str("Version")
    }

    /// Every pair, sorted by name.
    pub fn entries(&self) -> impl Iterator<Item = (&str, &str)> {
        self.entries.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }

    /// The whole request as a [`Scope`]; the accessors below are shorthands for it.
    pub fn root(&self) -> Scope<'_> {
        Scope {
            params: self,
            path: Cow::Borrowed(""),
        }
    }

    pub fn optional_str(&self, name: &str) -> Option<&str> {
        self.root().optional_str(name)
    }
    pub fn required_str(&self, name: &str) -> Result<&str, ParamError> {
        self.root().required_str(name)
    }
    pub fn optional_i32(
        &self,
        name: &str,
        range: RangeInclusive<i32>,
    ) -> Result<Option<i32>, ParamError> {
        self.root().optional_i32(name, range)
    }
    pub fn optional_i64(
        &self,
        name: &str,
        range: RangeInclusive<i64>,
    ) -> Result<Option<i64>, ParamError> {
        self.root().optional_i64(name, range)
    }
    pub fn optional_bool(&self, name: &str) -> Result<Option<bool>, ParamError> {
        self.root().optional_bool(name)
    }
    pub fn optional_timestamp(&self, name: &str) -> Result<Option<OffsetDateTime>, ParamError> {
        self.root().optional_timestamp(name)
    }
    pub fn scope(&self, name: &str) -> Scope<'_> {
        self.root().scope(name)
    }
    pub fn optional_scope(&self, name: &str) -> Option<Scope<'_>> {
        self.root().optional_scope(name)
    }
    pub fn list<'a, T>(
        &'a self,
        name: &str,
        read: impl FnMut(Scope<'a>) -> Result<T, ParamError>,
    ) -> Result<Vec<T>, ParamError> {
        self.root().list(name, read)
    }
    pub fn list_str(&self, name: &str) -> Result<Vec<&str>, ParamError> {
        self.root().list_str(name)
    }
    pub fn map_str(&self, name: &str) -> Result<Vec<(&str, &str)>, ParamError> {
        self.root().map_str(name)
    }
    pub fn iam_page(&self) -> Result<Page<'_>, ParamError> {
        self.root().iam_page()
    }
}

/// The parameters under one prefix: the request, a structure, or one list element or map value.
#[derive(Debug, Clone)]
pub struct Scope<'a> {
    params: &'a Params,
    /// Wire name of this node (`""` for the request, `Tags.member.3` for a list element).
    path: Cow<'a, str>,
}

impl<'a> Scope<'a> {
    /// This node's wire name (`Tags.member.3`), empty for the request itself.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// The wire name of a member of this node; the empty name is the node itself, so typed
    /// accessors also read a list element's own value (`item.optional_i64("", ..)`).
    pub fn wire_name(&self, name: &str) -> String {
        match (self.path.is_empty(), name.is_empty()) {
            (true, _) => name.to_owned(),
            (false, true) => self.path.clone().into_owned(),
            (false, false) => format!("{}.{name}", self.path),
        }
    }

    /// The member path AWS uses in error messages: awsQuery `tags.1.member.key`,
    /// ec2Query `iamInstanceProfile.name`.
    pub fn error_path(&self, name: &str) -> String {
        let wire = self.wire_name(name);
        match self.params.protocol {
            Protocol::AwsQuery => query_member_path(&wire),
            Protocol::Ec2Query => ec2_member_path(&wire),
        }
    }

    /// The error for a required member that is absent.
    pub fn missing(&self, name: &str) -> ParamError {
        ParamError::Missing {
            protocol: self.params.protocol,
            name: self.wire_name(name),
        }
    }

    /// The error for a member whose value breaks `constraint`.
    pub fn invalid(&self, name: &str, value: &str, constraint: Constraint) -> ParamError {
        ParamError::Invalid {
            protocol: self.params.protocol,
            name: self.wire_name(name),
            value: value.to_owned(),
            constraint,
        }
    }

    /// This node's own value: a scalar list element (`TagKeys.member.1=…`).
    pub fn value(&self) -> Option<&'a str> {
        self.params.get(&self.path)
    }

    /// This node's own value, which must be present.
    pub fn required_value(&self) -> Result<&'a str, ParamError> {
        self.value().ok_or_else(|| ParamError::Missing {
            protocol: self.params.protocol,
            name: self.path.clone().into_owned(),
        })
    }

    pub fn optional_str(&self, name: &str) -> Option<&'a str> {
        self.params.get(&self.wire_name(name))
    }

    pub fn required_str(&self, name: &str) -> Result<&'a str, ParamError> {
        self.optional_str(name).ok_or_else(|| self.missing(name))
    }

    /// An integer within `range` (the model's min/max), reported with AWS's range wording.
    pub fn optional_i32(
        &self,
        name: &str,
        range: RangeInclusive<i32>,
    ) -> Result<Option<i32>, ParamError> {
        let range = i64::from(*range.start())..=i64::from(*range.end());
        // In range of i32 by construction.
        Ok(self.optional_i64(name, range)?.map(|n| n as i32))
    }

    pub fn required_i32(&self, name: &str, range: RangeInclusive<i32>) -> Result<i32, ParamError> {
        self.optional_i32(name, range)?
            .ok_or_else(|| self.missing(name))
    }

    pub fn optional_i64(
        &self,
        name: &str,
        range: RangeInclusive<i64>,
    ) -> Result<Option<i64>, ParamError> {
        let Some(raw) = self.optional_str(name) else {
            return Ok(None);
        };
        let n: i64 = raw
            .parse()
            .map_err(|_| self.invalid(name, raw, Constraint::Integer))?;
        if n < *range.start() {
            return Err(self.invalid(name, raw, Constraint::Min(*range.start())));
        }
        if n > *range.end() {
            return Err(self.invalid(name, raw, Constraint::Max(*range.end())));
        }
        Ok(Some(n))
    }

    /// A floating-point number; `NaN`, `Infinity` and `-Infinity` are accepted as Smithy spells them.
    pub fn optional_f64(&self, name: &str) -> Result<Option<f64>, ParamError> {
        let Some(raw) = self.optional_str(name) else {
            return Ok(None);
        };
        raw.parse()
            .map(Some)
            .map_err(|_| self.invalid(name, raw, Constraint::Number))
    }

    /// `true` or `false` (any ASCII case).
    pub fn optional_bool(&self, name: &str) -> Result<Option<bool>, ParamError> {
        let Some(raw) = self.optional_str(name) else {
            return Ok(None);
        };
        if raw.eq_ignore_ascii_case("true") {
            Ok(Some(true))
        } else if raw.eq_ignore_ascii_case("false") {
            Ok(Some(false))
        } else {
            Err(self.invalid(name, raw, Constraint::Boolean))
        }
    }

    /// An ISO 8601 / RFC 3339 date-time (`2015-01-25T08:00:00Z`, offsets and fractions allowed;
    /// a missing offset means UTC).
    pub fn optional_timestamp(&self, name: &str) -> Result<Option<OffsetDateTime>, ParamError> {
        let Some(raw) = self.optional_str(name) else {
            return Ok(None);
        };
        OffsetDateTime::parse(raw, &Rfc3339)
            .or_else(|_| OffsetDateTime::parse(&format!("{raw}Z"), &Rfc3339))
            .map(Some)
            .map_err(|_| self.invalid(name, raw, Constraint::Timestamp))
    }

    /// Whether the member is present, as a value or as a structure with any field.
    pub fn has(&self, name: &str) -> bool {
        let wire = self.wire_name(name);
        self.params.get(&wire).is_some() || !self.params.range(&format!("{wire}.")).is_empty()
    }

    /// A structure member (`IamInstanceProfile` → `IamInstanceProfile.Name`, …), present or not.
    pub fn scope(&self, name: &str) -> Scope<'a> {
        Scope {
            params: self.params,
            path: Cow::Owned(self.wire_name(name)),
        }
    }

    /// A structure member, if the request has any field of it.
    pub fn optional_scope(&self, name: &str) -> Option<Scope<'a>> {
        self.has(name).then(|| self.scope(name))
    }

    /// A list in the protocol's default layout, read element by element in index order.
    /// An absent list is empty.
    pub fn list<T>(
        &self,
        name: &str,
        read: impl FnMut(Scope<'a>) -> Result<T, ParamError>,
    ) -> Result<Vec<T>, ParamError> {
        Ok(self.optional_list(name, read)?.unwrap_or_default())
    }

    /// Like [`Scope::list`], but `None` when the list is absent; `Name=` (awsQuery's spelling of
    /// an empty list) gives `Some(vec![])`.
    pub fn optional_list<T>(
        &self,
        name: &str,
        read: impl FnMut(Scope<'a>) -> Result<T, ParamError>,
    ) -> Result<Option<Vec<T>>, ParamError> {
        self.optional_list_in(name, ListLayout::default_for(self.params.protocol), read)
    }

    /// A list of strings (`TagKeys.member.N`, `InstanceId.N`).
    pub fn list_str(&self, name: &str) -> Result<Vec<&'a str>, ParamError> {
        self.list(name, |item| item.required_value())
    }

    /// A list in an explicit layout, `None` when absent.
    pub fn optional_list_in<T>(
        &self,
        name: &str,
        layout: ListLayout<'_>,
        mut read: impl FnMut(Scope<'a>) -> Result<T, ParamError>,
    ) -> Result<Option<Vec<T>>, ParamError> {
        let wire = self.wire_name(name);
        let prefix = match layout {
            ListLayout::Wrapped(member) => format!("{wire}.{member}."),
            ListLayout::Flat => format!("{wire}."),
        };
        let elements = self.params.indexed(&prefix)?;
        if elements.is_empty() {
            return Ok(self
                .params
                .get(&wire)
                .filter(|v| v.is_empty())
                .map(|_| Vec::new()));
        }
        let mut out = Vec::with_capacity(elements.len());
        for path in elements {
            out.push(read(Scope {
                params: self.params,
                path: Cow::Borrowed(path),
            })?);
        }
        Ok(Some(out))
    }

    /// A map of strings in the default layout (`Name.entry.N.key` / `.value`), in index order.
    pub fn map_str(&self, name: &str) -> Result<Vec<(&'a str, &'a str)>, ParamError> {
        let map = self.optional_map_in(name, MapLayout::default(), |v| v.required_value())?;
        Ok(map.unwrap_or_default())
    }

    /// A map in an explicit layout, read entry by entry in index order; `read` gets the scope of
    /// the value. `None` when absent; every entry must have a key.
    pub fn optional_map_in<T>(
        &self,
        name: &str,
        layout: MapLayout<'_>,
        mut read: impl FnMut(Scope<'a>) -> Result<T, ParamError>,
    ) -> Result<Option<Vec<(&'a str, T)>>, ParamError> {
        let wire = self.wire_name(name);
        let prefix = match layout.entry {
            Some(entry) => format!("{wire}.{entry}."),
            None => format!("{wire}."),
        };
        let entries = self.params.indexed(&prefix)?;
        if entries.is_empty() {
            return Ok(self
                .params
                .get(&wire)
                .filter(|v| v.is_empty())
                .map(|_| Vec::new()));
        }
        let mut out = Vec::with_capacity(entries.len());
        for path in entries {
            let entry = Scope {
                params: self.params,
                path: Cow::Borrowed(path),
            };
            let key = entry.required_str(layout.key)?;
            out.push((key, read(entry.scope(layout.value))?));
        }
        Ok(Some(out))
    }

    /// IAM pagination input (`Marker`, `MaxItems` 1–1000 defaulting to 100).
    pub fn iam_page(&self) -> Result<Page<'a>, ParamError> {
        let max_items = self.optional_i32("MaxItems", 1..=1000)?.unwrap_or(100);
        Ok(Page {
            marker: self.optional_str("Marker"),
            max_items: max_items.unsigned_abs() as usize,
        })
    }
}

impl Params {
    fn get(&self, name: &str) -> Option<&str> {
        let at = self
            .entries
            .binary_search_by(|(k, _)| k.as_str().cmp(name))
            .ok()?;
        Some(self.entries[at].1.as_str())
    }

    /// The contiguous run of entries whose names start with `prefix`.
    fn range(&self, prefix: &str) -> &[(String, String)] {
        let start = self.entries.partition_point(|(k, _)| k.as_str() < prefix);
        let len = self.entries[start..]
            .iter()
            .take_while(|(k, _)| k.starts_with(prefix))
            .count();
        &self.entries[start..start + len]
    }

    /// The element paths (`Tags.member.3`) under `prefix` (`Tags.member.`), in numeric index
    /// order, each once. Indexes are 1-based decimals without leading zeros; gaps are allowed.
    fn indexed(&self, prefix: &str) -> Result<Vec<&str>, ParamError> {
        let mut found: Vec<(u32, &str)> = Vec::new();
        for (key, value) in self.range(prefix) {
            let rest = &key[prefix.len()..];
            let digits = rest.split('.').next().unwrap_or_default();
            let index = parse_index(digits).ok_or_else(|| ParamError::Invalid {
                protocol: self.protocol,
                name: key.clone(),
                value: value.clone(),
                constraint: Constraint::Index,
            })?;
            let path = &key[..prefix.len() + digits.len()];
            if found.last().is_none_or(|&(_, last)| last != path) {
                found.push((index, path));
            }
        }
        found.sort_unstable_by_key(|&(index, _)| index);
        found.dedup_by_key(|&mut (index, _)| index);
        Ok(found.into_iter().map(|(_, path)| path).collect())
    }
}

fn parse_index(digits: &str) -> Option<u32> {
    let well_formed = !digits.is_empty()
        && digits.bytes().all(|b| b.is_ascii_digit())
        && !digits.starts_with('0');
    if well_formed {
        digits.parse().ok()
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn query(body: &str) -> Params {
        Params::decode(Protocol::AwsQuery, body.as_bytes(), 1 << 20).expect("decodes")
    }

    fn ec2(body: &str) -> Params {
        Params::decode(Protocol::Ec2Query, body.as_bytes(), 1 << 20).expect("decodes")
    }

    #[test]
    fn action_and_version() {
        let p = query("Version=2010-05-08&Action=GetRole&RoleName=r");
        assert_eq!((p.action(), p.version()), ("GetRole", Some("2010-05-08")));
        assert_eq!(
            Params::decode(Protocol::AwsQuery, b"Version=1", 100).map(|_| ()),
            Err(DecodeError::MissingAction)
        );
        assert_eq!(
            Params::decode(Protocol::AwsQuery, b"Action=", 100).map(|_| ()),
            Err(DecodeError::MissingAction)
        );
    }

    #[test]
    fn duplicates_are_rejected() {
        assert_eq!(
            Params::decode(Protocol::AwsQuery, b"Action=A&RoleName=a&RoleName=b", 100).map(|_| ()),
            Err(DecodeError::DuplicateParameter("RoleName".into()))
        );
    }

    #[test]
    fn scalar_accessors() {
        let p = query(
            "Action=A&Name=x+y&Empty=&Max=1000&Low=0&Big=99999999999&NaN=abc&T=true&F=FALSE&B=yes&D=3600",
        );
        assert_eq!(p.required_str("Name"), Ok("x y"));
        assert_eq!(p.optional_str("Empty"), Some(""));
        assert_eq!(p.optional_str("Absent"), None);
        assert_eq!(p.optional_i32("Max", 1..=1000), Ok(Some(1000)));
        assert_eq!(p.optional_i32("Absent", 1..=1000), Ok(None));
        assert!(matches!(
            p.optional_i32("Low", 1..=1000),
            Err(ParamError::Invalid {
                constraint: Constraint::Min(1),
                ..
            })
        ));
        assert!(matches!(
            p.optional_i32("Big", 1..=1000),
            Err(ParamError::Invalid {
                constraint: Constraint::Max(1000),
                ..
            })
        ));
        assert!(matches!(
            p.optional_i32("NaN", 1..=10),
            Err(ParamError::Invalid {
                constraint: Constraint::Integer,
                ..
            })
        ));
        assert!(matches!(
            p.optional_i32("Empty", 1..=10),
            Err(ParamError::Invalid {
                constraint: Constraint::Integer,
                ..
            })
        ));
        assert_eq!(p.optional_bool("T"), Ok(Some(true)));
        assert_eq!(p.optional_bool("F"), Ok(Some(false)));
        assert!(p.optional_bool("B").is_err());
        assert_eq!(p.root().required_i32("D", 900..=43200), Ok(3600));
        assert_eq!(
            p.required_str("RoleName"),
            Err(ParamError::Missing {
                protocol: Protocol::AwsQuery,
                name: "RoleName".into()
            })
        );
    }

    #[test]
    fn timestamps() {
        let p = query(
            "Action=A&Z=2015-01-25T08%3A00%3A00Z&Off=2019-12-16T22:48:18-01:00&Frac=2000-01-02T20:34:56.123Z&Bare=2015-01-25T08:00:00&Bad=yesterday",
        );
        let ts = |name| {
            p.optional_timestamp(name)
                .expect("parses")
                .expect("present")
        };
        assert_eq!(ts("Z").unix_timestamp(), 1422172800);
        assert_eq!(ts("Off").unix_timestamp(), 1576540098);
        assert_eq!(ts("Frac").unix_timestamp_nanos(), 946_845_296_123_000_000);
        assert_eq!(ts("Bare").unix_timestamp(), 1422172800);
        assert!(p.optional_timestamp("Bad").is_err());
    }

    #[test]
    fn awsquery_lists_come_back_in_index_order() {
        let p = query(
            "Action=A&Tags.member.10.Key=k10&Tags.member.2.Key=k2&Tags.member.2.Value=v2&Tags.member.10.Value=v10\
             &Tags.member.1.Key=k1&Tags.member.1.Value=v1&TagKeys.member.3=c&TagKeys.member.1=a",
        );
        let tags = p
            .list("Tags", |t| {
                Ok((t.required_str("Key")?, t.required_str("Value")?))
            })
            .expect("tags");
        assert_eq!(tags, vec![("k1", "v1"), ("k2", "v2"), ("k10", "v10")]);
        assert_eq!(p.list_str("TagKeys"), Ok(vec!["a", "c"]));
        assert_eq!(p.list_str("Absent"), Ok(vec![]));
    }

    #[test]
    fn list_element_errors_name_the_element() {
        let p = query("Action=A&Tags.member.2.Key=k");
        let err = p
            .list("Tags", |t| {
                Ok((t.required_str("Key")?, t.required_str("Value")?))
            })
            .expect_err("value missing");
        assert_eq!(
            err,
            ParamError::Missing {
                protocol: Protocol::AwsQuery,
                name: "Tags.member.2.Value".into()
            }
        );
        let aws = crate::AwsError::from(err);
        assert!(
            aws.message.contains("Value null at 'tags.2.member.value'"),
            "{}",
            aws.message
        );
    }

    #[test]
    fn empty_and_absent_lists_differ() {
        let p = query("Action=A&ListArg=");
        assert_eq!(
            p.root().optional_list("ListArg", |s| s.required_value()),
            Ok(Some(vec![]))
        );
        assert_eq!(
            p.root().optional_list("Other", |s| s.required_value()),
            Ok(None)
        );
    }

    #[test]
    fn nested_lists() {
        let p = query(
            "Action=SimulatePrincipalPolicy&ContextEntries.member.1.ContextKeyName=aws%3ASourceIp\
             &ContextEntries.member.1.ContextKeyValues.member.2=10.0.0.2&ContextEntries.member.1.ContextKeyValues.member.1=10.0.0.1\
             &ContextEntries.member.2.ContextKeyName=k&ContextEntries.member.2.ContextKeyValues.member.1=v",
        );
        let entries = p
            .list("ContextEntries", |e| {
                Ok((
                    e.required_str("ContextKeyName")?,
                    e.list_str("ContextKeyValues")?,
                ))
            })
            .expect("entries");
        assert_eq!(
            entries,
            vec![
                ("aws:SourceIp", vec!["10.0.0.1", "10.0.0.2"]),
                ("k", vec!["v"])
            ]
        );
    }

    #[test]
    fn maps_in_index_order() {
        let p =
            query("Action=A&M.entry.2.key=b&M.entry.2.value=B&M.entry.1.key=a&M.entry.1.value=A");
        assert_eq!(p.map_str("M"), Ok(vec![("a", "A"), ("b", "B")]));
        let missing_key = query("Action=A&M.entry.1.value=A");
        assert!(missing_key.map_str("M").is_err());
    }

    #[test]
    fn ec2_flattened_lists_and_structures() {
        let p = ec2(
            "Action=DescribeInstances&InstanceId.2=i-2&InstanceId.1=i-1&Filter.1.Name=tag%3AEnv&Filter.1.Value.2=b&Filter.1.Value.1=a\
             &TagSpecification.1.ResourceType=instance&TagSpecification.1.Tag.1.Key=k&TagSpecification.1.Tag.1.Value=v\
             &IamInstanceProfile.Name=prof&MetadataOptions.HttpTokens=required",
        );
        assert_eq!(p.list_str("InstanceId"), Ok(vec!["i-1", "i-2"]));
        let filters = p
            .list("Filter", |f| {
                Ok((f.required_str("Name")?, f.list_str("Value")?))
            })
            .expect("filters");
        assert_eq!(filters, vec![("tag:Env", vec!["a", "b"])]);
        let specs = p
            .list("TagSpecification", |s| {
                let tags = s.list("Tag", |t| {
                    Ok((t.required_str("Key")?, t.required_str("Value")?))
                })?;
                Ok((s.required_str("ResourceType")?, tags))
            })
            .expect("specs");
        assert_eq!(specs, vec![("instance", vec![("k", "v")])]);
        let profile = p.optional_scope("IamInstanceProfile").expect("present");
        assert_eq!(profile.optional_str("Name"), Some("prof"));
        assert_eq!(profile.optional_str("Arn"), None);
        assert_eq!(
            p.scope("MetadataOptions").optional_str("HttpTokens"),
            Some("required")
        );
        assert!(p.optional_scope("Placement").is_none());
        let err = p
            .scope("Placement")
            .required_str("Zone")
            .expect_err("missing");
        assert_eq!(
            crate::AwsError::from(err).message,
            "The request must contain the parameter Placement.Zone"
        );
    }

    #[test]
    fn malformed_indexes_are_errors_not_panics() {
        for body in [
            "Action=A&Tags.member.0.Key=k",
            "Action=A&Tags.member.01.Key=k",
            "Action=A&Tags.member.x.Key=k",
            "Action=A&Tags.member..Key=k",
            "Action=A&Tags.member.=k",
            "Action=A&Tags.member.99999999999999999999.Key=k",
            "Action=A&Tags.member.-1.Key=k",
        ] {
            let p = query(body);
            let got = p.list("Tags", |t| Ok(t.optional_str("Key")));
            assert!(
                matches!(
                    got,
                    Err(ParamError::Invalid {
                        constraint: Constraint::Index,
                        ..
                    })
                ),
                "{body}: {got:?}"
            );
        }
    }

    #[test]
    fn huge_sparse_indexes_allocate_nothing_per_index() {
        let p = query(
            "Action=A&TagKeys.member.4294967295=last&TagKeys.member.99999999=mid&TagKeys.member.1=first",
        );
        assert_eq!(p.list_str("TagKeys"), Ok(vec!["first", "mid", "last"]));
    }

    /// Random bodies built from the tokens that matter (separators, escapes, list syntax, huge
    /// and malformed indexes, invalid UTF-8) never panic, whatever the accessors are asked.
    #[test]
    fn arbitrary_bodies_never_panic() {
        const TOKENS: &[&[u8]] = &[
            b"&",
            b"=",
            b"+",
            b"%",
            b"%2",
            b"%41",
            b"%FF",
            b"\xff",
            b".",
            b".member.",
            b".entry.",
            b"Action=A",
            b"Tags",
            b"Key",
            b"Value",
            b"key",
            b"value",
            b"1",
            b"2",
            b"0",
            b"01",
            b"99999999",
            b"4294967296",
            b"-1",
            b"x",
            b"\xe6\x97\xa5",
            b"",
        ];
        let mut state = 0x9e37_79b9_7f4a_7c15_u64;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        for _ in 0..20_000 {
            let mut body = b"Action=A&".to_vec();
            for _ in 0..(next() % 24) {
                body.extend_from_slice(TOKENS[(next() % TOKENS.len() as u64) as usize]);
            }
            for protocol in [Protocol::AwsQuery, Protocol::Ec2Query] {
                let Ok(p) = Params::decode(protocol, &body, 4096) else {
                    continue;
                };
                let _ = p.list("Tags", |t| {
                    Ok((t.optional_str("Key"), t.list_str("Value").ok()))
                });
                let _ = p.list_str("Tags");
                let _ = p.map_str("Tags");
                let _ = p.optional_i32("Tags", 1..=50);
                let _ = p.optional_timestamp("Tags");
                let _ = p.root().optional_f64("Tags");
                let _ = p.optional_scope("Tags").map(|s| s.has("member"));
            }
        }
    }

    #[test]
    fn pagination_defaults_and_bounds() {
        assert_eq!(
            query("Action=A").iam_page(),
            Ok(Page {
                marker: None,
                max_items: 100
            })
        );
        assert_eq!(
            query("Action=A&Marker=m&MaxItems=5").iam_page(),
            Ok(Page {
                marker: Some("m"),
                max_items: 5
            })
        );
        assert!(query("Action=A&MaxItems=1001").iam_page().is_err());
    }
}
