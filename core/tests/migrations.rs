//! Schema migrations against stores written by older schemas: schema 1 (the
//! fixture was produced by the schema-1 code of this repository, commit
//! cef5310) and schema 2 (by its `gen_history` example at commit 7b8c67e).

use std::collections::BTreeMap;

use confab_core::clock::SteppingClock;
use confab_core::session::{GetSessionConfig, KvSessionService, SessionService};
use confab_core::storage::migrate::{self, MigrationError};
use confab_core::storage::{KvStore, MemoryKv, keys, packed, stored_schema};
use serde_json::json;

const V1: &str = include_str!("fixtures/store-v1.json");
const V2: &str = include_str!("fixtures/store-v2.json");

fn v1_store() -> MemoryKv {
    store_of(V1)
}

fn store_of(fixture: &str) -> MemoryKv {
    let dump: BTreeMap<String, String> = serde_json::from_str(fixture).unwrap();
    let kv = MemoryKv::new();
    for (key, value) in dump {
        kv.set(&key, &value).unwrap();
    }
    kv
}

fn snapshot(kv: &MemoryKv) -> BTreeMap<String, String> {
    kv.keys()
        .unwrap()
        .into_iter()
        .map(|k| {
            let v = kv.get(&k).unwrap().unwrap();
            (k, v)
        })
        .collect()
}

const TRIP: &str = "06ec5254-5179-43f4-aae3-0a2d79a6ac78";

