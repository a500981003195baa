//! Export and import: lossless JSON round trips, merging without
//! duplicates, bad files that change nothing, and ChatGPT's export.

use std::collections::BTreeMap;

use confab_core::clock::ManualClock;
use confab_core::manager::{CallResult, Limits, Rating, SessionManager};
use confab_core::session::{GetSessionConfig, KvSessionService, MessageStatus, SessionService};
use confab_core::storage::{Journaled, KvStore, MemoryKv};
use confab_core::transfer::{self, ImportError, markdown};

type Manager<'a> = SessionManager<
    KvSessionService<Journaled<&'a MemoryKv>, ManualClock>,
    Journaled<&'a MemoryKv>,
    ManualClock,
>;

fn manager<'a>(kv: &'a MemoryKv, clock: &ManualClock) -> Manager<'a> {
    let journaled = Journaled::new(kv);
    SessionManager::new(
        KvSessionService::new(journaled.clone(), clock.clone()),
        journaled,
        clock.clone(),
        "confab",
        Limits::default(),
    )
}

fn chat(m: &mut Manager, clock: &ManualClock, user: &str, text: &str) -> String {
    let query = m.begin_query(user, text).unwrap();
    let call = m.begin_call(user, &query.session.id, None).unwrap();
    clock.advance(1.0);
    m.finish_call(
        user,
        &call,
        CallResult {
            agent_events: Vec::new(),
            text: format!("answer to {text}"),
            status: MessageStatus::Complete,
            response_model: Some("confab-echo".into()),
            ..CallResult::default()
        },
    )
    .unwrap();
    clock.advance(1.0);
    query.session.id
}

fn snapshot(kv: &MemoryKv) -> BTreeMap<String, Option<String>> {
    kv.keys()
        .unwrap()
        .into_iter()
        .map(|k| (k.clone(), kv.get(&k).unwrap()))
        .collect()
}

#[test]
fn an_export_imports_losslessly_and_a_second_import_adds_nothing() {
    let source_kv = MemoryKv::new();
    let clock = ManualClock::at(1_000.0);
    let mut source = manager(&source_kv, &clock);
    let first = chat(&mut source, &clock, "ada", "one");
    chat(&mut source, &clock, "ada", "two");
    source.create_new_session("ada").unwrap();
    chat(&mut source, &clock, "ada", "three");
    let reply = source
        .service()
        .get_session("confab", "ada", &first, GetSessionConfig::default())
        .unwrap()
        .events[1]
        .id
        .clone();
    source
        .rate_reply("ada", &first, &reply, Rating::Up, "nice")
        .unwrap();
    let file = source
        .export("ada", None, confab_core::Clock::now(&clock))
        .unwrap();
    let text = serde_json::to_string(&file).unwrap();
    assert_eq!(file.conversations.len(), 2);

    let target_kv = MemoryKv::new();
    let mut target = manager(&target_kv, &clock);
    let parsed = transfer::parse(&text, 0.0).unwrap();
    let report = target.import("bob", &parsed).unwrap();
    assert_eq!(
        (report.created, report.merged, report.events_added),
        (2, 0, 6)
    );
    let session = target
        .service()
        .get_session("confab", "bob", &first, GetSessionConfig::default())
        .unwrap();
    let original = source
        .service()
        .get_session("confab", "ada", &first, GetSessionConfig::default())
        .unwrap();
    let essence = |events: &[confab_core::session::Event]| -> Vec<_> {
        events
            .iter()
            .map(|e| {
                (
                    e.id.clone(),
                    e.author.clone(),
                    e.text_content(),
                    e.status,
                    e.timestamp,
                )
            })
            .collect()
    };
    assert_eq!(
        essence(&session.events),
        essence(&original.events),
        "every event, ids and all"
    );
    // Session state travels; another user's user: state does not.
    assert_eq!(
        session.state.get("query_count"),
        original.state.get("query_count")
    );
    assert_eq!(session.state.get("user:query_total"), None);
    let conversation = target.conversation("bob", &first).unwrap();
    assert_eq!(conversation, {
        let mut c = source.conversation("ada", &first).unwrap();
        c.user_id = "bob".into();
        c
    });
    assert_eq!(conversation.feedback[0].comment, "nice");
    assert_eq!(target.listings("bob").unwrap().len(), 2);

    let again = target.import("bob", &parsed).unwrap();
    assert_eq!((again.created, again.merged, again.events_added), (0, 2, 0));
    let session_again = target
        .service()
        .get_session("confab", "bob", &first, GetSessionConfig::default())
        .unwrap();
    assert_eq!(session_again.events.len(), 4);
}

