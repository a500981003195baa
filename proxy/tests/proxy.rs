//! confab-proxy over real HTTP on loopback: the offline model, and
//! forwarding to the fake upstream of `common`.

mod common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use axum::routing::post;
use common::*;
use confab_proxy::Config;
use confab_proxy::config::ApiKey;
use serde_json::{Value, json};
use tokio::time::timeout;

/// The data of each SSE frame of a body (frames are `data: …\n\n`).
fn frames(body: &str) -> Vec<String> {
    body.split("\n\n")
        .filter_map(|f| f.strip_prefix("data: "))
        .map(str::to_owned)
        .collect()
}

fn content_of(frames: &[String]) -> String {
    frames
        .iter()
        .filter(|f| *f != "[DONE]")
        .filter_map(|f| {
            let chunk: Value = serde_json::from_str(f).unwrap();
            chunk["choices"][0]["delta"]["content"]
                .as_str()
                .map(str::to_owned)
        })
        .collect()
}

#[tokio::test]
async fn the_offline_model_streams_openai_chunks() {
    let proxy = start_proxy(Config::for_tests()).await;
    let response = post_chat(
        &proxy.url,
        json!({
            "messages": [{"role": "user", "content": "Plan a trip to Paris"}],
            "stream": true,
            "stream_options": {"include_usage": true}
        }),
    )
    .await;
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.headers()["content-type"].to_str().unwrap(),
        "text/event-stream"
    );
    let body = response.text().await.unwrap();
    let frames = frames(&body);
    assert_eq!(frames.last().map(String::as_str), Some("[DONE]"));
    let first: Value = serde_json::from_str(&frames[0]).unwrap();
    assert_eq!(first["choices"][0]["delta"]["role"], "assistant");
    assert_eq!(first["model"], "confab-echo");
    let text = content_of(&frames);
    assert_eq!(
        text,
        confab_proxy::echo::reply_text(&[
            json!({"role": "user", "content": "Plan a trip to Paris"})
        ])
    );
    assert!(
        frames.len() > 10,
        "streamed token by token, not in one piece"
    );
    let finish: Value = serde_json::from_str(&frames[frames.len() - 3]).unwrap();
    assert_eq!(finish["choices"][0]["finish_reason"], "stop");
    let usage: Value = serde_json::from_str(&frames[frames.len() - 2]).unwrap();
    assert!(usage["usage"]["total_tokens"].as_u64().unwrap() > 0);
}

#[tokio::test]
async fn the_offline_model_sees_the_whole_conversation() {
    let proxy = start_proxy(Config::for_tests()).await;
    let body = post_chat(
        &proxy.url,
        json!({
            "model": "confab-echo",
            "messages": [
                {"role": "user", "content": "first"},
                {"role": "assistant", "content": "reply"},
                {"role": "user", "content": "second"}
            ],
            "stream": true
        }),
    )
    .await
    .text()
    .await
    .unwrap();
    let text = content_of(&frames(&body));
    assert!(text.contains("turn 2"), "{text}");
    assert!(text.contains("Your first message was: \"first\""), "{text}");
    assert!(!body.contains("\"usage\""), "no usage unless asked for");
}

