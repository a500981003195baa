//! A query and the calls that answer it: the user's message saved with its
//! query span and log entry; each model or agent call (a retry is another
//! call under the same query) saved as the reply's events, with its span
//! ([`crate::telemetry::genai`] builds it); a rating of a reply, as a
//! feedback span under its query.

use serde_json::json;

use super::{
    ManagerError, NO_RESPONSE, QueryLog, RESPONSE_LOG_CHARS, Rating, ReplyFeedback, SessionManager,
    truncate,
};
use crate::clock::Clock;
use crate::outcome::ReplyFailure;
use crate::session::{
    AttachmentRef, Event, MessageStatus, Part, Reasoning, Session, SessionService, new_id,
};
use crate::storage::KvStore;
use crate::telemetry::genai::{ModelCall, model_call_span};
use crate::telemetry::{Span, SpanKind, TokenUsage, Trace, attr};

/// Characters of query and response text kept on spans.
const SPAN_TEXT_CHARS: usize = 1_000;

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
    /// Why the reply is not whole, if it is not.
    pub error: Option<ReplyFailure>,
    pub response_model: Option<String>,
    pub first_token_at: Option<f64>,
    pub usage: Option<TokenUsage>,
    pub finish_reason: Option<String>,
    /// What a reasoning model thought before its reply, kept on its event.
    pub reasoning: Option<Reasoning>,
}

impl CallResult {
    /// A reply that failed before anything was asked of the model (the
    /// request could not be made: too large, an attachment gone): no text,
    /// the error kept on the reply.
    pub fn refused(event_id: &str, error: ReplyFailure) -> Self {
        Self {
            agent_events: Vec::new(),
            event_id: event_id.to_owned(),
            text: String::new(),
            status: MessageStatus::Error,
            error: Some(error),
            response_model: None,
            first_token_at: None,
            usage: None,
            finish_reason: None,
            reasoning: None,
        }
    }
}

impl<S: SessionService, K: KvStore, C: Clock> SessionManager<S, K, C> {
    /// Records the user's message in their current conversation (making one
    /// if needed): the event, the query log, and a span for the query.
    pub fn begin_query(&mut self, user_id: &str, text: &str) -> Result<QueryStart, ManagerError> {
        self.begin_query_with(user_id, text, &[])
    }

