//! ADK-style sessions: the data model, the service contract, and backends.

mod kv;
mod memory;
mod model;
mod service;
pub mod state;

#[cfg(any(test, feature = "contract"))]
pub mod contract;

pub use kv::KvSessionService;
pub use memory::InMemorySessionService;
pub use model::{
    Content, Event, EventActions, MessageStatus, Part, Session, SessionSummary, State, USER_AUTHOR,
    new_id,
};
pub use service::{CreateSession, GetSessionConfig, SessionError, SessionService};
pub use state::{APP_PREFIX, ScopedState, TEMP_PREFIX, USER_PREFIX};

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::SteppingClock;
    use crate::storage::{KvError, KvStore, MemoryKv, keys};

    mod in_memory {
        use super::*;
        crate::session_contract_tests!(
            #[test],
            InMemorySessionService::new(SteppingClock::new(1_000.0, 1.0))
        );
    }

    mod over_key_value_store {
        use super::*;
        crate::session_contract_tests!(
            #[test],
            KvSessionService::new(MemoryKv::new(), SteppingClock::new(1_000.0, 1.0))
        );
    }

    fn kv_service(kv: &MemoryKv) -> KvSessionService<&MemoryKv, SteppingClock> {
        KvSessionService::new(kv, SteppingClock::new(1_000.0, 1.0))
    }

    #[test]
    fn everything_is_stored_under_the_namespace() {
        let kv = MemoryKv::new();
        let mut service = kv_service(&kv);
        let mut session = service
            .create_session(CreateSession::new("confab", "local"))
            .unwrap();
        let event = Event::text("user", "i", 2_000.0, "hi");
        service.append_event(&mut session, event).unwrap();
        let stored = kv.keys().unwrap();
        assert_eq!(
            stored.len(),
            2,
            "one index and one session body: {stored:?}"
        );
        assert!(stored.iter().all(|k| k.starts_with(keys::PREFIX)));
        assert!(stored.contains(&keys::session("confab", "local", &session.id)));
    }

    #[test]
    fn a_full_store_refuses_the_event_and_keeps_what_was_saved() {
        let kv = MemoryKv::with_quota(2_000);
        let mut service = kv_service(&kv);
        let mut session = service
            .create_session(CreateSession::new("confab", "local"))
            .unwrap();
        let small = Event::text("user", "i", 2_000.0, "short");
        service.append_event(&mut session, small).unwrap();
        let before = session.clone();
        let huge = Event::text("user", "i", 2_001.0, &"x".repeat(5_000));
        let result = service.append_event(&mut session, huge);
        assert!(
            matches!(
                result,
                Err(SessionError::Storage(KvError::QuotaExceeded { .. }))
            ),
            "expected QuotaExceeded, got {result:?}"
        );
        assert_eq!(session, before, "the caller's copy is unchanged");
        let stored = service
            .get_session("confab", "local", &session.id, GetSessionConfig::default())
            .unwrap();
        assert_eq!(stored, before, "the stored copy is unchanged");
        // Once there is room again, the same session takes new events.
        let next = Event::text("user", "i", 2_002.0, "after");
        service.append_event(&mut session, next).unwrap();
    }

    #[test]
    fn a_corrupt_session_body_is_reported_not_panicked_on() {
        let kv = MemoryKv::new();
        let mut service = kv_service(&kv);
        let session = service
            .create_session(CreateSession::new("confab", "local"))
            .unwrap();
        let key = keys::session("confab", "local", &session.id);
        kv.set(&key, "{not json").unwrap();
        let result =
            service.get_session("confab", "local", &session.id, GetSessionConfig::default());
        assert!(
            matches!(result, Err(SessionError::Corrupt { key: ref k, .. }) if *k == key),
            "got {result:?}"
        );
        assert_eq!(kv.get(&key).unwrap().as_deref(), Some("{not json"));
        // The index still lists it, and other sessions are unaffected.
        assert_eq!(service.list_sessions("confab", "local").unwrap().len(), 1);
        service
            .create_session(CreateSession::new("confab", "local"))
            .unwrap();
    }

    #[test]
    fn a_corrupt_index_is_reported_and_left_alone() {
        let kv = MemoryKv::new();
        kv.set(keys::INDEX, "garbage").unwrap();
        let mut service = kv_service(&kv);
        assert!(matches!(
            service.list_sessions("confab", "local"),
            Err(SessionError::Corrupt { .. })
        ));
        assert!(matches!(
            service.create_session(CreateSession::new("confab", "local")),
            Err(SessionError::Corrupt { .. })
        ));
        assert_eq!(
            kv.keys().unwrap(),
            [keys::INDEX],
            "nothing else was written"
        );
        assert_eq!(kv.get(keys::INDEX).unwrap().as_deref(), Some("garbage"));
    }

    #[test]
    fn a_store_from_a_newer_version_is_left_untouched() {
        let kv = MemoryKv::new();
        let newer = r#"{"schema":99,"sessions":[]}"#;
        kv.set(keys::INDEX, newer).unwrap();
        let mut service = kv_service(&kv);
        assert_eq!(
            service.list_sessions("confab", "local"),
            Err(SessionError::UnsupportedSchema {
                found: 99,
                supported: keys::SCHEMA_VERSION
            })
        );
        assert!(
            service
                .create_session(CreateSession::new("confab", "local"))
                .is_err()
        );
        assert_eq!(kv.get(keys::INDEX).unwrap().as_deref(), Some(newer));
        assert_eq!(kv.keys().unwrap().len(), 1);
    }

    #[test]
    fn sessions_survive_a_new_service_over_the_same_store() {
        let kv = MemoryKv::new();
        let mut session = {
            let mut service = kv_service(&kv);
            let mut session = service
                .create_session(CreateSession::new("confab", "local"))
                .unwrap();
            let event = Event::text("user", "i", 2_000.0, "remember me");
            service.append_event(&mut session, event).unwrap();
            session
        };
        // A "reload": a new service over the same storage.
        let mut service = kv_service(&kv);
        let list = service.list_sessions("confab", "local").unwrap();
        assert_eq!(list[0].title.as_deref(), Some("remember me"));
        let loaded = service
            .get_session("confab", "local", &session.id, GetSessionConfig::default())
            .unwrap();
        assert_eq!(loaded, session);
        let event = Event::text("model", "i", 2_001.0, "I do");
        service.append_event(&mut session, event).unwrap();
    }
}
