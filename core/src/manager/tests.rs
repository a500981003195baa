use serde_json::json;

use super::*;
use crate::clock::ManualClock;
use crate::session::{InMemorySessionService, KvSessionService};
use crate::storage::MemoryKv;
use crate::telemetry::AttrValue;

const HOUR: f64 = 3_600.0;
pub(crate) type Manager<'a> =
    SessionManager<KvSessionService<&'a MemoryKv, ManualClock>, &'a MemoryKv, ManualClock>;

pub(crate) fn manager<'a>(kv: &'a MemoryKv, clock: &ManualClock, limits: Limits) -> Manager<'a> {
    SessionManager::new(
        KvSessionService::new(kv, clock.clone()),
        kv,
        clock.clone(),
        "confab",
        limits,
    )
}

/// The stored session `id` of `user`, read back through the service.
fn stored<S: SessionService, K: KvStore, C: Clock>(
    m: &SessionManager<S, K, C>,
    user: &str,
    id: &str,
) -> Session {
    m.service()
        .get_session("confab", user, id, GetSessionConfig::default())
        .unwrap()
}

pub(crate) fn limits() -> Limits {
    Limits {
        idle: HOUR,
        max_duration: 24.0 * HOUR,
        retention: None,
    }
}

/// A full exchange: the user's query and a complete reply.
pub(crate) fn exchange(
    m: &mut Manager,
    clock: &ManualClock,
    user: &str,
    text: &str,
    reply: &str,
) -> (QueryStart, Event) {
    let query = m.begin_query(user, text).unwrap();
    clock.advance(0.5);
    let call = m.begin_call(user, &query.session.id, None).unwrap();
    clock.advance(0.2);
    let first_token_at = clock.now();
    clock.advance(1.0);
    let event = m
        .finish_call(
            user,
            &call,
            CallResult {
                agent_events: Vec::new(),
                event_id: new_id(),
                text: reply.into(),
                status: MessageStatus::Complete,
                response_model: Some("confab-echo".into()),
                first_token_at: Some(first_token_at),
                usage: Some(TokenUsage {
                    input: 7,
                    output: 5,
                }),
                finish_reason: Some("stop".into()),
                ..CallResult::default()
            },
        )
        .unwrap();
    (query, event)
}

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
fn queries_are_logged_counted_and_traced() {
    let kv = MemoryKv::new();
    let clock = ManualClock::at(1_000.0);
    let mut m = manager(&kv, &clock, limits());
    let long_query = "q".repeat(300);
    let long_reply = "r".repeat(800);
    let (query, event) = exchange(&mut m, &clock, "alice", &long_query, &long_reply);
    assert_eq!(query.number, 1);
    assert_eq!(event.author, "confab-echo");
    assert_eq!(
        event.text_content(),
        long_reply,
        "the event keeps the whole reply"
    );

    let conversation = m.conversation("alice", &query.session.id).unwrap();
    assert_eq!(conversation.query_count(), 1);
    assert_eq!(m.get_query_count("alice").unwrap(), 1);
    let log = &conversation.queries[0];
    assert_eq!(log.query.chars().count(), QUERY_LOG_CHARS);
    assert_eq!(log.response.chars().count(), RESPONSE_LOG_CHARS);

    let trace = &conversation.trace;
    assert_eq!(trace.root.name, "conversation");
    assert_eq!(
        trace.root.attr(attr::CONVERSATION_ID),
        Some(&AttrValue::Str(conversation.conversation_id.clone()))
    );
    assert_eq!(
        trace.root.attr(attr::SESSION_ID),
        Some(&AttrValue::from(query.session.id.as_str()))
    );
    assert_eq!(
        trace.root.attr(attr::USER_ID),
        Some(&AttrValue::from("alice"))
    );
    let span = trace.span(&query.query_span_id).unwrap();
    assert_eq!(span.name, "user_query_1");
    assert_eq!(
        span.parent_span_id.as_deref(),
        Some(trace.root.span_id.as_str())
    );
    assert_eq!(span.attr("confab.query.number"), Some(&AttrValue::Int(1)));
    assert!(span.end.is_some() && span.status == SpanStatus::Ok);
    assert_eq!(
        span.attr("confab.time_to_first_token_ms"),
        Some(&AttrValue::Int(200))
    );
    let calls = trace.children(&span.span_id);
    assert_eq!(calls.len(), 1);
    let call = calls[0];
    assert_eq!(call.name, "chat confab-echo");
    assert_eq!(call.kind, SpanKind::Client);
    assert_eq!(call.attr(attr::OPERATION), Some(&AttrValue::from("chat")));
    assert_eq!(call.attr(attr::INPUT_TOKENS), Some(&AttrValue::Int(7)));
    assert_eq!(call.attr(attr::OUTPUT_TOKENS), Some(&AttrValue::Int(5)));
    assert_eq!(
        call.attr(attr::RESPONSE_MODEL),
        Some(&AttrValue::from("confab-echo"))
    );
    assert!((call.duration(0.0) - 1.2).abs() < 1e-9);

    let exported = m.take_finished_spans();
    let names: Vec<&str> = exported.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["user_query_1", "chat confab-echo"]);
    assert!(m.take_finished_spans().is_empty(), "handed out once");
}

