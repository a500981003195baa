//! Confab's keys in the browser's key-value store. Everything lives under one
//! namespace prefix so other apps on the same origin are never touched, and
//! the stored schema version is recorded in [`META`], which every reader
//! checks first.

/// The namespace of every key Confab writes.
pub const PREFIX: &str = "confab:";

/// The version of the stored layout that this build reads and writes.
pub const SCHEMA_VERSION: u32 = 6;

/// `{"schema": N}`: the layout version of everything under [`PREFIX`].
/// Written last by a migration, so a half-done one is never taken as done.
pub const META: &str = "confab:meta";

/// Formats 1 to 4: the whole index (every session's summary and the
/// tombstones) in one value. Format 5 keeps one [`index_entry`] per
/// session instead; this key is only read by the migration to it.
pub const INDEX: &str = "confab:index";

/// The prefix of every index entry (format 5).
pub const INDEX_ENTRIES: &str = "confab:entry:";

/// One session's entry in the index: its summary, or its tombstone once it
/// is deleted. One key per session, so a reply rewrites its own entry and
/// not a list that grows with every conversation.
pub fn index_entry(app_name: &str, user_id: &str, session_id: &str) -> String {
    format!(
        "{INDEX_ENTRIES}{}:{}:{}",
        escape(app_name),
        escape(user_id),
        escape(session_id)
    )
}

/// The key of the session body an index entry is about (the two keys
/// differ only in their kind).
pub fn session_of_entry(entry_key: &str) -> Option<String> {
    let owner = entry_key.strip_prefix(INDEX_ENTRIES)?;
    Some(format!("{PREFIX}session:{owner}"))
}

/// The prefix of the index entries of one user.
pub fn index_entries_of(app_name: &str, user_id: &str) -> String {
    format!("{INDEX_ENTRIES}{}:{}:", escape(app_name), escape(user_id))
}

/// Unreadable entries are moved under this prefix, never deleted.
pub const QUARANTINE_PREFIX: &str = "confab:quarantine:";

/// The copy of the old store kept while a migration runs.
pub const BACKUP_PREFIX: &str = "confab:backup:";

/// Whether `key` holds Confab data (not a quarantined entry or a backup).
pub fn is_data_key(key: &str) -> bool {
    key.starts_with(PREFIX)
        && !key.starts_with(QUARANTINE_PREFIX)
        && !key.starts_with(BACKUP_PREFIX)
}

/// Where an unreadable entry found at `at` (ms since the epoch) goes.
pub fn quarantine(key: &str, at_ms: u64) -> String {
    format!("{QUARANTINE_PREFIX}{at_ms}:{key}")
}

/// A reply being streamed, saved every ~250 ms so a closed tab loses at
/// most that much of it; removed once the reply is an event. One key per
/// reply, so a new reply never overwrites an earlier one's draft; the key
/// is also the name of the lock its writer holds.
pub fn draft(app_name: &str, user_id: &str, session_id: &str, event_id: &str) -> String {
    format!(
        "{PREFIX}draft:{}:{}:{}:{}",
        escape(app_name),
        escape(user_id),
        escape(session_id),
        escape(event_id)
    )
}

/// The prefix of every draft.
pub const DRAFTS: &str = "confab:draft:";

/// The prefix of every draft of one user.
pub fn drafts_of(app_name: &str, user_id: &str) -> String {
    format!("{PREFIX}draft:{}:{}:", escape(app_name), escape(user_id))
}

/// The prefix of every session body of one user.
pub fn sessions_of(app_name: &str, user_id: &str) -> String {
    format!("{PREFIX}session:{}:{}:", escape(app_name), escape(user_id))
}

/// The prefix of blobs waiting to move into the browser's blob store
/// (IndexedDB): the schema-4 migration takes inline bytes out of session
/// bodies and leaves each here, under its SHA-256, until it is stored there.
pub const BLOB_PENDING: &str = "confab:blob-pending:";

