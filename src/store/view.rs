//! A message as the UI shows it: its parts as signals of their own, so a
//! streaming reply re-renders only itself.

use confab_core::session::{Event, MessageStatus};
use leptos::prelude::*;

/// Who wrote a message, as the UI tells them apart (`data-role`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    User,
    Assistant,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::User => "user",
            Role::Assistant => "assistant",
        }
    }
}

/// One message on screen. Its text and status are signals of their own so
/// a streaming reply re-renders only itself.
#[derive(Clone)]
pub struct MessageView {
    pub id: String,
    pub role: Role,
    /// `user`, or the model's name (known once its reply starts arriving).
    pub author: ArcRwSignal<String>,
    /// When it was written, in seconds since the epoch (shown on hover).
    pub time: f64,
    pub text: ArcRwSignal<String>,
    /// What a reasoning model thought before answering (shown apart,
    /// above the answer; empty for most replies).
    pub reasoning: ArcRwSignal<String>,
    /// How long it thought, once its answer began (or it ended).
    pub thought_millis: ArcRwSignal<Option<u64>>,
    pub status: ArcRwSignal<MessageStatus>,
    /// What went wrong, for a reply that is not complete.
    pub error: ArcRwSignal<Option<String>>,
    /// Whether the message is saved (a placeholder or a streaming reply is
    /// not yet): only saved replies can be rated.
    pub saved: ArcRwSignal<bool>,
    /// Seconds until a rate-limited request is tried again.
    pub retry_in: ArcRwSignal<Option<u32>>,
    /// Parts other than text and attachments (an agent's tool calls,
    /// code, images).
    pub rich_parts: Vec<confab_core::session::Part>,
    /// Files attached to it (the user's, or what a reply brought).
    pub attachments: Vec<confab_core::session::AttachmentRef>,
    /// Artifacts the agent saved with this event that are not among its
    /// attachments (they could not be fetched): named as unavailable.
    pub missing_artifacts: Vec<String>,
    /// Where a reply is being written, when not here ("Being written in
    /// another tab…").
    pub note: ArcRwSignal<Option<String>>,
}

impl MessageView {
    /// A message that is never stored, for rendering rehearsed off the
    /// page (ui::conversation::rehearse_rendering).
    pub fn rehearsal(role: Role, text: &str, status: MessageStatus) -> Self {
        Self::new(
            format!("rehearsal-{}", role.as_str()),
            role,
            "",
            text.to_owned(),
            status,
        )
    }

    pub(super) fn new(
        id: String,
        role: Role,
        author: &str,
        text: String,
        status: MessageStatus,
    ) -> Self {
        Self {
            id,
            role,
            author: ArcRwSignal::new(author.to_owned()),
            time: js_sys::Date::now() / 1000.0,
            text: ArcRwSignal::new(text),
            reasoning: ArcRwSignal::new(String::new()),
            thought_millis: ArcRwSignal::new(None),
            status: ArcRwSignal::new(status),
            error: ArcRwSignal::new(None),
            saved: ArcRwSignal::new(false),
            retry_in: ArcRwSignal::new(None),
            rich_parts: Vec::new(),
            attachments: Vec::new(),
            missing_artifacts: Vec::new(),
            note: ArcRwSignal::new(None),
        }
    }

    pub(super) fn of_event(event: &Event) -> Self {
        let role = if event.is_from_user() {
            Role::User
        } else {
            Role::Assistant
        };
        let view = Self::new(
            event.id.clone(),
            role,
            &event.author,
            event.text_content(),
            event.status,
        );
        view.error.set(event.error_text());
        view.saved.set(true);
        view.reasoning.set(event.reasoning_text());
        view.thought_millis
            .set(event.reasoning.as_ref().and_then(|r| r.millis));
        Self {
            rich_parts: event
                .content
                .iter()
                .flat_map(|c| &c.parts)
                .filter(|p| p.text.is_none() && !p.other.is_empty() && p.attachment_ref().is_none())
                .cloned()
                .collect(),
            attachments: event.attachments(),
            missing_artifacts: confab_core::agent::missing_artifacts(event),
            time: event.timestamp,
            ..view
        }
    }
}

/// The reply being streamed: which session it belongs to, its view, and
/// the model call (for its draft).
#[derive(Clone)]
pub struct ActiveReply {
    pub session_id: String,
    pub view: MessageView,
    pub user_id: String,
    pub call: confab_core::manager::CallStart,
}
