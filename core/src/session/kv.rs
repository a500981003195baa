//! The session service over a key-value store: what persists conversations
//! in the browser's localStorage (and in a [`MemoryKv`] in host tests).
//!
//! Layout: one key per session body (with its session-scoped state), one
//! key per app's and per user's shared state, and one small index of
//! summaries and tombstones (see [`crate::storage::keys`]). Writes go body
//! first, index last, so the index never points at a session that is not
//! there. Every read checks the schema version in `confab:meta` first.
//!
//! An entry that does not parse is moved aside (quarantined) and reported;
//! an unreadable index is rebuilt from the session bodies.
//!
//! [`MemoryKv`]: crate::storage::MemoryKv

use std::cell::RefCell;

use serde::Serialize;
use serde::de::DeserializeOwned;

use super::index::Index;
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
        let mut sessions = self.read_index()?.sessions;
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

    fn read_index(&self) -> Result<Index, SessionError> {
        self.check_schema()?;
        match read_json::<Index>(&self.kv, keys::INDEX) {
            Ok(index) => Ok(index.unwrap_or_default()),
            Err(KvError::Corrupt { reason, .. }) => {
                self.set_aside(keys::INDEX, &reason)?;
                self.rebuild_index()
            }
            Err(error) => Err(error.into()),
        }
    }

    /// The index made anew from the session bodies (after it was lost).
    fn rebuild_index(&self) -> Result<Index, SessionError> {
        let mut index = Index::default();
        let prefix = format!("{}session:", keys::PREFIX);
        for key in self.kv.keys()? {
            if !key.starts_with(&prefix) {
                continue;
            }
            if let Some(session) = self.read_or_set_aside::<Session>(&key)? {
                index.upsert(SessionSummary::of(&session));
            }
        }
        self.write_index(&index)?;
        Ok(index)
    }

    fn write_index(&self, index: &Index) -> Result<(), KvError> {
        if self.kv.get(keys::META)?.is_none() {
            write_json(
                &self.kv,
                keys::META,
                &Meta {
                    schema: keys::SCHEMA_VERSION,
                },
            )?;
        }
        write_json(&self.kv, keys::INDEX, index)
    }

    fn upsert_summary(&mut self, summary: SessionSummary) -> Result<(), SessionError> {
        let mut index = self.read_index()?;
        index.upsert(summary);
        self.write_index(&index)?;
        Ok(())
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

    /// The stored body of a live session. A deleted one (tombstoned in the
    /// index, perhaps rewritten by a tab that had not heard) is not found,
    /// and its body is removed again; an unreadable one is moved aside,
    /// taken out of the index and reported as corrupt.
    fn read_body(
        &self,
        index: &Index,
        app_name: &str,
        user_id: &str,
        session_id: &str,
    ) -> Result<Session, SessionError> {
        let key = keys::session(app_name, user_id, session_id);
        if index.is_deleted(app_name, user_id, session_id) {
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
                let mut index = index.clone();
                index.sessions.retain(|s| {
                    !(s.id == session_id && s.app_name == app_name && s.user_id == user_id)
                });
                self.write_index(&index)?;
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
        // Refuse before writing anything if the index cannot be read.
        self.read_index()?;
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
        if let Err(error) = self.upsert_summary(SessionSummary::of(&session)) {
            // Without an index entry nobody could find it again: undo.
            let _ = self.kv.remove(&key);
            return Err(error);
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
        let index = self.read_index()?;
        let stored = self.read_body(&index, app_name, user_id, session_id)?;
        let mut session = self.view(stored)?;
        trim_events(&mut session, config);
        Ok(session)
    }

    fn list_sessions(
        &self,
        app_name: &str,
        user_id: &str,
    ) -> Result<Vec<SessionSummary>, SessionError> {
        let mut sessions: Vec<SessionSummary> = self
            .read_index()?
            .sessions
            .into_iter()
            .filter(|s| s.app_name == app_name && s.user_id == user_id)
            .collect();
        newest_first(&mut sessions);
        Ok(sessions)
    }

    fn delete_session(
        &mut self,
        app_name: &str,
        user_id: &str,
        session_id: &str,
    ) -> Result<(), SessionError> {
        let key = keys::session(app_name, user_id, session_id);
        let mut index = self.read_index()?;
        let exists = self.kv.get(&key)?.is_some();
        let now = self.clock.now();
        let listed = index.delete(app_name, user_id, session_id, now);
        if !listed && !exists {
            return Err(SessionError::not_found(app_name, user_id, session_id));
        }
        index.prune(now);
        // Index (with its tombstone) first: a crash in between leaves an
        // unlisted body, never a listed session without one.
        self.write_index(&index)?;
        self.kv.remove(&key)?;
        Ok(())
    }

    fn append_event(&mut self, session: &mut Session, event: Event) -> Result<Event, SessionError> {
        if event.partial {
            return Ok(event);
        }
        let key = keys::session(&session.app_name, &session.user_id, &session.id);
        let index = self.read_index()?;
        let mut stored =
            self.read_body(&index, &session.app_name, &session.user_id, &session.id)?;
        ensure_fresh(&stored, session)?;
        let shared = apply_event_to_stored(&mut stored, &event);
        // The event itself first: once its body is written, it is saved.
        self.write_json(&key, &stored)?;
        let after = self
            .store_shared(&session.app_name, &session.user_id, shared)
            .and_then(|()| self.upsert_summary(SessionSummary::of(&stored)));
        if let Err(SessionError::Storage(error)) = after {
            // The event is saved; only shared state or the summary lag.
            self.warning = Some(error);
        }
        Ok(apply_event(session, event))
    }
}
