//! The export queue's policy, as a pure state machine the browser drives:
//! finished spans are batched, sent at most one request at a time, retried
//! with exponential backoff on retryable failures, and dropped (counted)
//! when the collector refuses them for good or the queue overflows. It
//! never blocks the chat: the shell only asks it what to send and when.

use super::Span;

/// Send once this many spans wait, or `FLUSH_AFTER` seconds after the first.
pub const BATCH_SIZE: usize = 32;
pub const FLUSH_AFTER: f64 = 2.0;
/// Spans kept while the collector is away; older ones are dropped first.
pub const MAX_QUEUED: usize = 2_000;
pub const MAX_ATTEMPTS: u32 = 6;
const BASE_BACKOFF: f64 = 1.0;
const MAX_BACKOFF: f64 = 60.0;

/// What a send attempt came to.
#[derive(Clone, Debug, PartialEq)]
pub enum SendResult {
    Sent,
    /// Network failure or HTTP 429/502/503/504: try again later.
    Retryable(String),
    /// Any other refusal (400, 404, 415…): retrying would not help.
    Rejected(String),
}

impl SendResult {
    /// Classifies an HTTP status as OTLP/HTTP prescribes.
    pub fn of_status(status: u16, body: &str) -> Self {
        match status {
            200..=299 => Self::Sent,
            429 | 502 | 503 | 504 => Self::Retryable(format!("HTTP {status}")),
            _ => Self::Rejected(format!(
                "HTTP {status} {}",
                body.chars().take(120).collect::<String>()
            )),
        }
    }
}

/// A quiet, user-visible summary of the exporter's health.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ExportStatus {
    pub exported: u64,
    pub dropped: u64,
    pub queued: usize,
    /// The last failure, until a send succeeds again.
    pub last_error: Option<String>,
}

#[derive(Debug, Default)]
pub struct ExportQueue {
    queue: Vec<Span>,
    in_flight: Vec<Span>,
    first_queued_at: Option<f64>,
    attempt: u32,
    retry_at: Option<f64>,
    status: ExportStatus,
}

impl ExportQueue {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn push(&mut self, spans: impl IntoIterator<Item = Span>, now: f64) {
        self.queue.extend(spans);
        if !self.queue.is_empty() && self.first_queued_at.is_none() {
            self.first_queued_at = Some(now);
        }
        let excess = self.queue.len().saturating_sub(MAX_QUEUED);
        if excess > 0 {
            self.queue.drain(..excess);
            self.status.dropped += excess as u64;
        }
        self.status.queued = self.queue.len();
    }

    /// The next batch to send now, if it is time (one request at a time).
    pub fn take_batch(&mut self, now: f64) -> Option<Vec<Span>> {
        if !self.in_flight.is_empty() || self.queue.is_empty() {
            return None;
        }
        if self.retry_at.is_some_and(|at| now < at) {
            return None;
        }
        let due = self.retry_at.is_some()
            || self.queue.len() >= BATCH_SIZE
            || self.first_queued_at.is_some_and(|t| now - t >= FLUSH_AFTER);
        if !due {
            return None;
        }
        let n = self.queue.len().min(BATCH_SIZE);
        self.in_flight = self.queue.drain(..n).collect();
        self.first_queued_at = (!self.queue.is_empty()).then_some(now);
        self.status.queued = self.queue.len();
        Some(self.in_flight.clone())
    }

    /// Records how sending the batch from `take_batch` went.
    pub fn finish(&mut self, result: SendResult, now: f64) {
        let batch = std::mem::take(&mut self.in_flight);
        match result {
            SendResult::Sent => {
                self.status.exported += batch.len() as u64;
                self.status.last_error = None;
                self.attempt = 0;
                self.retry_at = None;
            }
            SendResult::Retryable(reason) if self.attempt + 1 < MAX_ATTEMPTS => {
                self.attempt += 1;
                let backoff = (BASE_BACKOFF * 2f64.powi(self.attempt as i32 - 1)).min(MAX_BACKOFF);
                self.retry_at = Some(now + backoff);
                self.status.last_error = Some(format!(
                    "{reason}; retrying in {} s",
                    crate::units::fixed(backoff, 0)
                ));
                // Put the batch back in front, to be sent first.
                let mut requeued = batch;
                requeued.append(&mut self.queue);
                self.queue = requeued;
            }
            SendResult::Retryable(reason) | SendResult::Rejected(reason) => {
                self.status.dropped += batch.len() as u64;
                self.status.last_error = Some(format!("{reason}; {} spans dropped", batch.len()));
                self.attempt = 0;
                self.retry_at = None;
            }
        }
        self.status.queued = self.queue.len();
    }

