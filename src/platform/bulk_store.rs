//! The bulk store (format 6): session bodies and conversation records
//! (`keys::BULK`) in IndexedDB, database `confab-store`, object store `kv`,
//! keyed as they were in localStorage. Chromium loads an origin's whole
//! localStorage into a page at its first access, synchronously: 148 ms for
//! 2,000 conversations with the bodies there, 20 ms without
//! (docs/index-layout.md). IndexedDB is read off the main thread.
//!
//! The core's store is synchronous, so [`LocalStorageKv`] serves these keys
//! from a copy held in the page, read with one `getAll`. bulk_store.js
//! (inline at the top of index.html) opens the database while the app's
//! code downloads, and reads it when [`ready`] first asks: after the app's
//! first frame, so the task that delivers the values (30-100 ms at 2,000
//! conversations) cannot hold that frame up. Writes are durable at once:
//!
//! - A write goes to localStorage first, as before format 6 (a full quota
//!   is refused there, typed as ever), and to the held copy; in the next
//!   task the keys written are put into IndexedDB in one transaction, each
//!   with the value localStorage has then (the newest, this tab's or
//!   another's), and once it has committed each is removed from
//!   localStorage if it still holds that value (256 a task: a format-5
//!   store moves thousands at once). A transaction that fails is tried
//!   again 2 s later. localStorage is the journal: a tab killed at any
//!   point leaves its newest values there, and the next page to load moves
//!   them ([`adopt_journal`]; a format-5 store's bodies the same way).
//! - Reads look in localStorage first (a value not yet moved, this tab's
//!   or another's), then in the held copy.
//! - A removal writes an empty value (`REMOVED`) to localStorage until the
//!   deletion has committed: no stored body or record is ever empty.
//! - Other tabs: a value another tab moved disappears from localStorage;
//!   its `storage` event carries the value as the old one, which this page
//!   holds at once and then reads back from IndexedDB (the committed one).
//!   The script adds its listener and makes the page's first localStorage
//!   access (Chromium loads all of it then) before it takes the snapshot,
//!   so no move that commits after the snapshot goes unheard.
//!
//! [`LocalStorageKv`]: super::LocalStorageKv

use std::cell::{Cell, RefCell};

use wasm_bindgen::prelude::*;

// bulk_store.js, which index.html runs at the top of the page.
#[wasm_bindgen]
extern "C" {
    // Throws where the page did not run the script.
    #[wasm_bindgen(catch, js_namespace = __confabBulk, js_name = whenReady)]
    fn bulk_ready() -> Result<js_sys::Promise, JsValue>;
    // Starts the snapshot's read if it has not started; the same promise.
    #[wasm_bindgen(catch, js_namespace = __confabBulk, js_name = read)]
    fn bulk_read() -> Result<js_sys::Promise, JsValue>;
    #[wasm_bindgen(js_namespace = __confabBulk, js_name = get)]
    fn bulk_get(key: &str) -> Option<String>;
    #[wasm_bindgen(js_namespace = __confabBulk, js_name = set)]
    fn bulk_set(key: &str, value: &str);
    #[wasm_bindgen(js_namespace = __confabBulk, js_name = remove)]
    fn bulk_remove(key: &str);
    #[wasm_bindgen(js_namespace = __confabBulk, js_name = keys)]
    fn bulk_keys() -> Vec<String>;
}

/// What localStorage holds for a bulk key whose deletion has not yet
/// committed in IndexedDB.
pub const REMOVED: &str = "";

#[derive(Clone, Copy, PartialEq, Eq)]
enum State {
    /// [`ready`] was never called: plain localStorage, every key there (a
    /// page that only uses the adapter, as the browser tests of it do).
    Unused,
    /// [`ready`] is waiting for the held copy: bulk keys are not readable.
    Loading,
    Open,
    /// IndexedDB could not be opened: every key stays in localStorage.
    Off,
}

thread_local! {
    static STATE: Cell<State> = const { Cell::new(State::Unused) };
    /// The held keys as last listed, kept until the current task ends (as
    /// `LocalStorageKv` keeps localStorage's): startup lists the store's
    /// keys several times, 4,000 of these at 2,000 conversations.
    static KEYS: RefCell<Option<Vec<String>>> = const { RefCell::new(None) };
}

/// Marks the held copy as loading, from the page's start: until it has
/// loaded, a bulk key read is refused, never taken for absent.
pub fn begin() {
    if STATE.get() == State::Unused {
        STATE.set(if bulk_ready().is_ok() {
            State::Loading
        } else {
            State::Off
        });
    }
}

