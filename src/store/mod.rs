//! The reactive store: what the UI shows, and the actions it dispatches.
//!
//! Durable data lives in the session service (localStorage); the signals
//! here are a view of it. Every action writes through the service first and
//! then updates the signals, so what is on screen has been saved, except the
//! reply that is still streaming, which is saved when it ends.
//!
//! A streamed token updates only its own message's text signal, never the
//! message list, so the rest of the page does not re-render per token.

mod reply;

use confab_core::session::{
    CreateSession, Event, GetSessionConfig, KvSessionService, MessageStatus, Session, SessionError,
    SessionService, SessionSummary, new_id,
};
use confab_core::settings::{APP_NAME, DEFAULT_USER, Settings};
use confab_core::storage::{KvError, KvStore, keys};
use leptos::prelude::*;

use crate::platform::{BrowserClock, LocalStorageKv};

pub type Service = KvSessionService<LocalStorageKv, BrowserClock>;

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
        view
    }
}

/// The reply being streamed: which session it belongs to and its view.
#[derive(Clone)]
pub struct ActiveReply {
    pub session_id: String,
    pub view: MessageView,
}

/// Shown when a conversation ends with a user message and no reply saved.
const NO_REPLY_SAVED: &str = "No reply was saved for this message: the page was closed or reloaded while it was being written. Press Retry to ask again.";

#[derive(Clone, Copy)]
pub struct ChatStore {
    /// The sidebar: this user's sessions, newest first.
    pub summaries: RwSignal<Vec<SessionSummary>>,
    /// The open session; `None` for a new chat not yet sent.
    pub open_id: RwSignal<Option<String>>,
    pub messages: RwSignal<Vec<MessageView>>,
    pub reply: RwSignal<Option<ActiveReply>>,
    pub settings: RwSignal<Settings>,
    /// A problem the user should know about (storage full, corrupt data).
    pub notice: RwSignal<Option<String>>,
    /// Model ids offered by the endpoint, for the settings dialog.
    pub models: RwSignal<Vec<String>>,
    service: StoredValue<Service>,
    abort: StoredValue<Option<web_sys::AbortController>, LocalStorage>,
}

impl ChatStore {
    /// Reads settings and the session list, and opens the newest session.
    /// Nothing is written before this read (a write first could wipe data).
    pub fn load() -> Self {
        let kv = LocalStorageKv;
        let store = Self {
            summaries: RwSignal::new(Vec::new()),
            open_id: RwSignal::new(None),
            messages: RwSignal::new(Vec::new()),
            reply: RwSignal::new(None),
            settings: RwSignal::new(Settings::from_stored(
                kv.get(keys::SETTINGS).ok().flatten().as_deref(),
            )),
            notice: RwSignal::new(None),
            models: RwSignal::new(Vec::new()),
            service: StoredValue::new(KvSessionService::new(kv, BrowserClock)),
            abort: StoredValue::new_local(None),
        };
        store.refresh_sidebar();
        if let Some(newest) = store.summaries.with_untracked(|s| s.first().cloned()) {
            store.open(&newest.id);
        }
        store
    }

    pub fn is_streaming(&self) -> bool {
        self.reply.with(Option::is_some)
    }

    fn report(&self, error: impl std::fmt::Display) {
        self.notice.set(Some(error.to_string()));
    }

    /// Runs `action` on the session service (which lives as long as the
    /// app; if it is already gone, the page is closing).
    fn with_service<R>(
        &self,
        action: impl FnOnce(&mut Service) -> Result<R, SessionError>,
    ) -> Result<R, SessionError> {
        self.service.try_update_value(action).unwrap_or_else(|| {
            Err(SessionError::Storage(KvError::Unavailable(
                "the page is closing".into(),
            )))
        })
    }

    fn refresh_sidebar(&self) {
        match self.with_service(|s| s.list_sessions(APP_NAME, DEFAULT_USER)) {
            Ok(list) => self.summaries.set(list),
            Err(error) => self.report(error),
        }
        if let Ok(Some(warning)) = self.with_service(|s| Ok(s.take_warning())) {
            self.report(warning);
        }
    }

    fn load_session(&self, id: &str) -> Result<Session, SessionError> {
        self.with_service(|s| {
            s.get_session(APP_NAME, DEFAULT_USER, id, GetSessionConfig::default())
        })
    }

    /// Shows a stored session.
    pub fn open(&self, id: &str) {
        let session = match self.load_session(id) {
            Ok(session) => session,
            Err(error) => return self.report(error),
        };
        let mut views: Vec<MessageView> =
            session.events.iter().map(MessageView::of_event).collect();
        let active = self.reply.with_untracked(|r| {
            r.as_ref()
                .filter(|r| r.session_id == id)
                .map(|r| r.view.clone())
        });
        if let Some(active) = active {
            views.push(active);
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
    }

    /// Starts a fresh conversation; its session is created on first send.
    pub fn new_chat(&self) {
        self.open_id.set(None);
        self.messages.set(Vec::new());
    }

    /// Sends `text` as the user's next message. Returns whether it was
    /// accepted (saved); if not, the caller keeps the text in the box.
    pub fn send(&self, text: &str) -> bool {
        if text.trim().is_empty() || self.reply.with_untracked(Option::is_some) {
            return false;
        }
        let session_id = match self.open_id.get_untracked() {
            Some(id) => id,
            None => match self
                .with_service(|s| s.create_session(CreateSession::new(APP_NAME, DEFAULT_USER)))
            {
                Ok(session) => session.id,
                Err(error) => {
                    self.report(error);
                    return false;
                }
            },
        };
        let mut session = match self.load_session(&session_id) {
            Ok(session) => session,
            Err(error) => {
                self.report(error);
                return false;
            }
        };
        let now = confab_core::Clock::now(&BrowserClock);
        let event = Event::text("user", &new_id(), now, text);
        if let Err(error) = self.with_service(|s| s.append_event(&mut session, event)) {
            self.report(error);
            return false;
        }
        self.refresh_sidebar();
        self.start_reply(session);
        true
    }

    /// Asks again for the reply to the open conversation's last message.
    pub fn retry(&self) {
        if self.reply.with_untracked(Option::is_some) {
            return;
        }
        let Some(id) = self.open_id.get_untracked() else {
            return;
        };
        match self.load_session(&id) {
            Ok(session) => self.start_reply(session),
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

    pub fn save_settings(&self, settings: Settings) {
        let settings = settings.normalized();
        let text = serde_json::to_string(&settings).unwrap_or_default();
        if let Err(error) = LocalStorageKv.set(keys::SETTINGS, &text) {
            self.report(error);
        }
        self.settings.set(settings);
    }

    /// Appends the finished reply to its session and refreshes the views.
    fn finish_reply(&self, session_id: &str, event: Event) {
        let saved = self
            .load_session(session_id)
            .and_then(|mut session| self.with_service(|s| s.append_event(&mut session, event)));
        if let Err(error) = saved {
            self.report(format!(
                "The reply is shown but could not be saved: {error}"
            ));
        }
        self.reply.set(None);
        self.abort.set_value(None);
        self.refresh_sidebar();
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

impl ChatStore {
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
