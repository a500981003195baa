//! The session manager of the seed document, persisted: one current session
//! per user, a conversation id per conversation, the query log and count, a
//! trace per conversation with a span per query, feedback, ending, expiry
//! and retention. It sits on a [`SessionService`] and keeps its own records
//! in the same key-value store.

mod drafts;
mod fork;
mod records;
#[cfg(test)]
pub(crate) mod tests;

pub use drafts::*;
pub use fork::Branch;
pub use records::*;

use serde_json::json;
use thiserror::Error;

use crate::clock::Clock;
use crate::session::{
    CreateSession, Event, GetSessionConfig, MessageStatus, Session, SessionError, SessionService,
    SessionSummary, State, new_id,
};
use crate::storage::{KvError, KvStore, keys, write_json};
use crate::telemetry::genai::{ModelCall, model_call_span};
use crate::telemetry::{Span, SpanKind, SpanStatus, TokenUsage, Trace, attr};

/// Expiry and cleanup limits, in seconds.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Limits {
    /// A conversation idle this long is ended as `expired`.
    pub idle: f64,
    /// A conversation older than this is ended as `expired`.
    pub max_duration: f64,
    /// Ended conversations older than this are deleted; `None` keeps them.
    pub retention: Option<f64>,
}

impl Limits {
    /// A week of silence ends a conversation...
    pub const DEFAULT_IDLE_MINUTES: u32 = 7 * 24 * 60;
    /// ...and so does a month of age.
    pub const DEFAULT_MAX_HOURS: u32 = 30 * 24;

    /// Limits given in the units a person sets them in: minutes idle, hours
    /// of age, days an ended conversation is kept (`None`: for ever).
    pub fn new(idle_minutes: u32, max_duration_hours: u32, retention_days: Option<u32>) -> Self {
        Self {
            idle: f64::from(idle_minutes) * 60.0,
            max_duration: f64::from(max_duration_hours) * 3_600.0,
            retention: retention_days.map(|d| f64::from(d) * 86_400.0),
        }
    }
}

impl Default for Limits {
    /// A week of silence or a month of age ends a conversation; nothing is
    /// ever deleted unless the user sets a retention limit.
    fn default() -> Self {
        Self::new(Self::DEFAULT_IDLE_MINUTES, Self::DEFAULT_MAX_HOURS, None)
    }
}

#[derive(Clone, Debug, Error, PartialEq)]
pub enum ManagerError {
    #[error(transparent)]
    Session(#[from] SessionError),
    #[error("this conversation has ended; send a message to start a new one")]
    Ended,
    #[error("there is no query to answer in this conversation")]
    NoQuery,
    #[error("the reply {0} is not in this conversation")]
    UnknownReply(String),
    #[error("the message {0} is not one of yours in this conversation, so it cannot be edited")]
    UnknownMessage(String),
}

impl From<KvError> for ManagerError {
    fn from(error: KvError) -> Self {
        Self::Session(error.into())
    }
}

/// A conversation as listed in the sidebar. `summary.title` is the title
/// the user gave it, if any.
#[derive(Clone, Debug, PartialEq)]
pub struct Listing {
    pub summary: SessionSummary,
    pub conversation_id: String,
    pub ended: Option<Ending>,
    pub pinned: bool,
}

/// What `begin_query` started.
#[derive(Clone, Debug)]
pub struct QueryStart {
    pub session: Session,
    pub query_span_id: String,
    pub number: usize,
}

/// A model call in progress (kept in memory, and in its reply's draft).
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CallStart {
    pub session_id: String,
    pub query_span_id: String,
    pub invocation_id: String,
    pub attempt: usize,
    pub start: f64,
    pub request_model: Option<String>,
}

/// How a model call ended, as the transport saw it.
#[derive(Clone, Debug, Default)]
pub struct CallResult {
    /// An agent's own events (tool calls, code, text, each with its id,
    /// author and state delta), saved as they are; empty for a model.
    pub agent_events: Vec<Event>,
    /// The id the reply was shown under (kept for its event).
    pub event_id: String,
    pub text: String,
    pub status: MessageStatus,
    /// `(code, message)` for a reply that is not complete.
    pub error: Option<(String, String)>,
    pub response_model: Option<String>,
    pub first_token_at: Option<f64>,
    pub usage: Option<TokenUsage>,
    pub finish_reason: Option<String>,
}

pub struct SessionManager<S: SessionService, K: KvStore, C: Clock> {
    service: S,
    kv: K,
    clock: C,
    app_name: String,
    limits: Limits,
    /// Finished spans not yet handed to the exporter.
    outbox: Vec<Span>,
    /// Manager records found unreadable and moved aside.
    quarantined: std::cell::RefCell<Vec<crate::storage::Quarantined>>,
    /// The records read last, parsed: an operation re-reads the user record
    /// (and often the open conversation's) several times.
    parsed: crate::storage::ParseMemo,
}

/// Records whose parsed value is kept (the user record, the open
/// conversation's, and a few more as conversations are switched).
const PARSED_RECORDS: usize = 4;

/// Characters of query and response text kept on spans.
const SPAN_TEXT_CHARS: usize = 1_000;

impl<S: SessionService, K: KvStore, C: Clock> SessionManager<S, K, C> {
    pub fn new(service: S, kv: K, clock: C, app_name: &str, limits: Limits) -> Self {
        Self {
            service,
            kv,
            clock,
            app_name: app_name.to_owned(),
            limits,
            outbox: Vec::new(),
            quarantined: Default::default(),
            parsed: crate::storage::ParseMemo::new(PARSED_RECORDS),
        }
    }

