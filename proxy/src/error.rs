//! Errors answered in the OpenAI error format, which the client reads:
//! `{"error": {"message", "type", "code"}}`. The `type`s and `code`s are
//! confab-core's (transport/proxy_codes.rs), the one list both sides use.

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use confab_core::transport::proxy_codes::{ErrorCode, ErrorType};
use serde_json::{Value, json};
use thiserror::Error;

use crate::relay::Peer;

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
        "The request body is larger than this proxy accepts ({limit} bytes). Start a new chat, or send less text or smaller attachments; whoever runs the proxy can raise the limit with --max-body-bytes (CONFAB_MAX_BODY_BYTES)."
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
        "Too many requests from {from}: wait {retry_after} s, then try again. The proxy allows {burst} requests at once and {per_second} per second after that (--rate-limit-burst, --rate-limit-per-sec)."
    )]
    RateLimited {
        retry_after: u64,
        burst: u32,
        per_second: f64,
        /// Whose bucket is empty: "this address", or "this person".
        from: &'static str,
    },
    /// The reason is reqwest's error kind, a fixed text (never anything
    /// from the request, so never the key).
    #[error(
        "The model proxy could not reach {} ({reason}). {}",
        words(*.peer).name,
        words(*.peer).check
    )]
    Unreachable { peer: Peer, reason: &'static str },
    #[error(
        "{} sent nothing for {secs} s, so the model proxy gave up. Try again; {}, raise --upstream-idle-timeout-secs (CONFAB_UPSTREAM_IDLE_TIMEOUT_SECS).",
        words(*.peer).subject,
        words(*.peer).when_to_wait_longer
    )]
    Timeout { peer: Peer, secs: f64 },
    /// The peer's answer had begun (its headers came) when it broke off.
    #[error(
        "The connection to {} broke in the middle of the reply ({reason}). Try again.",
        words(*.peer).name
    )]
    Broke { peer: Peer, reason: &'static str },
    #[error(
        "No agent server is configured: start confab-proxy with --adk-url (CONFAB_ADK_URL) pointing at an ADK api_server, e.g. --adk-url http://127.0.0.1:8000."
    )]
    AdkNotConfigured,
    /// The path is the request's own, not a secret.
    #[error(
        "confab-proxy does not relay {method} {path} to the agent server: only the routes a chat needs are open (the app list and app info, your own sessions, POST /adk/run_sse, artifact reads). See README, \"One deployment, many people\"."
    )]
    AdkRouteRefused { method: String, path: String },
    #[error(
        "confab-proxy does not relay requests for ADK's internal apps (names starting with __) to the agent server. See README, \"One deployment, many people\"."
    )]
    AdkInternalApp,
    #[error(
        "The path to the agent server has a segment confab-proxy does not relay: an empty, '.' or '..' segment, an encoded '/' outside an artifact name, or percent-encoding that is not UTF-8. Send each name percent-encoded."
    )]
    AdkBadPath,
    #[error(
        "The ADK user id must be the profile's own id: 1 to 64 letters, digits, '_' or '-' (or the id the agent server answered with, which starts with your identity and a dot)."
    )]
    AdkBadUser,
    #[error(
        "This ADK user id belongs to another person on this deployment (it starts with another identity). A page reaches only its own sessions: send your profile's own user id."
    )]
    AdkForeignUser,
    #[error(
        "The /adk/run_sse body names no user: send the profile's ADK user id as user_id (or userId)."
    )]
    AdkRunWithoutUser,
    #[error(
        "This request carries no valid identity cookie (confab_identity): it is missing, expired, or was not issued by this proxy. A new one comes with this answer: send the request again with it. Clients other than a browser must keep cookies between requests. See README, \"One deployment, many people\"."
    )]
    IdentityRequired,
    /// The header name is configuration, not a secret.
    #[error(
        "This proxy takes each person's identity from the {header} header, which the authenticating proxy in front of it sets, and this request has none. Reach Confab through that proxy (sign in there), not confab-proxy directly."
    )]
    UserHeaderRequired { header: String },
}