#[test]
fn a_retry_is_a_second_model_call_under_the_same_query() {
    let kv = MemoryKv::new();
    let clock = ManualClock::at(1_000.0);
    let mut m = manager(&kv, &clock, limits());
    let query = m.begin_query("alice", "hello").unwrap();
    let session_id = query.session.id.clone();
    let call = m.begin_call("alice", &session_id, Some("gpt-x")).unwrap();
    clock.advance(1.0);
    m.finish_call(
        "alice",
        &call,
        CallResult {
            agent_events: Vec::new(),
            event_id: new_id(),
            status: MessageStatus::Error,
            error: Some(("http_500".into(), "The model server had a problem".into())),
            ..CallResult::default()
        },
    )
    .unwrap();
    let failed = m.conversation("alice", &session_id).unwrap();
    assert_eq!(failed.queries[0].response, "No response");
    let span = failed.trace.span(&query.query_span_id).unwrap();
    assert!(matches!(span.status, SpanStatus::Error(_)));

    let retry = m.begin_call("alice", &session_id, Some("gpt-x")).unwrap();
    assert_eq!(retry.attempt, 2);
    assert_eq!(retry.query_span_id, query.query_span_id);
    assert_eq!(retry.invocation_id, call.invocation_id);
    clock.advance(1.0);
    m.finish_call(
        "alice",
        &retry,
        CallResult {
            agent_events: Vec::new(),
            event_id: new_id(),
            text: "hi there".into(),
            status: MessageStatus::Complete,
            ..CallResult::default()
        },
    )
    .unwrap();
    let conversation = m.conversation("alice", &session_id).unwrap();
    assert_eq!(conversation.query_count(), 1, "a retry is not a new query");
    assert_eq!(conversation.queries[0].response, "hi there");
    let calls = conversation.trace.children(&query.query_span_id);
    assert_eq!(calls.len(), 2);
    assert_eq!(calls[1].attr("confab.retry"), Some(&AttrValue::Bool(true)));
    assert_eq!(
        calls[0].attr(attr::ERROR_TYPE),
        Some(&AttrValue::from("http_500"))
    );
    assert_eq!(
        conversation
            .trace
            .span(&query.query_span_id)
            .unwrap()
            .status,
        SpanStatus::Ok
    );
    let session = stored(&m, "alice", &session_id);
    assert_eq!(
        session.events.len(),
        3,
        "query, failed reply, retried reply"
    );
    assert_eq!(session.events[1].error_code.as_deref(), Some("http_500"));
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

#[test]
fn reply_ratings_are_feedback_spans_under_their_query() {
    let kv = MemoryKv::new();
    let clock = ManualClock::at(1_000.0);
    let mut m = manager(&kv, &clock, limits());
    let (query, reply) = exchange(&mut m, &clock, "alice", "hello", "hi");
    m.take_finished_spans();
    m.rate_reply(
        "alice",
        &query.session.id,
        &reply.id,
        Rating::Down,
        " too short ",
    )
    .unwrap();
    let conversation = m.conversation("alice", &query.session.id).unwrap();
    let feedback = conversation.feedback_for(&reply.id).unwrap();
    assert_eq!(feedback.rating, Rating::Down);
    assert_eq!(feedback.comment, "too short");
    let span = conversation
        .trace
        .spans
        .iter()
        .find(|s| s.name == "feedback")
        .unwrap();
    assert_eq!(
        span.parent_span_id.as_deref(),
        Some(query.query_span_id.as_str())
    );
    assert_eq!(
        span.attr("confab.feedback.rating"),
        Some(&AttrValue::from("down"))
    );
    assert_eq!(m.take_finished_spans().len(), 1);
    let user_event = &stored(&m, "alice", &query.session.id).events[0];
    assert!(matches!(
        m.rate_reply("alice", &query.session.id, &user_event.id, Rating::Up, ""),
        Err(ManagerError::UnknownReply(_))
    ));
}

#[test]
fn state_lands_in_its_scope() {
    let kv = MemoryKv::new();
    let clock = ManualClock::at(1_000.0);
    let mut m = manager(&kv, &clock, limits());
    exchange(&mut m, &clock, "alice", "one", "a");
    exchange(&mut m, &clock, "alice", "two", "b");
    m.create_new_session("alice").unwrap();
    let (third, _) = exchange(&mut m, &clock, "alice", "three", "c");
    let state = stored(&m, "alice", &third.session.id).state;
    assert_eq!(state.get("query_count"), Some(&json!(1)), "per session");
    assert_eq!(
        state.get("user:query_total"),
        Some(&json!(3)),
        "across the user's sessions"
    );
    assert_eq!(state.get("app:last_model"), Some(&json!("confab-echo")));
    let bob = m.get_or_create_session("bob").unwrap();
    assert_eq!(
        bob.state.get("user:query_total"),
        None,
        "another user's state is invisible"
    );
    assert_eq!(
        bob.state.get("app:last_model"),
        Some(&json!("confab-echo")),
        "app state is shared"
    );
}

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
    let before: Vec<(String, Option<String>)> = memory
        .keys()
        .unwrap()
        .into_iter()
        .map(|k| {
            let v = memory.get(&k).unwrap();
            (k, v)
        })
        .collect();
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
    let after: Vec<(String, Option<String>)> = memory
        .keys()
        .unwrap()
        .into_iter()
        .map(|k| {
            let v = memory.get(&k).unwrap();
            (k, v)
        })
        .collect();
    assert_eq!(after, before, "every key is as it was");
    assert!(m.take_finished_spans().is_empty());
    assert_eq!(m.get_query_count("alice").unwrap(), 1);
    let session = stored(&m, "alice", &first.session.id);
    assert_eq!(session.events.len(), 2);
}

