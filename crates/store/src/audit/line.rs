//! One journal line per record: a JSON array of the indexed columns with the resources and the
//! CloudTrail record embedded as they are (both already JSON), then `\n`. Every line is valid
//! JSON on its own, so the journal can be read by `jq` as well as by the indexer.

use std::borrow::Cow;

use serde::de::{IgnoredAny, SeqAccess, Visitor};
use serde::{Deserialize, Deserializer as _};
use serde_json::value::RawValue;

use super::model::NewEvent;

/// A whole line in [`NewEvent`]'s order, borrowed from the line where no escape forces a copy:
/// read only for the lines a lookup keeps (the others need just their [`LineKeys`]).
#[derive(Debug, Deserialize)]
pub(super) struct LineRef<'a> {
    #[serde(borrow)]
    pub event_id: Cow<'a, str>,
    pub event_time_ms: i64,
    #[serde(borrow)]
    pub account_id: Cow<'a, str>,
    #[serde(borrow)]
    pub event_source: Cow<'a, str>,
    #[serde(borrow)]
    pub event_name: Cow<'a, str>,
    pub read_only: bool,
    #[serde(borrow)]
    pub access_key_id: Option<Cow<'a, str>>,
    #[serde(borrow)]
    pub username: Option<Cow<'a, str>>,
    #[serde(borrow)]
    pub principal_arn: Option<Cow<'a, str>>,
    #[serde(borrow)]
    pub error_code: Option<Cow<'a, str>>,
    #[serde(borrow)]
    pub resources: &'a RawValue,
    #[serde(borrow)]
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
    pub resources: &'a RawValue,
}

impl<'a> LineKeys<'a> {
    /// Reads the first eleven elements of the line's array and stops there. serde_json then
    /// reports the unread record as trailing input: expected, so a line whose columns were
    /// all read is accepted whatever follows them.
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
        fn next<'a, T: Deserialize<'a>, S: SeqAccess<'a>>(columns: &mut S) -> Result<T, S::Error> {
            columns
                .next_element()?
                .ok_or_else(|| serde::de::Error::custom("a short audit journal line"))
        }
        let Text(event_id) = next(&mut columns)?;
        let event_time_ms = next(&mut columns)?;
        let Text(account_id) = next(&mut columns)?;
        let Text(event_source) = next(&mut columns)?;
        let Text(event_name) = next(&mut columns)?;
        let read_only = next(&mut columns)?;
        let OptionalText(access_key_id) = next(&mut columns)?;
        let OptionalText(username) = next(&mut columns)?;
        let OptionalText(principal_arn) = next(&mut columns)?;
        let _error_code: IgnoredAny = next(&mut columns)?;
        let resources = next(&mut columns)?;
        *self.keys = Some(LineKeys {
            event_id,
            event_time_ms,
            account_id,
            event_source,
            event_name,
            read_only,
            access_key_id,
            username,
            principal_arn,
            resources,
        });
        Ok(())
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
        serde_json::from_slice(line)
    }

    pub fn to_event(&self) -> NewEvent {
        let owned = |text: &Option<Cow<'_, str>>| text.as_deref().map(str::to_owned);
        NewEvent {
            event_id: self.event_id.clone().into_owned(),
            event_time_ms: self.event_time_ms,
            account_id: self.account_id.clone().into_owned(),
            event_source: self.event_source.clone().into_owned(),
            event_name: self.event_name.clone().into_owned(),
            read_only: self.read_only,
            access_key_id: owned(&self.access_key_id),
            username: owned(&self.username),
            principal_arn: owned(&self.principal_arn),
            error_code: owned(&self.error_code),
            resources: self.resources.get().to_owned(),
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
    out.push(b',');
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
        let line = br#"["e1",5,"111111111111","iam.amazonaws.com","Get\"Role",true,null,"al\u00efce","arn:p",null,[{"ResourceType":"t","ResourceName":"n"}],{"not":"read"}]"#;
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
        let unread = br#"["e1",5,"a","s","n",false,null,null,null,null,[],{not json"#;
        assert_eq!(LineKeys::parse(unread).unwrap().event_source, "s");
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
}
