//! Schema migrations against stores written by older schemas: schema 1 (the
//! fixture was produced by the schema-1 code of this repository, commit
//! cef5310), schema 2 (by its `gen_history` example at commit 7b8c67e) and
//! schema 3 (the schema-2 fixture packed, with the events tests/adk_agents'
//! code_agent writes added to one session: its code, its result and its
//! inline PNG, in ADK's URL-safe base64, then a reply with a named chart in
//! standard base64, the PNG again, and data that is not base64) and schema 4
//! (by its `gen_history` at commit 174061e: three conversations of four
//! messages, with a tombstone added to the index, as a deletion in another
//! tab leaves).

use std::collections::BTreeMap;

use confab_core::clock::SteppingClock;
use confab_core::manager::{Limits, SessionManager};
use confab_core::session::{GetSessionConfig, KvSessionService, SessionService};
use confab_core::storage::migrate::{self, MigrationError};
use confab_core::storage::{KvStore, MemoryKv, keys, packed, stored_schema};
use serde_json::json;

const V1: &str = include_str!("fixtures/store-v1.json");
const V2: &str = include_str!("fixtures/store-v2.json");
const V3: &str = include_str!("fixtures/store-v3.json");
const V4: &str = include_str!("fixtures/store-v4.json");

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
    assert_eq!(
        (report.from, report.to, report.recovered),
        (1, keys::SCHEMA_VERSION, false)
    );
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
    // Packed in place (no inline bytes: nothing to move), which frees the
    // room for the backup the index's split into entries needs.
    let report = migrate::run(&kv).unwrap().unwrap();
    assert_eq!((report.from, report.to), (2, keys::SCHEMA_VERSION));
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
    // The next start finishes the upgrade from the half-packed store.
    assert_eq!(migrate::run(&kv).unwrap().unwrap().from, 3);
    let service = KvSessionService::new(&kv, SteppingClock::new(2e9, 1.0));
    for summary in service.list_sessions("confab", "local").unwrap() {
        let session = service
            .get_session("confab", "local", &summary.id, GetSessionConfig::default())
            .unwrap();
        assert_eq!(session.events.len(), 4);
    }
}

/// A run on `kv` with no room for a backup copy refuses (it upgrades from
/// format `from`) and changes nothing; the room is given back after.
fn refuses_without_room_for_a_copy(kv: &MemoryKv, from: u32) {
    let before = snapshot(kv);
    kv.set_quota(Some(kv.used_units() + 50));
    let outcome = migrate::run(kv);
    assert!(
        matches!(outcome, Err(MigrationError::NoRoomForBackup { from: f, .. }) if f == from),
        "{outcome:?}"
    );
    assert_eq!(snapshot(kv), before);
    kv.set_quota(None);
}

const CODE_SESSION: &str = "67d81da2-9788-4c6d-bc87-25f7d3b1c2a2";

/// The 4x4 red PNG of code_agent, and the 8x8 blue one of the fixture.
fn fixture_pngs() -> (Vec<u8>, Vec<u8>) {
    let old: migrate::Store = serde_json::from_str(V3).unwrap();
    let body: serde_json::Value = serde_json::from_str(
        &packed::unpack(&old[&keys::session("confab", "local", CODE_SESSION)]).unwrap(),
    )
    .unwrap();
    let data = |event: usize, part: usize| {
        let text = body["events"][event]["content"]["parts"][part]["inlineData"]["data"]
            .as_str()
            .unwrap();
        confab_core::bytes::base64_decode(text).unwrap()
    };
    (data(6, 0), data(7, 1))
}

