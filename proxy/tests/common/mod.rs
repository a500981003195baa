//! Shared by the test binaries: servers on loopback that stop when their
//! guard is dropped, an HTTP client with a time limit, and the fake
//! upstream, a local server speaking the OpenAI wire format (the only test
//! double: it stands in for the external model).

// Each test binary uses a different part of this module.
#![allow(dead_code)]

pub mod agents;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use confab_proxy::Config;
use confab_proxy::config::ApiKey;
use serde_json::{Value, json};
use tokio::net::TcpListener;
use tokio::sync::Notify;
use tokio::task::JoinHandle;
use tokio::time::timeout;

pub const KEY: &str = "sk-test-secret-9f8e7d";
pub const WAIT: Duration = Duration::from_secs(5);

/// A server task that is stopped when the guard is dropped.
pub struct Running {
    pub url: String,
    task: JoinHandle<()>,
}

impl Drop for Running {
    fn drop(&mut self) {
        self.task.abort();
    }
}

pub async fn start_proxy(config: Config) -> Running {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let task = tokio::spawn(async move {
        let _ = confab_proxy::serve(config, listener).await;
    });
    Running { url, task }
}

pub async fn start_router(router: Router) -> Running {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let task = tokio::spawn(async move {
        let _ = axum::serve(listener, router).await;
    });
    Running { url, task }
}

/// An HTTP client whose every request, body included, ends within `WAIT`:
/// no test can hang on a reply that never finishes.
pub fn client() -> reqwest::Client {
    reqwest::Client::builder().timeout(WAIT).build().unwrap()
}

pub async fn http_get(url: String) -> reqwest::Response {
    client().get(url).send().await.unwrap()
}

pub async fn post_chat(base: &str, body: Value) -> reqwest::Response {
    client()
        .post(format!("{base}/api/v1/chat/completions"))
        .json(&body)
        .send()
        .await
        .unwrap()
}

/// The `Set-Cookie` values of a response for the identity cookie.
pub fn identity_set_cookies(response: &reqwest::Response) -> Vec<String> {
    response
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .filter(|v| v.starts_with("confab_identity="))
        .collect()
}

/// The identity cookie a response sets, as `confab_identity=…` for a
/// `Cookie` header; panics if it sets none.
pub fn issued_cookie(response: &reqwest::Response) -> String {
    let set = identity_set_cookies(response);
    assert_eq!(set.len(), 1, "one identity cookie: {set:?}");
    set[0].split(';').next().unwrap().to_owned()
}

/// A fresh identity cookie from the proxy at `base` (what a browser gets
/// on its first visit), ready for a `Cookie` header.
pub async fn identity_cookie(base: &str) -> String {
    issued_cookie(&http_get(format!("{base}/healthz")).await)
}

/// The identity in a `confab_identity=v1.<id>.<issued>.<mac>` cookie.
pub fn identity_of(cookie: &str) -> &str {
    cookie.split('.').nth(1).unwrap()
}

/// A browser on the page: the identity cookie it got on its first visit
/// goes with each of its requests.
pub struct Browser {
    pub base: String,
    pub cookie: String,
}

impl Browser {
    /// A first visit to the proxy at `base`, keeping the cookie it sets.
    pub async fn visit(base: &str) -> Self {
        Self {
            base: base.to_owned(),
            cookie: identity_cookie(base).await,
        }
    }

    /// Its identity (32 hex digits).
    pub fn identity(&self) -> &str {
        identity_of(&self.cookie)
    }

    /// The ADK user the agent server sees for the page's `user`.
    pub fn scoped(&self, user: &str) -> String {
        format!("{}.{user}", self.identity())
    }

    pub fn request(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        client()
            .request(method, format!("{}{path}", self.base))
            .header("cookie", &self.cookie)
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.request(reqwest::Method::GET, path)
            .send()
            .await
            .unwrap()
    }

    pub async fn post_json(&self, path: &str, body: &Value) -> reqwest::Response {
        self.request(reqwest::Method::POST, path)
            .json(body)
            .send()
            .await
            .unwrap()
    }
}

pub fn assert_no_key(headers: &reqwest::header::HeaderMap, body: &str) {
    assert!(!body.contains(KEY), "the key leaked into a body: {body}");
    for (name, value) in headers {
        assert!(
            !value.to_str().unwrap_or("").contains(KEY),
            "the key leaked into header {name}"
        );
    }
}

