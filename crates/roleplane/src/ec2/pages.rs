//! `MaxResults`/`NextToken` over a computed list: the token is the ID of the last item shown,
//! so a page boundary survives the list growing between calls.

use protocol::Params;

use super::error::Ec2Error;

/// The page of `items` (in a stable order) a request asks for, and the token of the next one.
pub fn page<T>(
    params: &Params,
    items: Vec<T>,
    id: impl Fn(&T) -> &str,
) -> Result<(Vec<T>, Option<String>), protocol::AwsError> {
    page_of_at_most(params, items, id, 1000)
}

/// As [`page`], for an operation whose `MaxResults` stops at `largest` (5 is every one's least).
pub fn page_of_at_most<T>(
    params: &Params,
    items: Vec<T>,
    id: impl Fn(&T) -> &str,
    largest: i32,
) -> Result<(Vec<T>, Option<String>), protocol::AwsError> {
    let max = params.optional_i32("MaxResults", 5..=largest)?;
    let start = match params.optional_str("NextToken") {
        None => 0,
        Some(token) => match items.iter().position(|item| id(item) == token) {
            Some(last) => last + 1,
            None => {
                return Err(Ec2Error::InvalidParameterValue(format!(
                    "Invalid value '{token}' for nextToken."
                ))
                .into());
            }
        },
    };
    let mut rest: Vec<T> = items.into_iter().skip(start).collect();
    let next = match max {
        Some(max) if rest.len() > max.unsigned_abs() as usize => {
            rest.truncate(max.unsigned_abs() as usize);
            rest.last().map(|item| id(item).to_owned())
        }
        _ => None,
    };
    Ok((rest, next))
}
