//! Keeping conversations safe in storage: the schema upgrade at startup,
//! persistent-storage permission, streaming drafts, other tabs' writes,
//! a full quota, exports and imports.

use confab_core::manager::{CallResult, CallStart};
use confab_core::notice::{NotNow, Notice};
use confab_core::storage::migrate::{self, MigrationError};
use confab_core::storage::usage::{StorageUsage, measure};
use confab_core::storage::{KvError, KvStore, keys};
use confab_core::sync::{Touched, reconcile};
use confab_core::transfer::{self, markdown};
use leptos::prelude::*;
use std::time::Duration;

use super::ChatStore;
use crate::platform::{BrowserClock, LocalStorageKv, files, storage_manager};

fn now() -> f64 {
    confab_core::Clock::now(&BrowserClock)
}

/// An action the user took before startup had finished.
pub(super) type Waiting = Box<dyn FnOnce()>;

/// How storage is doing.
#[derive(Clone, Copy)]
pub struct StorageState {
    /// Storage refused a write: the banner with what uses the space.
    pub full: RwSignal<bool>,
    /// Why a message's attachments could not be stored (a full quota),
    /// said in the same banner.
    pub attachments_full: RwSignal<Option<String>>,
    /// `(count, bytes)` of the stored attachments, once counted.
    pub attachments: RwSignal<Option<(usize, u64)>>,
    /// Bumped when blobs that were not in IndexedDB have arrived there (the
    /// startup drain of a migrated store): chips that found none read again.
    pub blobs_arrived: RwSignal<u32>,
    /// Why the stored conversations cannot be opened at all (a newer
    /// version's store, a failed upgrade); nothing is written then.
    pub blocked: RwSignal<Option<String>>,
    /// Whether the stored conversations have loaded (the bulk store, and
    /// startup's drafts, listing and open conversation after it): until
    /// then no manager action runs, and the sidebar and header are inert.
    /// Also set when the store turned out blocked.
    pub loaded: RwSignal<bool>,
    /// Actions the user took before startup had finished (a message sent
    /// at once), run in order after the open conversation; `None` once
    /// they have run (or with nothing to wait for).
    pub(super) waiting: StoredValue<Option<Vec<Waiting>>, LocalStorage>,
    /// Whether the browser granted persistent storage (`None`: not known).
    pub persisted: RwSignal<Option<bool>>,
    /// Replies that finished while storage was full, saved once there is room.
    pub(super) unsaved: StoredValue<Vec<Unsaved>, LocalStorage>,
    /// What other tabs' writes touched since the refresh they scheduled
    /// (`None`: none is scheduled).
    pub(super) refresh_pending: StoredValue<Option<Touched>>,
}

impl StorageState {
    pub(super) fn new(blocked: Option<String>) -> Self {
        Self {
            full: RwSignal::new(false),
            attachments_full: RwSignal::new(None),
            attachments: RwSignal::new(None),
            blobs_arrived: RwSignal::new(0),
            loaded: RwSignal::new(blocked.is_some()),
            waiting: StoredValue::new_local(blocked.is_none().then(Vec::new)),
            blocked: RwSignal::new(blocked),
            persisted: RwSignal::new(None),
            unsaved: StoredValue::new_local(Vec::new()),
            refresh_pending: StoredValue::new(None),
        }
    }
}

/// A reply that finished while storage was full: kept here (and on
/// screen) until it can be saved.
pub(super) struct Unsaved {
    user_id: String,
    call: CallStart,
    result: CallResult,
    /// The lock of the reply's draft, held until the reply is saved: until
    /// then another tab must not take the draft for a dead tab's.
    draft_lock: Option<crate::platform::locks::HeldLock>,
}

/// What [`upgrade_store`] found.
pub(super) struct Upgrade {
    /// A note for the user (the store was upgraded).
    pub note: Option<Notice>,
    /// Why the store cannot be opened, if it cannot.
    pub blocked: Option<String>,
}

type UpgradeOutcome = Result<Option<migrate::MigrationReport>, MigrationError>;

thread_local! {
    /// What the upgrade part did, for `upgrade_store` (which runs when the
    /// app is mounted, after it).
    static UPGRADED: std::cell::RefCell<Option<UpgradeOutcome>> = const { std::cell::RefCell::new(None) };
}

