//! Attachments in a planned request: parts, budgets, and the bytes put in.

use std::collections::HashMap;

use serde_json::json;

use super::*;
use crate::bytes::sha256_hex;
use crate::session::Part;

/// An attachment of `bytes`, as the composer would have stored it.
fn attached(name: &str, mime: &str, bytes: &[u8]) -> AttachmentRef {
    AttachmentRef {
        sha256: sha256_hex(bytes),
        name: name.into(),
        mime_type: mime.into(),
        size: bytes.len() as u64,
        ..AttachmentRef::default()
    }
}

/// An attachment of `size` bytes never stored (only its cost matters).
fn sized(name: &str, mime: &str, size: u64) -> AttachmentRef {
    AttachmentRef {
        sha256: sha256_hex(name.as_bytes()),
        name: name.into(),
        mime_type: mime.into(),
        size,
        ..AttachmentRef::default()
    }
}

fn user(id: &str, text: &str, attachments: &[&AttachmentRef]) -> Event {
    let mut event = Event::text("user", "i", 1.0, text);
    event.id = id.into();
    let content = event.content.as_mut().unwrap();
    if text.is_empty() {
        content.parts.clear();
    }
    content
        .parts
        .extend(attachments.iter().map(|a| Part::attachment(a)));
    event
}

fn reply(id: &str, text: &str) -> Event {
    let mut event = Event::text("m", "i", 2.0, text);
    event.id = id.into();
    event
}

fn window(tokens: u32) -> Settings {
    Settings {
        default_context_window: tokens,
        ..Settings::default()
    }
}

fn plan(settings: &Settings, events: &[Event]) -> Result<PlannedRequest, ReplyError> {
    plan_request(
        settings,
        &ConversationOptions::default(),
        events,
        Ask::Reply,
    )
}

/// A blob store in memory, by SHA-256.
struct Blobs(HashMap<String, Vec<u8>>);

impl Blobs {
    fn of(items: &[&[u8]]) -> Self {
        Self(items.iter().map(|b| (sha256_hex(b), b.to_vec())).collect())
    }

    fn resolve(&self, plan: PlannedRequest) -> Result<PlannedRequest, ReplyError> {
        plan.resolve(&|hash| self.0.get(hash).map(Vec::as_slice))
    }
}

const PNG: &[u8] = b"\x89PNG\r\n\x1a\nfake image";
const CSV: &[u8] = b"\xef\xbb\xbfcity,temp\nOslo,4\n";
const PDF: &[u8] = b"%PDF-1.4 fake";

#[test]
fn a_message_with_attachments_becomes_text_then_one_part_each_in_order() {
    let image = attached("chart.png", "image/png", PNG);
    let csv = attached("weather.csv", "text/csv", CSV);
    let pdf = attached("paper.pdf", "application/pdf", PDF);
    let events = [user(
        "u1",
        "What is in these?",
        &[&image, &csv, &pdf, &image],
    )];
    let planned = plan(&window(100_000), &events).unwrap();
    // Each blob once, though the image is attached twice.
    assert_eq!(planned.needs, vec![image.clone(), csv.clone(), pdf.clone()]);
    // Before its bytes, the image is an empty placeholder.
    let before = serde_json::to_value(&planned.request).unwrap();
    assert_eq!(
        before["messages"][0]["content"][2]["image_url"]["url"],
        json!("")
    );

    let sent = Blobs::of(&[PNG, CSV, PDF]).resolve(planned).unwrap();
    assert!(sent.needs.is_empty());
    assert_eq!(sent.left_out_attachments, 0);
    let png_url = crate::bytes::data_url("image/png", PNG);
    assert_eq!(
        serde_json::to_value(&sent.request).unwrap()["messages"],
        json!([{"role": "user", "content": [
            {"type": "text", "text": "What is in these?"},
            {"type": "text", "text": "[Attached image: chart.png]"},
            {"type": "image_url", "image_url": {"url": png_url}},
            {"type": "text", "text": "[Attached file: weather.csv (text/csv, 20 bytes)]\ncity,temp\nOslo,4\n"},
            {"type": "file", "file": {"filename": "paper.pdf",
                "file_data": crate::bytes::data_url("application/pdf", PDF)}},
            {"type": "text", "text": "[Attached image: chart.png]"},
            {"type": "image_url", "image_url": {"url": png_url}},
        ]}])
    );
}

