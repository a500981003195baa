//! Many tabs, one store. Each tab writes localStorage with read-merge-write,
//! but two tabs can still race (each read before the other's write landed).
//! The loser hears of it through the `storage` event: [`reconcile`] merges
//! the value another tab just wrote with the value this tab last wrote, and
//! says what to write back if the other tab dropped something of ours.
//! Events are append-only with unique ids, spans and queries have ids, and
//! deletions leave tombstones, so the merges never lose or resurrect data.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::rc::Rc;

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::manager::{Conversation, ConversationStatus, NO_RESPONSE, UserRecord};
use crate::order::sort_stable_by;
use crate::session::index::IndexEntry;
use crate::session::{Event, MessageStatus, Session};
use crate::storage::packed::unpack;
use crate::storage::{KvError, KvStore, keys, stored_form};

/// How settled an event is: a later, more final version of the same event
/// (same id) wins.
fn finality(status: MessageStatus) -> u8 {
    match status {
        MessageStatus::Streaming => 0,
        MessageStatus::Interrupted => 1,
        MessageStatus::Complete | MessageStatus::Stopped | MessageStatus::Error => 2,
    }
}

fn better(a: &Event, b: &Event) -> bool {
    (finality(a.status), a.timestamp) > (finality(b.status), b.timestamp)
}

/// Both tabs' events (each once), in time order; the newer state.
pub fn merge_sessions(mut theirs: Session, mine: &Session) -> Session {
    for event in &mine.events {
        match theirs.events.iter_mut().find(|e| e.id == event.id) {
            Some(existing) if better(event, existing) => *existing = event.clone(),
            Some(_) => {}
            None => theirs.events.push(event.clone()),
        }
    }
    sort_stable_by(&mut theirs.events, |a, b| {
        a.timestamp.total_cmp(&b.timestamp)
    });
    if mine.last_update_time > theirs.last_update_time {
        theirs.state.extend(mine.state.clone());
    } else {
        for (key, value) in &mine.state {
            theirs
                .state
                .entry(key.clone())
                .or_insert_with(|| value.clone());
        }
    }
    theirs.last_update_time = theirs.last_update_time.max(mine.last_update_time);
    theirs
}

/// Both tabs' queries, spans and ratings; an ending from either.
pub fn merge_conversations(mut theirs: Conversation, mine: &Conversation) -> Conversation {
    for query in &mine.queries {
        match theirs
            .queries
            .iter_mut()
            .find(|q| q.id == query.id && !q.id.is_empty())
        {
            // The one with the answer is the later one.
            Some(existing) if existing.response == NO_RESPONSE => *existing = query.clone(),
            Some(_) => {}
            None if query.id.is_empty() => {}
            None => theirs.queries.push(query.clone()),
        }
    }
    sort_stable_by(&mut theirs.queries, |a, b| a.at.total_cmp(&b.at));
    if theirs.trace.root.end.is_none() && mine.trace.root.end.is_some() {
        theirs.trace.root = mine.trace.root.clone();
    }
    for span in &mine.trace.spans {
        match theirs
            .trace
            .spans
            .iter_mut()
            .find(|s| s.span_id == span.span_id)
        {
            Some(existing) if existing.end.is_none() && span.end.is_some() => {
                *existing = span.clone();
            }
            Some(_) => {}
            None => theirs.trace.spans.push(span.clone()),
        }
    }
    sort_stable_by(&mut theirs.trace.spans, |a, b| a.start.total_cmp(&b.start));
    for rating in &mine.feedback {
        if !theirs
            .feedback
            .iter()
            .any(|f| f.event_id == rating.event_id && f.at == rating.at)
        {
            theirs.feedback.push(rating.clone());
        }
    }
    sort_stable_by(&mut theirs.feedback, |a, b| a.at.total_cmp(&b.at));
    if theirs.ended.is_none() {
        theirs.ended = mine.ended.clone();
    }
    if mine.options_at > theirs.options_at {
        theirs.options = mine.options.clone();
        theirs.options_at = mine.options_at;
    }
    if theirs.branched_from.is_none() {
        theirs.branched_from = mine.branched_from.clone();
    }
    for branch in &mine.branches {
        if !theirs
            .branches
            .iter()
            .any(|b| b.session_id == branch.session_id)
        {
            theirs.branches.push(branch.clone());
        }
    }
    theirs
}

/// Two tabs' status of one conversation: an ending from either; of the
/// title and pin, the later change.
pub fn merge_statuses(
    mut theirs: ConversationStatus,
    mine: &ConversationStatus,
) -> ConversationStatus {
    if theirs.ended.is_none() {
        theirs.ended = mine.ended.clone();
    }
    if mine.labels_at > theirs.labels_at {
        theirs.title = mine.title.clone();
        theirs.pinned = mine.pinned;
        theirs.labels_at = mine.labels_at;
    }
    theirs
}

