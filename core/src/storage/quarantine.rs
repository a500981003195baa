//! Corrupt entries are moved aside, never deleted and never allowed to
//! blank the app: the raw text goes under a quarantine key (where an export
//! or a person can still find it), the original key is freed, and a report
//! says what happened.

use serde::{Deserialize, Serialize};

use super::{KvError, KvStore, keys};

/// One entry moved aside.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Quarantined {
    pub key: String,
    /// Where the raw text is now; `None` if there was no room to copy it,
    /// in which case it was left where it was.
    pub moved_to: Option<String>,
    pub reason: String,
}

impl std::fmt::Display for Quarantined {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.moved_to {
            Some(to) => write!(
                f,
                "The stored entry {} could not be read ({}); it was moved aside to {} and everything else loaded.",
                self.key, self.reason, to
            ),
            None => write!(
                f,
                "The stored entry {} could not be read ({}); there was no room to move it aside, so it was left as it is and skipped.",
                self.key, self.reason
            ),
        }
    }
}

/// Moves the text under `key` to a quarantine key stamped `now` (seconds).
pub fn quarantine(
    kv: &impl KvStore,
    key: &str,
    reason: &str,
    now: f64,
) -> Result<Quarantined, KvError> {
    let Some(text) = kv.get(key)? else {
        return Ok(Quarantined {
            key: key.to_owned(),
            moved_to: None,
            reason: reason.to_owned(),
        });
    };
    let target = keys::quarantine(key, (now * 1000.0) as u64);
    match kv.set(&target, &text) {
        Ok(()) => {
            kv.remove(key)?;
            Ok(Quarantined {
                key: key.to_owned(),
                moved_to: Some(target),
                reason: reason.to_owned(),
            })
        }
        Err(KvError::QuotaExceeded { .. }) => Ok(Quarantined {
            key: key.to_owned(),
            moved_to: None,
            reason: reason.to_owned(),
        }),
        Err(error) => Err(error),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::MemoryKv;

    #[test]
    fn the_raw_text_moves_aside_and_the_key_is_freed() {
        let kv = MemoryKv::new();
        kv.set("confab:session:a:b:c", "{garbage").unwrap();
        let moved = quarantine(&kv, "confab:session:a:b:c", "EOF", 12.5).unwrap();
        assert_eq!(
            moved.moved_to.as_deref(),
            Some("confab:quarantine:12500:confab:session:a:b:c")
        );
        assert_eq!(kv.get("confab:session:a:b:c").unwrap(), None);
        assert_eq!(
            kv.get(moved.moved_to.as_ref().unwrap()).unwrap().as_deref(),
            Some("{garbage")
        );
        assert!(moved.to_string().contains("moved aside"));
        assert!(!keys::is_data_key(moved.moved_to.as_ref().unwrap()));
    }

    #[test]
    fn without_room_it_stays_where_it_was() {
        let kv = MemoryKv::new();
        kv.set("confab:index", &"x".repeat(50)).unwrap();
        kv.set_quota(Some(kv.used_units()));
        let moved = quarantine(&kv, "confab:index", "bad", 1.0).unwrap();
        assert_eq!(moved.moved_to, None);
        assert!(kv.get("confab:index").unwrap().is_some(), "nothing deleted");
    }
}
