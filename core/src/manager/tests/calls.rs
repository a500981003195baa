//! Queries, model and agent calls, their spans and logs, ratings.

use super::*;
use crate::outcome::{ReplyError, ReplyFailure};

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
    // A reasoning model's thinking tokens, on the call and on its query.
    assert_eq!(call.attr(attr::REASONING_TOKENS), Some(&AttrValue::Int(3)));
    assert_eq!(span.attr(attr::REASONING_TOKENS), Some(&AttrValue::Int(3)));
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
            error: Some(ReplyFailure::Model(ReplyError::Http {
                status: 500,
                message: "The model server had a problem".into(),
            })),
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

fn attachment(name: &str, mime: &str, fill: char) -> crate::session::AttachmentRef {
    crate::session::AttachmentRef {
        sha256: fill.to_string().repeat(64),
        name: name.into(),
        mime_type: mime.into(),
        size: 100,
        ..Default::default()
    }
}

#[test]
fn a_message_carries_its_attachments_and_the_index_lists_them() {
    let kv = MemoryKv::new();
    let clock = ManualClock::at(1_000.0);
    let mut m = manager(&kv, &clock, limits());
    let csv = attachment("sales.csv", "text/csv", 'a');
    let png = attachment("chart.png", "image/png", 'b');
    let query = m
        .begin_query_with("ada", "What is the mean?", &[csv.clone(), png.clone()])
        .unwrap();
    let session = stored(&m, "ada", &query.session.id);
    let event = &session.events[0];
    assert_eq!(event.text_content(), "What is the mean?");
    assert_eq!(event.attachments(), [csv.clone(), png.clone()]);
    let span = m
        .conversation("ada", &query.session.id)
        .unwrap()
        .trace
        .span(&query.query_span_id)
        .cloned()
        .unwrap();
    assert_eq!(
        span.attr("confab.query.attachments"),
        Some(&AttrValue::from(2usize))
    );

    // Files alone: no empty text part; the title is the first file's name.
    clock.advance(1.0);
    m.begin_query_with("ada", "", std::slice::from_ref(&csv))
        .unwrap();
    let session = stored(&m, "ada", &query.session.id);
    let parts = &session.events[1].content.as_ref().unwrap().parts;
    assert_eq!(parts.len(), 1);
    assert_eq!(parts[0].attachment_ref(), Some(csv.clone()));

    let listed = m.service().list_sessions("confab", "ada").unwrap();
    assert_eq!(listed[0].attachments, [csv.sha256, png.sha256]);
}

#[test]
fn an_agents_attachment_parts_are_saved_and_listed() {
    let kv = MemoryKv::new();
    let clock = ManualClock::at(1_000.0);
    let mut m = manager(&kv, &clock, limits());
    let query = m.begin_query("ada", "chart it").unwrap();
    let call = m.begin_call("ada", &query.session.id, None).unwrap();
    let chart = crate::session::AttachmentRef {
        origin: Some("reply".into()),
        ..attachment("image-1.png", "image/png", 'c')
    };
    let mut reply = Event::text("analyst", "inv", 1_000.5, "Here:");
    reply
        .content
        .as_mut()
        .unwrap()
        .parts
        .push(crate::session::Part::attachment(&chart));
    m.finish_call(
        "ada",
        &call,
        CallResult {
            agent_events: vec![reply],
            text: "Here:".into(),
            status: MessageStatus::Complete,
            ..CallResult::default()
        },
    )
    .unwrap();
    let session = stored(&m, "ada", &query.session.id);
    assert_eq!(
        session.events[1].attachments(),
        std::slice::from_ref(&chart)
    );
    let listed = m.service().list_sessions("confab", "ada").unwrap();
    assert_eq!(listed[0].attachments, [chart.sha256]);
}
