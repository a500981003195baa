//! The handlers, one module per API the page calls; the small answers
//! every deployment gives are here.

pub mod adk;
pub mod model;
pub mod otlp;

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::extract::rejection::BytesRejection;
use axum::http::{Method, StatusCode, Uri};
use serde_json::{Value, json};

use crate::app::{AppState, Shared};
use crate::error::ProxyError;

pub async fn healthz(State(state): Shared) -> Json<Value> {
    let mode = if state.config.upstream().is_some() {
        "upstream"
    } else {
        "offline"
    };
    // Which model answers a request that names none: the page shows it by
    // name before the first message (null: the upstream's own choice).
    Json(json!({"status": "ok", "mode": mode, "default_model": state.config.default_model()}))
}

/// `/` when no app is served (no `--dist`).
pub async fn about() -> &'static str {
    "This is confab-proxy. The model API is at /api/v1 (POST /api/v1/chat/completions, GET /api/v1/models); an ADK agent server given by --adk-url is at /adk. Start it with --dist dist to serve the Confab app here.\n"
}

/// Any other path under `/api` or `/otlp`: this is not an open relay.
pub async fn api_not_found(method: Method, uri: Uri) -> ProxyError {
    ProxyError::NotFound {
        method: method.to_string(),
        path: uri.path().to_owned(),
    }
}

/// Even a body that cannot be read (too large, cut off) gets an answer in
/// the OpenAI error format, which the client shows.
fn read_body(state: &AppState, body: Result<Bytes, BytesRejection>) -> Result<Bytes, ProxyError> {
    body.map_err(|e| match e.status() {
        StatusCode::PAYLOAD_TOO_LARGE => ProxyError::BodyTooLarge {
            limit: state.config.max_body_bytes,
        },
        status => ProxyError::UnreadableBody(status, e.body_text()),
    })
}