/// Both tabs' conversations of the user (format 4 kept their statuses in
/// the record), each status merged. The current session is the other
/// tab's (the most recent choice).
pub fn merge_user_records(mut theirs: UserRecord, mine: &UserRecord) -> UserRecord {
    for status in &mine.conversations {
        match theirs.status_mut(&status.session_id) {
            Some(existing) => *existing = merge_statuses(existing.clone(), status),
            None => theirs.conversations.push(status.clone()),
        }
    }
    theirs
}

/// The merge of two stored values under `key` (packed or plain), in the
/// form stored there; `None` if it adds nothing to `theirs`.
fn merged<T: DeserializeOwned + Serialize + PartialEq + Clone>(
    key: &str,
    theirs: &str,
    mine: &str,
    merge: impl FnOnce(T, &T) -> T,
) -> Option<String> {
    let parse = |text: &str| -> Option<T> { serde_json::from_str(&unpack(text).ok()?).ok() };
    let theirs = parse(theirs)?;
    let mine = parse(mine)?;
    // Compared as values, not through serde_json::Value: that would compile
    // a second serializer for every stored type into the browser app.
    let original = theirs.clone();
    let result = merge(theirs, &mine);
    if result == original {
        return None;
    }
    serde_json::to_string(&result)
        .ok()
        .map(|text| stored_form(key, text))
}

/// Another tab wrote `theirs` under `key` (`None`: removed it); this tab
/// last wrote `mine` there. Returns the value to write back, if the other
/// tab's value lacks something of ours. Removals and unreadable values are
/// respected: nothing is written back.
pub fn reconcile(key: &str, theirs: Option<&str>, mine: &str) -> Option<String> {
    let theirs = theirs?;
    let session = format!("{}session:", keys::PREFIX);
    let conversation = format!("{}conversation:", keys::PREFIX);
    let user = format!("{}user:", keys::PREFIX);
    if key.starts_with(keys::INDEX_ENTRIES) {
        merged::<IndexEntry>(key, theirs, mine, IndexEntry::merge)
    } else if key.starts_with(&session) {
        merged::<Session>(key, theirs, mine, merge_sessions)
    } else if key.starts_with(&conversation) {
        merged::<Conversation>(key, theirs, mine, merge_conversations)
    } else if key.starts_with(keys::STATUSES) {
        merged::<ConversationStatus>(key, theirs, mine, merge_statuses)
    } else if key.starts_with(&user) {
        merged::<UserRecord>(key, theirs, mine, merge_user_records)
    } else {
        // Settings, profiles, shared state: the last write wins.
        None
    }
}

/// What a burst of another tab's writes asks this tab to read again: the
/// conversations they touched, or everything (storage cleared, settings or
/// profiles changed). A reply in another tab touches its own conversation,
/// so the tab that hears of it re-reads one listing, not every one.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Touched {
    pub everything: bool,
    /// Each once, in the order first touched.
    pub conversations: Vec<String>,
    /// The app's or this user's shared state (part of every session's
    /// state as it is read): the open conversation is read again.
    pub shared_state: bool,
}

impl Touched {
    /// Another tab wrote `key` (`None`: it cleared the storage); this tab
    /// shows `user_id` of `app_name`.
    pub fn note(&mut self, key: Option<&str>, app_name: &str, user_id: &str) {
        let Some(key) = key else {
            self.everything = true;
            return;
        };
        match keys::owner_of(key, app_name, user_id) {
            keys::KeyOwner::Conversation(id) => self.note_conversation(&id),
            keys::KeyOwner::Elsewhere => {}
            keys::KeyOwner::Shared
                if key == keys::app_state(app_name)
                    || key == keys::user_state(app_name, user_id) =>
            {
                self.shared_state = true;
            }
            // A user record holds only which conversation that tab has
            // current: nothing this tab shows; another app's or user's
            // state is not this one's.
            keys::KeyOwner::Shared
                if ["user:", "app-state:", "user-state:"]
                    .iter()
                    .any(|kind| key.starts_with(&format!("{}{kind}", keys::PREFIX))) => {}
            keys::KeyOwner::Shared => self.everything = true,
        }
    }

    /// A conversation this tab must show again (a draft of another tab
    /// appeared in it).
    pub fn note_conversation(&mut self, session_id: &str) {
        if !self.conversations.iter().any(|id| id == session_id) {
            self.conversations.push(session_id.to_owned());
        }
    }
}