/// Brings the stored format up to date if it is not, before the app is
/// mounted. The upgrade's code (every step from format 1, the backup, the
/// restore of a run cut short) is a split part: most starts have nothing to
/// upgrade and do not download it. Those starts do not wait for the bulk
/// store either: the first frame needs nothing in it, and the store waits
/// for it after that frame (`ChatStore::load`).
pub async fn upgrade_before_mount() {
    crate::platform::bulk_store::begin();
    let pending = LocalStorageKv
        .local_keys()
        .and_then(|listed| migrate::pending(&LocalStorageKv, &listed));
    // Unreadable storage: `upgrade_store` says so.
    if !pending.unwrap_or(false) {
        return;
    }
    // An upgrade may read any conversation.
    if let Err(reason) = crate::platform::bulk_store::ready().await
        && let Some(blocked) = blocked_without_bulk_store(&reason)
    {
        UPGRADED.set(Some(Err(MigrationError::from(blocked))));
        return;
    }
    let outcome = match upgrade_part().await {
        Ok(outcome) => outcome,
        Err(error) => Err(MigrationError::Unavailable {
            reason: error.to_string(),
        }),
    };
    UPGRADED.set(Some(outcome));
}

/// Why the store cannot be opened when IndexedDB could not be (`reason`):
/// without it every key stays in localStorage, but a format-6 store's
/// bodies may be in IndexedDB, so that store is not opened.
pub(super) fn blocked_without_bulk_store(reason: &str) -> Option<KvError> {
    let found = confab_core::storage::stored_schema(&LocalStorageKv).ok()??;
    (found >= 6).then(|| {
        KvError::Unavailable(format!(
            "IndexedDB, where conversations are kept, could not be opened: {reason}"
        ))
    })
}

crate::split::split_point!(
    migration,
    fn upgrade_part() -> UpgradeOutcome {
        match LocalStorageKv.local_keys() {
            Ok(listed) => migrate::run_among(&LocalStorageKv, &listed),
            Err(error) => Err(error.into()),
        }
    }
);

/// The stored format as `upgrade_before_mount` left it: what it did, or
/// nothing to do.
pub(super) fn upgrade_store() -> Upgrade {
    let outcome = UPGRADED.take().unwrap_or(Ok(None));
    // Unreadable storage, whether or not an upgrade ran.
    let outcome = match LocalStorageKv.get(keys::META) {
        Ok(_) => outcome,
        Err(error) => Err(error.into()),
    };
    let (note, blocked) = describe_upgrade(outcome);
    Upgrade { note, blocked }
}

/// A note for the user, and the reason the store cannot be opened.
fn describe_upgrade(
    outcome: Result<Option<migrate::MigrationReport>, MigrationError>,
) -> (Option<Notice>, Option<String>) {
    match outcome {
        Ok(None) => (None, None),
        Ok(Some(report)) => (
            Some(Notice::Upgraded {
                from: report.from,
                to: report.to,
            }),
            None,
        ),
        Err(error) => (None, Some(error.to_string())),
    }
}

impl ChatStore {
    /// Asks the browser to keep our storage (not evict it under pressure).
    pub(super) fn request_persistence(&self) {
        let store = *self;
        leptos::task::spawn_local(async move {
            store
                .storage
                .persisted
                .set(storage_manager::persist().await);
        });
    }

    pub(super) fn note_storage_error(&self, error: &KvError) {
        if matches!(error, KvError::QuotaExceeded { .. }) {
            self.storage.full.set(true);
        }
    }

    /// Keeps a reply that could not be saved, to save it later.
    pub(super) fn keep_unsaved(&self, user_id: &str, call: &CallStart, result: CallResult) {
        let draft_lock = self.take_own_draft_lock();
        self.storage.unsaved.update_value(|u| {
            u.push(Unsaved {
                user_id: user_id.to_owned(),
                call: call.clone(),
                result,
                draft_lock,
            })
        });
    }

    /// Tries again to save replies kept while storage was full. Returns how
    /// many are still unsaved.
    pub fn retry_unsaved(&self) -> usize {
        let pending = self
            .storage
            .unsaved
            .try_update_value(std::mem::take)
            .unwrap_or_default();
        let mut left = Vec::new();
        for item in pending {
            let result = item.result.clone();
            if self
                .with_manager(|m| m.finish_call(&item.user_id, &item.call, result))
                .is_err()
            {
                left.push(item);
            } else {
                Self::release_after_save(item.draft_lock);
            }
        }
        let count = left.len();
        self.storage.unsaved.set_value(left);
        if count == 0 && self.storage.full.get_untracked() {
            self.storage.full.set(false);
        }
        self.refresh_sidebar();
        if let Some(id) = self.on_screen.id.get_untracked() {
            self.open(&id);
        }
        count
    }

