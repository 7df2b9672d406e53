//! One journal line per record: a JSON array of the indexed columns with the resources and the
//! CloudTrail record embedded as they are (both already JSON), then `\n`. Every line is valid
//! JSON on its own, so the journal can be read by `jq` as well as by the indexer.
//!
//! The columns, in order: event ID, event time (ms), account, event source, event name, read
//! only, access key, username, principal, error code, resources, management event, record.
//! Lines written before the management column existed go straight from resources to the
//! record; they are management events (data events did not exist then), and the column's
//! type tells the two apart: a boolean here, the record an object (or a string).

use std::borrow::Cow;

use serde::Deserialize;
use serde::Deserializer as _;
use serde::de::{SeqAccess, Visitor};
use serde_json::value::RawValue;

use super::model::NewEvent;

/// A whole line, borrowed from the line where no escape forces a copy: read only for the lines
/// a lookup keeps (the others need just their [`LineKeys`]).
#[derive(Debug)]
pub(super) struct LineRef<'a> {
    pub keys: LineKeys<'a>,
    pub record: &'a RawValue,
}

/// What the indexer, lookup filters and retention read of a line: the columns before the
/// record, which they never touch (the record is most of the line's bytes).
#[derive(Debug)]
pub(super) struct LineKeys<'a> {
    pub event_id: Cow<'a, str>,
    pub event_time_ms: i64,
    pub account_id: Cow<'a, str>,
    pub event_source: Cow<'a, str>,
    pub event_name: Cow<'a, str>,
    pub read_only: bool,
    pub access_key_id: Option<Cow<'a, str>>,
    pub username: Option<Cow<'a, str>>,
    pub principal_arn: Option<Cow<'a, str>>,
    pub error_code: Option<Cow<'a, str>>,
    pub resources: &'a RawValue,
    pub management: bool,
}

impl<'a> LineKeys<'a> {
    /// Reads the columns before the record and stops there. serde_json then reports the unread
    /// record as trailing input: expected, so a line whose columns were all read is accepted
    /// whatever follows them.
    pub fn parse(line: &'a [u8]) -> serde_json::Result<Self> {
        let mut keys = None;
        let read =
            serde_json::Deserializer::from_slice(line).deserialize_seq(Columns { keys: &mut keys });
        match (keys, read) {
            (Some(keys), _) => Ok(keys),
            (None, Err(error)) => Err(error),
            (None, Ok(())) => Err(serde::de::Error::custom("a line without its columns")),
        }
    }

    pub fn resources(&self) -> Vec<ResourceRef<'a>> {
        resources(self.resources)
    }
}

/// A string column, borrowed from the line unless it holds an escape.
#[derive(Deserialize)]
struct Text<'a>(#[serde(borrow)] Cow<'a, str>);

#[derive(Deserialize)]
struct OptionalText<'a>(#[serde(borrow)] Option<Cow<'a, str>>);

fn next<'a, T: Deserialize<'a>, S: SeqAccess<'a>>(columns: &mut S) -> Result<T, S::Error> {
    columns
        .next_element()?
        .ok_or_else(|| serde::de::Error::custom("a short audit journal line"))
}

/// The columns up to the resources; `management` is left `true` for the caller to read.
fn leading_columns<'a, S: SeqAccess<'a>>(columns: &mut S) -> Result<LineKeys<'a>, S::Error> {
    let Text(event_id) = next(columns)?;
    let event_time_ms = next(columns)?;
    let Text(account_id) = next(columns)?;
    let Text(event_source) = next(columns)?;
    let Text(event_name) = next(columns)?;
    let read_only = next(columns)?;
    let OptionalText(access_key_id) = next(columns)?;
    let OptionalText(username) = next(columns)?;
    let OptionalText(principal_arn) = next(columns)?;
    let OptionalText(error_code) = next(columns)?;
    let resources = next(columns)?;
    Ok(LineKeys {
        event_id,
        event_time_ms,
        account_id,
        event_source,
        event_name,
        read_only,
        access_key_id,
        username,
        principal_arn,
        error_code,
        resources,
        management: true,
    })
}

/// Takes [`LineKeys`]' columns from the line's array into `keys`.
struct Columns<'k, 'a> {
    keys: &'k mut Option<LineKeys<'a>>,
}

