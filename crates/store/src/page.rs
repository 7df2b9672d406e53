//! Pagination: IAM's `PathPrefix`/`Marker`/`MaxItems`, over names sorted case-insensitively.
//!
//! A marker is opaque to callers. It is the hex of the last returned sort key (the lower-cased
//! name), so it survives XML and URL encoding untouched and needs no server-side state.

use crate::error::{Result, StoreError};

/// IAM's largest and default page sizes.
pub const MAX_ITEMS_LIMIT: u32 = 1000;
pub const DEFAULT_MAX_ITEMS: u32 = 100;

/// One page request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListQuery {
    /// Only entities whose path starts with this; `/` means all.
    pub path_prefix: String,
    /// The `next_marker` of the previous page.
    pub marker: Option<String>,
    /// 1–1000.
    pub max_items: u32,
}

impl Default for ListQuery {
    fn default() -> Self {
        Self {
            path_prefix: "/".to_owned(),
            marker: None,
            max_items: DEFAULT_MAX_ITEMS,
        }
    }
}

impl ListQuery {
    pub fn max_items(max_items: u32) -> Self {
        Self {
            max_items,
            ..Self::default()
        }
    }

    pub fn after(mut self, marker: Option<String>) -> Self {
        self.marker = marker;
        self
    }

    pub fn path_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.path_prefix = prefix.into();
        self
    }

    /// [`bounds`](Self::bounds) for the fuzz targets, which reach it without a database.
    #[doc(hidden)]
    pub fn checked_bounds(&self) -> Result<(String, i64)> {
        self.bounds()
    }

    /// The sort key to start after (empty: from the beginning) and the row limit to fetch:
    /// one more than the page, to learn whether another page follows.
    pub(crate) fn bounds(&self) -> Result<(String, i64)> {
        if !(1..=MAX_ITEMS_LIMIT).contains(&self.max_items) {
            return Err(StoreError::InvalidInput(format!(
                "MaxItems must be between 1 and {MAX_ITEMS_LIMIT}"
            )));
        }
        let after = match &self.marker {
            Some(marker) => decode_marker(marker)?,
            None => String::new(),
        };
        Ok((after, i64::from(self.max_items) + 1))
    }
}

/// One page of results and the marker for the next, `None` on the last page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next_marker: Option<String>,
}

impl<T> Page<T> {
    /// Cuts `rows` (fetched with one extra) to `max_items`, deriving the marker from the last
    /// kept row's sort key.
    pub(crate) fn from_rows(
        mut rows: Vec<T>,
        max_items: u32,
        sort_key: impl Fn(&T) -> String,
    ) -> Self {
        let max_items = max_items as usize;
        let next_marker = if rows.len() > max_items {
            rows.truncate(max_items);
            rows.last().map(|row| encode_marker(&sort_key(row)))
        } else {
            None
        };
        Self {
            items: rows,
            next_marker,
        }
    }
}

fn encode_marker(sort_key: &str) -> String {
    sort_key.bytes().map(|b| format!("{b:02x}")).collect()
}

fn decode_marker(marker: &str) -> Result<String> {
    let invalid = || StoreError::InvalidInput("Invalid Marker.".to_owned());
    if marker.is_empty() || !marker.len().is_multiple_of(2) {
        return Err(invalid());
    }
    let bytes = (0..marker.len())
        .step_by(2)
        .map(|i| {
            marker
                .get(i..i + 2)
                .and_then(|pair| u8::from_str_radix(pair, 16).ok())
        })
        .collect::<Option<Vec<u8>>>()
        .ok_or_else(invalid)?;
    String::from_utf8(bytes).map_err(|_| invalid())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn marker_round_trips_any_name() {
        for key in ["a", "web-role", "ünïcode+=,.@_-"] {
            assert_eq!(decode_marker(&encode_marker(key)).unwrap(), key);
        }
    }

    #[test]
    fn foreign_markers_are_rejected() {
        for marker in ["", "abc", "zz", "ff"] {
            assert!(
                matches!(decode_marker(marker), Err(StoreError::InvalidInput(_))),
                "{marker}"
            );
        }
    }

    #[test]
    fn page_size_is_bounded() {
        assert!(ListQuery::max_items(0).bounds().is_err());
        assert!(ListQuery::max_items(1001).bounds().is_err());
        assert_eq!(
            ListQuery::max_items(1000).bounds().unwrap(),
            (String::new(), 1001)
        );
    }
}
