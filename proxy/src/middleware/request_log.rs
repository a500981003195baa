//! One log line per request: method, path, status, duration and bytes
//! sent; never bodies, never headers (the key).

use std::time::Instant;

use axum::body::{Body, HttpBody};
use axum::extract::Request;
use axum::http::Method;
use axum::middleware::Next;
use axum::response::Response;
use futures_util::StreamExt;

/// Logs `request` once its answer is done with. A streamed reply is logged
/// when its body ends or the client goes away, so `ms` and `bytes` cover
/// the whole stream, not just the headers.
pub async fn log_request(request: Request, next: Next) -> Response {
    let mut line = LogLine {
        method: request.method().clone(),
        path: request.uri().path().to_owned(),
        status: 0,
        started: Instant::now(),
        bytes: 0,
        // Stays false (with status 0) if the client leaves before the
        // handler answers, which drops this future and `line` with it.
        complete: false,
    };
    let response = next.run(request).await;
    line.status = response.status().as_u16();
    if let Some(size) = HttpBody::size_hint(response.body()).exact() {
        // A body of known length: `line` is dropped, and logged, now.
        line.bytes = size;
        line.complete = true;
        return response;
    }
    let (parts, body) = response.into_parts();
    // The line travels with the body stream; the stream's end marks it
    // complete, and dropping it (at the end or on disconnect) logs it.
    let logged = futures_util::stream::unfold(
        (body.into_data_stream(), line),
        |(mut data, mut line)| async move {
            match data.next().await {
                Some(chunk) => {
                    if let Ok(bytes) = &chunk {
                        line.bytes += bytes.len() as u64;
                    }
                    Some((chunk, (data, line)))
                }
                None => {
                    line.complete = true;
                    drop(line); // logs now, as the stream ends
                    None
                }
            }
        },
    );
    Response::from_parts(parts, Body::from_stream(logged))
}

/// The facts of one request's log line, written when it is dropped.
struct LogLine {
    method: Method,
    path: String,
    status: u16,
    started: Instant,
    /// Response body bytes sent.
    bytes: u64,
    /// False when the client went away before a streamed body ended.
    complete: bool,
}

impl Drop for LogLine {
    fn drop(&mut self) {
        tracing::info!(
            method = %self.method,
            path = self.path,
            status = self.status,
            ms = self.started.elapsed().as_millis() as u64,
            bytes = self.bytes,
            complete = self.complete,
            "request"
        );
    }
}