#[tokio::test]
async fn hanging_up_stops_the_offline_model() {
    // Slow enough that the whole reply would take many seconds.
    let proxy = start_proxy(Config {
        echo_token_delay_ms: 200,
        ..Config::for_tests()
    })
    .await;
    // Each test has its own runtime: its tasks are this proxy's alone.
    let metrics = tokio::runtime::Handle::current().metrics();
    let idle = metrics.num_alive_tasks();
    let mut response = post_chat(
        &proxy.url,
        json!({"messages": [{"role": "user", "content": "hi"}], "stream": true}),
    )
    .await;
    timeout(WAIT, response.chunk()).await.unwrap().unwrap();
    assert!(
        metrics.num_alive_tasks() > idle,
        "a connection is being served"
    );
    drop(response);
    // Once the client is gone nothing may keep producing the reply: the
    // task count falls back to the idle server's.
    let settled = timeout(Duration::from_secs(2), async {
        while metrics.num_alive_tasks() > idle {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await;
    assert!(
        settled.is_ok(),
        "{} tasks still alive after the client left, {idle} when idle",
        metrics.num_alive_tasks()
    );
}

#[tokio::test]
async fn the_offline_model_refuses_other_models_and_bad_json() {
    let proxy = start_proxy(Config::for_tests()).await;
    let response = post_chat(&proxy.url, json!({"model": "gpt-4", "messages": []})).await;
    assert_eq!(response.status(), 404);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"]["code"], "model_not_found");
    assert!(body["error"]["message"].as_str().unwrap().contains("gpt-4"));

    let response = client()
        .post(format!("{}/api/v1/chat/completions", proxy.url))
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"]["type"], "invalid_request_error");
}

#[tokio::test]
async fn a_non_streaming_request_gets_one_completion() {
    let proxy = start_proxy(Config::for_tests()).await;
    let body: Value = post_chat(
        &proxy.url,
        json!({"messages": [{"role": "user", "content": "hi"}]}),
    )
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(body["object"], "chat.completion");
    assert!(
        body["choices"][0]["message"]["content"]
            .as_str()
            .unwrap()
            .contains("You said: \"hi\"")
    );
}

#[tokio::test]
async fn only_the_api_routes_exist_and_health_answers() {
    let proxy = start_proxy(Config::for_tests()).await;
    let client = client();
    for (method, path) in [
        (reqwest::Method::GET, "/api/v1/other"),
        (reqwest::Method::GET, "/api/v1/chat/completions"),
        (reqwest::Method::POST, "/api/v1/models"),
        (reqwest::Method::GET, "/api/v2/chat/completions"),
    ] {
        let response = client
            .request(method.clone(), format!("{}{path}", proxy.url))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 404, "{method} {path}");
        let body: Value = response.json().await.unwrap();
        assert!(body["error"]["message"].as_str().unwrap().contains(path));
    }
    let health: Value = client
        .get(format!("{}/healthz", proxy.url))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        health,
        json!({"status": "ok", "mode": "offline", "default_model": "confab-echo"})
    );
    let models: Value = client
        .get(format!("{}/api/v1/models", proxy.url))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(models["data"][0]["id"], "confab-echo");
    // The reasoning variant is listed too, so it can be picked offline.
    assert_eq!(models["data"][1]["id"], "confab-echo-think");
}

#[tokio::test]
async fn the_built_app_is_served_with_a_single_page_fallback() {
    let dist = tempfile::tempdir().unwrap();
    std::fs::write(dist.path().join("index.html"), "<html>confab app</html>").unwrap();
    std::fs::write(dist.path().join("app.js"), "console.log(1)").unwrap();
    let proxy = start_proxy(Config {
        dist: Some(dist.path().to_owned()),
        ..Config::for_tests()
    })
    .await;
    let get = |path: &'static str| http_get(format!("{}{path}", proxy.url));
    assert_eq!(
        get("/").await.text().await.unwrap(),
        "<html>confab app</html>"
    );
    assert_eq!(get("/app.js").await.text().await.unwrap(), "console.log(1)");
    let fallback = get("/some/route").await;
    assert_eq!(fallback.status(), 200);
    assert_eq!(fallback.text().await.unwrap(), "<html>confab app</html>");
    for path in ["/api/nope", "/api/", "/api", "/otlp/"] {
        let response = get(path).await;
        assert_eq!(response.status(), 404, "{path} is not the app");
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["error"]["type"], "not_found", "{path}");
    }
}

