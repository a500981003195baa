//! Errors answered in the OpenAI error format, which the client reads.

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use thiserror::Error;

#[derive(Debug, Error)]
pub enum ProxyError {
    #[error("The request body is not valid JSON: {0}")]
    BadJson(String),
    #[error(
        "The model '{0}' does not exist on this proxy. In offline mode only confab-echo is available."
    )]
    UnknownModel(String),
    #[error("The request body could not be read: {1}")]
    UnreadableBody(StatusCode, String),
    #[error(
        "The request body is larger than this proxy accepts ({limit} bytes). Start a new chat or send less text; whoever runs the proxy can raise the limit with --max-body-bytes (CONFAB_MAX_BODY_BYTES)."
    )]
    BodyTooLarge { limit: usize },
    #[error(
        "No such endpoint: {method} {path}. This proxy serves POST /api/v1/chat/completions and GET /api/v1/models."
    )]
    NotFound { method: String, path: String },
    #[error(
        "Trace export is not configured on this proxy: start it with --otlp-url (CONFAB_OTLP_URL) pointing at an OTLP/HTTP collector."
    )]
    NoCollector,
    /// The origin is the request's own `Origin` header, not a secret.
    #[error(
        "This proxy does not accept requests from pages at {origin}. Open the app from the proxy itself, or start the proxy with --allow-origin {origin} (CONFAB_ALLOWED_ORIGINS)."
    )]
    OriginNotAllowed { origin: String },
    #[error(
        "Too many requests from this address: wait {retry_after} s, then try again. The proxy allows {burst} requests at once and {per_second} per second after that (--rate-limit-burst, --rate-limit-per-sec)."
    )]
    RateLimited {
        retry_after: u64,
        burst: u32,
        per_second: f64,
    },
    /// The reason must never contain the key; it is built from reqwest's
    /// error kind, not from the request.
    #[error(
        "The model proxy could not reach the upstream model server ({0}). Check CONFAB_UPSTREAM_URL."
    )]
    Unreachable(String),
    #[error(
        "The upstream model server sent nothing for {secs} s, so the model proxy gave up. Try again; if it keeps happening, raise --upstream-idle-timeout-secs (CONFAB_UPSTREAM_IDLE_TIMEOUT_SECS)."
    )]
    UpstreamTimeout { secs: f64 },
    /// Only ever sent as an in-stream error frame: the answer had begun.
    #[error(
        "The connection to the upstream model server broke in the middle of the reply ({0}). Try again."
    )]
    UpstreamBroke(String),
    #[error(
        "No agent server is configured: start confab-proxy with --adk-url (CONFAB_ADK_URL) pointing at an ADK api_server, e.g. --adk-url http://127.0.0.1:8000."
    )]
    AdkNotConfigured,
    /// Same rule as `Unreachable`: the reason is reqwest's error kind only.
    #[error(
        "The model proxy could not reach the agent server ({0}). Is `adk api_server` running? Check --adk-url (CONFAB_ADK_URL)."
    )]
    AdkUnreachable(String),
    #[error(
        "The agent server sent nothing for {secs} s, so the model proxy gave up. Try again; if the agent needs longer, raise --upstream-idle-timeout-secs (CONFAB_UPSTREAM_IDLE_TIMEOUT_SECS)."
    )]
    AdkTimeout { secs: f64 },
    #[error(
        "The connection to the agent server broke in the middle of the reply ({0}). Try again."
    )]
    AdkBroke(String),
}

impl ProxyError {
    fn status(&self) -> StatusCode {
        match self {
            Self::BadJson(_) => StatusCode::BAD_REQUEST,
            Self::UnreadableBody(status, _) => *status,
            Self::BodyTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            Self::UnknownModel(_) | Self::NotFound { .. } | Self::NoCollector => {
                StatusCode::NOT_FOUND
            }
            Self::OriginNotAllowed { .. } => StatusCode::FORBIDDEN,
            Self::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
            Self::Unreachable(_) | Self::UpstreamBroke(_) => StatusCode::BAD_GATEWAY,
            Self::UpstreamTimeout { .. } | Self::AdkTimeout { .. } => StatusCode::GATEWAY_TIMEOUT,
            Self::AdkNotConfigured => StatusCode::SERVICE_UNAVAILABLE,
            Self::AdkUnreachable(_) | Self::AdkBroke(_) => StatusCode::BAD_GATEWAY,
        }
    }

    fn kind(&self) -> &'static str {
        match self {
            Self::BadJson(_)
            | Self::UnreadableBody(..)
            | Self::UnknownModel(_)
            | Self::BodyTooLarge { .. } => "invalid_request_error",
            Self::NotFound { .. } | Self::NoCollector => "not_found",
            Self::OriginNotAllowed { .. } => "permission_error",
            Self::RateLimited { .. } => "rate_limit_error",
            Self::Unreachable(_) | Self::UpstreamBroke(_) => "upstream_unreachable",
            Self::UpstreamTimeout { .. } => "upstream_timeout",
            Self::AdkNotConfigured => "adk_not_configured",
            Self::AdkUnreachable(_) | Self::AdkBroke(_) => "adk_unreachable",
            Self::AdkTimeout { .. } => "adk_timeout",
        }
    }

    fn code(&self) -> Option<&'static str> {
        match self {
            Self::UnknownModel(_) => Some("model_not_found"),
            Self::BodyTooLarge { .. } => Some("request_too_large"),
            Self::OriginNotAllowed { .. } => Some("origin_not_allowed"),
            Self::RateLimited { .. } => Some("rate_limit_exceeded"),
            Self::UpstreamTimeout { .. } | Self::AdkTimeout { .. } => Some("upstream_idle_timeout"),
            _ => None,
        }
    }

    /// `{"error": {"message", "type", "code"}}`, OpenAI's error shape, used
    /// both as a response body and as an in-stream SSE error frame.
    pub(crate) fn body(&self) -> Value {
        json!({
            "error": {"message": self.to_string(), "type": self.kind(), "code": self.code()}
        })
    }

    /// The error as one SSE frame, for a stream that has already begun.
    pub(crate) fn sse_frame(&self) -> String {
        format!("data: {}\n\n", self.body())
    }

    /// The error as one SSE frame in the shape the ADK api_server itself
    /// uses when a run fails after it began (`{"error": "<text>",
    /// "error_details": {...}}`), so a client reading an agent's stream
    /// handles the proxy's own failures with the same code.
    pub(crate) fn adk_sse_frame(&self) -> String {
        let message = self.to_string();
        let frame = json!({
            "error": message,
            "error_details": {"error_type": self.kind(), "error_message": message},
        });
        format!("data: {frame}\n\n")
    }
}

impl IntoResponse for ProxyError {
    fn into_response(self) -> Response {
        let mut response = (self.status(), Json(self.body())).into_response();
        if let Self::RateLimited { retry_after, .. } = self {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(retry_after));
        }
        response
    }
}
