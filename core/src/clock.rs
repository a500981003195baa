//! Time is injected so the core stays deterministic in tests and works on
//! wasm32, where `std::time::SystemTime::now()` panics.

/// A source of wall-clock time, in seconds since the Unix epoch (ADK's unit).
pub trait Clock {
    fn now(&self) -> f64;
}

/// The host's system clock (not available in the browser; the web shell
/// provides its own clock over `Date.now()`).
#[cfg(not(target_arch = "wasm32"))]
#[derive(Clone, Copy, Debug, Default)]
pub struct SystemClock;

#[cfg(not(target_arch = "wasm32"))]
impl Clock for SystemClock {
    fn now(&self) -> f64 {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs_f64())
            .unwrap_or(0.0)
    }
}

/// A clock that advances by a fixed step on every reading: deterministic and
/// strictly increasing, for tests.
#[derive(Debug)]
pub struct SteppingClock {
    next: std::cell::Cell<f64>,
    step: f64,
}

impl SteppingClock {
    pub fn new(start: f64, step: f64) -> Self {
        Self {
            next: std::cell::Cell::new(start),
            step,
        }
    }
}

impl Clock for SteppingClock {
    fn now(&self) -> f64 {
        let now = self.next.get();
        self.next.set(now + self.step);
        now
    }
}

impl<C: Clock + ?Sized> Clock for &C {
    fn now(&self) -> f64 {
        (**self).now()
    }
}
