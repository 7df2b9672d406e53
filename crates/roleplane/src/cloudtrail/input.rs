//! LookupEvents' input, validated as CloudTrail does. Messages are the service model's own
//! descriptions of each error (botocore cloudtrail 2013-11-01); AWS's live texts are
//! UNCONFIRMED.

use serde_json::Value;
use store::audit::EventFilter;

use super::LookupError;

pub const DEFAULT_MAX_RESULTS: u32 = 50;
const MAX_ATTRIBUTE_VALUE: usize = 2000;

#[derive(Debug, Clone, PartialEq)]
pub struct LookupInput {
    pub attribute: Option<(AttributeKey, String)>,
    /// Epoch milliseconds, inclusive.
    pub start_ms: Option<i64>,
    pub end_ms: Option<i64>,
    pub max_results: u32,
    pub next_token: Option<String>,
    /// `EventCategory: insight`: we record no Insights events, so the answer is empty.
    pub insights: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttributeKey {
    EventId,
    EventName,
    ReadOnly,
    Username,
    ResourceType,
    ResourceName,
    EventSource,
    AccessKeyId,
}

impl AttributeKey {
    fn parse(key: &str) -> Option<Self> {
        Some(match key {
            "EventId" => Self::EventId,
            "EventName" => Self::EventName,
            "ReadOnly" => Self::ReadOnly,
            "Username" => Self::Username,
            "ResourceType" => Self::ResourceType,
            "ResourceName" => Self::ResourceName,
            "EventSource" => Self::EventSource,
            "AccessKeyId" => Self::AccessKeyId,
            _ => return None,
        })
    }
}

impl LookupInput {
    pub fn parse(body: &Value) -> Result<Self, LookupError> {
        let Value::Object(input) = body else {
            return Err(LookupError::Serialization);
        };
        let attribute = match input.get("LookupAttributes") {
            None | Some(Value::Null) => None,
            Some(Value::Array(items)) => match items.as_slice() {
                [] => None,
                [one] => Some(attribute(one)?),
                _ => {
                    return Err(LookupError::attributes(
                        "You can specify at most one lookup attribute.",
                    ));
                }
            },
            Some(_) => return Err(LookupError::Serialization),
        };
        let start_ms = timestamp(input.get("StartTime"))?;
        let end_ms = timestamp(input.get("EndTime"))?;
        if let (Some(start), Some(end)) = (start_ms, end_ms)
            && start > end
        {
            return Err(LookupError::TimeRange);
        }
        let max_results = match input.get("MaxResults") {
            None | Some(Value::Null) => DEFAULT_MAX_RESULTS,
            Some(Value::Number(n)) => match n.as_i64() {
                Some(n @ 1..=50) => n as u32,
                _ => return Err(LookupError::MaxResults),
            },
            Some(_) => return Err(LookupError::Serialization),
        };
        let next_token = match input.get("NextToken") {
            None | Some(Value::Null) => None,
            Some(Value::String(token)) => Some(token.clone()),
            Some(_) => return Err(LookupError::Serialization),
        };
        let insights = match input.get("EventCategory") {
            None | Some(Value::Null) => false,
            Some(Value::String(c)) if c == "insight" => true,
            Some(_) => return Err(LookupError::EventCategory),
        };
        Ok(LookupInput {
            attribute,
            start_ms,
            end_ms,
            max_results,
            next_token,
            insights,
        })
    }

    pub fn filter(&self) -> Option<EventFilter<'_>> {
        let (key, value) = self.attribute.as_ref()?;
        let value = value.as_str();
        Some(match key {
            AttributeKey::EventId => EventFilter::EventId(value),
            AttributeKey::EventName => EventFilter::EventName(value),
            AttributeKey::ReadOnly => EventFilter::ReadOnly(value == "true"),
            AttributeKey::Username => EventFilter::Username(value),
            AttributeKey::ResourceType => EventFilter::ResourceType(value),
            AttributeKey::ResourceName => EventFilter::ResourceName(value),
            AttributeKey::EventSource => EventFilter::EventSource(value),
            AttributeKey::AccessKeyId => EventFilter::AccessKeyId(value),
        })
    }