/// What the fake upstream saw, a gate that holds its stream mid-way, and
/// a signal that its stream was dropped (the connection was closed).
#[derive(Default)]
pub struct Upstream {
    pub authorization: Mutex<Vec<Option<String>>>,
    pub bodies: Mutex<Vec<Value>>,
    pub gate: Notify,
    pub stream_dropped: Notify,
}

/// Lives in the fake upstream's response stream; tells when it is dropped.
pub struct DropSignal(Arc<Upstream>);

impl Drop for DropSignal {
    fn drop(&mut self) {
        self.0.stream_dropped.notify_one();
    }
}

pub fn chunk(content: &str) -> String {
    format!(
        "data: {}\n\n",
        json!({"object": "chat.completion.chunk", "choices": [{"index": 0, "delta": {"content": content}, "finish_reason": null}]})
    )
}

async fn fake_chat(
    axum::extract::State(upstream): axum::extract::State<Arc<Upstream>>,
    headers: HeaderMap,
    body: String,
) -> Response {
    let auth = headers
        .get("authorization")
        .map(|v| v.to_str().unwrap().to_owned());
    upstream.authorization.lock().unwrap().push(auth);
    let request: Value = serde_json::from_str(&body).unwrap();
    upstream.bodies.lock().unwrap().push(request.clone());
    match request["model"].as_str() {
        Some("rate-limited") => (
            StatusCode::TOO_MANY_REQUESTS,
            [("retry-after", "3"), ("content-type", "application/json")],
            r#"{"error":{"message":"Rate limit reached","type":"rate_limit_error","code":"rate_limit"}}"#,
        )
            .into_response(),
        _ => {
            // One frame, then wait for the test to release the rest.
            let signal = DropSignal(upstream);
            let steps = futures_util::stream::unfold((0, signal), |(step, signal)| async move {
                let frame = match step {
                    0 => chunk("first "),
                    1 => {
                        let _ = timeout(WAIT, signal.0.gate.notified()).await;
                        chunk("second")
                    }
                    2 => "data: [DONE]\n\n".to_owned(),
                    _ => return None,
                };
                Some((Ok::<_, std::convert::Infallible>(frame), (step + 1, signal)))
            });
            ([("content-type", "text/event-stream")], Body::from_stream(steps)).into_response()
        }
    }
}

async fn fake_models(
    axum::extract::State(upstream): axum::extract::State<Arc<Upstream>>,
    headers: HeaderMap,
) -> impl IntoResponse {
    let auth = headers
        .get("authorization")
        .map(|v| v.to_str().unwrap().to_owned());
    upstream.authorization.lock().unwrap().push(auth);
    axum::Json(json!({"object": "list", "data": [{"id": "upstream-model", "object": "model"}]}))
}

pub async fn start_upstream() -> (Running, Arc<Upstream>) {
    let upstream = Arc::new(Upstream::default());
    let router = Router::new()
        .route("/v1/chat/completions", post(fake_chat))
        .route("/v1/models", get(fake_models))
        .with_state(upstream.clone());
    (start_router(router).await, upstream)
}

pub fn upstream_config(url: &str) -> Config {
    Config {
        upstream_url: Some(format!("{url}/v1")),
        api_key: ApiKey::new(KEY),
        ..Config::for_tests()
    }
}

/// Notes the moment it is dropped: put one into a test upstream's handler
/// or response stream to see when the proxy let go of it.
#[derive(Default)]
pub struct DropClock(Mutex<Option<std::time::Instant>>);

impl DropClock {
    pub fn guard(self: &Arc<Self>) -> DropGuard {
        DropGuard(self.clone())
    }

    /// When the guard was dropped, waiting at most `limit` for it.
    pub async fn dropped_within(&self, limit: Duration) -> Option<std::time::Instant> {
        timeout(limit, async {
            loop {
                if let Some(at) = *self.0.lock().unwrap() {
                    return at;
                }
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        })
        .await
        .ok()
    }

    /// Asserts that the guard was dropped (the upstream released) less than
    /// a second after the client `left`.
    pub async fn assert_released_soon(&self, left: std::time::Instant, what: &str) {
        let released = self
            .dropped_within(Duration::from_secs(2))
            .await
            .unwrap_or_else(|| {
                panic!("the upstream {what} was not released after the client left")
            });
        let after = released.saturating_duration_since(left);
        assert!(
            after < Duration::from_secs(1),
            "the upstream {what} was released {after:?} after the client left"
        );
    }
}

pub struct DropGuard(Arc<DropClock>);

impl Drop for DropGuard {
    fn drop(&mut self) {
        *(self.0).0.lock().unwrap() = Some(std::time::Instant::now());
    }
}
