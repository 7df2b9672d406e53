//! A request body that must keep moving: a client that sends its body slower than a minimum
//! rate is cut off, one that sends steadily is never cut, however large the body.
//!
//! Only time spent *waiting on the client* counts. While the server is busy elsewhere (writing a
//! blob to disk, waiting for the store) the body is not polled and that time is nobody's fault,
//! so it is left out. Each time the waiting adds up to one window, the bytes that arrived during
//! it must reach `rate × window`; then the next window starts.

use std::pin::Pin;
use std::task::{Context, Poll, ready};
use std::time::Duration;

use bytes::Buf;
use http_body::{Body, Frame, SizeHint};
use tokio::time::{Instant, Sleep};

/// The rule a body must keep.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MinRate {
    /// Bytes per second, averaged over a window. 0 turns the rule off.
    pub bytes_per_second: u64,
    pub window: Duration,
}

impl MinRate {
    fn bytes_per_window(&self) -> u64 {
        let millis = u64::try_from(self.window.as_millis()).unwrap_or(u64::MAX);
        self.bytes_per_second.saturating_mul(millis) / 1000
    }
}

/// The error a body yields when its client falls below the rate.
#[derive(Debug, thiserror::Error)]
#[error("the request body arrived slower than {bytes_per_second} bytes per second")]
pub struct TooSlow {
    pub bytes_per_second: u64,
}

impl TooSlow {
    /// Whether `error`, or an error it wraps, is a body cut off for being too slow.
    pub fn caused(error: &(dyn std::error::Error + 'static)) -> bool {
        let mut cause = Some(error);
        while let Some(e) = cause {
            if e.is::<TooSlow>() {
                return true;
            }
            cause = e.source();
        }
        false
    }
}

/// `inner`, cut off with [`TooSlow`] when its client stalls.
pub struct MinRateBody<B> {
    inner: B,
    rule: MinRate,
    /// Bytes that arrived in the current window.
    received: u64,
    /// Waiting time of the current window accumulated before `waiting_since`.
    waited: Duration,
    /// When the current wait began, if the last poll found no data.
    waiting_since: Option<Instant>,
    /// Wakes the task when the current wait would complete the window.
    alarm: Option<Pin<Box<Sleep>>>,
}

impl<B> MinRateBody<B> {
    pub fn new(inner: B, rule: MinRate) -> Self {
        Self {
            inner,
            rule,
            received: 0,
            waited: Duration::ZERO,
            waiting_since: None,
            alarm: None,
        }
    }

    /// Closes the current wait (data arrived) at `now`.
    fn stop_waiting(&mut self, now: Instant) {
        if let Some(since) = self.waiting_since.take() {
            self.waited += now - since;
        }
    }