    pub fn app_name(&self) -> &str {
        &self.app_name
    }

    pub fn service(&self) -> &S {
        &self.service
    }

    pub fn service_mut(&mut self) -> &mut S {
        &mut self.service
    }

    pub fn set_limits(&mut self, limits: Limits) {
        self.limits = limits;
    }

    /// Finished spans since the last call, for export.
    pub fn take_finished_spans(&mut self) -> Vec<Span> {
        std::mem::take(&mut self.outbox)
    }

    // --- records -------------------------------------------------------

    /// Entries of the manager and its service found unreadable and moved
    /// aside since the last call.
    pub fn take_quarantined(&mut self) -> Vec<crate::storage::Quarantined> {
        let mut all = std::mem::take(&mut *self.quarantined.borrow_mut());
        all.extend(self.service.take_quarantined());
        all
    }

    fn set_aside(&self, key: &str, reason: &str) -> Result<(), ManagerError> {
        let report =
            crate::storage::quarantine::quarantine(&self.kv, key, reason, self.clock.now())?;
        self.quarantined.borrow_mut().push(report);
        Ok(())
    }

    /// A manager record; an unreadable one is moved aside and read as absent
    /// (records can be rebuilt from the sessions).
    fn read_record<T: serde::de::DeserializeOwned + Clone + Send + 'static>(
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

    pub fn user_record(&self, user_id: &str) -> Result<UserRecord, ManagerError> {
        Ok(self
            .read_record(&keys::user_record(&self.app_name, user_id))?
            .unwrap_or_default())
    }

    fn save_user_record(&self, user_id: &str, record: &UserRecord) -> Result<(), ManagerError> {
        Ok(write_json(
            &self.kv,
            &keys::user_record(&self.app_name, user_id),
            record,
        )?)
    }

    fn conversation_inner(
        &mut self,
        user_id: &str,
        session_id: &str,
    ) -> Result<Conversation, ManagerError> {
        let key = keys::conversation(&self.app_name, user_id, session_id);
        if let Some(conversation) = self.read_record(&key)? {
            return Ok(conversation);
        }
        let session = self.get_session(user_id, session_id)?;
        let conversation = self.adopt(&session);
        self.save_conversation(&conversation)?;
        let mut record = self.user_record(user_id)?;
        if record.status(session_id).is_none() {
            record.conversations.push(status_of(&conversation));
            self.save_user_record(user_id, &record)?;
        }
        Ok(conversation)
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
            conversation.queries.push(QueryLog {
                id: event.invocation_id.clone(),
                query: truncate(&event.text_content(), QUERY_LOG_CHARS),
                response: "No response".into(),
                at: event.timestamp,
            });
        }
        conversation
    }

    pub(crate) fn stored_conversation(
        &self,
        user_id: &str,
        session_id: &str,
    ) -> Result<Option<Conversation>, ManagerError> {
        self.read_record(&keys::conversation(&self.app_name, user_id, session_id))
    }

