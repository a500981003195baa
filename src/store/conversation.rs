//! The conversation on screen: opening one, sending, asking again,
//! branching, its options, rating and ending it.

use confab_core::manager::{Conversation, ManagerError, Rating, Satisfaction};
use confab_core::notice::NotNow;
use confab_core::session::{
    Event, GetSessionConfig, MessageStatus, Session, SessionService, State, new_id,
};
use leptos::prelude::*;

use super::{ChatStore, MessageView, Role};

/// Shown when a conversation ends with a user message, no reply saved and
/// no draft of one: the page was closed before its draft reached the disk.
const NO_REPLY_SAVED: &str = "No reply was saved for this message: the page was closed or reloaded before any of it was written. Press Retry to ask again.";

/// The conversation on screen.
#[derive(Clone, Copy)]
pub struct OnScreen {
    /// Its session; `None` for a new chat not yet sent.
    pub id: RwSignal<Option<String>>,
    pub messages: RwSignal<Vec<MessageView>>,
    /// Its record: ids, query log, trace, feedback, options.
    pub record: RwSignal<Option<Conversation>>,
    /// Its session's state, merged across scopes (the inspector).
    pub state: RwSignal<State>,
    /// Where the context of the next request starts, when older messages
    /// or attachments do not fit: `(first message sent, how many earlier
    /// messages are left out, how many earlier attachments go by name only)`.
    pub context_cut: RwSignal<Option<(String, usize, usize)>>,
    /// Shown at startup and still being read (see `mark_opening`).
    pub opening: RwSignal<bool>,
    /// Who answers a new chat, as chosen in the header before its first
    /// message (`None`: as Settings say).
    pub next_options: RwSignal<Option<confab_core::manager::ConversationOptions>>,
}

impl OnScreen {
    pub(super) fn new() -> Self {
        Self {
            id: RwSignal::new(None),
            messages: RwSignal::new(Vec::new()),
            record: RwSignal::new(None),
            state: RwSignal::new(State::new()),
            context_cut: RwSignal::new(None),
            opening: RwSignal::new(false),
            next_options: RwSignal::new(None),
        }
    }
}

impl ChatStore {
    /// At startup, the current conversation is opened once the page's
    /// first frame is painted (`ChatStore::enter_at_startup`): the message
    /// box is usable at once, and a long conversation's messages follow a
    /// frame later (reading and rendering them first made startup with a
    /// large history 1.6 times as slow as with none). Its id is set at
    /// once, so a message sent before then goes to it.
    pub(super) fn mark_opening(&self, id: String) {
        self.on_screen.id.set(Some(id));
        self.on_screen.opening.set(true);
    }

    /// Opens what `mark_opening` marked, unless a message was sent or
    /// another conversation opened since.
    pub(super) fn finish_opening(&self) {
        if !self.on_screen.opening.get_untracked() {
            return;
        }
        self.on_screen.opening.set(false);
        if let Some(id) = self.on_screen.id.get_untracked()
            && self.on_screen.messages.with_untracked(Vec::is_empty)
        {
            self.open(&id);
        }
    }

    pub(super) fn load_session(&self, id: &str) -> Result<Session, ManagerError> {
        let user = self.user_id();
        self.with_manager(|m| {
            let app = m.app_name().to_owned();
            Ok(m.service()
                .get_session(&app, &user, id, GetSessionConfig::default())?)
        })
    }

    pub(super) fn refresh_conversation(&self, id: &str) {
        let user = self.user_id();
        match self.with_manager(|m| m.conversation(&user, id)) {
            Ok(conversation) => self.on_screen.record.set(Some(conversation)),
            Err(error) => self.report(error),
        }
    }

    /// Shows a stored conversation, and makes it current if it is active.
    pub fn open(&self, id: &str) {
        match self.load_session(id) {
            Ok(session) => self.show(session),
            Err(error) => {
                self.report(error);
                // An unreadable one was moved aside: it leaves the list.
                self.refresh_listings_of(&[id]);
            }
        }
    }

