//! Why a reply is not whole, as data: the model's errors, the agent
//! server's, and a page closed mid-reply. A failed reply stores one of
//! these (not its text): `Display` writes the message shown to the user
//! (what happened, then what to do), so a message can be improved without
//! touching what is stored, and tests name the failure they expect.
//!
//! A leaf module: plain data, used by the wire format below it and by the
//! session and manager that store it.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value;
use thiserror::Error;

/// Why a model's reply failed.
#[derive(Clone, Debug, Error, PartialEq)]
pub enum ReplyError {
    #[error(
        "Could not reach the model proxy at {url}. Check that confab-proxy is running and that the endpoint in Settings is right, then press Retry."
    )]
    Unreachable { url: String },
    #[error(
        "This device is offline, so the model could not be reached. Your message is saved: press Retry once you are back online."
    )]
    Offline,
    #[error("{}", http_message(*status, message))]
    Http { status: u16, message: String },
    #[error("The model stopped with an error: {message}. Press Retry to ask again.")]
    InStream { message: String },
    #[error(
        "The model proxy sent a reply that could not be read ({detail}). Press Retry; if it happens again, check the endpoint in Settings."
    )]
    Malformed { detail: String },
    #[error(
        "The connection broke while reading the reply ({detail}). What arrived is kept: press Continue to have the model go on, or Retry."
    )]
    Broken { detail: String },
    #[error(
        "The model sent nothing for {seconds} seconds, so Confab stopped waiting. What arrived is kept: press Continue to have the model go on, or Retry."
    )]
    Stalled { seconds: u32 },
    /// The message alone does not fit in the model's context window.
    #[error(
        "Your message is about {needed} tokens, more than fits in the {window}-token context window of {model} (a quarter of it is kept for the reply). Shorten it, or raise the context window in Settings if the model allows more."
    )]
    TooLarge {
        needed: usize,
        window: u32,
        model: String,
    },
    /// One attachment of the message does not fit in the model's context
    /// window (it is never cut to fit).
    #[error(
        "{name} ({}) is about {tokens} tokens; {model} reads at most {window}, a quarter of it kept for the reply. Remove it or choose a model with a larger context.",
        crate::units::bytes(*size as f64)
    )]
    AttachmentTooLarge {
        name: String,
        size: u64,
        tokens: usize,
        window: u32,
        model: String,
    },
    /// The message's attachments, as sent (base64), are more than one
    /// request may carry.
    #[error(
        "The attachments of this message come to {} as sent, more than the {} one request can carry. Send fewer at a time.",
        crate::units::bytes(*size as f64),
        crate::units::bytes(*limit as f64)
    )]
    AttachmentsTooHeavy { size: u64, limit: u64 },
    /// The bytes of an attachment of the message being sent are gone from
    /// this browser's storage.
    #[error("{name} is no longer stored in this browser; remove it and attach it again.")]
    AttachmentUnavailable { name: String },
    /// The model refused the message's images (`model` is empty when the
    /// refusal did not say which model).
    #[error(
        "{} does not accept images — choose another model. Your message is kept.",
        this_model(model)
    )]
    ImagesRefused { model: String },
    /// The model refused the message's files (PDFs).
    #[error(
        "{} does not accept files — choose another model. Your message is kept.",
        this_model(model)
    )]
    FilesRefused { model: String },
}

fn this_model(model: &str) -> String {
    if model.is_empty() {
        "This model".to_owned()
    } else {
        format!("The model {model}")
    }
}

fn http_message(status: u16, message: &str) -> String {
    let detail = if message.is_empty() {
        String::new()
    } else {
        format!(": {message}")
    };
    let advice = match status {
        401 | 403 => "The API key configured on the model proxy was rejected; check it there.",
        404 => "The model or endpoint does not exist; check the model and endpoint in Settings.",
        413 => "The conversation is too large for the model; start a new chat.",
        429 => "The model is rate limited; wait a moment, then press Retry.",
        500..=599 => "The model server had a problem; press Retry in a moment.",
        _ => "Press Retry; if it happens again, check Settings.",
    };
    format!("The model proxy answered HTTP {status}{detail}. {advice}")
}

