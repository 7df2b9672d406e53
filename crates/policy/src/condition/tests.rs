//! Table-driven tests of whole conditions against a request context.

use super::*;

struct Ctx(Vec<(&'static str, Vec<&'static str>, bool)>);

impl Variables for Ctx {
    fn variable(&self, key: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _, multi)| *k == key && !multi)
            .map(|(_, v, _)| v[0])
    }
}

impl ConditionContext for Ctx {
    fn values(&self, key: &str) -> KeyValues<'_> {
        // Leaks are fine in tests: they give 'static slices of owned strings.
        match self.0.iter().find(|(k, ..)| *k == key) {
            None => KeyValues::Absent,
            Some((_, v, false)) => KeyValues::Single(v[0]),
            Some((_, v, true)) => {
                let owned: Vec<String> = v.iter().map(|s| s.to_string()).collect();
                KeyValues::Multi(Box::leak(owned.into_boxed_slice()))
            }
        }
    }
}

fn single(key: &'static str, value: &'static str) -> (&'static str, Vec<&'static str>, bool) {
    (key, vec![value], false)
}

fn multi(key: &'static str, values: &[&'static str]) -> (&'static str, Vec<&'static str>, bool) {
    (key, values.to_vec(), true)
}

fn check(operator: &str, key: &str, values: &[&str], ctx: &Ctx) -> bool {
    let op = Operator::parse(operator).unwrap_or_else(|| panic!("operator {operator}"));
    let cond = Condition::new(
        op,
        key,
        values.iter().map(|v| v.to_string()).collect(),
        true,
    );
    cond.evaluate(ctx)
}

#[test]
fn operator_names() {
    for name in [
        "StringEquals",
        "ForAnyValue:StringLikeIfExists",
        "ForAllValues:ArnNotLike",
        "Null",
        "DateLessThanIfExists",
    ] {
        assert!(Operator::parse(name).is_some(), "{name}");
    }
    for name in [
        "StringEqualz",
        "NullIfExists",
        "stringequals",
        "ForAnyValues:StringEquals",
        "IfExists",
        "",
    ] {
        assert!(Operator::parse(name).is_none(), "{name}");
    }
}

