//! An in-memory session service, like ADK's `InMemorySessionService`: the
//! reference backend for tests. Nothing survives the process.

use std::collections::BTreeMap;

use super::model::{Event, Session, SessionSummary, new_id};
use super::service::{
    CreateSession, GetSessionConfig, SessionError, SessionService, apply_event, ensure_fresh,
    newest_first, trim_events,
};
use crate::clock::Clock;

type SessionKey = (String, String, String);

pub struct InMemorySessionService<C: Clock> {
    clock: C,
    sessions: BTreeMap<SessionKey, Session>,
}

impl<C: Clock> InMemorySessionService<C> {
    pub fn new(clock: C) -> Self {
        Self {
            clock,
            sessions: BTreeMap::new(),
        }
    }
}

fn key(app_name: &str, user_id: &str, session_id: &str) -> SessionKey {
    (
        app_name.to_owned(),
        user_id.to_owned(),
        session_id.to_owned(),
    )
}

impl<C: Clock> SessionService for InMemorySessionService<C> {
    fn create_session(&mut self, request: CreateSession) -> Result<Session, SessionError> {
        let id = request.session_id.unwrap_or_else(new_id);
        let key = key(&request.app_name, &request.user_id, &id);
        if self.sessions.contains_key(&key) {
            return Err(SessionError::AlreadyExists(id));
        }
        let session = Session {
            id,
            app_name: request.app_name,
            user_id: request.user_id,
            state: request.state.unwrap_or_default(),
            events: Vec::new(),
            last_update_time: self.clock.now(),
        };
        self.sessions.insert(key, session.clone());
        Ok(session)
    }

    fn get_session(
        &self,
        app_name: &str,
        user_id: &str,
        session_id: &str,
        config: GetSessionConfig,
    ) -> Result<Session, SessionError> {
        let mut session = self
            .sessions
            .get(&key(app_name, user_id, session_id))
            .cloned()
            .ok_or_else(|| SessionError::not_found(app_name, user_id, session_id))?;
        trim_events(&mut session, config);
        Ok(session)
    }

    fn list_sessions(
        &self,
        app_name: &str,
        user_id: &str,
    ) -> Result<Vec<SessionSummary>, SessionError> {
        let mut list: Vec<SessionSummary> = self
            .sessions
            .values()
            .filter(|s| s.app_name == app_name && s.user_id == user_id)
            .map(SessionSummary::of)
            .collect();
        newest_first(&mut list);
        Ok(list)
    }

    fn delete_session(
        &mut self,
        app_name: &str,
        user_id: &str,
        session_id: &str,
    ) -> Result<(), SessionError> {
        self.sessions
            .remove(&key(app_name, user_id, session_id))
            .map(|_| ())
            .ok_or_else(|| SessionError::not_found(app_name, user_id, session_id))
    }

    fn append_event(&mut self, session: &mut Session, event: Event) -> Result<Event, SessionError> {
        if event.partial {
            return Ok(event);
        }
        let stored = self
            .sessions
            .get_mut(&key(&session.app_name, &session.user_id, &session.id))
            .ok_or_else(|| {
                SessionError::not_found(&session.app_name, &session.user_id, &session.id)
            })?;
        ensure_fresh(stored, session)?;
        apply_event(stored, event.clone());
        Ok(apply_event(session, event))
    }
}
