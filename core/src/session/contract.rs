//! The session service contract, written once and run against every backend
//! (ADK tests its services the same way). Each check takes a fresh, empty
//! service and panics with a message on failure.
//!
//! Host tests run it on the in-memory service and on the key-value service;
//! the browser tests run it on the key-value service over real localStorage:
//!
//! ```ignore
//! confab_core::session_contract_tests!(#[test], || make_empty_service());
//! ```

use serde_json::json;

use super::{CreateSession, Event, GetSessionConfig, SessionError, SessionService, State};

const APP: &str = "contract-app";

fn create<S: SessionService>(service: &mut S, user: &str) -> super::Session {
    service
        .create_session(CreateSession::new(APP, user))
        .expect("create_session")
}

fn text_event(session: &super::Session, author: &str, text: &str, dt: f64) -> Event {
    Event::text(author, "inv", session.last_update_time + dt, text)
}

pub fn create_assigns_a_uuid_v4<S: SessionService>(mut service: S) {
    let session = create(&mut service, "alice");
    let id = uuid::Uuid::parse_str(&session.id).expect("the id is a UUID");
    assert_eq!(id.get_version_num(), 4, "the id is a version 4 UUID");
    assert_eq!(session.app_name, APP);
    assert_eq!(session.user_id, "alice");
    assert!(session.events.is_empty() && session.state.is_empty());
    let other = create(&mut service, "alice");
    assert_ne!(session.id, other.id, "every session gets its own id");
}

pub fn create_with_an_id_and_state_then_refuse_a_duplicate<S: SessionService>(mut service: S) {
    let state: State = [("topic".to_owned(), json!("paris"))].into();
    let session = service
        .create_session(CreateSession {
            state: Some(state.clone()),
            session_id: Some("chosen-id".into()),
            ..CreateSession::new(APP, "alice")
        })
        .unwrap();
    assert_eq!(session.id, "chosen-id");
    assert_eq!(session.state, state);
    let fetched = service
        .get_session(APP, "alice", "chosen-id", GetSessionConfig::default())
        .unwrap();
    assert_eq!(fetched.state, state);
    let duplicate = service.create_session(CreateSession {
        session_id: Some("chosen-id".into()),
        ..CreateSession::new(APP, "alice")
    });
    assert_eq!(
        duplicate,
        Err(SessionError::AlreadyExists("chosen-id".into()))
    );
}

pub fn an_unknown_id_is_not_found<S: SessionService>(service: S) {
    let result = service.get_session(APP, "alice", "never-created", GetSessionConfig::default());
    assert!(
        matches!(result, Err(SessionError::NotFound { ref session_id, .. }) if session_id == "never-created"),
        "expected NotFound, got {result:?}"
    );
}

pub fn sessions_are_isolated_by_user_and_app<S: SessionService>(mut service: S) {
    let session = create(&mut service, "alice");
    for (app, user) in [(APP, "bob"), ("other-app", "alice")] {
        let result = service.get_session(app, user, &session.id, GetSessionConfig::default());
        assert!(
            matches!(result, Err(SessionError::NotFound { .. })),
            "{app}/{user} must not see alice's session, got {result:?}"
        );
        assert!(service.list_sessions(app, user).unwrap().is_empty());
    }
}

pub fn list_returns_the_users_sessions_newest_first_without_events<S: SessionService>(
    mut service: S,
) {
    let mut first = create(&mut service, "alice");
    let second = create(&mut service, "alice");
    create(&mut service, "bob");
    let event = text_event(&second, "user", "hello", 10.0);
    service.append_event(&mut first, event).unwrap();
    let list = service.list_sessions(APP, "alice").unwrap();
    let ids: Vec<&str> = list.iter().map(|s| s.id.as_str()).collect();
    assert_eq!(ids, [first.id.as_str(), second.id.as_str()]);
    assert_eq!(list[0].title.as_deref(), Some("hello"));
    assert_eq!(list[0].event_count, 1);
    assert_eq!(list[1].title, None);
}

pub fn delete_removes_a_session<S: SessionService>(mut service: S) {
    let kept = create(&mut service, "alice");
    let gone = create(&mut service, "alice");
    service.delete_session(APP, "alice", &gone.id).unwrap();
    assert!(matches!(
        service.get_session(APP, "alice", &gone.id, GetSessionConfig::default()),
        Err(SessionError::NotFound { .. })
    ));
    let ids: Vec<String> = service
        .list_sessions(APP, "alice")
        .unwrap()
        .into_iter()
        .map(|s| s.id)
        .collect();
    assert_eq!(ids, [kept.id]);
    assert!(matches!(
        service.delete_session(APP, "alice", &gone.id),
        Err(SessionError::NotFound { .. })
    ));
}

