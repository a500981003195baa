//! Errors answered in the OpenAI error format, which the client reads.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;
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
        "No such endpoint: {method} {path}. This proxy serves POST /api/v1/chat/completions and GET /api/v1/models."
    )]
    NotFound { method: String, path: String },
    #[error(
        "Trace export is not configured on this proxy: start it with --otlp-url (CONFAB_OTLP_URL) pointing at an OTLP/HTTP collector."
    )]
    NoCollector,
    /// The reason must never contain the key; it is built from reqwest's
    /// error kind, not from the request.
    #[error(
        "The model proxy could not reach the upstream model server ({0}). Check CONFAB_UPSTREAM_URL."
    )]
    Unreachable(String),
}

impl ProxyError {
    fn status(&self) -> StatusCode {
        match self {
            Self::BadJson(_) => StatusCode::BAD_REQUEST,
            Self::UnreadableBody(status, _) => *status,
            Self::UnknownModel(_) | Self::NotFound { .. } | Self::NoCollector => {
                StatusCode::NOT_FOUND
            }
            Self::Unreachable(_) => StatusCode::BAD_GATEWAY,
        }
    }

    fn kind(&self) -> &'static str {
        match self {
            Self::BadJson(_) | Self::UnreadableBody(..) | Self::UnknownModel(_) => {
                "invalid_request_error"
            }
            Self::NotFound { .. } | Self::NoCollector => "not_found",
            Self::Unreachable(_) => "upstream_unreachable",
        }
    }

    fn code(&self) -> Option<&'static str> {
        match self {
            Self::UnknownModel(_) => Some("model_not_found"),
            _ => None,
        }
    }
}

impl IntoResponse for ProxyError {
    fn into_response(self) -> Response {
        let body = json!({
            "error": {"message": self.to_string(), "type": self.kind(), "code": self.code()}
        });
        (self.status(), Json(body)).into_response()
    }
}