    pub(crate) fn put_conversation(&self, conversation: &Conversation) -> Result<(), ManagerError> {
        self.save_conversation(conversation)
    }

    pub(crate) fn put_user_record(
        &self,
        user_id: &str,
        record: &UserRecord,
    ) -> Result<(), ManagerError> {
        self.save_user_record(user_id, record)
    }

    fn save_conversation(&self, conversation: &Conversation) -> Result<(), ManagerError> {
        let key = keys::conversation(
            &self.app_name,
            &conversation.user_id,
            &conversation.session_id,
        );
        Ok(write_json(&self.kv, &key, conversation)?)
    }

    fn new_conversation(&self, session: &Session, start: f64) -> Conversation {
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

    fn get_session(&self, user_id: &str, session_id: &str) -> Result<Session, ManagerError> {
        Ok(self.service.get_session(
            &self.app_name,
            user_id,
            session_id,
            GetSessionConfig::default(),
        )?)
    }

    // --- the seed's SessionManager --------------------------------------

    fn get_or_create_session_inner(&mut self, user_id: &str) -> Result<Session, ManagerError> {
        self.expire_due_inner(user_id)?;
        let record = self.user_record(user_id)?;
        if let Some(current) = &record.current
            && record.status(current).is_some_and(|s| s.ended.is_none())
        {
            match self.get_session(user_id, current) {
                Ok(session) => return Ok(session),
                // Deleted elsewhere: fall through to a new one.
                Err(ManagerError::Session(SessionError::NotFound { .. })) => {}
                Err(error) => return Err(error),
            }
        }
        self.create_new_session_inner(user_id)
    }

    fn create_new_session_inner(&mut self, user_id: &str) -> Result<Session, ManagerError> {
        let now = self.clock.now();
        let conversation_id = new_conversation_id();
        let state: State = [("conversation_id".to_owned(), json!(conversation_id))].into();
        let session = self.service.create_session(CreateSession {
            state: Some(state),
            ..CreateSession::new(&self.app_name, user_id)
        })?;
        let conversation = self.new_conversation(&session, now);
        self.save_conversation(&conversation)?;
        let mut record = self.user_record(user_id)?;
        record.conversations.push(status_of(&conversation));
        record.current = Some(session.id.clone());
        self.save_user_record(user_id, &record)?;
        Ok(session)
    }

    fn clear_session_inner(&mut self, user_id: &str) -> Result<(), ManagerError> {
        let mut record = self.user_record(user_id)?;
        if record.current.take().is_some() {
            self.save_user_record(user_id, &record)?;
        }
        Ok(())
    }

    fn switch_to_inner(&mut self, user_id: &str, session_id: &str) -> Result<bool, ManagerError> {
        let conversation = self.conversation_inner(user_id, session_id)?;
        let mut record = self.user_record(user_id)?;
        let active = conversation.is_active();
        let current = active.then(|| session_id.to_owned());
        if record.current != current {
            record.current = current;
            self.save_user_record(user_id, &record)?;
        }
        Ok(active)
    }

    pub fn current_session_id(&self, user_id: &str) -> Result<Option<String>, ManagerError> {
        Ok(self.user_record(user_id)?.current)
    }

    /// The current conversation's id (the seed's `get_conversation_id`).
    pub fn get_conversation_id(&mut self, user_id: &str) -> Result<Option<String>, ManagerError> {
        match self.current_session_id(user_id)? {
            Some(id) => Ok(Some(self.conversation_inner(user_id, &id)?.conversation_id)),
            None => Ok(None),
        }
    }

    /// Queries in the current conversation (the seed's `get_query_count`).
    pub fn get_query_count(&mut self, user_id: &str) -> Result<usize, ManagerError> {
        match self.current_session_id(user_id)? {
            Some(id) => Ok(self.conversation_inner(user_id, &id)?.query_count()),
            None => Ok(0),
        }
    }

    /// The user's conversations, newest first, with their status.
    pub fn listings(&self, user_id: &str) -> Result<Vec<Listing>, ManagerError> {
        let record = self.user_record(user_id)?;
        let summaries = self.service.list_sessions(&self.app_name, user_id)?;
        Ok(listings_of(&record, summaries))
    }

    // --- queries and model calls ----------------------------------------

    fn begin_query_inner(&mut self, user_id: &str, text: &str) -> Result<QueryStart, ManagerError> {
        let mut session = self.get_or_create_session_inner(user_id)?;
        let mut conversation = self.conversation_inner(user_id, &session.id)?;
        let now = self.clock.now();
        let number = conversation.query_count() + 1;
        let total = session
            .state
            .get("user:query_total")
            .and_then(|v| v.as_u64())
            .unwrap_or(0)
            + 1;
        let mut event = Event::text("user", &new_id(), now, text);
        event.actions.state_delta = [
            ("query_count".to_owned(), json!(number)),
            ("user:query_total".to_owned(), json!(total)),
        ]
        .into();
        let invocation_id = event.invocation_id.clone();
        self.service.append_event(&mut session, event)?;

        let span_id = conversation
            .trace
            .start_span(None, &format!("user_query_{number}"), now);
        if let Some(span) = conversation.trace.span_mut(&span_id) {
            span.set("confab.query.number", number)
                .set("confab.query.input", truncate(text, SPAN_TEXT_CHARS))
                .set("confab.invocation_id", invocation_id.as_str())
                .set(attr::CONVERSATION_ID, conversation.conversation_id.as_str());
        }
        conversation.queries.push(QueryLog {
            id: invocation_id.clone(),
            query: truncate(text, QUERY_LOG_CHARS),
            response: "No response".into(),
            at: now,
        });
        self.save_conversation(&conversation)?;
        Ok(QueryStart {
            session,
            query_span_id: span_id,
            number,
        })
    }

    /// Starts a model call answering the conversation's last query (the
    /// first call or a retry).
    pub fn begin_call(
        &mut self,
        user_id: &str,
        session_id: &str,
        request_model: Option<&str>,
    ) -> Result<CallStart, ManagerError> {
        let conversation = self.conversation_inner(user_id, session_id)?;
        if !conversation.is_active() {
            return Err(ManagerError::Ended);
        }
        let query = last_query_span(&conversation.trace).ok_or(ManagerError::NoQuery)?;
        let attempt = conversation
            .trace
            .children(&query.span_id)
            .iter()
            .filter(|s| s.kind == SpanKind::Client)
            .count()
            + 1;
        let invocation_id = match query.attr("confab.invocation_id") {
            Some(id) => id.to_string(),
            None => new_id(),
        };
        Ok(CallStart {
            session_id: session_id.to_owned(),
            query_span_id: query.span_id.clone(),
            invocation_id,
            attempt,
            start: self.clock.now(),
            request_model: request_model.map(str::to_owned),
        })
    }

    fn finish_call_inner(
        &mut self,
        user_id: &str,
        call: &CallStart,
        result: CallResult,
    ) -> Result<Event, ManagerError> {
        let now = self.clock.now();
        let model = result
            .response_model
            .clone()
            .or_else(|| call.request_model.clone())
            .unwrap_or_else(|| "model".to_owned());
        let mut event = Event::text(&model, &call.invocation_id, now, &result.text);
        if !result.event_id.is_empty() {
            event.id = result.event_id.clone();
        }
        event.status = result.status;
        if let Some((code, message)) = &result.error {
            event.error_code = Some(code.clone());
            event.error_message = Some(message.clone());
        }
        if result.response_model.is_some() {
            event
                .actions
                .state_delta
                .insert("app:last_model".into(), json!(model));
        }
        let mut session = self.get_session(user_id, &call.session_id)?;
        let mut last_agent_event = None;
        for agent_event in &result.agent_events {
            // Already here (another tab saved it, or a re-read merged it).
            if let Some(existing) = session.events.iter().find(|e| e.id == agent_event.id) {
                last_agent_event = Some(existing.clone());
                continue;
            }
            let mut agent_event = agent_event.clone();
            agent_event.partial = false;
            last_agent_event = Some(self.service.append_event(&mut session, agent_event)?);
        }
        // A model's reply, or an agent run that did not end well (its error
        // or the text that had not been made final yet).
        let saved = match last_agent_event {
            Some(last) if result.status == MessageStatus::Complete => last,
            _ => self.service.append_event(&mut session, event)?,
        };
        let reply_id = if result.event_id.is_empty() {
            &saved.id
        } else {
            &result.event_id
        };
        self.kv
            .remove(&self.draft_key(user_id, &call.session_id, reply_id))?;

        let mut conversation = self.conversation_inner(user_id, &call.session_id)?;
        let call_span = model_call_span(&ModelCall {
            trace_id: conversation.trace.trace_id(),
            parent_span_id: &call.query_span_id,
            conversation_id: &conversation.conversation_id,
            model: &model,
            request_model: call.request_model.as_deref(),
            response_model: result.response_model.as_deref(),
            attempt: call.attempt,
            start: call.start,
            end: now,
            first_token_at: result.first_token_at,
            usage: result.usage,
            finish_reason: result.finish_reason.as_deref(),
            reply_status: result.status.as_str(),
            succeeded: matches!(
                result.status,
                MessageStatus::Complete | MessageStatus::Stopped
            ),
            error: result
                .error
                .as_ref()
                .map(|(code, message)| (code.as_str(), message.as_str())),
        });
        if let Some(query) = conversation.trace.span_mut(&call.query_span_id) {
            query.end = Some(now);
            query.set(
                "confab.query.output",
                truncate(&result.text, SPAN_TEXT_CHARS),
            );
            query.set("confab.reply.status", result.status.as_str());
            query.set("confab.attempts", call.attempt);
            if let Some(first) = result.first_token_at {
                query.set_time_to_first_token(call.start, first);
            }
            if let Some(usage) = result.usage {
                query.set_usage(usage);
            }
            query.status = call_span.status.clone();
            let query = query.clone();
            self.outbox.push(query);
        }
        self.outbox.push(call_span.clone());
        conversation.trace.spans.push(call_span);
        if let Some(log) = conversation
            .queries
            .iter_mut()
            .rfind(|q| q.id == call.invocation_id || q.id.is_empty())
        {
            log.response = if result.text.is_empty() {
                "No response".into()
            } else {
                truncate(&result.text, RESPONSE_LOG_CHARS)
            };
        }
        self.save_conversation(&conversation)?;
        Ok(saved)
    }

    // --- feedback and ending ---------------------------------------------

    fn rate_reply_inner(
        &mut self,
        user_id: &str,
        session_id: &str,
        event_id: &str,
        rating: Rating,
        comment: &str,
    ) -> Result<(), ManagerError> {
        let session = self.get_session(user_id, session_id)?;
        let event = session
            .events
            .iter()
            .find(|e| e.id == event_id && !e.is_from_user())
            .ok_or_else(|| ManagerError::UnknownReply(event_id.to_owned()))?;
        let mut conversation = self.conversation_inner(user_id, session_id)?;
        let now = self.clock.now();
        let parent = conversation
            .trace
            .spans
            .iter()
            .find(|s| {
                s.name.starts_with("user_query_")
                    && s.attr("confab.invocation_id").map(|v| v.to_string())
                        == Some(event.invocation_id.clone())
            })
            .map(|s| s.span_id.clone());
        let span_id = conversation
            .trace
            .start_span(parent.as_deref(), "feedback", now);
        if let Some(span) = conversation.trace.span_mut(&span_id) {
            span.end = Some(now);
            span.set("confab.feedback.rating", rating.as_str())
                .set("confab.feedback.comment", comment.trim())
                .set("confab.feedback.event_id", event_id)
                .set(attr::CONVERSATION_ID, conversation.conversation_id.as_str());
            self.outbox.push(span.clone());
        }
        conversation.feedback.push(ReplyFeedback {
            event_id: event_id.to_owned(),
            rating,
            comment: comment.trim().to_owned(),
            at: now,
        });
        self.save_conversation(&conversation)?;
        Ok(())
    }

    fn end_conversation_inner(
        &mut self,
        user_id: &str,
        satisfaction: Satisfaction,
        comment: &str,
    ) -> Result<Option<String>, ManagerError> {
        let Some(session_id) = self.current_session_id(user_id)? else {
            return Ok(None);
        };
        self.end(
            user_id,
            &session_id,
            Ending {
                at: self.clock.now(),
                reason: EndReason::Ended,
                satisfaction: Some(satisfaction),
                comment: comment.trim().to_owned(),
            },
        )?;
        Ok(Some(session_id))
    }

    fn end(&mut self, user_id: &str, session_id: &str, ending: Ending) -> Result<(), ManagerError> {
        let mut conversation = self.conversation_inner(user_id, session_id)?;
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
        let mut record = self.user_record(user_id)?;
        match record.status_mut(session_id) {
            Some(status) => status.ended = Some(ending),
            None => record.conversations.push(status_of(&conversation)),
        }
        if record.current.as_deref() == Some(session_id) {
            record.current = None;
        }
        self.save_user_record(user_id, &record)?;
        Ok(())
    }

    fn expire_due_inner(&mut self, user_id: &str) -> Result<Vec<String>, ManagerError> {
        Ok(self.expire_due_listed(user_id)?.0)
    }

    /// Expiry, also returning the user's sessions as it read them: ending a
    /// conversation changes its record and the user's, not the session list.
    fn expire_due_listed(
        &mut self,
        user_id: &str,
    ) -> Result<(Vec<String>, Vec<SessionSummary>), ManagerError> {
        let now = self.clock.now();
        let record = self.user_record(user_id)?;
        let summaries = self.service.list_sessions(&self.app_name, user_id)?;
        let mut expired = Vec::new();
        for status in record.conversations.iter().filter(|s| s.ended.is_none()) {
            let Some(summary) = summaries.iter().find(|s| s.id == status.session_id) else {
                continue;
            };
            let idle = now - summary.last_update_time > self.limits.idle;
            let too_old = now - status.started_at > self.limits.max_duration;
            if idle || too_old {
                expired.push(status.session_id.clone());
            }
        }
        for session_id in &expired {
            self.end(
                user_id,
                session_id,
                Ending {
                    at: now,
                    reason: EndReason::Expired,
                    satisfaction: None,
                    comment: String::new(),
                },
            )?;
        }
        Ok((expired, summaries))
    }

    fn apply_retention_inner(&mut self, user_id: &str) -> Result<Vec<String>, ManagerError> {
        let Some(retention) = self.limits.retention else {
            return Ok(Vec::new());
        };
        let now = self.clock.now();
        let due: Vec<String> = self
            .user_record(user_id)?
            .conversations
            .iter()
            .filter(|s| s.ended.as_ref().is_some_and(|e| now - e.at > retention))
            .map(|s| s.session_id.clone())
            .collect();
        for session_id in &due {
            self.delete_conversation_inner(user_id, session_id)?;
        }
        Ok(due)
    }

    fn delete_conversation_inner(
        &mut self,
        user_id: &str,
        session_id: &str,
    ) -> Result<(), ManagerError> {
        match self
            .service
            .delete_session(&self.app_name, user_id, session_id)
        {
            Ok(()) | Err(SessionError::NotFound { .. }) => {}
            Err(error) => return Err(error.into()),
        }
        self.kv
            .remove(&keys::conversation(&self.app_name, user_id, session_id))?;
        let mut record = self.user_record(user_id)?;
        record.conversations.retain(|s| s.session_id != session_id);
        if record.current.as_deref() == Some(session_id) {
            record.current = None;
        }
        self.save_user_record(user_id, &record)
    }
}

/// The public operations: each one is all-or-nothing over the store (see
/// [`crate::storage::Journaled`]), so a full quota halfway leaves nothing
/// half-written, and spans of a failed operation are never exported.
impl<S: SessionService, K: KvStore, C: Clock> SessionManager<S, K, C> {
    pub(crate) fn atomically<R>(
        &mut self,
        operation: impl FnOnce(&mut Self) -> Result<R, ManagerError>,
    ) -> Result<R, ManagerError> {
        let exported = self.outbox.len();
        self.kv.begin();
        let result = operation(self);
        if result.is_ok() {
            self.kv.commit();
        } else {
            self.kv.rollback();
            self.outbox.truncate(exported);
        }
        result
    }

