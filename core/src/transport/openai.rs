//! The OpenAI-compatible chat-completions wire format, and the state machine
//! that turns a streamed reply into text and an outcome.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::reasoning::{ReasoningSplitter, SplitDelta, TextFields};
use super::sse::SseDecoder;
use crate::clock::{Clock, StreamClock};
pub use crate::outcome::ReplyError;

/// `POST {base}/chat/completions`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ChatRequest {
    /// `None` lets the proxy choose its default model.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    pub messages: Vec<ChatMessage>,
    pub stream: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stream_options: Option<StreamOptions>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub temperature: Option<f32>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ChatMessage {
    pub role: String,
    pub content: String,
}

impl ChatMessage {
    pub fn new(role: &str, content: &str) -> Self {
        Self {
            role: role.to_owned(),
            content: content.to_owned(),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct StreamOptions {
    pub include_usage: bool,
}

/// One `data:` frame of a streamed reply (or a whole reply, not streamed).
#[derive(Debug)]
struct Chunk {
    model: Option<String>,
    choices: Vec<Choice>,
    usage: Option<Usage>,
    error: Option<ApiError>,
}

/// Read by hand through `Value` (whose reader is in the wasm anyway), as
/// its choices, usage and error are, rather than derived: a frame's derived
/// readers (the chunk's, its list of choices', its optional usage's and
/// error's) were about 8 KB of wasm. A frame that is not a JSON object, or
/// whose `error` is not an error object, is malformed; any other field of
/// another type than expected counts as absent.
impl<'de> Deserialize<'de> for Chunk {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let Value::Object(mut fields) = Value::deserialize(deserializer)? else {
            return Err(serde::de::Error::custom("a frame is not a JSON object"));
        };
        let error = match fields.remove("error") {
            None | Some(Value::Null) => None,
            Some(error) => Some(
                ApiError::from_value(error)
                    .ok_or_else(|| serde::de::Error::custom("the error is not an error object"))?,
            ),
        };
        Ok(Self {
            model: match fields.remove("model") {
                Some(Value::String(model)) => Some(model),
                _ => None,
            },
            choices: match fields.remove("choices") {
                Some(Value::Array(choices)) => {
                    choices.into_iter().map(Choice::from_value).collect()
                }
                _ => Vec::new(),
            },
            usage: match fields.remove("usage") {
                Some(Value::Object(usage)) => Some(Usage::from_fields(usage)),
                _ => None,
            },
            error,
        })
    }
}

#[derive(Debug)]
struct Choice {
    /// A streamed chunk's new text.
    delta: TextFields,
    /// A non-streamed reply's whole message.
    message: Option<TextFields>,
    finish_reason: Option<String>,
}

impl Choice {
    /// One of a chunk's choices; anything but an object has no text.
    fn from_value(choice: Value) -> Self {
        let Value::Object(mut fields) = choice else {
            return Self {
                delta: TextFields::default(),
                message: None,
                finish_reason: None,
            };
        };
        Self {
            delta: fields
                .remove("delta")
                .map(TextFields::from_value)
                .unwrap_or_default(),
            message: fields
                .remove("message")
                .filter(|message| !message.is_null())
                .map(TextFields::from_value),
            finish_reason: match fields.remove("finish_reason") {
                Some(Value::String(reason)) => Some(reason),
                _ => None,
            },
        }
    }
}

/// Token counts, when the endpoint reports them.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Usage {
    pub prompt_tokens: u64,
    pub completion_tokens: u64,
    pub total_tokens: u64,
    /// OpenAI's breakdown; reasoning models report their thinking here:
    /// one number is wanted of an object whose other fields vary by server.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub completion_tokens_details: Option<Value>,
}

impl Usage {
    /// A chunk's `usage` object (read with the chunk, through `Value`). A
    /// count of another type than a non-negative integer counts as 0.
    fn from_fields(mut fields: serde_json::Map<String, Value>) -> Self {
        let count = |name: &str| fields.get(name).and_then(Value::as_u64).unwrap_or(0);
        Self {
            prompt_tokens: count("prompt_tokens"),
            completion_tokens: count("completion_tokens"),
            total_tokens: count("total_tokens"),
            completion_tokens_details: fields
                .remove("completion_tokens_details")
                .filter(|details| !details.is_null()),
        }
    }

    /// The tokens spent thinking, when the endpoint says.
    pub fn reasoning_tokens(&self) -> Option<u64> {
        self.completion_tokens_details
            .as_ref()?
            .get("reasoning_tokens")?
            .as_u64()
    }
}

/// The `error` object of an error body or an error frame.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ApiError {
    pub message: String,
    /// Its `type`.
    pub kind: Option<String>,
    /// A string or a number, depending on the server.
    pub code: Option<Value>,
}

