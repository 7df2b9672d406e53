//! One journal line per record: a JSON array of the indexed columns with the resources and the
//! CloudTrail record embedded as they are (both already JSON), then `\n`. Every line is valid
//! JSON on its own, so the journal can be read by `jq` as well as by the indexer.

use serde_json::value::RawValue;

use super::model::NewEvent;

/// The columns in [`NewEvent`]'s order; `resources` and `record` are JSON, not strings.
type Columns = (
    String,
    i64,
    String,
    String,
    String,
    bool,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    Box<RawValue>,
    Box<RawValue>,
);

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
pub(super) fn decode(line: &[u8]) -> serde_json::Result<NewEvent> {
    let columns: Columns = serde_json::from_slice(line)?;
    let (event_id, event_time_ms, account_id, event_source, event_name, read_only) = (
        columns.0, columns.1, columns.2, columns.3, columns.4, columns.5,
    );
    Ok(NewEvent {
        event_id,
        event_time_ms,
        account_id,
        event_source,
        event_name,
        read_only,
        access_key_id: columns.6,
        username: columns.7,
        principal_arn: columns.8,
        error_code: columns.9,
        resources: columns.10.get().to_owned(),
        record: columns.11.get().to_owned(),
    })
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
