//! confab-proxy: the model proxy endpoint of Confab.
//!
//! - `POST /api/v1/chat/completions` and `GET /api/v1/models` go to the
//!   upstream OpenAI-compatible API with the API key added (the key never
//!   reaches the browser), streamed through unbuffered; or, with no upstream,
//!   to the built-in offline model `confab-echo`.
//! - `POST /otlp/v1/traces` relays trace exports to an OTLP/HTTP collector
//!   (`--otlp-url`), same-origin for the page.
//! - `GET /healthz` answers `{"status":"ok"}`.
//! - With `--dist`, the built web app is served at `/`, so one binary serves
//!   the whole app.

pub mod config;
pub mod echo;
mod error;

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::HttpBody;
use axum::body::{Body, Bytes};
use axum::extract::rejection::BytesRejection;
use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::{HeaderValue, Method, StatusCode, Uri, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get, post};
use axum::{Json, Router};
use futures_util::StreamExt;
use serde_json::{Value, json};
use tokio::net::TcpListener;
use tower_http::services::{ServeDir, ServeFile};

pub use config::Config;
use error::ProxyError;

/// Largest request body accepted (a long conversation with pasted text).
const BODY_LIMIT: usize = 16 * 1024 * 1024;
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

struct AppState {
    config: Config,
    client: reqwest::Client,
}

type Shared = State<Arc<AppState>>;

/// The whole HTTP application for `config`.
pub fn app(config: Config) -> Router {
    let client = reqwest::Client::builder()
        .connect_timeout(CONNECT_TIMEOUT)
        .build()
        .unwrap_or_default();
    let dist = config.dist.clone();
    let state = Arc::new(AppState { config, client });
    let api = Router::new()
        .route(
            "/api/v1/chat/completions",
            post(chat_completions).fallback(api_not_found),
        )
        .route("/api/v1/models", get(models).fallback(api_not_found))
        // `/api/{*rest}` does not match `/api/` itself; list the bare
        // prefixes too, so no API-looking path falls through to the app.
        .route("/api", any(api_not_found))
        .route("/api/", any(api_not_found))
        .route("/api/{*rest}", any(api_not_found))
        .route("/otlp/v1/traces", post(otlp_traces).fallback(api_not_found))
        .route("/otlp", any(api_not_found))
        .route("/otlp/", any(api_not_found))
        .route("/otlp/{*rest}", any(api_not_found))
        .route("/healthz", get(healthz));
    let router = match dist {
        // Unknown paths get index.html: the app is a single page.
        Some(dist) => api.fallback_service(
            ServeDir::new(&dist).fallback(ServeFile::new(dist.join("index.html"))),
        ),
        None => api.route("/", get(about)),
    };
    router
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .layer(middleware::from_fn(log_request))
        .with_state(state)
}

/// Serves `config` on `listener` until the process ends. Prints the line
/// `confab-proxy listening on http://ADDR` once it accepts connections.
pub async fn serve(config: Config, listener: TcpListener) -> std::io::Result<()> {
    let addr = listener.local_addr()?;
    let mode = match config.upstream() {
        Some(url) => format!("upstream {url}"),
        None => "offline model confab-echo".to_owned(),
    };
    tracing::info!(%addr, mode, dist = ?config.dist, "starting");
    if config.upstream().is_some() && config.api_key.is_unusable() {
        tracing::warn!(
            "CONFAB_UPSTREAM_API_KEY contains characters not allowed in an HTTP header; it is not sent"
        );
    }
    println!("confab-proxy listening on http://{addr}");
    axum::serve(listener, app(config)).await
}

/// One log line per request; never bodies, never headers (the key).
/// A streamed reply is logged when its body ends or the client goes away,
/// so `ms` covers the whole stream, not just the time to the headers.
async fn log_request(request: Request, next: Next) -> Response {
    let mut line = LogLine {
        method: request.method().clone(),
        path: request.uri().path().to_owned(),
        status: 0,
        started: Instant::now(),
        // Stays false (with status 0) if the client leaves before the
        // handler answers, which drops this future and `line` with it.
        complete: false,
    };
    let response = next.run(request).await;
    line.status = response.status().as_u16();
    if HttpBody::size_hint(response.body()).exact().is_some() {
        // A body of known length: `line` is dropped, and logged, now.
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
                Some(chunk) => Some((chunk, (data, line))),
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
            complete = self.complete,
            "request"
        );
    }
}

