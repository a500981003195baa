//! Relaying a request to a peer (the model server, the agent server, the
//! trace collector) and streaming its answer back: status and the headers
//! a client needs, the key scrubbed out, an idle timeout between pieces.
//! The body on its way back is body.rs.

mod body;

use std::time::Duration;

use axum::body::Body;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::Response;
use futures_util::StreamExt;

use crate::app::AppState;
use crate::error::ProxyError;
use crate::redact::{Redactor, SseRedactor};
use body::{Piece, Relayed, next_piece};

/// Which server a relayed request goes to: the errors name it, and say
/// which setting to check (error.rs).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Peer {
    /// The upstream model API (`CONFAB_UPSTREAM_URL`).
    Model,
    /// The ADK agent server (`--adk-url`).
    Agents,
    /// The OTLP trace collector (`--otlp-url`).
    Collector,
}

impl Peer {
    /// An error inside a stream that has begun, in the shape the client
    /// already parses for this kind of stream.
    fn sse_frame(self, error: &ProxyError) -> String {
        match self {
            Self::Model | Self::Collector => error.sse_frame(),
            Self::Agents => error.adk_sse_frame(),
        }
    }
}

/// Sends `request` to the model server with the key, and streams the
/// answer back with its status and the headers a client needs.
pub async fn forward(
    state: &AppState,
    request: reqwest::RequestBuilder,
) -> Result<Response, ProxyError> {
    // A fresh request: none of the client's headers (its Authorization
    // above all) are passed on, only the ones set here.
    let mut request = request.header(header::CONTENT_TYPE, "application/json");
    if let Some(bearer) = state.config.api_key.bearer() {
        request = request.header(header::AUTHORIZATION, bearer);
    }
    relay(state, request, Peer::Model).await
}

/// Sends `request` and streams the answer back with its status and the
/// headers a client needs, the key scrubbed out of both. The upstream may
/// stay silent for at most the idle timeout: before anything was sent to
/// the client that is a 504; after, an SSE stream ends with an error frame
/// and any other body is cut off.
pub async fn relay(
    state: &AppState,
    request: reqwest::RequestBuilder,
    peer: Peer,
) -> Result<Response, ProxyError> {
    let idle = state.config.upstream_idle_timeout();
    let timed_out = || {
        tracing::warn!("upstream sent nothing within the idle timeout");
        ProxyError::Timeout {
            peer,
            secs: state.config.upstream_idle_timeout_secs,
        }
    };
    let upstream = within(idle, request.send())
        .await
        .ok_or_else(timed_out)?
        .map_err(|e| {
            let reason = error_kind(&e);
            tracing::warn!(reason, "upstream unreachable");
            ProxyError::Unreachable { peer, reason }
        })?;
    let secret = state.config.api_key.secret();
    let status =
        StatusCode::from_u16(upstream.status().as_u16()).unwrap_or(StatusCode::BAD_GATEWAY);
    let mut headers = HeaderMap::new();
    for name in [
        header::CONTENT_TYPE,
        header::RETRY_AFTER,
        header::CACHE_CONTROL,
    ] {
        if let Some(value) = upstream.headers().get(name.as_str())
            && !contains(value.as_bytes(), secret)
            && let Ok(value) = HeaderValue::from_bytes(value.as_bytes())
        {
            headers.insert(name, value);
        }
    }
    let sse = headers
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"text/event-stream"));
    let mut chunks = upstream.bytes_stream().boxed();
    // Wait for the first bytes before answering: an upstream that goes
    // quiet right after its headers still gets a plain 504, which every
    // client understands, rather than a 200 that ends in an error.
    let first = match next_piece(&mut chunks, idle).await {
        Piece::Idle => return Err(timed_out()),
        Piece::Broke(reason) => {
            tracing::warn!(reason, "upstream connection broke");
            return Err(ProxyError::Broke { peer, reason });
        }
        piece => piece,
    };
    let relayed = Relayed {
        chunks: Some(chunks),
        first: Some(first),
        idle,
        idle_secs: state.config.upstream_idle_timeout_secs,
        sse,
        at_frame_boundary: true,
        // Events first: a key streamed in pieces is only whole in the text
        // the client assembles; then bytes, for a whole key anywhere else.
        events: if sse { SseRedactor::new(secret) } else { None },
        redactor: Redactor::new(secret),
        peer,
    };
    let mut response = Response::new(Body::from_stream(futures_util::stream::unfold(
        relayed,
        Relayed::next,
    )));
    *response.status_mut() = status;
    *response.headers_mut() = headers;
    Ok(response)
}

/// `future`, or `None` if it takes longer than `limit`.
async fn within<F: Future>(limit: Option<Duration>, future: F) -> Option<F::Output> {
    match limit {
        Some(limit) => tokio::time::timeout(limit, future).await.ok(),
        None => Some(future.await),
    }
}

/// reqwest's Display includes the URL; keep a reason to its kind so
/// nothing from the request can leak.
fn error_kind(e: &reqwest::Error) -> &'static str {
    if e.is_connect() {
        "connection refused or host unreachable"
    } else if e.is_timeout() {
        "timed out"
    } else if e.is_body() || e.is_decode() {
        "the connection closed early"
    } else {
        "request failed"
    }
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty() && haystack.windows(needle.len()).any(|w| w == needle)
}
