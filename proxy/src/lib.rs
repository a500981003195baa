//! confab-proxy: the model proxy endpoint of Confab.
//!
//! - `POST /api/v1/chat/completions` and `GET /api/v1/models` go to the
//!   upstream OpenAI-compatible API with the API key added (the key never
//!   reaches the browser), streamed through unbuffered; or, with no upstream,
//!   to the built-in offline model `confab-echo`.
//! - `POST /otlp/v1/traces` relays trace exports to an OTLP/HTTP collector
//!   (`--otlp-url`), same-origin for the page.
//! - `/adk/...` is relayed to a Google ADK `api_server` (`--adk-url`) with
//!   the `/adk` prefix removed, so the page reaches the agent server
//!   same-origin; without `--adk-url` it answers 503. Only the routes a
//!   chat needs are relayed, and only to the caller's own ADK user
//!   (`<identity>.<profile id>`): see adk.rs and identity.rs.
//! - Every answer to a browser without a valid identity cookie sets one
//!   (unless the identity comes from a trusted header).
//! - `GET /healthz` answers `{"status":"ok"}`.
//! - With `--dist`, the built web app is served at `/`, so one binary serves
//!   the whole app.
//!
//! Every other `/api` or `/otlp` path is a 404: this is not an open relay
//! (`/adk` reaches only the one configured agent server).
//! The key is scrubbed from anything the upstream sends back, even from
//! a streamed reply that spells it out a few characters per event. The API
//! routes (not the app's files, not `/healthz`) have a body limit, a
//! per-client rate limit, CORS only for `--allow-origin` origins, and
//! refuse requests that browsers mark as coming from another site. An
//! upstream silent for longer than the idle timeout is cut off; a client
//! that hangs up drops the upstream request with it.

mod adk;
pub mod config;
pub mod echo;
mod error;
pub mod identity;
pub mod ratelimit;
mod redact;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use axum::body::HttpBody;
use axum::body::{Body, Bytes};
use axum::extract::rejection::BytesRejection;
use axum::extract::{ConnectInfo, DefaultBodyLimit, Extension, Request, State};
use axum::http::{HeaderValue, Method, StatusCode, Uri, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get, post};
use axum::{Json, Router};
use futures_util::StreamExt;
use futures_util::stream::BoxStream;
use serde_json::{Value, json};
use tokio::net::TcpListener;
use tower_http::cors::{AllowHeaders, AllowOrigin, CorsLayer};
use tower_http::services::{ServeDir, ServeFile};

pub use config::Config;
use error::ProxyError;
use identity::{Caller, Identities, KeySource};
use ratelimit::{ClientKey, Decision, Limiter, Rate};
use redact::{Redactor, SseRedactor};

const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// Clients tracked by the rate limit at most (a bucket is a few dozen
/// bytes, so this bounds its memory well under a megabyte).
const MAX_TRACKED_CLIENTS: usize = 10_000;
/// How long a browser may cache a CORS preflight answer.
const PREFLIGHT_MAX_AGE: Duration = Duration::from_secs(600);

struct AppState {
    config: Config,
    client: reqwest::Client,
    /// `None` when the rate limit is off.
    limiter: Option<Mutex<Limiter<ClientKey>>>,
}

type Shared = State<Arc<AppState>>;

