//! The sidebar's entries, and [`SessionManager::enter`]: what opening a
//! profile runs before it lists them.

use std::cmp::Ordering;
use std::collections::HashMap;

use super::{
    ConversationStatus, Ending, FoundDraft, ManagerError, SessionManager, Settled, UserRecord,
    Writer,
};
use crate::clock::Clock;
use crate::session::{SessionService, SessionSummary};
use crate::storage::{KvStore, keys};

/// A conversation as listed in the sidebar. `summary.title` is the title
/// the user gave it, if any.
#[derive(Clone, Debug, PartialEq)]
pub struct Listing {
    pub summary: SessionSummary,
    pub conversation_id: String,
    pub ended: Option<Ending>,
    pub pinned: bool,
}

impl<S: SessionService, K: KvStore, C: Clock> SessionManager<S, K, C> {
    /// The user's conversations, newest first, with their status.
    pub fn listings(&self, user_id: &str) -> Result<Vec<Listing>, ManagerError> {
        let record = self.user_record(user_id)?;
        let summaries = self.service.list_sessions(&self.app_name, user_id)?;
        Ok(listings_of(&record, summaries))
    }

    /// One conversation's sidebar entry, reading only its own index entry
    /// and status; `None` when it is not listed (deleted, or never saved).
    /// What a reply refreshes, instead of every entry.
    pub fn listing(
        &self,
        user_id: &str,
        session_id: &str,
    ) -> Result<Option<Listing>, ManagerError> {
        let Some(summary) = self
            .service
            .session_summary(&self.app_name, user_id, session_id)?
        else {
            return Ok(None);
        };
        let status = self.status(user_id, session_id)?;
        Ok(Some(listing_of(summary, status.as_ref())))
    }

    /// What opening a profile does, in order: drafts of closed tabs saved
    /// (those `writer_of` says are gone, or too old when it cannot tell),
    /// expiry, retention, and the sidebar's listings. Returns the listings
    /// and the drafts left (still being written, as far as is known). The
    /// two halves are [`Self::enter_drafts`] and [`Self::enter_listings`];
    /// the app runs the second after its first frame, since it reads every
    /// conversation's entry and status. `keys`: the store's keys, if listed.
    pub fn enter(
        &mut self,
        user_id: &str,
        keys: Option<&[String]>,
        writer_of: &dyn Fn(&FoundDraft) -> Writer,
    ) -> Result<(Vec<Listing>, Vec<FoundDraft>), ManagerError> {
        let left = self.enter_drafts(user_id, keys, writer_of)?;
        Ok((self.enter_listings(user_id)?, left))
    }

    /// Opening a profile, first half: the drafts of closed tabs saved.
    /// Reads only the drafts (found among the keys), so its cost does not
    /// grow with the number of conversations. Returns the drafts left.
    pub fn enter_drafts(
        &mut self,
        user_id: &str,
        keys: Option<&[String]>,
        writer_of: &dyn Fn(&FoundDraft) -> Writer,
    ) -> Result<Vec<FoundDraft>, ManagerError> {
        let listed;
        let keys = match keys {
            Some(keys) => keys,
            None => {
                listed = self.kv.keys_with_prefix(keys::DRAFTS)?;
                &listed
            }
        };
        Ok(self
            .settle_drafts(user_id, keys, writer_of)?
            .into_iter()
            .filter_map(|(found, settled)| match settled {
                Settled::Left(draft) => Some(FoundDraft { draft, ..found }),
                _ => None,
            })
            .collect())
    }

    /// Opening a profile, second half: expiry, retention, and the sidebar's
    /// listings. The session list and the statuses, the largest things
    /// read, are read once for expiry and the listings unless expiry or
    /// retention changed something.
    pub fn enter_listings(&mut self, user_id: &str) -> Result<Vec<Listing>, ManagerError> {
        let (expired, summaries, record) = self.atomically(|m| m.expire(user_id))?;
        if !self.apply_retention(user_id)?.is_empty() {
            return self.listings(user_id);
        }
        // The statuses expiry read, unless it changed some: at 2,000
        // conversations, 2,000 reads saved.
        let record = if expired.is_empty() {
            record
        } else {
            self.user_record(user_id)?
        };
        Ok(listings_of(&record, summaries))
    }
}

/// The sidebar's entries: each session with its conversation's status,
/// pinned ones first (each group in the order given: newest first).
fn listings_of(record: &UserRecord, summaries: Vec<SessionSummary>) -> Vec<Listing> {
    // By id, the first status of each (as `UserRecord::status` finds it):
    // one lookup per session instead of a scan of every status.
    let mut statuses = HashMap::with_capacity(record.conversations.len());
    for status in &record.conversations {
        statuses.entry(status.session_id.as_str()).or_insert(status);
    }
    let mut listings: Vec<Listing> = summaries
        .into_iter()
        .map(|summary| {
            let status = statuses.get(summary.id.as_str()).copied();
            listing_of(summary, status)
        })
        .collect();
    // Stable: the newest-first order holds within each group.
    crate::order::sort_stable_by(&mut listings, |a, b| b.pinned.cmp(&a.pinned));
    listings
}

fn listing_of(mut summary: SessionSummary, status: Option<&ConversationStatus>) -> Listing {
    if let Some(title) = status.and_then(|s| s.title.clone()) {
        summary.title = Some(title);
    }
    Listing {
        conversation_id: status
            .map(|s| s.conversation_id.clone())
            .unwrap_or_default(),
        ended: status.and_then(|s| s.ended.clone()),
        pinned: status.is_some_and(|s| s.pinned),
        summary,
    }
}

/// The sidebar's order, as [`SessionManager::listings`] gives it: pinned
/// first, then newest first, then by id.
fn sidebar_order(a: &Listing, b: &Listing) -> Ordering {
    b.pinned
        .cmp(&a.pinned)
        .then_with(|| {
            b.summary
                .last_update_time
                .total_cmp(&a.summary.last_update_time)
        })
        .then_with(|| a.summary.id.cmp(&b.summary.id))
}

/// Puts one conversation's fresh entry (from [`SessionManager::listing`])
/// in its place in `listings`, or takes `session_id` out when it is no
/// longer listed: the sidebar after a change to one conversation, without
/// reading the others.
pub fn place_listing(listings: &mut Vec<Listing>, session_id: &str, fresh: Option<Listing>) {
    listings.retain(|l| l.summary.id != session_id);
    if let Some(fresh) = fresh {
        let at = listings
            .iter()
            .position(|l| sidebar_order(&fresh, l) == Ordering::Less)
            .unwrap_or(listings.len());
        listings.insert(at, fresh);
    }
}
