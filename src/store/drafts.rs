//! Replies being written, as drafts: this tab's own (saved every 250 ms
//! while it holds the draft's lock), and other tabs' (shown as being
//! written elsewhere, and saved as `interrupted` the moment their tab dies).
//!
//! The rules (when a draft becomes a reply) are the core's
//! (`confab_core::manager::drafts`); this module asks the browser what they
//! need to know: whether the tab that wrote a draft still holds its lock.

use std::cell::Cell;
use std::rc::Rc;
use std::time::Duration;

use confab_core::manager::{
    DRAFT_ABANDONED_AFTER, Draft, FoundDraft, ManagerError, Settled, Writer,
};
use confab_core::session::{MessageStatus, Reasoning, Session, SessionError};
use leptos::prelude::*;

use super::{ChatStore, MessageView, Role};
use crate::platform::BrowserClock;
use crate::platform::locks::{self, HeldLock};

/// A streaming reply's draft is written at most this often.
const DRAFT_EVERY: f64 = 0.25;

/// How long a saved reply's draft lock is kept after the save. Another tab
/// hears of a released lock and of localStorage changes on separate
/// channels, in either order: released at once, a tab whose copy of the
/// store still showed the draft could take it for a dead tab's and save
/// it as interrupted (a reply it then shows until the merge corrects it).
/// Kept this long, the removal reaches every tab first. (No reply asks
/// for it again: each reply, a continuation too, has an id of its own.)
const KEEP_LOCK_AFTER_SAVE: Duration = Duration::from_secs(10);

/// Shown under another tab's reply while it is being written.
const WRITTEN_ELSEWHERE: &str = "Being written in another tab…";

/// The same, where the browser cannot tell whether that tab is alive.
const PERHAPS_WRITTEN_ELSEWHERE: &str = "Perhaps still being written in another tab (this browser cannot tell); kept as interrupted if nothing changes for 15 s.";

fn now() -> f64 {
    confab_core::Clock::now(&BrowserClock)
}

/// Drafts: when this tab's was last written (and whether a trailing write
/// is scheduled), its lock, and the replies other tabs are writing.
#[derive(Clone, Copy)]
pub(super) struct Drafts {
    pub(super) clock: StoredValue<(f64, bool)>,
    own: StoredValue<Option<OwnDraft>, LocalStorage>,
    others: StoredValue<Vec<OtherDraft>, LocalStorage>,
}

impl Drafts {
    pub(super) fn new() -> Self {
        Self {
            clock: StoredValue::new((0.0, false)),
            own: StoredValue::new_local(None),
            others: StoredValue::new_local(Vec::new()),
        }
    }
}

/// This tab's streaming reply's draft: whether it may be written, and the
/// lock (named after its key) that tells other tabs this tab is alive. Nothing is written before the lock is
/// held, so a draft in storage always has a live writer or a dead one,
/// never one that has not taken its lock yet.
pub(super) struct OwnDraft {
    writable: Rc<Cell<bool>>,
    lock: Option<HeldLock>,
}

/// Another tab's draft, as this tab knows it.
pub(super) struct OtherDraft {
    key: String,
    draft: Draft,
    /// Its place in the conversation (an id of its own: when the reply is
    /// saved, its message replaces this one).
    view: MessageView,
}

impl OtherDraft {
    fn new(found: FoundDraft) -> Self {
        let FoundDraft { key, draft } = found;
        let view = MessageView::new(
            format!("{}~draft", draft.event_id),
            Role::Assistant,
            draft.model.as_deref().unwrap_or_default(),
            draft.text.clone(),
            MessageStatus::Streaming,
        );
        if let Some(reasoning) = &draft.reasoning {
            view.reasoning.set(reasoning.text.clone());
        }
        Self { key, draft, view }
    }
}

impl ChatStore {
    // --- this tab's reply -----------------------------------------------

    /// Takes the lock of the reply `view_id`'s draft; once it is held, the
    /// draft is written (at once, empty: a question is never left looking
    /// unanswered while the model thinks). Without Web Locks it is written
    /// at once.
    pub(super) fn hold_draft(&self, user: &str, session_id: &str, view_id: &str) {
        let key = self
            .manager
            .with_value(|m| m.draft_key(user, session_id, view_id));
        let writable = Rc::new(Cell::new(false));
        let store = *self;
        let granted = {
            let writable = writable.clone();
            move || {
                writable.set(true);
                store.persist_draft(true);
            }
        };
        let lock = HeldLock::request(&key, granted.clone());
        self.drafts.own.set_value(Some(OwnDraft { writable, lock }));
        if !locks::available() {
            granted();
        }
    }