/// A conversation with a reply left half-written by a tab that died:
/// returns the session id, the reply's event id and its draft key.
fn cut_off_reply(m: &mut Manager, clock: &ManualClock, text: &str) -> (String, String, String) {
    let query = m.begin_query("alice", "tell me a story").unwrap();
    let call = m.begin_call("alice", &query.session.id, None).unwrap();
    let event_id = new_id();
    m.save_draft("alice", &call, &event_id, "", None).unwrap();
    clock.advance(0.25);
    let key = m
        .save_draft("alice", &call, &event_id, text, Some("confab-echo"))
        .unwrap();
    (query.session.id, event_id, key)
}

/// The drafts left of `alice` in `kv`.
fn draft_keys(kv: &MemoryKv) -> Vec<String> {
    kv.keys()
        .unwrap()
        .into_iter()
        .filter(|k| k.starts_with("confab:draft:"))
        .collect()
}

#[test]
fn a_reply_left_streaming_by_a_dead_tab_is_saved_as_interrupted_at_once() {
    let kv = MemoryKv::new();
    let clock = ManualClock::at(1_000.0);
    let (session_id, event_id, key) = {
        let mut m = manager(&kv, &clock, limits());
        cut_off_reply(&mut m, &clock, "Once upon a time")
        // The tab dies here: no finish_call.
    };
    assert_eq!(key, keys::draft("confab", "alice", &session_id, &event_id));
    let mut m = manager(&kv, &clock, limits());
    // A millisecond later: no lock held, so its writer is gone. No age
    // threshold stands in the way.
    clock.advance(0.001);
    let found = m.drafts_among("alice", &kv.keys().unwrap()).unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].key, key);
    assert_eq!(found[0].draft.text, "Once upon a time");
    assert_eq!(
        m.settle_draft("alice", &key, Writer::Gone).unwrap(),
        Settled::Recovered {
            session_id: session_id.clone()
        }
    );
    assert_eq!(kv.get(&key).unwrap(), None);
    let session = stored(&m, "alice", &session_id);
    let reply = session.events.last().unwrap();
    assert_eq!(reply.id, event_id);
    assert_eq!(reply.author, "confab-echo");
    assert_eq!(reply.status, MessageStatus::Interrupted);
    assert_eq!(reply.text_content(), "Once upon a time");
    assert_eq!(reply.error_code.as_deref(), Some(DRAFT_INTERRUPTED_CODE));
    assert_eq!(reply.error_message.as_deref(), Some(DRAFT_INTERRUPTED));
    let conversation = m.conversation("alice", &session_id).unwrap();
    assert_eq!(conversation.queries[0].response, "Once upon a time");
    let query = conversation
        .trace
        .spans
        .iter()
        .find(|s| s.name == "user_query_1")
        .unwrap();
    assert!(query.end.is_some() && matches!(query.status, SpanStatus::Error(_)));
    // Retry works on it like on any failed reply.
    let retry = m.begin_call("alice", &session_id, None).unwrap();
    assert_eq!(retry.attempt, 2);
}