impl ApiError {
    /// Read by hand from a `Value` (as the frame and the error body around
    /// it are) rather than derived, whose reader was 2.5 KB of wasm; as
    /// strict as that was: `None` unless an object whose `message` (if
    /// any) is a string and whose `type` is a string or null.
    fn from_value(value: Value) -> Option<Self> {
        let Value::Object(mut fields) = value else {
            return None;
        };
        let message = match fields.remove("message") {
            None => String::new(),
            Some(Value::String(message)) => message,
            Some(_) => return None,
        };
        let kind = match fields.remove("type") {
            None | Some(Value::Null) => None,
            Some(Value::String(kind)) => Some(kind),
            Some(_) => return None,
        };
        Some(Self {
            message,
            kind,
            code: fields.remove("code").filter(|code| !code.is_null()),
        })
    }

    fn code_text(&self) -> Option<String> {
        match self.code.as_ref()? {
            serde_json::Value::String(s) => Some(s.clone()),
            other => Some(other.to_string()),
        }
    }
}

/// `{"error": {...}}`, the body of an HTTP error.
#[derive(Debug, Deserialize)]
struct ErrorBody {
    error: ErrorValue,
}

/// Some servers put a plain string where the object belongs.
#[derive(Debug)]
enum ErrorValue {
    Object(ApiError),
    Text(String),
}

/// By hand rather than derived `untagged` (which buffers through serde's
/// private `Content` type, a lot of wasm): a string, or else the object.
impl<'de> Deserialize<'de> for ErrorValue {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        match serde_json::Value::deserialize(deserializer)? {
            serde_json::Value::String(text) => Ok(Self::Text(text)),
            other => ApiError::from_value(other)
                .map(Self::Object)
                .ok_or_else(|| serde::de::Error::custom("the error is not an error object")),
        }
    }
}

/// A failed response as the model proxy answered it.
impl ReplyError {
    /// The error of a non-2xx response, from its status and body.
    pub fn from_http(status: u16, body: &str) -> Self {
        let message = match serde_json::from_str::<ErrorBody>(body) {
            Ok(ErrorBody {
                error: ErrorValue::Object(e),
            }) => e.message,
            Ok(ErrorBody {
                error: ErrorValue::Text(t),
            }) => t,
            // Not JSON (an HTML error page, say): show a bounded excerpt.
            Err(_) => body.trim().chars().take(200).collect(),
        };
        Self::Http { status, message }
    }
}

/// `GET {base}/models` answers `{"object":"list","data":[{"id":...}]}`.
#[derive(Debug, Deserialize)]
struct ModelList {
    data: Vec<ModelEntry>,
}

#[derive(Debug, Deserialize)]
struct ModelEntry {
    id: String,
}

/// The model ids of a `/models` reply, sorted; `None` if it is not one.
pub fn model_ids(body: &str) -> Option<Vec<String>> {
    let list: ModelList = serde_json::from_str(body).ok()?;
    let mut ids: Vec<String> = list.data.into_iter().map(|m| m.id).collect();
    crate::order::sort_stable_by(&mut ids, |a, b| a.cmp(b));
    ids.dedup();
    Some(ids)
}

/// How a streamed reply ended.
#[derive(Clone, Debug, PartialEq)]
pub enum StreamOutcome {
    /// `[DONE]` or a finish reason arrived.
    Complete {
        finish_reason: Option<String>,
    },
    /// The stream ended early, with neither `[DONE]` nor a finish reason.
    Interrupted,
    /// The way to the model broke mid-reply (a proxy said so in an error
    /// frame): like `Interrupted`, what arrived can be continued.
    Broken(ReplyError),
    Failed(ReplyError),
}

/// A non-streamed reply is kept whole until the body ends, up to this size
/// (a server that ignored `stream: true`); past it, it is not one.
const WHOLE_REPLY_LIMIT: usize = 4 << 20;

/// Accumulates a streamed reply from raw bytes. It accepts the variations of
/// real peers: missing `finish_reason`, usage chunks with or without
/// choices, comments, and an error frame with or without a `[DONE]` after it.
/// A reasoning model's thinking is split from its answer as it arrives
/// ([`ReasoningSplitter`]); a whole JSON reply (not streamed) is read at
/// the end.
#[derive(Debug, Default)]
pub struct ChatStream {
    sse: SseDecoder,
    split: ReasoningSplitter,
    clock: StreamClock,
    /// The body while no SSE event has come: perhaps a whole JSON reply.
    whole: Option<Vec<u8>>,
    model: Option<String>,
    finish_reason: Option<String>,
    usage: Option<Usage>,
    done: bool,
    failure: Option<ReplyError>,
}