/// Reads the held copy (the first call starts the read) and waits until
/// it is loaded: the app calls this after its first frame, and waits for
/// it before anything reads a bulk key.
/// `Err(reason)`: IndexedDB could not be opened, and every key stays in
/// localStorage (as in format 5). Any number of callers may wait.
pub async fn ready() -> Result<(), String> {
    let Ok(loaded) = bulk_read() else {
        STATE.set(State::Off);
        return Err("the page did not run bulk_store.js".into());
    };
    if STATE.get() == State::Unused {
        STATE.set(State::Loading);
    }
    let outcome = wasm_bindgen_futures::JsFuture::from(loaded).await;
    match outcome.ok().and_then(|reason| reason.as_string()) {
        None => {
            // The first caller to wake adopts the journal, once.
            if STATE.get() == State::Loading {
                STATE.set(State::Open);
                adopt_journal();
            }
            Ok(())
        }
        Some(reason) => {
            STATE.set(State::Off);
            Err(reason)
        }
    }
}

/// Moves every value left in localStorage (a tab closed before it moved
/// its own, or a format-5 store), merged with the stored one where they
/// differ.
///
/// After the browser itself was killed, localStorage may come back older
/// than IndexedDB: Chromium writes localStorage to disk 5 s to a minute
/// after a change, IndexedDB when a transaction commits. A value left in
/// localStorage is then either newer (not moved yet) or older (its removal
/// never reached the disk) than the stored one; the rules that merge two
/// tabs' writes (`sync::reconcile`) keep what either has, so no event is
/// lost either way. Runs before anything reads.
fn adopt_journal() {
    let Some(storage) = web_sys::window().and_then(|w| w.local_storage().ok().flatten()) else {
        return;
    };
    let Ok(listed) = super::LocalStorageKv.local_keys() else {
        return;
    };
    let journaled = listed
        .into_iter()
        .filter(|key| confab_core::storage::keys::in_bulk_store(key));
    for key in journaled {
        let Ok(Some(local)) = storage.get_item(&key) else {
            continue;
        };
        if local == REMOVED {
            bulk_remove(&key);
            continue;
        }
        let merged = bulk_get(&key)
            .filter(|stored| *stored != local)
            .and_then(|stored| confab_core::sync::reconcile(&key, Some(&local), &stored))
            .filter(|merged| storage.set_item(&key, merged).is_ok());
        bulk_set(&key, merged.as_deref().unwrap_or(&local));
    }
}

/// Whether the held copy is being loaded (bulk keys not readable yet).
pub(super) fn loading() -> bool {
    STATE.get() == State::Loading
}

/// How a key is stored now.
pub(super) enum Place {
    /// In localStorage only (not a bulk key, or IndexedDB is off).
    Local,
    /// In the bulk store, with localStorage as its journal.
    Bulk,
    /// A bulk key before the held copy is loaded: not readable yet.
    NotYetLoaded,
}

pub(super) fn place_of(key: &str) -> Place {
    if !confab_core::storage::keys::in_bulk_store(key) {
        return Place::Local;
    }
    match STATE.get() {
        State::Open => Place::Bulk,
        State::Unused | State::Off => Place::Local,
        State::Loading => Place::NotYetLoaded,
    }
}

/// The held value of a bulk key not found in localStorage.
pub(super) fn held(key: &str) -> Option<String> {
    bulk_get(key)
}

/// `key` was written to localStorage: held, and moved in the next task.
pub(super) fn written(key: &str, value: &str) {
    bulk_set(key, value);
    KEYS.with_borrow_mut(|keys| {
        if let Some(keys) = keys
            && !keys.iter().any(|k| k == key)
        {
            keys.push(key.to_owned());
        }
    });
}

/// `key` was marked removed in localStorage: dropped, and deleted from
/// IndexedDB in the next task.
pub(super) fn removed(key: &str) {
    bulk_remove(key);
    KEYS.with_borrow_mut(|keys| {
        if let Some(keys) = keys {
            keys.retain(|k| k != key);
        }
    });
}

/// Every held bulk key (none before the copy is loaded or with it off).
pub(super) fn held_keys() -> Vec<String> {
    if STATE.get() != State::Open {
        return Vec::new();
    }
    if let Some(keys) = KEYS.with_borrow(Clone::clone) {
        return keys;
    }
    let keys = bulk_keys();
    KEYS.set(Some(keys.clone()));
    // Another tab's moves reach this page in tasks of their own.
    wasm_bindgen_futures::spawn_local(async { KEYS.set(None) });
    keys
}
