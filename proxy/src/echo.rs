//! `confab-echo`, the built-in offline model: a deterministic reply that
//! shows it received the whole conversation, streamed token by token in the
//! OpenAI format, so the app works with no API key and no network. Its
//! reasoning variant, `confab-echo-think`, first streams a short reasoning
//! in `delta.reasoning_content`, as DeepSeek does. Attachments in the
//! latest user message (images, files, text files, as the client sends
//! them) are listed with their type and size, to show they arrived.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use bytes::Bytes;
use futures_util::Stream;
use serde_json::{Value, json};

use crate::config::{ECHO_MODEL, ECHO_THINK_MODEL};

/// Longest quote of a message, in characters.
const QUOTE_CHARS: usize = 200;

const OPENING: &str = "I am confab-echo, the offline demo model built into confab-proxy. No real model is connected, so I answer by echoing.";
const CLOSING: &str = "To talk to a real model, restart the proxy with CONFAB_UPSTREAM_URL (for example https://api.openai.com/v1) and CONFAB_UPSTREAM_API_KEY set; see the README.";

/// The text of a message's `content`: a string, or an array of parts of
/// which the `text` ones count.
fn content_text(content: &Value) -> String {
    match content {
        Value::String(text) => text.clone(),
        Value::Array(parts) => parts
            .iter()
            .filter_map(|p| p.get("text").and_then(Value::as_str))
            .collect::<Vec<_>>()
            .join(""),
        _ => String::new(),
    }
}

/// What the client puts right before an image part: `[Attached image: <name>]`.
const IMAGE_MARKER: (&str, &str) = ("[Attached image: ", "]");
/// The first line of a text file's part: `[Attached file: <name> (<mime>, <N> bytes)]`.
const FILE_HEADER: (&str, &str) = ("[Attached file: ", " bytes)]");

/// What the user typed in a message: its text without the parts that
/// carry attachments (an image's name, a text file's contents), so the
/// quote is their words and not a file.
fn typed_text(content: &Value) -> String {
    match content {
        Value::Array(parts) => parts
            .iter()
            .filter_map(|p| p.get("text").and_then(Value::as_str))
            .filter(|t| image_marker(t).is_none() && text_file(t).is_none())
            .collect::<Vec<_>>()
            .join(""),
        other => content_text(other),
    }
}

/// The name in an `[Attached image: <name>]` part.
fn image_marker(text: &str) -> Option<&str> {
    let (open, close) = IMAGE_MARKER;
    text.strip_prefix(open)?
        .strip_suffix(close)
        .filter(|name| !name.is_empty() && !name.contains('\n'))
}

/// The attachment a text part starting with `[Attached file: <name>
/// (<mime>, <N> bytes)]` and a newline describes.
fn text_file(text: &str) -> Option<Attachment> {
    let (open, close) = FILE_HEADER;
    let (header, _) = text.split_once('\n')?;
    let inner = header.strip_prefix(open)?.strip_suffix(close)?;
    // The name may hold " (": the type and size are after the last one.
    let (name, details) = inner.rsplit_once(" (")?;
    let (mime, size) = details.rsplit_once(", ")?;
    let size = size.replace(',', "");
    if name.is_empty() || mime.is_empty() || size.is_empty() {
        return None;
    }
    Some(Attachment {
        name: name.to_owned(),
        mime: Some(mime.to_owned()),
        bytes: Some(size.parse().ok()?),
    })
}

/// One attachment of a message, as far as it can be told without
/// decoding it.
#[derive(Debug, PartialEq, Eq)]
struct Attachment {
    name: String,
    mime: Option<String>,
    bytes: Option<u64>,
}

impl Attachment {
    fn from_url(name: Option<&str>, fallback: &str, url: Option<&str>) -> Self {
        let data = url.and_then(data_url);
        Self {
            name: name.unwrap_or(fallback).to_owned(),
            mime: data.as_ref().map(|(mime, _)| mime.clone()),
            bytes: data.map(|(_, bytes)| bytes),
        }
    }