    /// [`Self::begin_query`] for a message with attachments (their bytes
    /// stored before this is called): the event holds the text, if any,
    /// then a reference part per attachment. A message may be files alone.
    pub fn begin_query_with(
        &mut self,
        user_id: &str,
        text: &str,
        attachments: &[AttachmentRef],
    ) -> Result<QueryStart, ManagerError> {
        self.atomically(|m| {
            let mut session = m.get_or_create_session(user_id)?;
            let mut conversation = m.conversation(user_id, &session.id)?;
            let now = m.clock.now();
            let number = conversation.query_count() + 1;
            let total = session
                .state
                .get("user:query_total")
                .and_then(|v| v.as_u64())
                .unwrap_or(0)
                + 1;
            let mut event = Event::text("user", &new_id(), now, text);
            if let Some(content) = event.content.as_mut() {
                if text.is_empty() && !attachments.is_empty() {
                    content.parts.clear();
                }
                content
                    .parts
                    .extend(attachments.iter().map(Part::attachment));
            }
            event.actions.state_delta = [
                ("query_count".to_owned(), json!(number)),
                ("user:query_total".to_owned(), json!(total)),
            ]
            .into();
            let invocation_id = event.invocation_id.clone();
            m.service.append_event(&mut session, event)?;

            let span_id = conversation
                .trace
                .start_span(None, &format!("user_query_{number}"), now);
            if let Some(span) = conversation.trace.span_mut(&span_id) {
                span.set("confab.query.number", number)
                    .set("confab.query.input", truncate(text, SPAN_TEXT_CHARS))
                    .set("confab.invocation_id", invocation_id.as_str())
                    .set(attr::CONVERSATION_ID, conversation.conversation_id.as_str());
                if !attachments.is_empty() {
                    span.set("confab.query.attachments", attachments.len());
                }
            }
            conversation
                .queries
                .push(QueryLog::unanswered(&invocation_id, text, now));
            m.save_conversation(&conversation)?;
            Ok(QueryStart {
                session,
                query_span_id: span_id,
                number,
            })
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
        // Only reads: adopting a session that has no record is atomic itself.
        let conversation = self.conversation(user_id, session_id)?;
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

    /// Saves the reply of a model call as an event, and records the call's
    /// span, the query span's outcome and the query log's response.
    pub fn finish_call(
        &mut self,
        user_id: &str,
        call: &CallStart,
        result: CallResult,
    ) -> Result<Event, ManagerError> {
        self.atomically(|m| {
            let now = m.clock.now();
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
            event.reasoning = result.reasoning.clone();
            if let Some(failure) = &result.error {
                event.error_code = Some(failure.code());
                event.failure = Some(failure.clone());
            }
            if result.response_model.is_some() {
                event
                    .actions
                    .state_delta
                    .insert("app:last_model".into(), json!(model));
            }
            let mut session = m.get_session(user_id, &call.session_id)?;
            let mut last_agent_event = None;
            for agent_event in &result.agent_events {
                // Already here (another tab saved it, or a re-read merged it).
                if let Some(existing) = session.events.iter().find(|e| e.id == agent_event.id) {
                    last_agent_event = Some(existing.clone());
                    continue;
                }
                let mut agent_event = agent_event.clone();
                agent_event.partial = false;
                last_agent_event = Some(m.service.append_event(&mut session, agent_event)?);
            }
            // A model's reply, or an agent run that did not end well (its
            // error or the text that had not been made final yet).
            let saved = match last_agent_event {
                Some(last) if result.status == MessageStatus::Complete => last,
                _ => m.service.append_event(&mut session, event)?,
            };
            let reply_id = if result.event_id.is_empty() {
                &saved.id
            } else {
                &result.event_id
            };
            m.kv.remove(&m.draft_key(user_id, &call.session_id, reply_id))?;

            let mut conversation = m.conversation(user_id, &call.session_id)?;
            let call_span = model_call_span(&ModelCall {
                trace_id: conversation.trace.trace_id(),
                parent_span_id: &call.query_span_id,
                conversation_id: &conversation.conversation_id,
                model: &model,
                request_model: &call.request_model,
                response_model: &result.response_model,
                attempt: call.attempt,
                start: call.start,
                end: now,
                first_token_at: result.first_token_at,
                usage: result.usage,
                finish_reason: &result.finish_reason,
                reply_status: result.status.as_str(),
                succeeded: matches!(
                    result.status,
                    MessageStatus::Complete | MessageStatus::Stopped
                ),
                error: result.error.as_ref(),
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
                m.outbox.push(query);
            }
            m.outbox.push(call_span.clone());
            conversation.trace.spans.push(call_span);
            if let Some(log) = conversation
                .queries
                .iter_mut()
                .rfind(|q| q.id == call.invocation_id || q.id.is_empty())
            {
                log.response = if result.text.is_empty() {
                    NO_RESPONSE.into()
                } else {
                    truncate(&result.text, RESPONSE_LOG_CHARS)
                };
            }
            m.save_conversation(&conversation)?;
            Ok(saved)
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
        self.atomically(|m| {
            let session = m.get_session(user_id, session_id)?;
            let event = session
                .events
                .iter()
                .find(|e| e.id == event_id && !e.is_from_user())
                .ok_or_else(|| ManagerError::UnknownReply(event_id.to_owned()))?;
            let mut conversation = m.conversation(user_id, session_id)?;
            let now = m.clock.now();
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
                m.outbox.push(span.clone());
            }
            conversation.feedback.push(ReplyFeedback {
                event_id: event_id.to_owned(),
                rating,
                comment: comment.trim().to_owned(),
                at: now,
            });
            m.save_conversation(&conversation)
        })
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
