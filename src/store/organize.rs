//! Working with the list of conversations: search, rename, pin, and delete
//! with an undo window.
//!
//! A deletion is only *pending* for [`UNDO_WINDOW`]: the conversation leaves
//! the list at once, but nothing is written until the window ends (or the
//! page is hidden or closed). A crash inside the window therefore loses
//! nothing; the conversation is simply still there after the restart.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use confab_core::manager::Listing;
use confab_core::notice::{NotNow, Notice};
use confab_core::search::{self, SearchHit, Searchable};
use leptos::prelude::*;

use super::ChatStore;

/// How long "Undo" is offered after a deletion.
pub const UNDO_WINDOW: Duration = Duration::from_secs(8);

/// Numbers deletions, so a timer only carries out its own.
static NEXT_DELETE: AtomicU64 = AtomicU64::new(1);

/// A deletion the user can still undo.
#[derive(Clone, Debug, PartialEq)]
pub struct PendingDelete {
    pub session_id: String,
    pub title: String,
    /// Whether it was open when deleted (Undo opens it again).
    was_open: bool,
    /// Tells this deletion's timer from a later one's.
    serial: u64,
}

/// The sidebar: the profile's conversations, a deletion waiting for its
/// undo window, and what search has read.
#[derive(Clone, Copy)]
pub struct Sidebar {
    /// The active profile's conversations, newest first.
    pub listings: RwSignal<Vec<Listing>>,
    /// A conversation taken off the list, deleted when Undo is no longer
    /// offered.
    pub pending_delete: RwSignal<Option<PendingDelete>>,
    search_cache: StoredValue<SearchCache>,
}

impl Sidebar {
    pub(super) fn new() -> Self {
        Self {
            listings: RwSignal::new(Vec::new()),
            pending_delete: RwSignal::new(None),
            search_cache: StoredValue::new(SearchCache::default()),
        }
    }
}

/// Message texts read for search, by session id, with the session's update
/// time (a changed session is read again). Filled on the first search and
/// dropped when the search box is cleared, so startup reads no bodies.
#[derive(Default)]
pub(super) struct SearchCache {
    texts: HashMap<String, (f64, Vec<String>)>,
    serial: u64,
}

/// A conversation that matched a search.
#[derive(Clone, Debug, PartialEq)]
pub struct Found {
    pub listing: Listing,
    pub hit: SearchHit,
}

impl ChatStore {
    /// Shows `list` in the sidebar, without a conversation whose deletion
    /// is pending.
    pub(super) fn show_listings(&self, mut list: Vec<Listing>) {
        if let Some(pending) = self.sidebar.pending_delete.get_untracked() {
            list.retain(|l| l.summary.id != pending.session_id);
        }
        self.sidebar.listings.set(list);
    }

    // --- search ----------------------------------------------------------

    /// The active profile's conversations matching `query` (titles and
    /// message text), in sidebar order. Reads message text only now, the
    /// first time, and keeps it until [`Self::end_search`].
    pub fn search(&self, query: &str) -> Vec<Found> {
        let listings = self.sidebar.listings.get_untracked();
        if search::prepare(query).is_none() {
            return Vec::new();
        }
        let searchable: Vec<Searchable> = listings
            .iter()
            .map(|listing| Searchable {
                id: listing.summary.id.clone(),
                title: listing.summary.title.clone().unwrap_or_default(),
                texts: self.texts_of(listing),
            })
            .collect();
        let hits = search::search(query, &searchable);
        hits.into_iter()
            .filter_map(|hit| {
                let listing = listings.iter().find(|l| l.summary.id == hit.id)?.clone();
                Some(Found { listing, hit })
            })
            .collect()
    }

    /// Forgets the text read for search.
    pub fn end_search(&self) {
        self.sidebar.search_cache.update_value(|c| c.texts.clear());
    }

    fn texts_of(&self, listing: &Listing) -> Vec<String> {
        let id = &listing.summary.id;
        let updated = listing.summary.last_update_time;
        let cached = self.sidebar.search_cache.with_value(|c| {
            c.texts
                .get(id)
                .filter(|(at, _)| *at == updated)
                .map(|(_, texts)| texts.clone())
        });
        if let Some(texts) = cached {
            return texts;
        }
        // An unreadable session is searched by its title only; opening it
        // reports what is wrong.
        let texts: Vec<String> = self
            .load_session(id)
            .map(|session| {
                session
                    .events
                    .iter()
                    .map(|e| e.text_content())
                    .filter(|t| !t.is_empty())
                    .collect()
            })
            .unwrap_or_default();
        self.sidebar.search_cache.update_value(|c| {
            c.texts.insert(id.clone(), (updated, texts.clone()));
        });
        texts
    }

