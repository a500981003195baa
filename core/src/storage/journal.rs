//! All-or-nothing groups of writes over any key-value store. An operation
//! that writes several keys (an event's session body, the index, the
//! conversation record) runs between `begin` and `commit`; if any write
//! fails (a full quota, typically), `rollback` puts every key it touched
//! back as it was, so nothing half-written remains.

use std::cell::RefCell;
use std::rc::Rc;

use super::{KvError, KvStore};

#[derive(Debug, Default)]
struct Log {
    depth: usize,
    /// Each touched key and its value before the first write, in order.
    undo: Vec<(String, Option<String>)>,
}

/// A key-value store with transactions. Clones share the journal, so the
/// session service and the manager can hold the same store.
#[derive(Clone, Debug, Default)]
pub struct Journaled<K> {
    inner: K,
    log: Rc<RefCell<Log>>,
}

impl<K: KvStore> Journaled<K> {
    pub fn new(inner: K) -> Self {
        Self {
            inner,
            log: Rc::default(),
        }
    }

    pub fn inner(&self) -> &K {
        &self.inner
    }

    fn remember(&self, key: &str) -> Result<(), KvError> {
        let mut log = self.log.borrow_mut();
        if log.depth > 0 && !log.undo.iter().any(|(k, _)| k == key) {
            let old = self.inner.get(key)?;
            log.undo.push((key.to_owned(), old));
        }
        Ok(())
    }
}

impl<K: KvStore> KvStore for Journaled<K> {
    fn get(&self, key: &str) -> Result<Option<String>, KvError> {
        self.inner.get(key)
    }

    fn set(&self, key: &str, value: &str) -> Result<(), KvError> {
        self.remember(key)?;
        self.inner.set(key, value)
    }

    fn remove(&self, key: &str) -> Result<(), KvError> {
        self.remember(key)?;
        self.inner.remove(key)
    }

    fn keys(&self) -> Result<Vec<String>, KvError> {
        self.inner.keys()
    }

    fn keys_with_prefix(&self, prefix: &str) -> Result<Vec<String>, KvError> {
        self.inner.keys_with_prefix(prefix)
    }

    fn begin(&self) {
        self.log.borrow_mut().depth += 1;
    }

    fn commit(&self) {
        let mut log = self.log.borrow_mut();
        log.depth = log.depth.saturating_sub(1);
        if log.depth == 0 {
            log.undo.clear();
        }
    }

    /// Undoes every write since the outermost `begin` (an inner rollback
    /// leaves the decision to the outer one).
    fn rollback(&self) {
        let undo = {
            let mut log = self.log.borrow_mut();
            log.depth = log.depth.saturating_sub(1);
            if log.depth > 0 {
                return;
            }
            std::mem::take(&mut log.undo)
        };
        // Restoring an old value frees the room the failed write wanted.
        for (key, old) in undo.into_iter().rev() {
            let _ = match old {
                Some(value) => self.inner.set(&key, &value),
                None => self.inner.remove(&key),
            };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::MemoryKv;

    #[test]
    fn a_failed_group_leaves_every_key_as_it_was() {
        let kv = MemoryKv::with_quota(60);
        kv.set("a", "old").unwrap();
        let journaled = Journaled::new(&kv);
        journaled.begin();
        journaled.set("a", "new value").unwrap();
        journaled.set("b", "added").unwrap();
        journaled.remove("a").unwrap();
        journaled.set("a", "again").unwrap();
        let failed = journaled.set("c", &"x".repeat(100));
        assert!(matches!(failed, Err(KvError::QuotaExceeded { .. })));
        journaled.rollback();
        assert_eq!(kv.get("a").unwrap().as_deref(), Some("old"));
        assert_eq!(kv.get("b").unwrap(), None);
        assert_eq!(kv.keys().unwrap(), ["a"]);
    }

    #[test]
    fn a_committed_group_stays_and_writes_outside_groups_are_not_logged() {
        let kv = MemoryKv::new();
        let journaled = Journaled::new(&kv);
        journaled.set("outside", "1").unwrap();
        journaled.begin();
        journaled.set("inside", "2").unwrap();
        journaled.commit();
        journaled.begin();
        journaled.rollback();
        assert_eq!(kv.keys().unwrap(), ["inside", "outside"]);
    }

    #[test]
    fn only_the_outermost_group_decides() {
        let kv = MemoryKv::new();
        let journaled = Journaled::new(&kv);
        let clone = journaled.clone();
        journaled.begin();
        journaled.set("outer", "1").unwrap();
        clone.begin();
        clone.set("inner", "2").unwrap();
        clone.commit();
        journaled.rollback();
        assert!(
            kv.keys().unwrap().is_empty(),
            "the shared journal undid both"
        );
    }
}