    /// The conversation record of a session. A session without one (made
    /// before the manager kept records) is adopted: given an id and a trace.
    pub fn conversation(
        &mut self,
        user_id: &str,
        session_id: &str,
    ) -> Result<Conversation, ManagerError> {
        self.atomically(|m| m.conversation_inner(user_id, session_id))
    }

    /// The user's current session, or a new one if there is none or it has
    /// ended (or expired just now).
    pub fn get_or_create_session(&mut self, user_id: &str) -> Result<Session, ManagerError> {
        self.atomically(|m| m.get_or_create_session_inner(user_id))
    }

    /// Starts a fresh context: a new session with a new conversation id and
    /// trace, made current. Earlier conversations stay as they are (the user
    /// can go back to them) until ended or expired.
    pub fn create_new_session(&mut self, user_id: &str) -> Result<Session, ManagerError> {
        self.atomically(|m| m.create_new_session_inner(user_id))
    }

    /// Forgets the user's current session (the seed's `clear_session`): the
    /// next message starts a new one. Nothing is deleted.
    pub fn clear_session(&mut self, user_id: &str) -> Result<(), ManagerError> {
        self.atomically(|m| m.clear_session_inner(user_id))
    }

    /// Makes an active conversation the current one (the user opened it).
    /// An ended one stays readable but is not made current: returns false.
    pub fn switch_to(&mut self, user_id: &str, session_id: &str) -> Result<bool, ManagerError> {
        self.atomically(|m| m.switch_to_inner(user_id, session_id))
    }

