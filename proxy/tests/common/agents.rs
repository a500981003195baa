//! The fake ADK agent server: a local axum router standing in for
//! `adk api_server`, recording every request it receives (method, path and
//! query, headers, body), so a test can prove what reached it and that a
//! refused request never did.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde_json::{Value, json};
use tokio::sync::Notify;
use tokio::time::timeout;

use confab_proxy::Config;

use super::{Browser, Running, WAIT, start_proxy, start_router};

/// What the fake agent server received, and hooks into its stream.
#[derive(Default)]
pub struct Agents {
    seen: Mutex<Vec<Seen>>,
    /// Holds `/run_sse` after its first event until the test releases it.
    pub gate: Notify,
    /// Told when the `/run_sse` body is dropped (its connection closed).
    pub stream_dropped: Notify,
}

impl Agents {
    /// Every request received so far, oldest first.
    pub fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }

    /// How many requests reached the agent server.
    pub fn count(&self) -> usize {
        self.seen.lock().unwrap().len()
    }

    /// The newest request received.
    pub fn last(&self) -> Seen {
        self.seen
            .lock()
            .unwrap()
            .last()
            .cloned()
            .expect("nothing reached the agent server")
    }
}

#[derive(Clone, Debug)]
pub struct Seen {
    pub method: String,
    /// Path and query, as the agent server saw them.
    pub target: String,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Seen {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap()
    }
}

async fn record(agents: &Agents, request: Request) -> Seen {
    let (parts, body) = request.into_parts();
    let body = axum::body::to_bytes(body, usize::MAX).await.unwrap();
    let seen = Seen {
        method: parts.method.to_string(),
        target: parts
            .uri
            .path_and_query()
            .map(|p| p.as_str().to_owned())
            .unwrap_or_default(),
        headers: parts
            .headers
            .iter()
            .map(|(n, v)| (n.to_string(), v.to_str().unwrap_or("").to_owned()))
            .collect(),
        body: String::from_utf8_lossy(&body).into_owned(),
    };
    agents.seen.lock().unwrap().push(seen.clone());
    seen
}

/// One ADK event as `/run_sse` sends it.
pub fn event(text: &str, partial: bool) -> String {
    format!(
        "data: {}\n\n",
        json!({"content": {"parts": [{"text": text}], "role": "model"}, "partial": partial, "author": "fake_agent"})
    )
}

/// Lives in the `/run_sse` body; tells when the proxy let go of it.
struct StreamDropped(Arc<Agents>);

impl Drop for StreamDropped {
    fn drop(&mut self) {
        self.0.stream_dropped.notify_one();
    }
}

/// `/run_sse` as the api_server answers it: 404 JSON for an unknown
/// session; otherwise one event, then (after the gate) a second. Session
/// `silent` sends one event and then nothing for longer than any test.
async fn run_sse(State(agents): State<Arc<Agents>>, request: Request) -> Response {
    let seen = record(&agents, request).await;
    let body: Value = serde_json::from_str(&seen.body).unwrap();
    let session = body["session_id"].as_str().unwrap_or("").to_owned();
    if session == "missing" {
        return (
            StatusCode::NOT_FOUND,
            axum::Json(json!({"detail": "Session not found: missing"})),
        )
            .into_response();
    }
    let signal = StreamDropped(agents);
    let steps = futures_util::stream::unfold((0, signal), move |(step, signal)| {
        let session = session.clone();
        async move {
            let frame = match step {
                0 => event("Hello ", true),
                1 if session == "silent" => {
                    tokio::time::sleep(Duration::from_secs(30)).await;
                    return None;
                }
                1 => {
                    let _ = timeout(WAIT, signal.0.gate.notified()).await;
                    event("Hello world", false)
                }
                _ => return None,
            };
            Some((Ok::<_, std::convert::Infallible>(frame), (step + 1, signal)))
        }
    });
    (
        [("content-type", "text/event-stream; charset=utf-8")],
        Body::from_stream(steps),
    )
        .into_response()
}

/// Every other path: 409 for creating session `taken` (as the api_server
/// answers for an id that exists), else 200 with what was received.
async fn echo(State(agents): State<Arc<Agents>>, request: Request) -> Response {
    let seen = record(&agents, request).await;
    if seen.method == "POST" && seen.body.contains("\"taken\"") {
        return (
            StatusCode::CONFLICT,
            axum::Json(json!({"detail": "Session already exists: taken"})),
        )
            .into_response();
    }
    axum::Json(json!({"method": seen.method, "target": seen.target, "body": seen.body}))
        .into_response()
}

/// The fake agent server, its routes under `prefix` (empty for none).
pub async fn start_agents(prefix: &str) -> (Running, Arc<Agents>) {
    let agents = Arc::new(Agents::default());
    let inner = Router::new()
        .route("/run_sse", post(run_sse))
        .fallback(echo)
        .with_state(agents.clone());
    let router = if prefix.is_empty() {
        inner
    } else {
        Router::new().nest(prefix, inner)
    };
    (start_router(router).await, agents)
}

/// The fake agent server, a confab-proxy relaying `/adk` to it, and a
/// browser that has visited the proxy once; both servers stop when this is
/// dropped.
pub struct Relay {
    pub agents: Arc<Agents>,
    pub proxy: Running,
    pub browser: Browser,
    pub agents_server: Running,
}

impl Relay {
    /// `config` with `--adk-url` set to the fake agent server.
    pub async fn start(config: Config) -> Self {
        let (agents_server, agents) = start_agents("").await;
        let proxy = start_proxy(Config {
            adk_url: Some(agents_server.url.clone()),
            ..config
        })
        .await;
        let browser = Browser::visit(&proxy.url).await;
        Self {
            agents,
            proxy,
            browser,
            agents_server,
        }
    }
}
