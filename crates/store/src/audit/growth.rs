//! A signal that the trail's disk use grew: journals preallocate whole segments, so it grows
//! only when one rolls over to the next. Whoever enforces the size cap waits on it instead of
//! looking at the disk after every record.

use std::sync::{Condvar, Mutex};
use std::time::Duration;

use super::lock;

#[derive(Debug, Default)]
pub struct Growth {
    rotations: Mutex<u64>,
    changed: Condvar,
}

impl Growth {
    /// A journal started a new segment.
    pub(super) fn grew(&self) {
        *lock(&self.rotations) += 1;
        self.changed.notify_all();
    }

    /// Waits until more than `seen` rotations happened, or `timeout`; returns the count.
    pub fn wait(&self, seen: u64, timeout: Duration) -> u64 {
        let rotations = lock(&self.rotations);
        let (rotations, _) = self
            .changed
            .wait_timeout_while(rotations, timeout, |n| *n <= seen)
            .unwrap_or_else(|e| e.into_inner());
        *rotations
    }
}
