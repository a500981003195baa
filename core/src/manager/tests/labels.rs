//! Titles, pins and a conversation's own options.

use super::*;

#[test]
fn a_conversation_keeps_its_own_options_across_a_restart() {
    let kv = MemoryKv::new();
    let clock = ManualClock::at(1_000.0);
    let mut m = manager(&kv, &clock, limits());
    let (query, _) = exchange(&mut m, &clock, "ada", "hello", "hi");
    let id = query.session.id.clone();
    let options = own_options();
    clock.advance(1.0);
    m.set_options("ada", &id, options.clone()).unwrap();
    let restarted = manager(&kv, &clock, limits())
        .conversation("ada", &id)
        .unwrap();
    assert_eq!(restarted.options, options);
    assert_eq!(restarted.options_at, clock.now());
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