    pub fn unsaved_count(&self) -> usize {
        self.storage.unsaved.with_value(Vec::len)
    }

    // --- other tabs --------------------------------------------------------

    /// Listens to other tabs' writes: merges back what they dropped of ours,
    /// and brings their changes on screen.
    pub(super) fn watch_other_tabs(&self) {
        let store = *self;
        let handle = window_event_listener(leptos::ev::storage, move |event| {
            let key = event.key();
            // First, so what follows reads what the other tab wrote. The
            // value crosses into the wasm only if a read-ahead covers it.
            crate::platform::local_storage::heard(key.as_deref(), || event.new_value());
            let Some(key) = key else {
                // Storage was cleared elsewhere.
                store.schedule_refresh(None);
                return;
            };
            if !keys::is_data_key(&key) {
                return;
            }
            if key.starts_with(keys::DRAFTS) {
                return store.other_tab_draft(&key);
            }
            let mut theirs = event.new_value();
            if keys::in_bulk_store(&key) {
                match theirs.as_deref() {
                    // Moved into the bulk store, unchanged (bulk_store.rs).
                    None => return,
                    Some(crate::platform::bulk_store::REMOVED) => theirs = None,
                    Some(_) => {}
                }
            }
            let mine = store.recording.with_value(|r| r.last_written(&key));
            if let Some(mine) = mine
                && let Some(merged) = reconcile(&key, theirs.as_deref(), &mine)
            {
                let written = store.recording.with_value(|r| r.set(&key, &merged));
                if let Err(error) = written {
                    store.note_storage_error(&error);
                }
            }
            if key == keys::SETTINGS {
                let settings =
                    confab_core::settings::Settings::from_stored(event.new_value().as_deref());
                store.settings.set(settings);
            } else if key == keys::PROFILES
                && let Ok(profiles) = confab_core::profiles::Profiles::load(&LocalStorageKv)
            {
                store.profiles.update(|p| p.profiles = profiles.profiles);
            }
            store.schedule_refresh(Some(&key));
        });
        std::mem::forget(handle);
    }

    /// Notes that another tab wrote `key` (`None`: cleared the storage),
    /// and re-reads what its burst of writes touched once it is over.
    pub(super) fn schedule_refresh(&self, key: Option<&str>) {
        let app = self
            .manager
            .try_with_value(|m| m.app_name().to_owned())
            .unwrap_or_default();
        let user = self.user_id();
        self.touched_by_other_tab(|touched| touched.note(key, &app, &user));
    }

    /// Collects what other tabs touched into the refresh scheduled for
    /// their burst of writes (scheduling it, if none is).
    pub(super) fn touched_by_other_tab(&self, note: impl FnOnce(&mut Touched)) {
        let scheduled = self.storage.refresh_pending.try_update_value(|pending| {
            let scheduled = pending.is_some();
            note(pending.get_or_insert_with(Touched::default));
            scheduled
        });
        if scheduled != Some(false) {
            return;
        }
        let store = *self;
        set_timeout(
            move || {
                let touched = store
                    .storage
                    .refresh_pending
                    .try_update_value(Option::take)
                    .flatten()
                    .unwrap_or_default();
                store.refresh_touched(&touched);
            },
            Duration::from_millis(50),
        );
    }

    /// Re-reads what other tabs touched: the listings of their
    /// conversations (or all of them), and the open one if it is among them.
    fn refresh_touched(&self, touched: &Touched) {
        // Before, startup has yet to read it all.
        if !self.storage.loaded.get_untracked() {
            return;
        }
        let open = self.on_screen.id.get_untracked();
        if touched.everything {
            self.refresh_sidebar();
        } else if !touched.conversations.is_empty() {
            // (Not with none: an empty update would still wake every
            // section of the sidebar.)
            let ids: Vec<&str> = touched.conversations.iter().map(String::as_str).collect();
            self.refresh_listings_of(&ids);
        }
        if let Some(id) = open
            && (touched.everything || touched.shared_state || touched.conversations.contains(&id))
        {
            self.open(&id);
        }
    }

    // --- usage, export, import -------------------------------------------

    /// What uses the storage (this origin's localStorage).
    pub fn usage(&self) -> Option<StorageUsage> {
        measure(&LocalStorageKv).ok()
    }

