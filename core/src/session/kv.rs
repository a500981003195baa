//! The session service over a key-value store: what persists conversations
//! in the browser's localStorage (and in a [`MemoryKv`] in host tests).
//!
//! Layout (format 5): one key per session body (with its session-scoped
//! state), one key per app's and per user's shared state, and one index
//! entry per session: its summary, or its tombstone once deleted (see
//! [`crate::storage::keys`]). A write touches the entry of its own session
//! only, so its cost does not grow with the number of sessions; listing
//! reads every entry. Writes go body first, entry last, so an entry never
//! lists a session that is not there. Every operation checks the schema
//! version in `confab:meta` first.
//!
//! An entry that does not parse is moved aside (quarantined) and reported,
//! and made anew from its session's body.
//!
//! [`MemoryKv`]: crate::storage::MemoryKv

use std::cell::RefCell;

use serde::Serialize;
use serde::de::DeserializeOwned;

use super::index::{IndexEntry, Tombstone};
use super::model::{Event, Session, SessionSummary, State, new_id};
use super::service::{
    CreateSession, GetSessionConfig, SessionError, SessionService, apply_event,
    apply_event_to_stored, ensure_fresh, initial_events, newest_first, trim_events,
};
use super::state::ScopedState;
use crate::clock::Clock;
use crate::storage::quarantine::quarantine;
use crate::storage::{
    KvError, KvStore, Meta, Quarantined, keys, read_json, stored_schema, write_json,
};

/// Why a format-4 index still present in a format-5 store is moved aside:
/// the upgrade found it unreadable and listed the sessions from their bodies.
const LEFTOVER_INDEX: &str = "the old list of conversations could not be read when the storage was upgraded; the list was rebuilt from the conversations themselves";

pub struct KvSessionService<K: KvStore, C: Clock> {
    kv: K,
    clock: C,
    /// A failure to update the index after the session itself was saved: the
    /// data is safe, but the user should hear that storage is in trouble.
    warning: Option<KvError>,
    /// Entries moved aside since the last `take_quarantined`.
    quarantined: RefCell<Vec<Quarantined>>,
}

impl<K: KvStore, C: Clock> KvSessionService<K, C> {
    pub fn new(kv: K, clock: C) -> Self {
        Self {
            kv,
            clock,
            warning: None,
            quarantined: RefCell::default(),
        }
    }

    pub fn kv(&self) -> &K {
        &self.kv
    }

    /// Every summary in the index, all apps and users, newest first.
    pub fn all_summaries(&self) -> Result<Vec<SessionSummary>, SessionError> {
        self.check_schema()?;
        let mut sessions = self.listed(keys::INDEX_ENTRIES)?;
        newest_first(&mut sessions);
        Ok(sessions)
    }

    /// Moves `key` aside and remembers the report.
    fn set_aside(&self, key: &str, reason: &str) -> Result<(), SessionError> {
        let report = quarantine(&self.kv, key, reason, self.clock.now())?;
        self.quarantined.borrow_mut().push(report);
        Ok(())
    }

    /// Reads JSON under `key`; unreadable text is moved aside and read as
    /// absent (the caller decides what absent means).
    fn read_or_set_aside<T: DeserializeOwned>(&self, key: &str) -> Result<Option<T>, SessionError> {
        match read_json(&self.kv, key) {
            Ok(value) => Ok(value),
            Err(KvError::Corrupt { reason, .. }) => {
                self.set_aside(key, &reason)?;
                Ok(None)
            }
            Err(error) => Err(error.into()),
        }
    }

    fn check_schema(&self) -> Result<(), SessionError> {
        match stored_schema(&self.kv)? {
            None => Ok(()),
            Some(keys::SCHEMA_VERSION) => Ok(()),
            Some(found) => Err(SessionError::UnsupportedSchema {
                found,
                supported: keys::SCHEMA_VERSION,
            }),
        }
    }

    /// The summaries of the listed sessions whose entries start with
    /// `prefix`, in no order. Tombstones past [`super::index::TOMBSTONE_SECONDS`]
    /// are forgotten on the way, and an unreadable index left by the
    /// upgrade to format 5 is moved aside.
    fn listed(&self, prefix: &str) -> Result<Vec<SessionSummary>, SessionError> {
        let now = self.clock.now();
        if self.kv.get(keys::INDEX)?.is_some() {
            self.set_aside(keys::INDEX, LEFTOVER_INDEX)?;
            self.list_unlisted_bodies(&self.kv.keys()?)?;
        }
        let mut listed = Vec::new();
        for key in self.kv.keys_with_prefix(prefix)? {
            match self.read_entry_at(&key)? {
                Some(IndexEntry::Listed(summary)) => listed.push(summary),
                Some(entry) if entry.is_expired_tombstone(now) => self.kv.remove(&key)?,
                _ => {}
            }
        }
        Ok(listed)
    }

