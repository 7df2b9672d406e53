//! One order over the two journals: each journal's pages come in journal order, and the two
//! are merged by event time (newest first: the later event first; ties to the authenticated
//! journal). A merge that only looks at the two heads is a function of what remains of each,
//! so a page can continue from the pair of places it reached: [`Position`] carries both.
//!
//! Newest first, a journal the page took nothing from is bounded where its index ended when
//! the page was read, so the next page never shows records newer than this one's.

use super::model::{Event, EventQuery, Order, Position};

/// One journal's page: its events after its start place, and where its index ended.
pub(super) struct Page {
    pub events: Vec<Event>,
    pub end: i64,
}

/// Where each journal continues for `query`: (authenticated, unauthenticated), before the
/// ends are known; `None` means from the start in the query's order.
pub(super) fn starts(query: &EventQuery<'_>) -> (Option<i64>, Option<i64>) {
    match query.after {
        Some(after) => (Some(after.seq), after.unauthenticated_seq),
        None => (None, None),
    }
}

/// Up to `query.limit` events of `main` and `unauthenticated` in the merged order, each
/// carrying the position a page ending with it continues from.
pub(super) fn merge(
    query: &EventQuery<'_>,
    main: Page,
    unauthenticated: Option<Page>,
) -> Vec<Event> {
    let newest_first = query.order == Order::NewestFirst;
    let (main_after, unauthenticated_after) = starts(query);
    // Not started: newest first, bounded at the end the page saw; oldest first, before all.
    let not_started = |end: i64| if newest_first { end } else { -1 };
    let mut place = (
        main_after.unwrap_or(not_started(main.end)),
        unauthenticated
            .as_ref()
            .map(|page| unauthenticated_after.unwrap_or(not_started(page.end))),
    );
    let mut mains = main.events.into_iter().peekable();
    let mut others = unauthenticated
        .map(|page| page.events)
        .unwrap_or_default()
        .into_iter()
        .peekable();
    let mut merged = Vec::new();
    while merged.len() < query.limit as usize {
        let take_main = match (mains.peek(), others.peek()) {
            (Some(a), Some(b)) if newest_first => a.event_time_ms >= b.event_time_ms,
            (Some(a), Some(b)) => a.event_time_ms <= b.event_time_ms,
            (Some(_), None) => true,
            (None, Some(_)) => false,
            (None, None) => break,
        };
        let next = if take_main {
            mains.next()
        } else {
            others.next()
        };
        let Some(mut event) = next else { break };
        if take_main {
            place.0 = event.seq;
        } else {
            place.1 = Some(event.seq);
        }
        event.place = Position {
            event_time_ms: event.event_time_ms,
            seq: place.0,
            unauthenticated_seq: place.1,
        };
        merged.push(event);
    }
    merged
}