/// The whole HTTP application for `config`. Serve it with
/// `into_make_service_with_connect_info::<SocketAddr>()` (as [`serve`]
/// does): the rate limit is keyed by the peer address, and without it no
/// request is limited. Reads (or makes) the identity key file, once.
pub fn app(config: Config) -> Router {
    let (key, source) = identity::resolve_key(&config);
    match &source {
        KeySource::Given => {
            tracing::info!("identity key from --identity-key (CONFAB_IDENTITY_KEY)")
        }
        KeySource::File(path) => tracing::info!(path = %path.display(), "identity key read"),
        KeySource::Generated(path) => tracing::info!(path = %path.display(), "identity key made"),
        KeySource::Ephemeral => {}
    }
    let identities = Arc::new(Identities::new(
        key,
        config.identity_max_age(),
        config.trust_user_header.clone(),
    ));
    let client = reqwest::Client::builder()
        .connect_timeout(CONNECT_TIMEOUT)
        .build()
        .unwrap_or_default();
    let dist = config.dist.clone();
    let body_limit = config.max_body_bytes;
    let cors = cors_layer(&config);
    let limiter = Rate::new(config.rate_limit_per_sec, config.rate_limit_burst)
        .map(|rate| Mutex::new(Limiter::new(rate, MAX_TRACKED_CLIENTS)));
    let state = Arc::new(AppState {
        config,
        client,
        limiter,
    });
    // What the page calls. The origin check, the rate limit and CORS apply
    // to these routes only, not to the app's files or /healthz.
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
        // The agent server's whole API; the bare prefixes too, as above.
        .route("/adk", any(adk))
        .route("/adk/", any(adk))
        .route("/adk/{*rest}", any(adk))
        // Inner to outer: a refused origin costs no token, and CORS wraps
        // both so that a 403 or 429 is readable by an allowed page (and
        // preflights are answered before either).
        .layer(middleware::from_fn_with_state(state.clone(), rate_limit))
        .layer(middleware::from_fn_with_state(state.clone(), check_origin));
    let api = match cors {
        Some(cors) => api.layer(cors),
        None => api,
    };
    let api = api.route("/healthz", get(healthz));
    let router = match dist {
        // Unknown paths get index.html: the app is a single page.
        Some(dist) => api.fallback_service(
            ServeDir::new(&dist).fallback(ServeFile::new(dist.join("index.html"))),
        ),
        None => api.route("/", get(about)),
    };
    router
        .layer(DefaultBodyLimit::max(body_limit))
        // Outside the API's layers: the rate limit reads the caller.
        .layer(middleware::from_fn_with_state(
            identities,
            identity::identify,
        ))
        .layer(middleware::from_fn(log_request))
        .with_state(state)
}

/// CORS for the allowed origins; `None` (no CORS headers at all, so only
/// same-origin pages can read answers) when there are none.
fn cors_layer(config: &Config) -> Option<CorsLayer> {
    let origins: Vec<HeaderValue> = config
        .allowed_origins()
        .filter_map(|origin| HeaderValue::from_str(origin).ok())
        .collect();
    if origins.is_empty() {
        return None;
    }
    Some(
        CorsLayer::new()
            .allow_origin(AllowOrigin::list(origins))
            // DELETE: the agent server's session route uses it.
            .allow_methods([Method::GET, Method::POST, Method::DELETE])
            // Whatever headers the page asks for: the proxy forwards none of
            // them upstream, and only allowed origins get an answer at all.
            .allow_headers(AllowHeaders::mirror_request())
            // The page needs it to know when to retry after a 429.
            .expose_headers([header::RETRY_AFTER])
            .max_age(PREFLIGHT_MAX_AGE),
    )
}

/// Serves `config` on `listener` until the process ends. Prints the line
/// `confab-proxy listening on http://ADDR` once it accepts connections.
pub async fn serve(config: Config, listener: TcpListener) -> std::io::Result<()> {
    let addr = listener.local_addr()?;
    let mode = match config.upstream() {
        Some(url) => format!("upstream {url}"),
        None => "offline model confab-echo".to_owned(),
    };
    tracing::info!(%addr, mode, adk = ?config.adk(), dist = ?config.dist, "starting");
    if config.upstream().is_some() && config.api_key.is_unusable() {
        tracing::warn!(
            "CONFAB_UPSTREAM_API_KEY contains characters not allowed in an HTTP header; it is not sent"
        );
    }
    if config.log_content {
        tracing::warn!("--log-content is on: chat request bodies (messages) are logged");
    }
    if let Some(header) = &config.trust_user_header {
        tracing::warn!(
            %header,
            "identities come from this request header: only safe behind an authenticating proxy that sets it, since anyone who reaches confab-proxy directly can send it"
        );
    }
    println!("confab-proxy listening on http://{addr}");
    let app = app(config).into_make_service_with_connect_info::<SocketAddr>();
    axum::serve(listener, app).await
}