    /// When the shell should next call `take_batch` (None: nothing waits).
    pub fn next_wake(&self) -> Option<f64> {
        if self.queue.is_empty() || !self.in_flight.is_empty() {
            return None;
        }
        self.retry_at
            .or_else(|| self.first_queued_at.map(|t| t + FLUSH_AFTER))
    }

    pub fn status(&self) -> &ExportStatus {
        &self.status
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::telemetry::Span;

    fn spans(n: usize) -> Vec<Span> {
        (0..n)
            .map(|i| Span::new("t", None, &format!("s{i}"), i as f64))
            .collect()
    }

    #[test]
    fn a_small_batch_waits_for_the_flush_interval() {
        let mut queue = ExportQueue::new();
        queue.push(spans(3), 100.0);
        assert_eq!(queue.take_batch(100.5), None);
        assert_eq!(queue.next_wake(), Some(100.0 + FLUSH_AFTER));
        let batch = queue.take_batch(100.0 + FLUSH_AFTER).unwrap();
        assert_eq!(batch.len(), 3);
        assert_eq!(queue.take_batch(200.0), None, "one request at a time");
        queue.finish(SendResult::Sent, 101.0);
        assert_eq!(queue.status().exported, 3);
        assert_eq!(queue.next_wake(), None);
    }

    #[test]
    fn a_full_batch_goes_at_once_and_the_rest_follows() {
        let mut queue = ExportQueue::new();
        queue.push(spans(BATCH_SIZE + 5), 0.0);
        assert_eq!(queue.take_batch(0.0).unwrap().len(), BATCH_SIZE);
        queue.finish(SendResult::Sent, 0.1);
        assert_eq!(queue.status().queued, 5);
        assert_eq!(queue.take_batch(0.1 + FLUSH_AFTER).unwrap().len(), 5);
    }

    #[test]
    fn retryable_failures_back_off_exponentially_then_drop() {
        let mut queue = ExportQueue::new();
        queue.push(spans(2), 0.0);
        let mut now = FLUSH_AFTER;
        let mut waits = Vec::new();
        for _ in 0..MAX_ATTEMPTS {
            let batch = queue.take_batch(now).expect("due");
            assert_eq!(batch.len(), 2, "the same spans are retried");
            queue.finish(SendResult::Retryable("HTTP 503".into()), now);
            if let Some(wake) = queue.next_wake() {
                waits.push(wake - now);
                assert_eq!(
                    queue.take_batch(wake - 0.01),
                    None,
                    "not before the backoff"
                );
                now = wake;
            }
        }
        assert_eq!(waits, [1.0, 2.0, 4.0, 8.0, 16.0]);
        assert_eq!(queue.status().dropped, 2);
        assert_eq!(queue.status().exported, 0);
        assert!(
            queue
                .status()
                .last_error
                .as_ref()
                .unwrap()
                .contains("dropped")
        );
        assert_eq!(queue.next_wake(), None);
    }

    #[test]
    fn a_rejection_drops_the_batch_at_once_and_success_clears_the_error() {
        let mut queue = ExportQueue::new();
        queue.push(spans(1), 0.0);
        queue.take_batch(FLUSH_AFTER).unwrap();
        queue.finish(SendResult::of_status(415, "unsupported"), FLUSH_AFTER);
        assert_eq!(queue.status().dropped, 1);
        queue.push(spans(1), 10.0);
        queue.take_batch(10.0 + FLUSH_AFTER).unwrap();
        queue.finish(SendResult::of_status(200, ""), 12.0);
        assert_eq!(queue.status().last_error, None);
        assert_eq!(queue.status().exported, 1);
    }

    #[test]
    fn statuses_are_classified_as_otlp_says() {
        assert_eq!(SendResult::of_status(204, ""), SendResult::Sent);
        for status in [429, 502, 503, 504] {
            assert!(matches!(
                SendResult::of_status(status, ""),
                SendResult::Retryable(_)
            ));
        }
        for status in [400, 404, 415, 500] {
            assert!(matches!(
                SendResult::of_status(status, ""),
                SendResult::Rejected(_)
            ));
        }
    }

    #[test]
    fn the_queue_is_bounded() {
        let mut queue = ExportQueue::new();
        queue.push(spans(MAX_QUEUED + 10), 0.0);
        assert_eq!(queue.status().queued, MAX_QUEUED);
        assert_eq!(queue.status().dropped, 10);
    }
}