    /// Gives every readable session body among `stored` keys that has no
    /// index entry one (after the index it was listed in was lost).
    fn list_unlisted_bodies(&self, stored: &[String]) -> Result<(), SessionError> {
        let present: std::collections::HashSet<&str> = stored.iter().map(String::as_str).collect();
        let bodies = format!("{}session:", keys::PREFIX);
        for key in stored.iter().filter(|k| k.starts_with(&bodies)) {
            let Some(session) = self.read_or_set_aside::<Session>(key)? else {
                continue;
            };
            let entry = IndexEntry::Listed(SessionSummary::of(&session));
            if !present.contains(entry.key().as_str()) {
                self.write_entry(&entry)?;
            }
        }
        Ok(())
    }

    fn read_entry(
        &self,
        app_name: &str,
        user_id: &str,
        session_id: &str,
    ) -> Result<Option<IndexEntry>, SessionError> {
        self.read_entry_at(&keys::index_entry(app_name, user_id, session_id))
    }

    /// The index entry under `key`. An unreadable one (or one that names
    /// another session) is moved aside and made anew from its session's
    /// body, if that reads.
    fn read_entry_at(&self, key: &str) -> Result<Option<IndexEntry>, SessionError> {
        let reason = match read_json::<IndexEntry>(&self.kv, key) {
            Ok(Some(entry)) if entry.key() == key => return Ok(Some(entry)),
            Ok(Some(_)) => "the entry names another conversation".to_owned(),
            Ok(None) => return Ok(None),
            Err(KvError::Corrupt { reason, .. }) => reason,
            Err(error) => return Err(error.into()),
        };
        self.set_aside(key, &reason)?;
        let Some(body_key) = keys::session_of_entry(key) else {
            return Ok(None);
        };
        let Some(session) = self.read_or_set_aside::<Session>(&body_key)? else {
            return Ok(None);
        };
        let entry = IndexEntry::Listed(SessionSummary::of(&session));
        if entry.key() != key {
            // A body under another session's key: left for its reader.
            return Ok(None);
        }
        self.write_entry(&entry)?;
        Ok(Some(entry))
    }

    fn write_entry(&self, entry: &IndexEntry) -> Result<(), KvError> {
        if self.kv.get(keys::META)?.is_none() {
            write_json(
                &self.kv,
                keys::META,
                &Meta {
                    schema: keys::SCHEMA_VERSION,
                },
            )?;
        }
        write_json(&self.kv, &entry.key(), entry)
    }

    fn write_json<T: Serialize>(&self, key: &str, value: &T) -> Result<(), SessionError> {
        Ok(write_json(&self.kv, key, value)?)
    }

    fn shared_state(&self, app_name: &str, user_id: &str) -> Result<(State, State), SessionError> {
        let app = self
            .read_or_set_aside(&keys::app_state(app_name))?
            .unwrap_or_default();
        let user = self
            .read_or_set_aside(&keys::user_state(app_name, user_id))?
            .unwrap_or_default();
        Ok((app, user))
    }

    /// `stored` as the caller sees it: state merged across scopes.
    fn view(&self, stored: Session) -> Result<Session, SessionError> {
        let (app, user) = self.shared_state(&stored.app_name, &stored.user_id)?;
        let scoped = ScopedState {
            app,
            user,
            session: stored.state,
        };
        Ok(Session {
            state: scoped.merged(),
            ..stored
        })
    }

    /// Merges the app and user parts of a delta into their stores.
    fn store_shared(
        &self,
        app_name: &str,
        user_id: &str,
        mut delta: ScopedState,
    ) -> Result<(), SessionError> {
        if delta.app.is_empty() && delta.user.is_empty() {
            return Ok(());
        }
        let (mut app, mut user) = self.shared_state(app_name, user_id)?;
        if !delta.app.is_empty() {
            app.append(&mut delta.app);
            self.write_json(&keys::app_state(app_name), &app)?;
        }
        if !delta.user.is_empty() {
            user.append(&mut delta.user);
            self.write_json(&keys::user_state(app_name, user_id), &user)?;
        }
        Ok(())
    }

    /// The stored body of a live session. A deleted one (tombstoned in its
    /// entry, perhaps rewritten by a tab that had not heard) is not found,
    /// and its body is removed again; an unreadable one is moved aside,
    /// taken out of the index and reported as corrupt.
    fn read_body(
        &self,
        entry: Option<&IndexEntry>,
        app_name: &str,
        user_id: &str,
        session_id: &str,
    ) -> Result<Session, SessionError> {
        let key = keys::session(app_name, user_id, session_id);
        if entry.is_some_and(IndexEntry::is_deleted) {
            if self.kv.get(&key)?.is_some() {
                self.kv.remove(&key)?;
            }
            return Err(SessionError::not_found(app_name, user_id, session_id));
        }
        match read_json::<Session>(&self.kv, &key) {
            Ok(Some(session)) => Ok(session),
            Ok(None) => Err(SessionError::not_found(app_name, user_id, session_id)),
            Err(KvError::Corrupt { reason, .. }) => {
                self.set_aside(&key, &reason)?;
                if entry.is_some() {
                    self.kv
                        .remove(&keys::index_entry(app_name, user_id, session_id))?;
                }
                Err(SessionError::Corrupt { key, reason })
            }
            Err(error) => Err(error.into()),
        }
    }
}

