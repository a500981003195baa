//! Branching at an edited message.

use super::*;

/// A query of `ada`'s and a reply to it.
fn say(m: &mut Manager, clock: &ManualClock, text: &str) {
    exchange(m, clock, "ada", text, &format!("reply to {text}"));
}

fn texts(session: &Session) -> Vec<String> {
    session.events.iter().map(|e| e.text_content()).collect()
}

#[test]
fn a_branch_starts_with_the_events_before_the_edited_message_and_both_are_linked() {
    let kv = MemoryKv::new();
    let clock = ManualClock::at(1_000.0);
    let mut m = manager(&kv, &clock, Limits::default());
    for text in ["one", "two", "three"] {
        say(&mut m, &clock, text);
    }
    let original_id = m.current_session_id("ada").unwrap().unwrap();
    let original = m
        .service()
        .get_session("confab", "ada", &original_id, GetSessionConfig::default())
        .unwrap();
    let edited = original.events[2].clone();
    assert_eq!(edited.text_content(), "two");

    let branch = m.branch_at("ada", &original_id, &edited.id).unwrap();
    assert_ne!(branch.id, original_id);
    assert_eq!(texts(&branch), ["one", "reply to one"]);
    assert_eq!(branch.state.get("query_count"), Some(&json!(1)));
    assert_ne!(
        branch.state.get("conversation_id"),
        original.state.get("conversation_id"),
        "a conversation of its own"
    );
    assert_eq!(
        m.current_session_id("ada").unwrap(),
        Some(branch.id.clone())
    );

    // The edited message goes into the branch.
    clock.advance(1.0);
    let query = m.begin_query("ada", "two, edited").unwrap();
    assert_eq!(query.session.id, branch.id);
    assert_eq!(query.number, 2);

    let record = m.conversation("ada", &branch.id).unwrap();
    assert_eq!(
        record
            .branched_from
            .as_ref()
            .map(|b| (b.session_id.as_str(), b.event_id.as_str())),
        Some((original_id.as_str(), edited.id.as_str()))
    );
    assert_eq!(
        record.query_count(),
        2,
        "the copied query and the edited one"
    );
    let parent = m.conversation("ada", &original_id).unwrap();
    assert_eq!(parent.branches.len(), 1);
    assert_eq!(parent.branches[0].session_id, branch.id);
    assert_eq!(parent.branches[0].event_id, edited.id);

    // The original is whole, and both are listed.
    let original_after = m
        .service()
        .get_session("confab", "ada", &original_id, GetSessionConfig::default())
        .unwrap();
    assert_eq!(original_after.events, original.events);
    let listed: Vec<String> = m
        .listings("ada")
        .unwrap()
        .into_iter()
        .map(|l| l.summary.id)
        .collect();
    assert!(
        listed.contains(&original_id) && listed.contains(&branch.id),
        "{listed:?}"
    );
}

#[test]
fn branching_at_the_first_message_starts_empty() {
    let kv = MemoryKv::new();
    let clock = ManualClock::at(1_000.0);
    let mut m = manager(&kv, &clock, Limits::default());
    say(&mut m, &clock, "only");
    let id = m.current_session_id("ada").unwrap().unwrap();
    let first = m
        .service()
        .get_session("confab", "ada", &id, GetSessionConfig::default())
        .unwrap()
        .events[0]
        .id
        .clone();
    let branch = m.branch_at("ada", &id, &first).unwrap();
    assert!(branch.events.is_empty());
}

#[test]
fn only_a_user_message_of_the_conversation_can_be_edited() {
    let kv = MemoryKv::new();
    let clock = ManualClock::at(1_000.0);
    let mut m = manager(&kv, &clock, Limits::default());
    say(&mut m, &clock, "hello");
    let id = m.current_session_id("ada").unwrap().unwrap();
    let session = m
        .service()
        .get_session("confab", "ada", &id, GetSessionConfig::default())
        .unwrap();
    let reply = session.events[1].id.clone();
    let before = snapshot(&kv);
    for event in [reply.as_str(), "no-such-event"] {
        assert_eq!(
            m.branch_at("ada", &id, event),
            Err(ManagerError::UnknownMessage(event.to_owned()))
        );
    }
    assert_eq!(snapshot(&kv), before, "nothing written");
}

#[test]
fn branching_after_a_reply_keeps_it_and_everything_before() {
    let kv = MemoryKv::new();
    let clock = ManualClock::at(1_000.0);
    let mut m = manager(&kv, &clock, Limits::default());
    for text in ["one", "two", "three"] {
        say(&mut m, &clock, text);
    }
    let original_id = m.current_session_id("ada").unwrap().unwrap();
    let original = m
        .service()
        .get_session("confab", "ada", &original_id, GetSessionConfig::default())
        .unwrap();
    let reply = original.events[3].clone();
    assert_eq!(reply.text_content(), "reply to two");

    let branch = m.branch_after("ada", &original_id, &reply.id).unwrap();
    assert_eq!(
        texts(&branch),
        ["one", "reply to one", "two", "reply to two"]
    );
    assert_eq!(
        m.current_session_id("ada").unwrap(),
        Some(branch.id.clone())
    );
    let parent = m.conversation("ada", &original_id).unwrap();
    assert_eq!(parent.branches.len(), 1);
    assert_eq!(parent.branches[0].session_id, branch.id);
    // The original is untouched.
    let after = m
        .service()
        .get_session("confab", "ada", &original_id, GetSessionConfig::default())
        .unwrap();
    assert_eq!(after.events.len(), 6);
    assert!(matches!(
        m.branch_after("ada", &original_id, "no-such-event"),
        Err(ManagerError::UnknownMessage(_))
    ));
}
