//! A per-client token bucket: each client may make `burst` requests at
//! once, then `per_second` on average. Plain data and arithmetic; the time
//! is passed in, so the tests below are deterministic.

use std::collections::HashMap;
use std::hash::Hash;
use std::time::{Duration, Instant};

/// How often idle buckets are swept out even when the map is not full.
const SWEEP_EVERY: Duration = Duration::from_secs(60);

/// A rate: `burst` requests at once, refilled at `per_second`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Rate {
    pub per_second: f64,
    pub burst: u32,
}

impl Rate {
    /// `None` when the limit is off (a rate of 0, or not a usable number).
    pub fn new(per_second: f64, burst: u32) -> Option<Self> {
        (per_second.is_finite() && per_second > 0.0 && burst > 0)
            .then_some(Self { per_second, burst })
    }

    fn burst(&self) -> f64 {
        f64::from(self.burst)
    }
}

#[derive(Clone, Copy, Debug)]
struct Bucket {
    tokens: f64,
    updated: Instant,
}

impl Bucket {
    /// The tokens at `now` (never more than the burst).
    fn tokens_at(&self, rate: Rate, now: Instant) -> f64 {
        let elapsed = now.saturating_duration_since(self.updated).as_secs_f64();
        (self.tokens + elapsed * rate.per_second).min(rate.burst())
    }
}

/// The answer to one request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Decision {
    Allow,
    /// Over the limit; one token will be back after `retry_after`.
    Deny {
        retry_after: Duration,
    },
}

/// Buckets by client key, at most `capacity` of them.
#[derive(Debug)]
pub struct Limiter<K> {
    rate: Rate,
    capacity: usize,
    buckets: HashMap<K, Bucket>,
    next_sweep: Option<Instant>,
}

impl<K: Hash + Eq + Clone> Limiter<K> {
    /// `capacity` bounds the memory: at most that many clients are tracked.
    pub fn new(rate: Rate, capacity: usize) -> Self {
        Self {
            rate,
            capacity: capacity.max(1),
            buckets: HashMap::new(),
            next_sweep: None,
        }
    }

    pub fn rate(&self) -> Rate {
        self.rate
    }

    /// How many clients are tracked now.
    pub fn len(&self) -> usize {
        self.buckets.len()
    }

    pub fn is_empty(&self) -> bool {
        self.buckets.is_empty()
    }

    /// Takes a token from `key`'s bucket at `now`, if it has one.
    pub fn check(&mut self, key: K, now: Instant) -> Decision {
        if self.next_sweep.is_none_or(|at| now >= at) {
            self.sweep(now);
            self.next_sweep = Some(now + SWEEP_EVERY);
        }
        if !self.buckets.contains_key(&key) && self.buckets.len() >= self.capacity {
            self.make_room(now);
        }
        let rate = self.rate;
        let bucket = self.buckets.entry(key).or_insert(Bucket {
            tokens: rate.burst(),
            updated: now,
        });
        let tokens = bucket.tokens_at(rate, now);
        // `max`: an earlier `now` (clocks passed in out of order) never
        // moves a bucket back in time.
        bucket.updated = bucket.updated.max(now);
        if tokens >= 1.0 {
            bucket.tokens = tokens - 1.0;
            Decision::Allow
        } else {
            bucket.tokens = tokens;
            Decision::Deny {
                retry_after: Duration::from_secs_f64((1.0 - tokens) / rate.per_second),
            }
        }
    }

    /// Drops the buckets that have filled up again: such a client is in the
    /// same state as one never seen, so forgetting it changes nothing.
    fn sweep(&mut self, now: Instant) {
        let rate = self.rate;
        self.buckets
            .retain(|_, bucket| bucket.tokens_at(rate, now) < rate.burst());
    }

    /// Frees one place for a new client: idle buckets first; if every
    /// tracked client is active, the one heard from least recently goes
    /// (it starts over with a full burst, the price of bounded memory).
    fn make_room(&mut self, now: Instant) {
        self.sweep(now);
        while self.buckets.len() >= self.capacity {
            let Some(oldest) = self
                .buckets
                .iter()
                .min_by_key(|(_, bucket)| bucket.updated)
                .map(|(key, _)| key.clone())
            else {
                return;
            };
            self.buckets.remove(&oldest);
        }
    }
}

