//! The session service contract, after ADK's `BaseSessionService`.

use thiserror::Error;

use super::model::{Event, Session, SessionSummary, State};
use super::state::ScopedState;
use crate::storage::KvError;

/// What `create_session` takes. `session_id: None` means "make a UUID v4".
#[derive(Clone, Debug, Default)]
pub struct CreateSession {
    pub app_name: String,
    pub user_id: String,
    pub state: Option<State>,
    pub session_id: Option<String>,
    /// Events the session starts with (as ADK's api_server accepts on
    /// create): to restore or import a session. Their state deltas are not
    /// applied again; `state` is the state.
    pub events: Vec<Event>,
}

impl CreateSession {
    pub fn new(app_name: &str, user_id: &str) -> Self {
        Self {
            app_name: app_name.to_owned(),
            user_id: user_id.to_owned(),
            ..Self::default()
        }
    }
}

/// ADK's `GetSessionConfig`: trims the events returned.
#[derive(Clone, Copy, Debug, Default)]
pub struct GetSessionConfig {
    /// Keep only the newest N events.
    pub num_recent_events: Option<usize>,
    /// Keep only events at or after this timestamp.
    pub after_timestamp: Option<f64>,
}

/// Everything a session service can refuse. Each message says what happened
/// and what to do about it.
#[derive(Clone, Debug, Error, PartialEq)]
pub enum SessionError {
    #[error(
        "session {session_id} was not found for user {user_id} of app {app_name}; create it before using it"
    )]
    NotFound {
        app_name: String,
        user_id: String,
        session_id: String,
    },
    #[error("a session with id {0} already exists; pick another id or open the existing one")]
    AlreadyExists(String),
    #[error(
        "session {session_id} was changed elsewhere (stored at {stored}, this copy is from {copy}); reload it and try again"
    )]
    Stale {
        session_id: String,
        stored: f64,
        copy: f64,
    },
    #[error(transparent)]
    Storage(KvError),
    #[error(
        "the stored conversations were written by a newer version of Confab (schema {found}, this version reads {supported}); they were left untouched, so update Confab to open them"
    )]
    UnsupportedSchema { found: u32, supported: u32 },
    #[error("stored data under {key} is unreadable ({reason}); it was left untouched")]
    Corrupt { key: String, reason: String },
}

/// ADK's session service: sessions must be created before they are used.
///
/// The calls are synchronous: both backends (memory, localStorage) are.
pub trait SessionService {
    fn create_session(&mut self, request: CreateSession) -> Result<Session, SessionError>;

    /// An unknown id (or one of another user or app) is `NotFound`.
    fn get_session(
        &self,
        app_name: &str,
        user_id: &str,
        session_id: &str,
        config: GetSessionConfig,
    ) -> Result<Session, SessionError>;

    /// The user's sessions without their events, newest first.
    fn list_sessions(
        &self,
        app_name: &str,
        user_id: &str,
    ) -> Result<Vec<SessionSummary>, SessionError>;

    /// One listed session's summary, or `None` when it is not listed. The
    /// default lists them all; a backend that stores one index entry per
    /// session reads only its own, so refreshing one conversation's place
    /// in the sidebar does not grow with the number of conversations.
    fn session_summary(
        &self,
        app_name: &str,
        user_id: &str,
        session_id: &str,
    ) -> Result<Option<SessionSummary>, SessionError> {
        Ok(self
            .list_sessions(app_name, user_id)?
            .into_iter()
            .find(|s| s.id == session_id))
    }

    fn delete_session(
        &mut self,
        app_name: &str,
        user_id: &str,
        session_id: &str,
    ) -> Result<(), SessionError>;

    /// Appends `event` to the stored session and to `session`, applying its
    /// state delta and advancing `last_update_time`. Partial (streaming)
    /// events are returned untouched and not persisted. Appending through a
    /// copy older than the stored session is `Stale`, never an overwrite.
    fn append_event(&mut self, session: &mut Session, event: Event) -> Result<Event, SessionError>;

    /// A storage problem that did not fail the call (the data is saved but
    /// the user should hear of it). Backends without storage have none.
    fn take_warning(&mut self) -> Option<KvError> {
        None
    }

