//! Arn* operators. ArnEquals and ArnLike behave identically: both match each of
//! the six ARN segments with wildcards [UG:reference_policies_elements_condition_operators §ARN].

use crate::arn::ArnPattern;

/// Compiles a policy value; variables may appear in any segment of a condition value.
pub fn compile(value: &str, variables: bool) -> ArnPattern {
    ArnPattern::compile(value, variables, true)
}
