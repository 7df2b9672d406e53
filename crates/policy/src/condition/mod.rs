//! The Condition element: operators, their values, and how a block decides.
//!
//! Within a block, operators and keys combine with AND, the values of one key
//! with OR; for negated operators several values mean "matches none"
//! [UG:reference_policies_multi-value-conditions].

mod arn;
mod binary;
mod bool;
pub mod date;
mod ip;
mod null;
mod numeric;
mod string;

use ipnet::IpNet;

use crate::arn::ArnPattern;
use crate::pattern::{MissingVariable, Pattern};
use crate::variables::Variables;

/// The operator family, which decides how values are read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Family {
    String,
    Numeric,
    Date,
    Bool,
    Binary,
    Ip,
    Arn,
    Null,
}

/// The positive test an operator performs (negation is separate).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Test {
    Equals,
    EqualsIgnoreCase,
    Like,
    LessThan,
    LessThanEquals,
    GreaterThan,
    GreaterThanEquals,
}

/// `ForAnyValue:` / `ForAllValues:`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SetOperator {
    ForAnyValue,
    ForAllValues,
}

/// A parsed operator name such as `ForAllValues:StringLikeIfExists`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Operator {
    pub family: Family,
    pub test: Test,
    pub negated: bool,
    pub if_exists: bool,
    pub set: Option<SetOperator>,
    /// The name as written, for serialization.
    pub name: Box<str>,
}

const OPERATORS: &[(&str, Family, Test, bool)] = &[
    ("StringEquals", Family::String, Test::Equals, false),
    ("StringNotEquals", Family::String, Test::Equals, true),
    (
        "StringEqualsIgnoreCase",
        Family::String,
        Test::EqualsIgnoreCase,
        false,
    ),
    (
        "StringNotEqualsIgnoreCase",
        Family::String,
        Test::EqualsIgnoreCase,
        true,
    ),
    ("StringLike", Family::String, Test::Like, false),
    ("StringNotLike", Family::String, Test::Like, true),
    ("NumericEquals", Family::Numeric, Test::Equals, false),
    ("NumericNotEquals", Family::Numeric, Test::Equals, true),
    ("NumericLessThan", Family::Numeric, Test::LessThan, false),
    (
        "NumericLessThanEquals",
        Family::Numeric,
        Test::LessThanEquals,
        false,
    ),
    (
        "NumericGreaterThan",
        Family::Numeric,
        Test::GreaterThan,
        false,
    ),
    (
        "NumericGreaterThanEquals",
        Family::Numeric,
        Test::GreaterThanEquals,
        false,
    ),
    ("DateEquals", Family::Date, Test::Equals, false),
    ("DateNotEquals", Family::Date, Test::Equals, true),
    ("DateLessThan", Family::Date, Test::LessThan, false),
    (
        "DateLessThanEquals",
        Family::Date,
        Test::LessThanEquals,
        false,
    ),
    ("DateGreaterThan", Family::Date, Test::GreaterThan, false),
    (
        "DateGreaterThanEquals",
        Family::Date,
        Test::GreaterThanEquals,
        false,
    ),
    ("Bool", Family::Bool, Test::Equals, false),
    ("BinaryEquals", Family::Binary, Test::Equals, false),
    ("IpAddress", Family::Ip, Test::Equals, false),
    ("NotIpAddress", Family::Ip, Test::Equals, true),
    ("ArnEquals", Family::Arn, Test::Like, false),
    ("ArnLike", Family::Arn, Test::Like, false),
    ("ArnNotEquals", Family::Arn, Test::Like, true),
    ("ArnNotLike", Family::Arn, Test::Like, true),
    ("Null", Family::Null, Test::Equals, false),
];

impl Operator {
    /// Reads an operator name; `None` for names IAM does not know (including
    /// `NullIfExists`, which the docs exclude).
    pub fn parse(name: &str) -> Option<Operator> {
        let (set, rest) = if let Some(rest) = name.strip_prefix("ForAnyValue:") {
            (Some(SetOperator::ForAnyValue), rest)
        } else if let Some(rest) = name.strip_prefix("ForAllValues:") {
            (Some(SetOperator::ForAllValues), rest)
        } else {
            (None, name)
        };
        let (base, if_exists) = match rest.strip_suffix("IfExists") {
            Some(base) => (base, true),
            None => (rest, false),
        };
        let &(_, family, test, negated) = OPERATORS.iter().find(|(n, ..)| *n == base)?;
        if family == Family::Null && if_exists {
            return None;
        }
        Some(Operator {
            family,
            test,
            negated,
            if_exists,
            set,
            name: name.into(),
        })
    }

    /// Whether `${…}` in values is substituted (String and Arn families only).
    pub fn takes_variables(&self) -> bool {
        matches!(self.family, Family::String | Family::Arn)
    }
}

/// A compiled policy value.
#[derive(Debug, Clone, PartialEq)]
pub enum Operand {
    Text(Pattern),
    Arn(ArnPattern),
    Number(f64),
    Instant(date::Instant),
    Flag(bool),
    Bytes(Vec<u8>),
    Network(IpNet),
    /// A value the operator cannot read: it matches no request value.
    Invalid,
}