    /// The browser's estimate of all our storage: `(usage, quota)` bytes.
    pub fn estimate(&self, into: RwSignal<Option<(f64, f64)>>) {
        leptos::task::spawn_local(async move {
            into.set(storage_manager::estimate().await);
        });
    }

    /// Downloads every conversation of the active profile as JSON.
    pub fn export_all(&self) {
        self.export_json(None);
    }

    /// Downloads conversations (`None`: all) as Confab JSON, with the
    /// bytes of their attachments (read from IndexedDB first).
    pub fn export_json(&self, only: Option<Vec<String>>) {
        let user = self.user_id();
        let at = now();
        let mut file = match self.with_manager(|m| m.export(&user, only.as_deref(), at)) {
            Ok(file) => file,
            Err(error) => return self.report(error),
        };
        let store = *self;
        leptos::task::spawn_local(async move {
            let mut read = std::collections::BTreeMap::new();
            for attachment in transfer::referenced_attachments(&file) {
                if let Ok(Some(bytes)) = crate::platform::blobs::get_bytes(&attachment.sha256).await
                {
                    read.insert(attachment.sha256, bytes);
                }
            }
            // Missing ones are left out (their references stay), and the
            // user is told how many.
            let unavailable = transfer::add_attachments(&mut file, &|sha| read.get(sha).cloned());
            let name = match &only {
                Some(ids) if ids.len() == 1 => format!("confab-conversation-{}.json", ids[0]),
                _ => "confab-backup.json".to_owned(),
            };
            let text = transfer::to_pretty_json(&file).unwrap_or_default();
            match files::download(&name, "application/json", &text) {
                Err(error) => store.report(Notice::DownloadFailed(error)),
                Ok(()) if unavailable > 0 => {
                    store.report(Notice::ExportedWithoutAttachments { unavailable })
                }
                Ok(()) => {}
            }
        });
    }

    /// Downloads the open conversation as Markdown.
    pub fn export_markdown(&self) {
        let Some(id) = self.on_screen.id.get_untracked() else {
            return;
        };
        let user = self.user_id();
        let result = self.with_manager(|m| {
            let app = m.app_name().to_owned();
            let session = confab_core::session::SessionService::get_session(
                m.service(),
                &app,
                &user,
                &id,
                Default::default(),
            )?;
            let conversation = m.conversation(&user, &id)?;
            Ok(markdown::conversation_markdown(
                &session,
                Some(&conversation),
            ))
        });
        match result {
            Ok(text) => {
                let name = format!("confab-conversation-{id}.md");
                if let Err(error) = files::download(&name, "text/markdown", &text) {
                    self.report(Notice::DownloadFailed(error));
                }
            }
            Err(error) => self.report(error),
        }
    }

    /// Imports a Confab or ChatGPT export into the active profile: its
    /// attachments' bytes are stored first (checked against their hashes;
    /// stored by hash, so importing twice adds none), then the
    /// conversations. Returns what it did, or why nothing was imported.
    pub async fn import_text(&self, text: &str) -> Result<String, String> {
        let file = transfer::parse(text, now()).map_err(|e| e.to_string())?;
        let blobs = transfer::attachment_blobs(&file).map_err(|e| e.to_string())?;
        if let Err(error) = self.store_new_blobs(&blobs).await {
            self.note_blob_error(&error);
            return Err(error.to_string());
        }
        let user = self.user_id();
        let outcome = self
            .manager
            .try_update_value(|m| m.import(&user, &file))
            .ok_or_else(|| "the page is closing".to_owned())?;
        let report = outcome.map_err(|e| e.to_string())?;
        self.refresh_sidebar();
        self.refresh_attachment_usage();
        Ok(report.to_string())
    }

    /// Deletes a conversation of the active profile (from the storage view).
    pub fn delete_conversation(&self, session_id: &str) {
        if self
            .writing
            .reply
            .with_untracked(|r| r.as_ref().is_some_and(|r| r.session_id == session_id))
        {
            return self.report(NotNow::DeleteWhileReplying);
        }
        let user = self.user_id();
        match self.with_manager(|m| m.delete_conversation(&user, session_id)) {
            Ok(()) => {
                self.refresh_sidebar();
                // Its attachments go too, unless another conversation uses them.
                self.collect_blob_garbage();
                if self.on_screen.id.get_untracked().as_deref() == Some(session_id) {
                    self.new_chat();
                }
                if self.unsaved_count() > 0 {
                    self.retry_unsaved();
                } else {
                    self.storage.full.set(false);
                }
            }
            Err(error) => self.report(error),
        }
    }
}
