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
mod app_shell;
mod attach;
mod conversation;
mod drafts;
mod export;
mod organize;
mod persistence;
mod profiles;
mod rehearsal;
mod reply;
mod view;

use std::time::Duration;

use confab_core::manager::{ManagerError, SessionManager, Writer};
use confab_core::notice::Notice;
use confab_core::profiles::Profiles;
use confab_core::session::{KvSessionService, SessionService};
use confab_core::settings::Settings;
use confab_core::storage::{Journaled, KvError, KvStore, keys};
use confab_core::sync::Recording;
use leptos::prelude::*;

use crate::platform::local_storage::{self, ReadAheadEnd};
use crate::platform::{BrowserClock, LocalStorageKv};
pub use app_shell::AppShell;
pub use attach::Pending;
pub use conversation::OnScreen;
pub use organize::{Found, PAGE, PendingDelete, UNDO_WINDOW};
pub use persistence::upgrade_before_mount;
pub use view::{ActiveReply, MessageView, Role};

/// localStorage, remembering this tab's last writes (for merging with other
/// tabs) and journaled (so a failed operation leaves nothing half-written).
pub type Kv = Journaled<Recording<LocalStorageKv>>;

pub type Manager = SessionManager<KvSessionService<Kv, BrowserClock>, Kv, BrowserClock>;

/// The latest `after_first_frame` waits for a frame (a tab opened in the
/// background paints nothing until it is shown).
const AFTER_FRAME_AT_LATEST: Duration = Duration::from_millis(100);

/// How long the stored conversations may take to load before the user is
/// told (IndexedDB answers in well under a second, even at 2,000).
const LOAD_WARNING: Duration = Duration::from_secs(8);

/// How often idle conversations are checked for expiry while the page is open.
const EXPIRY_CHECK: Duration = Duration::from_secs(30);

/// The store the UI reads and dispatches to: the session manager behind
/// it, and the signals that show its state, grouped by concern (each group
/// is defined where its actions are).
#[derive(Clone, Copy)]
pub struct ChatStore {
    pub profiles: RwSignal<Profiles>,
    pub settings: RwSignal<Settings>,
    /// What the user should know (an entry moved aside, a failed action),
    /// dismissible.
    pub notices: RwSignal<Vec<Notice>>,
    pub on_screen: OnScreen,
    pub sidebar: organize::Sidebar,
    pub writing: reply::Writing,
    drafts: drafts::Drafts,
    pub storage: persistence::StorageState,
    pub offered: Offered,
    pub traces: export::Traces,
    pub shell: AppShell,
    manager: StoredValue<Manager, LocalStorage>,
    /// The same store as the manager's, for merging other tabs' writes.
    recording: StoredValue<Recording<LocalStorageKv>, LocalStorage>,
}