    /// Stored entries found unreadable and moved aside since the last call.
    fn take_quarantined(&self) -> Vec<crate::storage::Quarantined> {
        Vec::new()
    }
}

impl From<KvError> for SessionError {
    fn from(error: KvError) -> Self {
        match error {
            KvError::Corrupt { key, reason } => Self::Corrupt { key, reason },
            other => Self::Storage(other),
        }
    }
}

impl SessionError {
    pub fn not_found(app_name: &str, user_id: &str, session_id: &str) -> Self {
        Self::NotFound {
            app_name: app_name.to_owned(),
            user_id: user_id.to_owned(),
            session_id: session_id.to_owned(),
        }
    }
}

/// Refuses an append through `copy` if the stored session moved on since
/// the copy was read (shared by every backend).
pub(crate) fn ensure_fresh(stored: &Session, copy: &Session) -> Result<(), SessionError> {
    if stored.last_update_time > copy.last_update_time {
        return Err(SessionError::Stale {
            session_id: copy.id.clone(),
            stored: stored.last_update_time,
            copy: copy.last_update_time,
        });
    }
    Ok(())
}

/// Applies `config` to a session's events (shared by every backend).
pub(crate) fn trim_events(session: &mut Session, config: GetSessionConfig) {
    if let Some(after) = config.after_timestamp {
        session.events.retain(|e| e.timestamp >= after);
    }
    if let Some(n) = config.num_recent_events {
        let excess = session.events.len().saturating_sub(n);
        session.events.drain(..excess);
    }
}

/// What appending `event` does to a session as its caller sees it (state
/// merged across scopes): `temp:` keys are dropped from the event (they are
/// never persisted), the rest of the delta is applied, the event appended
/// and the time advanced. Shared by every backend.
pub(crate) fn apply_event(session: &mut Session, mut event: Event) -> Event {
    event
        .actions
        .state_delta
        .retain(|key, _| !key.starts_with(super::TEMP_PREFIX));
    for (key, value) in &event.actions.state_delta {
        session.state.insert(key.clone(), value.clone());
    }
    // Time never runs backwards for a session, even if the clock does.
    session.last_update_time = session.last_update_time.max(event.timestamp);
    put_event(&mut session.events, event.clone());
    event
}

/// Appends `event`, or replaces the event with its id (ids are unique: the
/// same event arriving twice, from a retry or another tab, is one event).
/// Events stay in time order (an imported older event goes in its place).
fn put_event(events: &mut Vec<Event>, event: Event) {
    match events.iter_mut().find(|e| e.id == event.id) {
        Some(existing) => *existing = event,
        None => {
            let at = events
                .iter()
                .rposition(|e| e.timestamp <= event.timestamp)
                .map_or(0, |i| i + 1);
            events.insert(at, event);
        }
    }
}

/// The initial events of a new session: unique ids, time order, and no
/// `temp:` keys (they are never stored).
pub(crate) fn initial_events(events: Vec<Event>) -> Vec<Event> {
    let mut out = Vec::with_capacity(events.len());
    for mut event in events.into_iter().filter(|e| !e.partial) {
        event
            .actions
            .state_delta
            .retain(|key, _| !key.starts_with(super::TEMP_PREFIX));
        put_event(&mut out, event);
    }
    out
}

/// The same for the stored session body, which keeps only session-scoped
/// keys; returns the app and user parts of the delta for their own stores.
pub(crate) fn apply_event_to_stored(stored: &mut Session, event: &Event) -> ScopedState {
    let mut delta = ScopedState::split(&event.actions.state_delta);
    stored.state.append(&mut delta.session);
    stored.last_update_time = stored.last_update_time.max(event.timestamp);
    let mut kept = event.clone();
    kept.actions
        .state_delta
        .retain(|key, _| !key.starts_with(super::TEMP_PREFIX));
    put_event(&mut stored.events, kept);
    delta
}

/// Sorts summaries newest first (ties by id, for a stable order).
pub(crate) fn newest_first(summaries: &mut [SessionSummary]) {
    crate::order::sort_stable_by(summaries, |a, b| {
        b.last_update_time
            .total_cmp(&a.last_update_time)
            .then_with(|| a.id.cmp(&b.id))
    });
}