#[test]
fn a_draft_whose_writer_is_alive_is_left_however_old() {
    let kv = MemoryKv::new();
    let clock = ManualClock::at(1_000.0);
    let mut m = manager(&kv, &clock, limits());
    let (session_id, _, key) = cut_off_reply(&mut m, &clock, "still coming");
    // A model thinking for an hour: its tab holds the lock all along.
    clock.advance(HOUR);
    let Settled::Left(draft) = m.settle_draft("alice", &key, Writer::Alive).unwrap() else {
        panic!("a live writer's draft must be left");
    };
    assert_eq!(draft.text, "still coming");
    assert!(kv.get(&key).unwrap().is_some());
    assert_eq!(stored(&m, "alice", &session_id).events.len(), 1);
}

#[test]
fn without_locks_the_age_decides() {
    let kv = MemoryKv::new();
    let clock = ManualClock::at(1_000.0);
    let mut m = manager(&kv, &clock, limits());
    let (session_id, _, key) = cut_off_reply(&mut m, &clock, "Once");
    clock.advance(DRAFT_ABANDONED_AFTER - 1.0);
    assert!(matches!(
        m.settle_draft("alice", &key, Writer::Unknown).unwrap(),
        Settled::Left(_)
    ));
    clock.advance(1.0);
    assert_eq!(
        m.settle_draft("alice", &key, Writer::Unknown).unwrap(),
        Settled::Recovered { session_id }
    );
    assert!(draft_keys(&kv).is_empty());
}