#[tokio::test]
async fn forwarding_adds_the_key_and_streams_without_buffering() {
    let (server, upstream) = start_upstream().await;
    let proxy = start_proxy(upstream_config(&server.url)).await;
    let request = client()
        .post(format!("{}/api/v1/chat/completions", proxy.url))
        .header("authorization", "Bearer from-the-browser")
        .json(
            &json!({"model": "m", "messages": [{"role": "user", "content": "hi"}], "stream": true}),
        )
        .send();
    let mut response = timeout(WAIT, request).await.unwrap().unwrap();
    assert_eq!(response.status(), 200);
    // The first frame arrives while the upstream is still holding the rest:
    // a buffering proxy would time out here.
    let first = timeout(Duration::from_secs(2), response.chunk())
        .await
        .expect("the first frame passed through before the stream ended")
        .unwrap()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&first), chunk("first "));
    upstream.gate.notify_one();
    let headers = response.headers().clone();
    let mut rest = Vec::new();
    while let Some(bytes) = timeout(WAIT, response.chunk()).await.unwrap().unwrap() {
        rest.extend_from_slice(&bytes);
    }
    let rest = String::from_utf8(rest).unwrap();
    assert_eq!(rest, format!("{}data: [DONE]\n\n", chunk("second")));
    assert_no_key(&headers, &rest);

    let seen = upstream.authorization.lock().unwrap().clone();
    assert_eq!(
        seen,
        [Some(format!("Bearer {KEY}"))],
        "the key, not the browser's header"
    );
}

#[tokio::test]
async fn errors_pass_through_with_status_retry_after_and_body() {
    let (server, _upstream) = start_upstream().await;
    let proxy = start_proxy(upstream_config(&server.url)).await;
    let response = post_chat(
        &proxy.url,
        json!({"model": "rate-limited", "messages": [], "stream": true}),
    )
    .await;
    assert_eq!(response.status(), 429);
    assert_eq!(response.headers()["retry-after"], "3");
    let headers = response.headers().clone();
    let body = response.text().await.unwrap();
    assert!(body.contains("Rate limit reached"), "{body}");
    assert_no_key(&headers, &body);
}

#[tokio::test]
async fn models_are_forwarded_and_a_missing_model_passes_through() {
    let (server, upstream) = start_upstream().await;
    let proxy = start_proxy(upstream_config(&server.url)).await;
    let response = http_get(format!("{}/api/v1/models", proxy.url)).await;
    assert_eq!(response.status(), 200);
    let headers = response.headers().clone();
    let body = response.text().await.unwrap();
    assert_no_key(&headers, &body);
    let models: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(models["data"][0]["id"], "upstream-model");
    assert_eq!(
        upstream.authorization.lock().unwrap().as_slice(),
        [Some(format!("Bearer {KEY}"))]
    );
    upstream.gate.notify_one();
    let response = post_chat(&proxy.url, json!({"messages": [], "stream": true})).await;
    response.text().await.unwrap();
    let sent = upstream.bodies.lock().unwrap().clone();
    assert_eq!(sent[0].get("model"), None, "no default model configured");

    let health: Value = http_get(format!("{}/healthz", proxy.url))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        health,
        json!({"status": "ok", "mode": "upstream", "default_model": null}),
        "no default model configured: the upstream chooses"
    );
}