    /// Records the user's message in their current conversation (making one
    /// if needed): the event, the query log, and a span for the query.
    pub fn begin_query(&mut self, user_id: &str, text: &str) -> Result<QueryStart, ManagerError> {
        self.atomically(|m| m.begin_query_inner(user_id, text))
    }

    /// Saves the reply of a model call as an event, and records the call's
    /// span, the query span's outcome and the query log's response.
    pub fn finish_call(
        &mut self,
        user_id: &str,
        call: &CallStart,
        result: CallResult,
    ) -> Result<Event, ManagerError> {
        self.atomically(|m| m.finish_call_inner(user_id, call, result))
    }

    /// Sets a conversation's own model, temperature and system prompt.
    pub fn set_options(
        &mut self,
        user_id: &str,
        session_id: &str,
        options: ConversationOptions,
    ) -> Result<(), ManagerError> {
        self.atomically(|m| {
            let mut conversation = m.conversation_inner(user_id, session_id)?;
            conversation.options = options;
            conversation.options_at = m.clock.now();
            m.save_conversation(&conversation)
        })
    }

    /// Records a thumbs up or down (and an optional comment) on a reply, as
    /// a `feedback` span under the query it answered.
    pub fn rate_reply(
        &mut self,
        user_id: &str,
        session_id: &str,
        event_id: &str,
        rating: Rating,
        comment: &str,
    ) -> Result<(), ManagerError> {
        self.atomically(|m| m.rate_reply_inner(user_id, session_id, event_id, rating, comment))
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
        self.atomically(|m| m.end_conversation_inner(user_id, satisfaction, comment))
    }

