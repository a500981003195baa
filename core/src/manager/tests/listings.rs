//! The listings, and what `enter` runs.

use super::*;

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
        m.save_draft("alice", &call, "reply-1", "half a", None, None)
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

/// One conversation's entry put in its place (what the sidebar does after a
/// reply, a pin or a deletion) gives the list `listings` reads whole.
#[test]
fn one_listing_put_in_its_place_equals_the_list_read_whole() {
    let kv = MemoryKv::new();
    let clock = ManualClock::at(1_000.0);
    let mut m = manager(&kv, &clock, limits());
    let mut ids = Vec::new();
    for text in ["one", "two", "three", "four"] {
        m.clear_session("alice").unwrap();
        ids.push(exchange(&mut m, &clock, "alice", text, "r").0.session.id);
    }
    let mut shown = m.listings("alice").unwrap();
    let check = |m: &Manager, id: &str, shown: &mut Vec<Listing>| {
        place_listing(shown, id, m.listing("alice", id).unwrap());
        assert_eq!(
            *shown,
            m.listings("alice").unwrap(),
            "after a change to {id}"
        );
    };
    // A reply in the oldest moves it to the top.
    m.switch_to("alice", &ids[0]).unwrap();
    exchange(&mut m, &clock, "alice", "again", "r");
    check(&m, &ids[0], &mut shown);
    // A pinned one goes first, renamed it keeps its place with the new title.
    m.set_pinned("alice", &ids[1], true).unwrap();
    check(&m, &ids[1], &mut shown);
    m.rename_conversation("alice", &ids[2], "named").unwrap();
    check(&m, &ids[2], &mut shown);
    // An ended one keeps its place, marked; a deleted one leaves.
    m.switch_to("alice", &ids[3]).unwrap();
    m.end_conversation("alice", Satisfaction::Satisfied, "")
        .unwrap();
    check(&m, &ids[3], &mut shown);
    m.delete_conversation("alice", &ids[2]).unwrap();
    check(&m, &ids[2], &mut shown);
    // A new conversation comes in at the top of the unpinned ones.
    m.clear_session("alice").unwrap();
    let new = exchange(&mut m, &clock, "alice", "five", "r").0.session.id;
    check(&m, &new, &mut shown);
    assert_eq!(shown.len(), 4);
    assert!(m.listing("alice", &ids[2]).unwrap().is_none());
}
