//! Replies still streaming, kept as drafts so a tab that dies loses nothing
//! that reached storage, and the rules that turn a dead tab's draft into an
//! `interrupted` reply.
//!
//! Each reply has a draft key of its own (session and event id), so a new
//! reply in the same conversation (Retry, Regenerate, Continue) never
//! overwrites an earlier one's text. Whether the tab that wrote a draft is
//! still alive is not guessed from the draft's age: the browser knows (the
//! shell holds a Web Lock named after the draft key while it writes, and the
//! browser releases it when the tab dies). The shell asks, and hands the
//! answer in as a [`Writer`]; only where the browser cannot tell does the age
//! decide ([`DRAFT_ABANDONED_AFTER`]).

use crate::clock::Clock;
use crate::outcome::ReplyFailure;
use crate::session::{MessageStatus, Reasoning, SessionError, SessionService};
use crate::storage::{KvError, KvStore, keys, read_json, write_json};

use super::{CallResult, CallStart, ManagerError, SessionManager};

/// A reply still streaming, saved every ~250 ms under its own draft key
/// (not as an event: ADK never stores partial events). A reply whose tab
/// died is found here and saved as `interrupted`.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Draft {
    pub call: CallStart,
    pub event_id: String,
    pub text: String,
    #[serde(default)]
    pub model: Option<String>,
    pub updated_at: f64,
    /// What a reasoning model has thought so far (absent from older drafts
    /// and from replies without reasoning). Boxed: most drafts have none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reasoning: Option<Box<Reasoning>>,
}

/// A draft and the key it is stored under (also its lock's name).
#[derive(Clone, Debug, PartialEq)]
pub struct FoundDraft {
    pub key: String,
    pub draft: Draft,
}

/// What is known of the tab that wrote a draft.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Writer {
    /// A live tab holds the draft's lock: it is still writing the reply.
    Alive,
    /// Nobody holds the lock: the tab that wrote it is gone.
    Gone,
    /// The browser cannot tell (no Web Locks): the draft's age decides.
    Unknown,
}

/// What became of a draft.
#[derive(Clone, Debug, PartialEq)]
pub enum Settled {
    /// Saved as an `interrupted` reply (with its text) in this session.
    Recovered { session_id: String },
    /// Still being written, as far as is known: left as it is.
    Left(Draft),
    /// Nothing left to do: the draft is gone, its reply was saved already,
    /// or its conversation was deleted (the draft is removed then).
    Gone,
}

/// Without Web Locks, a draft not updated for this long is taken for a dead
/// tab's (a live tab rewrites its draft every 250 ms while text arrives).
/// Only a fallback: a model silent for longer than this is misjudged.
pub const DRAFT_ABANDONED_AFTER: f64 = 15.0;

impl<S: SessionService, K: KvStore, C: Clock> SessionManager<S, K, C> {
    /// Saves what has arrived of a streaming reply under its own key (the
    /// session body is not rewritten while a reply streams). Returns the key.
    pub fn save_draft(
        &self,
        user_id: &str,
        call: &CallStart,
        event_id: &str,
        text: &str,
        model: Option<&str>,
        reasoning: Option<Reasoning>,
    ) -> Result<String, ManagerError> {
        let draft = Draft {
            call: call.clone(),
            event_id: event_id.to_owned(),
            text: text.to_owned(),
            model: model.map(str::to_owned),
            updated_at: self.clock.now(),
            reasoning: reasoning.map(Box::new),
        };
        let key = self.draft_key(user_id, &call.session_id, event_id);
        write_json(&self.kv, &key, &draft)?;
        Ok(key)
    }

    /// The key (and lock name) of a reply's draft.
    pub fn draft_key(&self, user_id: &str, session_id: &str, event_id: &str) -> String {
        keys::draft(&self.app_name, user_id, session_id, event_id)
    }

    /// Whether `key` is a draft of `user_id`'s.
    pub fn is_draft_of(&self, user_id: &str, key: &str) -> bool {
        key.starts_with(&keys::drafts_of(&self.app_name, user_id))
    }