#[test]
fn the_pure_migration_moves_shared_state_out_of_session_bodies() {
    let old: migrate::Store = serde_json::from_str(V1).unwrap();
    let new = migrate::v1_to_v2(&old).unwrap();
    assert_eq!(new[keys::META], r#"{"schema":2}"#);
    let index: serde_json::Value = serde_json::from_str(&new[keys::INDEX]).unwrap();
    assert!(index.get("schema").is_none());
    assert_eq!(index["tombstones"], json!([]));
    assert_eq!(index["sessions"].as_array().unwrap().len(), 2);
    let body: serde_json::Value =
        serde_json::from_str(&new[&keys::session("confab", "local", TRIP)]).unwrap();
    assert_eq!(body["state"], json!({"destination": "Paris"}));
    assert_eq!(
        body["events"].as_array().unwrap().len(),
        2,
        "events untouched"
    );
    assert_eq!(new[&keys::app_state("confab")], r#"{"theme":"dark"}"#);
    assert_eq!(
        new[&keys::user_state("confab", "local")],
        r#"{"name":"Ada"}"#
    );
    assert_eq!(new["other-app:key"], "not ours");
    assert_eq!(new[keys::SETTINGS], old[keys::SETTINGS]);
}

#[test]
fn a_schema_1_store_is_upgraded_and_reads_back_whole() {
    let kv = v1_store();
    assert_eq!(stored_schema(&kv).unwrap(), Some(1));
    let service = KvSessionService::new(&kv, SteppingClock::new(2e9, 1.0));
    assert!(
        service.list_sessions("confab", "local").is_err(),
        "schema 2 code refuses to read schema 1 before the upgrade"
    );
    let report = migrate::run(&kv).unwrap().unwrap();
    assert_eq!((report.from, report.to, report.recovered), (1, 3, false));
    assert_eq!(stored_schema(&kv).unwrap(), Some(keys::SCHEMA_VERSION));
    assert!(
        kv.keys()
            .unwrap()
            .iter()
            .all(|k| !k.starts_with(keys::BACKUP_PREFIX)),
        "the backup is gone once the new store read back"
    );
    let list = service.list_sessions("confab", "local").unwrap();
    let titles: Vec<&str> = list.iter().filter_map(|s| s.title.as_deref()).collect();
    assert_eq!(titles, ["Stop this one", "Plan a trip to Paris"]);
    let trip = service
        .get_session("confab", "local", TRIP, GetSessionConfig::default())
        .unwrap();
    assert_eq!(trip.events.len(), 2);
    assert_eq!(trip.events[0].text_content(), "Plan a trip to Paris");
    assert_eq!(trip.state.get("user:name"), Some(&json!("Ada")));
    assert_eq!(trip.state.get("app:theme"), Some(&json!("dark")));
    assert_eq!(trip.state.get("destination"), Some(&json!("Paris")));
    assert_eq!(
        kv.get("other-app:key").unwrap().as_deref(),
        Some("not ours")
    );
    // Running again does nothing.
    assert_eq!(migrate::run(&kv).unwrap(), None);
}

#[test]
fn no_room_for_the_backup_means_nothing_changes() {
    let kv = v1_store();
    let before = snapshot(&kv);
    kv.set_quota(Some(kv.used_units() + 100));
    let result = migrate::run(&kv);
    assert!(
        matches!(result, Err(MigrationError::NoRoomForBackup { from: 1, .. })),
        "{result:?}"
    );
    assert!(
        result
            .unwrap_err()
            .to_string()
            .contains("nothing was changed")
    );
    assert_eq!(snapshot(&kv), before);
}

#[test]
fn a_failure_while_writing_restores_the_old_store() {
    let kv = v1_store();
    let before = snapshot(&kv);
    // Room for the backup, but not for the new keys as well.
    let backup_size = serde_json::to_string(&before)
        .unwrap()
        .encode_utf16()
        .count();
    kv.set_quota(Some(kv.used_units() + backup_size + 30));
    let result = migrate::run(&kv);
    assert!(
        matches!(result, Err(MigrationError::Failed { from: 1, .. })),
        "{result:?}"
    );
    kv.set_quota(None);
    assert_eq!(snapshot(&kv), before, "restored exactly, backup removed");
}

#[test]
fn a_run_cut_short_is_undone_and_redone_at_the_next_start() {
    let kv = v1_store();
    let before = snapshot(&kv);
    // As if the tab closed after the backup and half the writes.
    kv.set("confab:backup:v1", &serde_json::to_string(&before).unwrap())
        .unwrap();
    kv.set(keys::INDEX, r#"{"sessions":[]}"#).unwrap();
    kv.remove(&keys::session("confab", "local", TRIP)).unwrap();
    let report = migrate::run(&kv).unwrap().unwrap();
    assert!(report.recovered);
    let service = KvSessionService::new(&kv, SteppingClock::new(2e9, 1.0));
    assert_eq!(service.list_sessions("confab", "local").unwrap().len(), 2);
    service
        .get_session("confab", "local", TRIP, GetSessionConfig::default())
        .unwrap();
}

#[test]
fn a_store_from_a_newer_version_is_left_alone() {
    let kv = v1_store();
    kv.set(keys::META, r#"{"schema":7}"#).unwrap();
    let before = snapshot(&kv);
    let result = migrate::run(&kv);
    assert_eq!(
        result,
        Err(MigrationError::Newer {
            found: 7,
            supported: keys::SCHEMA_VERSION
        })
    );
    assert_eq!(snapshot(&kv), before);
}

#[test]
fn an_empty_store_needs_nothing() {
    let kv = MemoryKv::new();
    assert_eq!(migrate::run(&kv).unwrap(), None);
    assert!(
        kv.keys().unwrap().is_empty(),
        "nothing written to an empty store"
    );
}

fn units(store: &BTreeMap<String, String>) -> usize {
    store
        .iter()
        .map(|(k, v)| k.encode_utf16().count() + v.encode_utf16().count())
        .sum()
}

#[test]
fn the_pure_migration_to_3_packs_bodies_and_changes_no_text() {
    let old: migrate::Store = serde_json::from_str(V2).unwrap();
    let new = migrate::v2_to_v3(&old).unwrap();
    assert_eq!(new[keys::META], r#"{"schema":3}"#);
    assert_eq!(new.len(), old.len());
    let mut packed_keys = 0;
    for (key, text) in &old {
        if packed::is_packed_key(key) {
            packed_keys += 1;
            assert!(new[key].starts_with(packed::MARK), "{key}");
            assert_eq!(packed::unpack(&new[key]).unwrap(), text.as_str(), "{key}");
        } else if key != keys::META {
            assert_eq!(&new[key], text, "{key} is not touched");
        }
    }
    assert_eq!(
        packed_keys, 4,
        "two sessions and their conversation records"
    );
    // Running it on its own output changes nothing more.
    let mut again = migrate::v2_to_v3(&new).unwrap();
    again.insert(keys::META.into(), new[keys::META].clone());
    assert_eq!(again, new);
}

#[test]
fn a_schema_2_store_is_packed_in_place_even_without_room_for_a_copy() {
    let kv = store_of(V2);
    let before = snapshot(&kv);
    // No room for a backup copy: an upgrade that needed one would refuse.
    kv.set_quota(Some(kv.used_units() + 50));
    let report = migrate::run(&kv).unwrap().unwrap();
    assert_eq!((report.from, report.to), (2, 3));
    let after = snapshot(&kv);
    assert!(after.keys().all(|k| !k.starts_with(keys::BACKUP_PREFIX)));
    assert!(
        units(&after) * 3 < units(&before),
        "{} code units before, {} after",
        units(&before),
        units(&after)
    );
    let service = KvSessionService::new(&kv, SteppingClock::new(2e9, 1.0));
    let list = service.list_sessions("confab", "local").unwrap();
    assert_eq!(list.len(), 2);
    for summary in list {
        let session = service
            .get_session("confab", "local", &summary.id, GetSessionConfig::default())
            .unwrap();
        assert_eq!(session.events.len(), 4, "two exchanges each");
        let stored: serde_json::Value =
            serde_json::from_str(&before[&keys::session("confab", "local", &summary.id)]).unwrap();
        // (get_session adds the shared `app:`/`user:` state to `state`.)
        assert_eq!(
            serde_json::to_value(&session.events).unwrap(),
            stored["events"]
        );
    }
    assert_eq!(migrate::run(&kv).unwrap(), None, "nothing left to do");
}

#[test]
fn a_packing_run_cut_short_leaves_a_readable_store() {
    let kv = store_of(V2);
    let old: migrate::Store = serde_json::from_str(V2).unwrap();
    let new = migrate::v2_to_v3(&old).unwrap();
    // As if the tab closed after the version and one packed body.
    kv.set(keys::META, &new[keys::META]).unwrap();
    let (first, packed_text) = new
        .iter()
        .find(|(k, _)| k.starts_with("confab:session:"))
        .unwrap();
    kv.set(first, packed_text).unwrap();
    let service = KvSessionService::new(&kv, SteppingClock::new(2e9, 1.0));
    for summary in service.list_sessions("confab", "local").unwrap() {
        let session = service
            .get_session("confab", "local", &summary.id, GetSessionConfig::default())
            .unwrap();
        assert_eq!(session.events.len(), 4);
    }
}
