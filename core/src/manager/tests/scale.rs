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
    let kv = Counting::default();
    let clock = ManualClock::at(1_000.0);
    let mut m = SessionManager::new(
        KvSessionService::new(&kv, clock.clone()),
        &kv,
        clock.clone(),
        "confab",
        limits(),
    );
    let reply = |m: &mut SessionManager<_, _, _>, text: &str| {
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
    kv.reset();
    reply(&mut m, "one more question");
    [
        kv.writes.get(),
        kv.written_units.get(),
        kv.reads.get(),
        kv.read_units.get(),
    ]
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