impl Operand {
    /// Compiles `raw` for `op`; `variables` is false under old policy versions.
    pub fn compile(op: &Operator, raw: &str, variables: bool) -> Operand {
        let variables = variables && op.takes_variables();
        let read = match op.family {
            Family::String => Some(Operand::Text(string::compile(raw, op.test, variables))),
            Family::Arn => Some(Operand::Arn(arn::compile(raw, variables))),
            Family::Numeric => numeric::parse(raw).map(Operand::Number),
            Family::Date => date::parse(raw).map(Operand::Instant),
            Family::Bool | Family::Null => bool::parse(raw).map(Operand::Flag),
            Family::Binary => binary::parse(raw).map(Operand::Bytes),
            Family::Ip => ip::parse(raw).map(Operand::Network),
        };
        read.unwrap_or(Operand::Invalid)
    }

    /// The non-negated test of one request value. A missing variable makes the
    /// value not match, so positive operators fail and negated ones pass
    /// [UG:reference_policies_variables §no value].
    fn test(&self, test: Test, request: &str, vars: &dyn Variables) -> bool {
        let result: Result<bool, MissingVariable> = match self {
            Operand::Text(p) => string::test(test, p, request, vars),
            Operand::Arn(p) => p.matches(request, vars),
            Operand::Number(n) => {
                Ok(numeric::parse(request).is_some_and(|r| numeric::test(test, *n, r)))
            }
            Operand::Instant(d) => {
                Ok(date::parse(request).is_some_and(|r| numeric::test(test, *d, r)))
            }
            Operand::Flag(b) => Ok(bool::parse(request) == Some(*b)),
            Operand::Bytes(bytes) => Ok(binary::test(bytes, request)),
            Operand::Network(net) => Ok(ip::test(net, request)),
            Operand::Invalid => Ok(false),
        };
        result.unwrap_or(false)
    }
}

/// The values of a context key as the request carries them.
#[derive(Debug, Clone, Copy)]
pub enum KeyValues<'a> {
    Absent,
    Single(&'a str),
    /// Given as a set, even a set of one (`aws:TagKeys`, `aws:CalledVia`).
    Multi(&'a [String]),
}

/// What a condition reads from the request.
pub trait ConditionContext: Variables {
    /// The values of `key` (lowercase).
    fn values(&self, key: &str) -> KeyValues<'_>;
}

/// One operator applied to one key: `"StringEquals": {"aws:username": ["a","b"]}`.
#[derive(Debug, Clone, PartialEq)]
pub struct Condition {
    pub operator: Operator,
    /// The key as written, for serialization.
    pub key: String,
    /// The key lowercased once, for lookups.
    pub(crate) key_lowercase: Box<str>,
    /// The values as written.
    pub values: Vec<String>,
    pub(crate) operands: Vec<Operand>,
}

impl Condition {
    pub fn new(operator: Operator, key: &str, values: Vec<String>, variables: bool) -> Condition {
        let operands = values
            .iter()
            .map(|v| Operand::compile(&operator, v, variables))
            .collect();
        Condition {
            key: key.into(),
            key_lowercase: key.to_ascii_lowercase().into(),
            values,
            operator,
            operands,
        }
    }

    /// Whether the request satisfies this condition.
    pub fn evaluate(&self, ctx: &dyn ConditionContext) -> bool {
        let op = &self.operator;
        let values = ctx.values(&self.key_lowercase);
        if op.family == Family::Null {
            let present = match values {
                KeyValues::Absent => false,
                KeyValues::Single(_) => true,
                KeyValues::Multi(vs) => !vs.is_empty(),
            };
            return self
                .operands
                .iter()
                .any(|o| matches!(o, Operand::Flag(b) if null::test(*b, present)));
        }
        let passes = |value: &str| {
            let any = self.operands.iter().any(|o| o.test(op.test, value, ctx));
            any != op.negated
        };
        match (op.set, values) {
            (_, KeyValues::Absent) | (Some(_), KeyValues::Multi([])) => match op.set {
                _ if op.if_exists => true,
                Some(SetOperator::ForAllValues) => true,
                Some(SetOperator::ForAnyValue) => false,
                // A missing key fails positive operators and passes negated ones
                // [UG:reference_policies_elements_condition_operators, "Important"].
                None => op.negated,
            },
            (None, KeyValues::Single(v)) => passes(v),
            // UNCONFIRMED by AWS: a plain operator on a multivalued key matches
            // nothing, as iam-simulate does ("set operator is required for a
            // multi-value key", re:Inforce 2025 IAM431). We apply that to negated
            // operators too: a set needs ForAnyValue/ForAllValues to be compared.
            (None, KeyValues::Multi(_)) => false,
            (Some(set), KeyValues::Single(v)) => set_passes(set, std::slice::from_ref(&v), passes),
            (Some(set), KeyValues::Multi(vs)) => set_passes(set, vs, passes),
        }
    }
}

fn set_passes<S: AsRef<str>>(
    set: SetOperator,
    values: &[S],
    passes: impl Fn(&str) -> bool,
) -> bool {
    match set {
        SetOperator::ForAnyValue => values.iter().any(|v| passes(v.as_ref())),
        SetOperator::ForAllValues => values.iter().all(|v| passes(v.as_ref())),
    }
}

#[cfg(test)]
mod tests;