/// The key of one pending blob.
pub fn blob_pending(sha256: &str) -> String {
    format!("{BLOB_PENDING}{sha256}")
}

/// User settings (endpoint, model, system prompt).
pub const SETTINGS: &str = "confab:settings";

/// User profiles and which one is active.
pub const PROFILES: &str = "confab:profiles";

/// The session manager's record of one user in one app: the current
/// session (and, up to format 4, a status line per conversation).
pub fn user_record(app_name: &str, user_id: &str) -> String {
    format!("{PREFIX}user:{}:{}", escape(app_name), escape(user_id))
}

/// The prefix of every conversation's status (format 5).
pub const STATUSES: &str = "confab:status:";

/// The session manager's status line of one conversation (its id, start,
/// ending, title and pin): what the sidebar needs without reading the
/// conversation's record. One key per conversation (format 5; format 4
/// listed them all in the user's record, rewritten whenever any changed).
pub fn status(app_name: &str, user_id: &str, session_id: &str) -> String {
    format!(
        "{STATUSES}{}:{}:{}",
        escape(app_name),
        escape(user_id),
        escape(session_id)
    )
}

/// The prefix of the statuses of one user's conversations.
pub fn statuses_of(app_name: &str, user_id: &str) -> String {
    format!("{STATUSES}{}:{}:", escape(app_name), escape(user_id))
}

/// The key of the status of `session_id` of the user whose record is
/// stored under `user_record_key` (for the migration, which has the key).
pub fn status_beside(user_record_key: &str, session_id: &str) -> Option<String> {
    let owner = user_record_key
        .strip_prefix(PREFIX)?
        .strip_prefix("user:")?;
    Some(format!("{STATUSES}{owner}:{}", escape(session_id)))
}

/// The session manager's record of one conversation (query log, trace,
/// feedback, ending).
pub fn conversation(app_name: &str, user_id: &str, session_id: &str) -> String {
    format!(
        "{PREFIX}conversation:{}:{}:{}",
        escape(app_name),
        escape(user_id),
        escape(session_id)
    )
}

/// The key of one session's body (its state and events).
pub fn session(app_name: &str, user_id: &str, session_id: &str) -> String {
    format!(
        "{PREFIX}session:{}:{}:{}",
        escape(app_name),
        escape(user_id),
        escape(session_id)
    )
}

/// The `app:` state shared by every user of an app.
pub fn app_state(app_name: &str) -> String {
    format!("{PREFIX}app-state:{}", escape(app_name))
}

/// The `user:` state shared by all of one user's sessions in an app.
pub fn user_state(app_name: &str, user_id: &str) -> String {
    format!(
        "{PREFIX}user-state:{}:{}",
        escape(app_name),
        escape(user_id)
    )
}

/// Escapes the separator so `a:b` + `c` and `a` + `b:c` never share a key.
fn escape(part: &str) -> String {
    part.replace('%', "%25").replace(':', "%3A")
}

fn unescape(part: &str) -> String {
    part.replace("%3A", ":").replace("%25", "%")
}

/// The kinds of key kept per conversation: its index entry, status, body
/// and record.
const PER_CONVERSATION: [&str; 4] = [INDEX_ENTRIES, STATUSES, BULK[0], BULK[1]];

/// The kinds of key kept in the browser's bulk store (IndexedDB) from
/// format 6: session bodies and conversation records, 80% of a large
/// history's characters, which no startup needs before its first frame.
/// localStorage keeps the rest (entries, statuses, drafts, settings), so
/// the browser's first localStorage access, which loads the whole of it
/// into the page, stays small (docs/index-layout.md, format 6).
pub const BULK: [&str; 2] = ["confab:session:", "confab:conversation:"];

/// Whether `key` is kept in the bulk store (see [`BULK`]).
pub fn in_bulk_store(key: &str) -> bool {
    BULK.iter().any(|kind| key.starts_with(kind))
}

