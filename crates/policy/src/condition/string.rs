//! String* operators: case-sensitive equality, `*IgnoreCase`, and `Like` globs.

use crate::condition::Test;
use crate::pattern::{MissingVariable, Pattern, Syntax};
use crate::variables::Variables;

/// Compiles a policy value; variables are allowed, wildcards only for `Like`.
pub fn compile(value: &str, test: Test, variables: bool) -> Pattern {
    Pattern::compile(
        value,
        Syntax {
            wildcards: test == Test::Like,
            variables,
        },
    )
}

/// Whether the request value passes the (non-negated) test.
pub fn test(
    test: Test,
    policy: &Pattern,
    request: &str,
    vars: &dyn Variables,
) -> Result<bool, MissingVariable> {
    match test {
        Test::EqualsIgnoreCase => policy.equals_ignore_case(request, vars),
        _ => policy.matches(request, vars),
    }
}
