//! Getting conversations out and in: a lossless, versioned JSON export (one
//! conversation or all), a Markdown export of one, and imports of Confab's
//! own JSON and of ChatGPT's `conversations.json`. Parsing and validation
//! happen before anything is written, so a bad file changes nothing.
//!
//! An export is a single JSON file, attachments included as base64 (not a
//! zip; see [`attached`]).

pub mod attached;
pub mod chatgpt;
pub mod markdown;
mod pretty;

pub use attached::{ExportedBlob, add_attachments, attachment_blobs, referenced_attachments};
pub use pretty::to_pretty_json;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::clock::Clock;
use crate::manager::{Conversation, ConversationStatus, ManagerError, SessionManager};
use crate::session::{
    APP_PREFIX, CreateSession, GetSessionConfig, Session, SessionError, SessionService, State,
    USER_PREFIX,
};
use crate::storage::KvStore;
use crate::sync::merge_conversations;

/// The `format` of Confab's export files.
pub const FORMAT: &str = "confab.export";
/// The version of the export format this build writes and reads.
pub const VERSION: u32 = 1;

/// One conversation in an export: the ADK session (state merged across
/// scopes, as ADK returns it) and the manager's record of it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ExportedConversation {
    pub session: Session,
    #[serde(default)]
    pub conversation: Option<Conversation>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ExportFile {
    pub format: String,
    pub version: u32,
    pub exported_at: f64,
    pub app_name: String,
    pub user_id: String,
    pub conversations: Vec<ExportedConversation>,
    /// The bytes of the conversations' attachments, by SHA-256.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub attachments: BTreeMap<String, ExportedBlob>,
}

/// An export with its attachments, and how many of those could not be read.
#[derive(Clone, Debug, PartialEq)]
pub struct Export {
    pub file: ExportFile,
    pub unavailable: usize,
}

#[derive(Clone, Debug, Error, PartialEq)]
pub enum ImportError {
    #[error(
        "this file is not JSON, so it is not a conversation export ({0}); nothing was imported"
    )]
    NotJson(String),
    #[error(
        "this file is neither a Confab export nor a ChatGPT conversations.json; nothing was imported"
    )]
    Foreign,
    #[error(
        "this export was made by a newer Confab (format version {0}); update Confab to import it. Nothing was imported"
    )]
    NewerVersion(u32),
    #[error("this export is damaged ({0}); nothing was imported")]
    Invalid(String),
    #[error(
        "the attachment {name} in this export is damaged ({why}); nothing was imported. Export it again from where it came"
    )]
    BadAttachment { name: String, why: String },
    #[error("the import could not be saved ({0}); nothing was imported")]
    Failed(#[from] ManagerError),
}

/// What an import did.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ImportReport {
    pub created: usize,
    pub merged: usize,
    pub events_added: usize,
}

impl std::fmt::Display for ImportReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "Imported {} new conversation(s); {} already here were merged ({} new message(s) in all).",
            self.created, self.merged, self.events_added
        )
    }
}

/// A file as read: Confab's own export, or ChatGPT's.
pub fn parse(text: &str, now: f64) -> Result<ExportFile, ImportError> {
    let value: serde_json::Value =
        serde_json::from_str(text).map_err(|e| ImportError::NotJson(e.to_string()))?;
    if value.get("format").and_then(|f| f.as_str()) == Some(FORMAT) {
        let version = value.get("version").and_then(|v| v.as_u64()).unwrap_or(0) as u32;
        if version > VERSION {
            return Err(ImportError::NewerVersion(version));
        }
        // Parsed again from the text rather than from `value`, so that the
        // stored types keep a single deserializer (and one copy of its code).
        let file: ExportFile =
            serde_json::from_str(text).map_err(|e| ImportError::Invalid(e.to_string()))?;
        validate(&file)?;
        attachment_blobs(&file)?;
        return Ok(file);
    }
    if chatgpt::looks_like(&value) {
        return chatgpt::convert(&value, now);
    }
    Err(ImportError::Foreign)
}

fn validate(file: &ExportFile) -> Result<(), ImportError> {
    for item in &file.conversations {
        let session = &item.session;
        if session.id.trim().is_empty() {
            return Err(ImportError::Invalid(
                "a conversation has no session id".into(),
            ));
        }
        let mut ids = std::collections::HashSet::new();
        for event in &session.events {
            if event.id.is_empty() || !ids.insert(&event.id) {
                return Err(ImportError::Invalid(format!(
                    "session {} has a message without a unique id",
                    session.id
                )));
            }
        }
    }
    Ok(())
}

