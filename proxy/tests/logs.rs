//! The proxy's log lines, read from a subscriber that captures them.
//! A test binary of its own: the subscriber is global, and tracing caches
//! per call site whether anyone listens, which a thread-local subscriber
//! next to other tests' threads gets wrong now and then.

mod common;

use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use axum::Router;
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use axum::routing::post;
use common::*;
use confab_proxy::Config;
use confab_proxy::config::ApiKey;
use serde_json::json;
use tokio::time::timeout;

/// Log output captured in memory, for the test that reads the log lines.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// The log of this test binary, captured from its first use on. The tests
/// run at once and share it, so each looks for its own lines and secrets.
fn log() -> &'static Captured {
    static LOG: OnceLock<Captured> = OnceLock::new();
    LOG.get_or_init(|| {
        let log = Captured::default();
        let writer = log.clone();
        // The default level, as the binary runs (info).
        tracing_subscriber::fmt()
            .with_ansi(false)
            .with_writer(move || writer.clone())
            .init();
        log
    })
}

impl Captured {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }

    /// Waits (bounded) until the log holds `needle`.
    async fn wait_for(&self, needle: &str) {
        let found = timeout(WAIT, async {
            while !self.text().contains(needle) {
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        })
        .await;
        assert!(found.is_ok(), "no {needle:?} in the log:\n{}", self.text());
    }
}

#[tokio::test]
async fn log_lines_show_requests_and_hang_ups_but_never_content_or_the_key() {
    let log = log();

    // An offline reply slow enough to hang up in the middle of it.
    let offline = start_proxy(Config {
        echo_token_delay_ms: 50,
        api_key: ApiKey::new(KEY),
        ..Config::for_tests()
    })
    .await;
    let secret = "my private words";
    let mut response = post_chat(
        &offline.url,
        json!({"messages": [{"role": "user", "content": secret}], "stream": true}),
    )
    .await;
    timeout(WAIT, response.chunk()).await.unwrap().unwrap();
    drop(response);
    // The echo stream was dropped when the client left, not run to its end
    // (which would take seconds at this pace and log complete=true).
    log.wait_for("complete=false").await;

    let (server, _upstream) = start_upstream().await;
    let proxy = start_proxy(upstream_config(&server.url)).await;
    let models = http_get(format!("{}/api/v1/models", proxy.url)).await;
    assert_eq!(models.status(), 200);
    log.wait_for("path=\"/api/v1/models\" status=200").await;

    let text = log.text();
    assert!(
        text.contains("method=POST path=\"/api/v1/chat/completions\" status=200"),
        "{text}"
    );
    assert!(
        !text.contains(secret),
        "message content in the log:\n{text}"
    );
    assert!(!text.contains(KEY), "the key in the log:\n{text}");
}

/// The log lines that contain `needle`.
fn lines_with(text: &str, needle: &str) -> Vec<String> {
    text.lines()
        .filter(|line| line.contains(needle))
        .map(str::to_owned)
        .collect()
}

#[tokio::test]
async fn error_paths_log_one_line_each_with_status_and_bytes_but_never_the_key() {
    let log = log();
    let secret = "words from the error paths";
    let body =
        json!({"model": "m", "messages": [{"role": "user", "content": secret}], "stream": true});

    // An upstream whose 401 quotes the Authorization header back.
    async fn reject(headers: HeaderMap) -> impl IntoResponse {
        let auth = headers["authorization"].to_str().unwrap().to_owned();
        (
            StatusCode::UNAUTHORIZED,
            [("content-type", "application/json")],
            json!({"error": {"message": format!("Incorrect API key provided: {auth}")}})
                .to_string(),
        )
    }
    let rejecting = start_router(Router::new().route("/v1/chat/completions", post(reject))).await;
    let proxy = start_proxy(upstream_config(&rejecting.url)).await;
    let response = post_chat(&proxy.url, body.clone()).await;
    assert_eq!(response.status(), 401);
    response.text().await.unwrap();
    log.wait_for("status=401").await;

    // An upstream that never answers (idle timeout: 504).
    let silent = start_router(Router::new().route(
        "/v1/chat/completions",
        post(|| async {
            tokio::time::sleep(WAIT).await;
            ""
        }),
    ))
    .await;
    let proxy = start_proxy(Config {
        upstream_idle_timeout_secs: 0.2,
        ..upstream_config(&silent.url)
    })
    .await;
    assert_eq!(post_chat(&proxy.url, body.clone()).await.status(), 504);
    log.wait_for("status=504").await;

    // No upstream at all (502).
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let proxy = start_proxy(upstream_config(&format!("http://{closed}"))).await;
    assert_eq!(post_chat(&proxy.url, body.clone()).await.status(), 502);
    log.wait_for("status=502").await;

    // Too large (413), then too many (429), then a path of its own.
    let proxy = start_proxy(Config {
        max_body_bytes: 64,
        rate_limit_burst: 2,
        rate_limit_per_sec: 0.1,
        ..upstream_config(&rejecting.url)
    })
    .await;
    assert_eq!(post_chat(&proxy.url, body.clone()).await.status(), 413);
    assert_eq!(post_chat(&proxy.url, body.clone()).await.status(), 413);
    assert_eq!(post_chat(&proxy.url, body.clone()).await.status(), 429);
    log.wait_for("status=429").await;
    let proxy = start_proxy(Config::for_tests()).await;
    let lonely = "/api/v1/a-path-requested-once";
    assert_eq!(
        http_get(format!("{}{lonely}", proxy.url)).await.status(),
        404
    );
    log.wait_for(lonely).await;

    let text = log.text();
    for status in ["401", "413", "429", "502", "504"] {
        let lines = lines_with(&text, &format!("status={status}"));
        assert!(!lines.is_empty(), "no line for {status}:\n{text}");
        for line in lines {
            assert!(line.contains("path=\"/api/v1/chat/completions\""), "{line}");
            assert!(line.contains(" ms="), "{line}");
            assert!(
                line.contains(" bytes=") && !line.contains(" bytes=0 "),
                "{line}"
            );
        }
    }
    assert_eq!(
        lines_with(&text, lonely).len(),
        1,
        "one line per request:\n{text}"
    );
    assert!(!text.contains(KEY), "the key in the log:\n{text}");
    assert!(
        !text.contains(secret),
        "message content in the log:\n{text}"
    );
}

#[tokio::test]
async fn the_log_content_flag_logs_messages_but_never_the_key() {
    let log = log();
    let (server, upstream) = start_upstream().await;
    let proxy = start_proxy(Config {
        log_content: true,
        ..upstream_config(&server.url)
    })
    .await;
    upstream.gate.notify_one();
    // A user who pastes the proxy's own key into a message.
    let content = format!("debug-visible words and {KEY}");
    let response = post_chat(
        &proxy.url,
        json!({"model": "m", "messages": [{"role": "user", "content": content}], "stream": true}),
    )
    .await;
    assert_eq!(response.status(), 200);
    response.text().await.unwrap();
    log.wait_for("debug-visible words and [redacted]").await;
    assert!(!log.text().contains(KEY), "the key in the log");
}
