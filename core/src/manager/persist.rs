//! The manager's records in the store: read parsed (an unreadable one is
//! moved aside and read as absent: records can be rebuilt from the
//! sessions), written whole, and made for a session that has none.

use serde::de::DeserializeOwned;

use super::{
    Conversation, ConversationStatus, ManagerError, QueryLog, SessionManager, UserRecord,
    new_conversation_id,
};
use crate::clock::Clock;
use crate::session::{GetSessionConfig, Session, SessionService};
use crate::storage::{KvError, KvStore, Quarantined, keys, quarantine, write_json};
use crate::telemetry::{Trace, attr};

impl<S: SessionService, K: KvStore, C: Clock> SessionManager<S, K, C> {
    /// Entries of the manager and its service found unreadable and moved
    /// aside since the last call.
    pub fn take_quarantined(&mut self) -> Vec<Quarantined> {
        let mut all = std::mem::take(&mut *self.quarantined.borrow_mut());
        all.extend(self.service.take_quarantined());
        all
    }

    /// Moves the unreadable entry at `key` aside and remembers the report.
    pub(super) fn set_aside(&self, key: &str, reason: &str) -> Result<(), ManagerError> {
        let report = quarantine::quarantine(&self.kv, key, reason, self.clock.now())?;
        self.quarantined.borrow_mut().push(report);
        Ok(())
    }

    /// A manager record; an unreadable one is moved aside and read as absent.
    fn read_record<T: DeserializeOwned + Clone + Send + 'static>(
        &self,
        key: &str,
    ) -> Result<Option<T>, ManagerError> {
        match self.parsed.read_json(&self.kv, key) {
            Ok(record) => Ok(record),
            Err(KvError::Corrupt { reason, .. }) => {
                self.set_aside(key, &reason)?;
                Ok(None)
            }
            Err(error) => Err(error.into()),
        }
    }

    /// The user's record: the current session and every conversation's
    /// status. It reads one key per conversation: for the listings and the
    /// sweeps over all conversations, not for what one conversation needs
    /// ([`Self::status`], [`Self::current_session_id`]).
    pub fn user_record(&self, user_id: &str) -> Result<UserRecord, ManagerError> {
        let prefix = keys::statuses_of(&self.app_name, user_id);
        let mut conversations = Vec::new();
        for key in &self.kv.keys_with_prefix(&prefix)? {
            if let Some(status) = self.read_record::<ConversationStatus>(key)? {
                conversations.push(status);
            }
        }
        Ok(UserRecord {
            current: self.current_session_id(user_id)?,
            conversations,
        })
    }

    /// The user's current session (the seed's `current_sessions[user_id]`).
    pub fn current_session_id(&self, user_id: &str) -> Result<Option<String>, ManagerError> {
        Ok(self
            .read_record::<UserRecord>(&keys::user_record(&self.app_name, user_id))?
            .and_then(|record| record.current))
    }

    /// Makes `current` the user's current session (`None`: none), writing
    /// only if it changes.
    pub(crate) fn set_current(
        &self,
        user_id: &str,
        current: Option<String>,
    ) -> Result<(), ManagerError> {
        if self.current_session_id(user_id)? == current {
            return Ok(());
        }
        let record = UserRecord {
            current,
            conversations: Vec::new(),
        };
        Ok(write_json(
            &self.kv,
            &keys::user_record(&self.app_name, user_id),
            &record,
        )?)
    }

    /// The status of one conversation, if it has one.
    pub fn status(
        &self,
        user_id: &str,
        session_id: &str,
    ) -> Result<Option<ConversationStatus>, ManagerError> {
        self.read_record(&keys::status(&self.app_name, user_id, session_id))
    }

    pub(crate) fn save_status(
        &self,
        user_id: &str,
        status: &ConversationStatus,
    ) -> Result<(), ManagerError> {
        let key = keys::status(&self.app_name, user_id, &status.session_id);
        Ok(write_json(&self.kv, &key, status)?)
    }

    /// The conversation record of a session. A session without one (made
    /// before the manager kept records) is adopted: given an id and a trace.
    pub fn conversation(
        &mut self,
        user_id: &str,
        session_id: &str,
    ) -> Result<Conversation, ManagerError> {
        self.atomically(|m| {
            if let Some(conversation) = m.stored_conversation(user_id, session_id)? {
                return Ok(conversation);
            }
            let session = m.get_session(user_id, session_id)?;
            let conversation = m.adopt(&session);
            m.save_conversation(&conversation)?;
            if m.status(user_id, session_id)?.is_none() {
                m.save_status(user_id, &conversation.status())?;
            }
            Ok(conversation)
        })
    }

    /// The stored record of a conversation, if it has one.
    pub(crate) fn stored_conversation(
        &self,
        user_id: &str,
        session_id: &str,
    ) -> Result<Option<Conversation>, ManagerError> {
        self.read_record(&keys::conversation(&self.app_name, user_id, session_id))
    }

    pub(crate) fn save_conversation(
        &self,
        conversation: &Conversation,
    ) -> Result<(), ManagerError> {
        let key = keys::conversation(
            &self.app_name,
            &conversation.user_id,
            &conversation.session_id,
        );
        Ok(write_json(&self.kv, &key, conversation)?)
    }

    /// A conversation record for a session that has none: a new id and
    /// trace, and the query log read from its events.
    pub(crate) fn adopt(&self, session: &Session) -> Conversation {
        let started = session
            .events
            .first()
            .map_or(session.last_update_time, |e| e.timestamp);
        let mut conversation = self.new_conversation(session, started);
        for event in session.events.iter().filter(|e| e.is_from_user()) {
            conversation.queries.push(QueryLog::unanswered(
                &event.invocation_id,
                &event.text_content(),
                event.timestamp,
            ));
        }
        conversation
    }

    /// The record of a new conversation in `session`, started at `start`:
    /// its id (the session's `conversation_id`, or a new one) and trace.
    pub(super) fn new_conversation(&self, session: &Session, start: f64) -> Conversation {
        let conversation_id = session
            .state
            .get("conversation_id")
            .and_then(|v| v.as_str())
            .map_or_else(new_conversation_id, str::to_owned);
        let mut trace = Trace::new("conversation", start);
        trace
            .root
            .set(attr::CONVERSATION_ID, conversation_id.as_str())
            .set(attr::USER_ID, session.user_id.as_str())
            .set(attr::SESSION_ID, session.id.as_str())
            .set("confab.app_name", self.app_name.as_str());
        trace.tags = vec!["conversation".into(), self.app_name.clone()];
        // OTLP has no tags; collectors show them as an attribute.
        let tags = trace.tags.join(",");
        trace.root.set("confab.tags", tags);
        Conversation {
            conversation_id,
            session_id: session.id.clone(),
            app_name: self.app_name.clone(),
            user_id: session.user_id.clone(),
            started_at: start,
            queries: Vec::new(),
            trace,
            feedback: Vec::new(),
            ended: None,
            options: Default::default(),
            options_at: 0.0,
            branched_from: None,
            branches: Vec::new(),
        }
    }

    pub(super) fn get_session(
        &self,
        user_id: &str,
        session_id: &str,
    ) -> Result<Session, ManagerError> {
        Ok(self.service.get_session(
            &self.app_name,
            user_id,
            session_id,
            GetSessionConfig::default(),
        )?)
    }
}
