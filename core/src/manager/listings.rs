//! The sidebar's entries, and [`SessionManager::enter`]: what opening a
//! profile runs before it lists them.

use std::collections::HashMap;

use super::{Ending, FoundDraft, ManagerError, SessionManager, Settled, UserRecord, Writer};
use crate::clock::Clock;
use crate::session::{SessionService, SessionSummary};
use crate::storage::KvStore;

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

    /// What opening a profile does, in order: drafts of closed tabs saved
    /// (those `writer_of` says are gone, or too old when it cannot tell),
    /// expiry, retention, and the sidebar's listings. Returns the listings
    /// and the drafts left (still being written, as far as is known). Each
    /// step is the operation of the same name; the session list, the
    /// largest thing read, is read once for expiry and the listings unless
    /// retention deleted something. `keys`: the store's keys, if listed.
    pub fn enter(
        &mut self,
        user_id: &str,
        keys: Option<&[String]>,
        writer_of: &dyn Fn(&FoundDraft) -> Writer,
    ) -> Result<(Vec<Listing>, Vec<FoundDraft>), ManagerError> {
        let listed;
        let keys = match keys {
            Some(keys) => keys,
            None => {
                listed = self.kv.keys()?;
                &listed
            }
        };
        let left = self
            .settle_drafts(user_id, keys, writer_of)?
            .into_iter()
            .filter_map(|(found, settled)| match settled {
                Settled::Left(draft) => Some(FoundDraft { draft, ..found }),
                _ => None,
            })
            .collect();
        let (_, summaries) = self.atomically(|m| m.expire(user_id))?;
        if !self.apply_retention(user_id)?.is_empty() {
            return Ok((self.listings(user_id)?, left));
        }
        let record = self.user_record(user_id)?;
        Ok((listings_of(&record, summaries), left))
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
        .map(|mut summary| {
            let status = statuses.get(summary.id.as_str());
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
        })
        .collect();
    // Stable: the newest-first order holds within each group.
    crate::order::sort_stable_by(&mut listings, |a, b| b.pinned.cmp(&a.pinned));
    listings
}
