//! The model API: `POST /api/v1/chat/completions` and `GET /api/v1/models`,
//! forwarded to the upstream with the key added, or answered by the
//! built-in offline model confab-echo.

use std::time::Duration;

use axum::Json;
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::extract::rejection::BytesRejection;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::read_body;
use crate::app::Shared;
use crate::config::{self, Config};
use crate::echo;
use crate::error::ProxyError;
use crate::redact::Redactor;
use crate::relay::forward;

pub async fn chat_completions(
    State(state): Shared,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ProxyError> {
    let body = read_body(&state, body)?;
    if state.config.log_content {
        // Debugging only (--log-content). Even then, never the key.
        let content = Redactor::clean(state.config.api_key.secret(), &body);
        tracing::info!(body = %String::from_utf8_lossy(&content), "chat request content");
    }
    let mut request: Value =
        serde_json::from_slice(&body).map_err(|e| ProxyError::BadJson(e.to_string()))?;
    if !request.is_object() {
        return Err(ProxyError::BadJson("expected a JSON object".into()));
    }
    let named = request
        .get("model")
        .and_then(Value::as_str)
        .filter(|m| !m.is_empty())
        .map(str::to_owned);
    if named.is_none()
        && let Some(default) = state.config.default_model()
    {
        request["model"] = Value::String(default.to_owned());
    }
    let Some(upstream) = state.config.upstream() else {
        return offline_completion(&state.config, &request);
    };
    // Re-encode only when the model was filled in; otherwise pass the
    // client's bytes through as they are.
    let body = if named.is_none() && request.get("model").is_some() {
        Bytes::from(request.to_string())
    } else {
        body
    };
    let url = format!("{upstream}/chat/completions");
    forward(&state, state.client.post(url).body(body)).await
}

pub async fn models(State(state): Shared) -> Result<Response, ProxyError> {
    match state.config.upstream() {
        Some(upstream) => {
            let url = format!("{upstream}/models");
            forward(&state, state.client.get(url)).await
        }
        None => Ok(Json(json!({
            "object": "list",
            "data": [
                {"id": config::ECHO_MODEL, "object": "model", "created": 0, "owned_by": "confab"},
                {"id": config::ECHO_THINK_MODEL, "object": "model", "created": 0, "owned_by": "confab"}
            ]
        }))
        .into_response()),
    }
}

fn offline_completion(config: &Config, request: &Value) -> Result<Response, ProxyError> {
    let model = request.get("model").and_then(Value::as_str).unwrap_or("");
    if model != config::ECHO_MODEL && model != config::ECHO_THINK_MODEL {
        return Err(ProxyError::UnknownModel(model.to_owned()));
    }
    let echo = echo::EchoRequest::from_json(request);
    if request.get("stream").and_then(Value::as_bool) != Some(true) {
        return Ok(Json(echo::completion(&echo)).into_response());
    }
    let delay = Duration::from_millis(config.echo_token_delay_ms);
    let body = Body::from_stream(echo::stream(&echo, delay));
    Ok(sse_response(body))
}

fn sse_response(body: Body) -> Response {
    let mut response = Response::new(body);
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/event-stream"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    response
}