/// What a key is about, for a tab that hears another tab wrote it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum KeyOwner {
    /// One of this user's conversations (its entry, status, body or
    /// record), by session id.
    Conversation(String),
    /// A conversation of another app or user: nothing of this one's.
    Elsewhere,
    /// Anything else (settings, profiles, shared state, the format).
    Shared,
}

/// Whose key `key` is, seen from `user_id` of `app_name`.
pub fn owner_of(key: &str, app_name: &str, user_id: &str) -> KeyOwner {
    let Some(kind) = PER_CONVERSATION.iter().find(|k| key.starts_with(*k)) else {
        return KeyOwner::Shared;
    };
    let mine = format!("{kind}{}:{}:", escape(app_name), escape(user_id));
    match key.strip_prefix(&mine) {
        Some(id) if !id.is_empty() && !id.contains(':') => KeyOwner::Conversation(unescape(id)),
        _ => KeyOwner::Elsewhere,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies_and_records_go_to_the_bulk_store_and_nothing_else_does() {
        assert!(in_bulk_store(&session("confab", "me", "s1")));
        assert!(in_bulk_store(&conversation("confab", "me", "s1")));
        for key in [
            index_entry("confab", "me", "s1"),
            status("confab", "me", "s1"),
            draft("confab", "me", "s1", "e1"),
            user_record("confab", "me"),
            quarantine(&session("confab", "me", "s1"), 1),
            META.to_owned(),
            SETTINGS.to_owned(),
        ] {
            assert!(!in_bulk_store(&key), "{key}");
        }
    }

    #[test]
    fn a_conversations_four_keys_name_it_and_only_for_its_own_user() {
        let id = "a:b%c";
        for key in [
            index_entry("confab", "me", id),
            status("confab", "me", id),
            session("confab", "me", id),
            conversation("confab", "me", id),
        ] {
            assert_eq!(
                owner_of(&key, "confab", "me"),
                KeyOwner::Conversation(id.into())
            );
            assert_eq!(owner_of(&key, "confab", "you"), KeyOwner::Elsewhere);
            assert_eq!(owner_of(&key, "other", "me"), KeyOwner::Elsewhere);
        }
        // A user whose name continues this one's is someone else.
        let longer = session("confab", "me:x", "s1");
        assert_eq!(owner_of(&longer, "confab", "me"), KeyOwner::Elsewhere);
        for key in [
            SETTINGS,
            PROFILES,
            META,
            &user_record("confab", "me"),
            &app_state("confab"),
        ] {
            assert_eq!(owner_of(key, "confab", "me"), KeyOwner::Shared, "{key}");
        }
    }

    #[test]
    fn session_keys_are_namespaced_and_unambiguous() {
        let key = session("confab", "local", "abc");
        assert_eq!(key, "confab:session:confab:local:abc");
        assert_ne!(session("a:b", "c", "d"), session("a", "b:c", "d"));
        assert_ne!(session("a%3Ab", "c", "d"), session("a:b", "c", "d"));
        assert!(key.starts_with(PREFIX));
        assert!(INDEX.starts_with(PREFIX) && SETTINGS.starts_with(PREFIX));
        let entry = index_entry("confab", "lo:cal", "abc");
        assert_eq!(entry, "confab:entry:confab:lo%3Acal:abc");
        assert!(entry.starts_with(&index_entries_of("confab", "lo:cal")));
        assert!(!entry.starts_with(INDEX), "not read as the old index");
        assert_eq!(
            session_of_entry(&entry),
            Some(session("confab", "lo:cal", "abc"))
        );
        assert_eq!(session_of_entry(INDEX), None);
        assert_eq!(
            status_beside(&user_record("confab", "lo:cal"), "a:b"),
            Some(status("confab", "lo:cal", "a:b"))
        );
        assert!(status("confab", "u", "s").starts_with(&statuses_of("confab", "u")));
    }
}