impl ProxyError {
    fn status(&self) -> StatusCode {
        match self {
            Self::BadJson(_) => StatusCode::BAD_REQUEST,
            Self::UnreadableBody(status, _) => *status,
            Self::BodyTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            Self::UnknownModel(_)
            | Self::NotFound { .. }
            | Self::NoCollector
            | Self::AdkRouteRefused { .. }
            | Self::AdkInternalApp => StatusCode::NOT_FOUND,
            Self::AdkBadPath | Self::AdkBadUser | Self::AdkRunWithoutUser => {
                StatusCode::BAD_REQUEST
            }
            Self::IdentityRequired | Self::UserHeaderRequired { .. } => StatusCode::UNAUTHORIZED,
            Self::OriginNotAllowed { .. } | Self::AdkForeignUser => StatusCode::FORBIDDEN,
            Self::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
            Self::Unreachable { .. } | Self::Broke { .. } => StatusCode::BAD_GATEWAY,
            Self::Timeout { .. } => StatusCode::GATEWAY_TIMEOUT,
            Self::AdkNotConfigured => StatusCode::SERVICE_UNAVAILABLE,
        }
    }

    fn kind(&self) -> ErrorType {
        match self {
            Self::BadJson(_)
            | Self::UnreadableBody(..)
            | Self::UnknownModel(_)
            | Self::BodyTooLarge { .. }
            | Self::AdkBadPath
            | Self::AdkBadUser
            | Self::AdkRunWithoutUser => ErrorType::InvalidRequestError,
            Self::NotFound { .. }
            | Self::NoCollector
            | Self::AdkRouteRefused { .. }
            | Self::AdkInternalApp => ErrorType::NotFound,
            Self::IdentityRequired | Self::UserHeaderRequired { .. } => {
                ErrorType::AuthenticationError
            }
            Self::OriginNotAllowed { .. } | Self::AdkForeignUser => ErrorType::PermissionError,
            Self::RateLimited { .. } => ErrorType::RateLimitError,
            Self::Unreachable { peer, .. } | Self::Broke { peer, .. } => match peer {
                Peer::Model => ErrorType::UpstreamUnreachable,
                Peer::Agents => ErrorType::AdkUnreachable,
                Peer::Collector => ErrorType::CollectorUnreachable,
            },
            Self::Timeout { peer, .. } => match peer {
                Peer::Model => ErrorType::UpstreamTimeout,
                Peer::Agents => ErrorType::AdkTimeout,
                Peer::Collector => ErrorType::CollectorTimeout,
            },
            Self::AdkNotConfigured => ErrorType::AdkNotConfigured,
        }
    }

    fn code(&self) -> Option<ErrorCode> {
        Some(match self {
            Self::UnknownModel(_) => ErrorCode::ModelNotFound,
            Self::BodyTooLarge { .. } => ErrorCode::RequestTooLarge,
            Self::OriginNotAllowed { .. } => ErrorCode::OriginNotAllowed,
            Self::AdkRouteRefused { .. } | Self::AdkInternalApp => ErrorCode::AdkRouteNotAllowed,
            Self::AdkBadPath => ErrorCode::InvalidPath,
            Self::AdkBadUser => ErrorCode::InvalidUserId,
            Self::AdkForeignUser => ErrorCode::UserNotYours,
            Self::AdkRunWithoutUser => ErrorCode::MissingUserId,
            Self::IdentityRequired => ErrorCode::IdentityRequired,
            Self::UserHeaderRequired { .. } => ErrorCode::UserHeaderRequired,
            Self::RateLimited { .. } => ErrorCode::RateLimitExceeded,
            Self::Timeout { .. } => ErrorCode::UpstreamIdleTimeout,
            _ => return None,
        })
    }

    /// `{"error": {"message", "type", "code"}}`, OpenAI's error shape, used
    /// both as a response body and as an in-stream SSE error frame.
    pub(crate) fn body(&self) -> Value {
        json!({
            "error": {
                "message": self.to_string(),
                "type": self.kind().as_str(),
                "code": self.code().map(ErrorCode::as_str),
            }
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
            "error_details": {"error_type": self.kind().as_str(), "error_message": message},
        });
        format!("data: {frame}\n\n")
    }
}