    /// [`Self::open`] with its session already read (a send has just read
    /// it: reading and parsing it again cost as much as the first time).
    pub(super) fn show(&self, session: Session) {
        self.on_screen.opening.set(false);
        self.on_screen.next_options.set(None);
        let user = self.user_id();
        let id = session.id.as_str();
        if let Err(error) = self.with_manager(|m| m.switch_to(&user, id)) {
            self.report(error);
        }
        let mut views: Vec<MessageView> =
            session.events.iter().map(MessageView::of_event).collect();
        let active = self.writing.reply.with_untracked(|r| {
            r.as_ref()
                .filter(|r| r.session_id == id)
                .map(|r| r.view.clone())
        });
        let elsewhere = self.drafts_in(&session);
        if let Some(active) = active {
            views.push(active);
        } else if !elsewhere.is_empty() {
            views.extend(elsewhere);
        } else if session.events.last().is_some_and(Event::is_from_user) {
            // Never show a question as forever unanswered: offer a retry.
            let view = MessageView::new(
                new_id(),
                Role::Assistant,
                "",
                String::new(),
                MessageStatus::Interrupted,
            );
            view.error.set(Some(NO_REPLY_SAVED.to_owned()));
            views.push(view);
        }
        self.on_screen.id.set(Some(id.to_owned()));
        self.on_screen.messages.set(views);
        self.refresh_conversation(id);
        self.on_screen
            .context_cut
            .set(self.context_cut_of(&session));
        self.on_screen.state.set(session.state);
    }

    /// Where the next request's context starts, if older messages of
    /// `session` do not fit in the model's window.
    pub(super) fn context_cut_of(
        &self,
        session: &confab_core::session::Session,
    ) -> Option<(String, usize, usize)> {
        let settings = self.settings.get_untracked();
        let options = self
            .on_screen
            .record
            .with_untracked(|c| c.as_ref().map(|c| c.options.clone()))
            .unwrap_or_default();
        let planned = confab_core::chat::plan_request(
            &settings,
            &options,
            &session.events,
            confab_core::chat::Ask::Reply,
        )
        .ok()?;
        // Attachments left out with every message sent: the line goes on top.
        let first = planned.first_sent.or_else(|| {
            (planned.left_out_attachments > 0)
                .then(|| session.events.first().map(|e| e.id.clone()))
                .flatten()
        })?;
        Some((first, planned.left_out, planned.left_out_attachments))
    }

    pub(super) fn show_new_chat(&self) {
        self.on_screen.opening.set(false);
        self.on_screen.id.set(None);
        self.on_screen.messages.set(Vec::new());
        self.on_screen.record.set(None);
        self.on_screen.state.set(State::new());
    }

    /// Starts a fresh conversation (the seed's `clear_session`: the current
    /// one stays as it is); its session is created on first send.
    pub fn new_chat(&self) {
        let user = self.user_id();
        if let Err(error) = self.with_manager(|m| m.clear_session(&user)) {
            self.report(error);
        }
        self.show_new_chat();
    }

    /// Sends `text` as the user's next message. Returns whether it was
    /// accepted (saved); if not, the caller keeps the text in the box.
    pub fn send(&self, text: &str) -> bool {
        self.send_with(text, &[])
    }

    /// Sends `text` with `attachments` (their bytes already stored): with
    /// attachments, the text may be empty.
    pub(super) fn send_with(
        &self,
        text: &str,
        attachments: &[confab_core::session::AttachmentRef],
    ) -> bool {
        if (text.trim().is_empty() && attachments.is_empty())
            || self.writing.reply.with_untracked(Option::is_some)
        {
            return false;
        }
        let user = self.user_id();
        // The message goes to the conversation on screen (another tab may
        // have made another one current); in an ended one, or a new chat,
        // it starts a new conversation.
        let open = self
            .on_screen
            .id
            .get_untracked()
            .filter(|_| !self.is_ended());
        let query = match self.with_manager(|m| {
            match &open {
                Some(id) => {
                    m.switch_to(&user, id)?;
                }
                None => m.clear_session(&user)?,
            }
            m.begin_query_with(&user, text, attachments)
        }) {
            Ok(query) => query,
            Err(error) => {
                self.report(error);
                return false;
            }
        };
        // The conversation written to, and the one on screen before (a
        // message to an expired conversation ends it and starts another).
        match open.as_deref() {
            Some(open) if open != query.session.id => {
                self.refresh_listings_of(&[open, &query.session.id]);
            }
            _ => self.refresh_listings_of(&[&query.session.id]),
        }
        // A new conversation is answered as chosen in the header, else as
        // Settings say: by the model, or by the default agent app.
        let default_agent = self
            .settings
            .with_untracked(|s| s.default_agent_app.clone());
        let chosen = if query.number == 1 {
            self.on_screen
                .next_options
                .try_update(Option::take)
                .flatten()
        } else {
            None
        };
        let options = chosen.or_else(|| {
            (query.number == 1 && !default_agent.is_empty()).then(|| {
                confab_core::manager::ConversationOptions {
                    agent_app: Some(default_agent),
                    ..Default::default()
                }
            })
        });
        if let Some(options) = options
            && let Err(error) =
                self.with_manager(|m| m.set_options(&user, &query.session.id, options))
        {
            self.report(error);
        }
        self.start_reply(&query.session.id, None);
        true
    }

