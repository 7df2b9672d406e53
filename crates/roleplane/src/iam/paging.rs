//! IAM pagination (`Marker`, `MaxItems`, `IsTruncated`) for lists the store returns whole
//! (tags, access keys, policy versions: a handful each). The marker is the offset of the next
//! item, made opaque as AWS's markers are: a bare `1` was found by clients that rewrite every
//! occurrence of a marker's text (LocalStack's snapshot tests) in names and version ids alike.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use protocol::AwsError;
use store::ListQuery;

/// The page of `items` that `query` asks for, and the marker of the next one.
pub fn page<T>(mut items: Vec<T>, query: &ListQuery) -> Result<(Vec<T>, Option<String>), AwsError> {
    let start = match &query.marker {
        None => 0,
        Some(marker) => offset(marker)
            .filter(|&n| n > 0 && n <= items.len())
            .ok_or_else(|| AwsError::sender("InvalidInput", 400, "Invalid Marker."))?,
    };
    let end = start
        .saturating_add(query.max_items as usize)
        .min(items.len());
    let next = (end < items.len()).then(|| marker(end));
    items.truncate(end);
    items.drain(..start);
    Ok((items, next))
}

const MARKER_PREFIX: &str = "roleplane-page-offset:";

fn marker(offset: usize) -> String {
    URL_SAFE_NO_PAD.encode(format!("{MARKER_PREFIX}{offset}"))
}

fn offset(marker: &str) -> Option<usize> {
    let text = String::from_utf8(URL_SAFE_NO_PAD.decode(marker).ok()?).ok()?;
    text.strip_prefix(MARKER_PREFIX)?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_through_and_rejects_foreign_markers() {
        let query = ListQuery::max_items(2);
        let (first, next) = page(vec![1, 2, 3], &query).expect("first page");
        assert_eq!(first, vec![1, 2]);
        let next = next.expect("a marker");
        // Opaque: not the bare offset, which clients could mistake for other text.
        assert!(next.len() > 20, "{next}");
        let (second, next) = page(vec![1, 2, 3], &query.clone().after(Some(next))).expect("second");
        assert_eq!((second, next), (vec![3], None));
        for bad in ["0", "2", "9", "x", "", &marker(0), &marker(9)] {
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
