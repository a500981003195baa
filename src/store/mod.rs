//! The reactive store: what the UI shows, and the actions it dispatches.
//!
//! Durable data lives in localStorage behind the session manager (sessions,
//! conversation records, profiles, settings); the signals here are a view of
//! it. Every action writes through the manager first and then refreshes the
//! signals, so what is on screen has been saved, except the reply that is
//! still streaming, which is saved when it ends.
//!
//! A streamed token updates only its own message's text signal, never the
//! message list, so the rest of the page does not re-render per token.

mod agent;
mod drafts;
mod export;
mod organize;
mod persistence;
mod reply;

use std::time::Duration;

use confab_core::manager::{
    Conversation, Listing, ManagerError, Rating, Satisfaction, SessionManager, Writer,
};
use confab_core::profiles::Profiles;
use confab_core::session::{
    Event, GetSessionConfig, KvSessionService, MessageStatus, Session, SessionService, State,
    new_id,
};
use confab_core::settings::Settings;
use confab_core::storage::{Journaled, KvError, KvStore, keys};
use confab_core::sync::Recording;
use confab_core::telemetry::export::ExportStatus;
use leptos::prelude::*;

use crate::platform::{BrowserClock, LocalStorageKv};
pub use organize::{Found, PendingDelete, UNDO_WINDOW};

/// localStorage, remembering this tab's last writes (for merging with other
/// tabs) and journaled (so a failed operation leaves nothing half-written).
pub type Kv = Journaled<Recording<LocalStorageKv>>;

pub type Manager = SessionManager<KvSessionService<Kv, BrowserClock>, Kv, BrowserClock>;

/// How often idle conversations are checked for expiry while the page is open.
const EXPIRY_CHECK: Duration = Duration::from_secs(30);

/// The latest the conversation shown at startup waits for a first frame.
const OPEN_AT_LATEST: Duration = Duration::from_millis(100);

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
    pub text: ArcRwSignal<String>,
    pub status: ArcRwSignal<MessageStatus>,
    /// What went wrong, for a reply that is not complete.
    pub error: ArcRwSignal<Option<String>>,
    /// Whether the message is saved (a placeholder or a streaming reply is
    /// not yet): only saved replies can be rated.
    pub saved: ArcRwSignal<bool>,
    /// Seconds until a rate-limited request is tried again.
    pub retry_in: ArcRwSignal<Option<u32>>,
    /// Parts other than text (an agent's tool calls, code, images).
    pub rich_parts: Vec<confab_core::session::Part>,
    /// Where a reply is being written, when not here ("Being written in
    /// another tab…").
    pub note: ArcRwSignal<Option<String>>,
}

impl MessageView {
    fn new(id: String, role: Role, author: &str, text: String, status: MessageStatus) -> Self {
        Self {
            id,
            role,
            author: ArcRwSignal::new(author.to_owned()),
            text: ArcRwSignal::new(text),
            status: ArcRwSignal::new(status),
            error: ArcRwSignal::new(None),
            saved: ArcRwSignal::new(false),
            retry_in: ArcRwSignal::new(None),
            rich_parts: Vec::new(),
            note: ArcRwSignal::new(None),
        }
    }