    /// Sends an edited version of one of the user's sent messages: the open
    /// conversation branches there (a new session with the messages before
    /// it, linked both ways; the original stays whole), the branch opens,
    /// and the text is sent in it. Returns whether it was sent.
    pub fn edit_and_resend(&self, event_id: &str, text: &str) -> bool {
        if text.trim().is_empty() {
            return false;
        }
        match self.branch_open(|m, user, open| m.branch_at(user, open, event_id)) {
            Some((branch, _)) => {
                self.open(&branch);
                self.send(text)
            }
            None => false,
        }
    }

    /// "Branch from here": a new conversation with the open one's messages
    /// up to and including `event_id`, answered as the original was, opened
    /// for the user to go on from there. The original stays as it is.
    pub fn branch_from(&self, event_id: &str) {
        if let Some((branch, open)) =
            self.branch_open(|m, user, open| m.branch_after(user, open, event_id))
        {
            self.open(&branch);
            self.refresh_listings_of(&[branch.as_str(), open.as_str()]);
        }
    }

    /// Branches the open conversation with `make`, unless a reply is being
    /// written: the branch is answered as the original was (model, prompt,
    /// agent app), in an agent session of its own. Returns the branch's id
    /// and the original's; a failure is reported.
    fn branch_open(
        &self,
        make: impl FnOnce(&mut super::Manager, &str, &str) -> Result<Session, ManagerError>,
    ) -> Option<(String, String)> {
        if self.writing.reply.with_untracked(Option::is_some) {
            return None;
        }
        let open = self.on_screen.id.get_untracked()?;
        let user = self.user_id();
        let branched = self.with_manager(|m| {
            let options = confab_core::manager::ConversationOptions {
                agent_session_id: None,
                ..m.conversation(&user, &open)?.options
            };
            let branch = make(m, &user, &open)?;
            m.set_options(&user, &branch.id, options)?;
            Ok(branch.id)
        });
        match branched {
            Ok(branch) => Some((branch, open)),
            Err(error) => {
                self.report(error);
                None
            }
        }
    }

    /// Asks again for the reply to the open conversation's last message: a
    /// Retry after a failure, or Regenerate after a reply (the earlier reply
    /// stays in the conversation; events are append-only).
    pub fn retry(&self) {
        if self.writing.reply.with_untracked(Option::is_some) {
            return;
        }
        if let Some(id) = self.on_screen.id.get_untracked() {
            self.start_reply(&id, None);
        }
    }

    /// Asks the model to go on with the cut-off reply `event_id`.
    pub fn continue_reply(&self, event_id: &str) {
        if self.writing.reply.with_untracked(Option::is_some) {
            return;
        }
        if let Some(id) = self.on_screen.id.get_untracked() {
            self.start_reply(&id, Some(event_id.to_owned()));
        }
    }

    /// Sets the open conversation's own model, temperature and system prompt.
    pub fn set_conversation_options(&self, options: confab_core::manager::ConversationOptions) {
        let Some(id) = self.on_screen.id.get_untracked() else {
            return self.report(NotNow::OptionsBeforeFirstMessage);
        };
        let user = self.user_id();
        match self.with_manager(|m| m.set_options(&user, &id, options)) {
            Ok(()) => self.open(&id),
            Err(error) => self.report(error),
        }
    }

    /// Stops the streaming reply; what arrived so far is kept as `stopped`.
    pub fn stop(&self) {
        self.writing.abort.with_value(|controller| {
            if let Some(controller) = controller {
                controller.abort();
            }
        });
    }

    /// Rates a reply of the open conversation.
    pub fn rate(&self, event_id: &str, rating: Rating, comment: &str) {
        let Some(id) = self.on_screen.id.get_untracked() else {
            return;
        };
        let user = self.user_id();
        match self.with_manager(|m| m.rate_reply(&user, &id, event_id, rating, comment)) {
            Ok(()) => self.refresh_conversation(&id),
            Err(error) => self.report(error),
        }
    }

    /// Ends the open conversation with the user's feedback.
    pub fn end_conversation(&self, satisfaction: Satisfaction, comment: &str) {
        let Some(id) = self.on_screen.id.get_untracked() else {
            return;
        };
        let user = self.user_id();
        let ended = self.with_manager(|m| {
            m.switch_to(&user, &id)?;
            m.end_conversation(&user, satisfaction, comment)
        });
        match ended {
            Ok(_) => {
                self.refresh_sidebar();
                self.open(&id);
            }
            Err(error) => self.report(error),
        }
    }

    /// Deletes the open conversation for good.
    pub fn delete_open(&self) {
        if let Some(id) = self.on_screen.id.get_untracked() {
            self.delete_conversation(&id);
        }
    }
}
