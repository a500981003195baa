use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;

use super::{KvError, KvStore};

/// An in-memory key-value store with an optional quota, which it enforces
/// the way browsers do: on the UTF-16 length of keys plus values.
#[derive(Debug, Default)]
pub struct MemoryKv {
    entries: RefCell<BTreeMap<String, String>>,
    quota_units: Cell<Option<usize>>,
}

impl MemoryKv {
    pub fn new() -> Self {
        Self::default()
    }

    /// A store that refuses writes beyond `units` UTF-16 code units in all.
    pub fn with_quota(units: usize) -> Self {
        Self {
            entries: RefCell::default(),
            quota_units: Cell::new(Some(units)),
        }
    }

    /// Changes the quota (`None`: unlimited), as if the disk filled up.
    pub fn set_quota(&self, units: Option<usize>) {
        self.quota_units.set(units);
    }

    /// UTF-16 code units used by keys and values (what browsers count).
    pub fn used_units(&self) -> usize {
        self.entries
            .borrow()
            .iter()
            .map(|(k, v)| utf16_len(k) + utf16_len(v))
            .sum()
    }
}

fn utf16_len(s: &str) -> usize {
    s.encode_utf16().count()
}

impl KvStore for MemoryKv {
    fn get(&self, key: &str) -> Result<Option<String>, KvError> {
        Ok(self.entries.borrow().get(key).cloned())
    }

    fn set(&self, key: &str, value: &str) -> Result<(), KvError> {
        if let Some(quota) = self.quota_units.get() {
            let current = self
                .entries
                .borrow()
                .get(key)
                .map_or(0, |v| utf16_len(key) + utf16_len(v));
            let after = self.used_units() - current + utf16_len(key) + utf16_len(value);
            if after > quota {
                return Err(KvError::QuotaExceeded {
                    key: key.to_owned(),
                    bytes: value.len(),
                });
            }
        }
        self.entries
            .borrow_mut()
            .insert(key.to_owned(), value.to_owned());
        Ok(())
    }

    fn remove(&self, key: &str) -> Result<(), KvError> {
        self.entries.borrow_mut().remove(key);
        Ok(())
    }

    fn keys(&self) -> Result<Vec<String>, KvError> {
        Ok(self.entries.borrow().keys().cloned().collect())
    }
}
