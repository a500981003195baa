//! Browser tests (wasm-bindgen-test in headless Chromium) of the session
//! service over real localStorage.
#![cfg(target_arch = "wasm32")]

use confab::platform::{BrowserClock, LocalStorageKv};
use confab_core::session::{
    CreateSession, Event, GetSessionConfig, KvSessionService, SessionError, SessionService,
};
use confab_core::storage::{KvError, KvStore, keys, packed};
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

fn local_storage() -> web_sys::Storage {
    web_sys::window()
        .and_then(|w| w.local_storage().ok().flatten())
        .expect("the test browser has localStorage")
}

/// A service over an emptied localStorage.
fn fresh() -> KvSessionService<LocalStorageKv, BrowserClock> {
    local_storage().clear().expect("clear localStorage");
    KvSessionService::new(LocalStorageKv, BrowserClock)
}

// The same contract the in-memory service passes on the host.
confab_core::session_contract_tests!(#[wasm_bindgen_test], fresh());

#[wasm_bindgen_test]
fn sessions_are_really_in_local_storage_and_survive_a_new_service() {
    let mut service = fresh();
    let mut session = service
        .create_session(CreateSession::new("confab", "local"))
        .unwrap();
    let event = Event::text("user", "i", session.last_update_time + 1.0, "persist me");
    service.append_event(&mut session, event).unwrap();

    let raw = local_storage()
        .get_item(&keys::session("confab", "local", &session.id))
        .unwrap()
        .expect("the session body is a localStorage item");
    // Stored packed (schema 3); the packed text survives the trip through
    // the browser's UTF-16 strings and back.
    assert!(raw.starts_with(packed::MARK), "{raw}");
    assert!(packed::unpack(&raw).unwrap().contains("persist me"));
    // Listed under its own index entry (format 5).
    assert!(
        local_storage()
            .get_item(&keys::index_entry("confab", "local", &session.id))
            .unwrap()
            .is_some_and(|entry| entry.contains("\"listed\""))
    );

    let reloaded = KvSessionService::new(LocalStorageKv, BrowserClock);
    let got = reloaded
        .get_session("confab", "local", &session.id, GetSessionConfig::default())
        .unwrap();
    assert_eq!(got, session);
}

#[wasm_bindgen_test]
fn a_full_quota_is_a_typed_error_and_loses_nothing() {
    let mut service = fresh();
    let mut session = service
        .create_session(CreateSession::new("confab", "local"))
        .unwrap();
    let first = Event::text("user", "i", session.last_update_time + 1.0, "saved before");
    service.append_event(&mut session, first).unwrap();

    // Fill localStorage to the brim with other data, in shrinking blocks.
    let storage = local_storage();
    let mut block = "x".repeat(1 << 20);
    let mut n = 0;
    while block.len() >= 16 {
        if storage.set_item(&format!("filler:{n}"), &block).is_err() {
            block.truncate(block.len() / 2);
        }
        n += 1;
    }
    let before = session.clone();
    let big = Event::text(
        "user",
        "i",
        session.last_update_time + 1.0,
        // Varied text: zlib would shrink a repeated letter to nothing.
        &(0..1500)
            .map(|i| (i * 7919 % 10007).to_string())
            .collect::<String>(),
    );
    let result = service.append_event(&mut session, big);
    assert!(
        matches!(
            result,
            Err(SessionError::Storage(KvError::QuotaExceeded { .. }))
        ),
        "expected QuotaExceeded, got {result:?}"
    );
    assert_eq!(session, before, "the caller's copy is unchanged");
    let stored = service
        .get_session("confab", "local", &session.id, GetSessionConfig::default())
        .unwrap();
    assert_eq!(stored, before, "the stored copy is intact");
    storage.clear().unwrap();
}

#[wasm_bindgen_test]
fn a_corrupt_entry_is_moved_aside_and_reported() {
    let mut service = fresh();
    let session = service
        .create_session(CreateSession::new("confab", "local"))
        .unwrap();
    let key = keys::session("confab", "local", &session.id);
    LocalStorageKv.set(&key, "\u{0}garbage").unwrap();
    let result = service.get_session("confab", "local", &session.id, GetSessionConfig::default());
    assert!(
        matches!(result, Err(SessionError::Corrupt { .. })),
        "got {result:?}"
    );
    let reports = service.take_quarantined();
    let moved_to = reports[0].moved_to.clone().expect("moved aside");
    assert_eq!(
        LocalStorageKv.get(&moved_to).unwrap().as_deref(),
        Some("\u{0}garbage")
    );
    assert_eq!(LocalStorageKv.get(&key).unwrap(), None);
    assert!(service.list_sessions("confab", "local").unwrap().is_empty());
}

#[wasm_bindgen_test]
fn a_failed_group_of_writes_is_rolled_back_in_local_storage() {
    use confab_core::storage::Journaled;
    fresh();
    LocalStorageKv.set("confab:a", "old").unwrap();
    let journaled = Journaled::new(LocalStorageKv);
    journaled.begin();
    journaled.set("confab:a", "new").unwrap();
    journaled.set("confab:b", "added").unwrap();
    journaled.rollback();
    assert_eq!(
        LocalStorageKv.get("confab:a").unwrap().as_deref(),
        Some("old")
    );
    assert_eq!(LocalStorageKv.get("confab:b").unwrap(), None);
}

#[wasm_bindgen_test]
fn the_adapter_lists_and_removes_keys() {
    fresh();
    LocalStorageKv.set("confab:a", "1").unwrap();
    LocalStorageKv.set("other-app", "2").unwrap();
    let mut keys = LocalStorageKv.keys().unwrap();
    keys.sort();
    assert_eq!(keys, ["confab:a", "other-app"]);
    LocalStorageKv.remove("confab:a").unwrap();
    assert_eq!(LocalStorageKv.get("confab:a").unwrap(), None);
    assert_eq!(
        LocalStorageKv.get("other-app").unwrap().as_deref(),
        Some("2")
    );
}

#[wasm_bindgen_test]
fn the_session_manager_persists_in_local_storage_across_a_restart() {
    use confab_core::manager::{CallResult, Limits, Satisfaction, SessionManager};
    use confab_core::session::MessageStatus;

    fresh();
    let manager = || {
        SessionManager::new(
            KvSessionService::new(LocalStorageKv, BrowserClock),
            LocalStorageKv,
            BrowserClock,
            "confab",
            Limits::default(),
        )
    };
    let (session_id, conversation_id) = {
        let mut m = manager();
        let query = m.begin_query("ada", "hello from the browser").unwrap();
        let call = m.begin_call("ada", &query.session.id, None).unwrap();
        m.finish_call(
            "ada",
            &call,
            CallResult {
                agent_events: Vec::new(),
                text: "hi".into(),
                status: MessageStatus::Complete,
                response_model: Some("confab-echo".into()),
                ..CallResult::default()
            },
        )
        .unwrap();
        let conversation = m.conversation("ada", &query.session.id).unwrap();
        (query.session.id, conversation.conversation_id)
    };
    // A "reload": new manager, same localStorage.
    let mut m = manager();
    assert_eq!(
        m.current_session_id("ada").unwrap(),
        Some(session_id.clone())
    );
    assert_eq!(m.get_conversation_id("ada").unwrap(), Some(conversation_id));
    assert_eq!(m.get_query_count("ada").unwrap(), 1);
    assert!(
        m.current_session_id("bob").unwrap().is_none(),
        "users are isolated"
    );
    m.end_conversation("ada", Satisfaction::Satisfied, "")
        .unwrap();
    let conversation = m.conversation("ada", &session_id).unwrap();
    assert!(conversation.trace.root.end.is_some());
    assert_eq!(m.current_session_id("ada").unwrap(), None);
    assert!(
        local_storage()
            .get_item(&keys::conversation("confab", "ada", &session_id))
            .unwrap()
            .is_some()
    );
}

#[wasm_bindgen_test]
fn a_rehearsal_reads_and_writes_a_map_of_its_own_and_leaves_local_storage_alone() {
    let storage = local_storage();
    storage.clear().unwrap();
    storage.set_item("kept", "as it was").unwrap();
    let mut service = KvSessionService::new(LocalStorageKv, BrowserClock);
    let (listed, read_back) = confab::platform::local_storage::rehearse(|| {
        let kv = LocalStorageKv;
        // The real entry is not seen, and what is written is read back.
        assert_eq!(kv.get("kept"), Ok(None));
        kv.set("kept", "changed").unwrap();
        kv.set("gone", "soon").unwrap();
        kv.remove("gone").unwrap();
        let session = service
            .create_session(CreateSession::new("confab", "rehearsal"))
            .unwrap();
        let read_back = service
            .get_session(
                "confab",
                "rehearsal",
                &session.id,
                GetSessionConfig::default(),
            )
            .unwrap();
        (kv.keys().unwrap(), read_back.id == session.id)
    });
    assert!(read_back);
    assert!(listed.contains(&"kept".to_owned()) && !listed.contains(&"gone".to_owned()));
    // After it: localStorage as before, and the rehearsal's keys gone.
    assert_eq!(storage.length().unwrap(), 1);
    assert_eq!(
        storage.get_item("kept").unwrap().as_deref(),
        Some("as it was")
    );
    let again = confab::platform::local_storage::rehearse(|| LocalStorageKv.keys().unwrap());
    assert!(again.is_empty());
}

/// The key list `LocalStorageKv` keeps within a task follows this tab's own
/// writes, and a change made past it (here: straight to localStorage) is
/// listed again.
#[wasm_bindgen_test]
fn the_kept_key_list_follows_own_writes_and_changes_made_past_it() {
    local_storage().clear().unwrap();
    let kv = LocalStorageKv;
    kv.set("confab:a", "1").unwrap();
    assert_eq!(kv.keys().unwrap(), ["confab:a"]);
    kv.set("confab:b", "2").unwrap();
    kv.remove("confab:a").unwrap();
    assert_eq!(kv.keys().unwrap(), ["confab:b"]);
    local_storage().set_item("confab:c", "3").unwrap();
    let mut listed = kv.keys().unwrap();
    listed.sort();
    assert_eq!(listed, ["confab:b", "confab:c"]);
    local_storage().clear().unwrap();
    assert!(kv.keys().unwrap().is_empty());
}

#[wasm_bindgen_test]
async fn a_read_ahead_answers_from_what_it_read_and_follows_every_write() {
    use confab::platform::local_storage::{ReadAheadEnd, forget_read_ahead, heard, read_ahead};
    local_storage().clear().unwrap();
    let kv = LocalStorageKv;
    let prefix = "confab:entry:a:u:";
    let key = |n: u32| format!("{prefix}{n}");
    kv.set(&key(1), "one").unwrap();
    kv.set(&key(2), "two").unwrap();
    kv.set("confab:other", "x").unwrap();

    let (listed, end) = read_ahead(vec![prefix.to_owned()]).await.unwrap();
    assert_eq!(end, ReadAheadEnd::Complete);
    assert_eq!(listed.len(), 3);
    // Changed past the adapter and unheard: the read-ahead still answers
    // what it read; a key it does not cover is read from localStorage.
    local_storage()
        .set_item(&key(1), "behind its back")
        .unwrap();
    local_storage().set_item("confab:other", "y").unwrap();
    assert_eq!(kv.get(&key(1)).unwrap().as_deref(), Some("one"));
    assert_eq!(kv.get("confab:other").unwrap().as_deref(), Some("y"));

    // Another tab's writes, heard.
    heard(Some(&key(1)), || Some("theirs".to_owned()));
    heard(Some(&key(2)), || None);
    heard(Some(&key(3)), || Some("new there".to_owned()));
    assert_eq!(kv.get(&key(1)).unwrap().as_deref(), Some("theirs"));
    assert_eq!(kv.get(&key(2)).unwrap(), None);
    // This tab's own, through the adapter: they reach localStorage too.
    kv.set(&key(4), "mine").unwrap();
    kv.remove(&key(3)).unwrap();
    assert_eq!(kv.keys_with_prefix(prefix).unwrap(), [key(1), key(4)]);
    assert_eq!(kv.get(&key(4)).unwrap().as_deref(), Some("mine"));
    assert_eq!(
        local_storage().get_item(&key(4)).unwrap().as_deref(),
        Some("mine")
    );

    // Forgotten: localStorage answers again.
    forget_read_ahead();
    assert_eq!(kv.get(&key(1)).unwrap().as_deref(), Some("behind its back"));
    assert_eq!(kv.get(&key(2)).unwrap().as_deref(), Some("two"));

    // A cleared store (heard without a key) ends a read-ahead at once.
    read_ahead(vec![prefix.to_owned()]).await.unwrap();
    heard(None, || None);
    assert_eq!(kv.get(&key(1)).unwrap().as_deref(), Some("behind its back"));
    local_storage().clear().unwrap();
}

/// A read-ahead of `prefix` started in the background, once it has listed
/// the keys (its first slice waits for a task of its own); the cell gets
/// how it ended.
async fn reading_ahead(
    prefix: &'static str,
) -> std::rc::Rc<std::cell::Cell<Option<confab::platform::local_storage::ReadAheadEnd>>> {
    let ended = std::rc::Rc::new(std::cell::Cell::new(None));
    let seen = ended.clone();
    wasm_bindgen_futures::spawn_local(async move {
        let read = confab::platform::local_storage::read_ahead(vec![prefix.to_owned()]).await;
        seen.set(Some(read.unwrap().1));
    });
    wasm_bindgen_futures::JsFuture::from(js_sys::Promise::resolve(&wasm_bindgen::JsValue::NULL))
        .await
        .unwrap();
    ended
}

#[wasm_bindgen_test]
async fn a_read_ahead_ends_when_another_starts_the_store_is_cleared_or_a_key_changes_while_it_reads()
 {
    use confab::platform::http::sleep;
    use confab::platform::local_storage::{ReadAheadEnd, forget_read_ahead, heard, read_ahead};
    local_storage().clear().unwrap();
    let prefix = "confab:status:a:u:";
    // More than one task's worth, so the first is still reading.
    for n in 0..1_200 {
        local_storage()
            .set_item(&format!("{prefix}{n:04}"), "{}")
            .unwrap();
    }
    let first = reading_ahead(prefix).await;
    let (_, second) = read_ahead(vec![prefix.to_owned()]).await.unwrap();
    assert_eq!(second, ReadAheadEnd::Complete);
    assert_eq!(first.get(), Some(ReadAheadEnd::Superseded));
    assert_eq!(
        LocalStorageKv.keys_with_prefix(prefix).unwrap().len(),
        1_200
    );
    forget_read_ahead();

    // Another tab cleared the store; a key it covers changed (this tab's
    // write, or another's heard): it is dropped, and reads go to
    // localStorage.
    let key = format!("{prefix}0007");
    for change in ["cleared", "own write", "heard"] {
        let ended = reading_ahead(prefix).await;
        match change {
            "cleared" => heard(None, || None),
            "own write" => LocalStorageKv.set(&key, "mine").unwrap(),
            _ => {
                local_storage().set_item(&key, "theirs").unwrap();
                heard(Some(&key), || Some("theirs".to_owned()));
            }
        }
        while ended.get().is_none() {
            sleep(5).await;
        }
        assert_eq!(ended.get(), Some(ReadAheadEnd::Dropped), "{change}");
    }
    assert_eq!(LocalStorageKv.get(&key).unwrap().as_deref(), Some("theirs"));
    forget_read_ahead();
    local_storage().clear().unwrap();
}
