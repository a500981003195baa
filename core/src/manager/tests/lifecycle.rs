//! The current session, new sessions, ending, expiry, retention.

use super::*;

#[test]
fn one_current_session_per_user_with_a_conversation_id() {
    let kv = MemoryKv::new();
    let clock = ManualClock::at(1_000.0);
    let mut m = manager(&kv, &clock, limits());
    let first = m.get_or_create_session("alice").unwrap();
    let again = m.get_or_create_session("alice").unwrap();
    assert_eq!(
        first.id, again.id,
        "the same session until a new one is asked for"
    );
    let bob = m.get_or_create_session("bob").unwrap();
    assert_ne!(bob.id, first.id, "users are isolated");

    let conversation_id = m.get_conversation_id("alice").unwrap().unwrap();
    assert!(conversation_id.starts_with("conv_"));
    let hex = &conversation_id[5..];
    assert_eq!(hex.len(), 12);
    assert!(
        hex.chars()
            .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase())
    );
    assert_eq!(
        first.state.get("conversation_id"),
        Some(&json!(conversation_id))
    );
    assert_ne!(
        m.get_conversation_id("bob").unwrap().unwrap(),
        conversation_id
    );
}

#[test]
fn create_new_session_starts_a_fresh_context_and_keeps_the_old_one() {
    let kv = MemoryKv::new();
    let clock = ManualClock::at(1_000.0);
    let mut m = manager(&kv, &clock, limits());
    let (first, _) = exchange(&mut m, &clock, "alice", "hello", "hi");
    let fresh = m.create_new_session("alice").unwrap();
    assert_ne!(fresh.id, first.session.id);
    assert!(fresh.events.is_empty());
    assert_eq!(
        m.current_session_id("alice").unwrap(),
        Some(fresh.id.clone())
    );
    assert_eq!(m.get_query_count("alice").unwrap(), 0);
    let listings = m.listings("alice").unwrap();
    assert_eq!(listings.len(), 2);
    assert!(
        listings.iter().all(|l| l.ended.is_none()),
        "both still active"
    );
    // Going back to the first makes it current again.
    assert!(m.switch_to("alice", &first.session.id).unwrap());
    assert_eq!(m.get_query_count("alice").unwrap(), 1);
}

#[test]
fn ending_with_feedback_closes_the_trace_and_the_next_message_starts_anew() {
    let kv = MemoryKv::new();
    let clock = ManualClock::at(1_000.0);
    let mut m = manager(&kv, &clock, limits());
    let (query, _) = exchange(&mut m, &clock, "alice", "plan a trip", "sure");
    m.take_finished_spans();
    let ended = m
        .end_conversation("alice", Satisfaction::Satisfied, " great help ")
        .unwrap();
    assert_eq!(ended.as_deref(), Some(query.session.id.as_str()));
    assert_eq!(m.current_session_id("alice").unwrap(), None);

    let conversation = m.conversation("alice", &query.session.id).unwrap();
    let ending = conversation.ended.clone().unwrap();
    assert_eq!(ending.reason, EndReason::Ended);
    assert_eq!(ending.satisfaction, Some(Satisfaction::Satisfied));
    assert_eq!(ending.comment, "great help");
    let root = &conversation.trace.root;
    assert_eq!(root.end, Some(clock.now()));
    assert_eq!(
        root.attr("confab.conversation.feedback"),
        Some(&AttrValue::from("satisfied"))
    );
    assert_eq!(
        root.attr("confab.conversation.end_reason"),
        Some(&AttrValue::from("ended"))
    );
    assert_eq!(
        root.attr("confab.conversation.total_queries"),
        Some(&AttrValue::Int(1))
    );
    let exported = m.take_finished_spans();
    assert_eq!(exported[0].span_id, root.span_id);

    assert!(
        !m.switch_to("alice", &query.session.id).unwrap(),
        "ended stays ended"
    );
    assert!(matches!(
        m.begin_call("alice", &query.session.id, None),
        Err(ManagerError::Ended)
    ));
    let next = m.begin_query("alice", "a new question").unwrap();
    assert_ne!(next.session.id, query.session.id);
    assert_eq!(next.number, 1);
    let listings = m.listings("alice").unwrap();
    let old = listings
        .iter()
        .find(|l| l.summary.id == query.session.id)
        .unwrap();
    assert_eq!(old.ended.as_ref().unwrap().reason, EndReason::Ended);
}