impl ReplyError {
    /// A short code for the failed event (ADK's `error_code`).
    pub fn code(&self) -> String {
        match self {
            Self::Unreachable { .. } => "unreachable".into(),
            Self::Offline => "offline".into(),
            Self::Http { status, .. } => format!("http_{status}"),
            Self::InStream { .. } => "stream_error".into(),
            Self::Malformed { .. } => "malformed_stream".into(),
            Self::Broken { .. } => "broken_stream".into(),
            Self::Stalled { .. } => "stalled".into(),
            Self::TooLarge { .. } => "context_too_large".into(),
            Self::AttachmentTooLarge { .. } => "attachment_too_large".into(),
            Self::AttachmentsTooHeavy { .. } => "attachments_too_heavy".into(),
            Self::AttachmentUnavailable { .. } => "attachment_unavailable".into(),
            Self::ImagesRefused { .. } => "images_refused".into(),
            Self::FilesRefused { .. } => "files_refused".into(),
        }
    }

    /// The same failure naming `model`, for a refusal that did not say
    /// which model refused (the shell knows which it asked).
    pub fn naming_model(self, model: &str) -> Self {
        match self {
            Self::ImagesRefused { model: named } if named.is_empty() => Self::ImagesRefused {
                model: model.to_owned(),
            },
            Self::FilesRefused { model: named } if named.is_empty() => Self::FilesRefused {
                model: model.to_owned(),
            },
            other => other,
        }
    }
}

/// What every agent failure offers.
const AGENT_FALLBACK: &str = "Press Retry, or answer with the model instead.";

/// Why an agent's (ADK api_server's) reply failed.
#[derive(Clone, Debug, Error, PartialEq)]
pub enum AgentError {
    /// No answer at all. `refused_origin`: the page is on another origin
    /// than the server, which may be refusing it (a browser shows a refused
    /// CORS preflight as a network failure, with no status).
    #[error("{}", unreachable_message(base, refused_origin.as_deref()))]
    Unreachable {
        base: String,
        refused_origin: Option<String>,
    },
    #[error(
        "The agent server refused this page's origin (HTTP 403: {detail}). Start it with `adk api_server --allow_origins {origin}`, or leave the agent server URL at /adk and give confab-proxy --adk-url. {AGENT_FALLBACK}"
    )]
    OriginRefused { detail: String, origin: String },
    #[error(
        "confab-proxy did not recognise this browser (HTTP 401), so it kept the agent server closed to it. Reload the page; if this browser blocks cookies for this site, allow them: the proxy keeps each browser's agent conversations apart with one. {AGENT_FALLBACK}"
    )]
    Unrecognised,
    #[error("The agent server answered HTTP {status}: {}. {AGENT_FALLBACK}", detail.trim_end_matches('.'))]
    Http { status: u16, detail: String },
    #[error("The connection to the agent server broke ({detail}). {AGENT_FALLBACK}")]
    Broken { detail: String },
    #[error(
        "The agent sent nothing for {seconds} seconds, so Confab stopped waiting. {AGENT_FALLBACK}"
    )]
    Stalled { seconds: u32 },
    /// The run itself failed (an error event or frame from the server).
    #[error("The agent stopped with an error: {}. {AGENT_FALLBACK}", detail.trim_end_matches('.'))]
    RunFailed { detail: String },
    /// The stream ended before the answer was final.
    #[error("The agent's answer ended before it was finished. Press Retry.")]
    Truncated,
}

fn unreachable_message(base: &str, refused_origin: Option<&str>) -> String {
    match refused_origin {
        Some(origin) => format!(
            "Could not reach the agent server at {base}. If it is running, it refuses this page's origin: start it with `adk api_server --allow_origins {origin}`, or set the agent server URL to /adk and start confab-proxy with --adk-url {base}. {AGENT_FALLBACK}"
        ),
        None => format!(
            "Could not reach the agent server at {base}. Check that it is running (and that confab-proxy has --adk-url), then press Retry, or answer with the model instead."
        ),
    }
}

impl AgentError {
    /// A short code for the failed event (ADK's `error_code`).
    pub fn code(&self) -> &'static str {
        match self {
            Self::Unreachable { .. } => "agent_unreachable",
            Self::OriginRefused { .. } => "agent_origin_refused",
            Self::Unrecognised => "agent_identity",
            Self::Http { .. } => "agent_http",
            Self::Broken { .. } => "agent_broken",
            Self::Stalled { .. } => "agent_stalled",
            Self::RunFailed { .. } => "agent_run_failed",
            Self::Truncated => "agent_truncated",
        }
    }
}

