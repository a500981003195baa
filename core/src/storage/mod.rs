//! Persistence: a string key-value store (localStorage in the browser, a map
//! in tests) and the layout of Confab's keys in it.

pub mod inline;
mod journal;
pub mod keys;
mod memo;
mod memory_kv;
pub mod migrate;
pub mod packed;
pub mod quarantine;
mod schema;
pub mod usage;

pub use inline::{NewBlob, PendingBlobs, pending_blobs};
pub use journal::Journaled;
pub use memo::ParseMemo;
pub use memory_kv::MemoryKv;
pub use quarantine::Quarantined;
pub use schema::{Meta, stored_schema};

use thiserror::Error;

/// What a key-value store can refuse.
#[derive(Clone, Debug, Error, PartialEq)]
pub enum KvError {
    /// The browser refused the write because its storage quota is used up.
    #[error(
        "browser storage is full: {bytes} bytes could not be saved under {key}; export or delete old conversations to make room"
    )]
    QuotaExceeded { key: String, bytes: usize },
    /// Storage is switched off (private mode, blocked cookies) or missing.
    #[error(
        "browser storage is unavailable ({0}); conversations will not be saved, so allow site data for this page"
    )]
    Unavailable(String),
    /// Stored conversations read before the store holding them has
    /// loaded (the app draws its first frame while IndexedDB loads).
    #[error("your conversations are still loading ({0}); try again in a moment")]
    NotLoaded(String),
    #[error("browser storage failed: {0}")]
    Other(String),
    /// A stored value that does not parse; it is left as it is.
    #[error("stored data under {key} is unreadable ({reason}); it was left untouched")]
    Corrupt { key: String, reason: String },
}

/// Reads the JSON value under `key`: `None` if absent, `Corrupt` (never a
/// panic) if it does not parse as `T`.
pub fn read_json<T: serde::de::DeserializeOwned>(
    kv: &impl KvStore,
    key: &str,
) -> Result<Option<T>, KvError> {
    let Some(text) = kv.get(key)? else {
        return Ok(None);
    };
    parse_json(key, &text).map(Some)
}

/// `text`, stored under `key`, unpacked and parsed as `T`; `Corrupt` if it
/// does not unpack or parse.
fn parse_json<T: serde::de::DeserializeOwned>(key: &str, text: &str) -> Result<T, KvError> {
    let corrupt = |reason: String| KvError::Corrupt {
        key: key.to_owned(),
        reason,
    };
    let text = packed::unpack(text).map_err(|e| corrupt(e.to_string()))?;
    serde_json::from_str(&text).map_err(|e| corrupt(e.to_string()))
}

/// Writes `value` as JSON under `key`, packed if the key is one of those
/// ([`packed::is_packed_key`]).
pub fn write_json<T: serde::Serialize>(
    kv: &impl KvStore,
    key: &str,
    value: &T,
) -> Result<(), KvError> {
    let text = serde_json::to_string(value).map_err(|e| KvError::Other(e.to_string()))?;
    kv.set(key, &stored_form(key, text))
}

/// `text` as it is stored under `key`: packed or as it is.
pub fn stored_form(key: &str, text: String) -> String {
    if packed::is_packed_key(key) {
        packed::pack(&text)
    } else {
        text
    }
}

/// A synchronous string key-value store, as localStorage is.
pub trait KvStore {
    fn get(&self, key: &str) -> Result<Option<String>, KvError>;
    fn set(&self, key: &str, value: &str) -> Result<(), KvError>;
    fn remove(&self, key: &str) -> Result<(), KvError>;
    /// Every key in the store (ours and others').
    fn keys(&self) -> Result<Vec<String>, KvError>;
    /// The keys that start with `prefix`. A store that keeps some kinds of
    /// key apart (the browser's, bodies in IndexedDB) lists only where
    /// such keys can be: a sidebar listing need not see 4,000 bodies.
    fn keys_with_prefix(&self, prefix: &str) -> Result<Vec<String>, KvError> {
        let mut keys = self.keys()?;
        keys.retain(|key| key.starts_with(prefix));
        Ok(keys)
    }

    /// Starts a group of writes that `rollback` can undo (see
    /// [`Journaled`]); plain stores have no journal and ignore it.
    fn begin(&self) {}
    fn commit(&self) {}
    fn rollback(&self) {}
}

impl<K: KvStore + ?Sized> KvStore for &K {
    fn get(&self, key: &str) -> Result<Option<String>, KvError> {
        (**self).get(key)
    }
    fn set(&self, key: &str, value: &str) -> Result<(), KvError> {
        (**self).set(key, value)
    }
    fn remove(&self, key: &str) -> Result<(), KvError> {
        (**self).remove(key)
    }
    fn keys(&self) -> Result<Vec<String>, KvError> {
        (**self).keys()
    }
    fn keys_with_prefix(&self, prefix: &str) -> Result<Vec<String>, KvError> {
        (**self).keys_with_prefix(prefix)
    }
    fn begin(&self) {
        (**self).begin()
    }
    fn commit(&self) {
        (**self).commit()
    }
    fn rollback(&self) {
        (**self).rollback()
    }
}