    /// The drafts of `user_id` among `keys` (the store's keys, as listed).
    /// An unreadable one is moved aside.
    pub fn drafts_among(
        &self,
        user_id: &str,
        keys: &[String],
    ) -> Result<Vec<FoundDraft>, ManagerError> {
        let mut found = Vec::new();
        for key in keys.iter().filter(|k| self.is_draft_of(user_id, k)) {
            if let Some(draft) = self.draft_at(key)? {
                found.push(FoundDraft {
                    key: key.clone(),
                    draft,
                });
            }
        }
        Ok(found)
    }

    /// The draft stored at `key`; an unreadable one is moved aside.
    pub fn draft_at(&self, key: &str) -> Result<Option<Draft>, ManagerError> {
        match read_json(&self.kv, key) {
            Ok(draft) => Ok(draft),
            Err(KvError::Corrupt { reason, .. }) => {
                self.set_aside(key, &reason)?;
                Ok(None)
            }
            Err(error) => Err(error.into()),
        }
    }

    /// Decides what becomes of the draft at `key`, given what is known of
    /// its writer: a gone writer's draft is saved at once as an
    /// `interrupted` reply with its text; a live writer's is left; an
    /// unknown writer's is saved once it is [`DRAFT_ABANDONED_AFTER`] old.
    /// The draft is read again here, so a decision made on an older copy
    /// never saves stale text. Safe to run twice (in two tabs): a reply
    /// already in the session is not added again.
    pub fn settle_draft(
        &mut self,
        user_id: &str,
        key: &str,
        writer: Writer,
    ) -> Result<Settled, ManagerError> {
        let now = self.clock.now();
        self.atomically(|m| {
            let Some(draft) = m.draft_at(key)? else {
                return Ok(Settled::Gone);
            };
            let abandoned = match writer {
                Writer::Alive => false,
                Writer::Gone => true,
                Writer::Unknown => now - draft.updated_at >= DRAFT_ABANDONED_AFTER,
            };
            if !abandoned {
                return Ok(Settled::Left(draft));
            }
            let session = match m.get_session(user_id, &draft.call.session_id) {
                Ok(session) => session,
                // Its conversation is gone: the draft has nowhere to go.
                Err(ManagerError::Session(SessionError::NotFound { .. })) => {
                    m.kv.remove(key)?;
                    return Ok(Settled::Gone);
                }
                Err(error) => return Err(error),
            };
            if session.events.iter().any(|e| e.id == draft.event_id) {
                m.kv.remove(key)?;
                return Ok(Settled::Gone);
            }
            let result = CallResult {
                event_id: draft.event_id.clone(),
                text: draft.text.clone(),
                status: MessageStatus::Interrupted,
                error: Some(ReplyFailure::PageClosed {
                    any_text: !draft.text.is_empty(),
                }),
                response_model: draft.model.clone(),
                reasoning: draft.reasoning.clone().map(|r| *r),
                ..CallResult::default()
            };
            m.finish_call(user_id, &draft.call, result)?;
            // A draft written before drafts were kept per reply has a key
            // of its own shape; `finish_call` removed the per-reply one.
            m.kv.remove(key)?;
            Ok(Settled::Recovered {
                session_id: draft.call.session_id,
            })
        })
    }

    /// [`Self::settle_draft`] for every draft of `user_id` among `keys`,
    /// with `writer_of` telling what is known of each one's writer.
    pub fn settle_drafts(
        &mut self,
        user_id: &str,
        keys: &[String],
        writer_of: &dyn Fn(&FoundDraft) -> Writer,
    ) -> Result<Vec<(FoundDraft, Settled)>, ManagerError> {
        let mut settled = Vec::new();
        for found in self.drafts_among(user_id, keys)? {
            let fate = self.settle_draft(user_id, &found.key, writer_of(&found))?;
            settled.push((found, fate));
        }
        Ok(settled)
    }
}