    fn describe(&self) -> String {
        match (&self.mime, self.bytes) {
            (Some(mime), Some(bytes)) => {
                format!("{} ({mime}, {} bytes)", self.name, thousands(bytes))
            }
            (Some(mime), None) => format!("{} ({mime})", self.name),
            (None, _) => self.name.clone(),
        }
    }
}

/// The media type and decoded size of a `data:` URL, counted from its
/// length: a 10 MB file need not be decoded to be measured.
fn data_url(url: &str) -> Option<(String, u64)> {
    let (meta, payload) = url.strip_prefix("data:")?.split_once(',')?;
    let mut params = meta.split(';');
    let mime = match params.next() {
        Some(m) if !m.is_empty() => m.to_ascii_lowercase(),
        // RFC 2397's default.
        _ => "text/plain".to_owned(),
    };
    let bytes = if params.any(|p| p.eq_ignore_ascii_case("base64")) {
        // Four characters carry three bytes; `=` padding carries none.
        let chars = payload
            .bytes()
            .filter(|b| !b.is_ascii_whitespace() && *b != b'=')
            .count() as u64;
        chars * 3 / 4
    } else {
        // Percent-encoded: each `%XX` is one byte.
        payload
            .len()
            .saturating_sub(2 * payload.matches('%').count()) as u64
    };
    Some((mime, bytes))
}

/// `12345` as `12,345`.
fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// The attachments of a message's content parts, in order: images
/// (`image_url`, named by the marker part right before), files (`file`)
/// and text files (a text part with the header line).
fn attachments(content: &Value) -> Vec<Attachment> {
    let Value::Array(parts) = content else {
        return Vec::new();
    };
    fn text(part: &Value) -> Option<&str> {
        part.get("text").and_then(Value::as_str)
    }
    let mut found = Vec::new();
    for (i, part) in parts.iter().enumerate() {
        match part.get("type").and_then(Value::as_str) {
            Some("image_url") => {
                let name = i
                    .checked_sub(1)
                    .and_then(|before| text(&parts[before]))
                    .and_then(image_marker);
                let url = part.pointer("/image_url/url").and_then(Value::as_str);
                found.push(Attachment::from_url(name, "an image", url));
            }
            Some("file") => {
                let name = part.pointer("/file/filename").and_then(Value::as_str);
                let url = part.pointer("/file/file_data").and_then(Value::as_str);
                found.push(Attachment::from_url(name, "a file", url));
            }
            _ => found.extend(text(part).and_then(text_file)),
        }
    }
    found
}

/// `You attached 2 files: a (…); b (…).`, or nothing without attachments.
fn attachments_sentence(content: &Value) -> Option<String> {
    let found = attachments(content);
    let list: Vec<String> = found.iter().map(Attachment::describe).collect();
    match list.len() {
        0 => None,
        1 => Some(format!("You attached 1 file: {}.", list[0])),
        n => Some(format!("You attached {n} files: {}.", list.join("; "))),
    }
}

fn quote(text: &str) -> String {
    let text = text.trim();
    if text.chars().count() <= QUOTE_CHARS {
        return text.to_owned();
    }
    let cut: String = text.chars().take(QUOTE_CHARS).collect();
    format!("{}…", cut.trim_end())
}

/// The reply to a conversation (`messages` in OpenAI's format).
pub fn reply_text(messages: &[Value]) -> String {
    let of_role = |role: &str| -> Vec<String> {
        messages
            .iter()
            .filter(|m| m.get("role").and_then(Value::as_str) == Some(role))
            .map(|m| content_text(m.get("content").unwrap_or(&Value::Null)))
            .collect()
    };
    let users: Vec<String> = messages
        .iter()
        .filter(|m| m.get("role").and_then(Value::as_str) == Some("user"))
        .map(|m| typed_text(m.get("content").unwrap_or(&Value::Null)))
        .collect();
    let system: usize = of_role("system").iter().map(|s| s.chars().count()).sum();
    let mut parts = vec![OPENING.to_owned()];
    match users.as_slice() {
        [] => parts.push("This conversation has no user message, so there is nothing to echo.".into()),
        [only] => parts.push(format!(
            "This is turn 1 of our conversation. You said: \"{}\".",
            quote(only)
        )),
        [first, .., latest] => parts.push(format!(
            "This is turn {} of our conversation. Your first message was: \"{}\". Your latest message is: \"{}\".",
            users.len(),
            quote(first),
            quote(latest)
        )),
    }
    let latest = messages
        .iter()
        .rfind(|m| m.get("role").and_then(Value::as_str) == Some("user"));
    if let Some(sentence) = latest.and_then(|m| attachments_sentence(m.get("content")?)) {
        parts.push(sentence);
    }
    if system > 0 {
        parts.push(format!(
            "I was given a system prompt of {system} characters."
        ));
    }
    parts.push(CLOSING.to_owned());
    parts.join(" ")
}

