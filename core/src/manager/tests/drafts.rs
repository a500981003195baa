//! Replies left streaming by a tab, and what becomes of their drafts.

use super::*;
use crate::outcome::ReplyFailure;
use crate::session::Reasoning;

/// A conversation with a reply left half-written by a tab that died:
/// returns the session id, the reply's event id and its draft key.
fn cut_off_reply(m: &mut Manager, clock: &ManualClock, text: &str) -> (String, String, String) {
    let query = m.begin_query("alice", "tell me a story").unwrap();
    let call = m.begin_call("alice", &query.session.id, None).unwrap();
    let event_id = new_id();
    m.save_draft("alice", &call, &event_id, "", None, None)
        .unwrap();
    clock.advance(0.25);
    let key = m
        .save_draft(
            "alice",
            &call,
            &event_id,
            text,
            Some("confab-echo"),
            Some(Reasoning {
                text: "A story, then.".into(),
                millis: Some(1200),
                ..Reasoning::default()
            }),
        )
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
    // The reasoning that had arrived is kept too, apart from the answer.
    assert_eq!(reply.reasoning_text(), "A story, then.");
    assert_eq!(reply.reasoning.as_ref().unwrap().millis, Some(1200));
    assert_eq!(reply.error_code.as_deref(), Some("interrupted"));
    assert_eq!(
        reply.failure,
        Some(ReplyFailure::PageClosed { any_text: true })
    );
    // What is stored is the failure, not its text.
    assert_eq!(reply.error_message, None);
    assert_eq!(
        reply.error_text().as_deref(),
        Some(
            "The page was closed while this reply was being written; what had arrived is kept. Press Retry for a whole reply, or Continue."
        )
    );
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
        reply.failure,
        Some(ReplyFailure::PageClosed { any_text: false })
    );
    assert_eq!(
        reply.error_text().as_deref(),
        Some("The page was closed before any of this reply arrived. Press Retry to ask again.")
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
        .save_draft("alice", &retry, &second_id, "second", None, None)
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
    m.save_draft("alice", &call, &event_id, "hel", None, None)
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
