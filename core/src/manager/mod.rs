//! The session manager of the seed document, persisted: one current session
//! per user, a conversation id per conversation, the query log and count, a
//! trace per conversation with a span per query, feedback, ending, expiry
//! and retention. It sits on a [`SessionService`] and keeps its own records
//! in the same key-value store.
//!
//! Every public operation that writes more than one key is one function
//! whose body runs inside `SessionManager::atomically`, so it is
//! all-or-nothing over the store (`enter` and `settle_drafts` run such
//! operations one after another; one calling another joins its group).
//! By topic:
//!
//! - records.rs: what is kept per conversation and per user (the stored
//!   format); persist.rs: reading and writing it, a session without a
//!   record adopted;
//! - lifecycle.rs: the current session, new and switched to, ended by the
//!   user or by expiry, deleted by the user or by retention;
//!   listings.rs: the sidebar's entries, and `enter`, the startup steps;
//! - calls.rs: a query and the model or agent calls answering it (their
//!   spans built by [`crate::telemetry::genai`]), ratings of replies;
//! - labels.rs: titles, pins and a conversation's own options;
//! - drafts.rs: replies still streaming; fork.rs: branching.

mod calls;
mod drafts;
mod fork;
mod labels;
mod lifecycle;
mod listings;
mod persist;
mod records;
#[cfg(test)]
pub(crate) mod tests;

pub use calls::{CallResult, CallStart, QueryStart};
pub use drafts::*;
pub use fork::Branch;
pub use listings::{Listing, place_listing};
pub use records::*;

use thiserror::Error;

use crate::clock::Clock;
use crate::session::{SessionError, SessionService};
use crate::storage::{KvError, KvStore, ParseMemo, Quarantined};
use crate::telemetry::Span;

/// Expiry and cleanup limits, in seconds.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Limits {
    /// A conversation idle this long is ended as `expired`.
    pub idle: f64,
    /// A conversation older than this is ended as `expired`.
    pub max_duration: f64,
    /// Ended conversations older than this are deleted; `None` keeps them.
    pub retention: Option<f64>,
}

impl Limits {
    /// A week of silence ends a conversation...
    pub const DEFAULT_IDLE_MINUTES: u32 = 7 * 24 * 60;
    /// ...and so does a month of age.
    pub const DEFAULT_MAX_HOURS: u32 = 30 * 24;

    /// Limits given in the units a person sets them in: minutes idle, hours
    /// of age, days an ended conversation is kept (`None`: for ever).
    pub fn new(idle_minutes: u32, max_duration_hours: u32, retention_days: Option<u32>) -> Self {
        Self {
            idle: f64::from(idle_minutes) * 60.0,
            max_duration: f64::from(max_duration_hours) * 3_600.0,
            retention: retention_days.map(|d| f64::from(d) * 86_400.0),
        }
    }
}

impl Default for Limits {
    /// A week of silence or a month of age ends a conversation; nothing is
    /// ever deleted unless the user sets a retention limit.
    fn default() -> Self {
        Self::new(Self::DEFAULT_IDLE_MINUTES, Self::DEFAULT_MAX_HOURS, None)
    }
}

#[derive(Clone, Debug, Error, PartialEq)]
pub enum ManagerError {
    #[error(transparent)]
    Session(#[from] SessionError),
    #[error("this conversation has ended; send a message to start a new one")]
    Ended,
    #[error("there is no query to answer in this conversation")]
    NoQuery,
    #[error("the reply {0} is not in this conversation")]
    UnknownReply(String),
    #[error("the message {0} is not one of yours in this conversation, so it cannot be edited")]
    UnknownMessage(String),
}

impl From<KvError> for ManagerError {
    fn from(error: KvError) -> Self {
        Self::Session(error.into())
    }
}

pub struct SessionManager<S: SessionService, K: KvStore, C: Clock> {
    service: S,
    kv: K,
    clock: C,
    app_name: String,
    limits: Limits,
    /// Finished spans not yet handed to the exporter.
    outbox: Vec<Span>,
    /// Manager records found unreadable and moved aside.
    quarantined: std::cell::RefCell<Vec<Quarantined>>,
    /// The records read last, parsed: an operation re-reads the user record
    /// (and often the open conversation's) several times.
    parsed: ParseMemo,
}

/// Records whose parsed value is kept (the user record, the open
/// conversation's, and a few more as conversations are switched).
const PARSED_RECORDS: usize = 4;

impl<S: SessionService, K: KvStore, C: Clock> SessionManager<S, K, C> {
    pub fn new(service: S, kv: K, clock: C, app_name: &str, limits: Limits) -> Self {
        Self {
            service,
            kv,
            clock,
            app_name: app_name.to_owned(),
            limits,
            outbox: Vec::new(),
            quarantined: Default::default(),
            parsed: ParseMemo::new(PARSED_RECORDS),
        }
    }

    pub fn app_name(&self) -> &str {
        &self.app_name
    }

    pub fn service(&self) -> &S {
        &self.service
    }

    pub fn service_mut(&mut self) -> &mut S {
        &mut self.service
    }

    pub fn set_limits(&mut self, limits: Limits) {
        self.limits = limits;
    }

    /// Finished spans since the last call, for export.
    pub fn take_finished_spans(&mut self) -> Vec<Span> {
        std::mem::take(&mut self.outbox)
    }

    /// Runs `operation` all-or-nothing over the store (see
    /// [`crate::storage::Journaled`]): a full quota halfway leaves nothing
    /// half-written, and spans of a failed operation are never exported.
    /// Operations run inside one another join the outermost one.
    pub(crate) fn atomically<R>(
        &mut self,
        operation: impl FnOnce(&mut Self) -> Result<R, ManagerError>,
    ) -> Result<R, ManagerError> {
        let exported = self.outbox.len();
        self.kv.begin();
        let result = operation(self);
        self.settle_group(exported, result.is_ok());
        result
    }

    /// Ends the group `atomically` began: kept, or undone with the spans
    /// it would have exported. Not inlined: every operation's copy of
    /// `atomically` calls this one.
    #[inline(never)]
    fn settle_group(&mut self, exported: usize, kept: bool) {
        if kept {
            self.kv.commit();
        } else {
            self.kv.rollback();
            self.outbox.truncate(exported);
        }
    }
}
