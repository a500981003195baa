//! What the session manager keeps per conversation and per user.

use serde::{Deserialize, Serialize};

use crate::telemetry::Trace;

/// Query and response are cut to these lengths in the log (as the seed does).
pub const QUERY_LOG_CHARS: usize = 200;
pub const RESPONSE_LOG_CHARS: usize = 500;

/// The logged response of a query no reply answered (yet).
pub const NO_RESPONSE: &str = "No response";

/// One query of a conversation and what the model answered.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct QueryLog {
    /// The invocation id of the query (empty in records made before ids).
    #[serde(default)]
    pub id: String,
    pub query: String,
    /// [`NO_RESPONSE`] until (or unless) the model answers.
    pub response: String,
    pub at: f64,
}

impl QueryLog {
    /// The log entry of the query `id` (its text cut to
    /// [`QUERY_LOG_CHARS`]), not answered yet.
    pub fn unanswered(id: &str, query: &str, at: f64) -> Self {
        Self {
            id: id.to_owned(),
            query: truncate(query, QUERY_LOG_CHARS),
            response: NO_RESPONSE.into(),
            at,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Rating {
    Up,
    Down,
}

impl Rating {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Up => "up",
            Self::Down => "down",
        }
    }
}

/// A thumbs up or down on one reply.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReplyFeedback {
    pub event_id: String,
    pub rating: Rating,
    #[serde(default)]
    pub comment: String,
    pub at: f64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Satisfaction {
    Satisfied,
    NotSatisfied,
}

impl Satisfaction {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Satisfied => "satisfied",
            Self::NotSatisfied => "not_satisfied",
        }
    }
}

/// Why a conversation ended (recorded on its trace).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EndReason {
    /// The user ended it, with feedback.
    Ended,
    /// Idle longer than the inactivity limit, or older than the maximum.
    Expired,
}

impl EndReason {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Ended => "ended",
            Self::Expired => "expired",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Ending {
    pub at: f64,
    pub reason: EndReason,
    #[serde(default)]
    pub satisfaction: Option<Satisfaction>,
    #[serde(default)]
    pub comment: String,
}

/// One conversation's own choices, over the global settings. Stored in its
/// [`Conversation`] record; `chat` reads them when it plans a request.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct ConversationOptions {
    /// The model to ask; `None` uses the one in Settings.
    pub model: Option<String>,
    /// Sampling temperature; `None` leaves it to the model.
    pub temperature: Option<f32>,
    /// Replaces the system prompt of Settings when set.
    pub system_prompt: Option<String>,
    /// Answered by this app of the ADK agent server instead of the model.
    pub agent_app: Option<String>,
    /// The agent server's id of this conversation's session, once created.
    pub agent_session_id: Option<String>,
}

impl ConversationOptions {
    /// The agent app answering this conversation, if it is in agent mode.
    pub fn agent(&self) -> Option<&str> {
        self.agent_app.as_deref().filter(|a| !a.trim().is_empty())
    }

    /// The model this conversation asks for: its own, else `default` (the
    /// settings' model; empty: the proxy's default).
    pub fn model_or<'a>(&'a self, default: &'a str) -> &'a str {
        self.model
            .as_deref()
            .filter(|m| !m.trim().is_empty())
            .unwrap_or(default)
    }
}

/// Everything the manager knows about one conversation (one session).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Conversation {
    /// `conv_` + 12 lowercase hex digits.
    pub conversation_id: String,
    pub session_id: String,
    pub app_name: String,
    pub user_id: String,
    pub started_at: f64,
    #[serde(default)]
    pub queries: Vec<QueryLog>,
    pub trace: Trace,
    #[serde(default)]
    pub feedback: Vec<ReplyFeedback>,
    #[serde(default)]
    pub ended: Option<Ending>,
    /// This conversation's own model, temperature and system prompt.
    #[serde(default)]
    pub options: ConversationOptions,
    /// When `options` were last changed (seconds; the later change wins
    /// when two tabs change them).
    #[serde(default)]
    pub options_at: f64,
    /// Where this conversation branched off another (a sent message was
    /// edited there).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub branched_from: Option<super::Branch>,
    /// Conversations that branched off this one.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub branches: Vec<super::Branch>,
}

impl Conversation {
    pub fn query_count(&self) -> usize {
        self.queries.len()
    }

    pub fn is_active(&self) -> bool {
        self.ended.is_none()
    }

    /// The latest rating of a reply, if any.
    pub fn feedback_for(&self, event_id: &str) -> Option<&ReplyFeedback> {
        self.feedback.iter().rev().find(|f| f.event_id == event_id)
    }

    /// Its entry in the user's record, without a title or pin.
    pub fn status(&self) -> ConversationStatus {
        ConversationStatus {
            session_id: self.session_id.clone(),
            conversation_id: self.conversation_id.clone(),
            started_at: self.started_at,
            ended: self.ended.clone(),
            title: None,
            pinned: false,
            labels_at: 0.0,
        }
    }
}

/// A conversation as the sidebar needs it, so startup need not read every
/// conversation's record. Stored under its own key ([`keys::status`]):
/// renaming, pinning or ending one conversation rewrites its status only.
///
/// [`keys::status`]: crate::storage::keys::status
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ConversationStatus {
    pub session_id: String,
    pub conversation_id: String,
    pub started_at: f64,
    #[serde(default)]
    pub ended: Option<Ending>,
    /// The title the user gave it; `None`: the automatic one (its first
    /// message). Kept here, not in the session, so a rename rewrites one
    /// small record and does not reorder the list (a session's update
    /// time is its place in it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// Listed before the others.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub pinned: bool,
    /// When the title or the pin last changed (seconds): of two tabs'
    /// records, the later change wins.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub labels_at: f64,
}

fn is_zero(value: &f64) -> bool {
    *value == 0.0
}

/// Longest title a user can give, in characters.
pub const MAX_TITLE_CHARS: usize = 120;

/// One user's manager state in one app. Stored, it holds `current` only;
/// `SessionManager::user_record` fills `conversations` from the statuses'
/// own keys (format 4 stored them here).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UserRecord {
    /// The user's current session (the seed's `current_sessions[user_id]`).
    #[serde(default)]
    pub current: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub conversations: Vec<ConversationStatus>,
}

impl UserRecord {
    pub fn status(&self, session_id: &str) -> Option<&ConversationStatus> {
        self.conversations
            .iter()
            .find(|c| c.session_id == session_id)
    }

    pub fn status_mut(&mut self, session_id: &str) -> Option<&mut ConversationStatus> {
        self.conversations
            .iter_mut()
            .find(|c| c.session_id == session_id)
    }
}

/// A fresh conversation id: `conv_` and 12 lowercase hex digits.
pub fn new_conversation_id() -> String {
    format!("conv_{}", &uuid::Uuid::new_v4().simple().to_string()[..12])
}

/// `text` cut to `max` characters.
pub fn truncate(text: &str, max: usize) -> String {
    text.chars().take(max).collect()
}
