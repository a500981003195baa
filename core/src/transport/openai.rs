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

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ChatMessage {
    pub role: String,
    pub content: MessageContent,
}

impl ChatMessage {
    /// A message of plain text (sent as a string, as before parts existed).
    pub fn new(role: &str, content: &str) -> Self {
        Self {
            role: role.to_owned(),
            content: MessageContent::Text(content.to_owned()),
        }
    }

    /// A message of content parts (text, images, files).
    pub fn parts(role: &str, parts: Vec<ContentPart>) -> Self {
        Self {
            role: role.to_owned(),
            content: MessageContent::Parts(parts),
        }
    }
}

/// A message's `content`: a string, or an array of parts once it carries
/// anything but text. Plain messages stay strings, byte for byte, because
/// some servers (and older ones) accept nothing else.
#[derive(Clone, Debug, PartialEq)]
pub enum MessageContent {
    Text(String),
    Parts(Vec<ContentPart>),
}

impl MessageContent {
    /// The text of the message: the string, or its text parts joined by
    /// newlines.
    pub fn text(&self) -> String {
        match self {
            Self::Text(text) => text.clone(),
            Self::Parts(parts) => {
                let texts: Vec<&str> = parts
                    .iter()
                    .filter_map(|part| match part {
                        ContentPart::Text(text) => Some(text.as_str()),
                        _ => None,
                    })
                    .collect();
                texts.join("\n")
            }
        }
    }
}

/// One part of a message's content, as chat completions take it.
#[derive(Clone, Debug, PartialEq)]
pub enum ContentPart {
    /// `{"type":"text","text":…}`
    Text(String),
    /// `{"type":"image_url","image_url":{"url":…}}`: a `data:` URL (or any
    /// URL the server may fetch).
    ImageUrl(String),
    /// `{"type":"file","file":{"filename":…,"file_data":…}}`: a PDF as a
    /// `data:application/pdf;base64,…` URL.
    File { filename: String, file_data: String },
}

/// By hand: a string or a list of parts, with no derived `untagged` enum
/// (whose machinery is kilobytes of wasm).
impl Serialize for MessageContent {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Self::Text(text) => serializer.serialize_str(text),
            Self::Parts(parts) => serializer.collect_seq(parts),
        }
    }
}

/// By hand, as its `type`-tagged object (a derived internally tagged enum
/// costs more wasm than these few lines).
impl Serialize for ContentPart {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut map = serializer.serialize_map(Some(2))?;
        match self {
            Self::Text(text) => {
                map.serialize_entry("type", "text")?;
                map.serialize_entry("text", text)?;
            }
            Self::ImageUrl(url) => {
                map.serialize_entry("type", "image_url")?;
                map.serialize_entry("image_url", &UrlField { url })?;
            }
            Self::File {
                filename,
                file_data,
            } => {
                map.serialize_entry("type", "file")?;
                map.serialize_entry(
                    "file",
                    &FileField {
                        filename,
                        file_data,
                    },
                )?;
            }
        }
        map.end()
    }
}

#[derive(Serialize)]
struct UrlField<'a> {
    url: &'a str,
}

#[derive(Serialize)]
struct FileField<'a> {
    filename: &'a str,
    file_data: &'a str,
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
        // vLLM's errors are `{"object":"error","message":…}`, not under
        // `error`: the refusal is looked for in the whole (bounded) body.
        let excerpt: String = body.chars().take(2_000).collect();
        refusal(status, &excerpt).unwrap_or(Self::Http { status, message })
    }
}

/// A request refused because it carried images or files the model does not
/// take, as real servers word it: OpenAI ("Invalid content type. image_url
/// is only supported by certain models."), LiteLLM ("The provided model is
/// not a vision model."), DeepSeek (422 "unknown variant `image_url`,
/// expected `text`"), vLLM ("… is not a multimodal model"), llama.cpp
/// ("image input is not supported"), Ollama ("this model is missing data
/// required for image input"), LM Studio ("Model does not support
/// images."); llama.cpp and Ollama have answered these with a 500. An
/// image the model could read but not this one (its format,
/// its size) is not a refusal of images: it stays an HTTP error, with the
/// server's words.
fn refusal(status: u16, body: &str) -> Option<ReplyError> {
    if !matches!(status, 400 | 415 | 422 | 500) {
        return None;
    }
    let text = body.to_ascii_lowercase();
    const REFUSING: &[&str] = &[
        "not support",
        "only supported",
        "not a vision model",
        "not a multimodal",
        "does not accept",
        "unknown variant",
        "missing data required",
        "at most 0 image",
        "not enabled",
        "invalid content type",
        "invalid value",
    ];
    const ABOUT_THE_FILE_ITSELF: &[&str] = &[
        "unsupported image",
        "invalid image",
        "image format",
        "media type",
        "mime type",
        "base64",
        "too large",
        "exceeds",
        "could not process",
        "image_parse_error",
    ];
    if !REFUSING.iter().any(|cue| text.contains(cue))
        || ABOUT_THE_FILE_ITSELF.iter().any(|cue| text.contains(cue))
    {
        return None;
    }
    // Whichever the refusal names first: "Invalid value: 'file'.
    // Supported values are: 'text', 'image_url', …" refuses the file.
    let first = |words: &[&str]| words.iter().filter_map(|w| text.find(w)).min();
    let image = first(&["image", "vision", "multimodal", "multi-modal"]);
    let file = first(&["file", "pdf", "document"]);
    match (image, file) {
        (Some(i), Some(f)) if f < i => Some(ReplyError::FilesRefused {
            model: String::new(),
        }),
        (Some(_), _) => Some(ReplyError::ImagesRefused {
            model: String::new(),
        }),
        (None, Some(_)) => Some(ReplyError::FilesRefused {
            model: String::new(),
        }),
        (None, None) => None,
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

    /// The reply was cut short (stopped, stalled, broken): what the
    /// splitter still held back, the start of a tag half received, is
    /// given out, so the saved reply keeps every character that arrived.
    pub fn release_held(&mut self) {
        self.split.finish(self.clock.now());
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
mod tests;