    /// Lets go of this tab's draft lock (its reply is saved, the draft
    /// removed), or hands it to the caller to keep while the reply waits
    /// for room in storage.
    pub(super) fn take_own_draft_lock(&self) -> Option<HeldLock> {
        self.drafts
            .own
            .try_update_value(Option::take)
            .flatten()
            .and_then(|own| own.lock)
    }

    /// Lets go of a draft lock once its reply is saved, after
    /// [`KEEP_LOCK_AFTER_SAVE`].
    pub(super) fn release_after_save(lock: Option<HeldLock>) {
        if let Some(lock) = lock {
            set_timeout(move || drop(lock), KEEP_LOCK_AFTER_SAVE);
        }
    }

    /// Saves what has arrived of the streaming reply: at most every 250 ms,
    /// with a trailing write so the last tokens are not left out; `force`
    /// writes now (the page is being hidden or closed).
    pub(super) fn persist_draft(&self, force: bool) {
        // Called per streamed chunk: decide before cloning anything.
        if self.writing.reply.with_untracked(Option::is_none)
            || !self
                .drafts
                .own
                .with_value(|own| own.as_ref().is_some_and(|own| own.writable.get()))
        {
            return;
        }
        let now = now();
        let (last, scheduled) = self.drafts.clock.get_value();
        if !force && now - last < DRAFT_EVERY {
            if !scheduled {
                self.drafts.clock.set_value((last, true));
                let store = *self;
                let wait = Duration::from_secs_f64(DRAFT_EVERY - (now - last));
                set_timeout(
                    move || {
                        store.drafts.clock.update_value(|c| c.1 = false);
                        store.persist_draft(false);
                    },
                    wait,
                );
            }
            return;
        }
        self.drafts.clock.set_value((now, scheduled));
        let Some(reply) = self.writing.reply.get_untracked() else {
            return;
        };
        let text = reply.view.text.get_untracked();
        let model = reply.view.author.get_untracked();
        let model = Some(model).filter(|m| !m.is_empty());
        // The reasoning so far, so a crash while thinking keeps it too.
        let reasoning = Reasoning {
            text: reply.view.reasoning.get_untracked(),
            millis: reply.view.thought_millis.get_untracked(),
            ..Reasoning::default()
        }
        .kept();
        let saved = self.manager.try_with_value(|m| {
            m.save_draft(
                &reply.user_id,
                &reply.call,
                &reply.view.id,
                &text,
                model.as_deref(),
                reasoning,
            )
        });
        if let Some(Err(ManagerError::Session(SessionError::Storage(error)))) = saved {
            self.note_storage_error(&error);
        }
    }

    /// Writes the draft at once when the page is hidden or closed: a tab
    /// killed after that loses nothing that had arrived.
    pub(super) fn flush_drafts_on_hide(&self) {
        let store = *self;
        let handle =
            window_event_listener(leptos::ev::pagehide, move |_| store.persist_draft(true));
        std::mem::forget(handle);
        let handle = window_event_listener(leptos::ev::visibilitychange, move |_| {
            if document().hidden() {
                store.persist_draft(true);
            }
        });
        std::mem::forget(handle);
    }

    // --- other tabs' replies ----------------------------------------------

    /// Follows the drafts `enter` left (the profile's, as found at startup
    /// or on a switch) in place of any followed before, and asks whether
    /// their tabs are alive.
    pub(super) fn follow_drafts(&self, left: Vec<FoundDraft>) {
        self.drafts.others.set_value(Vec::new());
        for found in left {
            self.follow_draft(found);
        }
    }

    fn follow_draft(&self, found: FoundDraft) {
        let key = found.key.clone();
        self.drafts
            .others
            .update_value(|others| others.push(OtherDraft::new(found)));
        self.ask_writer(&key);
    }

    /// Saves the draft at `key` as soon as its tab is known to be gone: now
    /// if nobody holds its lock, else when its holder lets go (a tab that
    /// finishes its reply removes the draft first, so then nothing is left
    /// to save). Without Web Locks, once it has been still for 15 s.
    fn ask_writer(&self, key: &str) {
        let store = *self;
        if !locks::available() {
            self.mark_writer(key, Some(PERHAPS_WRITTEN_ELSEWHERE));
            return self.settle_later(key);
        }
        let name = key.to_owned();
        locks::if_free(key, move |free| {
            if free {
                store.settle(&name, Writer::Gone);
                return;
            }
            store.mark_writer(&name, Some(WRITTEN_ELSEWHERE));
            let key = name.clone();
            locks::when_free(&name, move || store.settle(&key, Writer::Gone));
        });
    }