    /// The parameters a `NextToken` must come back with.
    pub fn fingerprint(&self) -> u64 {
        let (key, value) = match &self.attribute {
            Some((key, value)) => (format!("{key:?}"), value.as_str()),
            None => (String::new(), ""),
        };
        let start = self.start_ms.map(|t| t.to_string()).unwrap_or_default();
        let end = self.end_ms.map(|t| t.to_string()).unwrap_or_default();
        super::token::fingerprint(&[
            key.as_bytes(),
            value.as_bytes(),
            start.as_bytes(),
            end.as_bytes(),
        ])
    }
}

fn attribute(item: &Value) -> Result<(AttributeKey, String), LookupError> {
    let key = item.get("AttributeKey").and_then(Value::as_str);
    let value = item.get("AttributeValue").and_then(Value::as_str);
    let (Some(key), Some(value)) = (key, value) else {
        return Err(LookupError::attributes(
            "A lookup attribute needs an AttributeKey and an AttributeValue.",
        ));
    };
    let key = AttributeKey::parse(key).ok_or_else(|| {
        LookupError::attributes(format!("{key} is not a valid lookup attribute key."))
    })?;
    if value.is_empty() || value.chars().count() > MAX_ATTRIBUTE_VALUE {
        return Err(LookupError::attributes(
            "The AttributeValue must be 1 to 2000 characters long.",
        ));
    }
    if key == AttributeKey::ReadOnly && !matches!(value, "true" | "false") {
        return Err(LookupError::attributes(
            "The value of the ReadOnly attribute must be true or false.",
        ));
    }
    Ok((key, value.to_owned()))
}

/// awsJson timestamps are epoch seconds, possibly fractional.
fn timestamp(value: Option<&Value>) -> Result<Option<i64>, LookupError> {
    match value {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => match n.as_f64() {
            Some(s) if s.is_finite() && s.abs() < 1e13 => Ok(Some((s * 1000.0).floor() as i64)),
            _ => Err(LookupError::TimeRange),
        },
        Some(_) => Err(LookupError::Serialization),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn parse(v: Value) -> Result<LookupInput, LookupError> {
        LookupInput::parse(&v)
    }

    #[test]
    fn defaults_and_bounds() {
        let input = parse(json!({})).unwrap();
        assert_eq!(input.max_results, 50);
        assert_eq!(input.attribute, None);
        assert_eq!(
            parse(json!({"MaxResults": 0})),
            Err(LookupError::MaxResults)
        );
        assert_eq!(
            parse(json!({"MaxResults": 51})),
            Err(LookupError::MaxResults)
        );
        assert_eq!(parse(json!({"MaxResults": 1})).unwrap().max_results, 1);
        assert_eq!(
            parse(json!({"StartTime": 20, "EndTime": 10})),
            Err(LookupError::TimeRange)
        );
        assert_eq!(
            parse(json!({"StartTime": 1.5, "EndTime": 10}))
                .unwrap()
                .start_ms,
            Some(1500)
        );
        assert_eq!(
            parse(json!({"EventCategory": "x"})),
            Err(LookupError::EventCategory)
        );
    }

    #[test]
    fn one_known_attribute_only() {
        let one = json!({"AttributeKey": "Username", "AttributeValue": "alice"});
        let input = parse(json!({"LookupAttributes": [one]})).unwrap();
        assert_eq!(input.filter(), Some(EventFilter::Username("alice")));
        assert!(matches!(
            parse(json!({"LookupAttributes": [one, one]})),
            Err(LookupError::Attributes(_))
        ));
        let bad = json!({"AttributeKey": "Colour", "AttributeValue": "red"});
        assert!(matches!(
            parse(json!({"LookupAttributes": [bad]})),
            Err(LookupError::Attributes(_))
        ));
        let bad = json!({"AttributeKey": "ReadOnly", "AttributeValue": "yes"});
        assert!(matches!(
            parse(json!({"LookupAttributes": [bad]})),
            Err(LookupError::Attributes(_))
        ));
    }
}
