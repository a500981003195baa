//! What uses the browser's storage: bytes per conversation and in total, so
//! a user whose storage is full can see what to export or delete. Browsers
//! count localStorage in UTF-16 code units (two bytes each), keys included.

use super::{KvError, KvStore, keys};

#[derive(Clone, Debug, Default, PartialEq)]
pub struct SessionUsage {
    pub app_name: String,
    pub user_id: String,
    pub session_id: String,
    /// The session body, its index entry, its conversation record and
    /// status, and any draft.
    pub bytes: u64,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct StorageUsage {
    /// Largest first.
    pub sessions: Vec<SessionUsage>,
    /// Everything of Confab's (data, quarantined entries, backups).
    pub confab_bytes: u64,
    /// Every key on this origin, Confab's and others'.
    pub total_bytes: u64,
}

fn bytes(key: &str, value: &str) -> u64 {
    2 * (key.encode_utf16().count() + value.encode_utf16().count()) as u64
}

/// `(app, user, session)` of a per-session key, undoing the key escaping.
fn owner(key: &str) -> Option<(String, String, String)> {
    let rest = ["session:", "entry:", "status:", "conversation:", "draft:"]
        .iter()
        .find_map(|kind| key.strip_prefix(keys::PREFIX)?.strip_prefix(kind))?;
    let mut parts = rest.splitn(3, ':');
    let unescape = |s: &str| s.replace("%3A", ":").replace("%25", "%");
    Some((
        unescape(parts.next()?),
        unescape(parts.next()?),
        unescape(parts.next()?),
    ))
}

pub fn measure(kv: &impl KvStore) -> Result<StorageUsage, KvError> {
    let mut usage = StorageUsage::default();
    for key in kv.keys()? {
        let Some(value) = kv.get(&key)? else { continue };
        let size = bytes(&key, &value);
        usage.total_bytes += size;
        if !key.starts_with(keys::PREFIX) {
            continue;
        }
        usage.confab_bytes += size;
        if let Some((app_name, user_id, session_id)) = owner(&key) {
            match usage.sessions.iter_mut().find(|s| {
                s.session_id == session_id && s.user_id == user_id && s.app_name == app_name
            }) {
                Some(entry) => entry.bytes += size,
                None => usage.sessions.push(SessionUsage {
                    app_name,
                    user_id,
                    session_id,
                    bytes: size,
                }),
            }
        }
    }
    crate::order::sort_stable_by(&mut usage.sessions, |a, b| b.bytes.cmp(&a.bytes));
    Ok(usage)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::MemoryKv;

    #[test]
    fn bytes_are_counted_per_conversation_and_in_total() {
        let kv = MemoryKv::new();
        kv.set(&keys::session("confab", "u:1", "big"), &"x".repeat(1_000))
            .unwrap();
        kv.set(&keys::conversation("confab", "u:1", "big"), "{}")
            .unwrap();
        kv.set(&keys::index_entry("confab", "u:1", "big"), "{}")
            .unwrap();
        kv.set(&keys::session("confab", "u:1", "small"), "{}")
            .unwrap();
        kv.set(keys::INDEX, "{}").unwrap();
        kv.set("someone-else", "abc").unwrap();
        let usage = measure(&kv).unwrap();
        assert_eq!(usage.sessions.len(), 2);
        assert_eq!(usage.sessions[0].session_id, "big");
        assert_eq!(usage.sessions[0].user_id, "u:1");
        let big_session = bytes(&keys::session("confab", "u:1", "big"), &"x".repeat(1_000));
        let big_record = bytes(&keys::conversation("confab", "u:1", "big"), "{}");
        let big_entry = bytes(&keys::index_entry("confab", "u:1", "big"), "{}");
        assert_eq!(
            usage.sessions[0].bytes,
            big_session + big_record + big_entry
        );
        assert_eq!(
            usage.total_bytes - usage.confab_bytes,
            bytes("someone-else", "abc")
        );
        assert_eq!(usage.total_bytes, 2 * kv.used_units() as u64);
    }
}
