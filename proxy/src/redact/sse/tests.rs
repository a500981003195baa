use std::collections::BTreeMap;

use super::*;

const KEY: &str = "sk-abc123";

fn redacted(text: &str) -> String {
    text.replace(KEY, REDACTED)
}

/// One chunk event as LiteLLM and OpenAI send them.
fn event(choices: Value) -> String {
    let chunk = json!({"id": "chatcmpl-1", "object": "chat.completion.chunk", "created": 7, "model": "m", "choices": choices});
    format!("data: {chunk}\n\n")
}

fn delta_event(index: u64, delta: Value) -> String {
    event(json!([{"index": index, "delta": delta}]))
}

fn finish_event(index: u64) -> String {
    event(json!([{"index": index, "delta": {}, "finish_reason": "stop"}]))
}

const DONE: &str = "data: [DONE]\n\n";

/// Where a piece of text goes in a delta: the fields the tests stream.
#[derive(Clone, Copy, Debug)]
enum Field {
    Content,
    Reasoning,
    ToolArguments,
}

impl Field {
    fn delta(self, text: &str) -> Value {
        match self {
            Self::Content => json!({"content": text}),
            Self::Reasoning => json!({"reasoning_content": text}),
            Self::ToolArguments => {
                json!({"tool_calls": [{"index": 0, "function": {"arguments": text}}]})
            }
        }
    }
}

fn redactor() -> SseRedactor {
    SseRedactor::new(KEY.as_bytes()).unwrap()
}

/// Each input event pushed on its own; what came out of each push, and
/// of `finish` last.
fn outputs(events: &[String]) -> Vec<String> {
    let mut redactor = redactor();
    let mut out: Vec<String> = events
        .iter()
        .map(|e| String::from_utf8(redactor.push(e.as_bytes())).unwrap())
        .collect();
    out.push(String::from_utf8(redactor.finish()).unwrap());
    out
}

fn run(events: &[String]) -> String {
    outputs(events).concat()
}

/// The `data:` payloads of a body, as a client's SSE parser sees them.
fn payloads(body: &str) -> Vec<String> {
    let mut framer = Framer::default();
    framer.push(body.as_bytes());
    let mut payloads = Vec::new();
    while let Some(event) = framer.next_event(true) {
        if let Some(data) = data_of(&event) {
            payloads.push(String::from_utf8(data).unwrap());
        }
    }
    assert!(
        framer.take_pending().is_empty(),
        "every event ends: {body:?}"
    );
    payloads
}

/// The text a client assembles, by choice and field, read the way clients
/// read them (not with the code under test's walk).
fn assembled(body: &str) -> BTreeMap<(u64, String), String> {
    let mut texts: BTreeMap<(u64, String), String> = BTreeMap::new();
    for data in payloads(body) {
        let Ok(chunk) = serde_json::from_str::<Value>(&data) else {
            continue;
        };
        for choice in chunk["choices"].as_array().into_iter().flatten() {
            let index = choice["index"].as_u64().unwrap();
            let delta = &choice["delta"];
            let mut add = |field: String, text: &Value| {
                if let Some(text) = text.as_str() {
                    texts.entry((index, field)).or_default().push_str(text);
                }
            };
            for field in ["content", "reasoning_content", "reasoning", "refusal"] {
                add(field.to_owned(), &delta[field]);
            }
            for call in delta["tool_calls"].as_array().into_iter().flatten() {
                let field = format!("tool_calls[{}].arguments", call["index"]);
                add(field, &call["function"]["arguments"]);
            }
            for detail in delta["reasoning_details"].as_array().into_iter().flatten() {
                let field = format!("reasoning_details[{}].text", detail["index"]);
                add(field, &detail["text"]);
            }
        }
    }
    texts
}

fn field_name(field: Field) -> &'static str {
    match field {
        Field::Content => "content",
        Field::Reasoning => "reasoning_content",
        Field::ToolArguments => "tool_calls[0].arguments",
    }
}