impl<'a> Visitor<'a> for Columns<'_, 'a> {
    type Value = ();

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("an audit journal line")
    }

    fn visit_seq<S: SeqAccess<'a>>(self, mut columns: S) -> Result<(), S::Error> {
        let mut keys = leading_columns(&mut columns)?;
        // An old line's record is not a boolean: the type error stops the read at its first
        // byte, and the line is a management event.
        if let Ok(Some(management)) = columns.next_element::<bool>() {
            keys.management = management;
        }
        *self.keys = Some(keys);
        Ok(())
    }
}

/// Reads a whole line: the columns, then the record.
struct WholeLine;

impl<'a> Visitor<'a> for WholeLine {
    type Value = LineRef<'a>;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("an audit journal line")
    }

    fn visit_seq<S: SeqAccess<'a>>(self, mut columns: S) -> Result<LineRef<'a>, S::Error> {
        let mut keys = leading_columns(&mut columns)?;
        let after_resources: &RawValue = next(&mut columns)?;
        let record = match after_resources.get() {
            "true" | "false" => {
                keys.management = after_resources.get() == "true";
                next(&mut columns)?
            }
            // A line from before the management column.
            _ => after_resources,
        };
        Ok(LineRef { keys, record })
    }
}

/// The entries of a line's `resources`; none if they are not the expected shape.
fn resources(raw: &RawValue) -> Vec<ResourceRef<'_>> {
    serde_json::from_str(raw.get()).unwrap_or_default()
}

/// One entry of a line's `resources`.
#[derive(Debug, Deserialize)]
pub(super) struct ResourceRef<'a> {
    #[serde(rename = "ResourceType", borrow)]
    pub kind: Cow<'a, str>,
    #[serde(rename = "ResourceName", borrow)]
    pub name: Cow<'a, str>,
}

impl<'a> LineRef<'a> {
    /// The columns of a line (without its newline).
    pub fn parse(line: &'a [u8]) -> serde_json::Result<Self> {
        let mut reader = serde_json::Deserializer::from_slice(line);
        let whole = reader.deserialize_seq(WholeLine)?;
        reader.end()?;
        Ok(whole)
    }

    pub fn to_event(&self) -> NewEvent {
        let keys = &self.keys;
        let owned = |text: &Option<Cow<'_, str>>| text.as_deref().map(str::to_owned);
        NewEvent {
            event_id: keys.event_id.clone().into_owned(),
            event_time_ms: keys.event_time_ms,
            account_id: keys.account_id.clone().into_owned(),
            event_source: keys.event_source.clone().into_owned(),
            event_name: keys.event_name.clone().into_owned(),
            read_only: keys.read_only,
            access_key_id: owned(&keys.access_key_id),
            username: owned(&keys.username),
            principal_arn: owned(&keys.principal_arn),
            error_code: owned(&keys.error_code),
            resources: keys.resources.get().to_owned(),
            management: keys.management,
            record: self.record.get().to_owned(),
        }
    }
}

/// Appends `event`'s line, newline included, to `out`.
pub(super) fn encode(event: &NewEvent, out: &mut Vec<u8>) {
    out.push(b'[');
    string(out, &event.event_id);
    out.push(b',');
    out.extend_from_slice(event.event_time_ms.to_string().as_bytes());
    for text in [&event.account_id, &event.event_source, &event.event_name] {
        out.push(b',');
        string(out, text);
    }
    out.extend_from_slice(if event.read_only { b",true" } else { b",false" });
    for text in [
        &event.access_key_id,
        &event.username,
        &event.principal_arn,
        &event.error_code,
    ] {
        out.push(b',');
        match text {
            Some(text) => string(out, text),
            None => out.extend_from_slice(b"null"),
        }
    }
    out.push(b',');
    json_or_string(out, &event.resources);
    out.extend_from_slice(if event.management {
        b",true,"
    } else {
        b",false,"
    });
    json_or_string(out, &event.record);
    out.extend_from_slice(b"]\n");
}

/// The event a line (without its newline) holds.
#[cfg(test)]
pub(super) fn decode(line: &[u8]) -> serde_json::Result<NewEvent> {
    LineRef::parse(line).map(|columns| columns.to_event())
}