impl ChatStream {
    pub fn new() -> Self {
        Self {
            whole: Some(Vec::new()),
            ..Self::default()
        }
    }

    /// A stream that times the model's thinking with `clock`.
    pub fn timed(clock: Box<dyn Clock>) -> Self {
        Self {
            clock: StreamClock::new(clock),
            ..Self::new()
        }
    }

    /// Feeds received bytes; returns the reasoning and answer text they add
    /// (possibly empty). After `[DONE]` or an error, further bytes are
    /// ignored.
    pub fn push(&mut self, bytes: &[u8]) -> SplitDelta {
        let mut added = SplitDelta::default();
        let events = self.sse.push(bytes);
        if !events.is_empty() {
            self.whole = None;
        } else if let Some(whole) = &mut self.whole {
            whole.extend_from_slice(bytes);
            if whole.len() > WHOLE_REPLY_LIMIT {
                self.whole = None;
            }
        }
        for event in events {
            if self.is_finished() {
                break;
            }
            let data = event.data.trim();
            if data == "[DONE]" {
                self.done = true;
                break;
            }
            match serde_json::from_str::<Chunk>(data) {
                Ok(chunk) => self.apply(chunk, &mut added),
                Err(e) => {
                    self.failure = Some(ReplyError::Malformed {
                        detail: format!("{e} in {:?}", excerpt(data)),
                    })
                }
            }
        }
        added
    }

    fn apply(&mut self, chunk: Chunk, added: &mut SplitDelta) {
        if let Some(error) = chunk.error {
            // The message is put in a sentence of ours: no double stop.
            let message = error.message.trim().trim_end_matches('.').to_owned();
            // confab-proxy's way of saying its connection to the model broke
            // or went silent: the reply was cut off, not refused.
            let cut_off = super::proxy_codes::cuts_off_a_reply(
                error.kind.as_deref(),
                error.code_text().as_deref(),
            );
            self.failure = Some(if cut_off {
                ReplyError::Broken { detail: message }
            } else {
                ReplyError::InStream { message }
            });
            return;
        }
        if self.model.is_none() {
            self.model = chunk.model.filter(|m| !m.is_empty());
        }
        if chunk.usage.is_some() {
            self.usage = chunk.usage;
        }
        if let Some(choice) = chunk.choices.into_iter().next() {
            let fields = choice.message.unwrap_or(choice.delta);
            let split = self.split.push(fields, self.clock.now());
            added.reasoning.push_str(&split.reasoning);
            added.answer.push_str(&split.answer);
            if choice.finish_reason.is_some() {
                self.finish_reason = choice.finish_reason;
            }
        }
    }

    /// `[DONE]` or an error arrived: nothing more will count.
    pub fn is_finished(&self) -> bool {
        self.done || self.failure.is_some()
    }

    /// The answer so far (never the reasoning, nor its tags).
    pub fn text(&self) -> &str {
        self.split.answer()
    }

    /// The reasoning so far, and how long the model thought.
    pub fn reasoning(&self) -> &ReasoningSplitter {
        &self.split
    }

    /// The model that answered, as the stream named it.
    pub fn model(&self) -> Option<&str> {
        self.model.as_deref()
    }

    pub fn usage(&self) -> Option<&Usage> {
        self.usage.as_ref()
    }

    /// The outcome once the body has ended (or the reader gave up).
    pub fn outcome(&mut self) -> StreamOutcome {
        self.sse.finish();
        // Read as text: `from_str` is the parser every frame already uses
        // (`from_slice` would put a second copy of it in the wasm).
        if let Some(whole) = self.whole.take()
            && let Ok(whole) = String::from_utf8(whole)
            && let Ok(reply) = serde_json::from_str::<Chunk>(&whole)
            && reply.choices.iter().any(|c| c.message.is_some())
        {
            // A whole reply, not streamed: read as one chunk.
            let mut added = SplitDelta::default();
            self.apply(reply, &mut added);
            self.done = self.failure.is_none();
        }
        self.split.finish(self.clock.now());
        if let Some(failure) = self.failure.clone() {
            return match failure {
                ReplyError::Broken { .. } => StreamOutcome::Broken(failure),
                _ => StreamOutcome::Failed(failure),
            };
        }
        if self.done || self.finish_reason.is_some() {
            return StreamOutcome::Complete {
                finish_reason: self.finish_reason.clone(),
            };
        }
        StreamOutcome::Interrupted
    }
}

