//! Who may call the proxy, and how much: CORS, the origin check, the body
//! limit and the per-client rate limit, over real HTTP on loopback.

mod common;

use std::net::{IpAddr, Ipv4Addr};

use common::*;
use confab_proxy::Config;
use reqwest::header::HeaderMap;
use serde_json::{Value, json};

const APP: &str = "http://app.example:3000";
const EVIL: &str = "http://evil.example";

fn allowing(origins: &[&str]) -> Config {
    Config {
        allowed_origins: origins.iter().map(|o| (*o).to_owned()).collect(),
        ..Config::for_tests()
    }
}

fn no_cors_headers(headers: &HeaderMap) -> bool {
    !headers
        .keys()
        .any(|name| name.as_str().starts_with("access-control-"))
}

async fn preflight(base: &str, origin: &str) -> reqwest::Response {
    client()
        .request(
            reqwest::Method::OPTIONS,
            format!("{base}/api/v1/chat/completions"),
        )
        .header("origin", origin)
        .header("access-control-request-method", "POST")
        .header("access-control-request-headers", "content-type")
        .send()
        .await
        .unwrap()
}

async fn chat_from(base: &str, origin: &str) -> reqwest::Response {
    client()
        .post(format!("{base}/api/v1/chat/completions"))
        .header("origin", origin)
        .json(&json!({"messages": [{"role": "user", "content": "hi"}]}))
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn by_default_there_are_no_cors_headers_at_all() {
    let proxy = start_proxy(Config::for_tests()).await;
    let response = preflight(&proxy.url, APP).await;
    assert!(
        !response.status().is_success(),
        "no preflight is answered: {}",
        response.status()
    );
    assert!(
        no_cors_headers(response.headers()),
        "{:?}",
        response.headers()
    );
    let response = chat_from(&proxy.url, APP).await;
    assert_eq!(
        response.status(),
        200,
        "same-origin pages and curl still work"
    );
    assert!(
        no_cors_headers(response.headers()),
        "{:?}",
        response.headers()
    );
}

#[tokio::test]
async fn an_allowed_origin_gets_preflights_answered_and_retry_after_exposed() {
    let proxy = start_proxy(allowing(&[APP, "https://other.example"])).await;
    let response = preflight(&proxy.url, APP).await;
    assert!(response.status().is_success(), "{}", response.status());
    let headers = response.headers();
    assert_eq!(headers["access-control-allow-origin"], APP);
    let methods = headers["access-control-allow-methods"].to_str().unwrap();
    assert!(
        methods.contains("POST") && methods.contains("GET"),
        "{methods}"
    );
    let allowed = headers["access-control-allow-headers"].to_str().unwrap();
    assert!(
        allowed.to_ascii_lowercase().contains("content-type"),
        "{allowed}"
    );

    let response = chat_from(&proxy.url, APP).await;
    assert_eq!(response.status(), 200);
    let headers = response.headers();
    assert_eq!(headers["access-control-allow-origin"], APP);
    assert!(
        headers["access-control-expose-headers"]
            .to_str()
            .unwrap()
            .to_ascii_lowercase()
            .contains("retry-after")
    );
    // The second origin of the list works too.
    let response = chat_from(&proxy.url, "https://other.example").await;
    assert_eq!(
        response.headers()["access-control-allow-origin"],
        "https://other.example"
    );
}

#[tokio::test]
async fn a_disallowed_origin_gets_no_allow_origin_header() {
    let proxy = start_proxy(allowing(&[APP])).await;
    let response = preflight(&proxy.url, EVIL).await;
    assert!(
        response
            .headers()
            .get("access-control-allow-origin")
            .is_none(),
        "{:?}",
        response.headers()
    );
    let response = chat_from(&proxy.url, EVIL).await;
    assert!(
        response
            .headers()
            .get("access-control-allow-origin")
            .is_none()
    );
    // Nor does a near miss: another port, or a prefix.
    for near in ["http://app.example:3001", "http://app.example"] {
        let response = chat_from(&proxy.url, near).await;
        assert!(
            response
                .headers()
                .get("access-control-allow-origin")
                .is_none(),
            "{near}"
        );
    }
}

#[tokio::test]
async fn a_foreign_page_cannot_spend_the_key_with_a_simple_request() {
    let (server, upstream) = start_upstream().await;
    let proxy = start_proxy(Config {
        allowed_origins: vec![APP.to_owned()],
        ..upstream_config(&server.url)
    })
    .await;
    // What a form post from another site looks like: no preflight needed,
    // so CORS alone would let it through to the upstream.
    let forged = |origin: &'static str, site: &'static str| {
        client()
            .post(format!("{}/api/v1/chat/completions", proxy.url))
            .header("origin", origin)
            .header("sec-fetch-site", site)
            .header("content-type", "text/plain")
            .body(r#"{"model": "m", "messages": [], "stream": true}"#)
            .send()
    };
    for site in ["cross-site", "same-site"] {
        let response = forged(EVIL, site).await.unwrap();
        assert_eq!(response.status(), 403, "{site}");
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["error"]["code"], "origin_not_allowed");
        assert!(
            body["error"]["message"]
                .as_str()
                .unwrap()
                .contains("--allow-origin http://evil.example")
        );
    }
    assert!(
        upstream.bodies.lock().unwrap().is_empty(),
        "nothing was relayed"
    );
    // The allowed origin, and same-origin pages, go through (the fake
    // upstream holds each reply at its gate until released).
    for (origin, site) in [(APP, "cross-site"), ("http://proxy.itself", "same-origin")] {
        upstream.gate.notify_one();
        let response = forged(origin, site).await.unwrap();
        assert_eq!(response.status(), 200, "{origin}");
        response.text().await.unwrap();
    }
    assert_eq!(upstream.bodies.lock().unwrap().len(), 2);
}

#[tokio::test]
async fn a_body_over_the_limit_is_a_413_that_says_what_to_do() {
    let proxy = start_proxy(Config {
        max_body_bytes: 1024,
        otlp_url: Some("http://127.0.0.1:9".into()),
        ..Config::for_tests()
    })
    .await;
    let message =
        |size: usize| json!({"messages": [{"role": "user", "content": "x".repeat(size)}]});
    let response = post_chat(&proxy.url, message(900)).await;
    assert_eq!(response.status(), 200, "under the limit");
    response.text().await.unwrap();
    for path in ["/api/v1/chat/completions", "/otlp/v1/traces"] {
        let response = client()
            .post(format!("{}{path}", proxy.url))
            .json(&message(2000))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 413, "{path}");
        let body: Value = response.json().await.unwrap();
        let error = &body["error"];
        assert_eq!(error["type"], "invalid_request_error", "{body}");
        assert_eq!(error["code"], "request_too_large", "{body}");
        let text = error["message"].as_str().unwrap();
        assert!(text.contains("1024 bytes"), "{text}");
        assert!(text.contains("Start a new chat"), "{text}");
        assert!(text.contains("--max-body-bytes"), "{text}");
    }
}

