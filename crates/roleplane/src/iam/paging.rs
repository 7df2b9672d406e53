//! IAM pagination (`Marker`, `MaxItems`, `IsTruncated`) for lists the store returns whole
//! (tags, access keys, policy versions: a handful each). The marker is the decimal offset of
//! the next item.

use protocol::AwsError;
use store::ListQuery;

/// The page of `items` that `query` asks for, and the marker of the next one.
pub fn page<T>(mut items: Vec<T>, query: &ListQuery) -> Result<(Vec<T>, Option<String>), AwsError> {
    let start = match &query.marker {
        None => 0,
        Some(marker) => marker
            .parse::<usize>()
            .ok()
            .filter(|&n| n > 0 && n <= items.len())
            .ok_or_else(|| AwsError::sender("InvalidInput", 400, "Invalid Marker."))?,
    };
    let end = start
        .saturating_add(query.max_items as usize)
        .min(items.len());
    let next = (end < items.len()).then(|| end.to_string());
    items.truncate(end);
    items.drain(..start);
    Ok((items, next))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_through_and_rejects_foreign_markers() {
        let query = ListQuery::max_items(2);
        let (first, next) = page(vec![1, 2, 3], &query).expect("first page");
        assert_eq!((first, next.as_deref()), (vec![1, 2], Some("2")));
        let (second, next) =
            page(vec![1, 2, 3], &query.clone().after(Some("2".into()))).expect("second");
        assert_eq!((second, next), (vec![3], None));
        for bad in ["0", "9", "x", ""] {
            assert!(
                page(
                    vec![1, 2, 3],
                    &ListQuery::max_items(2).after(Some(bad.into()))
                )
                .is_err(),
                "{bad}"
            );
        }
    }
}
