//! A conversation's life: the user's current session (made when needed, or
//! new on request, or one the user went back to), ended by the user or by
//! expiry, deleted by the user or by retention.

use std::collections::HashMap;

use serde_json::json;

use super::{
    Conversation, ConversationStatus, EndReason, Ending, ManagerError, Satisfaction,
    SessionManager, UserRecord, new_conversation_id,
};
use crate::clock::Clock;
use crate::session::{CreateSession, Session, SessionError, SessionService, SessionSummary, State};
use crate::storage::{KvStore, keys};
use crate::telemetry::SpanStatus;

impl<S: SessionService, K: KvStore, C: Clock> SessionManager<S, K, C> {
    /// The user's current session, or a new one if there is none or it has
    /// ended (or expired just now). Only the current one's expiry is
    /// checked: a message costs the same with 20 conversations or 2,000
    /// (the others are checked when a profile is opened, by `enter`).
    pub fn get_or_create_session(&mut self, user_id: &str) -> Result<Session, ManagerError> {
        self.atomically(|m| {
            if let Some(current) = m.current_session_id(user_id)?
                && let Some(status) = m.status(user_id, &current)?.filter(|s| s.ended.is_none())
            {
                match m.get_session(user_id, &current) {
                    Ok(session) if !m.is_due(&status, session.last_update_time) => {
                        return Ok(session);
                    }
                    Ok(_) => m.end(user_id, &current, m.expiry())?,
                    // Deleted elsewhere: fall through to a new one.
                    Err(ManagerError::Session(SessionError::NotFound { .. })) => {}
                    Err(error) => return Err(error),
                }
            }
            m.create_new_session(user_id)
        })
    }

    /// Whether an active conversation is due to expire: idle longer than
    /// the limit since `last_update`, or older than the maximum.
    fn is_due(&self, status: &ConversationStatus, last_update: f64) -> bool {
        let now = self.clock.now();
        now - last_update > self.limits.idle || now - status.started_at > self.limits.max_duration
    }

    /// The ending of a conversation that expires now.
    fn expiry(&self) -> Ending {
        Ending {
            at: self.clock.now(),
            reason: EndReason::Expired,
            satisfaction: None,
            comment: String::new(),
        }
    }

    /// Starts a fresh context: a new session with a new conversation id and
    /// trace, made current. Earlier conversations stay as they are (the user
    /// can go back to them) until ended or expired.
    pub fn create_new_session(&mut self, user_id: &str) -> Result<Session, ManagerError> {
        self.atomically(|m| {
            let now = m.clock.now();
            let conversation_id = new_conversation_id();
            let state: State = [("conversation_id".to_owned(), json!(conversation_id))].into();
            let session = m.service.create_session(CreateSession {
                state: Some(state),
                ..CreateSession::new(&m.app_name, user_id)
            })?;
            let conversation = m.new_conversation(&session, now);
            m.save_conversation(&conversation)?;
            m.list_as_current(user_id, &conversation)?;
            Ok(session)
        })
    }

    /// Forgets the user's current session (the seed's `clear_session`): the
    /// next message starts a new one. Nothing is deleted.
    pub fn clear_session(&mut self, user_id: &str) -> Result<(), ManagerError> {
        self.atomically(|m| m.set_current(user_id, None))
    }

    /// Makes an active conversation the current one (the user opened it).
    /// An ended one stays readable but is not made current: returns false.
    pub fn switch_to(&mut self, user_id: &str, session_id: &str) -> Result<bool, ManagerError> {
        self.atomically(|m| {
            let conversation = m.conversation(user_id, session_id)?;
            let active = conversation.is_active();
            m.set_current(user_id, active.then(|| session_id.to_owned()))?;
            Ok(active)
        })
    }

    /// The current conversation's id (the seed's `get_conversation_id`).
    pub fn get_conversation_id(&mut self, user_id: &str) -> Result<Option<String>, ManagerError> {
        match self.current_session_id(user_id)? {
            Some(id) => Ok(Some(self.conversation(user_id, &id)?.conversation_id)),
            None => Ok(None),
        }
    }

    /// Queries in the current conversation (the seed's `get_query_count`).
    pub fn get_query_count(&mut self, user_id: &str) -> Result<usize, ManagerError> {
        match self.current_session_id(user_id)? {
            Some(id) => Ok(self.conversation(user_id, &id)?.query_count()),
            None => Ok(0),
        }
    }

    /// Ends the user's current conversation with their feedback (the seed's
    /// `end_conversation`): its trace is closed and the next message starts
    /// a new session. Returns the ended session's id.
    pub fn end_conversation(
        &mut self,
        user_id: &str,
        satisfaction: Satisfaction,
        comment: &str,
    ) -> Result<Option<String>, ManagerError> {
        self.atomically(|m| {
            let Some(session_id) = m.current_session_id(user_id)? else {
                return Ok(None);
            };
            let ending = Ending {
                at: m.clock.now(),
                reason: EndReason::Ended,
                satisfaction: Some(satisfaction),
                comment: comment.trim().to_owned(),
            };
            m.end(user_id, &session_id, ending)?;
            Ok(Some(session_id))
        })
    }