/// Streams `pieces` of one field of choice 0, then a finish and `[DONE]`;
/// checks the output is the text with the key redacted, never holds back
/// a key's length or more, and never contains the key.
fn check_pieces(field: Field, pieces: &[&str]) {
    let text = pieces.concat();
    let mut events: Vec<String> = pieces
        .iter()
        .map(|piece| delta_event(0, field.delta(piece)))
        .collect();
    events.extend([finish_event(0), DONE.to_owned()]);
    let mut redactor = redactor();
    let (mut sent, mut shown) = (String::new(), String::new());
    for (event, piece) in events.iter().zip(pieces) {
        let out = String::from_utf8(redactor.push(event.as_bytes())).unwrap();
        assert!(!out.contains(KEY), "{pieces:?}: {out}");
        sent.push_str(piece);
        if let Some(new) = assembled(&out).remove(&(0, field_name(field).to_owned())) {
            shown.push_str(&new);
        }
        let expected = redacted(&sent);
        assert!(
            expected.starts_with(&shown),
            "{pieces:?}: shown {shown:?} of {expected:?}"
        );
        let held = expected.chars().count() - shown.chars().count();
        assert!(held < KEY.len(), "{pieces:?}: {held} characters held");
    }
    let mut body = String::new();
    for event in &events[pieces.len()..] {
        body.push_str(&String::from_utf8(redactor.push(event.as_bytes())).unwrap());
    }
    body.push_str(&String::from_utf8(redactor.finish()).unwrap());
    assert!(!body.contains(KEY));
    let rest = assembled(&body)
        .remove(&(0, field_name(field).to_owned()))
        .unwrap_or_default();
    assert_eq!(shown + &rest, redacted(&text), "{pieces:?}");
    assert_eq!(payloads(&body).last().map(String::as_str), Some("[DONE]"));
}

#[test]
fn the_key_split_anywhere_across_two_or_three_events_is_redacted() {
    let text = "Your key: sk-abc123, keep it.";
    for field in [Field::Content, Field::Reasoning, Field::ToolArguments] {
        for a in 0..=text.len() {
            check_pieces(field, &[&text[..a], &text[a..]]);
            for b in a..=text.len() {
                check_pieces(field, &[&text[..a], &text[a..b], &text[b..]]);
            }
        }
    }
}

#[test]
fn three_characters_per_event_as_litellm_streams() {
    let text = "The key is sk-abc123; again: sk-abc123sk-abc123, and sk-abc12 is not it. sk";
    let chars: Vec<char> = text.chars().collect();
    let pieces: Vec<String> = chars.chunks(3).map(|c| c.iter().collect()).collect();
    let pieces: Vec<&str> = pieces.iter().map(String::as_str).collect();
    for field in [Field::Content, Field::Reasoning, Field::ToolArguments] {
        check_pieces(field, &pieces);
    }
}

#[test]
fn the_stream_may_be_split_anywhere_in_its_bytes() {
    let pieces = ["Key: sk-a", "bc1", "23 é🎉 sk-", "abc123!"];
    // A byte order mark first, which the stream may start with.
    let mut input: String = "\u{feff}".to_owned();
    input.extend(pieces.iter().map(|p| delta_event(0, json!({"content": p}))));
    input.push_str(&finish_event(0));
    input.push_str(DONE);
    for size in [1, 2, 5, 17] {
        let mut redactor = redactor();
        let mut body = Vec::new();
        for bytes in input.as_bytes().chunks(size) {
            body.extend(redactor.push(bytes));
        }
        body.extend(redactor.finish());
        let body = String::from_utf8(body).unwrap();
        assert!(!body.contains(KEY));
        assert_eq!(
            assembled(&body)[&(0, "content".to_owned())],
            "Key: [redacted] é🎉 [redacted]!",
            "pushed {size} bytes at a time"
        );
    }
}

#[test]
fn choices_interleaved_are_assembled_apart() {
    let first = "one sk-abc123 two";
    let second = "sk-abc123 three sk-abc1";
    let mut events = Vec::new();
    let (a, b): (Vec<_>, Vec<_>) = (
        first.as_bytes().chunks(2).collect(),
        second.as_bytes().chunks(3).collect(),
    );
    for step in 0..a.len().max(b.len()) {
        for (index, pieces) in [(1, &b), (0, &a)] {
            if let Some(piece) = pieces.get(step) {
                let piece = std::str::from_utf8(piece).unwrap();
                events.push(delta_event(index, json!({"content": piece})));
            }
        }
    }
    // And both choices in one event, choice 1 first.
    events.push(event(json!([
        {"index": 1, "delta": {"content": "23 four"}},
        {"index": 0, "delta": {"content": " sk-abc"}},
    ])));
    events.push(event(json!([{"index": 0, "delta": {"content": "123"}}])));
    events.push(DONE.to_owned());
    let body = run(&events);
    assert!(!body.contains(KEY), "{body}");
    let texts = assembled(&body);
    assert_eq!(
        texts[&(0, "content".to_owned())],
        redacted(&format!("{first} sk-abc123"))
    );
    assert_eq!(
        texts[&(1, "content".to_owned())],
        redacted(&format!("{second}23 four"))
    );
    assert_eq!(
        texts[&(1, "content".to_owned())],
        "[redacted] three [redacted] four"
    );
}