    /// Ends every active conversation of the user that has been idle longer
    /// than the inactivity limit or lasted longer than the maximum.
    /// Returns the ids of the sessions it ended.
    pub fn expire_due(&mut self, user_id: &str) -> Result<Vec<String>, ManagerError> {
        self.atomically(|m| m.expire_due_inner(user_id))
    }

    /// Deletes ended conversations older than the retention limit, if the
    /// user set one. Returns the ids of the deleted sessions.
    pub fn apply_retention(&mut self, user_id: &str) -> Result<Vec<String>, ManagerError> {
        self.atomically(|m| m.apply_retention_inner(user_id))
    }

    /// What opening a profile does, in order: drafts of closed tabs saved
    /// (those `writer_of` says are gone, or too old when it cannot tell),
    /// expiry, retention, and the sidebar's listings. Returns the listings
    /// and the drafts left (still being written, as far as is known). Each
    /// step is the operation of the same name; the session list, the
    /// largest thing read, is read once for expiry and the listings unless
    /// retention deleted something. `keys`: the store's keys, if listed.
    pub fn enter(
        &mut self,
        user_id: &str,
        keys: Option<&[String]>,
        writer_of: &dyn Fn(&FoundDraft) -> Writer,
    ) -> Result<(Vec<Listing>, Vec<FoundDraft>), ManagerError> {
        let listed;
        let keys = match keys {
            Some(keys) => keys,
            None => {
                listed = self.kv.keys()?;
                &listed
            }
        };
        let left = self
            .settle_drafts(user_id, keys, writer_of)?
            .into_iter()
            .filter_map(|(found, settled)| match settled {
                Settled::Left(draft) => Some(FoundDraft { draft, ..found }),
                _ => None,
            })
            .collect();
        let (_, summaries) = self.atomically(|m| m.expire_due_listed(user_id))?;
        if !self.apply_retention(user_id)?.is_empty() {
            return Ok((self.listings(user_id)?, left));
        }
        let record = self.user_record(user_id)?;
        Ok((listings_of(&record, summaries), left))
    }

