//! The service worker (dist/sw.js, written by scripts/service-worker.mjs):
//! registered by release builds, unregistered by debug ones (`trunk serve`
//! must never be answered from a release build's cache), and the update
//! flow: a new version installed and waiting is reported, and activated
//! only when the user asks (`activate_update`), after which the page
//! reloads once, when the new worker has taken over.
//!
//! Declared here rather than through web-sys's bindings: seven members,
//! and the handlers as `on…` properties (one closure each, kept for the
//! page's life), with no `EventTarget` plumbing.

use std::cell::{Cell, RefCell};

use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::{JsFuture, spawn_local};

#[wasm_bindgen]
extern "C" {
    type Container;
    #[wasm_bindgen(method)]
    fn register(this: &Container, url: &str) -> js_sys::Promise;
    #[wasm_bindgen(method, js_name = getRegistrations)]
    fn get_registrations(this: &Container) -> js_sys::Promise;
    #[wasm_bindgen(method, getter)]
    fn controller(this: &Container) -> Option<Worker>;
    #[wasm_bindgen(method, setter)]
    fn set_oncontrollerchange(this: &Container, handler: &JsValue);

    #[derive(Clone)]
    type Registration;
    #[wasm_bindgen(method, getter)]
    fn waiting(this: &Registration) -> Option<Worker>;
    #[wasm_bindgen(method, getter)]
    fn installing(this: &Registration) -> Option<Worker>;
    #[wasm_bindgen(method)]
    fn update(this: &Registration) -> js_sys::Promise;
    #[wasm_bindgen(method)]
    fn unregister(this: &Registration) -> js_sys::Promise;
    #[wasm_bindgen(method, setter)]
    fn set_onupdatefound(this: &Registration, handler: &JsValue);

    #[derive(Clone)]
    type Worker;
    #[wasm_bindgen(method, getter)]
    fn state(this: &Worker) -> String;
    #[wasm_bindgen(method, js_name = postMessage)]
    fn post_message(this: &Worker, message: &str);
    #[wasm_bindgen(method, setter)]
    fn set_onstatechange(this: &Worker, handler: &JsValue);
}

thread_local! {
    static REGISTRATION: RefCell<Option<Registration>> = const { RefCell::new(None) };
    /// Set once the user asked for the new version: the next controller
    /// change reloads the page (once).
    static RELOAD_ON_CHANGE: Cell<bool> = const { Cell::new(false) };
}

/// `navigator.serviceWorker`; `None` where there is none (an old browser,
/// a page not in a secure context: plain http other than localhost).
fn container() -> Option<Container> {
    let navigator = web_sys::window()?.navigator();
    let container = js_sys::Reflect::get(&navigator, &JsValue::from_str("serviceWorker")).ok()?;
    (!container.is_undefined()).then(|| container.unchecked_into())
}

/// Registers /sw.js (from the root, as Trunk links every file, so a page
/// at an unknown path finds it too); `ready` runs whenever a newer version
/// than the one running this page is installed and waiting, or has taken
/// over from another tab.
pub fn register(ready: impl Fn() + Clone + 'static) {
    let Some(workers) = container() else { return };
    // No controller: this is the first install, whose takeover (clients.claim)
    // is no new version.
    let had_controller = workers.controller().is_some();
    let on_change = ready.clone();
    workers.set_oncontrollerchange(
        &Closure::<dyn Fn()>::new(move || {
            if RELOAD_ON_CHANGE.replace(false) {
                let _ = web_sys::window().map(|w| w.location().reload());
            } else if had_controller {
                on_change();
            }
        })
        .into_js_value(),
    );
    let promise = workers.register("/sw.js");
    spawn_local(async move {
        let Ok(registration) = JsFuture::from(promise).await else {
            return;
        };
        let registration: Registration = registration.unchecked_into();
        if registration.waiting().is_some() && had_controller {
            ready();
        }
        let found = registration.clone();
        registration.set_onupdatefound(
            &Closure::<dyn Fn()>::new(move || {
                let Some(worker) = found.installing() else {
                    return;
                };
                let (installed, ready) = (worker.clone(), ready.clone());
                worker.set_onstatechange(
                    &Closure::<dyn Fn()>::new(move || {
                        let controlled = container().is_some_and(|c| c.controller().is_some());
                        if installed.state() == "installed" && controlled {
                            ready();
                        }
                    })
                    .into_js_value(),
                );
            })
            .into_js_value(),
        );
        REGISTRATION.set(Some(registration));
    });
}

/// Asks the server for a newer sw.js (the browser installs it if it
/// differs); nothing before registration.
pub fn check_for_update() {
    REGISTRATION.with_borrow(|registration| {
        if let Some(registration) = registration {
            // A failed check (offline) is retried at the next one.
            let _ = registration.update();
        }
    });
}

/// Lets the waiting version take over and reloads once it has; with none
/// waiting (another tab activated it already), reloads at once.
pub fn activate_update() {
    let waiting = REGISTRATION.with_borrow(|r| r.as_ref().and_then(Registration::waiting));
    match waiting {
        Some(worker) => {
            RELOAD_ON_CHANGE.set(true);
            worker.post_message("skipWaiting");
        }
        None => {
            let _ = web_sys::window().map(|w| w.location().reload());
        }
    }
}

/// Unregisters every service worker of this origin (a debug build must be
/// served fresh, never from a release build's cache).
pub fn unregister_all() {
    let Some(container) = container() else { return };
    let promise = container.get_registrations();
    spawn_local(async move {
        let Ok(list) = JsFuture::from(promise).await else {
            return;
        };
        for registration in js_sys::Array::from(&list).iter() {
            let _ = registration.unchecked_into::<Registration>().unregister();
        }
    });
}
