//! The service worker (dist/sw.js, written by scripts/service-worker.mjs):
//! registered by release builds, unregistered by debug ones (`trunk serve`
//! must never be answered from a release build's cache), and the update
//! flow: a new version installed and waiting is reported, and activated
//! only when the user asks (`activate_update`), after which the page
//! reloads once, when the new worker has taken over.
//!
//! In JavaScript (a wasm-bindgen inline module, which Trunk ships as a
//! file of its own, preloaded beside the main JS): 486 B less on a first
//! visit than the same calls declared for Rust (`extern "C"` members and a
//! closure per handler), measured on both builds (ARCHITECTURE.md).
//!
//! - `register`: `/sw.js` from the root, as Trunk links every file, so a
//!   page at an unknown path finds it too. `ready` runs when a newer
//!   version than the one running this page is waiting (at startup, or
//!   `updatefound` then `installed` while a worker controls the page), or
//!   has taken over from another tab (`controllerchange` on a page that
//!   had a controller; on the first visit the first worker's claim is no
//!   new version).
//! - `check_for_update`: asks the server for a newer sw.js (a failed
//!   check, offline, waits for the next one).
//! - `activate_update`: the waiting version is told to take over, and the
//!   page reloads once it has; with none waiting (another tab activated
//!   it), the page reloads at once.
//! - `unregister_all`: every service worker of this origin.

use wasm_bindgen::prelude::*;

#[wasm_bindgen(inline_js = "
let reg = null, asked = false;
export function register(ready) {
  const c = navigator.serviceWorker;
  if (!c) return;
  const had = !!c.controller;
  c.oncontrollerchange = () => { if (asked) { asked = false; location.reload(); } else if (had) ready(); };
  c.register('/sw.js').then((r) => {
    reg = r;
    if (r.waiting && had) ready();
    r.onupdatefound = () => {
      const w = r.installing;
      if (w) w.onstatechange = () => { if (w.state === 'installed' && c.controller) ready(); };
    };
  }, () => {});
}
export function check_for_update() { if (reg) reg.update().catch(() => {}); }
export function activate_update() {
  const w = reg && reg.waiting;
  if (w) { asked = true; w.postMessage('skipWaiting'); } else location.reload();
}
export function unregister_all() {
  const c = navigator.serviceWorker;
  if (c) c.getRegistrations().then((l) => l.forEach((r) => r.unregister()));
}
")]
extern "C" {
    #[wasm_bindgen(js_name = register)]
    fn register_with(ready: &JsValue);
    pub fn check_for_update();
    pub fn activate_update();
    pub fn unregister_all();
}

/// Registers the service worker; `ready` runs whenever a newer version
/// waits for the user (see the module's notes).
pub fn register(ready: impl Fn() + 'static) {
    // Kept for the page's life: the handlers call it until it is gone.
    register_with(&Closure::<dyn Fn()>::new(ready).into_js_value());
}