#[test]
fn operators_table() {
    let ctx = Ctx(vec![
        single("aws:username", "alice"),
        single("aws:principaltag/team", "Red"),
        single("s3:max-keys", "10"),
        single("aws:currenttime", "2024-06-01T12:00:00Z"),
        single("aws:epochtime", "1717243200"),
        single("aws:securetransport", "true"),
        single("aws:sourceip", "203.0.113.9"),
        single("aws:sourcearn", "arn:aws:sns:us-east-1:111122223333:topic"),
        single(
            "ec2:sourceinstancearn",
            "arn:aws:ec2:us-east-1:111122223333:instance/i-1",
        ),
        single("x:blob", "QmluYXJ5"),
        single("x:star", "*"),
        multi("aws:tagkeys", &["env", "team"]),
        multi("x:empty", &[]),
    ]);
    let cases: &[(&str, &str, &[&str], bool)] = &[
        // String family, case sensitivity, globs, variables.
        ("StringEquals", "aws:username", &["alice"], true),
        ("StringEquals", "AWS:UserName", &["bob", "alice"], true),
        ("StringEquals", "aws:username", &["Alice"], false),
        ("StringEquals", "aws:username", &["a*"], false),
        ("StringLike", "aws:username", &["a*"], true),
        ("StringLike", "aws:username", &["?lice"], true),
        ("StringEqualsIgnoreCase", "aws:username", &["ALICE"], true),
        (
            "StringNotEqualsIgnoreCase",
            "aws:username",
            &["ALICE"],
            false,
        ),
        ("StringNotEquals", "aws:username", &["bob", "carol"], true),
        ("StringNotEquals", "aws:username", &["bob", "alice"], false),
        ("StringNotLike", "aws:username", &["b*"], true),
        (
            "StringEquals",
            "aws:principaltag/team",
            &["${aws:PrincipalTag/team}"],
            true,
        ),
        ("StringEquals", "aws:username", &["${aws:username}"], true),
        ("StringLike", "x:star", &["${*}"], true),
        (
            "StringEquals",
            "aws:username",
            &["${aws:PrincipalTag/none}"],
            false,
        ),
        (
            "StringNotEquals",
            "aws:username",
            &["${aws:PrincipalTag/none}"],
            true,
        ),
        (
            "StringLike",
            "aws:username",
            &["${aws:PrincipalTag/none, 'ali'}*"],
            true,
        ),
        // Missing keys.
        ("StringEquals", "aws:missing", &["x"], false),
        ("StringNotEquals", "aws:missing", &["x"], true),
        ("StringNotLike", "aws:missing", &["x"], true),
        ("NotIpAddress", "aws:missing", &["10.0.0.0/8"], true),
        ("StringEqualsIfExists", "aws:missing", &["x"], true),
        ("StringNotEqualsIfExists", "aws:missing", &["x"], true),
        ("StringEqualsIfExists", "aws:username", &["bob"], false),
        // Numeric.
        ("NumericLessThan", "s3:max-keys", &["11"], true),
        ("NumericLessThan", "s3:max-keys", &["10"], false),
        ("NumericLessThanEquals", "s3:max-keys", &["10"], true),
        ("NumericGreaterThan", "s3:max-keys", &["9.5"], true),
        ("NumericGreaterThanEquals", "s3:max-keys", &["11"], false),
        ("NumericEquals", "s3:max-keys", &["10.0"], true),
        ("NumericNotEquals", "s3:max-keys", &["1", "2"], true),
        ("NumericNotEquals", "s3:max-keys", &["1", "10"], false),
        ("NumericEquals", "s3:max-keys", &["ten"], false),
        ("NumericEquals", "aws:username", &["10"], false),
        // Dates: ISO and epoch on either side.
        (
            "DateGreaterThan",
            "aws:currenttime",
            &["2024-01-01T00:00:00Z"],
            true,
        ),
        ("DateLessThan", "aws:currenttime", &["2024-01-01"], false),
        ("DateEquals", "aws:currenttime", &["1717243200"], true),
        (
            "DateLessThanEquals",
            "aws:epochtime",
            &["2024-06-01T12:00:00Z"],
            true,
        ),
        (
            "DateGreaterThanEquals",
            "aws:epochtime",
            &["1717243201"],
            false,
        ),
        (
            "DateNotEquals",
            "aws:currenttime",
            &["2024-06-01T14:00:00+02:00"],
            false,
        ),
        // Bool, binary, IP.
        ("Bool", "aws:securetransport", &["true"], true),
        ("Bool", "aws:securetransport", &["false"], false),
        ("Bool", "aws:missing", &["false"], false),
        ("BoolIfExists", "aws:missing", &["false"], true),
        ("BinaryEquals", "x:blob", &["QmluYXJ5"], true),
        ("BinaryEquals", "x:blob", &["QmluYXJ6"], false),
        ("IpAddress", "aws:sourceip", &["203.0.113.0/24"], true),
        (
            "IpAddress",
            "aws:sourceip",
            &["198.51.100.0/24", "203.0.113.9"],
            true,
        ),
        ("NotIpAddress", "aws:sourceip", &["203.0.113.0/24"], false),
        ("IpAddress", "aws:sourceip", &["2001:db8::/32"], false),
        // ARNs.
        (
            "ArnLike",
            "aws:sourcearn",
            &["arn:aws:sns:*:111122223333:*"],
            true,
        ),
        (
            "ArnEquals",
            "aws:sourcearn",
            &["arn:aws:sns:*:111122223333:*"],
            true,
        ),
        (
            "ArnLike",
            "aws:sourcearn",
            &["arn:aws:sns:*:444455556666:*"],
            false,
        ),
        ("ArnNotLike", "aws:sourcearn", &["arn:aws:sqs:*:*:*"], true),
        ("ArnNotEquals", "aws:missing", &["arn:aws:sqs:*:*:*"], true),
        ("ArnLike", "aws:username", &["*"], true),
        ("ArnLike", "aws:username", &["arn:aws:*:*:*:*"], false),
        // Null.
        ("Null", "ec2:sourceinstancearn", &["false"], true),
        ("Null", "ec2:sourceinstancearn", &["true"], false),
        ("Null", "aws:missing", &["true"], true),
        ("Null", "x:empty", &["true"], true),
        // Set operators.
        ("ForAnyValue:StringEquals", "aws:tagkeys", &["team"], true),
        ("ForAnyValue:StringEquals", "aws:tagkeys", &["owner"], false),
        (
            "ForAllValues:StringEquals",
            "aws:tagkeys",
            &["env", "team", "x"],
            true,
        ),
        ("ForAllValues:StringEquals", "aws:tagkeys", &["env"], false),
        ("ForAllValues:StringEquals", "aws:missing", &["env"], true),
        ("ForAllValues:StringEquals", "x:empty", &["env"], true),
        ("ForAnyValue:StringEquals", "aws:missing", &["env"], false),
        ("ForAnyValue:StringEquals", "x:empty", &["env"], false),
        (
            "ForAnyValue:StringEqualsIfExists",
            "aws:missing",
            &["env"],
            true,
        ),
        ("ForAnyValue:StringNotEquals", "aws:tagkeys", &["env"], true),
        (
            "ForAllValues:StringNotEquals",
            "aws:tagkeys",
            &["env"],
            false,
        ),
        ("ForAllValues:StringLike", "aws:tagkeys", &["*"], true),
        ("ForAnyValue:StringEquals", "aws:username", &["alice"], true),
        // Plain operators on a multivalued key match nothing (UNCONFIRMED choice).
        ("StringEquals", "aws:tagkeys", &["env"], false),
        ("StringNotEquals", "aws:tagkeys", &["x"], false),
    ];
    for (operator, key, values, expected) in cases {
        assert_eq!(
            check(operator, key, values, &ctx),
            *expected,
            "{operator} {key} {values:?}"
        );
    }
}

#[test]
fn variables_are_literal_when_disabled() {
    let ctx = Ctx(vec![single("aws:username", "${aws:username}")]);
    let op = Operator::parse("StringEquals").expect("operator");
    let cond = Condition::new(op, "aws:username", vec!["${aws:username}".into()], false);
    assert!(cond.evaluate(&ctx));
}