/// Why a stored reply is not whole. Stored as one small object, its `kind`
/// and the values its message needs (`StoredFailure`).
#[derive(Clone, Debug, Error, PartialEq)]
pub enum ReplyFailure {
    #[error("{0}")]
    Model(ReplyError),
    #[error("{0}")]
    Agent(AgentError),
    /// The page was closed (or its tab died) while the reply was written;
    /// its draft was saved as it stood.
    #[error("{}", if *any_text { PAGE_CLOSED } else { PAGE_CLOSED_EARLY })]
    PageClosed { any_text: bool },
    /// A kind this version does not know (a newer version stored it).
    #[error("This reply did not finish ({kind}). Press Retry to ask again.")]
    Other { kind: String },
}

const PAGE_CLOSED: &str = "The page was closed while this reply was being written; what had arrived is kept. Press Retry for a whole reply, or Continue.";

const PAGE_CLOSED_EARLY: &str =
    "The page was closed before any of this reply arrived. Press Retry to ask again.";

impl ReplyFailure {
    /// A short code for the failed event (ADK's `error_code`).
    pub fn code(&self) -> String {
        match self {
            Self::Model(error) => error.code(),
            Self::Agent(error) => error.code().to_owned(),
            Self::PageClosed { .. } => "interrupted".to_owned(),
            Self::Other { kind } => kind.clone(),
        }
    }

    /// The stored form: its `kind` and the values its message needs, in a
    /// few plain fields. By hand rather than serde's derive for these
    /// nested enums, which cost about 8 KB gzipped of wasm.
    fn to_stored(&self) -> StoredFailure {
        use AgentError as A;
        use ReplyError as M;
        let kind = self.code();
        let with = |text: &str, also: Option<&str>, number: u64| StoredFailure {
            kind: kind.clone(),
            text: text.to_owned(),
            also: also.map(str::to_owned),
            number,
            limit: 0,
            size: 0,
        };
        match self {
            Self::Model(error) => match error {
                M::Unreachable { url } => with(url, None, 0),
                M::Offline => with("", None, 0),
                M::Http { status, message } => with(message, None, u64::from(*status)),
                M::InStream { message } => with(message, None, 0),
                M::Malformed { detail } | M::Broken { detail } => with(detail, None, 0),
                M::Stalled { seconds } => with("", None, u64::from(*seconds)),
                M::TooLarge {
                    needed,
                    window,
                    model,
                } => StoredFailure {
                    limit: u64::from(*window),
                    ..with(model, None, *needed as u64)
                },
                M::AttachmentTooLarge {
                    name,
                    size,
                    tokens,
                    window,
                    model,
                } => StoredFailure {
                    limit: u64::from(*window),
                    size: *size,
                    ..with(name, Some(model), *tokens as u64)
                },
                M::AttachmentsTooHeavy { size, limit } => StoredFailure {
                    limit: *limit,
                    size: *size,
                    ..with("", None, 0)
                },
                M::AttachmentUnavailable { name } => with(name, None, 0),
                M::ImagesRefused { model } | M::FilesRefused { model } => with(model, None, 0),
            },
            Self::Agent(error) => match error {
                A::Unreachable {
                    base,
                    refused_origin,
                } => with(base, refused_origin.as_deref(), 0),
                A::OriginRefused { detail, origin } => with(detail, Some(origin), 0),
                A::Http { status, detail } => with(detail, None, u64::from(*status)),
                A::Broken { detail } | A::RunFailed { detail } => with(detail, None, 0),
                A::Stalled { seconds } => with("", None, u64::from(*seconds)),
                A::Unrecognised | A::Truncated => with("", None, 0),
            },
            Self::PageClosed { any_text } => with("", None, u64::from(*any_text)),
            Self::Other { .. } => with("", None, 0),
        }
    }