#[test]
fn the_key_twice_and_back_to_back() {
    let text = "sk-abc123 and sk-abc123sk-abc123.";
    for cut in 0..=text.len() {
        let events = [
            delta_event(0, json!({"content": &text[..cut]})),
            delta_event(0, json!({"content": &text[cut..]})),
            DONE.to_owned(),
        ];
        let body = run(&events);
        assert_eq!(
            assembled(&body)[&(0, "content".to_owned())],
            "[redacted] and [redacted][redacted].",
            "cut at {cut}"
        );
    }
}

/// The content of each output event, in order (`None` for one without).
fn contents(body: &str) -> Vec<Option<String>> {
    payloads(body)
        .iter()
        .map(|data| {
            let chunk: Value = serde_json::from_str(data).ok()?;
            chunk["choices"][0]["delta"]["content"]
                .as_str()
                .map(str::to_owned)
        })
        .collect()
}

/// Pushes one event with `content` for choice `index`; the content that
/// comes out (of one event, which must come out).
fn push_content(redactor: &mut SseRedactor, index: u64, content: &str) -> String {
    let out = redactor.push(delta_event(index, json!({"content": content})).as_bytes());
    let texts = assembled(std::str::from_utf8(&out).unwrap());
    assert_eq!(payloads(std::str::from_utf8(&out).unwrap()).len(), 1);
    texts
        .get(&(index, "content".to_owned()))
        .cloned()
        .unwrap_or_default()
}

#[test]
fn a_near_miss_is_released_unchanged_and_in_order() {
    let out = outputs(&[
        delta_event(0, json!({"content": "abc sk-ab"})),
        delta_event(0, json!({"content": "c12"})),
        delta_event(0, json!({"content": "x sk"})),
        delta_event(0, json!({"content": "!"})),
        DONE.to_owned(),
    ]);
    let per_event: Vec<Vec<Option<String>>> = out.iter().map(|o| contents(o)).collect();
    let some = |s: &str| Some(s.to_owned());
    assert_eq!(
        per_event,
        [
            vec![some("abc ")],
            vec![some("")],
            vec![some("sk-abc12x ")],
            vec![some("sk!")],
            vec![None],
            vec![],
        ]
    );
}

#[test]
fn held_text_is_released_when_the_choice_finishes() {
    // Content held at the finish goes into the finishing event's delta.
    let out = outputs(&[
        delta_event(0, json!({"content": "Use sk-"})),
        finish_event(0),
        DONE.to_owned(),
    ]);
    assert_eq!(contents(&out[0]), [Some("Use ".to_owned())]);
    let finish: Value = serde_json::from_str(&payloads(&out[1])[0]).unwrap();
    assert_eq!(finish["choices"][0]["delta"], json!({"content": "sk-"}));
    assert_eq!(finish["choices"][0]["finish_reason"], "stop");
    assert_eq!(out[2], DONE, "nothing left to release");

    // Text in the finishing event itself is not held back; a tool call's
    // arguments are put back at their path.
    let out = outputs(&[
        delta_event(0, Field::ToolArguments.delta("{\"k\":\"sk-a")),
        event(
            json!([{"index": 0, "delta": {"content": "done sk"}, "finish_reason": "tool_calls"}]),
        ),
    ]);
    let finish: Value = serde_json::from_str(&payloads(&out[1])[0]).unwrap();
    assert_eq!(
        finish["choices"][0]["delta"],
        json!({"content": "done sk", "tool_calls": [{"index": 0, "function": {"arguments": "sk-a"}}]})
    );
    assert_eq!(out[2], "", "nothing held at the end");
}

