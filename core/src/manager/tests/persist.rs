//! Records across restarts, adoption, unreadable records, all-or-nothing writes.

use super::*;

#[test]
fn everything_survives_a_restart() {
    let kv = MemoryKv::new();
    let clock = ManualClock::at(1_000.0);
    let (query, conversation_id) = {
        let mut m = manager(&kv, &clock, limits());
        let (query, _) = exchange(&mut m, &clock, "alice", "remember me", "ok");
        (query, m.get_conversation_id("alice").unwrap().unwrap())
    };
    let mut m = manager(&kv, &clock, limits());
    assert_eq!(
        m.current_session_id("alice").unwrap(),
        Some(query.session.id.clone())
    );
    assert_eq!(
        m.get_conversation_id("alice").unwrap(),
        Some(conversation_id)
    );
    assert_eq!(m.get_query_count("alice").unwrap(), 1);
    let next = m.begin_query("alice", "still there?").unwrap();
    assert_eq!(next.session.id, query.session.id);
    assert_eq!(next.number, 2);
}

#[test]
fn a_session_made_before_records_existed_is_adopted() {
    let kv = MemoryKv::new();
    let clock = ManualClock::at(1_000.0);
    let mut service = KvSessionService::new(&kv, clock.clone());
    let mut session = service
        .create_session(CreateSession::new("confab", "local"))
        .unwrap();
    service
        .append_event(
            &mut session,
            Event::text("user", "i", 1_001.0, "old question"),
        )
        .unwrap();
    let mut m = manager(&kv, &clock, limits());
    let conversation = m.conversation("local", &session.id).unwrap();
    assert!(conversation.conversation_id.starts_with("conv_"));
    assert_eq!(conversation.query_count(), 1);
    assert_eq!(
        m.listings("local").unwrap()[0].conversation_id,
        conversation.conversation_id
    );
}

#[test]
fn the_manager_works_over_the_in_memory_service_too() {
    let kv = MemoryKv::new();
    let clock = ManualClock::at(1_000.0);
    let mut m = SessionManager::new(
        InMemorySessionService::new(clock.clone()),
        &kv,
        clock.clone(),
        "confab",
        limits(),
    );
    let first = m.begin_query("alice", "hi").unwrap();
    let again = m.get_or_create_session("alice").unwrap();
    assert_eq!(first.session.id, again.id);
    assert_eq!(m.get_query_count("alice").unwrap(), 1);
}

#[test]
fn a_full_store_halfway_through_leaves_nothing_half_written() {
    use crate::storage::Journaled;
    let memory = MemoryKv::new();
    let kv = Journaled::new(&memory);
    let clock = ManualClock::at(1_000.0);
    let mut m = SessionManager::new(
        KvSessionService::new(kv.clone(), clock.clone()),
        kv.clone(),
        clock.clone(),
        "confab",
        limits(),
    );
    let (first, _) = {
        let query = m.begin_query("alice", "hello").unwrap();
        let call = m.begin_call("alice", &query.session.id, None).unwrap();
        let event = m
            .finish_call(
                "alice",
                &call,
                CallResult {
                    agent_events: Vec::new(),
                    text: "hi".into(),
                    status: MessageStatus::Complete,
                    ..CallResult::default()
                },
            )
            .unwrap();
        (query, event)
    };
    m.take_finished_spans();
    let before = snapshot(&memory);
    // The user's message fits; its query span and log then do not.
    let big = crate::storage::packed::incompressible(15_000);
    // The message's packed size plus the event around it; the query log
    // and span then need a few hundred units more.
    let room = crate::storage::packed::packed_units(&big) + 250;
    memory.set_quota(Some(memory.used_units() + room));
    let result = m.begin_query("alice", &big).map(|q| q.number);
    assert!(
        matches!(
            result,
            Err(ManagerError::Session(SessionError::Storage(
                crate::storage::KvError::QuotaExceeded { .. }
            )))
        ),
        "{result:?}"
    );
    let after = snapshot(&memory);
    assert_eq!(after, before, "every key is as it was");
    assert!(m.take_finished_spans().is_empty());
    assert_eq!(m.get_query_count("alice").unwrap(), 1);
    let session = stored(&m, "alice", &first.session.id);
    assert_eq!(session.events.len(), 2);
}

#[test]
fn unreadable_manager_records_are_moved_aside_and_rebuilt() {
    let kv = MemoryKv::new();
    let clock = ManualClock::at(1_000.0);
    let mut m = manager(&kv, &clock, limits());
    let (query, _) = exchange(&mut m, &clock, "alice", "keep me", "ok");
    kv.set(
        &keys::conversation("confab", "alice", &query.session.id),
        "{{{",
    )
    .unwrap();
    kv.set(&keys::user_record("confab", "alice"), "nope")
        .unwrap();

    let listings = m.listings("alice").unwrap();
    assert_eq!(listings.len(), 1, "the session is still listed");
    let conversation = m.conversation("alice", &query.session.id).unwrap();
    assert!(conversation.conversation_id.starts_with("conv_"));
    assert_eq!(
        conversation.query_count(),
        1,
        "rebuilt from the session's events"
    );
    let reports = m.take_quarantined();
    let keys_moved: Vec<&str> = reports.iter().map(|r| r.key.as_str()).collect();
    assert!(keys_moved.contains(&keys::user_record("confab", "alice").as_str()));
    assert!(
        keys_moved.contains(&keys::conversation("confab", "alice", &query.session.id).as_str())
    );
    assert!(reports.iter().all(|r| r.moved_to.is_some()));
    // And chatting goes on.
    m.switch_to("alice", &query.session.id).unwrap();
    let next = m.begin_query("alice", "still here?").unwrap();
    assert_eq!(next.session.id, query.session.id);
}
