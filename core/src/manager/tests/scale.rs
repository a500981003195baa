//! What one reply costs does not grow with the number of conversations.

use std::cell::Cell;

use super::*;
use crate::storage::KvError;

/// A store that counts what is asked of it.
#[derive(Default)]
struct Counting {
    inner: MemoryKv,
    writes: Cell<usize>,
    written_units: Cell<usize>,
    reads: Cell<usize>,
    read_units: Cell<usize>,
}

impl Counting {
    fn reset(&self) {
        for counter in [
            &self.writes,
            &self.written_units,
            &self.reads,
            &self.read_units,
        ] {
            counter.set(0);
        }
    }
}

fn units(text: &str) -> usize {
    text.encode_utf16().count()
}

impl KvStore for Counting {
    fn get(&self, key: &str) -> Result<Option<String>, KvError> {
        let value = self.inner.get(key)?;
        self.reads.set(self.reads.get() + 1);
        let size = value.as_deref().map_or(0, units);
        self.read_units.set(self.read_units.get() + size);
        Ok(value)
    }
    fn set(&self, key: &str, value: &str) -> Result<(), KvError> {
        self.writes.set(self.writes.get() + 1);
        self.written_units
            .set(self.written_units.get() + units(key) + units(value));
        self.inner.set(key, value)
    }
    fn remove(&self, key: &str) -> Result<(), KvError> {
        self.writes.set(self.writes.get() + 1);
        self.inner.remove(key)
    }
    fn keys(&self) -> Result<Vec<String>, KvError> {
        self.inner.keys()
    }
}

/// Writes, UTF-16 units written, reads and units read by one reply (the
/// user's message and the model's answer) in the newest of `conversations`
/// conversations of one exchange each.
fn one_reply_with(conversations: usize) -> [usize; 4] {
    with_history(conversations, |m, kv, reply| {
        kv.reset();
        reply(m, "one more question");
        [
            kv.writes.get(),
            kv.written_units.get(),
            kv.reads.get(),
            kv.read_units.get(),
        ]
    })
}

type Manager<'a> =
    SessionManager<KvSessionService<&'a Counting, ManualClock>, &'a Counting, ManualClock>;

/// `conversations` conversations of one exchange each, then `then` with the
/// manager, the store, and a function that makes one more exchange.
fn with_history<R>(
    conversations: usize,
    then: impl FnOnce(&mut Manager, &Counting, &dyn Fn(&mut Manager, &str)) -> R,
) -> R {
    // Leaked, so the manager can borrow it for as long as the test runs.
    let kv: &'static Counting = Box::leak(Box::default());
    let clock = ManualClock::at(1_000.0);
    let mut m = SessionManager::new(
        KvSessionService::new(kv, clock.clone()),
        kv,
        clock.clone(),
        "confab",
        limits(),
    );
    let reply = |m: &mut Manager, text: &str| {
        let query = m.begin_query("ada", text).unwrap();
        clock.advance(1.0);
        let call = m.begin_call("ada", &query.session.id, None).unwrap();
        let answer = CallResult {
            text: "an answer of a few words".into(),
            status: MessageStatus::Complete,
            response_model: Some("echo".into()),
            ..CallResult::default()
        };
        m.finish_call("ada", &call, answer).unwrap();
        clock.advance(1.0);
    };
    for n in 0..conversations {
        m.create_new_session("ada").unwrap();
        reply(&mut m, &format!("conversation {n}"));
    }
    then(&mut m, kv, &reply)
}

#[test]
fn one_reply_reads_and_writes_the_same_with_20_conversations_or_2000() {
    let few = one_reply_with(20);
    let many = one_reply_with(2_000);
    eprintln!(
        "one reply, [writes, units written, reads, units read]: 20: {few:?}, 2,000: {many:?}"
    );
    assert_eq!(many[0], few[0], "the same writes");
    assert!(
        many[1] * 10 <= few[1] * 12,
        "units written within 1.2x: {} at 20, {} at 2,000",
        few[1],
        many[1]
    );
    assert_eq!(many[2], few[2], "the same reads");
    assert!(
        many[3] * 10 <= few[3] * 12,
        "units read within 1.2x: {} at 20, {} at 2,000",
        few[3],
        many[3]
    );
}

/// What startup reads before its first frame (`enter_drafts` and the
/// current conversation's id): the same at 20 and 2,000 conversations.
/// The listing, which reads every entry, comes after the frame.
#[test]
fn startup_reads_the_same_before_its_first_frame_with_20_conversations_or_2000() {
    let first_frame = |conversations| {
        with_history(conversations, |m, kv, _| {
            let keys = kv.keys().unwrap();
            kv.reset();
            let left = m
                .enter_drafts("ada", Some(&keys), &|_| Writer::Gone)
                .unwrap();
            assert!(left.is_empty());
            assert!(m.current_session_id("ada").unwrap().is_some());
            let before = kv.reads.get();
            let listed = m.enter_listings("ada").unwrap();
            assert_eq!(listed.len(), conversations);
            (before, kv.reads.get() - before)
        })
    };
    let (few, few_listing) = first_frame(20);
    let (many, many_listing) = first_frame(2_000);
    eprintln!(
        "reads before the first frame: {few} at 20, {many} at 2,000; the listing after it: {few_listing}, {many_listing}"
    );
    assert_eq!(few, many, "the same reads before the first frame");
    assert!(
        many_listing >= 2_000,
        "the listing reads every conversation"
    );
}
