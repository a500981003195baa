//! Parsed values of recently read keys, reused while their stored text is
//! unchanged.
//!
//! Each manager operation reads the records it needs afresh: that keeps the
//! operations independent and another tab's writes visible. At startup that
//! means the same user record is read four times and the same conversation
//! twice, and with a long history the cost is parsing the JSON, not reading
//! it. So the text is still read every time, and the parsed value is reused
//! only when the text is exactly the one parsed last time. Parsing is a pure
//! function of the text, so a reused value is what a fresh parse would give.

use std::any::Any;
use std::cell::RefCell;

use serde::de::DeserializeOwned;

use super::{KvError, KvStore, parse_json};

struct Entry {
    key: String,
    text: String,
    value: Box<dyn Any + Send>,
}

/// A few keys' last parsed text and value, the most recently used last.
pub struct ParseMemo {
    entries: RefCell<Vec<Entry>>,
    capacity: usize,
}

impl ParseMemo {
    /// Remembers at most `capacity` keys (each one's text and value are
    /// kept in memory).
    pub fn new(capacity: usize) -> Self {
        Self {
            entries: RefCell::new(Vec::new()),
            capacity,
        }
    }

    /// [`super::read_json`], without parsing text it parsed last time.
    pub fn read_json<T: DeserializeOwned + Clone + Send + 'static>(
        &self,
        kv: &impl KvStore,
        key: &str,
    ) -> Result<Option<T>, KvError> {
        let Some(text) = kv.get(key)? else {
            return Ok(None);
        };
        let mut entries = self.entries.borrow_mut();
        if let Some(at) = entries.iter().position(|e| e.key == key) {
            let entry = entries.remove(at);
            if entry.text == text
                && let Some(value) = entry.value.downcast_ref::<T>()
            {
                let value = value.clone();
                entries.push(entry);
                return Ok(Some(value));
            }
        }
        // Unreadable text is not remembered: the caller moves it aside.
        let value: T = parse_json(key, &text)?;
        if entries.len() >= self.capacity {
            entries.remove(0);
        }
        if self.capacity > 0 {
            entries.push(Entry {
                key: key.to_owned(),
                text,
                value: Box::new(value.clone()),
            });
        }
        Ok(Some(value))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::MemoryKv;

    #[derive(Clone, Debug, PartialEq, serde::Deserialize)]
    struct Record {
        n: u32,
    }

    #[test]
    fn reads_what_is_stored_now() {
        let kv = MemoryKv::new();
        let memo = ParseMemo::new(2);
        assert_eq!(memo.read_json::<Record>(&kv, "a"), Ok(None));
        kv.set("a", r#"{"n":1}"#).unwrap();
        assert_eq!(memo.read_json(&kv, "a"), Ok(Some(Record { n: 1 })));
        assert_eq!(memo.read_json(&kv, "a"), Ok(Some(Record { n: 1 })));
        // Changed behind its back (another tab, a rollback): parsed anew.
        kv.set("a", r#"{"n":2}"#).unwrap();
        assert_eq!(memo.read_json(&kv, "a"), Ok(Some(Record { n: 2 })));
        kv.remove("a").unwrap();
        assert_eq!(memo.read_json::<Record>(&kv, "a"), Ok(None));
    }

    #[test]
    fn unreadable_text_is_corrupt_as_read_json_says() {
        let kv = MemoryKv::new();
        let memo = ParseMemo::new(2);
        kv.set("a", "{half").unwrap();
        let direct = crate::storage::read_json::<Record>(&kv, "a");
        assert!(matches!(direct, Err(KvError::Corrupt { .. })));
        assert_eq!(memo.read_json::<Record>(&kv, "a"), direct);
        // Still corrupt on the next read: nothing unreadable was kept.
        assert_eq!(memo.read_json::<Record>(&kv, "a"), direct);
    }

    #[test]
    fn keeps_at_most_its_capacity_and_tells_types_apart() {
        let kv = MemoryKv::new();
        let memo = ParseMemo::new(2);
        for (key, n) in [("a", 1), ("b", 2), ("c", 3)] {
            kv.set(key, &format!(r#"{{"n":{n}}}"#)).unwrap();
            assert_eq!(memo.read_json(&kv, key), Ok(Some(Record { n })));
        }
        assert_eq!(memo.entries.borrow().len(), 2);
        // The same text read as another type is parsed as that type.
        let value: Option<serde_json::Value> = memo.read_json(&kv, "c").unwrap();
        assert_eq!(value, Some(serde_json::json!({ "n": 3 })));
        assert_eq!(memo.read_json(&kv, "c"), Ok(Some(Record { n: 3 })));
    }
}