    /// Whether the window the client has been waited on for is complete and short of bytes;
    /// a complete window that met the rule starts the next one.
    fn judge(&mut self, now: Instant) -> Result<(), TooSlow> {
        let waited = self.waited + self.waiting_since.map_or(Duration::ZERO, |s| now - s);
        if waited < self.rule.window {
            return Ok(());
        }
        if self.received < self.rule.bytes_per_window() {
            return Err(TooSlow {
                bytes_per_second: self.rule.bytes_per_second,
            });
        }
        self.received = 0;
        self.waited = Duration::ZERO;
        if self.waiting_since.is_some() {
            self.waiting_since = Some(now);
        }
        Ok(())
    }
}

impl<B> Body for MinRateBody<B>
where
    B: Body + Unpin,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    type Data = B::Data;
    type Error = Box<dyn std::error::Error + Send + Sync>;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        let this = self.get_mut();
        if this.rule.bytes_per_second == 0 {
            return Pin::new(&mut this.inner).poll_frame(cx).map_err(Into::into);
        }
        match Pin::new(&mut this.inner).poll_frame(cx) {
            Poll::Ready(Some(Ok(frame))) => {
                if this.waiting_since.is_some() {
                    let now = Instant::now();
                    this.stop_waiting(now);
                    this.alarm = None;
                    if let Some(data) = frame.data_ref() {
                        this.received = this.received.saturating_add(data.remaining() as u64);
                    }
                    this.judge(now)?;
                } else if let Some(data) = frame.data_ref() {
                    // Data that was already there cost no waiting: no clock read needed.
                    this.received = this.received.saturating_add(data.remaining() as u64);
                }
                Poll::Ready(Some(Ok(frame)))
            }
            Poll::Ready(other) => Poll::Ready(other.map(|r| r.map_err(Into::into))),
            Poll::Pending => loop {
                let now = Instant::now();
                this.waiting_since.get_or_insert(now);
                this.judge(now)?;
                let since = this.waiting_since.unwrap_or(now);
                let deadline = since + (this.rule.window - this.waited);
                let alarm = this
                    .alarm
                    .get_or_insert_with(|| Box::pin(tokio::time::sleep_until(deadline)));
                if alarm.deadline() != deadline {
                    alarm.as_mut().reset(deadline);
                }
                ready!(alarm.as_mut().poll(cx));
                // The window is due: judge it on the next turn of the loop.
            },
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use std::collections::VecDeque;

    use bytes::Bytes;
    use http_body_util::BodyExt as _;

    use super::*;

    /// A client that sends `chunks`, each after its delay.
    struct Scripted {
        chunks: VecDeque<(Duration, usize)>,
        sleep: Option<Pin<Box<Sleep>>>,
    }

    impl Scripted {
        fn new(chunks: &[(u64, usize)]) -> Self {
            Self {
                chunks: chunks
                    .iter()
                    .map(|&(ms, n)| (Duration::from_millis(ms), n))
                    .collect(),
                sleep: None,
            }
        }
    }

    impl Body for Scripted {
        type Data = Bytes;
        type Error = std::convert::Infallible;

        fn poll_frame(
            mut self: Pin<&mut Self>,
            cx: &mut Context<'_>,
        ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
            let Some(&(delay, len)) = self.chunks.front() else {
                return Poll::Ready(None);
            };
            let sleep = self
                .sleep
                .get_or_insert_with(|| Box::pin(tokio::time::sleep(delay)));
            ready!(sleep.as_mut().poll(cx));
            self.sleep = None;
            self.chunks.pop_front();
            Poll::Ready(Some(Ok(Frame::data(Bytes::from(vec![b'x'; len])))))
        }
    }

    const RULE: MinRate = MinRate {
        bytes_per_second: 100,
        window: Duration::from_secs(10),
    };

    async fn outcome(chunks: &[(u64, usize)]) -> Result<usize, String> {
        MinRateBody::new(Scripted::new(chunks), RULE)
            .collect()
            .await
            .map(|c| c.to_bytes().len())
            .map_err(|e| e.to_string())
    }

    #[tokio::test(start_paused = true)]
    async fn a_client_dribbling_a_byte_every_1_5_s_is_cut_after_one_window() {
        let dribble: Vec<(u64, usize)> = (0..100).map(|_| (1500, 1)).collect();
        let started = Instant::now();
        let result = outcome(&dribble).await;
        assert!(
            result
                .unwrap_err()
                .contains("slower than 100 bytes per second")
        );
        assert_eq!(started.elapsed(), Duration::from_secs(10));
    }

    #[tokio::test(start_paused = true)]
    async fn a_client_that_stops_sending_is_cut_after_one_window() {
        let started = Instant::now();
        let result = outcome(&[(0, 500), (3_600_000, 1)]).await;
        assert!(result.is_err());
        // The 500 bytes arrived with no wait; the window runs from the stall.
        assert_eq!(started.elapsed(), Duration::from_secs(10));
    }

    #[tokio::test(start_paused = true)]
    async fn a_slow_but_steady_upload_of_any_length_completes() {
        // 150 B/s for ten minutes: above the rule in every window.
        let steady: Vec<(u64, usize)> = (0..600).map(|_| (1000, 150)).collect();
        assert_eq!(outcome(&steady).await, Ok(90_000));
    }

    #[tokio::test(start_paused = true)]
    async fn bursts_with_pauses_shorter_than_a_window_complete() {
        // 2 KB, then 9 s of silence, repeatedly: 2000 bytes per 10 s of waiting ≥ 1000.
        let bursty: Vec<(u64, usize)> = (0..20).map(|_| (9000, 2000)).collect();
        assert_eq!(outcome(&bursty).await, Ok(40_000));
    }

    #[tokio::test(start_paused = true)]
    async fn time_the_server_spends_elsewhere_does_not_count() {
        let mut body = MinRateBody::new(Scripted::new(&[(0, 10), (0, 10), (0, 10)]), RULE);
        for _ in 0..3 {
            // The server is busy for a minute between reads; the client was never waited on.
            tokio::time::sleep(Duration::from_secs(60)).await;
            let frame = body.frame().await.unwrap().unwrap();
            assert_eq!(frame.into_data().unwrap().len(), 10);
        }
        assert!(body.frame().await.is_none());
    }

    #[tokio::test(start_paused = true)]
    async fn a_zero_rate_turns_the_rule_off() {
        let off = MinRate {
            bytes_per_second: 0,
            ..RULE
        };
        let body = MinRateBody::new(Scripted::new(&[(3_600_000, 1)]), off);
        assert_eq!(body.collect().await.unwrap().to_bytes().len(), 1);
    }
}