    /// A number that changes with every search input, for debouncing.
    pub fn next_search_serial(&self) -> u64 {
        self.sidebar
            .search_cache
            .try_update_value(|c| {
                c.serial += 1;
                c.serial
            })
            .unwrap_or_default()
    }

    pub fn search_serial(&self) -> u64 {
        self.sidebar.search_cache.with_value(|c| c.serial)
    }

    // --- rename and pin --------------------------------------------------

    /// Gives a conversation the user's title (blank: the automatic one).
    pub fn rename(&self, session_id: &str, title: &str) {
        let user = self.user_id();
        match self.with_manager(|m| m.rename_conversation(&user, session_id, title)) {
            Ok(_) => self.refresh_sidebar(),
            Err(error) => self.report(Notice::RenameFailed(error)),
        }
    }

    pub fn set_pinned(&self, session_id: &str, pinned: bool) {
        let user = self.user_id();
        match self.with_manager(|m| m.set_pinned(&user, session_id, pinned)) {
            Ok(()) => self.refresh_sidebar(),
            Err(error) => self.report(Notice::PinFailed { pinned, error }),
        }
    }

    // --- delete with undo ------------------------------------------------

    /// Takes a conversation off the list and offers Undo for
    /// [`UNDO_WINDOW`]; it is deleted for real when the window ends, when
    /// another deletion starts, or when the page is hidden or closed.
    pub fn delete_with_undo(&self, session_id: &str) {
        if self
            .writing
            .reply
            .with_untracked(|r| r.as_ref().is_some_and(|r| r.session_id == session_id))
        {
            return self.report(NotNow::DeleteWithUndoWhileReplying);
        }
        // One Undo at a time: an earlier deletion is carried out now.
        self.commit_pending_delete();
        let title = self.sidebar.listings.with_untracked(|l| {
            l.iter()
                .find(|l| l.summary.id == session_id)
                .and_then(|l| l.summary.title.clone())
                .unwrap_or_else(|| "New chat".to_owned())
        });
        let was_open = self.on_screen.id.get_untracked().as_deref() == Some(session_id);
        let serial = NEXT_DELETE.fetch_add(1, Ordering::Relaxed);
        self.sidebar.pending_delete.set(Some(PendingDelete {
            session_id: session_id.to_owned(),
            title,
            was_open,
            serial,
        }));
        self.sidebar
            .listings
            .update(|l| l.retain(|l| l.summary.id != session_id));
        if was_open {
            self.new_chat();
        }
        let store = *self;
        set_timeout(
            move || {
                let due = store
                    .sidebar
                    .pending_delete
                    .try_with_untracked(|p| p.as_ref().is_some_and(|p| p.serial == serial));
                if due == Some(true) {
                    store.commit_pending_delete();
                }
            },
            UNDO_WINDOW,
        );
    }

    /// Brings back the conversation whose deletion is pending, whole (it
    /// was never touched in storage).
    pub fn undo_delete(&self) {
        let Some(pending) = self.sidebar.pending_delete.get_untracked() else {
            return;
        };
        self.sidebar.pending_delete.set(None);
        self.refresh_sidebar();
        if pending.was_open && self.writing.reply.with_untracked(Option::is_none) {
            self.open(&pending.session_id);
        }
    }

    /// Carries out the pending deletion, if any (with a tombstone, so other
    /// tabs do not bring it back).
    pub fn commit_pending_delete(&self) {
        let Some(Some(pending)) = self.sidebar.pending_delete.try_get_untracked() else {
            return;
        };
        self.sidebar.pending_delete.set(None);
        self.delete_conversation(&pending.session_id);
    }

    /// The page being hidden or closed ends the undo window: the user
    /// cannot press Undo any more, and a closed tab must not leave the
    /// conversation half-deleted in their mind and whole in storage.
    pub(super) fn commit_deletes_on_hide(&self) {
        let store = *self;
        let handle =
            window_event_listener(leptos::ev::pagehide, move |_| store.commit_pending_delete());
        std::mem::forget(handle);
        let handle = window_event_listener(leptos::ev::visibilitychange, move |_| {
            if document().hidden() {
                store.commit_pending_delete();
            }
        });
        std::mem::forget(handle);
    }
}