#[tokio::test]
async fn without_a_key_the_clients_authorization_still_stays_behind() {
    let (server, upstream) = start_upstream().await;
    let proxy = start_proxy(Config {
        api_key: ApiKey::default(),
        ..upstream_config(&server.url)
    })
    .await;
    upstream.gate.notify_one();
    let response = client()
        .post(format!("{}/api/v1/chat/completions", proxy.url))
        .header("authorization", "Bearer from-the-browser")
        .json(&json!({"model": "m", "messages": [], "stream": true}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    response.text().await.unwrap();
    assert_eq!(upstream.authorization.lock().unwrap().as_slice(), [None]);
}

#[tokio::test]
async fn a_client_that_goes_away_closes_the_upstream_stream() {
    let (server, upstream) = start_upstream().await;
    let proxy = start_proxy(upstream_config(&server.url)).await;
    let mut response = post_chat(
        &proxy.url,
        json!({"model": "m", "messages": [], "stream": true}),
    )
    .await;
    let first = timeout(WAIT, response.chunk()).await.unwrap().unwrap();
    assert_eq!(first.as_deref(), Some(chunk("first ").as_bytes()));
    // The upstream now holds its stream at the gate, which is never opened.
    // Hanging up must reach it through the proxy well before its own
    // give-up time (WAIT), or something is still reading on our behalf.
    drop(response);
    timeout(Duration::from_secs(2), upstream.stream_dropped.notified())
        .await
        .expect("the upstream stream was dropped after the client left");
}

#[tokio::test]
async fn a_default_model_is_filled_in_for_the_upstream() {
    let (server, upstream) = start_upstream().await;
    let proxy = start_proxy(Config {
        default_model: Some("gpt-default".into()),
        ..upstream_config(&server.url)
    })
    .await;
    upstream.gate.notify_one();
    post_chat(
        &proxy.url,
        json!({"model": "", "messages": [], "stream": true}),
    )
    .await
    .text()
    .await
    .unwrap();
    let sent = upstream.bodies.lock().unwrap().clone();
    assert_eq!(sent[0]["model"], "gpt-default");
    // The page names it before the first message.
    let health: Value = http_get(format!("{}/healthz", proxy.url))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(health["default_model"], "gpt-default");
}

#[tokio::test]
async fn an_unreachable_upstream_is_a_502_without_the_key() {
    // A port that was just free: nothing listens there.
    let closed = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap()
    };
    let proxy = start_proxy(upstream_config(&format!("http://{closed}"))).await;
    let response = post_chat(
        &proxy.url,
        json!({"model": "m", "messages": [], "stream": true}),
    )
    .await;
    assert_eq!(response.status(), 502);
    let headers = response.headers().clone();
    let body = response.text().await.unwrap();
    let parsed: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(parsed["error"]["type"], "upstream_unreachable");
    assert!(body.contains("CONFAB_UPSTREAM_URL"));
    assert_no_key(&headers, &body);
}

#[tokio::test]
async fn trace_exports_are_relayed_to_the_collector_without_the_key() {
    #[derive(Default)]
    struct Seen(Mutex<Vec<(Option<String>, String, String)>>);
    async fn collect(
        axum::extract::State(seen): axum::extract::State<Arc<Seen>>,
        headers: HeaderMap,
        body: String,
    ) -> impl IntoResponse {
        let header = |name: &str| headers.get(name).map(|v| v.to_str().unwrap().to_owned());
        seen.0.lock().unwrap().push((
            header("authorization"),
            header("content-type").unwrap_or_default(),
            body,
        ));
        (StatusCode::OK, axum::Json(json!({"partialSuccess": {}})))
    }
    let seen = Arc::new(Seen::default());
    let collector = start_router(
        Router::new()
            .route("/v1/traces", post(collect))
            .with_state(seen.clone()),
    )
    .await;
    let proxy = start_proxy(Config {
        otlp_url: Some(collector.url.clone()),
        api_key: ApiKey::new(KEY),
        ..Config::for_tests()
    })
    .await;
    let body = r#"{"resourceSpans":[]}"#;
    let response = client()
        .post(format!("{}/otlp/v1/traces", proxy.url))
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let seen = seen.0.lock().unwrap().clone();
    assert_eq!(
        seen,
        [(None, "application/json".to_owned(), body.to_owned())],
        "relayed as sent, without the model key"
    );

    // Without a collector configured, the route explains itself.
    let offline = start_proxy(Config::for_tests()).await;
    let response = client()
        .post(format!("{}/otlp/v1/traces", offline.url))
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 404);
    assert!(response.text().await.unwrap().contains("--otlp-url"));
}

#[tokio::test]
async fn a_collector_away_is_a_502_that_names_the_collector_and_its_setting() {
    // A port that was just free: nothing listens there.
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let proxy = start_proxy(Config {
        otlp_url: Some(format!("http://{closed}")),
        ..Config::for_tests()
    })
    .await;
    let response = client()
        .post(format!("{}/otlp/v1/traces", proxy.url))
        .header("content-type", "application/json")
        .body(r#"{"resourceSpans":[]}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 502);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"]["type"], "collector_unreachable");
    let message = body["error"]["message"].as_str().unwrap();
    assert!(message.contains("the trace collector"), "{message}");
    assert!(
        message.contains("--otlp-url (CONFAB_OTLP_URL)"),
        "{message}"
    );
    assert!(!message.contains("CONFAB_UPSTREAM_URL"), "{message}");
}