#[test]
fn a_draft_without_text_says_nothing_arrived() {
    let kv = MemoryKv::new();
    let clock = ManualClock::at(1_000.0);
    let mut m = manager(&kv, &clock, limits());
    let (session_id, event_id, key) = cut_off_reply(&mut m, &clock, "");
    m.settle_draft("alice", &key, Writer::Gone).unwrap();
    let session = stored(&m, "alice", &session_id);
    let reply = session.events.last().unwrap();
    assert_eq!(reply.id, event_id);
    assert_eq!(reply.status, MessageStatus::Interrupted);
    assert_eq!(reply.text_content(), "");
    assert_eq!(
        reply.error_message.as_deref(),
        Some(DRAFT_INTERRUPTED_EMPTY)
    );
}

/// Two tabs opened at once may both settle the same draft: it is saved
/// once; a draft whose reply its writer saved is only removed.
#[test]
fn settling_twice_or_after_the_writer_saved_adds_nothing() {
    let kv = MemoryKv::new();
    let clock = ManualClock::at(1_000.0);
    let mut m = manager(&kv, &clock, limits());
    let (session_id, _, key) = cut_off_reply(&mut m, &clock, "half");
    let snapshot = kv.get(&key).unwrap().unwrap();
    let mut first = manager(&kv, &clock, limits());
    let mut second = manager(&kv, &clock, limits());
    assert!(matches!(
        first.settle_draft("alice", &key, Writer::Gone).unwrap(),
        Settled::Recovered { .. }
    ));
    assert_eq!(
        second.settle_draft("alice", &key, Writer::Gone).unwrap(),
        Settled::Gone
    );
    // The second tab still saw the draft (storage not yet in step).
    kv.set(&key, &snapshot).unwrap();
    assert_eq!(
        second.settle_draft("alice", &key, Writer::Gone).unwrap(),
        Settled::Gone
    );
    assert!(kv.get(&key).unwrap().is_none());
    assert_eq!(stored(&m, "alice", &session_id).events.len(), 2);
}

/// Retry (or Regenerate, or Continue) in a conversation whose earlier reply
/// is still a draft writes a draft of its own: the earlier text is never
/// overwritten, and becomes an earlier version of the reply.
#[test]
fn a_new_reply_never_overwrites_an_earlier_draft() {
    let kv = MemoryKv::new();
    let clock = ManualClock::at(1_000.0);
    let mut m = manager(&kv, &clock, limits());
    let (session_id, first_id, first_key) = cut_off_reply(&mut m, &clock, "first try, half");
    let retry = m.begin_call("alice", &session_id, None).unwrap();
    let second_id = new_id();
    let second_key = m
        .save_draft("alice", &retry, &second_id, "second", None)
        .unwrap();
    assert_ne!(first_key, second_key);
    assert_eq!(draft_keys(&kv).len(), 2);
    m.finish_call(
        "alice",
        &retry,
        CallResult {
            event_id: second_id.clone(),
            text: "second try, whole".into(),
            status: MessageStatus::Complete,
            ..CallResult::default()
        },
    )
    .unwrap();
    assert_eq!(
        draft_keys(&kv),
        vec![first_key.clone()],
        "only its own draft goes"
    );
    m.settle_draft("alice", &first_key, Writer::Gone).unwrap();
    let session = stored(&m, "alice", &session_id);
    let replies: Vec<(String, String)> = session.events[1..]
        .iter()
        .map(|e| (e.id.clone(), e.text_content()))
        .collect();
    assert_eq!(
        replies,
        vec![
            (second_id, "second try, whole".to_owned()),
            (first_id, "first try, half".to_owned())
        ]
    );
}