    fn of_event(event: &Event) -> Self {
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
        view.error.set(event.error_message.clone());
        view.saved.set(true);
        Self {
            rich_parts: event
                .content
                .iter()
                .flat_map(|c| &c.parts)
                .filter(|p| p.text.is_none() && !p.other.is_empty())
                .cloned()
                .collect(),
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

/// Shown when a conversation ends with a user message, no reply saved and
/// no draft of one: the page was closed before its draft reached the disk.
const NO_REPLY_SAVED: &str = "No reply was saved for this message: the page was closed or reloaded before any of it was written. Press Retry to ask again.";

#[derive(Clone, Copy)]
pub struct ChatStore {
    pub profiles: RwSignal<Profiles>,
    /// The sidebar: the active user's conversations, newest first.
    pub listings: RwSignal<Vec<Listing>>,
    /// The open session; `None` for a new chat not yet sent.
    pub open_id: RwSignal<Option<String>>,
    pub messages: RwSignal<Vec<MessageView>>,
    /// The open conversation's record: ids, query log, trace, feedback.
    pub conversation: RwSignal<Option<Conversation>>,
    /// The open session's state, merged across scopes (the inspector).
    pub session_state: RwSignal<State>,
    pub reply: RwSignal<Option<ActiveReply>>,
    pub settings: RwSignal<Settings>,
    /// Problems the user should know about (corrupt data moved aside, a
    /// failed action), each dismissible.
    pub notices: RwSignal<Vec<String>>,
    /// Storage refused a write: the banner with what uses the space.
    pub storage_full: RwSignal<bool>,
    /// Why the stored conversations cannot be opened at all (a newer
    /// version's store, a failed upgrade); nothing is written then.
    pub blocked: RwSignal<Option<String>>,
    /// Whether the browser granted persistent storage (`None`: not known).
    pub persisted: RwSignal<Option<bool>>,
    /// Model ids offered by the endpoint, for the settings dialog.
    pub models: RwSignal<Vec<String>>,
    /// Where the context of the next request starts in the open
    /// conversation, when older messages do not fit: `(first message sent,
    /// how many earlier ones are left out)`.
    pub context_cut: RwSignal<Option<(String, usize)>>,
    /// Apps the agent server offers, for the conversation options.
    pub agent_apps: RwSignal<Vec<String>>,
    /// How trace export is going (shown quietly, never as an error).
    pub export_status: RwSignal<ExportStatus>,
    manager: StoredValue<Manager, LocalStorage>,
    /// The same store as the manager's, for merging other tabs' writes.
    recording: StoredValue<Recording<LocalStorageKv>, LocalStorage>,
    abort: StoredValue<Option<web_sys::AbortController>, LocalStorage>,
    exporter: StoredValue<export::Exporter>,
    /// Replies that finished while storage was full, saved once there is room.
    unsaved: StoredValue<Vec<persistence::Unsaved>, LocalStorage>,
    /// When the streaming reply's draft was last written (seconds), and
    /// whether a trailing write is scheduled.
    draft_clock: StoredValue<(f64, bool)>,
    /// The streaming reply's draft key and lock (see drafts.rs).
    own_draft: StoredValue<Option<drafts::OwnDraft>, LocalStorage>,
    /// Other tabs' replies being written, as their drafts show them.
    others: StoredValue<Vec<drafts::OtherDraft>, LocalStorage>,
    /// A refresh after other tabs' writes is already scheduled.
    refresh_pending: StoredValue<bool>,
    /// A conversation taken off the list, deleted when Undo is no longer
    /// offered (see organize.rs).
    pub pending_delete: RwSignal<Option<PendingDelete>>,
    search_cache: StoredValue<organize::SearchCache>,
    /// The conversation shown at startup is still being opened (see
    /// `open_after_first_frame`).
    pub opening: RwSignal<bool>,
}

fn new_manager(settings: &Settings, recording: &Recording<LocalStorageKv>) -> Manager {
    let kv = Journaled::new(recording.clone());
    SessionManager::new(
        KvSessionService::new(kv.clone(), BrowserClock),
        kv,
        BrowserClock,
        &settings.app_name,
        settings.limits(),
    )
}

impl ChatStore {
    /// Upgrades the stored format if needed, then reads settings, profiles
    /// and the session list, and opens the user's current conversation.
    /// Nothing is written before the stored state has been read (a write
    /// first could wipe data); a store from a newer version is not touched.
    pub fn load() -> Self {
        let kv = LocalStorageKv;
        let persistence::Upgrade {
            note: migration,
            blocked,
            keys: listed_keys,
        } = persistence::upgrade_store();
        let settings = Settings::from_stored(kv.get(keys::SETTINGS).ok().flatten().as_deref());
        let mut notices: Vec<String> = migration.into_iter().collect();
        let profiles = Profiles::load(&kv).unwrap_or_else(|error| {
            notices.push(error.to_string());
            Profiles::default()
        });
        let recording = Recording::new(LocalStorageKv);
        let store = Self {
            profiles: RwSignal::new(profiles),
            listings: RwSignal::new(Vec::new()),
            open_id: RwSignal::new(None),
            messages: RwSignal::new(Vec::new()),
            conversation: RwSignal::new(None),
            session_state: RwSignal::new(State::new()),
            reply: RwSignal::new(None),
            manager: StoredValue::new_local(new_manager(&settings, &recording)),
            recording: StoredValue::new_local(recording),
            settings: RwSignal::new(settings),
            notices: RwSignal::new(notices),
            storage_full: RwSignal::new(false),
            blocked: RwSignal::new(blocked),
            persisted: RwSignal::new(None),
            models: RwSignal::new(Vec::new()),
            context_cut: RwSignal::new(None),
            agent_apps: RwSignal::new(Vec::new()),
            export_status: RwSignal::new(ExportStatus::default()),
            abort: StoredValue::new_local(None),
            exporter: StoredValue::new(export::Exporter::default()),
            unsaved: StoredValue::new_local(Vec::new()),
            draft_clock: StoredValue::new((0.0, false)),
            own_draft: StoredValue::new_local(None),
            others: StoredValue::new_local(Vec::new()),
            refresh_pending: StoredValue::new(false),
            pending_delete: RwSignal::new(None),
            search_cache: StoredValue::new(Default::default()),
            opening: RwSignal::new(false),
        };
        if store.blocked.with_untracked(Option::is_some) {
            return store;
        }
        store.enter_profile(listed_keys.as_deref(), true);
        store.watch_other_tabs();
        store.flush_drafts_on_hide();
        store.commit_deletes_on_hide();
        store.request_persistence();
        set_interval(move || store.check_expiry(), EXPIRY_CHECK);
        store
    }

    /// The active profile's user id (ADK's `user_id`).
    pub fn user_id(&self) -> String {
        self.profiles.with_untracked(|p| p.active.clone())
    }

    pub fn is_streaming(&self) -> bool {
        self.reply.with(Option::is_some)
    }

    /// Whether the open conversation has ended (it is read-only).
    pub fn is_ended(&self) -> bool {
        self.conversation
            .with(|c| c.as_ref().is_some_and(|c| !c.is_active()))
    }

    fn report(&self, error: impl std::fmt::Display) {
        let text = error.to_string();
        self.notices.update(|n| {
            if !n.contains(&text) {
                n.push(text);
            }
        });
    }

    /// Runs `action` on the session manager, hands finished spans to the
    /// exporter, and reports entries moved aside and a full storage.
    fn with_manager<R>(
        &self,
        action: impl FnOnce(&mut Manager) -> Result<R, ManagerError>,
    ) -> Result<R, ManagerError> {
        if let Some(reason) = self.blocked.get_untracked() {
            return Err(ManagerError::from(KvError::Unavailable(reason)));
        }
        let outcome = self.manager.try_update_value(|m| {
            let result = action(m);
            let warning = m.service_mut().take_warning();
            (
                result,
                m.take_finished_spans(),
                m.take_quarantined(),
                warning,
            )
        });
        let Some((result, spans, quarantined, warning)) = outcome else {
            let closing = KvError::Unavailable("the page is closing".into());
            return Err(ManagerError::from(closing));
        };
        self.after_manager(result.as_ref().err(), spans, quarantined, warning);
        result
    }

    /// What follows every manager action, whatever it returned (not generic,
    /// so it is in the bundle once rather than once per action).
    fn after_manager(
        &self,
        error: Option<&ManagerError>,
        spans: Vec<confab_core::telemetry::Span>,
        quarantined: Vec<confab_core::storage::Quarantined>,
        warning: Option<KvError>,
    ) {
        if !spans.is_empty() {
            self.export(spans);
        }
        for report in quarantined {
            self.report(report);
        }
        if let Some(warning) = warning {
            self.note_storage_error(&warning);
            self.report(warning);
        }
        if let Some(ManagerError::Session(confab_core::session::SessionError::Storage(error))) =
            error
        {
            self.note_storage_error(error);
        }
    }

    /// Recovers drafts and runs expiry and retention for the active user,
    /// then shows their conversations and the current one (or a new chat).
    /// `keys`: every key in the store, if startup has just listed them.
    fn enter_profile(&self, keys: Option<&[String]>, starting: bool) {
        let user = self.user_id();
        // With Web Locks, each draft's writer is asked of the browser right
        // after (asynchronously); without, the draft's age decides.
        let writer: Writer = if crate::platform::locks::available() {
            Writer::Alive
        } else {
            Writer::Unknown
        };
        match self.with_manager(|m| m.enter(&user, keys, &|_| writer)) {
            Ok((list, left)) => {
                self.show_listings(list);
                self.follow_drafts(left);
            }
            Err(error) => {
                self.report(error);
                self.refresh_sidebar();
            }
        }
        match self.with_manager(|m| m.current_session_id(&user)) {
            Ok(Some(id)) if starting => self.open_after_first_frame(id),
            Ok(Some(id)) => self.open(&id),
            Ok(None) => self.show_new_chat(),
            Err(error) => {
                self.report(error);
                self.show_new_chat();
            }
        }
    }

    /// At startup, the current conversation is opened once the page's
    /// first frame is painted: the message box is usable at once, and a long
    /// conversation's messages follow a frame later (reading and rendering
    /// them first made startup with a large history 1.6 times as slow as
    /// with none). Its id is set at once, so a message sent before then goes
    /// to it; if one was sent, or another conversation opened, this is
    /// skipped.
    fn open_after_first_frame(&self, id: String) {
        self.open_id.set(Some(id.clone()));
        self.opening.set(true);
        let store = *self;
        let finish = move || {
            if !store.opening.get_untracked() {
                return;
            }
            store.opening.set(false);
            if store.open_id.get_untracked().as_deref() == Some(id.as_str())
                && store.messages.with_untracked(Vec::is_empty)
            {
                store.open(&id);
            }
        };
        let after_frame = finish.clone();
        request_animation_frame(move || set_timeout(after_frame, Duration::ZERO));
        // A tab opened in the background paints no frame until it is shown.
        set_timeout(finish, OPEN_AT_LATEST);
    }

    /// Ends conversations that went idle while the page was open.
    fn check_expiry(&self) {
        if self.is_streaming() {
            return;
        }
        let user = self.user_id();
        match self.with_manager(|m| m.expire_due(&user)) {
            Ok(expired) if !expired.is_empty() => {
                self.refresh_sidebar();
                if let Some(open) = self.open_id.get_untracked()
                    && expired.contains(&open)
                {
                    self.open(&open);
                }
            }
            Ok(_) => {}
            Err(error) => self.report(error),
        }
    }

    fn refresh_sidebar(&self) {
        let user = self.user_id();
        match self.with_manager(|m| m.listings(&user)) {
            Ok(list) => self.show_listings(list),
            Err(error) => self.report(error),
        }
    }

    fn load_session(&self, id: &str) -> Result<Session, ManagerError> {
        let user = self.user_id();
        self.with_manager(|m| {
            let app = m.app_name().to_owned();
            Ok(m.service()
                .get_session(&app, &user, id, GetSessionConfig::default())?)
        })
    }

    fn refresh_conversation(&self, id: &str) {
        let user = self.user_id();
        match self.with_manager(|m| m.conversation(&user, id)) {
            Ok(conversation) => self.conversation.set(Some(conversation)),
            Err(error) => self.report(error),
        }
    }

    /// Shows a stored conversation, and makes it current if it is active.
    pub fn open(&self, id: &str) {
        let user = self.user_id();
        let session = match self.load_session(id) {
            Ok(session) => session,
            Err(error) => return self.report(error),
        };
        if let Err(error) = self.with_manager(|m| m.switch_to(&user, id)) {
            self.report(error);
        }
        let mut views: Vec<MessageView> =
            session.events.iter().map(MessageView::of_event).collect();
        let active = self.reply.with_untracked(|r| {
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
        self.open_id.set(Some(id.to_owned()));
        self.messages.set(views);
        self.refresh_conversation(id);
        self.context_cut.set(self.context_cut_of(&session));
        self.session_state.set(session.state);
    }

    /// Where the next request's context starts, if older messages of
    /// `session` do not fit in the model's window.
    fn context_cut_of(&self, session: &confab_core::session::Session) -> Option<(String, usize)> {
        let settings = self.settings.get_untracked();
        let options = self
            .conversation
            .with_untracked(|c| c.as_ref().map(|c| c.options.clone()))
            .unwrap_or_default();
        let planned = confab_core::chat::plan_request(
            &settings,
            &options,
            &session.events,
            confab_core::chat::Ask::Reply,
        )
        .ok()?;
        Some((planned.first_sent?, planned.left_out))
    }

    fn show_new_chat(&self) {
        self.open_id.set(None);
        self.messages.set(Vec::new());
        self.conversation.set(None);
        self.session_state.set(State::new());
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
        if text.trim().is_empty() || self.reply.with_untracked(Option::is_some) {
            return false;
        }
        let user = self.user_id();
        // The message goes to the conversation on screen (another tab may
        // have made another one current); in an ended one, or a new chat,
        // it starts a new conversation.
        let open = self.open_id.get_untracked().filter(|_| !self.is_ended());
        let query = match self.with_manager(|m| {
            match &open {
                Some(id) => {
                    m.switch_to(&user, id)?;
                }
                None => m.clear_session(&user)?,
            }
            m.begin_query(&user, text)
        }) {
            Ok(query) => query,
            Err(error) => {
                self.report(error);
                return false;
            }
        };
        self.refresh_sidebar();
        // A new conversation is answered as Settings say: by the model, or
        // by the default agent app.
        let default_agent = self
            .settings
            .with_untracked(|s| s.default_agent_app.clone());
        if query.number == 1 && !default_agent.is_empty() {
            let options = confab_core::manager::ConversationOptions {
                agent_app: Some(default_agent),
                ..Default::default()
            };
            if let Err(error) =
                self.with_manager(|m| m.set_options(&user, &query.session.id, options))
            {
                self.report(error);
            }
        }
        self.start_reply(&query.session.id, None);
        true
    }

    /// Sends an edited version of one of the user's sent messages: the open
    /// conversation branches there (a new session with the messages before
    /// it, linked both ways; the original stays whole), the branch opens,
    /// and the text is sent in it. Returns whether it was sent.
    pub fn edit_and_resend(&self, event_id: &str, text: &str) -> bool {
        if text.trim().is_empty() || self.reply.with_untracked(Option::is_some) {
            return false;
        }
        let Some(open) = self.open_id.get_untracked() else {
            return false;
        };
        let user = self.user_id();
        let branched = self.with_manager(|m| {
            // The branch is answered as the original was (model, prompt,
            // agent app), in a server session of its own.
            let options = confab_core::manager::ConversationOptions {
                agent_session_id: None,
                ..m.conversation(&user, &open)?.options
            };
            let branch = m.branch_at(&user, &open, event_id)?;
            m.set_options(&user, &branch.id, options)?;
            Ok(branch.id)
        });
        match branched {
            Ok(branch) => {
                self.open(&branch);
                self.send(text)
            }
            Err(error) => {
                self.report(error);
                false
            }
        }
    }

    /// Asks again for the reply to the open conversation's last message: a
    /// Retry after a failure, or Regenerate after a reply (the earlier reply
    /// stays in the conversation; events are append-only).
    pub fn retry(&self) {
        if self.reply.with_untracked(Option::is_some) {
            return;
        }
        if let Some(id) = self.open_id.get_untracked() {
            self.start_reply(&id, None);
        }
    }

    /// Asks the model to go on with the cut-off reply `event_id`.
    pub fn continue_reply(&self, event_id: &str) {
        if self.reply.with_untracked(Option::is_some) {
            return;
        }
        if let Some(id) = self.open_id.get_untracked() {
            self.start_reply(&id, Some(event_id.to_owned()));
        }
    }

    /// Sets the open conversation's own model, temperature and system prompt.
    pub fn set_conversation_options(&self, options: confab_core::manager::ConversationOptions) {
        let Some(id) = self.open_id.get_untracked() else {
            return self.report("Send a first message, then choose this conversation's options.");
        };
        let user = self.user_id();
        match self.with_manager(|m| m.set_options(&user, &id, options)) {
            Ok(()) => self.open(&id),
            Err(error) => self.report(error),
        }
    }

    /// Stops the streaming reply; what arrived so far is kept as `stopped`.
    pub fn stop(&self) {
        self.abort.with_value(|controller| {
            if let Some(controller) = controller {
                controller.abort();
            }
        });
    }

    /// Rates a reply of the open conversation.
    pub fn rate(&self, event_id: &str, rating: Rating, comment: &str) {
        let Some(id) = self.open_id.get_untracked() else {
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
        let Some(id) = self.open_id.get_untracked() else {
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
        if let Some(id) = self.open_id.get_untracked() {
            self.delete_conversation(&id);
        }
    }

    pub fn save_settings(&self, settings: Settings) {
        let settings = settings.normalized();
        let text = serde_json::to_string(&settings).unwrap_or_default();
        if let Err(error) = LocalStorageKv.set(keys::SETTINGS, &text) {
            self.report(error);
        }
        let app_changed = settings.app_name != self.settings.with_untracked(|s| s.app_name.clone());
        if app_changed {
            // Another app's sessions: a fresh manager over them.
            let recording = self.recording.get_value();
            self.manager.set_value(new_manager(&settings, &recording));
        } else {
            let limits = settings.limits();
            self.manager.update_value(|m| m.set_limits(limits));
        }
        self.settings.set(settings);
        if app_changed {
            self.enter_profile(None, false);
        } else {
            self.check_expiry();
        }
    }

    // --- profiles ---------------------------------------------------------

    fn save_profiles(&self, profiles: Profiles) -> bool {
        match profiles.save(&LocalStorageKv) {
            Ok(()) => {
                self.profiles.set(profiles);
                true
            }
            Err(error) => {
                self.report(error);
                false
            }
        }
    }

    pub fn switch_profile(&self, id: &str) {
        if self.is_streaming() {
            return self
                .report("Wait for the reply to finish (or stop it) before switching profiles.");
        }
        let mut profiles = self.profiles.get_untracked();
        if let Err(error) = profiles.switch(id) {
            return self.report(error);
        }
        if self.save_profiles(profiles) {
            self.enter_profile(None, false);
        }
    }

    /// Adds a profile and switches to it. Returns whether it was added.
    pub fn add_profile(&self, name: &str) -> bool {
        if self.is_streaming() {
            self.report("Wait for the reply to finish (or stop it) before switching profiles.");
            return false;
        }
        let mut profiles = self.profiles.get_untracked();
        if let Err(error) = profiles.add(name) {
            self.report(error);
            return false;
        }
        let added = self.save_profiles(profiles);
        if added {
            self.enter_profile(None, false);
        }
        added
    }

    pub fn rename_profile(&self, name: &str) -> bool {
        let mut profiles = self.profiles.get_untracked();
        let active = profiles.active.clone();
        if let Err(error) = profiles.rename(&active, name) {
            self.report(error);
            return false;
        }
        self.save_profiles(profiles)
    }

    /// Asks the endpoint which models it offers (for the settings dialog).
    /// Endpoints without `/models` simply offer no suggestions.
    pub fn refresh_models(&self) {
        let store = *self;
        let url = self.settings.get_untracked().models_url();
        leptos::task::spawn_local(async move {
            if let Ok(body) = crate::platform::http::get_text(&url).await
                && let Some(ids) = confab_core::transport::openai::model_ids(&body)
            {
                store.models.set(ids);
            }
        });
    }
}

/// Makes the store available to every component below.
pub fn provide_store() -> ChatStore {
    let store = ChatStore::load();
    provide_context(store);
    store
}

pub fn use_store() -> ChatStore {
    expect_context::<ChatStore>()
}
