//! The version of the stored format, kept in [`keys::META`]: every reader
//! checks it first, and a migration writes it last.

use super::{KvError, KvStore, keys, read_json};

/// `confab:meta`.
#[derive(Debug, serde::Deserialize, serde::Serialize)]
pub struct Meta {
    pub schema: u32,
}

/// The schema version of the store: `None` for an empty store; a store
/// from before `confab:meta` existed is version 1. An unreadable
/// `confab:meta` is `Corrupt`.
pub fn stored_schema(kv: &impl KvStore) -> Result<Option<u32>, KvError> {
    match read_json::<Meta>(kv, keys::META)? {
        Some(meta) => Ok(Some(meta.schema)),
        None if kv.get(keys::INDEX)?.is_some() => Ok(Some(1)),
        None => Ok(None),
    }
}