impl<K: KvStore, C: Clock> SessionService for KvSessionService<K, C> {
    fn take_warning(&mut self) -> Option<KvError> {
        self.warning.take()
    }

    fn take_quarantined(&self) -> Vec<Quarantined> {
        std::mem::take(&mut self.quarantined.borrow_mut())
    }

    fn create_session(&mut self, request: CreateSession) -> Result<Session, SessionError> {
        // Refuse before writing anything if the store is of another format.
        self.check_schema()?;
        let id = request.session_id.unwrap_or_else(new_id);
        let key = keys::session(&request.app_name, &request.user_id, &id);
        if self.kv.get(&key)?.is_some() {
            return Err(SessionError::AlreadyExists(id));
        }
        let mut initial = ScopedState::split(&request.state.unwrap_or_default());
        let session = Session {
            id,
            app_name: request.app_name,
            user_id: request.user_id,
            state: std::mem::take(&mut initial.session),
            events: initial_events(request.events),
            last_update_time: self.clock.now(),
        };
        self.store_shared(&session.app_name, &session.user_id, initial)?;
        self.write_json(&key, &session)?;
        if let Err(error) = self.write_entry(&IndexEntry::Listed(SessionSummary::of(&session))) {
            // Without an index entry nobody could find it again: undo.
            let _ = self.kv.remove(&key);
            return Err(error.into());
        }
        self.view(session)
    }

    fn get_session(
        &self,
        app_name: &str,
        user_id: &str,
        session_id: &str,
        config: GetSessionConfig,
    ) -> Result<Session, SessionError> {
        self.check_schema()?;
        let entry = self.read_entry(app_name, user_id, session_id)?;
        let stored = self.read_body(entry.as_ref(), app_name, user_id, session_id)?;
        let mut session = self.view(stored)?;
        trim_events(&mut session, config);
        Ok(session)
    }

    fn list_sessions(
        &self,
        app_name: &str,
        user_id: &str,
    ) -> Result<Vec<SessionSummary>, SessionError> {
        self.check_schema()?;
        let mut sessions = self.listed(&keys::index_entries_of(app_name, user_id))?;
        newest_first(&mut sessions);
        Ok(sessions)
    }

    fn session_summary(
        &self,
        app_name: &str,
        user_id: &str,
        session_id: &str,
    ) -> Result<Option<SessionSummary>, SessionError> {
        self.check_schema()?;
        Ok(match self.read_entry(app_name, user_id, session_id)? {
            Some(IndexEntry::Listed(summary)) => Some(summary),
            _ => None,
        })
    }

    fn delete_session(
        &mut self,
        app_name: &str,
        user_id: &str,
        session_id: &str,
    ) -> Result<(), SessionError> {
        self.check_schema()?;
        let key = keys::session(app_name, user_id, session_id);
        let entry = self.read_entry(app_name, user_id, session_id)?;
        let exists = self.kv.get(&key)?.is_some();
        let listed = entry.as_ref().is_some_and(|e| !e.is_deleted());
        if !listed && !exists {
            return Err(SessionError::not_found(app_name, user_id, session_id));
        }
        // An earlier deletion keeps its time.
        let tombstone = match entry {
            Some(deleted @ IndexEntry::Deleted(_)) => deleted,
            _ => IndexEntry::Deleted(Tombstone {
                id: session_id.to_owned(),
                app_name: app_name.to_owned(),
                user_id: user_id.to_owned(),
                deleted_at: self.clock.now(),
            }),
        };
        // The tombstone first: a crash in between leaves an unlisted body,
        // never a listed session without one.
        self.write_entry(&tombstone)?;
        self.kv.remove(&key)?;
        Ok(())
    }

    fn append_event(&mut self, session: &mut Session, event: Event) -> Result<Event, SessionError> {
        if event.partial {
            return Ok(event);
        }
        let key = keys::session(&session.app_name, &session.user_id, &session.id);
        self.check_schema()?;
        let entry = self.read_entry(&session.app_name, &session.user_id, &session.id)?;
        let mut stored = self.read_body(
            entry.as_ref(),
            &session.app_name,
            &session.user_id,
            &session.id,
        )?;
        ensure_fresh(&stored, session)?;
        let shared = apply_event_to_stored(&mut stored, &event);
        // The event itself first: once its body is written, it is saved.
        self.write_json(&key, &stored)?;
        let after = self
            .store_shared(&session.app_name, &session.user_id, shared)
            .and_then(|()| {
                let entry = IndexEntry::Listed(SessionSummary::of(&stored));
                Ok(self.write_entry(&entry)?)
            });
        if let Err(SessionError::Storage(error)) = after {
            // The event is saved; only shared state or the summary lag.
            self.warning = Some(error);
        }
        Ok(apply_event(session, event))
    }
}
