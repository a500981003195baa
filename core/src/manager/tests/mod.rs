//! The manager's tests, by topic (one file per module of the manager), and
//! the helpers they share (also used by the merge tests in `sync`).

mod calls;
mod drafts;
mod fork;
mod labels;
mod lifecycle;
mod listings;
mod persist;
mod scale;

use serde_json::json;

use super::*;
use crate::clock::ManualClock;
use crate::session::{
    CreateSession, Event, GetSessionConfig, InMemorySessionService, KvSessionService,
    MessageStatus, Session, SessionError, new_id,
};
use crate::storage::{MemoryKv, keys};
use crate::telemetry::{AttrValue, SpanKind, SpanStatus, TokenUsage, attr};

const HOUR: f64 = 3_600.0;
pub(crate) type Manager<'a> =
    SessionManager<KvSessionService<&'a MemoryKv, ManualClock>, &'a MemoryKv, ManualClock>;

pub(crate) fn manager<'a>(kv: &'a MemoryKv, clock: &ManualClock, limits: Limits) -> Manager<'a> {
    SessionManager::new(
        KvSessionService::new(kv, clock.clone()),
        kv,
        clock.clone(),
        "confab",
        limits,
    )
}

/// The stored session `id` of `user`, read back through the service.
fn stored<S: SessionService, K: KvStore, C: Clock>(
    m: &SessionManager<S, K, C>,
    user: &str,
    id: &str,
) -> Session {
    m.service()
        .get_session("confab", user, id, GetSessionConfig::default())
        .unwrap()
}

pub(crate) fn limits() -> Limits {
    Limits {
        idle: HOUR,
        max_duration: 24.0 * HOUR,
        retention: None,
    }
}

/// Every key in `kv` and its value, by key.
fn snapshot(kv: &MemoryKv) -> Vec<(String, Option<String>)> {
    let mut keys = kv.keys().unwrap();
    keys.sort();
    keys.into_iter()
        .map(|k| (k.clone(), kv.get(&k).unwrap()))
        .collect()
}

/// A full exchange: the user's query and a complete reply.
pub(crate) fn exchange(
    m: &mut Manager,
    clock: &ManualClock,
    user: &str,
    text: &str,
    reply: &str,
) -> (QueryStart, Event) {
    let query = m.begin_query(user, text).unwrap();
    clock.advance(0.5);
    let call = m.begin_call(user, &query.session.id, None).unwrap();
    clock.advance(0.2);
    let first_token_at = clock.now();
    clock.advance(1.0);
    let event = m
        .finish_call(
            user,
            &call,
            CallResult {
                agent_events: Vec::new(),
                event_id: new_id(),
                text: reply.into(),
                status: MessageStatus::Complete,
                response_model: Some("confab-echo".into()),
                first_token_at: Some(first_token_at),
                usage: Some(TokenUsage {
                    input: 7,
                    output: 5,
                    reasoning: Some(3),
                }),
                finish_reason: Some("stop".into()),
                ..CallResult::default()
            },
        )
        .unwrap();
    (query, event)
}

/// A conversation's own options, each one set.
pub(crate) fn own_options() -> ConversationOptions {
    ConversationOptions {
        model: Some("gpt-x".into()),
        temperature: Some(0.3),
        system_prompt: Some("Be terse.".into()),
        agent_app: Some("history_agent".into()),
        agent_session_id: Some("server-1".into()),
    }
}