/// `Retry-After` in whole seconds, rounded up, at least 1.
pub fn retry_after_secs(wait: Duration) -> u64 {
    (wait.as_secs_f64().ceil() as u64).max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rate(per_second: f64, burst: u32) -> Rate {
        Rate::new(per_second, burst).unwrap()
    }

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[test]
    fn a_burst_is_allowed_then_the_rate_applies() {
        let t0 = Instant::now();
        let mut limiter = Limiter::new(rate(2.0, 3), 100);
        for _ in 0..3 {
            assert_eq!(limiter.check("a", t0), Decision::Allow);
        }
        assert_eq!(
            limiter.check("a", t0),
            Decision::Deny {
                retry_after: ms(500)
            }
        );
        // Half a token back after 250 ms: still 250 ms to wait.
        assert_eq!(
            limiter.check("a", t0 + ms(250)),
            Decision::Deny {
                retry_after: ms(250)
            }
        );
        assert_eq!(limiter.check("a", t0 + ms(500)), Decision::Allow);
        assert!(matches!(
            limiter.check("a", t0 + ms(500)),
            Decision::Deny { .. }
        ));
        // A long pause refills the bucket, but never beyond the burst.
        let later = t0 + Duration::from_secs(3600);
        for _ in 0..3 {
            assert_eq!(limiter.check("a", later), Decision::Allow);
        }
        assert!(matches!(limiter.check("a", later), Decision::Deny { .. }));
    }

    #[test]
    fn clients_have_buckets_of_their_own() {
        let t0 = Instant::now();
        let mut limiter = Limiter::new(rate(1.0, 1), 100);
        assert_eq!(limiter.check("a", t0), Decision::Allow);
        assert!(matches!(limiter.check("a", t0), Decision::Deny { .. }));
        assert_eq!(limiter.check("b", t0), Decision::Allow);
    }

    #[test]
    fn a_denied_request_costs_nothing() {
        let t0 = Instant::now();
        let mut limiter = Limiter::new(rate(1.0, 1), 100);
        assert_eq!(limiter.check("a", t0), Decision::Allow);
        // Steps of 1/8 s, exact in binary, so the sum below is exactly 1.
        for step in 1..8 {
            assert!(matches!(
                limiter.check("a", t0 + ms(step * 125)),
                Decision::Deny { .. }
            ));
        }
        // Hammering did not push the next token further away.
        assert_eq!(limiter.check("a", t0 + ms(1000)), Decision::Allow);
    }

    #[test]
    fn time_going_backwards_does_not_refill_or_panic() {
        let t0 = Instant::now() + Duration::from_secs(10);
        let mut limiter = Limiter::new(rate(1.0, 1), 100);
        assert_eq!(limiter.check("a", t0), Decision::Allow);
        assert!(matches!(
            limiter.check("a", t0 - Duration::from_secs(5)),
            Decision::Deny { .. }
        ));
        assert!(matches!(limiter.check("a", t0), Decision::Deny { .. }));
        assert_eq!(limiter.check("a", t0 + ms(1000)), Decision::Allow);
    }

    #[test]
    fn idle_clients_are_forgotten_and_memory_stays_bounded() {
        let t0 = Instant::now();
        let mut limiter = Limiter::new(rate(1.0, 1), 3);
        for key in 0..3 {
            assert_eq!(limiter.check(key, t0), Decision::Allow);
        }
        assert!(matches!(limiter.check(0, t0), Decision::Deny { .. }));
        assert_eq!(limiter.len(), 3);
        // A fourth client while the others are still refilling: the least
        // recently seen one makes way.
        limiter.check(1, t0 + ms(10));
        limiter.check(2, t0 + ms(10));
        limiter.check(3, t0 + ms(20));
        assert_eq!(limiter.len(), 3);
        // Key 0 was evicted, so it starts over with a full burst (kept, it
        // would have had 0.03 tokens and been denied).
        assert_eq!(limiter.check(0, t0 + ms(30)), Decision::Allow);
        assert_eq!(limiter.len(), 3);

        // Thousands of one-off clients never grow the map past its bound.
        for key in 100..5000 {
            limiter.check(key, t0 + ms(40));
            assert!(limiter.len() <= 3);
        }

        // Once buckets are full again, a sweep drops them all.
        let idle = t0 + Duration::from_secs(120);
        limiter.check(-1, idle);
        assert_eq!(limiter.len(), 1, "only the client just seen is kept");
    }

    #[test]
    fn retry_after_is_whole_seconds_and_at_least_one() {
        assert_eq!(retry_after_secs(Duration::ZERO), 1);
        assert_eq!(retry_after_secs(ms(1)), 1);
        assert_eq!(retry_after_secs(ms(1000)), 1);
        assert_eq!(retry_after_secs(ms(1001)), 2);
        assert_eq!(retry_after_secs(Duration::from_secs(7)), 7);
    }

    #[test]
    fn a_rate_of_zero_is_no_limit() {
        assert_eq!(Rate::new(0.0, 30), None);
        assert_eq!(Rate::new(f64::NAN, 30), None);
        assert_eq!(Rate::new(2.0, 0), None);
        assert_eq!(
            Rate::new(2.0, 30),
            Some(Rate {
                per_second: 2.0,
                burst: 30
            })
        );
    }
}
