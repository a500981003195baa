//! What the user sets on a conversation: its title and pin (in its status,
//! so the list needs no conversation record and a rename does not reorder
//! it) and its own options (in its record). Across tabs, the later
//! change of each wins.

use super::{
    ConversationOptions, ConversationStatus, MAX_TITLE_CHARS, ManagerError, SessionManager,
    truncate,
};
use crate::clock::Clock;
use crate::session::{SessionError, SessionService};
use crate::storage::KvStore;

impl<S: SessionService, K: KvStore, C: Clock> SessionManager<S, K, C> {
    /// Gives a conversation a title of the user's choosing (trimmed, on one
    /// line, cut to [`MAX_TITLE_CHARS`]); a blank one goes back to the
    /// automatic title. Returns the title now shown, if the user set one.
    pub fn rename_conversation(
        &mut self,
        user_id: &str,
        session_id: &str,
        title: &str,
    ) -> Result<Option<String>, ManagerError> {
        let title = title.split_whitespace().collect::<Vec<_>>().join(" ");
        let title = (!title.is_empty()).then(|| truncate(&title, MAX_TITLE_CHARS));
        let kept = title.clone();
        self.atomically(|m| m.relabel(user_id, session_id, |s| s.title = kept))?;
        Ok(title)
    }

    /// Pins a conversation (listed first) or unpins it.
    pub fn set_pinned(
        &mut self,
        user_id: &str,
        session_id: &str,
        pinned: bool,
    ) -> Result<(), ManagerError> {
        self.atomically(|m| m.relabel(user_id, session_id, |s| s.pinned = pinned))
    }

    /// Sets a conversation's own model, temperature and system prompt.
    pub fn set_options(
        &mut self,
        user_id: &str,
        session_id: &str,
        options: ConversationOptions,
    ) -> Result<(), ManagerError> {
        self.atomically(|m| {
            let mut conversation = m.conversation(user_id, session_id)?;
            conversation.options = options;
            conversation.options_at = m.clock.now();
            m.save_conversation(&conversation)
        })
    }

    /// Changes the title or pin of a conversation's status, noting when.
    fn relabel(
        &mut self,
        user_id: &str,
        session_id: &str,
        change: impl FnOnce(&mut ConversationStatus),
    ) -> Result<(), ManagerError> {
        // Adopts a session that has no record yet (and so no status).
        self.conversation(user_id, session_id)?;
        let now = self.clock.now();
        let mut status = self
            .status(user_id, session_id)?
            .ok_or_else(|| SessionError::not_found(&self.app_name, user_id, session_id))?;
        change(&mut status);
        status.labels_at = now;
        self.save_status(user_id, &status)
    }
}