#[tokio::test]
async fn the_default_body_limit_is_32_mib() {
    let proxy = start_proxy(Config::for_tests()).await;
    // A body of exactly the limit passes the limit (and fails as JSON).
    let at_limit = vec![b' '; 32 * 1024 * 1024];
    let response = client()
        .post(format!("{}/api/v1/chat/completions", proxy.url))
        .body(at_limit)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    let over = vec![b' '; 32 * 1024 * 1024 + 1];
    let response = client()
        .post(format!("{}/api/v1/chat/completions", proxy.url))
        .body(over)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 413);
}

/// `bytes` zero bytes as base64 (`AAAA` per three bytes).
fn zeros_base64(bytes: usize) -> String {
    assert_eq!(bytes % 3, 0);
    "AAAA".repeat(bytes / 3)
}

async fn assert_too_large(response: reqwest::Response, path: &str) {
    assert_eq!(response.status(), 413, "{path}");
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"]["code"], "request_too_large", "{path}: {body}");
    assert_eq!(
        body["error"]["type"], "invalid_request_error",
        "{path}: {body}"
    );
    let text = body["error"]["message"].as_str().unwrap();
    assert!(
        text.contains(&format!("({} bytes)", 32 * 1024 * 1024)),
        "{text}"
    );
    assert!(text.contains("smaller attachments"), "{text}");
}