    /// Ends every active conversation of the user that has been idle longer
    /// than the inactivity limit or lasted longer than the maximum.
    /// Returns the ids of the sessions it ended.
    pub fn expire_due(&mut self, user_id: &str) -> Result<Vec<String>, ManagerError> {
        self.atomically(|m| Ok(m.expire(user_id)?.0))
    }

    /// Deletes ended conversations older than the retention limit, if the
    /// user set one. Returns the ids of the deleted sessions.
    pub fn apply_retention(&mut self, user_id: &str) -> Result<Vec<String>, ManagerError> {
        self.atomically(|m| {
            let Some(retention) = m.limits.retention else {
                return Ok(Vec::new());
            };
            let now = m.clock.now();
            let due: Vec<String> = m
                .user_record(user_id)?
                .conversations
                .iter()
                .filter(|s| s.ended.as_ref().is_some_and(|e| now - e.at > retention))
                .map(|s| s.session_id.clone())
                .collect();
            for session_id in &due {
                m.delete_conversation(user_id, session_id)?;
            }
            Ok(due)
        })
    }

    /// Deletes a conversation: its session, its record and its status.
    pub fn delete_conversation(
        &mut self,
        user_id: &str,
        session_id: &str,
    ) -> Result<(), ManagerError> {
        self.atomically(|m| {
            match m.service.delete_session(&m.app_name, user_id, session_id) {
                Ok(()) | Err(SessionError::NotFound { .. }) => {}
                Err(error) => return Err(error.into()),
            }
            m.kv.remove(&keys::conversation(&m.app_name, user_id, session_id))?;
            m.kv.remove(&keys::status(&m.app_name, user_id, session_id))?;
            m.leave_current(user_id, session_id)
        })
    }

    /// Gives a new conversation its status, as the current one.
    pub(super) fn list_as_current(
        &self,
        user_id: &str,
        conversation: &Conversation,
    ) -> Result<(), ManagerError> {
        self.save_status(user_id, &conversation.status())?;
        self.set_current(user_id, Some(conversation.session_id.clone()))
    }

    /// No current session any more if it was `session_id`.
    fn leave_current(&self, user_id: &str, session_id: &str) -> Result<(), ManagerError> {
        if self.current_session_id(user_id)?.as_deref() == Some(session_id) {
            self.set_current(user_id, None)?;
        }
        Ok(())
    }

    /// Ends the conversation in `session_id` (if still active): its trace's
    /// root span and any query left open are closed and exported, and the
    /// ending is recorded in its record and the user's.
    fn end(&mut self, user_id: &str, session_id: &str, ending: Ending) -> Result<(), ManagerError> {
        let mut conversation = self.conversation(user_id, session_id)?;
        if !conversation.is_active() {
            return Ok(());
        }
        let root = &mut conversation.trace.root;
        root.end = Some(ending.at);
        root.set("confab.conversation.end_reason", ending.reason.as_str())
            .set(
                "confab.conversation.total_queries",
                conversation.queries.len(),
            );
        if let Some(satisfaction) = ending.satisfaction {
            root.set("confab.conversation.feedback", satisfaction.as_str());
        }
        if !ending.comment.is_empty() {
            root.set("confab.conversation.comment", ending.comment.as_str());
        }
        root.status = SpanStatus::Ok;
        self.outbox.push(root.clone());
        // Queries still open (a reply that never finished) end with it.
        for span in conversation
            .trace
            .spans
            .iter_mut()
            .filter(|s| s.end.is_none())
        {
            span.end = Some(ending.at);
            self.outbox.push(span.clone());
        }
        conversation.ended = Some(ending.clone());
        self.save_conversation(&conversation)?;
        let status = match self.status(user_id, session_id)? {
            Some(status) => ConversationStatus {
                ended: Some(ending),
                ..status
            },
            None => conversation.status(),
        };
        self.save_status(user_id, &status)?;
        self.leave_current(user_id, session_id)
    }

    /// Expiry, also returning the user's sessions as it read them: ending a
    /// conversation changes its record and the user's, not the session list.
    pub(super) fn expire(
        &mut self,
        user_id: &str,
    ) -> Result<(Vec<String>, Vec<SessionSummary>, UserRecord), ManagerError> {
        let record = self.user_record(user_id)?;
        let summaries = self.service.list_sessions(&self.app_name, user_id)?;
        // By id: one lookup per conversation, not a scan of every summary.
        let last_updates: HashMap<&str, f64> = summaries
            .iter()
            .map(|s| (s.id.as_str(), s.last_update_time))
            .collect();
        let mut expired = Vec::new();
        for status in record.conversations.iter().filter(|s| s.ended.is_none()) {
            if let Some(&last_update) = last_updates.get(status.session_id.as_str())
                && self.is_due(status, last_update)
            {
                expired.push(status.session_id.clone());
            }
        }
        for session_id in &expired {
            self.end(user_id, session_id, self.expiry())?;
        }
        Ok((expired, summaries, record))
    }
}
