//! Branching a conversation: editing a sent message and sending it again
//! makes a new session that starts with the events before that message, the
//! way ADK branches (a session is never rewritten). Both conversations are
//! kept, and each record says where the other one branched.

use serde::{Deserialize, Serialize};
use serde_json::json;

use super::{ManagerError, SessionManager, new_conversation_id};
use crate::clock::Clock;
use crate::session::{CreateSession, ScopedState, Session, SessionService, State};
use crate::storage::KvStore;

/// One end of a branch: the other conversation, and the user message at
/// which they part (in the original: the message that was edited).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Branch {
    pub session_id: String,
    pub event_id: String,
    /// When the branch was made (seconds).
    pub at: f64,
}

impl<S: SessionService, K: KvStore, C: Clock> SessionManager<S, K, C> {
    /// Branches `session_id` at the user message `event_id`: a new session
    /// with every event before it (and the session state they left), made
    /// the user's current one. The caller then sends the edited message in
    /// it. The original stays as it is, with a link to the branch.
    pub fn branch_at(
        &mut self,
        user_id: &str,
        session_id: &str,
        event_id: &str,
    ) -> Result<Session, ManagerError> {
        self.branch(user_id, session_id, event_id, |events| {
            events
                .iter()
                .position(|e| e.id == event_id && e.is_from_user())
        })
    }

    /// Branches `session_id` after `event_id` (a message of either side):
    /// a new session with every event up to and including it, made
    /// current, for the user to go on from there ("Branch from here").
    pub fn branch_after(
        &mut self,
        user_id: &str,
        session_id: &str,
        event_id: &str,
    ) -> Result<Session, ManagerError> {
        self.branch(user_id, session_id, event_id, |events| {
            events
                .iter()
                .position(|e| e.id == event_id)
                .map(|at| at + 1)
        })
    }

    /// A branch with the events before the index `cut` finds.
    fn branch(
        &mut self,
        user_id: &str,
        session_id: &str,
        event_id: &str,
        cut: impl FnOnce(&[crate::session::Event]) -> Option<usize>,
    ) -> Result<Session, ManagerError> {
        self.atomically(|m| {
            let original = m.get_session(user_id, session_id)?;
            let at = cut(&original.events)
                .ok_or_else(|| ManagerError::UnknownMessage(event_id.to_owned()))?;
            let events = original.events[..at].to_vec();
            // The session's own state as those events left it; `app:` and
            // `user:` state is shared and stays where it is.
            let mut state = State::new();
            for event in &events {
                state.extend(ScopedState::split(&event.actions.state_delta).session);
            }
            state.insert("conversation_id".into(), json!(new_conversation_id()));
            let branch = m.service.create_session(CreateSession {
                state: Some(state),
                events,
                ..CreateSession::new(&m.app_name, user_id)
            })?;

            let now = m.clock.now();
            let mut record = m.adopt(&branch);
            record.started_at = now;
            record.branched_from = Some(Branch {
                session_id: session_id.to_owned(),
                event_id: event_id.to_owned(),
                at: now,
            });
            m.save_conversation(&record)?;
            let mut parent = m.conversation(user_id, session_id)?;
            parent.branches.push(Branch {
                session_id: branch.id.clone(),
                event_id: event_id.to_owned(),
                at: now,
            });
            m.save_conversation(&parent)?;
            m.list_as_current(user_id, &record)?;
            Ok(branch)
        })
    }
}