#[tokio::test]
async fn a_message_with_12_mb_of_attachments_passes_and_40_mb_is_a_413() {
    // 9 MB of image as base64: a 12 MB body.
    let image = |bytes: usize| format!("data:image/png;base64,{}", zeros_base64(bytes));
    let chat = |bytes: usize| {
        json!({"model": "confab-echo", "messages": [{"role": "user", "content": [
            {"type": "text", "text": "[Attached image: big.png]"},
            {"type": "image_url", "image_url": {"url": image(bytes)}},
        ]}]})
    };
    let relay = agents::Relay::start(Config::for_tests()).await;
    let body = chat(9_000_000);
    assert!(body.to_string().len() > 12_000_000);
    let response = relay
        .browser
        .post_json("/api/v1/chat/completions", &body)
        .await;
    assert_eq!(response.status(), 200);
    let reply: Value = response.json().await.unwrap();
    let text = reply["choices"][0]["message"]["content"].as_str().unwrap();
    assert!(
        text.contains("You attached 1 file: big.png (image/png, 9,000,000 bytes)."),
        "{text}"
    );

    let run = |bytes: usize| {
        json!({"app_name": "app", "user_id": "local", "session_id": "s1", "streaming": true,
            "new_message": {"role": "user", "parts": [{"inlineData": {
                "mimeType": "application/pdf", "data": zeros_base64(bytes), "displayName": "big.pdf"}}]}})
    };
    let response = relay
        .browser
        .post_json("/adk/run_sse", &run(9_000_000))
        .await;
    assert_eq!(response.status(), 200);
    // The fake agent server holds its second event until released.
    relay.agents.gate.notify_one();
    response.text().await.unwrap();
    let seen = relay.agents.last().json();
    assert_eq!(
        seen["new_message"]["parts"][0]["inlineData"]["data"]
            .as_str()
            .map(str::len),
        Some(12_000_000),
        "the file reached the agent server whole"
    );

    let count = relay.agents.count();
    let response = relay
        .browser
        .post_json("/api/v1/chat/completions", &chat(30_000_000))
        .await;
    assert_too_large(response, "/api/v1/chat/completions").await;
    let response = relay
        .browser
        .post_json("/adk/run_sse", &run(30_000_000))
        .await;
    assert_too_large(response, "/adk/run_sse").await;
    assert_eq!(
        relay.agents.count(),
        count,
        "nothing more reached the agent server"
    );
}

fn limited(per_second: f64, burst: u32) -> Config {
    Config {
        rate_limit_per_sec: per_second,
        rate_limit_burst: burst,
        ..Config::for_tests()
    }
}

async fn get_from(base: &str, path: &str, from: Ipv4Addr) -> reqwest::Response {
    reqwest::Client::builder()
        .timeout(WAIT)
        .local_address(IpAddr::V4(from))
        .build()
        .unwrap()
        .get(format!("{base}{path}"))
        .send()
        .await
        .unwrap()
}

const ME: Ipv4Addr = Ipv4Addr::new(127, 0, 0, 1);
/// Another client: all of 127/8 is loopback on Linux.
const NEIGHBOUR: Ipv4Addr = Ipv4Addr::new(127, 0, 0, 2);

#[tokio::test]
async fn a_client_over_its_burst_gets_a_429_with_retry_after() {
    // Slow refill: no token comes back during the test.
    let proxy = start_proxy(limited(0.2, 3)).await;
    for _ in 0..3 {
        let response = get_from(&proxy.url, "/api/v1/models", ME).await;
        assert_eq!(response.status(), 200);
    }
    let response = get_from(&proxy.url, "/api/v1/models", ME).await;
    assert_eq!(response.status(), 429);
    let retry_after: u64 = response.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .expect("whole seconds");
    assert!((1..=5).contains(&retry_after), "{retry_after}");
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"]["type"], "rate_limit_error");
    assert_eq!(body["error"]["code"], "rate_limit_exceeded");
    let message = body["error"]["message"].as_str().unwrap();
    assert!(
        message.contains(&format!("wait {retry_after} s")),
        "{message}"
    );

    // Every API route counts, even an unknown one; the limit is per client.
    let response = get_from(&proxy.url, "/api/v1/nope", ME).await;
    assert_eq!(response.status(), 429);
    let chat = client()
        .post(format!("{}/api/v1/chat/completions", proxy.url))
        .json(&json!({"messages": []}))
        .send()
        .await
        .unwrap();
    assert_eq!(chat.status(), 429);
    let response = get_from(&proxy.url, "/api/v1/models", NEIGHBOUR).await;
    assert_eq!(response.status(), 200, "another client has its own bucket");

    // Health checks and the app's files are never limited.
    for _ in 0..5 {
        let health = get_from(&proxy.url, "/healthz", ME).await;
        assert_eq!(health.status(), 200);
        let page = get_from(&proxy.url, "/", ME).await;
        assert_eq!(page.status(), 200);
    }
}

