//! The OpenAI-compatible chat-completions wire format, and the state machine
//! that turns a streamed reply into text and an outcome.

use serde::{Deserialize, Serialize};

use super::sse::SseDecoder;
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

/// One `data:` frame of a streamed reply.
#[derive(Debug, Deserialize)]
struct Chunk {
    #[serde(default)]
    model: Option<String>,
    #[serde(default)]
    choices: Vec<Choice>,
    #[serde(default)]
    usage: Option<Usage>,
    #[serde(default)]
    error: Option<ApiError>,
}

#[derive(Debug, Deserialize)]
struct Choice {
    #[serde(default)]
    delta: Delta,
    #[serde(default)]
    finish_reason: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
struct Delta {
    #[serde(default)]
    content: Option<String>,
}

/// Token counts, when the endpoint reports them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Usage {
    #[serde(default)]
    pub prompt_tokens: u64,
    #[serde(default)]
    pub completion_tokens: u64,
    #[serde(default)]
    pub total_tokens: u64,
}

/// The `error` object of an error body or an error frame.
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
pub struct ApiError {
    #[serde(default)]
    pub message: String,
    #[serde(default, rename = "type")]
    pub kind: Option<String>,
    /// A string or a number, depending on the server.
    #[serde(default)]
    pub code: Option<serde_json::Value>,
}

impl ApiError {
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
            other => ApiError::deserialize(other)
                .map(Self::Object)
                .map_err(serde::de::Error::custom),
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

/// Accumulates a streamed reply from raw bytes. It accepts the variations of
/// real peers: missing `finish_reason`, usage chunks with or without
/// choices, comments, and an error frame with or without a `[DONE]` after it.
#[derive(Debug, Default)]
pub struct ChatStream {
    sse: SseDecoder,
    text: String,
    model: Option<String>,
    finish_reason: Option<String>,
    usage: Option<Usage>,
    done: bool,
    failure: Option<ReplyError>,
}

impl ChatStream {
    pub fn new() -> Self {
        Self::default()
    }

    /// Feeds received bytes; returns the text they add (possibly empty).
    /// After `[DONE]` or an error, further bytes are ignored.
    pub fn push(&mut self, bytes: &[u8]) -> String {
        let mut added = String::new();
        for event in self.sse.push(bytes) {
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
        self.text.push_str(&added);
        added
    }

    fn apply(&mut self, chunk: Chunk, added: &mut String) {
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
            if let Some(content) = choice.delta.content {
                added.push_str(&content);
            }
            if choice.finish_reason.is_some() {
                self.finish_reason = choice.finish_reason;
            }
        }
    }

    /// `[DONE]` or an error arrived: nothing more will count.
    pub fn is_finished(&self) -> bool {
        self.done || self.failure.is_some()
    }

    pub fn text(&self) -> &str {
        &self.text
    }

    /// The model that answered, as the stream named it.
    pub fn model(&self) -> Option<&str> {
        self.model.as_deref()
    }

    pub fn usage(&self) -> Option<Usage> {
        self.usage
    }

    /// The outcome once the body has ended (or the reader gave up).
    pub fn outcome(&mut self) -> StreamOutcome {
        self.sse.finish();
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
        assert_eq!(stream.push(body.as_bytes()), "Hello");
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
        let (_, outcome) = run("data: {not json}\n\n");
        assert!(matches!(
            outcome,
            StreamOutcome::Failed(ReplyError::Malformed { .. })
        ));
    }

    #[test]
    fn bytes_after_done_are_ignored() {
        let mut stream = ChatStream::new();
        stream.push(format!("{}{DONE}", chunk("a")).as_bytes());
        assert!(stream.is_finished());
        assert_eq!(stream.push(chunk("b").as_bytes()), "");
        assert_eq!(stream.text(), "a");
    }

    #[test]
    fn any_split_gives_the_same_text() {
        let body = format!("{}{}{FINISH}{DONE}", chunk("héllo 你"), chunk(" wörld 👋"));
        let bytes = body.as_bytes();
        for split in 0..bytes.len() {
            let mut stream = ChatStream::new();
            let mut seen = stream.push(&bytes[..split]);
            seen.push_str(&stream.push(&bytes[split..]));
            assert_eq!(seen, "héllo 你 wörld 👋", "split at {split}");
            assert!(matches!(stream.outcome(), StreamOutcome::Complete { .. }));
        }
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