    /// Reads the stored form back; a kind this version does not know is
    /// kept as [`ReplyFailure::Other`].
    fn from_stored(stored: StoredFailure) -> Self {
        let StoredFailure {
            kind,
            text,
            also,
            number,
            limit,
            size,
        } = stored;
        let status = number as u16;
        let seconds = number as u32;
        let model = Self::Model;
        let agent = Self::Agent;
        match kind.as_str() {
            "unreachable" => model(ReplyError::Unreachable { url: text }),
            "offline" => model(ReplyError::Offline),
            "stream_error" => model(ReplyError::InStream { message: text }),
            "malformed_stream" => model(ReplyError::Malformed { detail: text }),
            "broken_stream" => model(ReplyError::Broken { detail: text }),
            "stalled" => model(ReplyError::Stalled { seconds }),
            "context_too_large" => model(ReplyError::TooLarge {
                needed: number as usize,
                window: limit as u32,
                model: text,
            }),
            "attachment_too_large" => model(ReplyError::AttachmentTooLarge {
                name: text,
                size,
                tokens: number as usize,
                window: limit as u32,
                model: also.unwrap_or_default(),
            }),
            "attachments_too_heavy" => model(ReplyError::AttachmentsTooHeavy { size, limit }),
            "attachment_unavailable" => model(ReplyError::AttachmentUnavailable { name: text }),
            "images_refused" => model(ReplyError::ImagesRefused { model: text }),
            "files_refused" => model(ReplyError::FilesRefused { model: text }),
            http if http.starts_with("http_") => model(ReplyError::Http {
                status,
                message: text,
            }),
            "agent_unreachable" => agent(AgentError::Unreachable {
                base: text,
                refused_origin: also,
            }),
            "agent_origin_refused" => agent(AgentError::OriginRefused {
                detail: text,
                origin: also.unwrap_or_default(),
            }),
            "agent_identity" => agent(AgentError::Unrecognised),
            "agent_http" => agent(AgentError::Http {
                status,
                detail: text,
            }),
            "agent_broken" => agent(AgentError::Broken { detail: text }),
            "agent_stalled" => agent(AgentError::Stalled { seconds }),
            "agent_run_failed" => agent(AgentError::RunFailed { detail: text }),
            "agent_truncated" => agent(AgentError::Truncated),
            "interrupted" => Self::PageClosed {
                any_text: number != 0,
            },
            _ => Self::Other { kind },
        }
    }
}

/// How a [`ReplyFailure`] is stored: `kind` is its code; `text`, `also`,
/// `number`, `limit` and `size` hold what its message needs (a URL, detail
/// or file name, an origin or model, a status or a count of seconds or
/// tokens, a window or limit, a file's size in bytes).
#[derive(Serialize)]
struct StoredFailure {
    kind: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    text: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    also: Option<String>,
    #[serde(default, skip_serializing_if = "is_zero")]
    number: u64,
    #[serde(default, skip_serializing_if = "is_zero")]
    limit: u64,
    #[serde(default, skip_serializing_if = "is_zero")]
    size: u64,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

impl Serialize for ReplyFailure {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.to_stored().serialize(serializer)
    }
}

/// Read through `Value` (whose parser the app has anyway) rather than a
/// derived parser of its own: 2 KB less wasm.
impl<'de> Deserialize<'de> for ReplyFailure {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let value = Value::deserialize(deserializer)?;
        let text = |name: &str| value.get(name).and_then(Value::as_str).map(str::to_owned);
        let number = |name: &str| value.get(name).and_then(Value::as_u64).unwrap_or(0);
        Ok(Self::from_stored(StoredFailure {
            kind: text("kind").unwrap_or_default(),
            text: text("text").unwrap_or_default(),
            also: text("also"),
            number: number("number"),
            limit: number("limit"),
            size: number("size"),
        }))
    }
}

impl From<ReplyError> for ReplyFailure {
    fn from(error: ReplyError) -> Self {
        Self::Model(error)
    }
}

