//! An in-memory session service, like ADK's `InMemorySessionService`: the
//! reference backend for tests. Nothing survives the process.

use std::collections::BTreeMap;

use super::model::{Event, Session, SessionSummary, State, new_id};
use super::service::{
    CreateSession, GetSessionConfig, SessionError, SessionService, apply_event,
    apply_event_to_stored, ensure_fresh, initial_events, newest_first, trim_events,
};
use super::state::ScopedState;
use crate::clock::Clock;

type SessionKey = (String, String, String);

pub struct InMemorySessionService<C: Clock> {
    clock: C,
    /// Bodies with session-scoped state only.
    sessions: BTreeMap<SessionKey, Session>,
    app_state: BTreeMap<String, State>,
    user_state: BTreeMap<(String, String), State>,
}

impl<C: Clock> InMemorySessionService<C> {
    pub fn new(clock: C) -> Self {
        Self {
            clock,
            sessions: BTreeMap::new(),
            app_state: BTreeMap::new(),
            user_state: BTreeMap::new(),
        }
    }

    /// `stored` as the caller sees it: state merged across scopes.
    fn view(&self, stored: &Session) -> Session {
        let scoped = ScopedState {
            app: self
                .app_state
                .get(&stored.app_name)
                .cloned()
                .unwrap_or_default(),
            user: self
                .user_state
                .get(&(stored.app_name.clone(), stored.user_id.clone()))
                .cloned()
                .unwrap_or_default(),
            session: stored.state.clone(),
        };
        Session {
            state: scoped.merged(),
            ..stored.clone()
        }
    }

    fn store_shared(&mut self, app_name: &str, user_id: &str, mut delta: ScopedState) {
        if !delta.app.is_empty() {
            self.app_state
                .entry(app_name.to_owned())
                .or_default()
                .append(&mut delta.app);
        }
        if !delta.user.is_empty() {
            self.user_state
                .entry((app_name.to_owned(), user_id.to_owned()))
                .or_default()
                .append(&mut delta.user);
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
        let mut initial = ScopedState::split(&request.state.unwrap_or_default());
        let session = Session {
            id,
            app_name: request.app_name,
            user_id: request.user_id,
            state: std::mem::take(&mut initial.session),
            events: initial_events(request.events),
            last_update_time: self.clock.now(),
        };
        self.store_shared(&session.app_name, &session.user_id, initial);
        self.sessions.insert(key, session.clone());
        Ok(self.view(&session))
    }

    fn get_session(
        &self,
        app_name: &str,
        user_id: &str,
        session_id: &str,
        config: GetSessionConfig,
    ) -> Result<Session, SessionError> {
        let stored = self
            .sessions
            .get(&key(app_name, user_id, session_id))
            .ok_or_else(|| SessionError::not_found(app_name, user_id, session_id))?;
        let mut session = self.view(stored);
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
        let (app_name, user_id) = (session.app_name.clone(), session.user_id.clone());
        let stored = self
            .sessions
            .get_mut(&key(&app_name, &user_id, &session.id))
            .ok_or_else(|| SessionError::not_found(&app_name, &user_id, &session.id))?;
        ensure_fresh(stored, session)?;
        let shared = apply_event_to_stored(stored, &event);
        self.store_shared(&app_name, &user_id, shared);
        Ok(apply_event(session, event))
    }
}
