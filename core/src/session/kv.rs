//! The session service over a key-value store: what persists conversations
//! in the browser's localStorage (and in a [`MemoryKv`] in host tests).
//!
//! Layout: one key per session body (with its session-scoped state), one
//! key per app's and per user's shared state, and one small index of
//! summaries (see [`crate::storage::keys`]). Writes go body first, index
//! last, so the index never points at a session that is not there.
//!
//! [`MemoryKv`]: crate::storage::MemoryKv

use serde::{Deserialize, Serialize};

use super::model::State;
use super::model::{Event, Session, SessionSummary, new_id};
use super::service::{
    CreateSession, GetSessionConfig, SessionError, SessionService, apply_event,
    apply_event_to_stored, ensure_fresh, newest_first, trim_events,
};
use super::state::ScopedState;
use crate::clock::Clock;
use crate::storage::{KvError, KvStore, keys, read_json, write_json};

/// The stored index: every session's summary, and the schema version.
#[derive(Debug, Default, Serialize, Deserialize)]
struct Index {
    schema: u32,
    #[serde(default)]
    sessions: Vec<SessionSummary>,
}

pub struct KvSessionService<K: KvStore, C: Clock> {
    kv: K,
    clock: C,
    /// A failure to update the index after the session itself was saved: the
    /// data is safe, but the user should hear that storage is in trouble.
    warning: Option<KvError>,
}

impl<K: KvStore, C: Clock> KvSessionService<K, C> {
    pub fn new(kv: K, clock: C) -> Self {
        Self {
            kv,
            clock,
            warning: None,
        }
    }

    pub fn kv(&self) -> &K {
        &self.kv
    }

    /// Takes the last non-fatal storage problem, if any.
    pub fn take_warning(&mut self) -> Option<KvError> {
        self.warning.take()
    }

    /// Every summary in the index, all apps and users, newest first.
    pub fn all_summaries(&self) -> Result<Vec<SessionSummary>, SessionError> {
        let mut sessions = self.read_index()?.sessions;
        newest_first(&mut sessions);
        Ok(sessions)
    }

    fn read_index(&self) -> Result<Index, SessionError> {
        let Some(text) = self.kv.get(keys::INDEX)? else {
            return Ok(Index {
                schema: keys::SCHEMA_VERSION,
                sessions: Vec::new(),
            });
        };
        let index: Index = serde_json::from_str(&text).map_err(|e| SessionError::Corrupt {
            key: keys::INDEX.to_owned(),
            reason: e.to_string(),
        })?;
        if index.schema != keys::SCHEMA_VERSION {
            return Err(SessionError::UnsupportedSchema {
                found: index.schema,
                supported: keys::SCHEMA_VERSION,
            });
        }
        Ok(index)
    }

    fn write_index(&self, index: &Index) -> Result<(), KvError> {
        let text = serde_json::to_string(index).map_err(|e| KvError::Other(e.to_string()))?;
        self.kv.set(keys::INDEX, &text)
    }

    /// Puts `summary` into the index (replacing the entry with its id).
    fn upsert_summary(&mut self, summary: SessionSummary) -> Result<(), SessionError> {
        let mut index = self.read_index()?;
        index
            .sessions
            .retain(|s| !(s.id == summary.id && same_owner(s, &summary)));
        index.sessions.push(summary);
        self.write_index(&index)?;
        Ok(())
    }

    fn read_json<T: serde::de::DeserializeOwned>(
        &self,
        key: &str,
    ) -> Result<Option<T>, SessionError> {
        Ok(read_json(&self.kv, key)?)
    }

    fn write_json<T: Serialize>(&self, key: &str, value: &T) -> Result<(), SessionError> {
        Ok(write_json(&self.kv, key, value)?)
    }

    fn shared_state(&self, app_name: &str, user_id: &str) -> Result<(State, State), SessionError> {
        let app = self
            .read_json(&keys::app_state(app_name))?
            .unwrap_or_default();
        let user = self
            .read_json(&keys::user_state(app_name, user_id))?
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
}

fn same_owner(a: &SessionSummary, b: &SessionSummary) -> bool {
    a.app_name == b.app_name && a.user_id == b.user_id
}

impl<K: KvStore, C: Clock> SessionService for KvSessionService<K, C> {
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
            events: Vec::new(),
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
        let key = keys::session(app_name, user_id, session_id);
        let stored = self
            .read_json(&key)?
            .ok_or_else(|| SessionError::not_found(app_name, user_id, session_id))?;
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
        let before = index.sessions.len();
        index
            .sessions
            .retain(|s| !(s.id == session_id && s.app_name == app_name && s.user_id == user_id));
        let listed = index.sessions.len() != before;
        if !listed && self.kv.get(&key)?.is_none() {
            return Err(SessionError::not_found(app_name, user_id, session_id));
        }
        // Index first: a crash in between leaves an unlisted body, never a
        // listed session without one.
        if listed {
            self.write_index(&index)?;
        }
        self.kv.remove(&key)?;
        Ok(())
    }

    fn append_event(&mut self, session: &mut Session, event: Event) -> Result<Event, SessionError> {
        if event.partial {
            return Ok(event);
        }
        let key = keys::session(&session.app_name, &session.user_id, &session.id);
        let mut stored: Session = self.read_json(&key)?.ok_or_else(|| {
            SessionError::not_found(&session.app_name, &session.user_id, &session.id)
        })?;
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