async fn healthz(State(state): Shared) -> Json<Value> {
    let mode = if state.config.upstream().is_some() {
        "upstream"
    } else {
        "offline"
    };
    Json(json!({"status": "ok", "mode": mode}))
}

async fn about() -> &'static str {
    "This is confab-proxy. The model API is at /api/v1 (POST /api/v1/chat/completions, GET /api/v1/models). Start it with --dist dist to serve the Confab app here.\n"
}

async fn api_not_found(method: Method, uri: Uri) -> ProxyError {
    ProxyError::NotFound {
        method: method.to_string(),
        path: uri.path().to_owned(),
    }
}

async fn chat_completions(
    State(state): Shared,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ProxyError> {
    // Even a body that cannot be read (too large, cut off) gets an answer
    // in the OpenAI error format, which the client shows.
    let body = body.map_err(|e| ProxyError::UnreadableBody(e.status(), e.body_text()))?;
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

fn offline_completion(config: &Config, request: &Value) -> Result<Response, ProxyError> {
    let model = request.get("model").and_then(Value::as_str).unwrap_or("");
    if model != config::ECHO_MODEL {
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

/// Trace export from the page: the collector usually sends no CORS
/// headers, so the page posts here, same-origin, and this relays it. The
/// model key is never sent to the collector.
async fn otlp_traces(
    State(state): Shared,
    headers: axum::http::HeaderMap,
    body: Bytes,
) -> Result<Response, ProxyError> {
    let Some(collector) = state.config.otlp() else {
        return Err(ProxyError::NoCollector);
    };
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
    relay(request).await
}

async fn models(State(state): Shared) -> Result<Response, ProxyError> {
    match state.config.upstream() {
        Some(upstream) => {
            let url = format!("{upstream}/models");
            forward(&state, state.client.get(url)).await
        }
        None => Ok(Json(json!({
            "object": "list",
            "data": [{"id": config::ECHO_MODEL, "object": "model", "created": 0, "owned_by": "confab"}]
        }))
        .into_response()),
    }
}

/// Sends `request` upstream with the key, and streams the answer back with
/// its status and the headers a client needs.
async fn forward(
    state: &AppState,
    request: reqwest::RequestBuilder,
) -> Result<Response, ProxyError> {
    // A fresh request: none of the client's headers (its Authorization
    // above all) are passed on, only the ones set here.
    let mut request = request.header(header::CONTENT_TYPE, "application/json");
    if let Some(bearer) = state.config.api_key.bearer() {
        request = request.header(header::AUTHORIZATION, bearer);
    }
    relay(request).await
}

/// Sends `request` and streams the answer back with its status and the
/// headers a client needs.
async fn relay(request: reqwest::RequestBuilder) -> Result<Response, ProxyError> {
    let upstream = request.send().await.map_err(|e| {
        // reqwest's Display includes the URL, never headers; still, keep the
        // reason to its kind so nothing from the request leaks.
        let reason = if e.is_connect() {
            "connection refused or host unreachable"
        } else if e.is_timeout() {
            "timed out"
        } else {
            "request failed"
        };
        tracing::warn!(reason, "upstream unreachable");
        ProxyError::Unreachable(reason.to_owned())
    })?;
    let status =
        StatusCode::from_u16(upstream.status().as_u16()).unwrap_or(StatusCode::BAD_GATEWAY);
    let mut headers = axum::http::HeaderMap::new();
    for name in [
        header::CONTENT_TYPE,
        header::RETRY_AFTER,
        header::CACHE_CONTROL,
    ] {
        if let Some(value) = upstream.headers().get(name.as_str())
            && let Ok(value) = HeaderValue::from_bytes(value.as_bytes())
        {
            headers.insert(name, value);
        }
    }
    let mut response = Response::new(Body::from_stream(upstream.bytes_stream()));
    *response.status_mut() = status;
    *response.headers_mut() = headers;
    Ok(response)
}