#[test]
fn the_pure_migration_to_4_moves_inline_bytes_out_of_bodies() {
    use confab_core::bytes::sha256_hex;
    let old: migrate::Store = serde_json::from_str(V3).unwrap();
    let new = migrate::v3_to_v4(&old).unwrap();
    assert_eq!(new[keys::META], r#"{"schema":4}"#);
    let (red, blue) = fixture_pngs();
    assert!(red.starts_with(b"\x89PNG") && blue.starts_with(b"\x89PNG"));
    let (red_hash, blue_hash) = (sha256_hex(&red), sha256_hex(&blue));

    let key = keys::session("confab", "local", CODE_SESSION);
    let body: serde_json::Value =
        serde_json::from_str(&packed::unpack(&new[&key]).unwrap()).unwrap();
    let events = body["events"].as_array().unwrap();
    assert_eq!(events.len(), 8, "no event added or lost");
    assert_eq!(
        events[4]["content"]["parts"][0]["executableCode"]["code"],
        "print(sum(range(1, 11)))\n"
    );
    assert_eq!(
        events[6]["content"]["parts"][0],
        json!({"attachment": {"sha256": red_hash, "name": "image-1.png",
               "mimeType": "image/png", "size": red.len(), "origin": "reply"}})
    );
    let parts = &events[7]["content"]["parts"];
    assert_eq!(parts[0]["text"], "Charts:");
    assert_eq!(parts[1]["attachment"]["name"], "blue.png");
    assert_eq!(parts[1]["attachment"]["sha256"], blue_hash);
    assert_eq!(parts[2]["attachment"]["name"], "image-2.png");
    assert_eq!(parts[3]["inlineData"]["data"], "not base64 at all!");

    // Each blob once (the red PNG is in two events), waiting under its hash.
    let pending: Vec<&String> = new
        .keys()
        .filter(|k| k.starts_with(keys::BLOB_PENDING))
        .collect();
    assert_eq!(pending.len(), 2);
    let red_key = keys::blob_pending(&red_hash);
    let stored: serde_json::Value =
        serde_json::from_str(&packed::unpack(&new[&red_key]).unwrap()).unwrap();
    assert_eq!(stored["mimeType"], "image/png");
    assert_eq!(
        stored["data"],
        confab_core::bytes::base64_encode(&red),
        "standard base64"
    );

    // The index lists what each session refers to; the other is unchanged.
    let index: serde_json::Value = serde_json::from_str(&new[keys::INDEX]).unwrap();
    for summary in index["sessions"].as_array().unwrap() {
        if summary["id"] == CODE_SESSION {
            let mut hashes = vec![red_hash.clone(), blue_hash.clone()];
            hashes.sort();
            assert_eq!(summary["attachments"], json!(hashes));
        } else {
            assert!(summary.get("attachments").is_none());
        }
    }
    for (key, text) in &old {
        if !key.starts_with("confab:session:") && key != keys::INDEX && key != keys::META {
            assert_eq!(&new[key], text, "{key} is not touched");
        }
    }
    let other = keys::session("confab", "local", "1bd4749c-c038-4e50-9121-b3e82472de45");
    assert_eq!(
        new[&other], old[&other],
        "a body without inline bytes is not rewritten"
    );

    // Running it on its own output changes nothing more.
    assert_eq!(migrate::v3_to_v4(&new).unwrap(), new);
}

#[test]
fn a_schema_3_store_with_inline_bytes_is_upgraded_with_a_backup_and_reads_back() {
    use confab_core::session::SessionSummary;
    use confab_core::storage::pending_blobs;
    let kv = store_of(V3);
    // Moving bytes is not encoding only: without room for a copy, nothing
    // is changed.
    refuses_without_room_for_a_copy(&kv, 3);

    let report = migrate::run(&kv).unwrap().unwrap();
    assert_eq!((report.from, report.to), (3, keys::SCHEMA_VERSION));
    assert!(
        kv.keys()
            .unwrap()
            .iter()
            .all(|k| !k.starts_with(keys::BACKUP_PREFIX))
    );
    let service = KvSessionService::new(&kv, SteppingClock::new(2e9, 1.0));
    let listed = service.list_sessions("confab", "local").unwrap();
    let session = service
        .get_session("confab", "local", CODE_SESSION, GetSessionConfig::default())
        .unwrap();
    let names: Vec<String> = session
        .events
        .iter()
        .flat_map(|e| e.attachments())
        .map(|a| a.name)
        .collect();
    assert_eq!(names, ["image-1.png", "blue.png", "image-2.png"]);
    // The migration's summary is the one the session service writes.
    let listed = listed.iter().find(|s| s.id == CODE_SESSION).unwrap();
    assert_eq!(listed.attachments, SessionSummary::of(&session).attachments);
    assert_eq!(listed.attachments.len(), 2);

    let pending = pending_blobs(&kv).unwrap();
    assert_eq!(pending.ready.len(), 2);
    assert!(pending.unreadable.is_empty());
    let (red, _) = fixture_pngs();
    assert!(pending.ready.iter().any(|(_, blob)| blob.bytes == red));
    assert_eq!(migrate::run(&kv).unwrap(), None, "nothing left to do");
}

/// Before the format-4 fixture's tombstone expires (it was written at
/// about 1.796e9 s).
fn v4_clock() -> SteppingClock {
    SteppingClock::new(1.7961e9, 1.0)
}

const V4_DELETED: &str = "0b1e9d5e-deleted-in-another-tab";

#[test]
fn the_migration_to_6_changes_only_the_version_and_runs_in_place() {
    // Where bodies and records live (localStorage or the bulk store) is the
    // browser adapter's; the stored values are the same.
    let old: migrate::Store = serde_json::from_str(V4).unwrap();
    let v5 = migrate::v4_to_v5(&old).unwrap();
    let v6 = migrate::v5_to_v6(&v5).unwrap();
    assert_eq!(v6[keys::META], r#"{"schema":6}"#);
    assert!(
        v6.iter()
            .all(|(k, v)| k == keys::META || v5.get(k) == Some(v))
    );
    assert_eq!(v6.len(), v5.len());
    // Encoding-only: a full store is upgraded without room for a copy.
    let kv = MemoryKv::new();
    for (key, value) in &v5 {
        kv.set(key, value).unwrap();
    }
    kv.set_quota(Some(kv.used_units() + 50));
    let report = migrate::run(&kv).unwrap().unwrap();
    assert_eq!((report.from, report.to), (5, 6));
    assert!(
        snapshot(&kv)
            .keys()
            .all(|k| !k.starts_with(keys::BACKUP_PREFIX))
    );
    assert_eq!(snapshot(&kv), v6);
}

#[test]
fn the_pure_migration_to_5_gives_each_session_its_own_index_entry() {
    let old: migrate::Store = serde_json::from_str(V4).unwrap();
    let new = migrate::v4_to_v5(&old).unwrap();
    assert_eq!(new[keys::META], r#"{"schema":5}"#);
    assert!(!new.contains_key(keys::INDEX), "the one big value is gone");
    let index: serde_json::Value = serde_json::from_str(&old[keys::INDEX]).unwrap();
    for summary in index["sessions"].as_array().unwrap() {
        let id = summary["id"].as_str().unwrap();
        let entry: serde_json::Value =
            serde_json::from_str(&new[&keys::index_entry("confab", "local", id)]).unwrap();
        assert_eq!(entry, json!({ "listed": summary }));
    }
    let tombstone: serde_json::Value =
        serde_json::from_str(&new[&keys::index_entry("confab", "local", V4_DELETED)]).unwrap();
    assert_eq!(tombstone["deleted"]["id"], V4_DELETED);
    // Each status of the user's record moves to its own key; the record
    // keeps the current session.
    let user = keys::user_record("confab", "local");
    let record: serde_json::Value = serde_json::from_str(&old[&user]).unwrap();
    assert_eq!(
        new[&user],
        json!({ "current": record["current"] }).to_string()
    );
    for status in record["conversations"].as_array().unwrap() {
        let id = status["sessionId"].as_str().unwrap();
        let moved: serde_json::Value =
            serde_json::from_str(&new[&keys::status("confab", "local", id)]).unwrap();
        assert_eq!(&moved, status);
    }
    // Nothing else changes.
    for (key, text) in &old {
        if key != keys::INDEX && key != keys::META && *key != user {
            assert_eq!(&new[key], text, "{key}");
        }
    }
    assert_eq!(
        new.len(),
        old.len() - 1 + 4 + 3,
        "three listed, one deleted, three statuses"
    );

    // A session both listed and tombstoned (a race the format-4 reader
    // resolved as deleted) is deleted.
    let mut racing = old.clone();
    let mut index = index.clone();
    let first = index["sessions"][0]["id"].as_str().unwrap().to_owned();
    index["tombstones"][0]["id"] = json!(first);
    racing.insert(keys::INDEX.into(), index.to_string());
    let new = migrate::v4_to_v5(&racing).unwrap();
    let entry = &new[&keys::index_entry("confab", "local", &first)];
    assert!(entry.starts_with(r#"{"deleted":"#), "{entry}");
}

#[test]
fn a_schema_4_store_is_upgraded_with_a_backup_and_lists_the_same() {
    let kv = store_of(V4);
    let before = snapshot(&kv);
    let listed_before: Vec<confab_core::session::SessionSummary> = {
        let index: serde_json::Value = serde_json::from_str(&before[keys::INDEX]).unwrap();
        let mut sessions: Vec<confab_core::session::SessionSummary> =
            serde_json::from_value(index["sessions"].clone()).unwrap();
        sessions.sort_by(|a, b| b.last_update_time.total_cmp(&a.last_update_time));
        sessions
    };
    // Not only an encoding: without room for a copy, nothing changes.
    refuses_without_room_for_a_copy(&kv, 4);

    let report = migrate::run(&kv).unwrap().unwrap();
    assert_eq!((report.from, report.to), (4, keys::SCHEMA_VERSION));
    let after = snapshot(&kv);
    assert!(after.keys().all(|k| !k.starts_with(keys::BACKUP_PREFIX)));
    assert!(!after.contains_key(keys::INDEX));
    let mut service = KvSessionService::new(&kv, v4_clock());
    assert_eq!(
        service.list_sessions("confab", "local").unwrap(),
        listed_before
    );
    for summary in &listed_before {
        let session = service
            .get_session("confab", "local", &summary.id, GetSessionConfig::default())
            .unwrap();
        assert_eq!(session.events.len(), 4);
    }
    // The tombstone is kept (a tab that had not heard cannot bring the
    // session back).
    let tombstone = kv
        .get(&keys::index_entry("confab", "local", V4_DELETED))
        .unwrap()
        .unwrap();
    assert!(tombstone.starts_with(r#"{"deleted":"#), "{tombstone}");
    assert!(
        service
            .delete_session("confab", "local", V4_DELETED)
            .is_err()
    );
    assert!(service.take_quarantined().is_empty(), "nothing unreadable");
    // The manager lists them with the statuses and current session the
    // user's record had.
    let record: serde_json::Value =
        serde_json::from_str(&before[&keys::user_record("confab", "local")]).unwrap();
    let m = SessionManager::new(
        KvSessionService::new(&kv, v4_clock()),
        &kv,
        v4_clock(),
        "confab",
        Limits::default(),
    );
    assert_eq!(
        m.current_session_id("local").unwrap().as_deref(),
        record["current"].as_str()
    );
    let listings = m.listings("local").unwrap();
    assert_eq!(listings.len(), 3);
    for listing in &listings {
        let status = record["conversations"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["sessionId"] == listing.summary.id.as_str())
            .unwrap();
        assert_eq!(
            listing.conversation_id,
            status["conversationId"].as_str().unwrap()
        );
    }
    assert_eq!(migrate::run(&kv).unwrap(), None, "nothing left to do");
}

#[test]
fn a_schema_3_store_is_upgraded_through_4_to_5() {
    let old: migrate::Store = serde_json::from_str(V3).unwrap();
    let new = migrate::migrate(&old, 3).unwrap();
    assert!(!new.contains_key(keys::INDEX));
    let kv = MemoryKv::new();
    for (key, value) in &new {
        kv.set(key, value).unwrap();
    }
    let service = KvSessionService::new(&kv, SteppingClock::new(2e9, 1.0));
    let listed = service.list_sessions("confab", "local").unwrap();
    assert_eq!(listed.len(), 2);
    let with_chart = listed.iter().find(|s| s.id == CODE_SESSION).unwrap();
    assert_eq!(with_chart.attachments.len(), 2, "what the blob GC reads");
}

#[test]
fn an_unreadable_format_4_index_is_moved_aside_after_the_upgrade_and_the_list_rebuilt() {
    let kv = store_of(V4);
    kv.set(keys::INDEX, "{\"sessions\":[{broken").unwrap();
    assert_eq!(migrate::run(&kv).unwrap().unwrap().to, keys::SCHEMA_VERSION);
    assert!(
        kv.get(keys::INDEX).unwrap().is_some(),
        "left for the reader"
    );
    let service = KvSessionService::new(&kv, v4_clock());
    let listed = service.list_sessions("confab", "local").unwrap();
    assert_eq!(listed.len(), 3, "every body listed again");
    let reports = service.take_quarantined();
    assert_eq!(reports.len(), 1);
    assert_eq!(reports[0].key, keys::INDEX);
    assert!(reports[0].to_string().contains("moved aside"));
    assert_eq!(kv.get(keys::INDEX).unwrap(), None);
}

/// `pending` says exactly when `run` has something to do: the app fetches
/// the upgrade's code (a split part) only then.
#[test]
fn pending_is_true_exactly_when_a_run_has_work() {
    let listed = |kv: &MemoryKv| kv.keys().unwrap();
    let empty = MemoryKv::new();
    assert!(!migrate::pending(&empty, &listed(&empty)).unwrap());

    let old = v1_store();
    assert!(migrate::pending(&old, &listed(&old)).unwrap());
    migrate::run(&old).unwrap().unwrap();
    assert!(
        !migrate::pending(&old, &listed(&old)).unwrap(),
        "upgraded: nothing left"
    );
    assert_eq!(migrate::run(&old).unwrap(), None);

    let newer = v1_store();
    newer.set(keys::META, r#"{"schema":7}"#).unwrap();
    assert!(
        migrate::pending(&newer, &listed(&newer)).unwrap(),
        "refused by run, which says why"
    );

    // A run cut short: its backup is restored, whatever the meta says.
    let cut = MemoryKv::new();
    cut.set(
        keys::META,
        &format!(r#"{{"schema":{}}}"#, keys::SCHEMA_VERSION),
    )
    .unwrap();
    cut.set("confab:backup:v4", "{}").unwrap();
    assert!(migrate::pending(&cut, &listed(&cut)).unwrap());
}