fn excerpt(data: &str) -> String {
    data.chars().take(80).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chunk(content: &str) -> String {
        format!(
            "data: {{\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"model\":\"m1\",\"choices\":[{{\"index\":0,\"delta\":{{\"content\":{}}},\"finish_reason\":null}}]}}\n\n",
            serde_json::to_string(content).unwrap()
        )
    }

    const FINISH: &str =
        "data: {\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}]}\n\n";
    const DONE: &str = "data: [DONE]\n\n";

    fn run(body: &str) -> (String, StreamOutcome) {
        let mut stream = ChatStream::new();
        stream.push(body.as_bytes());
        let outcome = stream.outcome();
        (stream.text().to_owned(), outcome)
    }

    #[test]
    fn an_openai_stream_completes() {
        let role = "data: {\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"\"},\"finish_reason\":null}]}\n\n";
        let usage = "data: {\"choices\":[],\"usage\":{\"prompt_tokens\":3,\"completion_tokens\":2,\"total_tokens\":5}}\n\n";
        let body = format!("{role}{}{}{FINISH}{usage}{DONE}", chunk("Hel"), chunk("lo"));
        let mut stream = ChatStream::new();
        assert_eq!(stream.push(body.as_bytes()).answer, "Hello");
        assert_eq!(stream.model(), Some("m1"));
        assert_eq!(stream.usage().unwrap().total_tokens, 5);
        assert_eq!(
            stream.outcome(),
            StreamOutcome::Complete {
                finish_reason: Some("stop".into())
            }
        );
    }

    #[test]
    fn litellm_variations_are_accepted() {
        // No `finish_reason: null`, a `: ping`, a usage chunk with an empty delta.
        let body = format!(
            ": ping\n\ndata: {{\"choices\":[{{\"index\":0,\"delta\":{{\"content\":\"abc\"}}}}]}}\n\n{FINISH}data: {{\"choices\":[{{\"index\":0,\"delta\":{{}}}}],\"usage\":{{\"total_tokens\":9}}}}\n\n{DONE}"
        );
        let (text, outcome) = run(&body);
        assert_eq!(text, "abc");
        assert!(matches!(outcome, StreamOutcome::Complete { .. }));
    }

    #[test]
    fn a_finish_reason_without_done_is_complete() {
        let (text, outcome) = run(&format!("{}{FINISH}", chunk("x")));
        assert_eq!(text, "x");
        assert!(matches!(outcome, StreamOutcome::Complete { .. }));
    }

    #[test]
    fn done_without_a_finish_reason_is_complete() {
        let (_, outcome) = run(&format!("{}{DONE}", chunk("x")));
        assert_eq!(
            outcome,
            StreamOutcome::Complete {
                finish_reason: None
            }
        );
    }

    #[test]
    fn an_ending_with_neither_done_nor_finish_is_interrupted() {
        let (text, outcome) = run(&format!("{}{}", chunk("par"), chunk("tial")));
        assert_eq!(text, "partial");
        assert_eq!(outcome, StreamOutcome::Interrupted);
    }

    #[test]
    fn a_frame_cut_in_half_at_the_end_is_interrupted_not_malformed() {
        let whole = chunk("kept");
        let cut = &chunk("lost")[..30];
        let (text, outcome) = run(&format!("{whole}{cut}"));
        assert_eq!(text, "kept");
        assert_eq!(outcome, StreamOutcome::Interrupted);
    }

    #[test]
    fn an_error_frame_fails_the_reply_with_or_without_done() {
        let error = "data: {\"error\":{\"message\":\"overloaded\",\"type\":\"server_error\"}}\n\n";
        for tail in ["", DONE] {
            let (text, outcome) = run(&format!("{}{error}{tail}{}", chunk("a"), chunk("b")));
            assert_eq!(text, "a", "text after the error is ignored");
            assert_eq!(
                outcome,
                StreamOutcome::Failed(ReplyError::InStream {
                    message: "overloaded".into()
                })
            );
        }
    }

    #[test]
    fn malformed_json_fails_the_reply() {
        for frame in [
            "data: {not json}\n\n",
            "data: [1, 2]\n\n",
            "data: {\"error\": 42}\n\n",
            "data: {\"error\": {\"message\": 5}}\n\n",
        ] {
            let (_, outcome) = run(frame);
            assert!(
                matches!(outcome, StreamOutcome::Failed(ReplyError::Malformed { .. })),
                "{frame}"
            );
        }
    }

    #[test]
    fn fields_of_an_unexpected_type_count_as_absent() {
        let odd = "data: {\"model\":7,\"choices\":[{\"delta\":{\"content\":\"hi\"},\"finish_reason\":1}],\"usage\":{\"prompt_tokens\":null,\"completion_tokens\":2,\"total_tokens\":\"2\",\"completion_tokens_details\":null}}\n\n";
        let mut stream = ChatStream::new();
        stream.push(format!("{odd}{}{FINISH}{DONE}", chunk(" there")).as_bytes());
        assert_eq!(stream.text(), "hi there");
        assert_eq!(
            stream.usage(),
            Some(&Usage {
                completion_tokens: 2,
                ..Usage::default()
            })
        );
        // The model's name comes from the first frame that has a string.
        assert_eq!(stream.model(), Some("m1"));
        assert!(matches!(stream.outcome(), StreamOutcome::Complete { .. }));
    }

    #[test]
    fn bytes_after_done_are_ignored() {
        let mut stream = ChatStream::new();
        stream.push(format!("{}{DONE}", chunk("a")).as_bytes());
        assert!(stream.is_finished());
        assert!(stream.push(chunk("b").as_bytes()).is_empty());
        assert_eq!(stream.text(), "a");
    }

    #[test]
    fn any_split_gives_the_same_text() {
        let body = format!("{}{}{FINISH}{DONE}", chunk("héllo 你"), chunk(" wörld 👋"));
        let bytes = body.as_bytes();
        for split in 0..bytes.len() {
            let mut stream = ChatStream::new();
            let mut seen = stream.push(&bytes[..split]).answer;
            seen.push_str(&stream.push(&bytes[split..]).answer);
            assert_eq!(seen, "héllo 你 wörld 👋", "split at {split}");
            assert!(matches!(stream.outcome(), StreamOutcome::Complete { .. }));
        }
    }

    /// Each reasoning wire form as its servers stream it: (name, body,
    /// reasoning, answer).
    fn reasoning_forms() -> Vec<(&'static str, String, &'static str, &'static str)> {
        let frames =
            |lines: &[&str]| -> String { lines.iter().map(|l| format!("{l}\n\n")).collect() };
        vec![
            (
                "deepseek reasoning_content",
                frames(&[
                    r#"data: {"id":"d1","object":"chat.completion.chunk","created":1,"model":"deepseek-reasoner","system_fingerprint":"fp_1","choices":[{"index":0,"delta":{"role":"assistant","content":null,"reasoning_content":""},"logprobs":null,"finish_reason":null}]}"#,
                    r#"data: {"id":"d1","object":"chat.completion.chunk","created":1,"model":"deepseek-reasoner","system_fingerprint":"fp_1","choices":[{"index":0,"delta":{"content":null,"reasoning_content":"Two and "},"logprobs":null,"finish_reason":null}]}"#,
                    r#"data: {"id":"d1","object":"chat.completion.chunk","created":1,"model":"deepseek-reasoner","system_fingerprint":"fp_1","choices":[{"index":0,"delta":{"content":null,"reasoning_content":"two: 4."},"logprobs":null,"finish_reason":null}]}"#,
                    r#"data: {"id":"d1","object":"chat.completion.chunk","created":1,"model":"deepseek-reasoner","system_fingerprint":"fp_1","choices":[{"index":0,"delta":{"content":"It is ","reasoning_content":null},"logprobs":null,"finish_reason":null}]}"#,
                    r#"data: {"id":"d1","object":"chat.completion.chunk","created":1,"model":"deepseek-reasoner","system_fingerprint":"fp_1","choices":[{"index":0,"delta":{"content":"4.","reasoning_content":null},"logprobs":null,"finish_reason":"stop"}],"usage":{"prompt_tokens":9,"completion_tokens":20,"total_tokens":29,"prompt_tokens_details":{"cached_tokens":0},"completion_tokens_details":{"reasoning_tokens":12},"prompt_cache_hit_tokens":0,"prompt_cache_miss_tokens":9}}"#,
                    "data: [DONE]",
                ]),
                "Two and two: 4.",
                "It is 4.",
            ),
            (
                "openrouter reasoning + reasoning_details",
                frames(&[
                    ": OPENROUTER PROCESSING",
                    r#"data: {"id":"gen-1","provider":"DeepInfra","model":"deepseek/deepseek-r1","object":"chat.completion.chunk","created":1,"choices":[{"index":0,"delta":{"role":"assistant","content":"","reasoning":"Two and ","reasoning_details":[{"type":"reasoning.text","text":"Two and ","format":"unknown","index":0}]},"finish_reason":null,"native_finish_reason":null,"logprobs":null}]}"#,
                    r#"data: {"id":"gen-1","provider":"DeepInfra","model":"deepseek/deepseek-r1","object":"chat.completion.chunk","created":1,"choices":[{"index":0,"delta":{"role":"assistant","content":"","reasoning":"two: 4.","reasoning_details":[{"type":"reasoning.text","text":"two: 4.","format":"unknown","index":0}]},"finish_reason":null,"native_finish_reason":null,"logprobs":null}]}"#,
                    r#"data: {"id":"gen-1","provider":"DeepInfra","model":"deepseek/deepseek-r1","object":"chat.completion.chunk","created":1,"choices":[{"index":0,"delta":{"role":"assistant","content":"It is 4.","reasoning":null},"finish_reason":"stop","native_finish_reason":"stop","logprobs":null}]}"#,
                    r#"data: {"id":"gen-1","provider":"DeepInfra","model":"deepseek/deepseek-r1","object":"chat.completion.chunk","created":1,"choices":[{"index":0,"delta":{"role":"assistant","content":""},"finish_reason":null,"native_finish_reason":null,"logprobs":null}],"usage":{"prompt_tokens":9,"completion_tokens":20,"total_tokens":29,"completion_tokens_details":{"reasoning_tokens":12}}}"#,
                    "data: [DONE]",
                ]),
                "Two and two: 4.",
                "It is 4.",
            ),
            (
                "groq reasoning",
                frames(&[
                    r#"data: {"id":"chatcmpl-g","object":"chat.completion.chunk","created":1,"model":"qwen/qwen3-32b","system_fingerprint":"fp_g","choices":[{"index":0,"delta":{"role":"assistant","content":""},"logprobs":null,"finish_reason":null}],"x_groq":{"id":"req_1"}}"#,
                    r#"data: {"id":"chatcmpl-g","object":"chat.completion.chunk","created":1,"model":"qwen/qwen3-32b","system_fingerprint":"fp_g","choices":[{"index":0,"delta":{"reasoning":"Two and two: 4."},"logprobs":null,"finish_reason":null}]}"#,
                    r#"data: {"id":"chatcmpl-g","object":"chat.completion.chunk","created":1,"model":"qwen/qwen3-32b","system_fingerprint":"fp_g","choices":[{"index":0,"delta":{"content":"It is 4."},"logprobs":null,"finish_reason":null}]}"#,
                    r#"data: {"id":"chatcmpl-g","object":"chat.completion.chunk","created":1,"model":"qwen/qwen3-32b","system_fingerprint":"fp_g","choices":[{"index":0,"delta":{},"logprobs":null,"finish_reason":"stop"}],"x_groq":{"id":"req_1","usage":{"prompt_tokens":9,"completion_tokens":20,"total_tokens":29}}}"#,
                    "data: [DONE]",
                ]),
                "Two and two: 4.",
                "It is 4.",
            ),
            (
                "thinking",
                frames(&[
                    r#"data: {"choices":[{"index":0,"delta":{"thinking":"Two and two: 4."}}]}"#,
                    r#"data: {"choices":[{"index":0,"delta":{"thinking":"","content":"It is 4."},"finish_reason":"stop"}]}"#,
                    "data: [DONE]",
                ]),
                "Two and two: 4.",
                "It is 4.",
            ),
            (
                "openrouter summary + encrypted details",
                frames(&[
                    r#"data: {"id":"gen-2","provider":"OpenAI","model":"openai/o4-mini","object":"chat.completion.chunk","created":1,"choices":[{"index":0,"delta":{"role":"assistant","content":"","reasoning_details":[{"type":"reasoning.summary","summary":"Two and two: 4.","format":"openai-responses-v1","index":0}]},"finish_reason":null}]}"#,
                    r#"data: {"id":"gen-2","provider":"OpenAI","model":"openai/o4-mini","object":"chat.completion.chunk","created":1,"choices":[{"index":0,"delta":{"role":"assistant","content":"","reasoning_details":[{"type":"reasoning.encrypted","data":"gAAAAABo-secret","id":"rs_1","format":"openai-responses-v1","index":1}]},"finish_reason":null}]}"#,
                    r#"data: {"id":"gen-2","provider":"OpenAI","model":"openai/o4-mini","object":"chat.completion.chunk","created":1,"choices":[{"index":0,"delta":{"role":"assistant","content":"It is 4."},"finish_reason":"stop"}]}"#,
                    "data: [DONE]",
                ]),
                "Two and two: 4.",
                "It is 4.",
            ),
            (
                "ollama <think> in content",
                frames(&[
                    r#"data: {"id":"chatcmpl-1","object":"chat.completion.chunk","created":1,"model":"qwen3:0.6b","system_fingerprint":"fp_ollama","choices":[{"index":0,"delta":{"role":"assistant","content":"<think>"},"finish_reason":null}]}"#,
                    r#"data: {"id":"chatcmpl-1","object":"chat.completion.chunk","created":1,"model":"qwen3:0.6b","system_fingerprint":"fp_ollama","choices":[{"index":0,"delta":{"role":"assistant","content":"\nTwo and two: 4.\n"},"finish_reason":null}]}"#,
                    r#"data: {"id":"chatcmpl-1","object":"chat.completion.chunk","created":1,"model":"qwen3:0.6b","system_fingerprint":"fp_ollama","choices":[{"index":0,"delta":{"role":"assistant","content":"</think>\n\nIt is 4."},"finish_reason":null}]}"#,
                    r#"data: {"id":"chatcmpl-1","object":"chat.completion.chunk","created":1,"model":"qwen3:0.6b","system_fingerprint":"fp_ollama","choices":[{"index":0,"delta":{"role":"assistant","content":""},"finish_reason":"stop"}]}"#,
                    "data: [DONE]",
                ]),
                "Two and two: 4.\n",
                "It is 4.",
            ),
        ]
    }

    #[test]
    fn every_reasoning_form_splits_the_same_at_every_byte() {
        for (name, body, reasoning, answer) in reasoning_forms() {
            let bytes = body.as_bytes();
            for split in 0..=bytes.len() {
                let mut stream = ChatStream::new();
                let (mut seen_reasoning, mut seen_answer) = (String::new(), String::new());
                for piece in [&bytes[..split], &bytes[split..]] {
                    let added = stream.push(piece);
                    seen_reasoning.push_str(&added.reasoning);
                    seen_answer.push_str(&added.answer);
                }
                let outcome = stream.outcome();
                assert!(
                    matches!(outcome, StreamOutcome::Complete { .. }),
                    "{name} at {split}"
                );
                assert_eq!(seen_reasoning, reasoning, "{name} at {split}");
                assert_eq!(seen_answer, answer, "{name} at {split}");
                assert_eq!(stream.text(), answer, "{name} at {split}");
                assert_eq!(
                    stream.reasoning().reasoning(),
                    reasoning,
                    "{name} at {split}"
                );
            }
        }
    }

    #[test]
    fn encrypted_reasoning_is_kept_and_reasoning_tokens_read() {
        let forms = reasoning_forms();
        let (_, body, _, _) = &forms[4];
        let mut stream = ChatStream::new();
        stream.push(body.as_bytes());
        assert_eq!(stream.reasoning().encrypted().len(), 1);
        assert!(!stream.text().contains("gAAAA"));
        assert!(!stream.reasoning().reasoning().contains("gAAAA"));
        let (_, body, _, _) = &forms[0];
        let mut stream = ChatStream::new();
        stream.push(body.as_bytes());
        assert_eq!(stream.usage().unwrap().reasoning_tokens(), Some(12));
    }

    #[test]
    fn thinking_is_timed_with_the_injected_clock() {
        let forms = reasoning_forms();
        let (_, body, _, _) = &forms[0];
        // One reading per frame with choices: 10 s, 11 s, 12 s, …
        let mut stream = ChatStream::timed(Box::new(crate::clock::SteppingClock::new(10.0, 1.0)));
        for frame in body.split_inclusive("\n\n") {
            stream.push(frame.as_bytes());
        }
        stream.outcome();
        // The first reasoning arrived at 11 s (the first frame's is empty),
        // the first answer token at 13 s.
        assert_eq!(stream.reasoning().thought_millis(), Some(2000));
    }

    #[test]
    fn a_whole_reply_not_streamed_is_read_with_its_reasoning() {
        for (message, reasoning) in [
            (
                r#"{"role":"assistant","content":"It is 4.","reasoning_content":"Two and two: 4."}"#,
                "Two and two: 4.",
            ),
            (
                r#"{"role":"assistant","content":"It is 4.","reasoning":"Two and two: 4.","reasoning_details":[{"type":"reasoning.text","text":"Two and two: 4."}]}"#,
                "Two and two: 4.",
            ),
            (
                r#"{"role":"assistant","content":"<think>\nTwo and two: 4.\n</think>\n\nIt is 4."}"#,
                "Two and two: 4.\n",
            ),
            (r#"{"role":"assistant","content":"It is 4."}"#, ""),
        ] {
            let body = format!(
                r#"{{"id":"c","object":"chat.completion","created":1,"model":"deepseek-reasoner","choices":[{{"index":0,"message":{message},"finish_reason":"stop"}}],"usage":{{"prompt_tokens":9,"completion_tokens":20,"total_tokens":29,"completion_tokens_details":{{"reasoning_tokens":12}}}}}}"#
            );
            let bytes = body.as_bytes();
            for split in [0, 1, bytes.len() / 2, bytes.len()] {
                let mut stream = ChatStream::new();
                stream.push(&bytes[..split]);
                stream.push(&bytes[split..]);
                let outcome = stream.outcome();
                assert!(
                    matches!(outcome, StreamOutcome::Complete { .. }),
                    "{message}"
                );
                assert_eq!(stream.text(), "It is 4.", "{message}");
                assert_eq!(stream.reasoning().reasoning(), reasoning, "{message}");
                assert_eq!(stream.model(), Some("deepseek-reasoner"));
                assert_eq!(stream.usage().unwrap().reasoning_tokens(), Some(12));
            }
        }
    }

    #[test]
    fn an_unclosed_think_tag_keeps_what_arrived_as_reasoning() {
        let body = format!("{}{}", chunk("<think>Still wei"), chunk("ghing it </thi"));
        let mut stream = ChatStream::new();
        stream.push(body.as_bytes());
        assert_eq!(stream.outcome(), StreamOutcome::Interrupted);
        assert_eq!(stream.text(), "");
        assert_eq!(stream.reasoning().reasoning(), "Still weighing it </thi");
    }

    #[test]
    fn http_errors_read_the_error_body() {
        let body = r#"{"error":{"message":"Rate limit reached","type":"rate_limit","code":null}}"#;
        let error = ReplyError::from_http(429, body);
        assert_eq!(
            error,
            ReplyError::Http {
                status: 429,
                message: "Rate limit reached".into()
            }
        );
        let shown = error.to_string();
        assert!(shown.contains("HTTP 429: Rate limit reached"), "{shown}");
        assert!(shown.contains("wait a moment"), "{shown}");
        assert_eq!(error.code(), "http_429");
        let plain = ReplyError::from_http(502, "<html>Bad gateway</html>");
        assert!(plain.to_string().contains("<html>Bad gateway</html>"));
        assert!(plain.to_string().contains("press Retry"));
        let text = ReplyError::from_http(401, r#"{"error":"bad key"}"#);
        assert!(text.to_string().contains("bad key") && text.to_string().contains("API key"));
    }

    #[test]
    fn model_lists_are_read() {
        let body = r#"{"object":"list","data":[{"id":"b","object":"model"},{"id":"a"}]}"#;
        assert_eq!(model_ids(body), Some(vec!["a".into(), "b".into()]));
        assert_eq!(model_ids(r#"{"error":{"message":"no"}}"#), None);
    }

    #[test]
    fn the_request_serialises_as_openai_expects() {
        let request = ChatRequest {
            model: None,
            messages: vec![ChatMessage::new("user", "hi")],
            stream: true,
            stream_options: Some(StreamOptions {
                include_usage: true,
            }),
            temperature: None,
        };
        let json = serde_json::to_value(&request).unwrap();
        assert_eq!(
            json,
            serde_json::json!({
                "messages": [{"role": "user", "content": "hi"}],
                "stream": true,
                "stream_options": {"include_usage": true}
            })
        );
    }

    #[test]
    fn a_proxy_reporting_a_broken_upstream_cuts_the_reply_off_rather_than_failing_it() {
        for frame in [
            r#"data: {"error":{"message":"The connection to the upstream model server broke in the middle of the reply (reset). Try again.","type":"upstream_unreachable","code":null}}"#,
            r#"data: {"error":{"message":"The model server went silent.","type":"timeout_error","code":"upstream_idle_timeout"}}"#,
        ] {
            let mut stream = ChatStream::new();
            stream.push(chunk("Hello, wor").as_bytes());
            stream.push(format!("{frame}\n\n").as_bytes());
            let outcome = stream.outcome();
            let StreamOutcome::Broken(error) = outcome else {
                panic!("expected a cut-off reply, got {outcome:?}");
            };
            assert_eq!(stream.text(), "Hello, wor");
            assert!(error.to_string().contains("press Continue"), "{error}");
            assert!(!error.to_string().contains(".."), "{error}");
        }
        // Any other error frame is a failure, with one full stop.
        let mut stream = ChatStream::new();
        stream
            .push(b"data: {\"error\":{\"message\":\"Bad things.\",\"type\":\"server_error\"}}\n\n");
        let StreamOutcome::Failed(error) = stream.outcome() else {
            panic!("expected a failure");
        };
        assert_eq!(
            error.to_string(),
            "The model stopped with an error: Bad things. Press Retry to ask again."
        );
    }
}