#[test]
fn held_text_is_released_before_done_with_the_last_chunks_identity() {
    let out = outputs(&[
        delta_event(
            0,
            json!({"reasoning_content": "Think sk-abc1", "content": "x"}),
        ),
        delta_event(0, json!({"content": "Answer sk-"})),
        DONE.to_owned(),
    ]);
    let released = payloads(&out[2]);
    assert_eq!(released.len(), 2, "{released:?}");
    let chunk: Value = serde_json::from_str(&released[0]).unwrap();
    assert_eq!(
        chunk,
        json!({"id": "chatcmpl-1", "object": "chat.completion.chunk", "created": 7, "model": "m",
               "choices": [{"index": 0, "delta": {"content": "sk-", "reasoning_content": "sk-abc1"}}]})
    );
    assert_eq!(released[1], "[DONE]");
}

#[test]
fn held_text_is_released_at_the_end_of_the_stream() {
    let mut redactor = redactor();
    assert_eq!(push_content(&mut redactor, 2, "Hi sk-ab"), "Hi ");
    // An event cut off by the end of the stream is dropped (a client
    // discards it too); what was held is not.
    let cut = delta_event(2, json!({"content": "c123"}));
    assert!(redactor.push(&cut.as_bytes()[..20]).is_empty());
    let end = String::from_utf8(redactor.finish()).unwrap();
    let texts = assembled(&end);
    assert_eq!(texts[&(2, "content".to_owned())], "sk-ab");
    assert!(redactor.finish().is_empty(), "released once");
}

#[test]
fn held_text_is_released_before_an_error_frame() {
    // The upstream's own error frame.
    let out = outputs(&[
        delta_event(0, json!({"content": "a sk-abc"})),
        "data: {\"error\":{\"message\":\"boom\"}}\n\n".to_owned(),
    ]);
    let released = payloads(&out[1]);
    assert_eq!(released.len(), 2);
    assert_eq!(assembled(&out[1])[&(0, "content".to_owned())], "sk-abc");
    assert_eq!(released[1], "{\"error\":{\"message\":\"boom\"}}");
    // Before the proxy's own error frame, the relay calls `finish`.
    let mut redactor = redactor();
    redactor.push(delta_event(0, json!({"content": "a sk-abc"})).as_bytes());
    let released = String::from_utf8(redactor.finish()).unwrap();
    assert_eq!(assembled(&released)[&(0, "content".to_owned())], "sk-abc");
    assert!(
        released.ends_with("\n\n"),
        "an error frame can follow at once"
    );
}

#[test]
fn multi_byte_text_around_the_key() {
    let text = "héllo 🎉sk-abc123🎉 ü€ sk-abc12€ sk-ab";
    let boundaries: Vec<usize> = text
        .char_indices()
        .map(|(at, _)| at)
        .chain([text.len()])
        .collect();
    for &a in &boundaries {
        for &b in boundaries.iter().filter(|&&b| b >= a) {
            check_pieces(Field::Content, &[&text[..a], &text[a..b], &text[b..]]);
        }
    }
}

#[test]
fn a_key_with_multi_byte_characters_is_held_back_by_whole_characters() {
    let key = "ключ-1";
    assert_eq!(redact(key, "а клю", true), ("а ".to_owned(), "клю"));
    assert_eq!(
        redact(key, "ключ-1 и кл", true),
        ("[redacted] и ".to_owned(), "кл")
    );
    assert_eq!(
        redact(key, "ключ-1 и кл", false),
        ("[redacted] и кл".to_owned(), "")
    );
    let mut redactor = SseRedactor::new(key.as_bytes()).unwrap();
    let mut body = redactor.push(delta_event(0, json!({"content": "= клю"})).as_bytes());
    body.extend(redactor.push(delta_event(0, json!({"content": "ч-1!"})).as_bytes()));
    body.extend(redactor.finish());
    let body = String::from_utf8(body).unwrap();
    assert_eq!(
        assembled(&body)[&(0, "content".to_owned())],
        "= [redacted]!"
    );
}

