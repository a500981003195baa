//! The proxy's log lines, read from a subscriber that captures them.
//! A test binary of its own: the subscriber is global, and tracing caches
//! per call site whether anyone listens, which a thread-local subscriber
//! next to other tests' threads gets wrong now and then.

mod common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

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
    let log = Captured::default();
    let writer = log.clone();
    tracing_subscriber::fmt()
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .init();

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