/// Keeps the value this tab last wrote under each of its recent keys, for
/// [`reconcile`]. Clones share the record.
#[derive(Clone, Debug, Default)]
pub struct Recording<K> {
    inner: K,
    written: Rc<RefCell<VecDeque<(String, String)>>>,
}

/// Keys remembered (the oldest is forgotten first).
const REMEMBERED: usize = 64;

impl<K: KvStore> Recording<K> {
    pub fn new(inner: K) -> Self {
        Self {
            inner,
            written: Rc::default(),
        }
    }

    /// What this tab last wrote under `key`, if it still remembers.
    pub fn last_written(&self, key: &str) -> Option<String> {
        self.written
            .borrow()
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.clone())
    }
}

impl<K: KvStore> KvStore for Recording<K> {
    fn get(&self, key: &str) -> Result<Option<String>, KvError> {
        self.inner.get(key)
    }

    fn set(&self, key: &str, value: &str) -> Result<(), KvError> {
        self.inner.set(key, value)?;
        let mut written = self.written.borrow_mut();
        written.retain(|(k, _)| k != key);
        written.push_back((key.to_owned(), value.to_owned()));
        if written.len() > REMEMBERED {
            written.pop_front();
        }
        Ok(())
    }

    fn remove(&self, key: &str) -> Result<(), KvError> {
        self.inner.remove(key)?;
        self.written.borrow_mut().retain(|(k, _)| k != key);
        Ok(())
    }

    fn keys(&self) -> Result<Vec<String>, KvError> {
        self.inner.keys()
    }

    fn keys_with_prefix(&self, prefix: &str) -> Result<Vec<String>, KvError> {
        self.inner.keys_with_prefix(prefix)
    }
}

#[cfg(test)]
mod touched_tests {
    use super::Touched;
    use crate::storage::keys;

    #[test]
    fn another_tabs_reply_touches_its_conversation_only() {
        let mut touched = Touched::default();
        for key in [
            keys::session("confab", "me", "s1"),
            keys::index_entry("confab", "me", "s1"),
            keys::user_state("confab", "you"),
            keys::app_state("other-app"),
            keys::conversation("confab", "me", "s1"),
            keys::status("confab", "me", "s2"),
            keys::user_record("confab", "me"),
            // Another profile's reply is not this one's to show.
            keys::session("confab", "you", "s3"),
            keys::index_entry("other-app", "me", "s4"),
        ] {
            touched.note(Some(&key), "confab", "me");
        }
        assert!(!touched.everything);
        assert!(!touched.shared_state);
        assert_eq!(
            touched.conversations.iter().collect::<Vec<_>>(),
            ["s1", "s2"]
        );
    }

    #[test]
    fn this_users_or_apps_shared_state_touches_the_open_conversation_only() {
        for key in [keys::user_state("confab", "me"), keys::app_state("confab")] {
            let mut touched = Touched::default();
            touched.note(Some(&key), "confab", "me");
            assert!(touched.shared_state && !touched.everything, "{key}");
            assert!(touched.conversations.is_empty());
        }
    }