/// How the messages name a peer, and what they tell whoever runs the
/// proxy to look at: each peer has a setting of its own.
struct PeerWords {
    /// Inside a sentence.
    name: &'static str,
    /// At the start of one.
    subject: &'static str,
    /// When it cannot be reached.
    check: &'static str,
    /// When it is too slow.
    when_to_wait_longer: &'static str,
}

const fn words(peer: Peer) -> PeerWords {
    match peer {
        Peer::Model => PeerWords {
            name: "the upstream model server",
            subject: "The upstream model server",
            check: "Check CONFAB_UPSTREAM_URL.",
            when_to_wait_longer: "if it keeps happening",
        },
        Peer::Agents => PeerWords {
            name: "the agent server",
            subject: "The agent server",
            check: "Is `adk api_server` running? Check --adk-url (CONFAB_ADK_URL).",
            when_to_wait_longer: "if the agent needs longer",
        },
        Peer::Collector => PeerWords {
            name: "the trace collector",
            subject: "The trace collector",
            check: "Is the collector running? Check --otlp-url (CONFAB_OTLP_URL).",
            when_to_wait_longer: "if it keeps happening",
        },
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

#[cfg(test)]
mod tests {
    use super::*;

    fn messages(peer: Peer) -> [String; 3] {
        [
            ProxyError::Unreachable {
                peer,
                reason: "timed out",
            },
            ProxyError::Timeout { peer, secs: 120.0 },
            ProxyError::Broke {
                peer,
                reason: "the connection closed early",
            },
        ]
        .map(|e| e.to_string())
    }

    #[test]
    fn each_peer_is_named_with_its_own_setting() {
        // The model's and the agent server's words, as before the variants
        // were folded into one per failure.
        assert_eq!(
            messages(Peer::Model),
            [
                "The model proxy could not reach the upstream model server (timed out). Check CONFAB_UPSTREAM_URL.",
                "The upstream model server sent nothing for 120 s, so the model proxy gave up. Try again; if it keeps happening, raise --upstream-idle-timeout-secs (CONFAB_UPSTREAM_IDLE_TIMEOUT_SECS).",
                "The connection to the upstream model server broke in the middle of the reply (the connection closed early). Try again.",
            ]
        );
        assert_eq!(
            messages(Peer::Agents),
            [
                "The model proxy could not reach the agent server (timed out). Is `adk api_server` running? Check --adk-url (CONFAB_ADK_URL).",
                "The agent server sent nothing for 120 s, so the model proxy gave up. Try again; if the agent needs longer, raise --upstream-idle-timeout-secs (CONFAB_UPSTREAM_IDLE_TIMEOUT_SECS).",
                "The connection to the agent server broke in the middle of the reply (the connection closed early). Try again.",
            ]
        );
        let collector = messages(Peer::Collector);
        assert!(
            collector[0].contains("the trace collector"),
            "{collector:?}"
        );
        assert!(collector[0].contains("--otlp-url (CONFAB_OTLP_URL)"));
        for message in &collector {
            assert!(!message.contains("CONFAB_UPSTREAM_URL"), "{message}");
            assert!(!message.contains("model server"), "{message}");
        }
    }

    #[test]
    fn each_peer_has_its_own_error_types_and_the_same_timeout_code() {
        for (peer, unreachable, timeout) in [
            (Peer::Model, "upstream_unreachable", "upstream_timeout"),
            (Peer::Agents, "adk_unreachable", "adk_timeout"),
            (
                Peer::Collector,
                "collector_unreachable",
                "collector_timeout",
            ),
        ] {
            let broke = ProxyError::Broke { peer, reason: "x" };
            assert_eq!(broke.status(), StatusCode::BAD_GATEWAY);
            assert_eq!(broke.body()["error"]["type"], unreachable);
            let timed_out = ProxyError::Timeout { peer, secs: 1.0 };
            assert_eq!(timed_out.status(), StatusCode::GATEWAY_TIMEOUT);
            assert_eq!(timed_out.body()["error"]["type"], timeout);
            assert_eq!(timed_out.body()["error"]["code"], "upstream_idle_timeout");
        }
    }
}