/// What `confab-echo-think` thinks before answering: a few sentences that
/// show it read the latest message.
pub fn reasoning_text(messages: &[Value]) -> String {
    let users = messages
        .iter()
        .filter(|m| m.get("role").and_then(Value::as_str) == Some("user"))
        .count();
    let latest = messages
        .iter()
        .rfind(|m| m.get("role").and_then(Value::as_str) == Some("user"))
        .map(|m| typed_text(m.get("content").unwrap_or(&Value::Null)))
        .unwrap_or_default();
    format!(
        "The user wrote \"{}\" (message {users} of theirs). No real model is connected, so the honest answer is to echo it and say how to connect one.",
        quote(&latest)
    )
}

/// Splits text into word-sized tokens that keep their trailing whitespace,
/// so the tokens concatenate back to the text exactly.
pub fn tokens(text: &str) -> Vec<&str> {
    let mut tokens = Vec::new();
    let mut start = 0;
    let mut in_space = false;
    for (i, c) in text.char_indices() {
        if c.is_whitespace() {
            in_space = true;
        } else if in_space {
            tokens.push(&text[start..i]);
            start = i;
            in_space = false;
        }
    }
    if start < text.len() {
        tokens.push(&text[start..]);
    }
    tokens
}

/// A rough token count (four characters a token) for the usage chunk.
fn estimate_tokens(text: &str) -> u64 {
    text.chars().count().div_ceil(4) as u64
}

/// The request facts the echo model needs.
pub struct EchoRequest {
    pub messages: Vec<Value>,
    pub include_usage: bool,
    /// `confab-echo-think`: reason before answering.
    pub think: bool,
}

impl EchoRequest {
    pub fn from_json(body: &Value) -> Self {
        Self {
            messages: body
                .get("messages")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default(),
            include_usage: body
                .pointer("/stream_options/include_usage")
                .and_then(Value::as_bool)
                .unwrap_or(false),
            think: body.get("model").and_then(Value::as_str) == Some(ECHO_THINK_MODEL),
        }
    }

    fn model(&self) -> &'static str {
        if self.think {
            ECHO_THINK_MODEL
        } else {
            ECHO_MODEL
        }
    }

    /// The reasoning, for the thinking variant.
    fn reasoning(&self) -> Option<String> {
        self.think.then(|| reasoning_text(&self.messages))
    }

    fn prompt_tokens(&self) -> u64 {
        self.messages
            .iter()
            .map(|m| estimate_tokens(&content_text(m.get("content").unwrap_or(&Value::Null))))
            .sum()
    }
}

fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// Unique within the process: the time alone repeats within a second.
fn completion_id() -> String {
    static NEXT: AtomicU64 = AtomicU64::new(1);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    format!("chatcmpl-echo-{}-{n}", unix_now())
}

fn usage(request: &EchoRequest, text: &str) -> Value {
    let prompt = request.prompt_tokens();
    let reasoning = request.reasoning().map(|r| estimate_tokens(&r));
    let completion = estimate_tokens(text) + reasoning.unwrap_or(0);
    let mut usage = json!({
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
    });
    if let Some(reasoning) = reasoning {
        usage["completion_tokens_details"] = json!({ "reasoning_tokens": reasoning });
    }
    usage
}

/// A whole `chat.completion` object (for `"stream": false`).
pub fn completion(request: &EchoRequest) -> Value {
    let text = reply_text(&request.messages);
    let mut message = json!({"role": "assistant", "content": text});
    if let Some(reasoning) = request.reasoning() {
        message["reasoning_content"] = json!(reasoning);
    }
    json!({
        "id": completion_id(),
        "object": "chat.completion",
        "created": unix_now(),
        "model": request.model(),
        "choices": [{
            "index": 0,
            "message": message,
            "finish_reason": "stop",
        }],
        "usage": usage(request, &text),
    })
}

