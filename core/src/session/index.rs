//! The index: every session's summary (for the sidebar, without reading
//! bodies) and tombstones of deleted sessions, so a deletion made in one tab
//! is not undone by another tab that still had the session.

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

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Index {
    #[serde(default)]
    pub sessions: Vec<SessionSummary>,
    #[serde(default)]
    pub tombstones: Vec<Tombstone>,
}

fn same(a_app: &str, a_user: &str, a_id: &str, b: &SessionSummary) -> bool {
    a_id == b.id && a_app == b.app_name && a_user == b.user_id
}

impl Index {
    pub fn is_deleted(&self, app_name: &str, user_id: &str, id: &str) -> bool {
        self.tombstones
            .iter()
            .any(|t| t.id == id && t.app_name == app_name && t.user_id == user_id)
    }

    /// Puts `summary` in (replacing the entry with its id).
    pub fn upsert(&mut self, summary: SessionSummary) {
        self.sessions
            .retain(|s| !same(&summary.app_name, &summary.user_id, &summary.id, s));
        self.tombstones.retain(|t| {
            !(t.id == summary.id && t.app_name == summary.app_name && t.user_id == summary.user_id)
        });
        self.sessions.push(summary);
    }

    /// Takes a session out, leaving a tombstone. Returns whether it was listed.
    pub fn delete(&mut self, app_name: &str, user_id: &str, id: &str, now: f64) -> bool {
        let before = self.sessions.len();
        self.sessions.retain(|s| !same(app_name, user_id, id, s));
        if !self.is_deleted(app_name, user_id, id) {
            self.tombstones.push(Tombstone {
                id: id.to_owned(),
                app_name: app_name.to_owned(),
                user_id: user_id.to_owned(),
                deleted_at: now,
            });
        }
        self.sessions.len() != before
    }

    /// Forgets tombstones older than [`TOMBSTONE_SECONDS`].
    pub fn prune(&mut self, now: f64) {
        self.tombstones
            .retain(|t| now - t.deleted_at < TOMBSTONE_SECONDS);
    }

    /// Two tabs' versions of the index as one: every session either lists
    /// (the newer summary of each, with the attachments of both: the tabs'
    /// bodies are merged by event, so the body may refer to either's, and a
    /// blob wrongly kept costs less than one wrongly collected), every
    /// tombstone, and no session that has a tombstone.
    pub fn merge(mut self, other: &Index) -> Index {
        for tombstone in &other.tombstones {
            if !self.is_deleted(&tombstone.app_name, &tombstone.user_id, &tombstone.id) {
                self.tombstones.push(tombstone.clone());
            }
        }
        for theirs in &other.sessions {
            match self
                .sessions
                .iter_mut()
                .find(|s| same(&theirs.app_name, &theirs.user_id, &theirs.id, s))
            {
                Some(mine) => {
                    let mut attachments = std::mem::take(&mut mine.attachments);
                    if mine.last_update_time < theirs.last_update_time {
                        *mine = theirs.clone();
                    }
                    attachments.extend(theirs.attachments.iter().cloned());
                    attachments.extend(std::mem::take(&mut mine.attachments));
                    mine.attachments = crate::order::distinct_sorted(attachments);
                }
                None => self.sessions.push(theirs.clone()),
            }
        }
        let tombstones = std::mem::take(&mut self.tombstones);
        self.sessions.retain(|s| {
            !tombstones
                .iter()
                .any(|t| t.id == s.id && t.app_name == s.app_name && t.user_id == s.user_id)
        });
        self.tombstones = tombstones;
        self
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

    #[test]
    fn a_merge_keeps_both_tabs_sessions_and_the_newer_summary() {
        let mut mine = Index::default();
        mine.upsert(summary("a", 1.0));
        mine.upsert(summary("b", 5.0));
        let mut theirs = Index::default();
        theirs.upsert(summary("b", 7.0));
        theirs.upsert(summary("c", 2.0));
        let merged = mine.merge(&theirs);
        let mut got: Vec<(String, f64)> = merged
            .sessions
            .iter()
            .map(|s| (s.id.clone(), s.last_update_time))
            .collect();
        got.sort_by(|a, b| a.0.cmp(&b.0));
        assert_eq!(
            got,
            [("a".into(), 1.0), ("b".into(), 7.0), ("c".into(), 2.0)]
        );
    }

    #[test]
    fn a_deletion_in_one_tab_wins_over_the_other_tabs_copy() {
        let mut mine = Index::default();
        mine.upsert(summary("a", 1.0));
        mine.upsert(summary("b", 1.0));
        let theirs = mine.clone();
        assert!(mine.delete("confab", "u", "a", 9.0));
        let merged = theirs.clone().merge(&mine);
        assert_eq!(merged.sessions.len(), 1);
        assert!(merged.is_deleted("confab", "u", "a"));
        let merged_back = mine.clone().merge(&theirs);
        assert_eq!(merged_back.sessions.len(), 1, "in either direction");
    }

    #[test]
    fn a_merge_keeps_the_attachments_either_tab_lists() {
        let with = |time: f64, hashes: &[&str]| SessionSummary {
            attachments: hashes.iter().map(|h| h.repeat(64)).collect(),
            ..summary("a", time)
        };
        let mut mine = Index::default();
        mine.upsert(with(5.0, &["b", "c"]));
        let mut theirs = Index::default();
        theirs.upsert(with(3.0, &["a", "b"]));
        let merged = mine.clone().merge(&theirs);
        assert_eq!(merged.sessions[0].last_update_time, 5.0);
        assert_eq!(
            merged.sessions[0].attachments,
            ["a".repeat(64), "b".repeat(64), "c".repeat(64)]
        );
        let back = theirs.merge(&mine);
        assert_eq!(back.sessions[0].last_update_time, 5.0, "the newer summary");
        assert_eq!(back.sessions[0].attachments.len(), 3);
        let text = serde_json::to_string(&summary("x", 1.0)).unwrap();
        assert!(!text.contains("attachments"), "absent when empty: {text}");
    }

    #[test]
    fn old_tombstones_are_pruned() {
        let mut index = Index::default();
        index.delete("confab", "u", "a", 0.0);
        index.prune(TOMBSTONE_SECONDS - 1.0);
        assert_eq!(index.tombstones.len(), 1);
        index.prune(TOMBSTONE_SECONDS + 1.0);
        assert!(index.tombstones.is_empty());
    }
}
