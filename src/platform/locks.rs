//! Web Locks (`navigator.locks`): a tab holds a lock named after a reply's
//! draft while it writes that reply, and the browser releases it when the
//! tab, or its whole process, dies. So another tab can tell a draft still
//! being written from one left by a dead tab without guessing from its age.
//!
//! web-sys has these bindings only behind `web_sys_unstable_apis`, a flag
//! for the whole build; the three calls used here are declared below.

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;

#[wasm_bindgen]
extern "C" {
    type LockManager;

    #[wasm_bindgen(method, js_name = request)]
    fn request(this: &LockManager, name: &str, callback: &JsValue) -> js_sys::Promise;

    #[wasm_bindgen(method, js_name = request)]
    fn request_with_options(
        this: &LockManager,
        name: &str,
        options: &JsValue,
        callback: &JsValue,
    ) -> js_sys::Promise;
}

/// The browser's lock manager; `None` where there is none (an old browser,
/// or a page not in a secure context: plain http other than localhost).
fn lock_manager() -> Option<LockManager> {
    let navigator = web_sys::window()?.navigator();
    let locks = js_sys::Reflect::get(&navigator, &JsValue::from_str("locks")).ok()?;
    (!locks.is_undefined() && !locks.is_null()).then(|| locks.unchecked_into())
}

/// Whether this browser can tell which tabs are alive.
pub fn available() -> bool {
    lock_manager().is_some()
}

/// A lock this tab holds (or is about to hold) until it is released or
/// dropped.
pub struct HeldLock {
    /// Resolves the promise the lock is held by; set once it is granted.
    resolve: Rc<RefCell<Option<js_sys::Function>>>,
    released: Rc<Cell<bool>>,
}

impl HeldLock {
    /// Asks for the lock `name` and keeps it; `granted` runs once it is
    /// held (at once for a name nobody holds). `None` without Web Locks.
    pub fn request(name: &str, granted: impl FnOnce() + 'static) -> Option<Self> {
        let locks = lock_manager()?;
        let resolve = Rc::new(RefCell::new(None));
        let released = Rc::new(Cell::new(false));
        let (keep, gone) = (resolve.clone(), released.clone());
        let callback = Closure::once_into_js(move |_lock: JsValue| -> js_sys::Promise {
            // The lock is held until this promise settles.
            let held = js_sys::Promise::new(&mut |resolve_promise, _| {
                if gone.get() {
                    // Released before it was granted: let go at once.
                    let _ = resolve_promise.call0(&JsValue::UNDEFINED);
                } else {
                    *keep.borrow_mut() = Some(resolve_promise);
                }
            });
            if !gone.get() {
                granted();
            }
            held
        });
        let _ = locks.request(name, &callback);
        Some(Self { resolve, released })
    }
}

impl Drop for HeldLock {
    fn drop(&mut self) {
        self.released.set(true);
        if let Some(resolve) = self.resolve.borrow_mut().take() {
            let _ = resolve.call0(&JsValue::UNDEFINED);
        }
    }
}

/// Runs `then(true)` holding the lock `name` if nobody holds it (released
/// when `then` returns), or `then(false)` if somebody does.
pub fn if_free(name: &str, then: impl FnOnce(bool) + 'static) {
    let Some(locks) = lock_manager() else {
        return;
    };
    let options = js_sys::Object::new();
    let _ = js_sys::Reflect::set(&options, &"ifAvailable".into(), &JsValue::TRUE);
    let callback = Closure::once_into_js(move |lock: JsValue| then(!lock.is_null()));
    let _ = locks.request_with_options(name, &options, &callback);
}

/// Runs `then` holding the lock `name` once whoever holds it lets go (at
/// once if nobody does); released when `then` returns.
pub fn when_free(name: &str, then: impl FnOnce() + 'static) {
    let Some(locks) = lock_manager() else {
        return;
    };
    let callback = Closure::once_into_js(move |_lock: JsValue| then());
    let _ = locks.request(name, &callback);
}