/// Every SSE frame of the streamed reply, in order.
pub fn frames(request: &EchoRequest) -> Vec<String> {
    let id = completion_id();
    let created = unix_now();
    let model = request.model();
    let chunk = |delta: Value, finish: Value| {
        json!({
            "id": id,
            "object": "chat.completion.chunk",
            "created": created,
            "model": model,
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
        })
    };
    let text = reply_text(&request.messages);
    let mut frames = vec![chunk(
        json!({"role": "assistant", "content": ""}),
        Value::Null,
    )];
    let reasoning = request.reasoning().unwrap_or_default();
    frames.extend(tokens(&reasoning).into_iter().map(|t| {
        chunk(
            json!({ "content": null, "reasoning_content": t }),
            Value::Null,
        )
    }));
    frames.extend(
        tokens(&text)
            .into_iter()
            .map(|t| chunk(json!({ "content": t }), Value::Null)),
    );
    frames.push(chunk(json!({}), json!("stop")));
    if request.include_usage {
        frames.push(json!({
            "id": id,
            "object": "chat.completion.chunk",
            "created": created,
            "model": model,
            "choices": [],
            "usage": usage(request, &text),
        }));
    }
    let mut frames: Vec<String> = frames.iter().map(|f| format!("data: {f}\n\n")).collect();
    frames.push("data: [DONE]\n\n".to_owned());
    frames
}