#[test]
fn drafts_of_deleted_conversations_old_keys_and_unreadable_ones() {
    let kv = MemoryKv::new();
    let clock = ManualClock::at(1_000.0);
    let mut m = manager(&kv, &clock, limits());
    // A draft under the key of the format before drafts were per reply.
    let (session_id, event_id, key) = cut_off_reply(&mut m, &clock, "old shape");
    let old_key = format!("confab:draft:confab:alice:{session_id}");
    let value = kv.get(&key).unwrap().unwrap();
    kv.remove(&key).unwrap();
    kv.set(&old_key, &value).unwrap();
    // One whose conversation was deleted, and one that cannot be read.
    m.clear_session("alice").unwrap();
    let (deleted, _, deleted_key) = cut_off_reply(&mut m, &clock, "gone");
    let deleted_draft = kv.get(&deleted_key).unwrap().unwrap();
    m.delete_conversation("alice", &deleted).unwrap();
    kv.set(&deleted_key, &deleted_draft).unwrap();
    let broken = keys::draft("confab", "alice", &session_id, "broken");
    kv.set(&broken, "{not json").unwrap();
    // Another user's draft is not this user's business.
    let bob = keys::draft("confab", "bob", "s", "e");
    kv.set(&bob, &value).unwrap();

    let settled = m
        .settle_drafts("alice", &kv.keys().unwrap(), &|_| Writer::Gone)
        .unwrap();
    assert_eq!(settled.len(), 2, "{settled:?}");
    let session = stored(&m, "alice", &session_id);
    assert_eq!(session.events.last().unwrap().id, event_id);
    assert_eq!(session.events.last().unwrap().text_content(), "old shape");
    assert_eq!(draft_keys(&kv), vec![bob]);
    assert_eq!(m.take_quarantined().len(), 1);
}

