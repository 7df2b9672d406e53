//! Target `query`: a form body (and the same text as a query string) as awsQuery (IAM, STS)
//! and ec2Query (EC2) decode it, every member it names read through each typed accessor an
//! operation might use (values, lists and maps in every layout, nested structures), and the
//! answer rendered in each service's envelope: the error a broken member gives, or the values
//! echoed as XML.

use sigv4::HttpRequest;

use crate::query::{Query, envelope_for_body};
use crate::{
    AwsError, Dialect, Envelope, Iso8601, ListLayout, MapLayout, ParamError, Params, Scope,
    UrlEncoded, XmlWriter,
};

/// Member and structure reads per request, so that a form of many names stays a fast input.
const MAX_READS: usize = 64;
/// Lists of structures of lists…: deeper than any model roleplane serves.
const MAX_DEPTH: usize = 3;

/// The form travels in the body and, when it is text, in the query string too (presigned
/// requests carry it there).
pub fn query(data: &[u8]) {
    let text = std::str::from_utf8(data).unwrap_or("");
    for (body, query) in [(data, ""), (&b""[..], text)] {
        let http = HttpRequest {
            method: "POST",
            path: "/",
            query,
            headers: &[],
            body,
        };
        let _ = envelope_for_body(&http);
        for envelope in [Envelope::IAM, Envelope::STS, Envelope::EC2] {
            let dialect = Query(envelope);
            let result = dialect
                .decode(&http)
                .and_then(|(operation, params)| answer(&envelope, &operation, &params));
            let _ = dialect.render(result, "FUZZ");
        }
    }
}

/// What an operation would answer: the last member that broke a constraint, else the values.
fn answer(envelope: &Envelope, operation: &str, params: &Params) -> Result<String, AwsError> {
    let _ = (params.action(), params.version());
    let mut reader = Reader {
        params,
        reads: 0,
        error: None,
        output: XmlWriter::new(),
    };
    let page = params.iam_page();
    reader.note(page);
    reader.members(&params.root(), 0);
    if let Some(error) = reader.error {
        return Err(error.into());
    }
    let _ = envelope.empty_result(operation, "FUZZ");
    let output = reader.output.into_string();
    Ok(envelope.success(operation, "FUZZ", |x| {
        x.node("Members", |x| {
            x.push_raw(&output);
        });
    }))
}

struct Reader<'a> {
    params: &'a Params,
    reads: usize,
    error: Option<ParamError>,
    output: XmlWriter,
}

impl<'a> Reader<'a> {
    /// The names of the members directly under `scope`: `Tags` of the request, `Key` of
    /// `Tags.member.1`.
    fn names(&self, scope: &Scope<'a>) -> Vec<&'a str> {
        let prefix = match scope.path() {
            "" => String::new(),
            path => format!("{path}."),
        };
        let mut names: Vec<&'a str> = self
            .params
            .entries()
            .filter_map(|(name, _)| name.strip_prefix(prefix.as_str()))
            .map(|rest| rest.split('.').next().unwrap_or(rest))
            .collect();
        names.sort_unstable();
        names.dedup();
        names
    }

    fn members(&mut self, scope: &Scope<'a>, depth: usize) {
        if self.reads == MAX_READS {
            return;
        }
        self.reads += 1;
        for name in self.names(scope) {
            if self.reads == MAX_READS {
                return;
            }
            self.reads += 1;
            self.member(scope, name, depth);
        }
    }

    /// One member read as every kind of member: a value of each type, a list, a map, a
    /// structure.
    fn member(&mut self, scope: &Scope<'a>, name: &str, depth: usize) {
        let _ = (
            scope.wire_name(name),
            scope.error_path(name),
            scope.has(name),
        );
        if let Some(value) = scope.optional_str(name) {
            self.output
                .elem("Value", value)
                .elem("Document", UrlEncoded(value));
        }
        let small = scope.optional_i32(name, 1..=1000);
        self.note(small);
        let any = scope.optional_i64(name, i64::MIN..=i64::MAX);
        self.note(any);
        let number = scope.optional_f64(name);
        self.note(number);
        match scope.optional_bool(name) {
            Ok(Some(flag)) => {
                self.output.elem("Flag", flag);
            }
            other => self.note(other),
        }
        match scope.optional_timestamp(name) {
            Ok(Some(at)) => {
                self.output.elem("Time", Iso8601(at));
            }
            other => self.note(other),
        }
        let strings = scope.list_str(name);
        self.note(strings);
        let pairs = scope.map_str(name);
        self.note(pairs);
        if depth == MAX_DEPTH {
            return;
        }
        let layouts = [
            ListLayout::default_for(self.params.protocol()),
            ListLayout::Flat,
            ListLayout::Wrapped("item"),
        ];
        for layout in layouts {
            match scope.optional_list_in(name, layout, Ok) {
                Ok(Some(elements)) => {
                    for element in &elements {
                        let _ = element.value();
                        self.members(element, depth + 1);
                    }
                }
                other => self.note(other),
            }
        }
        let flattened = MapLayout {
            entry: None,
            key: "Name",
            value: "Value",
        };
        for layout in [MapLayout::default(), flattened] {
            match scope.optional_map_in(name, layout, Ok) {
                Ok(Some(entries)) => {
                    for (key, value) in &entries {
                        self.output.elem("Key", key);
                        let _ = value.required_value();
                        self.members(value, depth + 1);
                    }
                }
                other => self.note(other),
            }
        }
        if let Some(structure) = scope.optional_scope(name) {
            self.members(&structure, depth + 1);
        }
    }

    fn note<T>(&mut self, result: Result<T, ParamError>) {
        if let Err(error) = result {
            self.error = Some(error);
        }
    }
}