/// What the endpoints offer, for the settings and conversation options.
#[derive(Clone, Copy)]
pub struct Offered {
    /// Model ids (`GET /models`).
    pub models: RwSignal<Vec<String>>,
    /// Agent apps (`GET /list-apps`).
    pub agent_apps: RwSignal<Vec<String>>,
    /// The model that answers when none is chosen, as confab-proxy's
    /// `/healthz` names it (`None`: not known, or the upstream's choice).
    pub default_model: RwSignal<Option<String>>,
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
        } = persistence::upgrade_store();
        let settings = Settings::from_stored(kv.get(keys::SETTINGS).ok().flatten().as_deref());
        let mut notices: Vec<Notice> = migration.into_iter().collect();
        let profiles = Profiles::load(&kv).unwrap_or_else(|error| {
            notices.push(error.into());
            Profiles::default()
        });
        let recording = Recording::new(LocalStorageKv);
        let store = Self {
            profiles: RwSignal::new(profiles),
            settings: RwSignal::new(settings.clone()),
            notices: RwSignal::new(notices),
            on_screen: OnScreen::new(),
            sidebar: organize::Sidebar::new(),
            writing: reply::Writing::new(),
            drafts: drafts::Drafts::new(),
            storage: persistence::StorageState::new(blocked),
            offered: Offered {
                models: RwSignal::new(Vec::new()),
                agent_apps: RwSignal::new(Vec::new()),
                default_model: RwSignal::new(None),
            },
            traces: export::Traces::new(),
            shell: AppShell::new(),
            manager: StoredValue::new_local(new_manager(&settings, &recording)),
            recording: StoredValue::new_local(recording),
        };
        // Before the store's own checks: a blocked store still opens
        // offline, and still gets a new version (which may read it).
        store.shell.start();
        if store.storage.blocked.with_untracked(Option::is_some) {
            return store;
        }
        store.enter_profile(true);
        store.watch_other_tabs();
        store.flush_drafts_on_hide();
        store.commit_deletes_on_hide();
        store.request_persistence();
        set_interval(move || store.check_expiry(), EXPIRY_CHECK);
        store.rehearse_send_when_idle();
        store
    }

    /// The active profile's user id (ADK's `user_id`).
    pub fn user_id(&self) -> String {
        self.profiles.with_untracked(|p| p.active.clone())
    }

    pub fn is_streaming(&self) -> bool {
        self.writing.reply.with(Option::is_some)
    }

    /// Whether the open conversation has ended (it is read-only).
    pub fn is_ended(&self) -> bool {
        self.on_screen
            .record
            .with(|c| c.as_ref().is_some_and(|c| !c.is_active()))
    }

    #[inline]
    fn report(&self, notice: impl Into<Notice>) {
        self.show_notice(notice.into());
    }

    /// Not generic, so in the bundle once (`report` takes many types).
    fn show_notice(&self, notice: Notice) {
        // Once each: the same text twice says nothing new.
        let text = notice.to_string();
        self.notices.update(|n| {
            if !n.iter().any(|shown| shown.to_string() == text) {
                n.push(notice);
            }
        });
    }

    /// Runs `action` on the session manager, hands finished spans to the
    /// exporter, and reports entries moved aside and a full storage. Only
    /// running `action` is generic; the rest is done once, in
    /// `manager_ready` and `after_manager` (this is called from about 50
    /// places, and each copy costs bundle bytes).
    fn with_manager<R>(
        &self,
        action: impl FnOnce(&mut Manager) -> Result<R, ManagerError>,
    ) -> Result<R, ManagerError> {
        self.manager_ready()?;
        let result = self
            .manager
            .try_update_value(action)
            .unwrap_or_else(|| Err(closing()));
        self.after_manager(result.as_ref().err());
        result
    }

    /// Why no manager action can run now, if one cannot.
    fn manager_ready(&self) -> Result<(), ManagerError> {
        if let Some(reason) = self.storage.blocked.get_untracked() {
            return Err(ManagerError::from(KvError::Unavailable(reason)));
        }
        if !self.storage.loaded.get_untracked() {
            return Err(ManagerError::from(KvError::NotLoaded(
                "the page has just opened".into(),
            )));
        }
        Ok(())
    }

    /// Runs `action` now if startup has finished, or once it has (in the
    /// order given, after the open conversation): what the user does in
    /// the first moments, before the bulk store has loaded, is not refused.
    pub fn when_loaded(&self, action: impl FnOnce() + 'static) {
        let mut action = Some(action);
        self.storage.waiting.update_value(|waiting| {
            if let Some(waiting) = waiting
                && let Some(action) = action.take()
            {
                waiting.push(Box::new(action));
            }
        });
        if let Some(action) = action {
            action();
        }
    }

    /// What follows every manager action, whatever it returned: finished
    /// spans to the exporter, entries moved aside and storage warnings to
    /// the user.
    fn after_manager(&self, error: Option<&ManagerError>) {
        let taken = self.manager.try_update_value(|m| {
            let warning = m.service_mut().take_warning();
            (m.take_finished_spans(), m.take_quarantined(), warning)
        });
        if let Some((spans, quarantined, warning)) = taken {
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
        }
        if let Some(ManagerError::Session(confab_core::session::SessionError::Storage(error))) =
            error
        {
            self.note_storage_error(error);
        }
    }

    /// Recovers drafts and runs expiry and retention for the active user,
    /// then shows their conversations and the current one (or a new chat).
    /// `starting`: the page has just opened (see `enter_at_startup`).
    fn enter_profile(&self, starting: bool) {
        let user = self.user_id();
        // With Web Locks, each draft's writer is asked of the browser right
        // after (asynchronously); without, the draft's age decides.
        let writer: Writer = if crate::platform::locks::available() {
            Writer::Alive
        } else {
            Writer::Unknown
        };
        if starting {
            return self.enter_at_startup(&user, writer);
        }
        // The switch's own task only clears the last profile's screen and
        // marks the current conversation. The listing reads every entry and
        // status (30-50 ms at 2,000 conversations), so it runs after the
        // frame, and the conversation in a task after it, as at startup.
        self.show_listings(Vec::new());
        self.sidebar.listing.set(true);
        self.show_new_chat();
        match self.with_manager(|m| m.current_session_id(&user)) {
            Ok(Some(id)) => self.mark_opening(id),
            Ok(None) => {}
            Err(error) => self.report(error),
        }
        let store = *self;
        after_first_frame(move || store.list_ahead(user, writer, false));
    }

    /// Opening a profile's second half, at startup (once the bulk store has
    /// loaded) and after a switch's first frame: what the listing reads,
    /// read ahead in tasks of their own (at 2,000 conversations, 25-35 ms
    /// in one); drafts, expiry and the listing (`enter_listed`) in the task
    /// of the last read; then the current conversation in a task of its
    /// own, so the sidebar is painted first (50-100 ms at that size), and
    /// at startup what the user did meanwhile.
    fn list_ahead(&self, user: String, writer: Writer, at_startup: bool) {
        let store = *self;
        leptos::task::spawn_local(async move {
            // The keys are listed now: other tabs may have added drafts
            // since the page opened, and the read-ahead follows their
            // writes.
            let read = local_storage::read_ahead(store.listing_prefixes(&user)).await;
            // Switched again since: that switch lists its own (and, if it
            // has not started reading ahead yet, reads afresh).
            if matches!(read, Ok((_, ReadAheadEnd::Superseded))) {
                return;
            }
            if store.user_id() != user {
                return local_storage::forget_read_ahead();
            }
            if at_startup {
                store.storage.loaded.set(true);
            }
            store.enter_listed(&user, writer);
            local_storage::forget_read_ahead();
            let listed = read.ok().map(|(keys, _)| keys);
            set_timeout(
                move || {
                    store.finish_opening();
                    if at_startup {
                        // Bytes an upgrade moved out of conversations, into IndexedDB.
                        store.drain_pending_blobs(listed.as_deref());
                        store.run_waiting();
                    }
                },
                Duration::ZERO,
            );
        });
    }

    /// The prefixes of the keys opening `user`'s profile reads one by one:
    /// drafts, index entries and statuses (two per conversation).
    fn listing_prefixes(&self, user: &str) -> Vec<String> {
        let app = self
            .manager
            .try_with_value(|m| m.app_name().to_owned())
            .unwrap_or_default();
        vec![
            keys::DRAFTS.to_owned(),
            keys::index_entries_of(&app, user),
            keys::statuses_of(&app, user),
        ]
    }

    /// Startup's half of `enter_profile`. The first frame needs only which
    /// conversation is current (in localStorage), so it does not wait for
    /// the bulk store: at 2,000 conversations that is 40 MB of bodies and
    /// records read from IndexedDB. Everything that reads it, and the
    /// sidebar's listing (every conversation's entry and status, most of
    /// startup's own time at that size), runs after that frame, once the
    /// bulk store has loaded (`finish_loading`).
    fn enter_at_startup(&self, user: &str, writer: Writer) {
        // Not `with_manager`: it waits for `loaded`; the user record is not
        // in the bulk store.
        let current = self
            .manager
            .try_with_value(|m| m.current_session_id(user))
            .unwrap_or_else(|| Err(closing()));
        match current {
            Ok(Some(id)) => self.mark_opening(id),
            Ok(None) => self.show_new_chat(),
            Err(error) => {
                self.report(error);
                self.show_new_chat();
            }
        }
        self.sidebar.listing.set(true);
        let store = *self;
        after_first_frame(move || {
            store.refresh_default_model();
            set_timeout(
                move || {
                    if !store.storage.loaded.get_untracked() {
                        store.report(Notice::StillLoading(LOAD_WARNING.as_secs() as u32));
                    }
                },
                LOAD_WARNING,
            );
            leptos::task::spawn_local(async move {
                let loaded = crate::platform::bulk_store::ready().await;
                // Not in the task that delivered IndexedDB's values (it
                // took them into the page: 30-100 ms at 2,000).
                set_timeout(move || store.finish_loading(loaded, writer), Duration::ZERO);
            });
        });
    }

    /// Startup once the bulk store has loaded (`Err`: IndexedDB could not
    /// be opened): drafts of closed tabs saved, expiry and the sidebar's
    /// listing, the current conversation opened, then what the user did
    /// meanwhile.
    fn finish_loading(&self, loaded: Result<(), String>, writer: Writer) {
        if let Err(reason) = loaded
            && let Some(blocked) = persistence::blocked_without_bulk_store(&reason)
        {
            self.storage.blocked.set(Some(blocked.to_string()));
            self.storage.loaded.set(true);
            self.sidebar.listing.set(false);
            self.on_screen.opening.set(false);
            return self.run_waiting();
        }
        self.list_ahead(self.user_id(), writer, true);
    }

    /// What the user did before startup had finished, in order; from now
    /// on `when_loaded` runs actions at once.
    fn run_waiting(&self) {
        // Loaded after all: the warning no longer holds.
        let warned = |n: &Vec<Notice>| n.iter().any(|n| matches!(n, Notice::StillLoading(_)));
        if self.notices.with_untracked(warned) {
            self.notices
                .update(|n| n.retain(|notice| !matches!(notice, Notice::StillLoading(_))));
        }
        let waiting = self.storage.waiting.try_update_value(Option::take);
        for action in waiting.flatten().unwrap_or_default() {
            action();
        }
    }

    /// Opening a profile once the store has loaded (at startup, and after
    /// a switch's first frame): drafts of closed tabs saved, then expiry,
    /// retention and the sidebar's listing, which reads every entry and
    /// status (read ahead, `list_ahead`).
    fn enter_listed(&self, user: &str, writer: Writer) {
        match self.with_manager(|m| m.enter_drafts(user, None, &|_| writer)) {
            Ok(left) => self.follow_drafts(left),
            Err(error) => self.report(error),
        }
        match self.with_manager(|m| m.enter_listings(user)) {
            Ok(list) => {
                self.show_first_screen();
                self.show_listings(list);
            }
            Err(error) => {
                self.report(error);
                self.refresh_sidebar();
            }
        }
        self.sidebar.listing.set(false);
    }

    /// Ends conversations that went idle while the page was open.
    fn check_expiry(&self) {
        if self.is_streaming() || !self.storage.loaded.get_untracked() {
            return;
        }
        let user = self.user_id();
        match self.with_manager(|m| m.expire_due(&user)) {
            Ok(expired) if !expired.is_empty() => {
                self.refresh_sidebar();
                if let Some(open) = self.on_screen.id.get_untracked()
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

    pub fn save_settings(&self, settings: Settings) {
        let settings = settings.normalized();
        if let Err(error) = crate::platform::local_storage::save_json(keys::SETTINGS, &settings) {
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
            self.enter_profile(false);
        } else {
            self.check_expiry();
        }
    }

    /// Asks the endpoint which models it offers (for the settings dialog).
    /// Endpoints without `/models` simply offer no suggestions.
    /// Asks confab-proxy which model answers by default (shown by name in
    /// the header before the first message).
    pub fn refresh_default_model(&self) {
        let Some(url) = self.settings.with_untracked(|s| s.health_url()) else {
            return self.offered.default_model.set(None);
        };
        let store = *self;
        leptos::task::spawn_local(async move {
            if let Ok(body) = crate::platform::http::get_text(url).await
                && let Ok(health) = serde_json::from_str::<serde_json::Value>(&body)
            {
                let model = health["default_model"].as_str().map(str::to_owned);
                store.offered.default_model.set(model);
            }
        });
    }

    pub fn refresh_models(&self) {
        let store = *self;
        let url = self.settings.get_untracked().models_url();
        leptos::task::spawn_local(async move {
            if let Ok(body) = crate::platform::http::get_text(&url).await
                && let Some(ids) = confab_core::transport::openai::model_ids(&body)
            {
                store.offered.models.set(ids);
            }
        });
    }
}

/// Runs `then` once, in a task queued when the next frame is painted, or
/// after `AFTER_FRAME_AT_LATEST` should no frame come (a tab opened in the
/// background paints nothing until it is shown).
pub(super) fn after_first_frame(then: impl FnOnce() + 'static) {
    let once = std::rc::Rc::new(std::cell::Cell::new(Some(then)));
    let run = move || {
        if let Some(then) = once.take() {
            then();
        }
    };
    let after_frame = run.clone();
    request_animation_frame(move || set_timeout(after_frame, Duration::ZERO));
    set_timeout(run, AFTER_FRAME_AT_LATEST);
}

/// The page is being torn down: the manager is gone.
fn closing() -> ManagerError {
    ManagerError::from(KvError::Unavailable("the page is closing".into()))
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
