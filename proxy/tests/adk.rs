//! `/adk/...`: the relay to a Google ADK `api_server`, against a local axum
//! router playing the agent server (over loopback). The path loses its
//! `/adk` prefix and keeps its query; methods, bodies and statuses pass
//! through; `/run_sse` streams unbuffered; the browser's `Origin` (which
//! the real api_server answers with 403) and credentials stay behind;
//! without `--adk-url` every `/adk` path is a 503.

mod common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use common::*;
use confab_proxy::Config;
use futures_util::StreamExt;
use serde_json::{Value, json};
use tokio::sync::Notify;
use tokio::time::timeout;

/// What the fake agent server received, and hooks into its stream.
#[derive(Default)]
struct Agents {
    seen: Mutex<Vec<Seen>>,
    /// Holds `/run_sse` after its first event until the test releases it.
    gate: Notify,
    /// Told when the `/run_sse` body is dropped (its connection closed).
    stream_dropped: Notify,
}

#[derive(Clone, Debug)]
struct Seen {
    method: String,
    /// Path and query, as the agent server saw them.
    target: String,
    headers: Vec<(String, String)>,
    body: String,
}

impl Seen {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
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

fn event(text: &str, partial: bool) -> String {
    format!(
        "data: {}\n\n",
        json!({"content": {"parts": [{"text": text}], "role": "model"}, "partial": partial, "author": "fake_agent"})
    )
}

/// Lives in the `/run_sse` body; tells when the proxy let go of it.
struct DropSignal(Arc<Agents>);

impl Drop for DropSignal {
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
    let signal = DropSignal(agents);
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

async fn start_agents(prefix: &str) -> (Running, Arc<Agents>) {
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

fn with_agents(url: &str) -> Config {
    Config {
        adk_url: Some(url.to_owned()),
        ..Config::for_tests()
    }
}

fn run_body(session: &str) -> Value {
    json!({
        "app_name": "fake_agent", "user_id": "u1", "session_id": session,
        "new_message": {"role": "user", "parts": [{"text": "hi"}]}, "streaming": true
    })
}

#[tokio::test]
async fn without_adk_url_every_adk_path_answers_503() {
    let proxy = start_proxy(Config::for_tests()).await;
    let client = client();
    for (method, path) in [
        (reqwest::Method::GET, "/adk/list-apps"),
        (reqwest::Method::POST, "/adk/run_sse"),
        (reqwest::Method::POST, "/adk/apps/a/users/u1/sessions"),
        (reqwest::Method::DELETE, "/adk/apps/a/users/u1/sessions/s"),
        (reqwest::Method::GET, "/adk"),
        (reqwest::Method::GET, "/adk/"),
    ] {
        let response = client
            .request(method.clone(), format!("{}{path}", proxy.url))
            .json(&json!({}))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 503, "{method} {path}");
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["error"]["type"], "adk_not_configured", "{body}");
        let message = body["error"]["message"].as_str().unwrap();
        assert!(
            message.starts_with("No agent server is configured: start confab-proxy with --adk-url"),
            "{message}"
        );
    }
}

#[tokio::test]
async fn paths_methods_queries_bodies_and_statuses_pass_through() {
    let (agents_server, agents) = start_agents("").await;
    let proxy = start_proxy(with_agents(&agents_server.url)).await;
    let client = client();
    let cases = [
        (reqwest::Method::GET, "/adk/list-apps", "/list-apps", ""),
        (
            reqwest::Method::GET,
            "/adk/list-apps?detailed=true",
            "/list-apps?detailed=true",
            "",
        ),
        (
            reqwest::Method::POST,
            "/adk/apps/history_agent/users/u1/sessions",
            "/apps/history_agent/users/u1/sessions",
            r#"{"session_id":"s-1","state":{"k":1},"events":[]}"#,
        ),
        (
            reqwest::Method::GET,
            "/adk/apps/history_agent/users/u1/sessions/s%201",
            "/apps/history_agent/users/u1/sessions/s%201",
            "",
        ),
        (
            reqwest::Method::PATCH,
            "/adk/apps/history_agent/users/u1/sessions/s-1",
            "/apps/history_agent/users/u1/sessions/s-1",
            r#"{"stateDelta":{"k":2}}"#,
        ),
        (
            reqwest::Method::DELETE,
            "/adk/apps/history_agent/users/u1/sessions/s-1",
            "/apps/history_agent/users/u1/sessions/s-1",
            "",
        ),
        (reqwest::Method::GET, "/adk", "/", ""),
        (reqwest::Method::GET, "/adk/", "/", ""),
    ];
    for (method, path, target, body) in cases {
        let mut request = client.request(method.clone(), format!("{}{path}", proxy.url));
        if !body.is_empty() {
            request = request
                .header("content-type", "application/json")
                .body(body);
        }
        let response = request.send().await.unwrap();
        assert_eq!(response.status(), 200, "{method} {path}");
        let echoed: Value = response.json().await.unwrap();
        assert_eq!(echoed["method"], method.as_str(), "{path}");
        assert_eq!(echoed["target"], target, "{method} {path}");
        assert_eq!(echoed["body"], body, "{method} {path}");
        let seen = agents.seen.lock().unwrap().last().cloned().unwrap();
        if !body.is_empty() {
            assert_eq!(seen.header("content-type"), Some("application/json"));
        }
    }

    // The agent server's own errors come back as they are.
    let response = client
        .post(format!("{}/adk/apps/a/users/u1/sessions", proxy.url))
        .json(&json!({"session_id": "taken"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 409);
    assert_eq!(
        response.headers()["content-type"],
        "application/json",
        "the client tells JSON errors from streams by it"
    );
    assert_eq!(
        response.json::<Value>().await.unwrap(),
        json!({"detail": "Session already exists: taken"})
    );
    let response = client
        .post(format!("{}/adk/run_sse", proxy.url))
        .json(&run_body("missing"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 404);
    assert_eq!(
        response.json::<Value>().await.unwrap(),
        json!({"detail": "Session not found: missing"})
    );
}

#[tokio::test]
async fn a_base_url_with_a_path_keeps_it() {
    let (agents_server, _agents) = start_agents("/agents").await;
    let proxy = start_proxy(with_agents(&format!("{}/agents/", agents_server.url))).await;
    let response = http_get(format!("{}/adk/list-apps?x=1", proxy.url)).await;
    assert_eq!(response.status(), 200);
    let echoed: Value = response.json().await.unwrap();
    // Nested routers see the path without their prefix.
    assert_eq!(echoed["target"], "/list-apps?x=1");
}

#[tokio::test]
async fn the_browsers_origin_and_credentials_are_not_forwarded() {
    let (agents_server, agents) = start_agents("").await;
    // A model key is configured: it is for the model API only.
    let config = Config {
        api_key: confab_proxy::config::ApiKey::new(KEY),
        ..with_agents(&agents_server.url)
    };
    let proxy = start_proxy(config).await;
    // What a same-origin page's fetch sends on a POST: its (the proxy's)
    // Origin, Sec-Fetch-Site, cookies.
    let response = client()
        .post(format!("{}/adk/apps/a/users/u1/sessions", proxy.url))
        .header("origin", &proxy.url)
        .header("sec-fetch-site", "same-origin")
        .header("cookie", "session=browser-cookie")
        .header("authorization", "Bearer page-token")
        .header("referer", format!("{}/", proxy.url))
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let seen = agents.seen.lock().unwrap().last().cloned().unwrap();
    for name in [
        "origin",
        "cookie",
        "authorization",
        "referer",
        "sec-fetch-site",
    ] {
        assert_eq!(seen.header(name), None, "{name} was forwarded: {seen:?}");
    }
    for (name, value) in &seen.headers {
        assert!(
            !value.contains(KEY),
            "the model key reached the agent server in {name}"
        );
    }
    // Host names the agent server (the api_server refuses other hosts).
    let agent_host = agents_server.url.trim_start_matches("http://");
    assert_eq!(seen.header("host"), Some(agent_host));
}

#[tokio::test]
async fn run_sse_streams_unbuffered() {
    let (agents_server, agents) = start_agents("").await;
    let proxy = start_proxy(with_agents(&agents_server.url)).await;
    let response = client()
        .post(format!("{}/adk/run_sse", proxy.url))
        .json(&run_body("s-1"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.headers()["content-type"],
        "text/event-stream; charset=utf-8"
    );
    let mut body = response.bytes_stream();
    // The first event arrives while the agent server still holds the
    // second: nothing waits for the whole body.
    let first = timeout(WAIT, body.next()).await.unwrap().unwrap().unwrap();
    assert_eq!(String::from_utf8_lossy(&first), event("Hello ", true));
    agents.gate.notify_one();
    let mut rest = Vec::new();
    while let Some(chunk) = timeout(WAIT, body.next()).await.unwrap() {
        rest.extend_from_slice(&chunk.unwrap());
    }
    assert_eq!(String::from_utf8_lossy(&rest), event("Hello world", false));
    let seen = agents.seen.lock().unwrap().last().cloned().unwrap();
    assert_eq!(
        serde_json::from_str::<Value>(&seen.body).unwrap(),
        run_body("s-1")
    );
}

#[tokio::test]
async fn a_client_that_hangs_up_releases_the_agent_server() {
    let (agents_server, agents) = start_agents("").await;
    let proxy = start_proxy(with_agents(&agents_server.url)).await;
    let response = client()
        .post(format!("{}/adk/run_sse", proxy.url))
        .json(&run_body("s-1"))
        .send()
        .await
        .unwrap();
    let mut body = response.bytes_stream();
    timeout(WAIT, body.next()).await.unwrap().unwrap().unwrap();
    let dropped = agents.stream_dropped.notified();
    drop(body); // the user pressed Stop
    timeout(WAIT, dropped)
        .await
        .expect("the proxy kept the agent server's stream open after the client left");
}

#[tokio::test]
async fn a_silent_agent_server_ends_the_stream_with_an_adk_shaped_error() {
    let (agents_server, _agents) = start_agents("").await;
    let config = Config {
        upstream_idle_timeout_secs: 0.3,
        ..with_agents(&agents_server.url)
    };
    let proxy = start_proxy(config).await;
    let response = client()
        .post(format!("{}/adk/run_sse", proxy.url))
        .json(&run_body("silent"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let text = response.text().await.unwrap();
    let frames: Vec<&str> = text
        .split("\n\n")
        .filter_map(|f| f.strip_prefix("data: "))
        .collect();
    assert_eq!(frames.len(), 2, "{text}");
    // ADK's own shape for a run that fails after it began.
    let error: Value = serde_json::from_str(frames[1]).unwrap();
    let message = error["error"]
        .as_str()
        .expect("error is a string, as ADK sends it");
    assert!(
        message.contains("agent server sent nothing for 0.3 s"),
        "{message}"
    );
    assert_eq!(error["error_details"]["error_type"], "adk_timeout");
    assert_eq!(error["error_details"]["error_message"], message);
}

#[tokio::test]
async fn an_unreachable_agent_server_is_a_502_that_says_so() {
    // A port that was free a moment ago: nothing listens there.
    let port = {
        let probe = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        probe.local_addr().unwrap().port()
    };
    let proxy = start_proxy(with_agents(&format!("http://127.0.0.1:{port}"))).await;
    let response = http_get(format!("{}/adk/list-apps", proxy.url)).await;
    assert_eq!(response.status(), 502);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"]["type"], "adk_unreachable");
    let message = body["error"]["message"].as_str().unwrap();
    assert!(message.contains("--adk-url"), "{message}");
    assert!(
        !message.contains(&port.to_string()),
        "no URL in messages: {message}"
    );
}

#[tokio::test]
async fn the_origin_check_and_the_rate_limit_cover_adk() {
    let (agents_server, agents) = start_agents("").await;
    let config = Config {
        // Slow refill: no token comes back during the test.
        rate_limit_per_sec: 0.2,
        rate_limit_burst: 2,
        ..with_agents(&agents_server.url)
    };
    let proxy = start_proxy(config).await;
    let client = client();
    // A page on another site: refused before it reaches the agent server
    // (and before it costs a token).
    let response = client
        .post(format!("{}/adk/run_sse", proxy.url))
        .header("origin", "http://evil.example")
        .header("sec-fetch-site", "cross-site")
        .json(&run_body("s-1"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 403);
    assert!(agents.seen.lock().unwrap().is_empty());

    for _ in 0..2 {
        let response = http_get(format!("{}/adk/list-apps", proxy.url)).await;
        assert_eq!(response.status(), 200);
    }
    let response = http_get(format!("{}/adk/list-apps", proxy.url)).await;
    assert_eq!(response.status(), 429);
    assert!(response.headers().contains_key("retry-after"));
    assert_eq!(agents.seen.lock().unwrap().len(), 2);
}