#[tokio::test]
async fn tokens_come_back_at_the_configured_rate() {
    let proxy = start_proxy(limited(5.0, 1)).await;
    assert_eq!(
        get_from(&proxy.url, "/api/v1/models", ME).await.status(),
        200
    );
    let response = get_from(&proxy.url, "/api/v1/models", ME).await;
    assert_eq!(response.status(), 429);
    assert_eq!(response.headers()["retry-after"], "1", "0.2 s, rounded up");
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert_eq!(
        get_from(&proxy.url, "/api/v1/models", ME).await.status(),
        200
    );
}

#[tokio::test]
async fn static_files_are_never_limited() {
    let dist = tempfile::tempdir().unwrap();
    std::fs::write(dist.path().join("index.html"), "<html>app</html>").unwrap();
    let proxy = start_proxy(Config {
        dist: Some(dist.path().to_owned()),
        ..limited(0.1, 1)
    })
    .await;
    assert_eq!(
        get_from(&proxy.url, "/api/v1/models", ME).await.status(),
        200
    );
    assert_eq!(
        get_from(&proxy.url, "/api/v1/models", ME).await.status(),
        429
    );
    for path in ["/", "/index.html", "/some/route", "/healthz"] {
        assert_eq!(get_from(&proxy.url, path, ME).await.status(), 200, "{path}");
    }
}

#[tokio::test]
async fn a_rate_of_zero_turns_the_limit_off() {
    let proxy = start_proxy(limited(0.0, 1)).await;
    for _ in 0..40 {
        assert_eq!(
            get_from(&proxy.url, "/api/v1/models", ME).await.status(),
            200
        );
    }
}

#[tokio::test]
async fn the_default_limit_allows_a_burst_of_30() {
    let proxy = start_proxy(Config::for_tests()).await;
    for i in 0..30 {
        let status = get_from(&proxy.url, "/api/v1/models", ME).await.status();
        assert_eq!(status, 200, "request {i}");
    }
    // 30 requests take far less than the half second a new token needs…
    // unless the machine is very slow; then a token may have come back.
    let mut denied = false;
    for _ in 0..5 {
        denied |= get_from(&proxy.url, "/api/v1/models", ME).await.status() == 429;
    }
    assert!(denied, "the 31st to 35th requests were not all allowed");
}

#[tokio::test]
async fn an_allowed_page_can_read_a_429_and_its_retry_after() {
    let proxy = start_proxy(Config {
        allowed_origins: vec![APP.to_owned()],
        ..limited(0.1, 1)
    })
    .await;
    let from_app = || {
        client()
            .get(format!("{}/api/v1/models", proxy.url))
            .header("origin", APP)
            .send()
    };
    assert_eq!(from_app().await.unwrap().status(), 200);
    let response = from_app().await.unwrap();
    assert_eq!(response.status(), 429);
    let headers = response.headers();
    assert_eq!(headers["access-control-allow-origin"], APP);
    assert!(
        headers["access-control-expose-headers"]
            .to_str()
            .unwrap()
            .to_ascii_lowercase()
            .contains("retry-after")
    );
    assert!(headers.contains_key("retry-after"));
    // A preflight costs no token and is not refused.
    let response = preflight(&proxy.url, APP).await;
    assert!(response.status().is_success(), "{}", response.status());
}