pub fn append_persists_events_and_state<S: SessionService>(mut service: S) {
    let mut session = create(&mut service, "alice");
    let created_at = session.last_update_time;
    let mut event = text_event(&session, "user", "plan a trip", 1.0);
    event
        .actions
        .state_delta
        .insert("destination".into(), json!("Paris"));
    let appended = service.append_event(&mut session, event.clone()).unwrap();
    assert_eq!(appended.id, event.id);
    let reply = text_event(&session, "confab-echo", "sure", 1.0);
    service.append_event(&mut session, reply).unwrap();
    assert!(session.last_update_time > created_at, "time advances");

    let stored = service
        .get_session(APP, "alice", &session.id, GetSessionConfig::default())
        .unwrap();
    assert_eq!(
        stored, session,
        "the stored session equals the caller's copy"
    );
    let texts: Vec<String> = stored.events.iter().map(Event::text_content).collect();
    assert_eq!(texts, ["plan a trip", "sure"]);
    assert_eq!(stored.state.get("destination"), Some(&json!("Paris")));
}

pub fn partial_events_and_temp_state_are_not_persisted<S: SessionService>(mut service: S) {
    let mut session = create(&mut service, "alice");
    let mut partial = text_event(&session, "model", "hal", 1.0);
    partial.partial = true;
    service.append_event(&mut session, partial).unwrap();
    let mut event = text_event(&session, "user", "hi", 1.0);
    event
        .actions
        .state_delta
        .insert("temp:scratch".into(), json!(1));
    event.actions.state_delta.insert("kept".into(), json!(2));
    service.append_event(&mut session, event).unwrap();

    let stored = service
        .get_session(APP, "alice", &session.id, GetSessionConfig::default())
        .unwrap();
    assert_eq!(stored.events.len(), 1, "the partial event is not stored");
    assert_eq!(stored.events[0].text_content(), "hi");
    assert!(!stored.state.contains_key("temp:scratch"));
    assert!(
        !stored.events[0]
            .actions
            .state_delta
            .contains_key("temp:scratch")
    );
    assert_eq!(stored.state.get("kept"), Some(&json!(2)));
}

pub fn appending_through_a_stale_copy_is_refused<S: SessionService>(mut service: S) {
    let mut current = create(&mut service, "alice");
    let mut stale = current.clone();
    let event = text_event(&current, "user", "first", 1.0);
    service.append_event(&mut current, event).unwrap();
    let late = text_event(&stale, "user", "from an old tab", 0.5);
    let result = service.append_event(&mut stale, late);
    assert!(
        matches!(result, Err(SessionError::Stale { .. })),
        "expected Stale, got {result:?}"
    );
    let stored = service
        .get_session(APP, "alice", &current.id, GetSessionConfig::default())
        .unwrap();
    assert_eq!(stored.events.len(), 1, "nothing was overwritten");
    assert_eq!(stored.events[0].text_content(), "first");
}

pub fn appending_to_a_session_never_created_is_not_found<S: SessionService>(mut service: S) {
    let mut ghost = super::Session {
        id: "streamlit_session".into(),
        app_name: APP.into(),
        user_id: "alice".into(),
        state: State::new(),
        events: Vec::new(),
        last_update_time: 0.0,
    };
    let event = Event::text("user", "inv", 1.0, "hi");
    let result = service.append_event(&mut ghost, event);
    assert!(
        matches!(result, Err(SessionError::NotFound { .. })),
        "expected NotFound (the seed's 'Session not found'), got {result:?}"
    );
}

pub fn get_can_trim_events<S: SessionService>(mut service: S) {
    let mut session = create(&mut service, "alice");
    let base = session.last_update_time;
    for (i, text) in ["a", "b", "c", "d"].iter().enumerate() {
        let event = Event::text("user", "inv", base + 1.0 + i as f64, text);
        service.append_event(&mut session, event).unwrap();
    }
    let texts = |config| -> Vec<String> {
        service
            .get_session(APP, "alice", &session.id, config)
            .unwrap()
            .events
            .iter()
            .map(Event::text_content)
            .collect()
    };
    let recent = GetSessionConfig {
        num_recent_events: Some(2),
        ..Default::default()
    };
    assert_eq!(texts(recent), ["c", "d"]);
    let after = GetSessionConfig {
        after_timestamp: Some(base + 2.0),
        ..Default::default()
    };
    assert_eq!(texts(after), ["b", "c", "d"]);
    let none = GetSessionConfig {
        num_recent_events: Some(0),
        ..Default::default()
    };
    assert!(texts(none).is_empty());
}

fn get<S: SessionService>(service: &S, user: &str, id: &str) -> super::Session {
    service
        .get_session(APP, user, id, GetSessionConfig::default())
        .expect("get_session")
}

fn with_delta(mut event: Event, delta: &[(&str, serde_json::Value)]) -> Event {
    for (key, value) in delta {
        event
            .actions
            .state_delta
            .insert((*key).to_owned(), value.clone());
    }
    event
}

