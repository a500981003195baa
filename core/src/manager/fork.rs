//! Branching a conversation: editing a sent message and sending it again
//! makes a new session that starts with the events before that message, the
//! way ADK branches (a session is never rewritten). Both conversations are
//! kept, and each record says where the other one branched.

use serde::{Deserialize, Serialize};
use serde_json::json;

use super::{ManagerError, SessionManager, status_of};
use crate::clock::Clock;
use crate::session::{CreateSession, ScopedState, Session, SessionService, State};
use crate::storage::KvStore;

/// One end of a branch: the other conversation, and the user message at
/// which they part (in the original: the message that was edited).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Branch {
    pub session_id: String,
    pub event_id: String,
    /// When the branch was made (seconds).
    pub at: f64,
}

impl<S: SessionService, K: KvStore, C: Clock> SessionManager<S, K, C> {
    /// Branches `session_id` at the user message `event_id`: a new session
    /// with every event before it (and the session state they left), made
    /// the user's current one. The caller then sends the edited message in
    /// it. The original stays as it is, with a link to the branch.
    pub fn branch_at(
        &mut self,
        user_id: &str,
        session_id: &str,
        event_id: &str,
    ) -> Result<Session, ManagerError> {
        self.atomically(|m| m.branch_at_inner(user_id, session_id, event_id))
    }