impl From<AgentError> for ReplyFailure {
    fn from(error: AgentError) -> Self {
        Self::Agent(error)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failure_round_trips_through_storage_with_what_it_needs_to_be_told() {
        let failures = [
            ReplyFailure::Model(ReplyError::Http {
                status: 429,
                message: "slow down".into(),
            }),
            ReplyFailure::Model(ReplyError::Offline),
            ReplyFailure::Model(ReplyError::TooLarge {
                needed: 9_000,
                window: 8_192,
                model: "m".into(),
            }),
            ReplyFailure::Agent(AgentError::Unreachable {
                base: "/adk".into(),
                refused_origin: Some("http://a.example".into()),
            }),
            ReplyFailure::Agent(AgentError::Truncated),
            ReplyFailure::Agent(AgentError::Http {
                status: 502,
                detail: "Bad Gateway".into(),
            }),
            ReplyFailure::Agent(AgentError::Stalled { seconds: 60 }),
            ReplyFailure::Agent(AgentError::RunFailed {
                detail: "boom".into(),
            }),
            ReplyFailure::Model(ReplyError::Stalled { seconds: 30 }),
            ReplyFailure::PageClosed { any_text: true },
            ReplyFailure::PageClosed { any_text: false },
            ReplyFailure::Model(ReplyError::AttachmentTooLarge {
                name: "data.csv".into(),
                size: 3_145_728,
                tokens: 786_500,
                window: 128_000,
                model: "gpt-4o".into(),
            }),
            ReplyFailure::Model(ReplyError::AttachmentsTooHeavy {
                size: 30_000_000,
                limit: 25_165_824,
            }),
            ReplyFailure::Model(ReplyError::AttachmentUnavailable {
                name: "chart.png".into(),
            }),
            ReplyFailure::Model(ReplyError::ImagesRefused {
                model: "deepseek-chat".into(),
            }),
            ReplyFailure::Model(ReplyError::ImagesRefused {
                model: String::new(),
            }),
            ReplyFailure::Model(ReplyError::FilesRefused {
                model: "gpt-3.5-turbo".into(),
            }),
        ];
        for failure in failures {
            let stored = serde_json::to_string(&failure).unwrap();
            assert!(!stored.contains("Press Retry"), "prose stored: {stored}");
            let back: ReplyFailure = serde_json::from_str(&stored).unwrap();
            assert_eq!(back, failure);
            assert_eq!(back.to_string(), failure.to_string());
        }
    }

    #[test]
    fn attachment_failures_say_which_file_and_what_to_do() {
        let too_large = ReplyError::AttachmentTooLarge {
            name: "data.csv".into(),
            size: 3_145_728,
            tokens: 786_500,
            window: 128_000,
            model: "gpt-4o".into(),
        };
        assert_eq!(
            too_large.to_string(),
            "data.csv (3.0 MB) is about 786500 tokens; gpt-4o reads at most 128000, a quarter of it kept for the reply. Remove it or choose a model with a larger context."
        );
        assert_eq!(
            ReplyError::AttachmentUnavailable {
                name: "chart.png".into()
            }
            .to_string(),
            "chart.png is no longer stored in this browser; remove it and attach it again."
        );
        let refused = ReplyError::ImagesRefused {
            model: String::new(),
        };
        assert_eq!(
            refused.to_string(),
            "This model does not accept images — choose another model. Your message is kept."
        );
        let named = refused.naming_model("deepseek-chat");
        assert_eq!(
            named.to_string(),
            "The model deepseek-chat does not accept images — choose another model. Your message is kept."
        );
        // A model already named stays; other failures are left alone.
        assert_eq!(named.clone().naming_model("other"), named);
        assert_eq!(ReplyError::Offline.naming_model("m"), ReplyError::Offline);
        assert!(
            ReplyError::FilesRefused { model: "m".into() }
                .to_string()
                .contains("does not accept files")
        );
        assert!(
            ReplyError::AttachmentsTooHeavy {
                size: 30 << 20,
                limit: 24 << 20
            }
            .to_string()
            .contains("30.0 MB as sent, more than the 24.0 MB")
        );
    }

    #[test]
    fn a_kind_from_a_newer_version_is_kept_and_shown_plainly() {
        let stored = r#"{"kind":"quantum_error","qubits":3}"#;
        let read: ReplyFailure = serde_json::from_str(stored).unwrap();
        assert_eq!(
            read,
            ReplyFailure::Other {
                kind: "quantum_error".into()
            }
        );
        assert_eq!(
            read.to_string(),
            "This reply did not finish (quantum_error). Press Retry to ask again."
        );
    }

    #[test]
    fn each_failure_says_what_happened_and_what_to_do() {
        let http = ReplyFailure::Model(ReplyError::Http {
            status: 500,
            message: "boom".into(),
        });
        assert_eq!(
            http.to_string(),
            "The model proxy answered HTTP 500: boom. The model server had a problem; press Retry in a moment."
        );
        assert_eq!(http.code(), "http_500");
        let refused = AgentError::Unreachable {
            base: "http://127.0.0.1:8000".into(),
            refused_origin: Some("http://127.0.0.1:8080".into()),
        };
        assert!(
            refused
                .to_string()
                .contains("--allow_origins http://127.0.0.1:8080")
        );
        let away = AgentError::Unreachable {
            base: "/adk".into(),
            refused_origin: None,
        };
        assert_eq!(
            away.to_string(),
            "Could not reach the agent server at /adk. Check that it is running (and that confab-proxy has --adk-url), then press Retry, or answer with the model instead."
        );
        let failed = AgentError::RunFailed {
            detail: "RuntimeError: no.".into(),
        };
        assert_eq!(
            failed.to_string(),
            "The agent stopped with an error: RuntimeError: no. Press Retry, or answer with the model instead."
        );
        assert_eq!(
            ReplyFailure::PageClosed { any_text: false }.to_string(),
            PAGE_CLOSED_EARLY
        );
        assert_eq!(
            ReplyFailure::PageClosed { any_text: true }.code(),
            "interrupted"
        );
    }
}