pub fn app_state_is_shared_by_every_user_of_the_app<S: SessionService>(mut service: S) {
    let mut alice = create(&mut service, "alice");
    let bob_before = create(&mut service, "bob");
    let event = with_delta(
        text_event(&alice, "user", "hi", 1.0),
        &[("app:greeting", json!("hello"))],
    );
    service.append_event(&mut alice, event).unwrap();
    assert_eq!(alice.state.get("app:greeting"), Some(&json!("hello")));
    // Every user of the app sees it, in old and new sessions alike.
    assert_eq!(
        get(&service, "bob", &bob_before.id)
            .state
            .get("app:greeting"),
        Some(&json!("hello"))
    );
    let bob_new = create(&mut service, "bob");
    assert_eq!(bob_new.state.get("app:greeting"), Some(&json!("hello")));
    // Another app does not.
    let other = service
        .create_session(CreateSession::new("other-app", "alice"))
        .unwrap();
    assert!(other.state.is_empty(), "{:?}", other.state);
}

pub fn user_state_is_shared_by_that_users_sessions_only<S: SessionService>(mut service: S) {
    let mut first = create(&mut service, "alice");
    let second = create(&mut service, "alice");
    let bob = create(&mut service, "bob");
    let event = with_delta(
        text_event(&first, "user", "call me Ada", 1.0),
        &[("user:name", json!("Ada")), ("draft", json!("paris"))],
    );
    service.append_event(&mut first, event).unwrap();
    let second = get(&service, "alice", &second.id);
    assert_eq!(second.state.get("user:name"), Some(&json!("Ada")));
    assert_eq!(
        second.state.get("draft"),
        None,
        "session keys stay in their session"
    );
    assert_eq!(
        create(&mut service, "alice").state.get("user:name"),
        Some(&json!("Ada"))
    );
    let bob = get(&service, "bob", &bob.id);
    assert!(
        bob.state.is_empty(),
        "bob sees nothing of alice: {:?}",
        bob.state
    );
    let first = get(&service, "alice", &first.id);
    assert_eq!(first.state.get("draft"), Some(&json!("paris")));
}

pub fn initial_state_is_split_by_scope<S: SessionService>(mut service: S) {
    let state: State = [
        ("app:plan", json!("free")),
        ("user:lang", json!("fr")),
        ("temp:once", json!(true)),
        ("topic", json!("wine")),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect();
    let created = service
        .create_session(CreateSession {
            state: Some(state),
            ..CreateSession::new(APP, "alice")
        })
        .unwrap();
    assert_eq!(created.state.get("topic"), Some(&json!("wine")));
    assert!(!created.state.contains_key("temp:once"));
    let sibling = create(&mut service, "alice");
    assert_eq!(sibling.state.get("user:lang"), Some(&json!("fr")));
    assert_eq!(sibling.state.get("app:plan"), Some(&json!("free")));
    assert_eq!(sibling.state.get("topic"), None);
    assert_eq!(create(&mut service, "bob").state.get("user:lang"), None);
}

pub fn later_values_replace_earlier_ones_in_each_scope<S: SessionService>(mut service: S) {
    let mut session = create(&mut service, "alice");
    for (i, value) in ["one", "two"].iter().enumerate() {
        let event = with_delta(
            text_event(&session, "user", value, 1.0 + i as f64),
            &[
                ("app:k", json!(value)),
                ("user:k", json!(value)),
                ("k", json!(value)),
            ],
        );
        service.append_event(&mut session, event).unwrap();
    }
    let stored = get(&service, "alice", &session.id);
    for key in ["app:k", "user:k", "k"] {
        assert_eq!(stored.state.get(key), Some(&json!("two")), "{key}");
    }
    assert_eq!(stored.state, session.state);
}

/// Expands to one test per contract check, for a backend made by `$make`
/// (an expression evaluated afresh for every test). `$attr` is the test
/// attribute: `#[test]` on the host, `#[wasm_bindgen_test]` in the browser.
#[macro_export]
macro_rules! session_contract_tests {
    (#[$attr:meta], $make:expr) => {
        $crate::session_contract_tests!(@each #[$attr], $make,
            create_assigns_a_uuid_v4,
            create_with_an_id_and_state_then_refuse_a_duplicate,
            an_unknown_id_is_not_found,
            sessions_are_isolated_by_user_and_app,
            list_returns_the_users_sessions_newest_first_without_events,
            delete_removes_a_session,
            append_persists_events_and_state,
            partial_events_and_temp_state_are_not_persisted,
            appending_through_a_stale_copy_is_refused,
            appending_to_a_session_never_created_is_not_found,
            get_can_trim_events,
            app_state_is_shared_by_every_user_of_the_app,
            user_state_is_shared_by_that_users_sessions_only,
            initial_state_is_split_by_scope,
            later_values_replace_earlier_ones_in_each_scope
        );
    };
    (@each #[$attr:meta], $make:expr, $($name:ident),+) => {
        $(
            #[$attr]
            fn $name() {
                $crate::session::contract::$name($make);
            }
        )+
    };
}
