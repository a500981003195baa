//! Browser tests (wasm-bindgen-test in headless Chromium) of the bulk store
//! (format 6): session bodies and conversation records move from
//! localStorage, their journal, into IndexedDB, and read back the same.
//! A test binary of its own: once `bulk_store::ready` has run, every
//! adapter in the page uses the bulk store.
#![cfg(target_arch = "wasm32")]

use confab::platform::{BrowserClock, LocalStorageKv, bulk_store};
use confab_core::session::{
    CreateSession, Event, GetSessionConfig, KvSessionService, SessionService,
};
use confab_core::storage::{KvStore, keys};
use wasm_bindgen::JsValue;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

fn local_storage() -> web_sys::Storage {
    web_sys::window()
        .and_then(|w| w.local_storage().ok().flatten())
        .expect("the test browser has localStorage")
}

/// Waits `ms` milliseconds (the move happens in a later task).
async fn pause(ms: i32) {
    let promise = js_sys::Promise::new(&mut |resolve, _| {
        web_sys::window()
            .unwrap()
            .set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, ms)
            .unwrap();
    });
    wasm_bindgen_futures::JsFuture::from(promise).await.unwrap();
}

/// Polls until localStorage no longer holds `key` (moved), for up to 2 s.
async fn moved(key: &str) -> bool {
    for _ in 0..100 {
        if local_storage().get_item(key).unwrap().is_none() {
            return true;
        }
        pause(20).await;
    }
    false
}

#[wasm_bindgen_test]
async fn bodies_and_records_leave_local_storage_and_read_back_the_same() {
    // A body already in localStorage (a format-5 store) before the load.
    let early = keys::session("confab", "local", "left-by-format-5");
    local_storage().set_item(&early, "{\"before\":6}").unwrap();
    // What index.html runs at the top of the page.
    js_sys::eval(include_str!("../src/platform/bulk_store.js")).unwrap();
    // Opened at once, but read only once the app asks (after its first
    // frame): its values must not land before that frame.
    let answered = std::rc::Rc::new(std::cell::Cell::new(false));
    let answer = answered.clone();
    let promise: js_sys::Promise = js_sys::eval("__confabBulk.whenReady()").unwrap().into();
    wasm_bindgen_futures::spawn_local(async move {
        let _ = wasm_bindgen_futures::JsFuture::from(promise).await;
        answer.set(true);
    });
    pause(300).await;
    assert!(!answered.get(), "the store is not read before the app asks");
    // Loading: the app draws its first frame meanwhile, and no bulk key is
    // readable yet (typed, never taken for absent), nor the key list.
    let loaded = std::rc::Rc::new(std::cell::Cell::new(None));
    let waiting = loaded.clone();
    wasm_bindgen_futures::spawn_local(async move { waiting.set(Some(bulk_store::ready().await)) });
    // A microtask: the spawned wait has started; IndexedDB answers in a task.
    wasm_bindgen_futures::JsFuture::from(js_sys::Promise::resolve(&JsValue::NULL))
        .await
        .unwrap();
    let unloaded = keys::session("confab", "local", "read-while-loading");
    assert!(matches!(
        LocalStorageKv.get(&unloaded),
        Err(confab_core::storage::KvError::NotLoaded(_))
    ));
    assert!(matches!(
        LocalStorageKv.keys(),
        Err(confab_core::storage::KvError::NotLoaded(_))
    ));
    assert!(LocalStorageKv.keys_with_prefix(keys::DRAFTS).is_ok());
    // Even one still in localStorage: it may be merged with the stored one.
    assert!(LocalStorageKv.get(&early).is_err());
    // A second waiter is answered alike, and the journal adopted once.
    bulk_store::ready().await.expect("IndexedDB opens");
    let first = loop {
        if let Some(outcome) = loaded.take() {
            break outcome;
        }
        pause(5).await;
    };
    assert_eq!(first, Ok(()));
    assert_eq!(LocalStorageKv.get(&unloaded).unwrap(), None);
    assert!(moved(&early).await, "a value left in localStorage is moved");
    assert_eq!(
        LocalStorageKv.get(&early).unwrap().as_deref(),
        Some("{\"before\":6}")
    );

    let mut service = KvSessionService::new(LocalStorageKv, BrowserClock);
    let mut session = service
        .create_session(CreateSession::new("confab", "local"))
        .unwrap();
    let event = Event::text("user", "i", session.last_update_time + 1.0, "in IndexedDB");
    service.append_event(&mut session, event).unwrap();
    let body = keys::session("confab", "local", &session.id);
    // Written to localStorage first (its journal), in the same task.
    assert!(local_storage().get_item(&body).unwrap().is_some());
    assert!(
        moved(&body).await,
        "the body is moved once IndexedDB has it"
    );
    // Index entries stay in localStorage.
    assert!(
        local_storage()
            .get_item(&keys::index_entry("confab", "local", &session.id))
            .unwrap()
            .is_some()
    );
    let got = service
        .get_session("confab", "local", &session.id, GetSessionConfig::default())
        .unwrap();
    assert_eq!(got, session);
    assert!(LocalStorageKv.keys().unwrap().contains(&body));
    // Listed by prefix: bodies where they can be, entries without them.
    assert_eq!(
        LocalStorageKv
            .keys_with_prefix("confab:session:confab:local:")
            .unwrap()
            .len(),
        2
    );
    let entries = LocalStorageKv
        .keys_with_prefix(keys::INDEX_ENTRIES)
        .unwrap();
    assert_eq!(entries, [keys::index_entry("confab", "local", &session.id)]);

    // A removal is marked in localStorage until IndexedDB has deleted it.
    LocalStorageKv.remove(&body).unwrap();
    assert_eq!(
        local_storage().get_item(&body).unwrap().as_deref(),
        Some(bulk_store::REMOVED)
    );
    assert_eq!(LocalStorageKv.get(&body).unwrap(), None);
    assert!(!LocalStorageKv.keys().unwrap().contains(&body));
    assert!(
        moved(&body).await,
        "the mark goes once the deletion commits"
    );
    assert_eq!(LocalStorageKv.get(&body).unwrap(), None);
}