#[test]
fn a_finished_reply_leaves_no_draft() {
    let kv = MemoryKv::new();
    let clock = ManualClock::at(1_000.0);
    let mut m = manager(&kv, &clock, limits());
    let query = m.begin_query("alice", "hi").unwrap();
    let call = m.begin_call("alice", &query.session.id, None).unwrap();
    let event_id = new_id();
    m.save_draft("alice", &call, &event_id, "hel", None)
        .unwrap();
    m.finish_call(
        "alice",
        &call,
        CallResult {
            agent_events: Vec::new(),
            event_id,
            text: "hello".into(),
            status: MessageStatus::Complete,
            ..CallResult::default()
        },
    )
    .unwrap();
    assert_eq!(draft_keys(&kv), Vec::<String>::new());
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

#[test]
fn a_conversation_keeps_its_own_options_across_a_restart() {
    let kv = MemoryKv::new();
    let clock = ManualClock::at(1_000.0);
    let mut m = manager(&kv, &clock, limits());
    let (query, _) = exchange(&mut m, &clock, "ada", "hello", "hi");
    let id = query.session.id.clone();
    let options = ConversationOptions {
        model: Some("gpt-x".into()),
        temperature: Some(0.3),
        system_prompt: Some("Be terse.".into()),
        agent_app: Some("history_agent".into()),
        agent_session_id: Some("server-1".into()),
    };
    clock.advance(1.0);
    m.set_options("ada", &id, options.clone()).unwrap();
    let restarted = manager(&kv, &clock, limits())
        .conversation("ada", &id)
        .unwrap();
    assert_eq!(restarted.options, options);
    assert_eq!(restarted.options_at, clock.now());
}

#[test]
fn an_agent_run_saves_each_of_its_events_with_ids_authors_and_state() {
    let kv = MemoryKv::new();
    let clock = ManualClock::at(1_000.0);
    let mut m = manager(&kv, &clock, limits());
    let query = m.begin_query("ada", "weather?").unwrap();
    let session_id = query.session.id.clone();
    let call = m.begin_call("ada", &session_id, None).unwrap();
    let mut tool = Event::text("tool_agent", "server-inv", 1_000.5, "");
    tool.content.as_mut().unwrap().parts[0] = serde_json::from_value(
        json!({"functionCall": {"name": "get_weather", "args": {"city": "Paris"}}}),
    )
    .unwrap();
    tool.actions
        .state_delta
        .insert("user:city".into(), json!("Paris"));
    let mut answer = Event::text("tool_agent", "server-inv", 1_000.6, "It is sunny.");
    answer.actions.state_delta.insert("turns".into(), json!(1));
    let events = vec![tool.clone(), answer.clone()];
    clock.advance(1.0);
    let finish = |m: &mut Manager, call: &CallStart| {
        m.finish_call(
            "ada",
            call,
            CallResult {
                agent_events: events.clone(),
                text: "It is sunny.".into(),
                status: MessageStatus::Complete,
                ..CallResult::default()
            },
        )
        .unwrap()
    };
    let saved = finish(&mut m, &call);
    assert_eq!(saved.id, answer.id);
    let session = stored(&m, "ada", &session_id);
    let ids: Vec<_> = session.events.iter().map(|e| e.id.clone()).collect();
    assert_eq!(ids[1..], [tool.id.clone(), answer.id.clone()]);
    assert_eq!(session.events[1].author, "tool_agent");
    assert_eq!(session.state["user:city"], json!("Paris"));
    assert_eq!(session.state["turns"], json!(1));
    assert_eq!(
        m.conversation("ada", &session_id).unwrap().queries[0].response,
        "It is sunny."
    );

    // Saving the same events again (a re-read after Stop) adds nothing.
    let again = m.begin_call("ada", &session_id, None).unwrap();
    finish(&mut m, &again);
    let session = stored(&m, "ada", &session_id);
    assert_eq!(session.events.len(), 3);
}

/// `enter` (what startup runs) does what its steps do one by one: drafts,
/// expiry, retention, listings; the session list it reads for expiry is
/// the one it lists, unless retention deleted something.
#[test]
fn enter_equals_its_steps_one_by_one() {
    let run = |stepwise: bool| {
        let kv = MemoryKv::new();
        let clock = ManualClock::at(1_000.0);
        let mut m = manager(&kv, &clock, limits());
        // An ended conversation (deleted by retention below), an idle one
        // (expired), and one with a draft left by a closed tab.
        exchange(&mut m, &clock, "alice", "old", "a");
        m.end_conversation("alice", Satisfaction::Satisfied, "")
            .unwrap();
        clock.advance(40.0 * 24.0 * HOUR);
        exchange(&mut m, &clock, "alice", "idle", "b");
        m.clear_session("alice").unwrap();
        clock.advance(2.0 * HOUR);
        let query = m.begin_query("alice", "cut off").unwrap();
        let call = m.begin_call("alice", &query.session.id, None).unwrap();
        m.save_draft("alice", &call, "reply-1", "half a", None)
            .unwrap();
        let mut m = manager(
            &kv,
            &clock,
            Limits {
                retention: Some(30.0 * 24.0 * HOUR),
                ..limits()
            },
        );
        let keys = kv.keys().unwrap();
        let listed = if stepwise {
            m.settle_drafts("alice", &keys, &|_| Writer::Gone).unwrap();
            m.expire_due("alice").unwrap();
            m.apply_retention("alice").unwrap();
            m.listings("alice").unwrap()
        } else {
            let (listed, left) = m.enter("alice", Some(&keys), &|_| Writer::Gone).unwrap();
            assert!(left.is_empty());
            listed
        };
        let titles: Vec<(Option<String>, bool)> = listed
            .iter()
            .map(|l| (l.summary.title.clone(), l.ended.is_some()))
            .collect();
        let mut stored: Vec<(String, String)> = kv
            .keys()
            .unwrap()
            .into_iter()
            .map(|k| {
                let v = kv.get(&k).unwrap().unwrap();
                (k, v)
            })
            .collect();
        stored.sort();
        (titles, stored.len(), listed.len())
    };
    let (stepwise, entered) = (run(true), run(false));
    assert_eq!(stepwise.0, entered.0);
    assert_eq!(stepwise.1, entered.1);
    assert_eq!(
        entered.0,
        vec![
            (Some("cut off".to_owned()), false),
            (Some("idle".to_owned()), true)
        ],
        "the draft saved, the idle one expired, the old one deleted"
    );

    // Nothing to delete: the listings come from expiry's read of the list.
    let kv = MemoryKv::new();
    let clock = ManualClock::at(1_000.0);
    let mut m = manager(&kv, &clock, limits());
    exchange(&mut m, &clock, "alice", "first", "a");
    m.clear_session("alice").unwrap();
    exchange(&mut m, &clock, "alice", "second", "b");
    clock.advance(2.0 * HOUR);
    let (entered, _) = m.enter("alice", None, &|_| Writer::Unknown).unwrap();
    assert_eq!(entered, m.listings("alice").unwrap());
    assert!(entered.iter().all(|l| l.ended.is_some()), "both expired");
}

#[test]
fn a_rename_is_listed_survives_a_restart_and_keeps_the_order() {
    let kv = MemoryKv::new();
    let clock = ManualClock::at(1_000.0);
    let mut m = manager(&kv, &clock, limits());
    let (first, _) = exchange(&mut m, &clock, "u", "first question", "a");
    m.clear_session("u").unwrap();
    clock.advance(10.0);
    let (second, _) = exchange(&mut m, &clock, "u", "second question", "b");
    let id = first.session.id.clone();

    let shown = m
        .rename_conversation("u", &id, "  Holiday\n plans  ")
        .unwrap();
    assert_eq!(shown.as_deref(), Some("Holiday plans"), "one line, trimmed");

    // A new manager over the same store: what a reload sees.
    let m = manager(&kv, &clock, limits());
    let list = m.listings("u").unwrap();
    let titles: Vec<_> = list.iter().map(|l| l.summary.title.clone()).collect();
    assert_eq!(
        titles,
        [Some("second question".into()), Some("Holiday plans".into())],
        "renamed in place; a rename does not make it the newest"
    );
    assert_eq!(list[0].summary.id, second.session.id);

    // A blank title goes back to the automatic one.
    let mut m = m;
    assert_eq!(m.rename_conversation("u", &id, "   ").unwrap(), None);
    let list = m.listings("u").unwrap();
    assert_eq!(list[1].summary.title.as_deref(), Some("first question"));
    let long = "x".repeat(MAX_TITLE_CHARS + 50);
    let cut = m.rename_conversation("u", &id, &long).unwrap().unwrap();
    assert_eq!(cut.chars().count(), MAX_TITLE_CHARS);
}

#[test]
fn pinned_conversations_come_first_and_stay_pinned_after_a_restart() {
    let kv = MemoryKv::new();
    let clock = ManualClock::at(1_000.0);
    let mut m = manager(&kv, &clock, limits());
    let mut ids = Vec::new();
    for text in ["one", "two", "three"] {
        m.clear_session("u").unwrap();
        clock.advance(5.0);
        ids.push(exchange(&mut m, &clock, "u", text, "ok").0.session.id);
    }
    m.set_pinned("u", &ids[0], true).unwrap();
    let m2 = manager(&kv, &clock, limits());
    let order: Vec<_> = m2
        .listings("u")
        .unwrap()
        .iter()
        .map(|l| (l.summary.title.clone().unwrap(), l.pinned))
        .collect();
    assert_eq!(
        order,
        [
            ("one".to_owned(), true),
            ("three".to_owned(), false),
            ("two".to_owned(), false)
        ]
    );
    m.set_pinned("u", &ids[0], false).unwrap();
    let first = &m.listings("u").unwrap()[0];
    assert_eq!(first.summary.title.as_deref(), Some("three"));
    assert!(!first.pinned);
}

#[test]
fn renaming_an_unknown_conversation_is_a_typed_not_found() {
    let kv = MemoryKv::new();
    let clock = ManualClock::at(1_000.0);
    let mut m = manager(&kv, &clock, limits());
    let error = m.rename_conversation("u", "missing", "x").unwrap_err();
    assert!(
        matches!(error, ManagerError::Session(SessionError::NotFound { .. })),
        "{error:?}"
    );
    let not_found = ManagerError::Session(SessionError::not_found("confab", "u", "missing"));
    assert_eq!(error, not_found);
    assert_eq!(m.set_pinned("u", "missing", true), Err(not_found));
}
