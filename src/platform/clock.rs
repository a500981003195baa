use confab_core::Clock;

/// Wall-clock time from `Date.now()` (std's clock panics on wasm32).
#[derive(Clone, Copy, Debug, Default)]
pub struct BrowserClock;

impl Clock for BrowserClock {
    fn now(&self) -> f64 {
        js_sys::Date::now() / 1000.0
    }
}