    fn branch_at_inner(
        &mut self,
        user_id: &str,
        session_id: &str,
        event_id: &str,
    ) -> Result<Session, ManagerError> {
        let original = self.get_session(user_id, session_id)?;
        let at = original
            .events
            .iter()
            .position(|e| e.id == event_id && e.is_from_user())
            .ok_or_else(|| ManagerError::UnknownMessage(event_id.to_owned()))?;
        let events = original.events[..at].to_vec();
        // The session's own state as those events left it; `app:` and
        // `user:` state is shared and stays where it is.
        let mut state = State::new();
        for event in &events {
            state.extend(ScopedState::split(&event.actions.state_delta).session);
        }
        state.insert(
            "conversation_id".into(),
            json!(super::new_conversation_id()),
        );
        let branch = self.service.create_session(CreateSession {
            state: Some(state),
            events,
            ..CreateSession::new(&self.app_name, user_id)
        })?;

        let now = self.clock.now();
        let mut record = self.adopt(&branch);
        record.started_at = now;
        record.branched_from = Some(Branch {
            session_id: session_id.to_owned(),
            event_id: event_id.to_owned(),
            at: now,
        });
        self.put_conversation(&record)?;
        let mut parent = self.conversation_inner(user_id, session_id)?;
        parent.branches.push(Branch {
            session_id: branch.id.clone(),
            event_id: event_id.to_owned(),
            at: now,
        });
        self.put_conversation(&parent)?;
        let mut user = self.user_record(user_id)?;
        user.conversations.push(status_of(&record));
        user.current = Some(branch.id.clone());
        self.put_user_record(user_id, &user)?;
        Ok(branch)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::ManualClock;
    use crate::manager::{CallResult, Limits};
    use crate::session::{GetSessionConfig, KvSessionService, MessageStatus};
    use crate::storage::MemoryKv;

    type Manager<'a> =
        SessionManager<KvSessionService<&'a MemoryKv, ManualClock>, &'a MemoryKv, ManualClock>;

    fn manager<'a>(kv: &'a MemoryKv, clock: &ManualClock) -> Manager<'a> {
        SessionManager::new(
            KvSessionService::new(kv, clock.clone()),
            kv,
            clock.clone(),
            "confab",
            Limits::default(),
        )
    }

    fn exchange(m: &mut Manager, clock: &ManualClock, text: &str) {
        clock.advance(1.0);
        let query = m.begin_query("ada", text).unwrap();
        let call = m.begin_call("ada", &query.session.id, None).unwrap();
        clock.advance(1.0);
        m.finish_call(
            "ada",
            &call,
            CallResult {
                text: format!("reply to {text}"),
                status: MessageStatus::Complete,
                ..CallResult::default()
            },
        )
        .unwrap();
    }

    fn texts(session: &Session) -> Vec<String> {
        session.events.iter().map(|e| e.text_content()).collect()
    }

    #[test]
    fn a_branch_starts_with_the_events_before_the_edited_message_and_both_are_linked() {
        let kv = MemoryKv::new();
        let clock = ManualClock::at(1_000.0);
        let mut m = manager(&kv, &clock);
        for text in ["one", "two", "three"] {
            exchange(&mut m, &clock, text);
        }
        let original_id = m.current_session_id("ada").unwrap().unwrap();
        let original = m
            .service()
            .get_session("confab", "ada", &original_id, GetSessionConfig::default())
            .unwrap();
        let edited = original.events[2].clone();
        assert_eq!(edited.text_content(), "two");

        let branch = m.branch_at("ada", &original_id, &edited.id).unwrap();
        assert_ne!(branch.id, original_id);
        assert_eq!(texts(&branch), ["one", "reply to one"]);
        assert_eq!(branch.state.get("query_count"), Some(&json!(1)));
        assert_ne!(
            branch.state.get("conversation_id"),
            original.state.get("conversation_id"),
            "a conversation of its own"
        );
        assert_eq!(
            m.current_session_id("ada").unwrap(),
            Some(branch.id.clone())
        );

        // The edited message goes into the branch.
        clock.advance(1.0);
        let query = m.begin_query("ada", "two, edited").unwrap();
        assert_eq!(query.session.id, branch.id);
        assert_eq!(query.number, 2);

        let record = m.conversation("ada", &branch.id).unwrap();
        assert_eq!(
            record
                .branched_from
                .as_ref()
                .map(|b| (b.session_id.as_str(), b.event_id.as_str())),
            Some((original_id.as_str(), edited.id.as_str()))
        );
        assert_eq!(
            record.query_count(),
            2,
            "the copied query and the edited one"
        );
        let parent = m.conversation("ada", &original_id).unwrap();
        assert_eq!(parent.branches.len(), 1);
        assert_eq!(parent.branches[0].session_id, branch.id);
        assert_eq!(parent.branches[0].event_id, edited.id);

        // The original is whole, and both are listed.
        let original_after = m
            .service()
            .get_session("confab", "ada", &original_id, GetSessionConfig::default())
            .unwrap();
        assert_eq!(original_after.events, original.events);
        let listed: Vec<String> = m
            .listings("ada")
            .unwrap()
            .into_iter()
            .map(|l| l.summary.id)
            .collect();
        assert!(
            listed.contains(&original_id) && listed.contains(&branch.id),
            "{listed:?}"
        );
    }

    #[test]
    fn branching_at_the_first_message_starts_empty() {
        let kv = MemoryKv::new();
        let clock = ManualClock::at(1_000.0);
        let mut m = manager(&kv, &clock);
        exchange(&mut m, &clock, "only");
        let id = m.current_session_id("ada").unwrap().unwrap();
        let first = m
            .service()
            .get_session("confab", "ada", &id, GetSessionConfig::default())
            .unwrap()
            .events[0]
            .id
            .clone();
        let branch = m.branch_at("ada", &id, &first).unwrap();
        assert!(branch.events.is_empty());
    }

    #[test]
    fn only_a_user_message_of_the_conversation_can_be_edited() {
        let kv = MemoryKv::new();
        let clock = ManualClock::at(1_000.0);
        let mut m = manager(&kv, &clock);
        exchange(&mut m, &clock, "hello");
        let id = m.current_session_id("ada").unwrap().unwrap();
        let session = m
            .service()
            .get_session("confab", "ada", &id, GetSessionConfig::default())
            .unwrap();
        let reply = session.events[1].id.clone();
        let snapshot = || {
            let mut keys = kv.keys().unwrap();
            keys.sort();
            keys.into_iter()
                .map(|k| (k.clone(), kv.get(&k).unwrap()))
                .collect::<Vec<_>>()
        };
        let before = snapshot();
        for event in [reply.as_str(), "no-such-event"] {
            assert_eq!(
                m.branch_at("ada", &id, event),
                Err(ManagerError::UnknownMessage(event.to_owned()))
            );
        }
        assert_eq!(snapshot(), before, "nothing written");
    }
}