    /// Gives a conversation a title of the user's choosing (trimmed, on one
    /// line, cut to [`MAX_TITLE_CHARS`]); a blank one goes back to the
    /// automatic title. Returns the title now shown, if the user set one.
    pub fn rename_conversation(
        &mut self,
        user_id: &str,
        session_id: &str,
        title: &str,
    ) -> Result<Option<String>, ManagerError> {
        let title = title.split_whitespace().collect::<Vec<_>>().join(" ");
        let title = (!title.is_empty()).then(|| truncate(&title, MAX_TITLE_CHARS));
        let kept = title.clone();
        self.atomically(|m| m.relabel(user_id, session_id, |s| s.title = kept))?;
        Ok(title)
    }

    /// Pins a conversation (listed first) or unpins it.
    pub fn set_pinned(
        &mut self,
        user_id: &str,
        session_id: &str,
        pinned: bool,
    ) -> Result<(), ManagerError> {
        self.atomically(|m| m.relabel(user_id, session_id, |s| s.pinned = pinned))
    }

    /// Changes the title or pin of a conversation's status, noting when.
    fn relabel(
        &mut self,
        user_id: &str,
        session_id: &str,
        change: impl FnOnce(&mut ConversationStatus),
    ) -> Result<(), ManagerError> {
        // Adopts a session that has no record yet (and so no status).
        self.conversation_inner(user_id, session_id)?;
        let now = self.clock.now();
        let mut record = self.user_record(user_id)?;
        let status = record
            .status_mut(session_id)
            .ok_or_else(|| SessionError::not_found(&self.app_name, user_id, session_id))?;
        change(status);
        status.labels_at = now;
        self.save_user_record(user_id, &record)
    }

