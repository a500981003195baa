//! The index: every session's summary (for the sidebar, without reading
//! bodies) and tombstones of deleted sessions, so a deletion made in one tab
//! is not undone by another tab that still had the session.
//!
//! From format 5 each session has its own entry ([`IndexEntry`], under
//! [`crate::storage::keys::index_entry`]): a reply rewrites one small value,
//! whatever the number of conversations. Format 4 kept them all in one
//! value, which the migration to format 5 splits
//! ([`crate::storage::migrate::v4_to_v5`]).

use serde::{Deserialize, Serialize};

use super::SessionSummary;

/// How long a tombstone is kept: far longer than any tab stays stale.
pub const TOMBSTONE_SECONDS: f64 = 30.0 * 86_400.0;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Tombstone {
    pub id: String,
    pub app_name: String,
    pub user_id: String,
    pub deleted_at: f64,
}

/// One session's entry: listed with its summary, or deleted.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum IndexEntry {
    Listed(SessionSummary),
    Deleted(Tombstone),
}

impl IndexEntry {
    /// `(app_name, user_id, session id)` of the session it is about.
    pub fn owner(&self) -> (&str, &str, &str) {
        match self {
            Self::Listed(s) => (&s.app_name, &s.user_id, &s.id),
            Self::Deleted(t) => (&t.app_name, &t.user_id, &t.id),
        }
    }

    /// The key it is stored under.
    pub fn key(&self) -> String {
        let (app_name, user_id, id) = self.owner();
        crate::storage::keys::index_entry(app_name, user_id, id)
    }

    pub fn summary(&self) -> Option<&SessionSummary> {
        match self {
            Self::Listed(summary) => Some(summary),
            Self::Deleted(_) => None,
        }
    }

    pub fn is_deleted(&self) -> bool {
        matches!(self, Self::Deleted(_))
    }

    /// A tombstone old enough to forget (see [`TOMBSTONE_SECONDS`]).
    pub fn is_expired_tombstone(&self, now: f64) -> bool {
        matches!(self, Self::Deleted(t) if now - t.deleted_at >= TOMBSTONE_SECONDS)
    }

    /// Two tabs' versions of one session's entry as one: a tombstone wins
    /// (a deletion is never undone by a tab that had not heard of it); of
    /// two summaries the newer, with the attachments of both (the tabs'
    /// bodies are merged by event, so the body may refer to either's, and a
    /// blob wrongly kept costs less than one wrongly collected).
    pub fn merge(self, other: &IndexEntry) -> IndexEntry {
        match (self, other) {
            (Self::Deleted(mine), _) => Self::Deleted(mine),
            (Self::Listed(_), Self::Deleted(theirs)) => Self::Deleted(theirs.clone()),
            (Self::Listed(mut mine), Self::Listed(theirs)) => {
                let mut attachments = std::mem::take(&mut mine.attachments);
                if mine.last_update_time < theirs.last_update_time {
                    mine = theirs.clone();
                }
                attachments.extend(theirs.attachments.iter().cloned());
                attachments.extend(std::mem::take(&mut mine.attachments));
                mine.attachments = crate::order::distinct_sorted(attachments);
                Self::Listed(mine)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn summary(id: &str, time: f64) -> SessionSummary {
        SessionSummary {
            id: id.into(),
            app_name: "confab".into(),
            user_id: "u".into(),
            title: Some(id.into()),
            last_update_time: time,
            event_count: 0,
            attachments: Vec::new(),
        }
    }

    fn tombstone(id: &str, at: f64) -> IndexEntry {
        IndexEntry::Deleted(Tombstone {
            id: id.into(),
            app_name: "confab".into(),
            user_id: "u".into(),
            deleted_at: at,
        })
    }

    #[test]
    fn a_merge_keeps_the_newer_summary_in_either_direction() {
        let older = IndexEntry::Listed(summary("b", 5.0));
        let newer = IndexEntry::Listed(summary("b", 7.0));
        assert_eq!(older.clone().merge(&newer), newer);
        assert_eq!(newer.clone().merge(&older), newer);
    }

    #[test]
    fn a_deletion_in_one_tab_wins_over_the_other_tabs_copy() {
        let listed = IndexEntry::Listed(summary("a", 10.0));
        let deleted = tombstone("a", 9.0);
        assert_eq!(listed.clone().merge(&deleted), deleted);
        assert_eq!(deleted.clone().merge(&listed), deleted, "either direction");
        assert!(deleted.is_deleted() && deleted.summary().is_none());
    }

    #[test]
    fn a_merge_keeps_the_attachments_either_tab_lists() {
        let with = |time: f64, hashes: &[&str]| {
            IndexEntry::Listed(SessionSummary {
                attachments: hashes.iter().map(|h| h.repeat(64)).collect(),
                ..summary("a", time)
            })
        };
        let mine = with(5.0, &["b", "c"]);
        let theirs = with(3.0, &["a", "b"]);
        for merged in [mine.clone().merge(&theirs), theirs.merge(&mine)] {
            let merged = merged.summary().unwrap().clone();
            assert_eq!(merged.last_update_time, 5.0, "the newer summary");
            assert_eq!(
                merged.attachments,
                ["a".repeat(64), "b".repeat(64), "c".repeat(64)]
            );
        }
        let text = serde_json::to_string(&summary("x", 1.0)).unwrap();
        assert!(!text.contains("attachments"), "absent when empty: {text}");
    }

    #[test]
    fn an_entry_is_stored_under_its_sessions_key_and_reads_back() {
        let entry = IndexEntry::Listed(summary("a:b", 1.0));
        assert_eq!(entry.key(), "confab:entry:confab:u:a%3Ab");
        let text = serde_json::to_string(&entry).unwrap();
        assert!(text.starts_with(r#"{"listed":{"#), "{text}");
        assert_eq!(serde_json::from_str::<IndexEntry>(&text).unwrap(), entry);
        let gone = tombstone("a", 2.0);
        let text = serde_json::to_string(&gone).unwrap();
        assert!(text.starts_with(r#"{"deleted":{"#), "{text}");
        assert_eq!(serde_json::from_str::<IndexEntry>(&text).unwrap(), gone);
    }

    #[test]
    fn old_tombstones_expire() {
        let gone = tombstone("a", 0.0);
        assert!(!gone.is_expired_tombstone(TOMBSTONE_SECONDS - 1.0));
        assert!(gone.is_expired_tombstone(TOMBSTONE_SECONDS + 1.0));
        assert!(!IndexEntry::Listed(summary("a", 0.0)).is_expired_tombstone(1e12));
    }
}