#[test]
fn plain_messages_stay_strings_and_need_nothing() {
    let events = [
        user("u1", "hi", &[]),
        reply("r1", "hello"),
        user("u2", "bye", &[]),
    ];
    let planned = plan(&window(10_000), &events).unwrap();
    assert!(planned.needs.is_empty());
    let body = serde_json::to_string(&planned.request).unwrap();
    assert!(
        body.contains(r#"{"role":"user","content":"bye"}"#),
        "{body}"
    );
    // Nothing to load: resolving changes nothing.
    let resolved = Blobs::of(&[]).resolve(planned.clone()).unwrap();
    assert_eq!(resolved.request, planned.request);
}

#[test]
fn an_attachment_alone_is_sent_without_an_empty_text_part() {
    let image = attached("shot.png", "image/png", PNG);
    let planned = plan(&window(10_000), &[user("u1", "", &[&image])]).unwrap();
    let sent = Blobs::of(&[PNG]).resolve(planned).unwrap();
    let body = serde_json::to_value(&sent.request).unwrap();
    let parts = body["messages"][0]["content"].as_array().unwrap();
    assert_eq!(parts.len(), 2);
    assert_eq!(
        parts[0],
        json!({"type": "text", "text": "[Attached image: shot.png]"})
    );
}

#[test]
fn a_blob_gone_fails_the_new_message_but_only_thins_an_older_one() {
    let old = attached("old.png", "image/png", PNG);
    let new = attached("new.csv", "text/csv", CSV);
    let events = [
        user("u1", "first", &[&old]),
        reply("r1", "seen"),
        user("u2", "second", &[&new]),
    ];
    let planned = plan(&window(100_000), &events).unwrap();
    assert_eq!(planned.needs, vec![old.clone(), new.clone()]);

    // The new message's file is gone: nothing is sent, and the user is told.
    assert_eq!(
        Blobs::of(&[PNG]).resolve(planned.clone()),
        Err(ReplyError::AttachmentUnavailable {
            name: "new.csv".into()
        })
    );
    // The older image is gone: it goes by name, and is counted.
    let sent = Blobs::of(&[CSV]).resolve(planned).unwrap();
    assert_eq!(sent.left_out_attachments, 1);
    assert_eq!(
        serde_json::to_value(&sent.request).unwrap()["messages"][0]["content"],
        json!([
            {"type": "text", "text": "first"},
            {"type": "text", "text": "[Attached image: old.png (left out)]"}
        ])
    );
}

#[test]
fn an_older_turns_attachments_that_do_not_fit_go_by_name_if_its_text_fits() {
    // Two images of 1,606 tokens each (with their headers), and short
    // texts: a window of 3,000 (2,250 for the request) holds one.
    let first = sized("first.png", "image/png", 50_000);
    let second = sized("second.png", "image/png", 50_000);
    let events = [
        user("u1", "one", &[&first]),
        reply("r1", "ok"),
        user("u2", "two", &[&second]),
    ];
    let planned = plan(&window(3_000), &events).unwrap();
    assert_eq!((planned.left_out, planned.left_out_attachments), (0, 1));
    assert_eq!(planned.needs, vec![second.clone()]);
    assert_eq!(
        planned.request.messages[0].content.text(),
        "one\n[Attached image: first.png (left out)]"
    );
    // user "one" 5 + its name 10; "ok" 5; "two" 5 + the image 1,607.
    assert_eq!(planned.estimated_tokens, 5 + 10 + 5 + 5 + 1_607);

    // With room, both go whole.
    let roomy = plan(&window(10_000), &events).unwrap();
    assert_eq!(roomy.left_out_attachments, 0);
    assert_eq!(roomy.needs.len(), 2);
}

#[test]
fn a_text_file_counts_like_its_text_and_one_too_large_is_refused_by_name() {
    // 40,000 bytes of CSV: about 10,013 tokens with its header.
    let big = sized("big.csv", "text/csv", 40_000);
    let settings = Settings {
        model: "small-model".into(),
        ..window(8_192)
    };
    let error = plan(&settings, &[user("u1", "sum it", &[&big])]).unwrap_err();
    assert_eq!(
        error,
        ReplyError::AttachmentTooLarge {
            name: "big.csv".into(),
            size: 40_000,
            tokens: 10_013,
            window: 8_192,
            model: "small-model".into(),
        }
    );
    assert!(
        error
            .to_string()
            .starts_with("big.csv (39.1 KB) is about 10013 tokens; small-model reads at most 8192")
    );
    // The composer's check says the same before anything is sent.
    let options = ConversationOptions::default();
    assert_eq!(attachment_fits(&settings, &options, &big), Err(error));
    assert_eq!(
        attachment_fits(&settings, &options, &sized("ok.csv", "text/csv", 4_000)),
        Ok(())
    );
    // In a larger window it goes whole, never cut.
    let fits = plan(&window(20_000), &[user("u1", "sum it", &[&big])]).unwrap();
    assert_eq!(fits.estimated_tokens, 6 + 10_013);
}

#[test]
fn several_attachments_that_fit_alone_but_not_together_are_too_large_as_a_message() {
    let a = sized("a.csv", "text/csv", 4_000);
    let b = sized("b.csv", "text/csv", 4_000);
    let error = plan(&window(2_000), &[user("u1", "x", &[&a, &b])]).unwrap_err();
    assert!(
        matches!(error, ReplyError::TooLarge { needed, window: 2_000, .. } if needed == 5 + 2 * 1_012),
        "{error:?}"
    );
}

#[test]
fn a_request_carries_at_most_the_byte_limit_of_attachments() {
    // 20 MB of PDF is 26.7 MB of base64.
    let heavy = sized("scan.pdf", "application/pdf", 20 << 20);
    let huge_window = window(100_000_000);
    assert_eq!(
        plan(&huge_window, &[user("u1", "read", &[&heavy])]),
        Err(ReplyError::AttachmentsTooHeavy {
            size: crate::bytes::base64_len(20 << 20),
            limit: ATTACHMENT_BYTES_LIMIT
        })
    );
    assert!(attachment_fits(&huge_window, &ConversationOptions::default(), &heavy).is_err());
    // Two images of 10 MB each (13.3 MB as base64): the older goes by name.
    let older = sized("older.png", "image/png", 10 << 20);
    let newer = sized("newer.png", "image/png", 10 << 20);
    let planned = plan(
        &huge_window,
        &[user("u1", "a", &[&older]), user("u2", "b", &[&newer])],
    )
    .unwrap();
    assert_eq!(planned.needs, vec![newer]);
    assert_eq!(planned.left_out_attachments, 1);
}

#[test]
fn a_pdf_costs_by_its_size() {
    let pdf = sized("paper.pdf", "application/pdf", 160_000);
    let planned = plan(&window(100_000), &[user("u1", "", &[&pdf])]).unwrap();
    // The message's overhead and 10,000 tokens of PDF.
    assert_eq!(planned.estimated_tokens, 4 + 10_000);
}

#[test]
fn a_models_own_attachments_are_not_sent_back_as_parts() {
    let chart = sized("chart.png", "image/png", 1_000);
    let mut agent = reply("r1", "Here is the chart.");
    agent
        .content
        .as_mut()
        .unwrap()
        .parts
        .push(Part::attachment(&chart));
    let events = [user("u1", "plot it", &[]), agent, user("u2", "thanks", &[])];
    let planned = plan(&window(100_000), &events).unwrap();
    assert!(planned.needs.is_empty());
    let body = serde_json::to_value(&planned.request).unwrap();
    assert_eq!(
        body["messages"][1],
        json!({"role": "assistant", "content": "Here is the chart."})
    );
}

#[test]
fn continue_sends_an_earlier_question_with_its_attachments() {
    let csv = attached("weather.csv", "text/csv", CSV);
    let mut cut = reply("cut", "The mean is");
    cut.status = MessageStatus::Interrupted;
    let events = [user("u1", "mean temp?", &[&csv]), cut];
    let planned = plan_request(
        &window(10_000),
        &ConversationOptions::default(),
        &events,
        Ask::Continue { event_id: "cut" },
    )
    .unwrap();
    let sent = Blobs::of(&[CSV]).resolve(planned).unwrap();
    let texts: Vec<String> = sent
        .request
        .messages
        .iter()
        .map(|m| m.content.text())
        .collect();
    assert_eq!(
        texts,
        [
            "mean temp?\n[Attached file: weather.csv (text/csv, 20 bytes)]\ncity,temp\nOslo,4\n",
            "The mean is",
            CONTINUE_INSTRUCTION
        ]
    );
}