#[test]
fn an_idle_conversation_expires_and_the_next_message_starts_a_new_session() {
    let kv = MemoryKv::new();
    let clock = ManualClock::at(1_000.0);
    let mut m = manager(&kv, &clock, limits());
    let (first, _) = exchange(&mut m, &clock, "alice", "hello", "hi");
    clock.advance(HOUR - 10.0);
    assert!(
        m.expire_due("alice").unwrap().is_empty(),
        "not yet idle for an hour"
    );
    clock.advance(20.0);
    let next = m.begin_query("alice", "back again").unwrap();
    assert_ne!(next.session.id, first.session.id);
    let old = m.conversation("alice", &first.session.id).unwrap();
    assert_eq!(old.ended.as_ref().unwrap().reason, EndReason::Expired);
    assert_eq!(
        old.trace.root.attr("confab.conversation.end_reason"),
        Some(&AttrValue::from("expired"))
    );
    // It stays readable.
    let session = stored(&m, "alice", &first.session.id);
    assert_eq!(session.events.len(), 2);
}

#[test]
fn a_conversation_older_than_the_maximum_expires_even_when_busy() {
    let kv = MemoryKv::new();
    let clock = ManualClock::at(1_000.0);
    let mut m = manager(&kv, &clock, limits());
    let (first, _) = exchange(&mut m, &clock, "alice", "q0", "a0");
    for i in 1..30 {
        clock.advance(HOUR - 60.0);
        let (query, _) = exchange(&mut m, &clock, "alice", &format!("q{i}"), "a");
        if query.session.id != first.session.id {
            let old = m.conversation("alice", &first.session.id).unwrap();
            assert_eq!(old.ended.unwrap().reason, EndReason::Expired);
            assert!(clock.now() - 1_000.0 > 24.0 * HOUR);
            return;
        }
    }
    panic!("the conversation never reached its maximum duration");
}

#[test]
fn retention_deletes_old_ended_conversations_only_when_chosen() {
    let kv = MemoryKv::new();
    let clock = ManualClock::at(1_000.0);
    let mut m = manager(&kv, &clock, limits());
    let (ended, _) = exchange(&mut m, &clock, "alice", "old", "a");
    m.end_conversation("alice", Satisfaction::NotSatisfied, "")
        .unwrap();
    let (active, _) = exchange(&mut m, &clock, "alice", "current", "a");
    clock.advance(40.0 * 24.0 * HOUR);
    assert!(
        m.apply_retention("alice").unwrap().is_empty(),
        "no limit chosen: keep all"
    );
    assert_eq!(m.listings("alice").unwrap().len(), 2);

    m.set_limits(Limits {
        retention: Some(30.0 * 24.0 * HOUR),
        idle: 1e12,
        max_duration: 1e12,
    });
    assert_eq!(
        m.apply_retention("alice").unwrap(),
        vec![ended.session.id.clone()]
    );
    let left: Vec<String> = m
        .listings("alice")
        .unwrap()
        .into_iter()
        .map(|l| l.summary.id)
        .collect();
    assert_eq!(
        left,
        vec![active.session.id.clone()],
        "active conversations are never deleted"
    );
    assert!(
        kv.get(&keys::conversation("confab", "alice", &ended.session.id))
            .unwrap()
            .is_none()
    );
}

#[test]
fn clear_session_forgets_the_current_one_without_deleting() {
    let kv = MemoryKv::new();
    let clock = ManualClock::at(1_000.0);
    let mut m = manager(&kv, &clock, limits());
    let (first, _) = exchange(&mut m, &clock, "alice", "hello", "hi");
    m.clear_session("alice").unwrap();
    assert_eq!(m.current_session_id("alice").unwrap(), None);
    let next = m.begin_query("alice", "again").unwrap();
    assert_ne!(next.session.id, first.session.id);
    assert_eq!(m.listings("alice").unwrap().len(), 2);
}
