//! `POST /otlp/v1/traces`: the page's trace exports, relayed to the
//! collector. The collector usually sends no CORS headers, so the page
//! posts here, same-origin, and this relays it.

use axum::body::Bytes;
use axum::extract::State;
use axum::extract::rejection::BytesRejection;
use axum::http::{HeaderMap, header};
use axum::response::Response;

use super::read_body;
use crate::app::Shared;
use crate::error::ProxyError;
use crate::relay::{Peer, relay};

/// Relays one export with its `Content-Type`; the model key is never sent
/// to the collector.
pub async fn traces(
    State(state): Shared,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ProxyError> {
    let Some(collector) = state.config.otlp() else {
        return Err(ProxyError::NoCollector);
    };
    let body = read_body(&state, body)?;
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("application/json")
        .to_owned();
    let request = state
        .client
        .post(format!("{collector}/v1/traces"))
        .header(header::CONTENT_TYPE, content_type)
        .body(body);
    relay(&state, request, Peer::Collector).await
}