/// Browsers say in `Sec-Fetch-Site` whether a request comes from another
/// site. Such a request from an origin that is not allowed is refused
/// before it reaches the model: CORS alone only keeps a foreign page from
/// *reading* the answer, not from sending a simple request (a form post)
/// that spends the key. Requests without the header (curl, SDKs, and
/// same-origin pages) are not affected.
async fn check_origin(State(state): Shared, request: Request, next: Next) -> Response {
    let headers = request.headers();
    let foreign = matches!(
        headers.get("sec-fetch-site").map(HeaderValue::as_bytes),
        Some(b"cross-site" | b"same-site")
    );
    if foreign {
        let origin = headers
            .get(header::ORIGIN)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        if !state.config.allowed_origins().any(|o| o == origin) {
            let origin = if origin.is_empty() {
                "another site".to_owned()
            } else {
                origin.to_owned()
            };
            return ProxyError::OriginNotAllowed { origin }.into_response();
        }
    }
    next.run(request).await
}

/// The per-client token bucket in front of the API routes: per address,
/// or per person when a trusted header names one (behind an
/// authenticating proxy, everyone shares its address).
async fn rate_limit(State(state): Shared, request: Request, next: Next) -> Response {
    let key = match request.extensions().get::<Caller>() {
        Some(Caller::Vouched(identity)) => Some(ClientKey::Person(identity.clone())),
        _ => request
            .extensions()
            .get::<ConnectInfo<SocketAddr>>()
            .map(|ConnectInfo(addr)| ClientKey::Address(ratelimit::client_key(addr.ip()))),
    };
    if let (Some(limiter), Some(key)) = (&state.limiter, key) {
        let from = key.described();
        // The lock is held for a map lookup only, never across an await.
        let (decision, rate) = {
            let mut limiter = limiter.lock().unwrap_or_else(PoisonError::into_inner);
            let decision = limiter.check(key, Instant::now());
            (decision, limiter.rate())
        };
        if let Decision::Deny { retry_after } = decision {
            return ProxyError::RateLimited {
                retry_after: ratelimit::retry_after_secs(retry_after),
                burst: rate.burst,
                per_second: rate.per_second,
                from,
            }
            .into_response();
        }
    }
    next.run(request).await
}

/// One log line per request: method, path, status, duration and bytes
/// sent; never bodies, never headers (the key).
/// A streamed reply is logged when its body ends or the client goes away,
/// so `ms` and `bytes` cover the whole stream, not just the headers.
async fn log_request(request: Request, next: Next) -> Response {
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

async fn healthz(State(state): Shared) -> Json<Value> {
    let mode = if state.config.upstream().is_some() {
        "upstream"
    } else {
        "offline"
    };
    Json(json!({"status": "ok", "mode": mode}))
}

async fn about() -> &'static str {
    "This is confab-proxy. The model API is at /api/v1 (POST /api/v1/chat/completions, GET /api/v1/models); an ADK agent server given by --adk-url is at /adk. Start it with --dist dist to serve the Confab app here.\n"
}