/// The frames as a body stream, one every `delay`. When the client goes
/// away the body is dropped, and the stream with it: nothing keeps running.
pub fn stream(
    request: &EchoRequest,
    delay: Duration,
) -> impl Stream<Item = Result<Bytes, std::convert::Infallible>> + Send + 'static {
    let frames = frames(request).into_iter();
    futures_util::stream::unfold((frames, true), move |(mut frames, first)| async move {
        let frame = frames.next()?;
        if !first {
            tokio::time::sleep(delay).await;
        }
        Some((Ok(Bytes::from(frame)), (frames, false)))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn msg(role: &str, content: &str) -> Value {
        json!({"role": role, "content": content})
    }

    #[test]
    fn turn_one_quotes_the_message_and_says_what_it_is() {
        let text = reply_text(&[msg("user", "Plan a trip to Paris")]);
        assert!(text.starts_with("I am confab-echo, the offline demo model"));
        assert!(
            text.contains(
                "This is turn 1 of our conversation. You said: \"Plan a trip to Paris\"."
            )
        );
        assert!(text.contains("CONFAB_UPSTREAM_URL"));
        assert!(!text.contains("system prompt"));
    }

    #[test]
    fn later_turns_quote_the_first_and_latest_messages() {
        let text = reply_text(&[
            msg("system", "Be brief."),
            msg("user", "first question"),
            msg("assistant", "an answer"),
            msg("user", "second"),
            msg("assistant", "another"),
            msg("user", "third question"),
        ]);
        assert!(
            text.contains("This is turn 3 of our conversation."),
            "{text}"
        );
        assert!(text.contains("Your first message was: \"first question\"."));
        assert!(text.contains("Your latest message is: \"third question\"."));
        assert!(text.contains("I was given a system prompt of 9 characters."));
    }

    #[test]
    fn long_messages_are_truncated_and_parts_are_read() {
        let long = "a".repeat(500);
        let text = reply_text(&[msg("user", &long)]);
        assert!(text.contains(&format!("\"{}…\"", "a".repeat(QUOTE_CHARS))));
        assert!(!text.contains(&"a".repeat(QUOTE_CHARS + 1)));
        let parts = json!({"role": "user", "content": [
            {"type": "text", "text": "from "}, {"type": "image_url"}, {"type": "text", "text": "parts"}
        ]});
        assert!(reply_text(&[parts]).contains("You said: \"from parts\""));
        assert!(reply_text(&[]).contains("no user message"));
    }

    /// A data URL of `bytes` zero bytes: base64 writes each three as
    /// `AAAA`, and a last one or two as `AA==` or `AAA=`.
    fn data(mime: &str, bytes: usize) -> String {
        let tail = match bytes % 3 {
            0 => "",
            1 => "AA==",
            _ => "AAA=",
        };
        format!("data:{mime};base64,{}{tail}", "AAAA".repeat(bytes / 3))
    }

    #[test]
    fn attachments_of_the_latest_message_are_quoted_with_type_and_size() {
        let content = json!([
            {"type": "text", "text": "What is in these?"},
            {"type": "text", "text": "[Attached image: chart.png]"},
            {"type": "image_url", "image_url": {"url": data("image/png", 12_345)}},
            {"type": "file", "file": {"filename": "report.pdf", "file_data": data("application/pdf", 4_567)}},
            {"type": "text", "text": "[Attached file: notes (v2).md (text/markdown, 1234567 bytes)]\n# Notes\nline"},
        ]);
        let text = reply_text(&[json!({"role": "user", "content": content})]);
        assert!(
            text.contains(
                "You attached 3 files: chart.png (image/png, 12,345 bytes); report.pdf (application/pdf, 4,567 bytes); notes (v2).md (text/markdown, 1,234,567 bytes)."
            ),
            "{text}"
        );
        // The quote is what was typed, not the marker or the file's text.
        assert!(text.contains("You said: \"What is in these?\"."), "{text}");
        assert!(!text.contains("# Notes"), "{text}");
        // Right after the turn sentence, before the closing one.
        assert!(text.find("You said").unwrap() < text.find("You attached").unwrap());
        assert!(text.find("You attached").unwrap() < text.find(CLOSING).unwrap());
    }

    #[test]
    fn only_the_latest_user_message_s_attachments_are_quoted() {
        let with_file = json!({"role": "user", "content": [
            {"type": "text", "text": "[Attached image: old.png]"},
            {"type": "image_url", "image_url": {"url": data("image/jpeg", 3)}},
        ]});
        let text = reply_text(&[
            with_file.clone(),
            msg("assistant", "seen"),
            msg("user", "and now?"),
        ]);
        assert!(!text.contains("You attached"), "{text}");
        let text = reply_text(&[msg("user", "hi"), with_file]);
        assert!(
            text.contains("You attached 1 file: old.png (image/jpeg, 3 bytes)."),
            "{text}"
        );
    }

    #[test]
    fn sizes_come_from_the_data_url_length() {
        // Padding of 0, 1 and 2 characters.
        for bytes in [0, 1, 2, 3, 4, 5, 1000, 1001, 1002] {
            let url = data("image/png", bytes);
            assert_eq!(
                data_url(&url),
                Some(("image/png".into(), bytes as u64)),
                "{url}"
            );
        }
        // Real encodings: "hello", "hi", "abc", and URL-safe bytes.
        for (payload, bytes) in [("aGVsbG8=", 5), ("aGk=", 2), ("YWJj", 3), ("-_8=", 2)] {
            let url = format!("data:image/png;base64,{payload}");
            assert_eq!(data_url(&url), Some(("image/png".into(), bytes)), "{url}");
        }
        assert_eq!(data_url("data:,a%20b"), Some(("text/plain".into(), 3)));
        assert_eq!(data_url("https://example.com/a.png"), None);
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1000), "1,000");
        assert_eq!(thousands(12_345_678), "12,345,678");
    }

    #[test]
    fn an_attachment_without_a_name_or_a_data_url_is_still_counted() {
        let content = json!([
            {"type": "text", "text": "look"},
            {"type": "image_url", "image_url": {"url": "https://example.com/cat.png"}},
            {"type": "file", "file": {"file_data": data("text/csv", 10)}},
            // Not a header: no newline after it, so plain text.
            {"type": "text", "text": "[Attached file: x.txt (text/plain, 5 bytes)]"},
        ]);
        let text = reply_text(&[json!({"role": "user", "content": content})]);
        assert!(
            text.contains("You attached 2 files: an image; a file (text/csv, 10 bytes)."),
            "{text}"
        );
        assert!(
            text.contains("You said: \"look[Attached file: x.txt (text/plain, 5 bytes)]\""),
            "{text}"
        );
    }

    #[test]
    fn plain_messages_get_the_same_reply_as_before_attachments() {
        // The whole reply, byte for byte, as confab-echo wrote it before.
        let text = reply_text(&[msg("system", "Be brief."), msg("user", "hi")]);
        assert_eq!(
            text,
            format!(
                "{OPENING} This is turn 1 of our conversation. You said: \"hi\". I was given a system prompt of 9 characters. {CLOSING}"
            )
        );
    }

    #[test]
    fn tokens_concatenate_back_to_the_text() {
        for text in ["", "one", "a b  c\n d ", "  leading", "héllo wörld 你好 👋"] {
            let tokens = tokens(text);
            assert_eq!(tokens.concat(), text);
            assert!(tokens.iter().all(|t| !t.is_empty()));
        }
        assert_eq!(tokens("a b  c"), ["a ", "b  ", "c"]);
    }

    #[test]
    fn the_thinking_variant_reasons_in_reasoning_content_before_answering() {
        let request = EchoRequest::from_json(&json!({
            "model": "confab-echo-think",
            "messages": [msg("user", "2+2?")],
            "stream_options": {"include_usage": true},
        }));
        let parsed: Vec<Value> = frames(&request)
            .iter()
            .filter_map(|f| serde_json::from_str(f.strip_prefix("data: ")?.trim()).ok())
            .collect();
        assert!(parsed.iter().all(|c| c["model"] == "confab-echo-think"));
        let field = |name: &str| -> String {
            parsed
                .iter()
                .filter_map(|c| c["choices"][0]["delta"][name].as_str())
                .collect()
        };
        assert_eq!(
            field("reasoning_content"),
            reasoning_text(&request.messages)
        );
        assert!(field("reasoning_content").contains("\"2+2?\""));
        assert_eq!(field("content"), reply_text(&request.messages));
        // Every reasoning chunk comes before the first answer token.
        let last_thought = parsed
            .iter()
            .rposition(|c| c["choices"][0]["delta"]["reasoning_content"].is_string())
            .unwrap();
        let first_answer = parsed
            .iter()
            .position(|c| {
                c["choices"][0]["delta"]["content"]
                    .as_str()
                    .is_some_and(|t| !t.is_empty())
            })
            .unwrap();
        assert!(last_thought < first_answer);
        let usage = &parsed.last().unwrap()["usage"];
        assert!(
            usage["completion_tokens_details"]["reasoning_tokens"]
                .as_u64()
                .unwrap()
                > 0
        );
        let whole = completion(&request);
        assert_eq!(
            whole["choices"][0]["message"]["reasoning_content"],
            json!(reasoning_text(&request.messages))
        );
        // The plain model does not think.
        let plain = EchoRequest::from_json(
            &json!({"model": "confab-echo", "messages": [msg("user", "hi")]}),
        );
        assert!(!frames(&plain).iter().any(|f| f.contains("reasoning")));
    }

    #[test]
    fn frames_are_openai_chunks_ending_with_done() {
        let request = EchoRequest::from_json(&json!({
            "messages": [msg("user", "hi")],
            "stream_options": {"include_usage": true},
        }));
        let frames = frames(&request);
        assert_eq!(frames.last().unwrap(), "data: [DONE]\n\n");
        let parsed: Vec<Value> = frames[..frames.len() - 1]
            .iter()
            .map(|f| serde_json::from_str(f.strip_prefix("data: ").unwrap().trim()).unwrap())
            .collect();
        assert_eq!(parsed[0]["choices"][0]["delta"]["role"], "assistant");
        let text: String = parsed
            .iter()
            .filter_map(|c| c["choices"][0]["delta"]["content"].as_str())
            .collect();
        assert_eq!(text, reply_text(&request.messages));
        let finish = &parsed[parsed.len() - 2];
        assert_eq!(finish["choices"][0]["finish_reason"], "stop");
        let usage = &parsed[parsed.len() - 1];
        assert_eq!(usage["choices"], json!([]));
        assert!(usage["usage"]["total_tokens"].as_u64().unwrap() > 0);
    }
}
