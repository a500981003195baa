//! Time is injected so the core stays deterministic in tests and works on
//! wasm32, where `std::time::SystemTime::now()` panics.

/// A source of wall-clock time, in seconds since the Unix epoch (ADK's unit).
pub trait Clock {
    fn now(&self) -> f64;
}

/// The clock a stream times things with, if it was given one (without, every
/// reading is 0, so no duration is known).
#[derive(Default)]
pub struct StreamClock(Option<Box<dyn Clock>>);

impl StreamClock {
    pub fn new(clock: Box<dyn Clock>) -> Self {
        Self(Some(clock))
    }

    pub fn now(&self) -> f64 {
        self.0.as_ref().map_or(0.0, |clock| clock.now())
    }
}

impl std::fmt::Debug for StreamClock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.0.is_some() {
            "clock"
        } else {
            "no clock"
        })
    }
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

/// A clock that stands still until a test moves it; clones share the time.
#[derive(Clone, Debug)]
pub struct ManualClock(std::rc::Rc<std::cell::Cell<f64>>);

impl ManualClock {
    pub fn at(now: f64) -> Self {
        Self(std::rc::Rc::new(std::cell::Cell::new(now)))
    }

    pub fn advance(&self, seconds: f64) {
        self.0.set(self.0.get() + seconds);
    }
}

impl Clock for ManualClock {
    fn now(&self) -> f64 {
        self.0.get()
    }
}

impl<C: Clock + ?Sized> Clock for &C {
    fn now(&self) -> f64 {
        (**self).now()
    }
}