#[test]
fn a_frame_that_needs_nothing_passes_byte_for_byte() {
    let input = concat!(
        "\u{feff}: ping\n\n",
        "data: { \"choices\" : [ {\"index\":0, \"delta\": {\"role\":\"assistant\", \"content\":\"It is s\u{e9}\"}} ] , \"z\": 1.50 }\n\n",
        "event: note\r\nid: 4\r\ndata: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"kept\"}}]}\r\n\r\n",
        "data: not json, sk\n\n",
        "data: {\"object\":\"chat.completion.chunk\",\"choices\":[{\"index\":0,\"delta\":{}}],\"usage\":{\"total_tokens\":9}}\n\n",
        "data: [DONE]\n\n",
    );
    for size in [1, 7, input.len()] {
        let mut redactor = redactor();
        let mut body = Vec::new();
        for bytes in input.as_bytes().chunks(size) {
            body.extend(redactor.push(bytes));
        }
        body.extend(redactor.finish());
        assert_eq!(String::from_utf8(body).unwrap(), input);
    }
}

#[test]
fn a_rewritten_event_keeps_its_other_lines_and_line_endings() {
    let out = outputs(&[
        "event: chunk\r\nid: 1\r\ndata: {\"choices\":[{\"index\":0,\r\ndata: \"delta\":{\"content\":\"a sk-\"}}]}\r\n\r\n".to_owned(),
        "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"abc123 b\"}}]}\r\n\r\n".to_owned(),
    ]);
    // Each event: its lines in order, CRLF endings, one data line.
    let lines_of = |event: &str| -> Vec<String> {
        let body = event
            .strip_suffix("\r\n\r\n")
            .expect("ends with a CRLF blank line");
        body.split("\r\n").map(str::to_owned).collect()
    };
    let data = |line: &str| -> Value {
        serde_json::from_str(line.strip_prefix("data: ").unwrap()).unwrap()
    };
    let first = lines_of(&out[0]);
    assert_eq!(first[..2], ["event: chunk", "id: 1"]);
    assert_eq!(first.len(), 3, "{first:?}");
    assert_eq!(
        data(&first[2]),
        json!({"choices": [{"index": 0, "delta": {"content": "a "}}]})
    );
    let second = lines_of(&out[1]);
    assert_eq!(second.len(), 1, "{second:?}");
    assert_eq!(
        data(&second[0]),
        json!({"choices": [{"index": 0, "delta": {"content": "[redacted] b"}}]})
    );
}

#[test]
fn strings_the_client_does_not_concatenate_are_never_held_back() {
    let events = [delta_event(
        0,
        json!({"role": "assistant", "tool_calls": [{"index": 0, "id": "call_sk", "type": "function", "function": {"name": "s", "arguments": ""}}]}),
    )];
    let out = outputs(&events);
    assert_eq!(out[0], events[0], "passed as it came");
}

#[test]
fn reasoning_details_and_other_fields_are_redacted_by_their_index() {
    let detail = |index: u64, text: &str| json!({"reasoning_details": [{"type": "reasoning.text", "index": index, "text": text}], "refusal": ""});
    let body = run(&[
        delta_event(0, detail(0, "Plan: sk-ab")),
        delta_event(0, detail(1, "other sk-abc1")),
        delta_event(0, detail(0, "c123 done")),
        delta_event(0, json!({"refusal": "no sk-abc"})),
        delta_event(0, json!({"refusal": "123"})),
        finish_event(0),
    ]);
    let texts = assembled(&body);
    assert_eq!(
        texts[&(0, "reasoning_details[0].text".to_owned())],
        "Plan: [redacted] done"
    );
    assert_eq!(
        texts[&(0, "reasoning_details[1].text".to_owned())],
        "other sk-abc1"
    );
    assert_eq!(texts[&(0, "refusal".to_owned())], "no [redacted]");
}

#[test]
fn an_event_that_never_ends_is_passed_on_unframed() {
    let mut redactor = redactor();
    assert_eq!(push_content(&mut redactor, 0, "x sk-a"), "x ");
    let endless = "data: ".to_owned() + &"y".repeat(MAX_EVENT_BYTES);
    let out = String::from_utf8(redactor.push(endless.as_bytes())).unwrap();
    // What was held goes out first, as its own event; then the bytes.
    let (released, rest) = out.split_once("\n\n").unwrap();
    assert_eq!(
        assembled(&format!("{released}\n\n"))[&(0, "content".to_owned())],
        "sk-a"
    );
    assert_eq!(rest, endless);
    assert_eq!(redactor.push(b"more\n\n"), b"more\n\n");
    assert!(redactor.finish().is_empty());
}

#[test]
fn no_key_means_no_event_stage() {
    assert!(SseRedactor::new(b"").is_none());
    assert!(SseRedactor::new(b"\xff\xfe").is_none());
}