    fn mark_writer(&self, key: &str, note: Option<&str>) {
        self.drafts.others.with_value(|others| {
            if let Some(other) = others.iter().find(|o| o.key == key) {
                other.view.note.set(note.map(str::to_owned));
            }
        });
    }

    /// Without Web Locks: decides again once the draft could be old enough.
    fn settle_later(&self, key: &str) {
        let Some(updated_at) = self
            .drafts
            .others
            .with_value(|o| o.iter().find(|o| o.key == key).map(|o| o.draft.updated_at))
        else {
            return;
        };
        let wait = (updated_at + DRAFT_ABANDONED_AFTER - now()).max(0.0) + 0.1;
        let (store, key) = (*self, key.to_owned());
        set_timeout(
            move || store.settle(&key, Writer::Unknown),
            Duration::from_secs_f64(wait),
        );
    }

    /// Applies the core's rule to the draft at `key` and shows the outcome.
    fn settle(&self, key: &str, writer: Writer) {
        let user = self.user_id();
        // A draft of another profile is settled when that one is opened.
        if !self.manager.with_value(|m| m.is_draft_of(&user, key)) {
            return;
        }
        match self.with_manager(|m| m.settle_draft(&user, key, writer)) {
            Ok(Settled::Left(draft)) => {
                self.update_other(key, draft);
                if writer == Writer::Unknown {
                    self.settle_later(key);
                }
            }
            Ok(Settled::Recovered { session_id }) => {
                self.unfollow(key);
                self.refresh_sidebar();
                if self.on_screen.id.get_untracked().as_deref() == Some(session_id.as_str()) {
                    self.open(&session_id);
                }
            }
            Ok(Settled::Gone) => {
                if let Some(session_id) = self.unfollow(key)
                    && self.on_screen.id.get_untracked().as_deref() == Some(session_id.as_str())
                {
                    self.open(&session_id);
                }
            }
            Err(error) => self.report(error),
        }
    }

    /// Stops following a draft; the session it was in.
    fn unfollow(&self, key: &str) -> Option<String> {
        self.drafts
            .others
            .try_update_value(|others| {
                let at = others.iter().position(|o| o.key == key)?;
                Some(others.remove(at).draft.call.session_id)
            })
            .flatten()
    }

    fn update_other(&self, key: &str, draft: Draft) {
        self.drafts.others.update_value(|others| {
            if let Some(other) = others.iter_mut().find(|o| o.key == key) {
                if other.draft.text != draft.text {
                    other.view.text.set(draft.text.clone());
                }
                if other.draft.reasoning != draft.reasoning {
                    let reasoning = draft.reasoning.as_ref().map(|r| r.text.clone());
                    other.view.reasoning.set(reasoning.unwrap_or_default());
                }
                if let Some(model) = &draft.model {
                    other.view.author.set(model.clone());
                }
                other.draft = draft;
            }
        });
    }

    /// Another tab wrote or removed the draft at `key`: its text follows; a
    /// new one is shown and its writer asked after.
    pub(super) fn other_tab_draft(&self, key: &str) {
        // Startup finds every draft once the store has loaded.
        if !self.storage.loaded.get_untracked() {
            return;
        }
        let user = self.user_id();
        if !self.manager.with_value(|m| m.is_draft_of(&user, key)) {
            return;
        }
        let Some(Ok(Some(draft))) = self.manager.try_with_value(|m| m.draft_at(key)) else {
            // Removed: its reply was saved (that write refreshes the view).
            self.unfollow(key);
            return;
        };
        let followed = self
            .drafts
            .others
            .with_value(|others| others.iter().any(|o| o.key == key));
        if followed {
            return self.update_other(key, draft);
        }
        let session_id = draft.call.session_id.clone();
        self.follow_draft(FoundDraft {
            key: key.to_owned(),
            draft,
        });
        if self.on_screen.id.get_untracked().as_deref() == Some(session_id.as_str()) {
            self.touched_by_other_tab(|touched| touched.note_conversation(&session_id));
        }
    }

    /// The messages of other tabs' replies still being written in
    /// `session` (in the order they were first seen); drafts whose reply is saved in
    /// it are no longer followed.
    pub(super) fn drafts_in(&self, session: &Session) -> Vec<MessageView> {
        self.drafts
            .others
            .try_update_value(|others| {
                others.retain(|o| {
                    o.draft.call.session_id != session.id
                        || !session.events.iter().any(|e| e.id == o.draft.event_id)
                });
                others
                    .iter()
                    .filter(|o| o.draft.call.session_id == session.id)
                    .map(|o| o.view.clone())
                    .collect()
            })
            .unwrap_or_default()
    }
}
