//! ADK-style sessions: the data model, the service contract, and backends.

mod attachment;
pub mod index;
mod kv;
mod memory;
mod model;
mod service;
pub mod state;
mod title;

#[cfg(any(test, feature = "contract"))]
pub mod contract;

pub use attachment::{ATTACHMENT_PART, AttachmentRef, TablePreview};
pub use kv::KvSessionService;
pub use memory::InMemorySessionService;
pub use model::{
    Content, Event, EventActions, IMPORTED_TITLE, MessageStatus, Part, Reasoning, Session,
    SessionSummary, State, USER_AUTHOR, new_id,
};
pub use service::{CreateSession, GetSessionConfig, SessionError, SessionService};
pub use state::{APP_PREFIX, ScopedState, TEMP_PREFIX, USER_PREFIX};
pub use title::title_of;

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

    /// The ids of the sessions `service` lists for confab/local, newest first.
    fn listed_ids(service: &impl SessionService) -> Vec<String> {
        service
            .list_sessions("confab", "local")
            .unwrap()
            .into_iter()
            .map(|s| s.id)
            .collect()
    }

    /// A service over `kv` with one session holding one message, `text`.
    fn with_one_message<'a>(
        kv: &'a MemoryKv,
        text: &str,
    ) -> (KvSessionService<&'a MemoryKv, SteppingClock>, Session) {
        let mut service = kv_service(kv);
        let mut session = service
            .create_session(CreateSession::new("confab", "local"))
            .unwrap();
        let event = Event::text("user", "i", 2_000.0, text);
        service.append_event(&mut session, event).unwrap();
        (service, session)
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
            stored,
            [
                keys::index_entry("confab", "local", &session.id),
                keys::META.to_owned(),
                keys::session("confab", "local", &session.id)
            ],
            "meta, the session's index entry and its body"
        );
        assert_eq!(
            kv.get(keys::META).unwrap().as_deref(),
            Some(format!("{{\"schema\":{}}}", keys::SCHEMA_VERSION).as_str())
        );
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
        let huge = Event::text(
            "user",
            "i",
            2_001.0,
            &crate::storage::packed::incompressible(5_000),
        );
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
    fn a_corrupt_session_body_is_moved_aside_and_the_rest_works() {
        let kv = MemoryKv::new();
        let mut service = kv_service(&kv);
        let broken = service
            .create_session(CreateSession::new("confab", "local"))
            .unwrap();
        let fine = service
            .create_session(CreateSession::new("confab", "local"))
            .unwrap();
        let key = keys::session("confab", "local", &broken.id);
        kv.set(&key, "{not json").unwrap();
        let result =
            service.get_session("confab", "local", &broken.id, GetSessionConfig::default());
        assert!(
            matches!(result, Err(SessionError::Corrupt { key: ref k, .. }) if *k == key),
            "got {result:?}"
        );
        let reports = service.take_quarantined();
        assert_eq!(reports.len(), 1);
        let moved_to = reports[0].moved_to.clone().unwrap();
        assert_eq!(kv.get(&moved_to).unwrap().as_deref(), Some("{not json"));
        assert_eq!(kv.get(&key).unwrap(), None);
        // The index no longer lists it; the other session is untouched.
        assert_eq!(listed_ids(&service), vec![fine.id.clone()]);
        service
            .get_session("confab", "local", &fine.id, GetSessionConfig::default())
            .unwrap();
    }

    #[test]
    fn a_corrupt_index_entry_is_moved_aside_and_made_anew_from_its_session() {
        let kv = MemoryKv::new();
        let (mut service, session) = with_one_message(&kv, "still here");
        let other = service
            .create_session(CreateSession::new("confab", "local"))
            .unwrap();
        let entry = keys::index_entry("confab", "local", &session.id);
        let intact = kv.get(&entry).unwrap().unwrap();
        kv.set(&entry, "{half").unwrap();

        let list = service.list_sessions("confab", "local").unwrap();
        assert_eq!(list.len(), 2, "both listed");
        let reports = service.take_quarantined();
        assert_eq!(reports.len(), 1);
        assert_eq!(reports[0].key, entry);
        let moved_to = reports[0].moved_to.clone().unwrap();
        assert_eq!(kv.get(&moved_to).unwrap().as_deref(), Some("{half"));
        assert_eq!(kv.get(&entry).unwrap(), Some(intact), "made anew");

        // An entry that names another conversation is not believed either.
        let key = keys::index_entry("confab", "local", &other.id);
        kv.set(&key, &kv.get(&entry).unwrap().unwrap()).unwrap();
        service
            .get_session("confab", "local", &other.id, GetSessionConfig::default())
            .unwrap();
        assert_eq!(service.take_quarantined()[0].key, key);
        let listed = listed_ids(&service);
        assert!(listed.contains(&other.id) && listed.contains(&session.id));
    }

    #[test]
    fn an_unreadable_index_left_by_the_upgrade_is_moved_aside_and_the_sessions_listed() {
        let kv = MemoryKv::new();
        let (mut service, session) = with_one_message(&kv, "still here");
        // As the migration to format 5 leaves an index it could not read,
        // with an entry lost.
        kv.remove(&keys::index_entry("confab", "local", &session.id))
            .unwrap();
        kv.set(keys::INDEX, "garbage").unwrap();

        let list = service.list_sessions("confab", "local").unwrap();
        assert_eq!(list.len(), 1);
        assert_eq!(list[0].title.as_deref(), Some("still here"));
        let reports = service.take_quarantined();
        assert_eq!(reports[0].key, keys::INDEX);
        let moved_to = reports[0].moved_to.clone().unwrap();
        assert_eq!(kv.get(&moved_to).unwrap().as_deref(), Some("garbage"));
        service
            .create_session(CreateSession::new("confab", "local"))
            .unwrap();
    }

    #[test]
    fn a_store_from_a_newer_version_is_left_untouched() {
        let kv = MemoryKv::new();
        kv.set(keys::META, r#"{"schema":99}"#).unwrap();
        kv.set(keys::INDEX, r#"{"sessions":[],"future":true}"#)
            .unwrap();
        let before: Vec<(String, Option<String>)> = kv
            .keys()
            .unwrap()
            .into_iter()
            .map(|k| (k.clone(), kv.get(&k).unwrap()))
            .collect();
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
        let after: Vec<(String, Option<String>)> = kv
            .keys()
            .unwrap()
            .into_iter()
            .map(|k| (k.clone(), kv.get(&k).unwrap()))
            .collect();
        assert_eq!(after, before);
    }

    #[test]
    fn a_deleted_session_does_not_come_back_from_a_stale_tab() {
        let kv = MemoryKv::new();
        let mut tab_a = kv_service(&kv);
        let mut tab_b = kv_service(&kv);
        let mut session = tab_a
            .create_session(CreateSession::new("confab", "local"))
            .unwrap();
        let mut stale = session.clone();
        let body_before_delete = kv
            .get(&keys::session("confab", "local", &session.id))
            .unwrap()
            .unwrap();
        tab_a
            .delete_session("confab", "local", &session.id)
            .unwrap();
        // Tab B still holds it and appends: refused, nothing resurrected.
        let late = Event::text("user", "i", 3_000.0, "late");
        assert!(matches!(
            tab_b.append_event(&mut stale, late),
            Err(SessionError::NotFound { .. })
        ));
        // Tab B's older write of the body lands after the delete: ignored
        // and cleaned up on the next read.
        kv.set(
            &keys::session("confab", "local", &session.id),
            &body_before_delete,
        )
        .unwrap();
        assert!(matches!(
            tab_b.get_session("confab", "local", &session.id, GetSessionConfig::default()),
            Err(SessionError::NotFound { .. })
        ));
        assert_eq!(
            kv.get(&keys::session("confab", "local", &session.id))
                .unwrap(),
            None
        );
        assert!(tab_b.list_sessions("confab", "local").unwrap().is_empty());
        let again = Event::text("user", "i", 3_001.0, "x");
        assert!(tab_a.append_event(&mut session, again).is_err());
    }

    #[test]
    fn the_same_event_appended_twice_is_one_event() {
        let kv = MemoryKv::new();
        let mut service = kv_service(&kv);
        let mut session = service
            .create_session(CreateSession::new("confab", "local"))
            .unwrap();
        let mut event = Event::text("model", "i", 2_000.0, "partial so far");
        event.status = MessageStatus::Interrupted;
        service.append_event(&mut session, event.clone()).unwrap();
        event.status = MessageStatus::Complete;
        event.content = Some(Content {
            role: "model".into(),
            parts: vec![Part::text("the whole reply")],
        });
        event.timestamp = 2_001.0;
        service.append_event(&mut session, event).unwrap();
        let stored = service
            .get_session("confab", "local", &session.id, GetSessionConfig::default())
            .unwrap();
        assert_eq!(stored.events.len(), 1);
        assert_eq!(stored.events[0].text_content(), "the whole reply");
        assert_eq!(stored, session);
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