    #[test]
    fn cleared_storage_settings_or_profiles_touch_everything() {
        for key in [
            None,
            Some(keys::SETTINGS),
            Some(keys::PROFILES),
            Some(keys::META),
        ] {
            let mut touched = Touched::default();
            touched.note(key, "confab", "me");
            assert!(touched.everything, "{key:?}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::{ManualClock, SteppingClock};
    use crate::manager::tests::{exchange, limits, manager, own_options};
    use crate::manager::{Branch, ConversationOptions};
    use crate::session::{CreateSession, GetSessionConfig, KvSessionService, SessionService};
    use crate::storage::MemoryKv;

    /// Two tabs that each read the session before the other's write landed.
    #[test]
    fn racing_appends_from_two_tabs_lose_no_event() {
        let shared = MemoryKv::new();
        let tab_a = Recording::new(&shared);
        let tab_b = Recording::new(&shared);
        let mut service_a = KvSessionService::new(tab_a.clone(), SteppingClock::new(10.0, 1.0));
        let mut service_b = KvSessionService::new(tab_b.clone(), SteppingClock::new(10.0, 1.0));
        let session = service_a
            .create_session(CreateSession::new("confab", "u"))
            .unwrap();
        let key = keys::session("confab", "u", &session.id);
        let before = shared.get(&key).unwrap().unwrap();

        let mut copy_a = session.clone();
        service_a
            .append_event(&mut copy_a, Event::text("user", "a", 20.0, "from tab A"))
            .unwrap();
        // Tab B's read was stale: it had not seen A's write yet.
        shared.set(&key, &before).unwrap();
        let mut copy_b = session.clone();
        service_b
            .append_event(&mut copy_b, Event::text("user", "b", 21.0, "from tab B"))
            .unwrap();
        let after_b = shared.get(&key).unwrap().unwrap();
        assert!(!after_b.contains("from tab A"), "A's event was overwritten");

        // Tab A hears of B's write and merges.
        let mine = tab_a.last_written(&key).unwrap();
        let fix = reconcile(&key, Some(&after_b), &mine).expect("A writes back");
        tab_a.set(&key, &fix).unwrap();
        // Tab B hears of A's fix: nothing of B's is missing, so no write.
        let mine_b = tab_b.last_written(&key).unwrap();
        assert_eq!(reconcile(&key, Some(&fix), &mine_b), None);

        let stored = service_a
            .get_session("confab", "u", &session.id, GetSessionConfig::default())
            .unwrap();
        let texts: Vec<String> = stored.events.iter().map(Event::text_content).collect();
        assert_eq!(texts, ["from tab A", "from tab B"]);
    }

    #[test]
    fn the_more_final_version_of_an_event_wins() {
        let mut session = Session {
            id: "s".into(),
            app_name: "a".into(),
            user_id: "u".into(),
            state: Default::default(),
            events: vec![],
            last_update_time: 1.0,
        };
        let mut partial = Event::text("m", "i", 2.0, "half");
        partial.status = MessageStatus::Interrupted;
        let mut whole = partial.clone();
        whole.status = MessageStatus::Complete;
        whole.content = Some(crate::session::Content {
            role: "model".into(),
            parts: vec![crate::session::Part::text("whole")],
        });
        session.events = vec![partial.clone()];
        let mut mine = session.clone();
        mine.events = vec![whole.clone()];
        let merged = merge_sessions(session.clone(), &mine);
        assert_eq!(merged.events, [whole.clone()]);
        let merged_back = merge_sessions(mine, &session);
        assert_eq!(merged_back.events, [whole]);
    }

    #[test]
    fn a_removal_or_unreadable_value_is_not_written_over() {
        let key = keys::session("a", "u", "s");
        assert_eq!(reconcile(&key, None, "{}"), None);
        assert_eq!(reconcile(&key, Some("garbage"), "{}"), None);
        assert_eq!(
            reconcile(keys::SETTINGS, Some("{}"), r#"{"model":"x"}"#),
            None
        );
    }

    #[test]
    fn index_entries_keep_both_tabs_sessions_and_honour_deletions() {
        let shared = MemoryKv::new();
        let tab_a = Recording::new(&shared);
        let tab_b = Recording::new(&shared);
        let mut service_a = KvSessionService::new(tab_a.clone(), SteppingClock::new(10.0, 1.0));
        let mut service_b = KvSessionService::new(tab_b.clone(), SteppingClock::new(10.0, 1.0));
        // Each tab's new conversation has its own entry: nothing to race on.
        let new = || CreateSession::new("confab", "u");
        let from_a = service_a.create_session(new()).unwrap();
        let from_b = service_b.create_session(new()).unwrap();
        let doomed = service_a.create_session(new()).unwrap();
        assert_eq!(service_b.list_sessions("confab", "u").unwrap().len(), 3);

        // A deletes a conversation; B, which had not heard, writes its
        // entry back (a reply it was saving).
        let key = keys::index_entry("confab", "u", &doomed.id);
        let listed = shared.get(&key).unwrap().unwrap();
        service_a.delete_session("confab", "u", &doomed.id).unwrap();
        let tombstone = tab_a.last_written(&key).unwrap();
        tab_b.set(&key, &listed).unwrap();
        // A hears of it: the tombstone goes back.
        let fix = reconcile(&key, Some(&listed), &tombstone).expect("A writes back");
        tab_a.set(&key, &fix).unwrap();
        // B hears of A's fix: nothing of B's is missing, so no write.
        let mine_b = tab_b.last_written(&key).unwrap();
        assert_eq!(reconcile(&key, Some(&fix), &mine_b), None);

        let mut ids: Vec<String> = service_b
            .list_sessions("confab", "u")
            .unwrap()
            .into_iter()
            .map(|s| s.id)
            .collect();
        ids.sort();
        let mut expected = vec![from_a.id, from_b.id];
        expected.sort();
        assert_eq!(ids, expected);
        assert!(matches!(
            service_b.get_session("confab", "u", &doomed.id, GetSessionConfig::default()),
            Err(crate::session::SessionError::NotFound { .. })
        ));
    }

    #[test]
    fn of_two_tabs_summaries_of_one_conversation_the_newer_is_kept() {
        let shared = MemoryKv::new();
        let tab_a = Recording::new(&shared);
        let mut service = KvSessionService::new(tab_a.clone(), SteppingClock::new(10.0, 1.0));
        let mut session = service
            .create_session(CreateSession::new("confab", "u"))
            .unwrap();
        let key = keys::index_entry("confab", "u", &session.id);
        let older = shared.get(&key).unwrap().unwrap();
        service
            .append_event(&mut session, Event::text("user", "i", 20.0, "newer"))
            .unwrap();
        let newer = tab_a.last_written(&key).unwrap();
        // Another tab's older summary landed over ours: ours goes back.
        let fix = reconcile(&key, Some(&older), &newer).expect("write back");
        let entry: IndexEntry = serde_json::from_str(&fix).unwrap();
        assert_eq!(entry.summary().unwrap().title.as_deref(), Some("newer"));
        // Theirs newer than ours: nothing to write back.
        assert_eq!(reconcile(&key, Some(&newer), &older), None);
    }

    #[test]
    fn the_later_rename_or_pin_wins_between_two_tabs() {
        let status = |title: Option<&str>, pinned: bool, at: f64| ConversationStatus {
            session_id: "s".into(),
            conversation_id: "conv_1".into(),
            started_at: 1.0,
            ended: None,
            title: title.map(str::to_owned),
            pinned,
            labels_at: at,
        };
        let record = |s: ConversationStatus| UserRecord {
            current: None,
            conversations: vec![s],
        };
        let older = record(status(Some("old name"), false, 5.0));
        let newer = record(status(Some("new name"), true, 9.0));
        let merged = merge_user_records(older.clone(), &newer);
        assert_eq!(merged.conversations[0].title.as_deref(), Some("new name"));
        assert!(merged.conversations[0].pinned);
        let merged = merge_user_records(newer.clone(), &older);
        assert_eq!(merged.conversations[0].title.as_deref(), Some("new name"));
        // A status under its own key (format 5), through reconcile.
        let key = keys::status("confab", "u", "s");
        let (old_status, new_status) = (&older.conversations[0], &newer.conversations[0]);
        let text = |s: &ConversationStatus| serde_json::to_string(s).unwrap();
        let back = reconcile(&key, Some(&text(old_status)), &text(new_status)).expect("write back");
        assert!(back.contains("new name"), "{back}");
        assert_eq!(
            reconcile(&key, Some(&text(new_status)), &text(old_status)),
            None
        );
        // Through reconcile, as a storage event delivers it.
        let key = keys::user_record("confab", "u");
        let back = reconcile(
            &key,
            Some(&serde_json::to_string(&older).unwrap()),
            &serde_json::to_string(&newer).unwrap(),
        )
        .expect("the other tab dropped our rename: write it back");
        assert!(back.contains("new name"), "{back}");
    }

    /// The record of a conversation of one exchange, whose `options` were
    /// set a second later.
    fn recorded(options: ConversationOptions) -> Conversation {
        let kv = MemoryKv::new();
        let clock = ManualClock::at(1_000.0);
        let mut m = manager(&kv, &clock, limits());
        let (query, _) = exchange(&mut m, &clock, "ada", "hello", "hi");
        clock.advance(1.0);
        m.set_options("ada", &query.session.id, options).unwrap();
        m.conversation("ada", &query.session.id).unwrap()
    }

    #[test]
    fn the_later_change_of_a_conversations_options_wins() {
        let options = own_options();
        let restarted = recorded(options.clone());
        // Another tab changed them earlier: this tab's later change is kept.
        let mut older = restarted.clone();
        older.options = Default::default();
        older.options_at = 500.0;
        assert_eq!(
            merge_conversations(older.clone(), &restarted).options,
            options
        );
        assert_eq!(merge_conversations(restarted, &older).options, options);
    }

    #[test]
    fn branches_made_in_two_tabs_are_both_kept() {
        let record = recorded(ConversationOptions::default());
        let link = |session: &str| Branch {
            session_id: session.into(),
            event_id: "e".into(),
            at: 1.0,
        };
        let (mut theirs, mut mine) = (record.clone(), record);
        theirs.branches.push(link("from-tab-a"));
        mine.branches.push(link("from-tab-b"));
        let merged = merge_conversations(theirs, &mine);
        let sessions: Vec<&str> = merged
            .branches
            .iter()
            .map(|b| b.session_id.as_str())
            .collect();
        assert_eq!(sessions, ["from-tab-a", "from-tab-b"]);
    }
}