fn string(out: &mut Vec<u8>, text: &str) {
    // Writing a `str` into a `Vec` cannot fail.
    let _ = serde_json::to_writer(&mut *out, text);
}

/// `text` as it is: [`NewEvent`] promises compact JSON, and validating it here would parse
/// every record on the request path. A newline would split the line, so text holding one is
/// written as a JSON string instead (valid JSON has none outside strings' escapes).
fn json_or_string(out: &mut Vec<u8>, text: &str) {
    if text.contains('\n') {
        string(out, text);
    } else {
        out.extend_from_slice(text.as_bytes());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_indexer_reads_the_columns_and_never_the_record() {
        let line = br#"["e1",5,"111111111111","iam.amazonaws.com","Get\"Role",true,null,"al\u00efce","arn:p",null,[{"ResourceType":"t","ResourceName":"n"}],true,{"not":"read"}]"#;
        let keys = LineKeys::parse(line).unwrap();
        assert_eq!(keys.event_time_ms, 5);
        assert_eq!(keys.event_name, "Get\"Role");
        assert_eq!(keys.username.as_deref(), Some("alïce"));
        assert_eq!(keys.access_key_id, None);
        assert!(
            matches!(keys.account_id, Cow::Borrowed(_)),
            "no copy without an escape"
        );
        assert_eq!(keys.resources()[0].name, "n");
        // What follows the columns is not looked at, even if it is not JSON.
        let unread = br#"["e1",5,"a","s","n",false,null,null,null,null,[],false,{not json"#;
        let keys = LineKeys::parse(unread).unwrap();
        assert_eq!((keys.event_source.as_ref(), keys.management), ("s", false));
        for bad in [
            &b"[1,2]"[..],
            b"",
            b"{}",
            br#"["e1","five","a","s","n",false,null,null,null,null,[],{}]"#,
        ] {
            assert!(
                LineKeys::parse(bad).is_err(),
                "{}",
                String::from_utf8_lossy(bad)
            );
        }
    }

    fn event(management: bool, record: &str) -> NewEvent {
        NewEvent {
            event_id: "e1".into(),
            event_time_ms: 5,
            account_id: "111111111111".into(),
            event_source: "s3.amazonaws.com".into(),
            event_name: "PutObject".into(),
            read_only: false,
            access_key_id: Some("AKIA1".into()),
            username: None,
            principal_arn: None,
            error_code: None,
            resources: "[]".into(),
            management,
            record: record.into(),
        }
    }

    #[test]
    fn the_management_column_sits_between_the_resources_and_the_record() {
        for (management, record, read_back) in [
            (
                false,
                r#"{"eventCategory":"Data"}"#,
                r#"{"eventCategory":"Data"}"#,
            ),
            (true, "{}", "{}"),
            // A record holding a newline is written, and read back, as a JSON string.
            (false, "{\n}", r#""{\n}""#),
        ] {
            let mut line = Vec::new();
            encode(&event(management, record), &mut line);
            let line = &line[..line.len() - 1];
            assert_eq!(LineKeys::parse(line).unwrap().management, management);
            assert_eq!(decode(line).unwrap(), event(management, read_back));
        }
    }

    #[test]
    fn a_line_from_before_the_management_column_is_a_management_event() {
        let old = br#"["e1",5,"111111111111","s3.amazonaws.com","PutObject",false,"AKIA1",null,null,null,[],{"eventCategory":"Data"}]"#;
        assert!(LineKeys::parse(old).unwrap().management);
        assert_eq!(
            decode(old).unwrap(),
            event(true, r#"{"eventCategory":"Data"}"#)
        );
        // Its record may be a string (it held a newline), even one spelling a boolean.
        let old_string = br#"["e1",5,"111111111111","s3.amazonaws.com","PutObject",false,"AKIA1",null,null,null,[],"true"]"#;
        assert!(LineKeys::parse(old_string).unwrap().management);
        assert_eq!(decode(old_string).unwrap().record, r#""true""#);
        // A whole line is read strictly: nothing may follow the record.
        let extra = br#"["e1",5,"a","s","n",false,null,null,null,null,[],true,{},{}]"#;
        assert!(decode(extra).is_err());
    }
}
