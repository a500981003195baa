//! What the app tells the user outside any one message (an entry moved
//! aside, an action that failed, a session rebuilt), as data: the UI shows
//! its text and marks its kind, and tests name the kind they expect.

use thiserror::Error;

use crate::manager::ManagerError;
use crate::profiles::ProfileError;
use crate::storage::{KvError, Quarantined};

/// One thing the user should know. Its text says what happened and what
/// to do.
#[derive(Clone, Debug, Error, PartialEq)]
pub enum Notice {
    #[error("Your stored conversations were upgraded from storage format {from} to {to}.")]
    Upgraded { from: u32, to: u32 },
    #[error("{0}")]
    SetAside(Quarantined),
    #[error("{0}")]
    Storage(KvError),
    #[error("{0}")]
    Failed(ManagerError),
    #[error("{0}")]
    Profiles(ProfileError),
    #[error("The reply is shown but could not be saved yet: {0}")]
    ReplyNotSavedYet(ManagerError),
    #[error("The conversation could not be renamed: {0}. Try again.")]
    RenameFailed(ManagerError),
    #[error("The conversation could not be {}: {error}. Try again.", if *.pinned { "pinned" } else { "unpinned" })]
    PinFailed { pinned: bool, error: ManagerError },
    #[error("The export could not be downloaded: {0}")]
    DownloadFailed(String),
    #[error(
        "The agent server had lost this conversation (it was probably restarted), so Confab restored it with its {events} earlier events and sent your message again."
    )]
    AgentSessionRestored { events: usize },
    /// A backup made without the attachments whose bytes are gone from
    /// this browser (their references are in it, the bytes are not).
    #[error(
        "{} unavailable and {} not in the backup (their bytes are gone from this browser); the rest was exported.",
        count_of(*unavailable), if *unavailable == 1 { "is" } else { "are" }
    )]
    ExportedWithoutAttachments { unavailable: usize },
    #[error("{0}")]
    NotNow(NotNow),
    /// Code the split build fetches on first use did not arrive.
    #[error(
        "The {0} could not be loaded (its code is fetched when first used): check the connection, then try again."
    )]
    PartUnavailable(&'static str),
    /// The stored conversations have not loaded: IndexedDB has not
    /// answered (another tab holding it, or a browser in trouble).
    #[error(
        "Your conversations have not loaded after {0} s: the browser's IndexedDB has not answered. Nothing is lost; a message you send waits for them. If this goes on, close other Confab tabs, then reload."
    )]
    StillLoading(u32),
}

/// `1 attachment was`, `2 attachments were`.
fn count_of(attachments: usize) -> String {
    match attachments {
        1 => "1 attachment was".to_owned(),
        n => format!("{n} attachments were"),
    }
}

/// An action refused for now, and what to do first.
#[derive(Clone, Copy, Debug, Error, PartialEq, Eq)]
pub enum NotNow {
    #[error("Stop the reply before deleting its conversation.")]
    DeleteWhileReplying,
    #[error("This conversation is still receiving a reply: stop it (Esc), then delete.")]
    DeleteWithUndoWhileReplying,
    #[error("Wait for the reply to finish (or stop it) before switching profiles.")]
    SwitchProfileWhileReplying,
    #[error("Send a first message, then choose this conversation's options.")]
    OptionsBeforeFirstMessage,
    #[error("This browser cannot cancel requests (no AbortController).")]
    NoAbortController,
}

impl Notice {
    /// A stable name of the kind, for the page (`data-notice`) and tests.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Upgraded { .. } => "upgraded",
            Self::SetAside(_) => "set-aside",
            Self::Storage(_) => "storage",
            Self::Failed(_) => "failed",
            Self::Profiles(_) => "profiles",
            Self::ReplyNotSavedYet(_) => "reply-not-saved",
            Self::RenameFailed(_) => "rename-failed",
            Self::PinFailed { .. } => "pin-failed",
            Self::DownloadFailed(_) => "download-failed",
            Self::AgentSessionRestored { .. } => "agent-session-restored",
            Self::ExportedWithoutAttachments { .. } => "export-incomplete",
            Self::NotNow(_) => "not-now",
            Self::PartUnavailable(_) => "part-unavailable",
            Self::StillLoading(_) => "still-loading",
        }
    }
}

impl From<ManagerError> for Notice {
    fn from(error: ManagerError) -> Self {
        Self::Failed(error)
    }
}

impl From<KvError> for Notice {
    fn from(error: KvError) -> Self {
        Self::Storage(error)
    }
}

impl From<ProfileError> for Notice {
    fn from(error: ProfileError) -> Self {
        Self::Profiles(error)
    }
}

impl From<Quarantined> for Notice {
    fn from(entry: Quarantined) -> Self {
        Self::SetAside(entry)
    }
}

impl From<NotNow> for Notice {
    fn from(refusal: NotNow) -> Self {
        Self::NotNow(refusal)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_notice_says_what_happened_and_names_its_kind() {
        let cases: Vec<(Notice, &str, &str)> = vec![
            (
                Notice::Upgraded { from: 1, to: 3 },
                "upgraded",
                "Your stored conversations were upgraded from storage format 1 to 3.",
            ),
            (
                Notice::PartUnavailable("agent mode"),
                "part-unavailable",
                "The agent mode could not be loaded (its code is fetched when first used): check the connection, then try again.",
            ),
            (
                Notice::AgentSessionRestored { events: 4 },
                "agent-session-restored",
                "restored it with its 4 earlier events and sent your message again.",
            ),
            (
                Notice::PinFailed {
                    pinned: false,
                    error: ManagerError::Ended,
                },
                "pin-failed",
                "The conversation could not be unpinned: this conversation has ended; send a message to start a new one. Try again.",
            ),
            (
                Notice::StillLoading(8),
                "still-loading",
                "Your conversations have not loaded after 8 s: the browser's IndexedDB has not answered. Nothing is lost; a message you send waits for them. If this goes on, close other Confab tabs, then reload.",
            ),
            (
                KvError::NotLoaded("the page has just opened".into()).into(),
                "storage",
                "your conversations are still loading (the page has just opened); try again in a moment",
            ),
            (
                NotNow::SwitchProfileWhileReplying.into(),
                "not-now",
                "Wait for the reply to finish (or stop it) before switching profiles.",
            ),
            (
                ManagerError::NoQuery.into(),
                "failed",
                "there is no query to answer in this conversation",
            ),
            (
                Notice::ExportedWithoutAttachments { unavailable: 2 },
                "export-incomplete",
                "2 attachments were unavailable and are not in the backup (their bytes are gone from this browser); the rest was exported.",
            ),
            (
                Notice::ExportedWithoutAttachments { unavailable: 1 },
                "export-incomplete",
                "1 attachment was unavailable and is not in the backup (their bytes are gone from this browser); the rest was exported.",
            ),
            (
                Notice::DownloadFailed("blocked".into()),
                "download-failed",
                "The export could not be downloaded: blocked",
            ),
        ];
        for (notice, kind, text) in cases {
            assert_eq!(notice.kind(), kind);
            assert!(notice.to_string().ends_with(text), "{notice}");
        }
    }

    #[test]
    fn the_same_notice_twice_is_equal_so_it_is_shown_once() {
        let a = Notice::Failed(ManagerError::UnknownReply("e1".into()));
        assert_eq!(a, Notice::Failed(ManagerError::UnknownReply("e1".into())));
        assert_ne!(a, Notice::Failed(ManagerError::UnknownReply("e2".into())));
    }
}