#[test]
fn an_import_merges_new_events_into_an_existing_conversation() {
    let kv = MemoryKv::new();
    let clock = ManualClock::at(1_000.0);
    let mut m = manager(&kv, &clock);
    let id = chat(&mut m, &clock, "ada", "one");
    let older = m
        .export("ada", Some(std::slice::from_ref(&id)), 0.0)
        .unwrap();
    m.switch_to("ada", &id).unwrap();
    chat(&mut m, &clock, "ada", "two");
    // Another device has the older copy plus a message of its own.
    let mut other = older.clone();
    let mut extra = other.conversations[0].session.events[0].clone();
    extra.id = "from-elsewhere".into();
    extra.timestamp = 1_001.5;
    other.conversations[0].session.events.push(extra);
    let report = m.import("ada", &other).unwrap();
    assert_eq!(
        (report.created, report.merged, report.events_added),
        (0, 1, 1)
    );
    let session = m
        .service()
        .get_session("confab", "ada", &id, GetSessionConfig::default())
        .unwrap();
    let ids: Vec<&str> = session.events.iter().map(|e| e.id.as_str()).collect();
    assert_eq!(ids.len(), 5);
    assert_eq!(ids[2], "from-elsewhere", "placed in time order");
}

#[test]
fn bad_files_are_refused_with_a_reason_and_change_nothing() {
    let kv = MemoryKv::new();
    let clock = ManualClock::at(1_000.0);
    let mut m = manager(&kv, &clock);
    chat(&mut m, &clock, "ada", "keep me");
    let before = snapshot(&kv);
    assert!(matches!(
        transfer::parse("not json", 0.0),
        Err(ImportError::NotJson(_))
    ));
    assert_eq!(
        transfer::parse(r#"{"hello":"world"}"#, 0.0),
        Err(ImportError::Foreign)
    );
    assert_eq!(transfer::parse("[1,2,3]", 0.0), Err(ImportError::Foreign));
    assert_eq!(
        transfer::parse(
            r#"{"format":"confab.export","version":9,"conversations":[]}"#,
            0.0
        ),
        Err(ImportError::NewerVersion(9))
    );
    let mut file = m.export("ada", None, 0.0).unwrap();
    let duplicate = file.conversations[0].session.events[0].clone();
    file.conversations[0].session.events.push(duplicate);
    let damaged = serde_json::to_string(&file).unwrap();
    let error = transfer::parse(&damaged, 0.0).unwrap_err();
    assert!(matches!(error, ImportError::Invalid(_)), "{error:?}");
    assert!(error.to_string().contains("nothing was imported"));
    assert_eq!(snapshot(&kv), before);
}

/// Random hex digits: zlib shrinks them by half at most, so stored sizes
/// stay predictable though session bodies are stored compressed.
fn incompressible(len: usize) -> String {
    let mut text = String::new();
    while text.len() < len {
        text.push_str(&uuid::Uuid::new_v4().simple().to_string());
    }
    text.truncate(len);
    text
}

#[test]
fn an_import_that_does_not_fit_changes_nothing() {
    let kv = MemoryKv::new();
    let clock = ManualClock::at(1_000.0);
    let source_kv = MemoryKv::new();
    let mut source = manager(&source_kv, &clock);
    for i in 0..5 {
        source.create_new_session("ada").unwrap();
        chat(
            &mut source,
            &clock,
            "ada",
            &format!("conversation {i} {}", incompressible(4_000)),
        );
    }
    let file = source.export("ada", None, 0.0).unwrap();
    let mut m = manager(&kv, &clock);
    chat(&mut m, &clock, "ada", "mine");
    kv.set_quota(Some(kv.used_units() + 8_000));
    let before = snapshot(&kv);
    let result = m.import("ada", &file);
    assert!(matches!(result, Err(ImportError::Failed(_))), "{result:?}");
    assert_eq!(snapshot(&kv), before, "all or nothing");
}

#[test]
fn chatgpt_exports_import_their_current_branch() {
    let text = include_str!("fixtures/chatgpt-conversations.json");
    let file = transfer::parse(text, 5.0).unwrap();
    assert_eq!(
        file.conversations.len(),
        1,
        "the empty conversation is skipped"
    );
    let session = &file.conversations[0].session;
    assert_eq!(session.id, "6a1f0c2e-1111-4c3b-9a55-0123456789ab");
    let turns: Vec<(String, String)> = session
        .events
        .iter()
        .map(|e| (e.author.clone(), e.text_content()))
        .collect();
    assert_eq!(
        turns,
        [
            ("user".to_owned(), "Is Paris nice in March?".to_owned()),
            (
                "gpt-4o".to_owned(),
                "Yes: mild, with fewer crowds.".to_owned()
            ),
        ],
        "the current branch only, without system and tool messages"
    );
    assert_eq!(session.events[0].timestamp, 1_700_000_010.5);

    let kv = MemoryKv::new();
    let clock = ManualClock::at(1_800_000_000.0);
    let mut m = manager(&kv, &clock);
    let report = m.import("ada", &file).unwrap();
    assert_eq!(report.created, 1);
    let listing = &m.listings("ada").unwrap()[0];
    assert_eq!(
        listing.summary.title.as_deref(),
        Some("Paris in March"),
        "the title it had in ChatGPT"
    );
    assert_eq!(m.import("ada", &file).unwrap().events_added, 0);
    let session = m
        .service()
        .get_session(
            "confab",
            "ada",
            &listing.summary.id,
            GetSessionConfig::default(),
        )
        .unwrap();
    let md = markdown::conversation_markdown(&session, None);
    assert!(md.contains("**gpt-4o:**\n\nYes: mild, with fewer crowds."));
}

#[test]
fn reasoning_survives_export_and_import_and_reads_as_a_collapsed_section() {
    let source_kv = MemoryKv::new();
    let clock = ManualClock::at(1_000.0);
    let mut source = manager(&source_kv, &clock);
    let query = source.begin_query("ada", "2+2?").unwrap();
    let call = source.begin_call("ada", &query.session.id, None).unwrap();
    let reasoning = confab_core::session::Reasoning {
        text: "Two and two make four.".into(),
        millis: Some(3_400),
        tokens: Some(12),
        encrypted: vec![serde_json::json!({"type": "reasoning.encrypted", "data": "gAAAA"})],
    };
    source
        .finish_call(
            "ada",
            &call,
            CallResult {
                text: "It is 4.".into(),
                status: MessageStatus::Complete,
                response_model: Some("confab-echo-think".into()),
                reasoning: Some(reasoning.clone()),
                ..CallResult::default()
            },
        )
        .unwrap();
    let file = source
        .export("ada", None, confab_core::Clock::now(&clock))
        .unwrap();
    let text = serde_json::to_string(&file).unwrap();
    let target_kv = MemoryKv::new();
    let mut target = manager(&target_kv, &clock);
    target
        .import("bob", &transfer::parse(&text, 0.0).unwrap())
        .unwrap();
    let session = target
        .service()
        .get_session(
            "confab",
            "bob",
            &query.session.id,
            GetSessionConfig::default(),
        )
        .unwrap();
    let reply = &session.events[1];
    assert_eq!(reply.reasoning.as_ref(), Some(&reasoning));
    assert_eq!(reply.text_content(), "It is 4.");
    let md = markdown::conversation_markdown(&session, None);
    assert!(
        md.contains("<details>\n<summary>Thought for 4 s</summary>\n\nTwo and two make four.\n\n</details>\n\nIt is 4."),
        "{md}"
    );
    assert!(!md.contains("gAAAA"), "encrypted reasoning is never shown");
}

#[test]
fn attachments_travel_in_the_export_and_a_second_import_adds_nothing() {
    use confab_core::attachments::blobs::{self, BlobStore, MemoryBlobStore};
    use confab_core::attachments::new_attachment;
    use confab_core::storage::NewBlob;

    let source_kv = MemoryKv::new();
    let clock = ManualClock::at(1_000.0);
    let mut source = manager(&source_kv, &clock);
    let mut source_blobs = MemoryBlobStore::new();
    let csv = b"city,temp\nParis,12\n".to_vec();
    let png = b"\x89PNG\r\n\x1a\nfake".to_vec();
    let (csv_ref, _) = new_attachment("weather.csv", "", &csv, None).unwrap();
    let (png_ref, _) = new_attachment("shot.png", "image/png", &png, Some((2, 2))).unwrap();
    let lost = confab_core::session::AttachmentRef {
        sha256: confab_core::bytes::sha256_hex(b"gone"),
        name: "gone.txt".into(),
        mime_type: "text/plain".into(),
        size: 4,
        ..Default::default()
    };
    blobs::put_all(
        &mut source_blobs,
        &[
            NewBlob::of("text/csv", csv.clone()),
            NewBlob::of("image/png", png.clone()),
        ],
        1_000.0,
    )
    .unwrap();
    let query = source
        .begin_query_with("ada", "Plot it", &[csv_ref.clone(), png_ref.clone(), lost])
        .unwrap();
    // The same CSV again, in a later message: exported once.
    source
        .begin_query_with("ada", "", std::slice::from_ref(&csv_ref))
        .unwrap();

    let read = |sha: &str| source_blobs.get(sha).ok().flatten();
    let export = source
        .export_with_attachments("ada", None, 1_001.0, &read)
        .unwrap();
    assert_eq!(export.unavailable, 1, "the blob that is gone is counted");
    assert_eq!(export.file.attachments.len(), 2);
    assert_eq!(export.file.attachments[&csv_ref.sha256].name, "weather.csv");
    let text = transfer::to_pretty_json(&export.file).unwrap();
    assert!(text.contains("\"attachments\""));

    let target_kv = MemoryKv::new();
    let mut target = manager(&target_kv, &clock);
    let mut target_blobs = MemoryBlobStore::new();
    for round in 0..2 {
        let parsed = transfer::parse(&text, 0.0).unwrap();
        let incoming = transfer::attachment_blobs(&parsed).unwrap();
        let added = blobs::put_all(&mut target_blobs, &incoming, 2_000.0).unwrap();
        let report = target.import("ada", &parsed).unwrap();
        if round == 0 {
            assert_eq!((added, report.events_added), (2, 2));
        } else {
            assert_eq!(
                (added, report.events_added),
                (0, 0),
                "the second adds nothing"
            );
        }
    }
    assert_eq!(target_blobs.get(&png_ref.sha256).unwrap(), Some(png));
    assert_eq!(target_blobs.get(&csv_ref.sha256).unwrap(), Some(csv));
    let listed = target.service().list_sessions("confab", "ada").unwrap();
    assert_eq!(listed[0].id, query.session.id);
    assert_eq!(
        listed[0].attachments.len(),
        3,
        "the index lists them for GC"
    );

    // Without attachments, the file is as before.
    let plain = source.export("ada", None, 1_001.0).unwrap();
    let plain = serde_json::to_value(&plain).unwrap();
    assert!(plain.get("attachments").is_none());
    assert_eq!(plain["conversations"].as_array().unwrap().len(), 1);
}

#[test]
fn a_damaged_attachment_refuses_the_whole_import() {
    use confab_core::bytes::{base64_encode, sha256_hex};
    let clock = ManualClock::at(1_000.0);
    let kv = MemoryKv::new();
    let mut m = manager(&kv, &clock);
    chat(&mut m, &clock, "ada", "hi");
    let mut file = m.export("ada", None, 1_001.0).unwrap();
    let hash = sha256_hex(b"the real bytes");
    for (data, why) in [
        (base64_encode(b"other bytes"), "do not match"),
        ("@@@".to_owned(), "not base64"),
    ] {
        file.attachments.insert(
            hash.clone(),
            transfer::ExportedBlob {
                mime_type: "text/plain".into(),
                name: "notes.txt".into(),
                data,
            },
        );
        let text = serde_json::to_string(&file).unwrap();
        let error = transfer::parse(&text, 0.0).unwrap_err();
        assert!(
            matches!(&error, ImportError::BadAttachment { name, .. } if name == "notes.txt"),
            "{error:?}"
        );
        assert!(error.to_string().contains(why), "{error}");
        assert!(error.to_string().contains("nothing was imported"));
    }
}