    /// Deletes a conversation: its session, its record and its status.
    pub fn delete_conversation(
        &mut self,
        user_id: &str,
        session_id: &str,
    ) -> Result<(), ManagerError> {
        self.atomically(|m| m.delete_conversation_inner(user_id, session_id))
    }
}

/// The sidebar's entries: each session with its conversation's status,
/// pinned ones first (each group in the order given: newest first).
fn listings_of(record: &UserRecord, summaries: Vec<SessionSummary>) -> Vec<Listing> {
    // By id, the first status of each (as `UserRecord::status` finds it):
    // one lookup per session instead of a scan of every status.
    let mut statuses = std::collections::HashMap::with_capacity(record.conversations.len());
    for status in &record.conversations {
        statuses.entry(status.session_id.as_str()).or_insert(status);
    }
    let mut listings: Vec<Listing> = summaries
        .into_iter()
        .map(|mut summary| {
            let status = statuses.get(summary.id.as_str());
            if let Some(title) = status.and_then(|s| s.title.clone()) {
                summary.title = Some(title);
            }
            Listing {
                conversation_id: status
                    .map(|s| s.conversation_id.clone())
                    .unwrap_or_default(),
                ended: status.and_then(|s| s.ended.clone()),
                pinned: status.is_some_and(|s| s.pinned),
                summary,
            }
        })
        .collect();
    // Stable: the newest-first order holds within each group.
    listings.sort_by_key(|l| !l.pinned);
    listings
}

fn status_of(conversation: &Conversation) -> ConversationStatus {
    ConversationStatus {
        session_id: conversation.session_id.clone(),
        conversation_id: conversation.conversation_id.clone(),
        started_at: conversation.started_at,
        ended: conversation.ended.clone(),
        title: None,
        pinned: false,
        labels_at: 0.0,
    }
}

/// The newest query span of a trace.
fn last_query_span(trace: &Trace) -> Option<&Span> {
    // Spans are kept in the order they started.
    trace
        .spans
        .iter()
        .rev()
        .find(|s| s.name.starts_with("user_query_"))
}