async fn api_not_found(method: Method, uri: Uri) -> ProxyError {
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

async fn chat_completions(
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
    relay(&state, request, Peer::Model).await
}

/// The page's calls to the ADK agent server (`/adk/list-apps`,
/// `/adk/run_sse`, `/adk/apps/...`), if the route is one a chat needs
/// (adk.rs) and the caller is known: same method, path without `/adk` with
/// the user scoped to the caller (in the `/run_sse` body too), query, body
/// and `Content-Type`/`Accept`; the answer comes back with its status, and
/// `/run_sse` streams through unbuffered.
///
/// Nothing else of the browser's request goes on. Above all not `Origin`:
/// the api_server answers 403 "origin not allowed" to any Origin but its
/// own (unless started with --allow_origins), and the page's origin is
/// this proxy's, not the agent server's. Nor `Host` (the api_server on a
/// loopback address refuses other hosts as DNS rebinding), cookies (the
/// identity cookie above all) or credentials meant for this proxy, nor the
/// model key.
async fn adk(
    State(state): Shared,
    Extension(caller): Extension<Caller>,
    method: Method,
    uri: Uri,
    headers: axum::http::HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ProxyError> {
    let Some(base) = state.config.adk() else {
        return Err(ProxyError::AdkNotConfigured);
    };
    let rest = uri.path().strip_prefix("/adk").unwrap_or_default();
    let route = adk::route(&method, rest)?;
    let identity = match &caller {
        Caller::Cookie(identity) | Caller::Vouched(identity) => identity,
        Caller::NoCookie => return Err(ProxyError::IdentityRequired),
        Caller::NoHeader(header) => {
            return Err(ProxyError::UserHeaderRequired {
                header: header.to_string(),
            });
        }
    };
    // Rebuilt from its checked segments, so it starts with `/` and cannot
    // name another host.
    let path = route.forwarded_path(identity)?;
    let body = read_body(&state, body)?;
    let body = match route {
        adk::AdkRoute::Run => Bytes::from(adk::scoped_run_body(identity, &body)?),
        _ => body,
    };
    let query = uri.query().map(|q| format!("?{q}")).unwrap_or_default();
    let mut request = state.client.request(method, format!("{base}{path}{query}"));
    for name in [header::CONTENT_TYPE, header::ACCEPT] {
        if let Some(value) = headers.get(&name) {
            request = request.header(name, value.clone());
        }
    }
    if !body.is_empty() {
        request = request.body(body);
    }
    relay(&state, request, Peer::Agents).await
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
    relay(state, request, Peer::Model).await
}

/// Which server a relayed request goes to: the errors name it, and say
/// which setting to check.
#[derive(Clone, Copy)]
enum Peer {
    /// The upstream model API (and the trace collector, as before).
    Model,
    /// The ADK agent server.
    Agents,
}

impl Peer {
    fn unreachable(self, reason: &str) -> ProxyError {
        match self {
            Self::Model => ProxyError::Unreachable(reason.to_owned()),
            Self::Agents => ProxyError::AdkUnreachable(reason.to_owned()),
        }
    }

    fn timeout(self, secs: f64) -> ProxyError {
        match self {
            Self::Model => ProxyError::UpstreamTimeout { secs },
            Self::Agents => ProxyError::AdkTimeout { secs },
        }
    }

    fn broke(self, reason: &str) -> ProxyError {
        match self {
            Self::Model => ProxyError::UpstreamBroke(reason.to_owned()),
            Self::Agents => ProxyError::AdkBroke(reason.to_owned()),
        }
    }

    /// An error inside a stream that has begun, in the shape the client
    /// already parses for this kind of stream.
    fn sse_frame(self, error: &ProxyError) -> String {
        match self {
            Self::Model => error.sse_frame(),
            Self::Agents => error.adk_sse_frame(),
        }
    }
}

/// Sends `request` and streams the answer back with its status and the
/// headers a client needs, the key scrubbed out of both. The upstream may
/// stay silent for at most the idle timeout: before anything was sent to
/// the client that is a 504; after, an SSE stream ends with an error frame
/// and any other body is cut off.
async fn relay(
    state: &AppState,
    request: reqwest::RequestBuilder,
    peer: Peer,
) -> Result<Response, ProxyError> {
    let idle = state.config.upstream_idle_timeout();
    let timed_out = || {
        tracing::warn!("upstream sent nothing within the idle timeout");
        peer.timeout(state.config.upstream_idle_timeout_secs)
    };
    let upstream = within(idle, request.send())
        .await
        .ok_or_else(timed_out)?
        .map_err(|e| {
            let reason = error_kind(&e);
            tracing::warn!(reason, "upstream unreachable");
            peer.unreachable(reason)
        })?;
    let secret = state.config.api_key.secret();
    let status =
        StatusCode::from_u16(upstream.status().as_u16()).unwrap_or(StatusCode::BAD_GATEWAY);
    let mut headers = axum::http::HeaderMap::new();
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
            return Err(peer.broke(reason));
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

/// What the upstream body did next.
enum Piece {
    Data(Bytes),
    End,
    /// Nothing arrived within the idle timeout.
    Idle,
    Broke(&'static str),
}

async fn next_piece(
    chunks: &mut BoxStream<'static, reqwest::Result<Bytes>>,
    idle: Option<Duration>,
) -> Piece {
    match within(idle, chunks.next()).await {
        None => Piece::Idle,
        Some(None) => Piece::End,
        Some(Some(Ok(bytes))) => Piece::Data(bytes),
        Some(Some(Err(e))) => Piece::Broke(error_kind(&e)),
    }
}

/// The upstream body on its way to the client. Dropping it (the client
/// went away) drops `chunks`, which closes the upstream connection.
struct Relayed {
    /// `None` once the upstream is done with, so its connection is closed
    /// at once rather than when the client's stream is dropped.
    chunks: Option<BoxStream<'static, reqwest::Result<Bytes>>>,
    /// Read ahead by `relay` before answering.
    first: Option<Piece>,
    idle: Option<Duration>,
    idle_secs: f64,
    sse: bool,
    /// Whether what was sent so far ends between two SSE frames.
    at_frame_boundary: bool,
    /// For an SSE body (with a key): the key redacted across events.
    events: Option<SseRedactor>,
    redactor: Option<Redactor>,
    peer: Peer,
}

impl Relayed {
    /// The next upstream bytes through both redaction stages.
    fn scrub(&mut self, bytes: Bytes) -> Bytes {
        let bytes = match &mut self.events {
            Some(events) => Bytes::from(events.push(&bytes)),
            None => bytes,
        };
        self.scrub_bytes(bytes)
    }

    /// At the end of the body: the text the event stage held back (as
    /// whole events, already through the byte stage), and the bytes the
    /// byte stage still holds.
    fn finish_redaction(&mut self) -> (Bytes, Bytes) {
        let released = match self.events.as_mut().map(SseRedactor::finish) {
            Some(released) => self.scrub_bytes(Bytes::from(released)),
            None => Bytes::new(),
        };
        let held = self
            .redactor
            .as_mut()
            .map(Redactor::finish)
            .unwrap_or_default();
        (released, held)
    }

    /// The byte stage alone.
    fn scrub_bytes(&mut self, bytes: Bytes) -> Bytes {
        match &mut self.redactor {
            Some(redactor) => redactor.push(&bytes),
            None => bytes,
        }
    }

    async fn next(mut self) -> Option<(std::io::Result<Bytes>, Self)> {
        loop {
            let piece = match self.first.take() {
                Some(piece) => piece,
                None => next_piece(self.chunks.as_mut()?, self.idle).await,
            };
            let error = match piece {
                Piece::Data(bytes) => {
                    let bytes = self.scrub(bytes);
                    if bytes.is_empty() {
                        continue; // all held back by the redactors, for now
                    }
                    self.at_frame_boundary = ends_an_sse_frame(&bytes);
                    return Some((Ok(bytes), self));
                }
                Piece::End => {
                    self.chunks = None;
                    let (released, held) = self.finish_redaction();
                    let tail = [released, held].concat();
                    return (!tail.is_empty()).then_some((Ok(Bytes::from(tail)), self));
                }
                Piece::Idle => {
                    tracing::warn!("upstream went quiet mid-reply; ending the stream");
                    self.peer.timeout(self.idle_secs)
                }
                Piece::Broke(reason) => {
                    tracing::warn!(reason, "upstream connection broke mid-reply");
                    self.peer.broke(reason)
                }
            };
            self.chunks = None;
            if !self.sse {
                // A JSON body cannot carry an error after its start: cut the
                // response off, so the client sees a broken body rather than
                // a short one that looks whole.
                return Some((Err(std::io::Error::other(error.to_string())), self));
            }
            // The client's SSE parser reads `data: {"error": …}` as the
            // reply failing with that message. Text held back from whole
            // events goes first; held-back bytes (a possible start of the
            // key) are dropped; a cut-off frame is ended first so the
            // error frame stands on its own.
            let (released, held) = self.finish_redaction();
            if !released.is_empty() {
                self.at_frame_boundary = ends_an_sse_frame(&released);
            }
            let separator = if self.at_frame_boundary && held.is_empty() {
                ""
            } else {
                "\n\n"
            };
            let frame = format!("{separator}{}", self.peer.sse_frame(&error));
            let frame = [&released[..], frame.as_bytes()].concat();
            return Some((Ok(Bytes::from(frame)), self));
        }
    }
}

/// Whether `bytes` end with the blank line that ends an SSE frame.
fn ends_an_sse_frame(bytes: &[u8]) -> bool {
    bytes.ends_with(b"\n\n") || bytes.ends_with(b"\r\n\r\n") || bytes.ends_with(b"\r\r")
}