impl<S: SessionService, K: KvStore, C: Clock> SessionManager<S, K, C> {
    /// The user's conversations (all, or those in `only`) as an export file,
    /// without the bytes of their attachments (see
    /// [`Self::export_with_attachments`] and [`add_attachments`]).
    pub fn export(
        &mut self,
        user_id: &str,
        only: Option<&[String]>,
        now: f64,
    ) -> Result<ExportFile, ManagerError> {
        let mut conversations = Vec::new();
        for listing in self.listings(user_id)? {
            let id = &listing.summary.id;
            if only.is_some_and(|only| !only.contains(id)) {
                continue;
            }
            let session = self.service().get_session(
                self.app_name(),
                user_id,
                id,
                GetSessionConfig::default(),
            )?;
            let conversation = self.conversation(user_id, id)?;
            conversations.push(ExportedConversation {
                session,
                conversation: Some(conversation),
            });
        }
        Ok(ExportFile {
            format: FORMAT.into(),
            version: VERSION,
            exported_at: now,
            app_name: self.app_name().to_owned(),
            user_id: user_id.to_owned(),
            conversations,
            attachments: BTreeMap::new(),
        })
    }

    /// [`Self::export`] with the bytes of the conversations' attachments,
    /// read by `read`; those it cannot read are counted, not exported.
    pub fn export_with_attachments(
        &mut self,
        user_id: &str,
        only: Option<&[String]>,
        now: f64,
        read: &dyn Fn(&str) -> Option<Vec<u8>>,
    ) -> Result<Export, ManagerError> {
        let mut file = self.export(user_id, only, now)?;
        let unavailable = add_attachments(&mut file, read);
        Ok(Export { file, unavailable })
    }

    /// Imports a parsed file into `user_id`'s conversations: new sessions are
    /// created with their ids and events, existing ones gain the events they
    /// lack (by id), so importing twice adds nothing. All or nothing. The
    /// file's attachments ([`attachment_blobs`]) are stored by the caller
    /// first, so no conversation refers to bytes that are not there.
    pub fn import(
        &mut self,
        user_id: &str,
        file: &ExportFile,
    ) -> Result<ImportReport, ImportError> {
        Ok(self.atomically(|m| {
            let app = m.app_name().to_owned();
            let mut report = ImportReport::default();
            for item in &file.conversations {
                let mut incoming = item.session.clone();
                // Shared scopes stay with their owner; only session keys travel.
                incoming.state = session_keys(&incoming.state);
                for event in &mut incoming.events {
                    event.actions.state_delta = session_keys(&event.actions.state_delta);
                }
                let session = match m.service().get_session(
                    &app,
                    user_id,
                    &incoming.id,
                    GetSessionConfig::default(),
                ) {
                    Ok(mut stored) => {
                        report.merged += 1;
                        let mut missing: Vec<_> = incoming
                            .events
                            .iter()
                            .filter(|e| !stored.events.iter().any(|s| s.id == e.id))
                            .cloned()
                            .collect();
                        crate::order::sort_stable_by(&mut missing, |a, b| {
                            a.timestamp.total_cmp(&b.timestamp)
                        });
                        report.events_added += missing.len();
                        for event in missing {
                            m.service_mut().append_event(&mut stored, event)?;
                        }
                        stored
                    }
                    Err(SessionError::NotFound { .. }) => {
                        report.created += 1;
                        report.events_added += incoming.events.len();
                        m.service_mut().create_session(CreateSession {
                            state: Some(incoming.state.clone()),
                            session_id: Some(incoming.id.clone()),
                            events: incoming.events.clone(),
                            ..CreateSession::new(&app, user_id)
                        })?
                    }
                    Err(error) => return Err(error.into()),
                };
                let ours = m.stored_conversation(user_id, &session.id)?;
                let mut conversation = match (&item.conversation, ours) {
                    (Some(theirs), Some(ours)) => merge_conversations(ours, theirs),
                    (Some(theirs), None) => theirs.clone(),
                    (None, Some(ours)) => ours,
                    (None, None) => m.adopt(&session),
                };
                conversation.app_name = app.clone();
                conversation.user_id = user_id.to_owned();
                conversation.session_id = session.id.clone();
                m.save_conversation(&conversation)?;
                let status = upserted(m.status(user_id, &session.id)?, &conversation);
                m.save_status(user_id, &status)?;
            }
            Ok(report)
        })?)
    }
}

/// The status of an imported conversation: the one it had (gaining the
/// imported ending, if it had none), or the record's.
fn upserted(
    existing: Option<ConversationStatus>,
    conversation: &Conversation,
) -> ConversationStatus {
    let status = conversation.status();
    match existing {
        Some(mut existing) => {
            if existing.ended.is_none() {
                existing.ended = status.ended;
            }
            existing
        }
        None => status,
    }
}

/// Session state keys an export may carry (helper for tests and callers).
pub fn session_keys(state: &State) -> State {
    let mut kept = state.clone();
    kept.retain(|k, _| !k.starts_with(APP_PREFIX) && !k.starts_with(USER_PREFIX));
    kept
}

impl From<SessionError> for ImportError {
    fn from(error: SessionError) -> Self {
        Self::Failed(error.into())
    }
}
