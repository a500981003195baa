//! The proxy against misbehaving test upstreams (local axum routers, over
//! loopback): only the two API routes reach it, the key never comes back,
//! silence is cut off by the idle timeout, and a client that hangs up
//! releases the upstream at once.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use common::*;
use confab_proxy::Config;
use serde_json::{Value, json};
use tokio::time::timeout;

/// The data of each SSE frame of a body (frames are `data: …\n\n`).
fn frames(body: &str) -> Vec<String> {
    body.split("\n\n")
        .filter_map(|f| f.trim_start_matches('\n').strip_prefix("data: "))
        .map(str::to_owned)
        .collect()
}

fn proxy_config(upstream: &Running, idle_secs: f64) -> Config {
    Config {
        upstream_idle_timeout_secs: idle_secs,
        ..upstream_config(&upstream.url)
    }
}

fn authorization(headers: &HeaderMap) -> String {
    headers
        .get("authorization")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default()
}

#[tokio::test]
async fn only_the_two_api_routes_reach_the_upstream() {
    let hits = Arc::new(AtomicUsize::new(0));
    let counter = hits.clone();
    let upstream = start_router(Router::new().fallback(move || {
        counter.fetch_add(1, Ordering::SeqCst);
        async { axum::Json(json!({"object": "list", "data": []})) }
    }))
    .await;
    let proxy = start_proxy(upstream_config(&upstream.url)).await;
    let client = client();
    for (method, path) in [
        (reqwest::Method::POST, "/api/v1/embeddings"),
        (reqwest::Method::POST, "/api/v1/completions"),
        (reqwest::Method::GET, "/api/v1/files"),
        (reqwest::Method::DELETE, "/api/v1/models"),
        (reqwest::Method::GET, "/api/v1/models/gpt-4o"),
        (reqwest::Method::PUT, "/api/v1/chat/completions"),
        (reqwest::Method::POST, "/api/v1/chat/completions/extra"),
        (reqwest::Method::POST, "/api/v1/../v1/audio/speech"),
        (reqwest::Method::POST, "/api/v1//chat/completions"),
        (reqwest::Method::GET, "/v1/models"),
        (reqwest::Method::POST, "/otlp/v1/logs"),
    ] {
        let response = client
            .request(method.clone(), format!("{}{path}", proxy.url))
            .json(&json!({"model": "m", "input": "x"}))
            .send()
            .await
            .unwrap();
        // `/v1/models` is not an API path: without a dist it is the plain
        // 404 of an unknown page; every other one is the JSON 404.
        assert_eq!(response.status(), 404, "{method} {path}");
    }
    assert_eq!(hits.load(Ordering::SeqCst), 0, "nothing was relayed");
    // The two routes do reach it.
    let models = http_get(format!("{}/api/v1/models", proxy.url)).await;
    assert_eq!(models.status(), 200);
    assert_eq!(hits.load(Ordering::SeqCst), 1);
}

/// An upstream that quotes the request's `Authorization` back: in a 401
/// body, in a header, and inside a streamed reply split mid-key.
async fn echoing_upstream() -> Running {
    async fn chat(headers: HeaderMap, body: String) -> Response {
        let auth = authorization(&headers);
        let request: Value = serde_json::from_str(&body).unwrap();
        if request["model"] == "bad-key" {
            return (
                StatusCode::UNAUTHORIZED,
                [
                    ("content-type", "application/json".to_owned()),
                    ("cache-control", format!("private, {auth}")),
                    ("www-authenticate", format!("Bearer error=\"{auth}\"")),
                ],
                json!({"error": {"message": format!("Incorrect API key provided: {auth}"), "type": "invalid_request_error", "code": "invalid_api_key"}}).to_string(),
            )
                .into_response();
        }
        // 200, streamed, with the key cut in two across chunks.
        let frame = format!(
            "data: {}\n\n",
            json!({"choices": [{"index": 0, "delta": {"content": auth}}]})
        );
        let cut = frame.find(KEY).unwrap() + 5;
        let (a, b) = frame.split_at(cut);
        let parts = vec![a.to_owned(), b.to_owned(), "data: [DONE]\n\n".to_owned()];
        let stream = futures_util::stream::iter(parts).then(|part| async move {
            tokio::time::sleep(Duration::from_millis(20)).await;
            Ok::<_, std::convert::Infallible>(part)
        });
        (
            [("content-type", "text/event-stream")],
            Body::from_stream(stream),
        )
            .into_response()
    }
    async fn models(headers: HeaderMap) -> Response {
        let auth = authorization(&headers);
        axum::Json(json!({"object": "list", "data": [{"id": auth}]})).into_response()
    }
    use futures_util::StreamExt;
    start_router(
        Router::new()
            .route("/v1/chat/completions", post(chat))
            .route("/v1/models", get(models)),
    )
    .await
}

#[tokio::test]
async fn the_key_never_comes_back_even_when_the_upstream_echoes_it() {
    let upstream = echoing_upstream().await;
    let proxy = start_proxy(upstream_config(&upstream.url)).await;

    // A 401 that quotes the Authorization header in its body and headers.
    let response = post_chat(
        &proxy.url,
        json!({"model": "bad-key", "messages": [], "stream": true}),
    )
    .await;
    assert_eq!(response.status(), 401, "the status passes through");
    let headers = response.headers().clone();
    let body = response.text().await.unwrap();
    assert_no_key(&headers, &body);
    let parsed: Value = serde_json::from_str(&body).expect("still valid JSON");
    assert_eq!(
        parsed["error"]["message"],
        "Incorrect API key provided: Bearer [redacted]"
    );
    assert!(headers.get("www-authenticate").is_none());

    // A streamed reply with the key split across two chunks.
    let response = post_chat(
        &proxy.url,
        json!({"model": "m", "messages": [], "stream": true}),
    )
    .await;
    assert_eq!(response.status(), 200);
    let headers = response.headers().clone();
    let body = response.text().await.unwrap();
    assert_no_key(&headers, &body);
    let frames = frames(&body);
    let first: Value = serde_json::from_str(&frames[0]).unwrap();
    assert_eq!(first["choices"][0]["delta"]["content"], "Bearer [redacted]");
    assert_eq!(frames.last().map(String::as_str), Some("[DONE]"));

    // The model list, too.
    let response = http_get(format!("{}/api/v1/models", proxy.url)).await;
    let headers = response.headers().clone();
    let body = response.text().await.unwrap();
    assert_no_key(&headers, &body);
    assert!(body.contains("Bearer [redacted]"), "{body}");
}

#[tokio::test]
async fn an_upstream_silent_before_answering_is_a_504() {
    let gave_up = Arc::new(DropClock::default());
    let probe = gave_up.clone();
    let upstream = start_router(Router::new().route(
        "/v1/chat/completions",
        post(move || {
            let guard = probe.guard();
            async move {
                tokio::time::sleep(WAIT).await;
                drop(guard);
                "too late"
            }
        }),
    ))
    .await;
    let proxy = start_proxy(proxy_config(&upstream, 0.3)).await;
    let started = Instant::now();
    let response = post_chat(
        &proxy.url,
        json!({"model": "m", "messages": [], "stream": true}),
    )
    .await;
    assert_eq!(response.status(), 504);
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "answered after the idle timeout, not the upstream's"
    );
    let headers = response.headers().clone();
    let body = response.text().await.unwrap();
    assert_no_key(&headers, &body);
    let error: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(error["error"]["type"], "upstream_timeout");
    assert_eq!(error["error"]["code"], "upstream_idle_timeout");
    let message = error["error"]["message"].as_str().unwrap();
    assert!(message.contains("0.3 s"), "{message}");
    assert!(
        message.contains("--upstream-idle-timeout-secs"),
        "{message}"
    );
    // The proxy also hung up on the upstream.
    assert!(
        gave_up
            .dropped_within(Duration::from_secs(2))
            .await
            .is_some()
    );
}

#[tokio::test]
async fn headers_then_silence_is_a_504_too() {
    let upstream = start_router(Router::new().route(
        "/v1/chat/completions",
        post(|| async {
            let silent = futures_util::stream::once(async {
                tokio::time::sleep(WAIT).await;
                Ok::<_, std::convert::Infallible>("data: late\n\n")
            });
            (
                [("content-type", "text/event-stream")],
                Body::from_stream(silent),
            )
        }),
    ))
    .await;
    let proxy = start_proxy(proxy_config(&upstream, 0.3)).await;
    let response = post_chat(
        &proxy.url,
        json!({"model": "m", "messages": [], "stream": true}),
    )
    .await;
    assert_eq!(
        response.status(),
        504,
        "nothing was sent yet, so a plain error"
    );
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"]["type"], "upstream_timeout");
}

/// An upstream that sends `first` at once, then nothing until `WAIT` is
/// over; `dropped` notes when the proxy let go of the stream.
async fn stalling_upstream(
    content_type: &'static str,
    first: &'static str,
) -> (Running, Arc<DropClock>) {
    let dropped = Arc::new(DropClock::default());
    let probe = dropped.clone();
    let upstream = start_router(Router::new().route(
        "/v1/chat/completions",
        post(move || {
            let guard = probe.guard();
            async move {
                let stream =
                    futures_util::stream::unfold((0, guard), move |(step, guard)| async move {
                        match step {
                            0 => Some((Ok::<_, std::convert::Infallible>(first), (1, guard))),
                            1 => {
                                tokio::time::sleep(WAIT).await;
                                Some((Ok("data: [DONE]\n\n"), (2, guard)))
                            }
                            _ => None,
                        }
                    });
                ([("content-type", content_type)], Body::from_stream(stream))
            }
        }),
    ))
    .await;
    (upstream, dropped)
}

/// What a client gets when the upstream's SSE reply sends `first`, then
/// goes quiet past the idle timeout (0.3 s): checked to be a 200 that ends
/// cleanly and in time, without the key. Also the upstream (kept running)
/// and when the proxy let go of its stream.
async fn sse_reply_that_goes_quiet(first: &'static str) -> (String, Arc<DropClock>, Running) {
    let (upstream, dropped) = stalling_upstream("text/event-stream", first).await;
    let proxy = start_proxy(proxy_config(&upstream, 0.3)).await;
    let started = Instant::now();
    let response = post_chat(
        &proxy.url,
        json!({"model": "m", "messages": [], "stream": true}),
    )
    .await;
    assert_eq!(response.status(), 200, "the reply had begun");
    let headers = response.headers().clone();
    let body = timeout(WAIT, response.text())
        .await
        .expect("the stream ended")
        .expect("and ended cleanly, with a frame that says why");
    assert!(started.elapsed() < Duration::from_secs(2));
    assert_no_key(&headers, &body);
    (body, dropped, upstream)
}

#[tokio::test]
async fn a_stream_that_goes_quiet_ends_with_an_sse_error_frame() {
    let (body, dropped, _upstream) = sse_reply_that_goes_quiet(
        "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Hel\"}}]}\n\n",
    )
    .await;
    let frames = frames(&body);
    assert_eq!(frames.len(), 2, "{body}");
    let error: Value = serde_json::from_str(&frames[1]).unwrap();
    assert_eq!(error["error"]["type"], "upstream_timeout");
    assert!(
        error["error"]["message"]
            .as_str()
            .unwrap()
            .contains("sent nothing for 0.3 s")
    );
    assert!(
        dropped
            .dropped_within(Duration::from_secs(2))
            .await
            .is_some(),
        "the upstream connection was closed"
    );
}

#[tokio::test]
async fn a_json_body_that_goes_quiet_is_cut_off() {
    let (upstream, _dropped) = stalling_upstream("application/json", "{\"choices\": [").await;
    let proxy = start_proxy(proxy_config(&upstream, 0.3)).await;
    let response = post_chat(&proxy.url, json!({"model": "m", "messages": []})).await;
    assert_eq!(response.status(), 200);
    // Not a short body that looks complete: the read fails.
    let read = timeout(Duration::from_secs(2), response.bytes())
        .await
        .expect("the body ended soon after the idle timeout");
    assert!(read.is_err(), "a cut-off body is an error: {read:?}");
}

#[tokio::test]
async fn a_client_that_hangs_up_mid_stream_releases_the_upstream_at_once() {
    let dropped = Arc::new(DropClock::default());
    let probe = dropped.clone();
    // Streams a frame every 50 ms for up to 5 s.
    let upstream = start_router(Router::new().route(
        "/v1/chat/completions",
        post(move || {
            let guard = probe.guard();
            async move {
                let stream = futures_util::stream::unfold((0, guard), |(step, guard)| async move {
                    if step == 100 {
                        return None;
                    }
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    Some((
                        Ok::<_, std::convert::Infallible>(chunk("tok ")),
                        (step + 1, guard),
                    ))
                });
                (
                    [("content-type", "text/event-stream")],
                    Body::from_stream(stream),
                )
            }
        }),
    ))
    .await;
    let proxy = start_proxy(upstream_config(&upstream.url)).await;
    let mut response = post_chat(
        &proxy.url,
        json!({"model": "m", "messages": [], "stream": true}),
    )
    .await;
    for _ in 0..2 {
        timeout(WAIT, response.chunk()).await.unwrap().unwrap();
    }
    assert!(
        dropped.dropped_within(Duration::ZERO).await.is_none(),
        "still streaming"
    );
    let left = Instant::now();
    drop(response);
    dropped.assert_released_soon(left, "stream").await;
}

#[tokio::test]
async fn a_client_that_hangs_up_before_the_answer_cancels_the_upstream_request() {
    let dropped = Arc::new(DropClock::default());
    let probe = dropped.clone();
    let started = Arc::new(tokio::sync::Notify::new());
    let started_tx = started.clone();
    // Thinks for up to 5 s before answering.
    let upstream = start_router(Router::new().route(
        "/v1/chat/completions",
        post(move || {
            let guard = probe.guard();
            started_tx.notify_one();
            async move {
                tokio::time::sleep(WAIT).await;
                drop(guard);
                "late"
            }
        }),
    ))
    .await;
    let proxy = start_proxy(upstream_config(&upstream.url)).await;
    let url = format!("{}/api/v1/chat/completions", proxy.url);
    let request = tokio::spawn(async move {
        let body = json!({"model": "m", "messages": [], "stream": true});
        client().post(url).json(&body).send().await
    });
    timeout(WAIT, started.notified())
        .await
        .expect("the upstream got the request");
    // The browser aborts: the client's connection closes.
    request.abort();
    let left = Instant::now();
    let _ = request.await;
    dropped.assert_released_soon(left, "request").await;
}

#[tokio::test]
async fn the_idle_timeout_is_between_pieces_not_for_the_whole_reply() {
    // Five frames 200 ms apart: a second in all, never 300 ms of silence.
    let upstream = start_router(Router::new().route(
        "/v1/chat/completions",
        post(|| async {
            let stream = futures_util::stream::unfold(0, |step| async move {
                match step {
                    0..5 => {
                        tokio::time::sleep(Duration::from_millis(200)).await;
                        Some((Ok::<_, std::convert::Infallible>(chunk("x")), step + 1))
                    }
                    5 => Some((Ok("data: [DONE]\n\n".to_owned()), step + 1)),
                    _ => None,
                }
            });
            (
                [("content-type", "text/event-stream")],
                Body::from_stream(stream),
            )
        }),
    ))
    .await;
    let proxy = start_proxy(proxy_config(&upstream, 0.3)).await;
    let response = post_chat(
        &proxy.url,
        json!({"model": "m", "messages": [], "stream": true}),
    )
    .await;
    assert_eq!(response.status(), 200);
    let body = response.text().await.unwrap();
    let frames = frames(&body);
    assert_eq!(frames.len(), 6, "{body}");
    assert!(!body.contains("error"), "{body}");
}

/// Holds a test upstream's stream until the test opens it (at most
/// `WAIT`), and remembers whether it had to give up waiting.
#[derive(Default)]
struct Gate {
    open: tokio::sync::Notify,
    timed_out: std::sync::atomic::AtomicBool,
}

impl Gate {
    async fn pass(&self) {
        if timeout(WAIT, self.open.notified()).await.is_err() {
            self.timed_out.store(true, Ordering::SeqCst);
        }
    }
}

/// The reply the LiteLLM-like upstream streams, quoting the key it got.
fn quoting_reply(key: &str) -> String {
    format!("Your key is {key}, as you sent it. Keep it safe!")
}

/// An upstream that streams a reply quoting the key it was sent three
/// characters per event, as LiteLLM's mock models do (the role on the
/// first event, no `finish_reason: null`, a finish event with an empty
/// delta, `[DONE]`), with the key in each event's `id` too. It waits at
/// `gate` before its last two content events.
async fn litellm_like_upstream(gate: Arc<Gate>) -> Running {
    let chat = move |headers: HeaderMap| {
        let gate = gate.clone();
        async move {
            let key = authorization(&headers)
                .trim_start_matches("Bearer ")
                .to_owned();
            let id = format!("chatcmpl-{key}");
            let chars: Vec<char> = quoting_reply(&key).chars().collect();
            let mut events: Vec<String> = chars
                .chunks(3)
                .enumerate()
                .map(|(n, piece)| {
                    let piece: String = piece.iter().collect();
                    let delta = match n {
                        0 => json!({"role": "assistant", "content": piece}),
                        _ => json!({"content": piece}),
                    };
                    let chunk = json!({"id": id, "object": "chat.completion.chunk", "model": "m", "choices": [{"index": 0, "delta": delta}]});
                    format!("data: {chunk}\n\n")
                })
                .collect();
            let finish = json!({"id": id, "object": "chat.completion.chunk", "model": "m", "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]});
            events.push(format!("data: {finish}\n\n"));
            events.push("data: [DONE]\n\n".to_owned());
            let gate_at = events.len() - 4;
            let stream = futures_util::stream::iter(events.into_iter().enumerate()).then(
                move |(n, event)| {
                    let gate = gate.clone();
                    async move {
                        if n == gate_at {
                            gate.pass().await;
                        }
                        Ok::<_, std::convert::Infallible>(event)
                    }
                },
            );
            (
                [("content-type", "text/event-stream")],
                Body::from_stream(stream),
            )
        }
    };
    use futures_util::StreamExt;
    start_router(Router::new().route("/v1/chat/completions", post(chat))).await
}

/// The content of the whole frames in `body`, assembled.
fn assembled_content(body: &str) -> String {
    frames(body)
        .iter()
        .filter_map(|frame| serde_json::from_str::<Value>(frame).ok())
        .filter_map(|chunk| {
            chunk["choices"][0]["delta"]["content"]
                .as_str()
                .map(str::to_owned)
        })
        .collect()
}

#[tokio::test]
async fn a_key_streamed_three_characters_per_event_is_redacted_and_still_streams() {
    let gate = Arc::new(Gate::default());
    let upstream = litellm_like_upstream(gate.clone()).await;
    let proxy = start_proxy(upstream_config(&upstream.url)).await;
    let mut response = post_chat(
        &proxy.url,
        json!({"model": "m", "messages": [], "stream": true}),
    )
    .await;
    assert_eq!(response.status(), 200);
    let headers = response.headers().clone();
    let mut body = Vec::new();
    // The reply up to past the key arrives while the upstream still holds
    // its last events: frames are passed on as they come, not gathered.
    let before_the_gate = "Your key is [redacted], as you sent it. Keep it";
    loop {
        let content = assembled_content(&String::from_utf8_lossy(&body));
        assert!(
            !content.contains(KEY),
            "the key reached the client: {content}"
        );
        if content.starts_with(before_the_gate) {
            break;
        }
        let chunk = timeout(WAIT, response.chunk())
            .await
            .expect("frames arrive before the upstream's last ones")
            .unwrap()
            .expect("the stream goes on");
        body.extend_from_slice(&chunk);
    }
    gate.open.notify_one();
    while let Some(chunk) = timeout(WAIT, response.chunk()).await.unwrap().unwrap() {
        body.extend_from_slice(&chunk);
    }
    assert!(
        !gate.timed_out.load(Ordering::SeqCst),
        "the upstream was held until the test saw the first frames"
    );
    let body = String::from_utf8(body).unwrap();
    assert_no_key(&headers, &body);
    assert_eq!(assembled_content(&body), quoting_reply("[redacted]"));
    let frames = frames(&body);
    // The upstream's content events, its finish and [DONE]: none dropped,
    // none made up.
    let content_events = quoting_reply(KEY).chars().count().div_ceil(3);
    assert_eq!(frames.len(), content_events + 2, "{body}");
    let finish: Value = serde_json::from_str(&frames[content_events]).unwrap();
    assert_eq!(finish["choices"][0]["finish_reason"], "stop");
    assert_eq!(finish["id"], "chatcmpl-[redacted]");
    assert_eq!(frames.last().map(String::as_str), Some("[DONE]"));
}

#[tokio::test]
async fn text_held_back_is_released_before_the_proxys_own_error_frame() {
    // The stream stops on a possible start of the key, then goes quiet.
    let (body, _dropped, _upstream) = sse_reply_that_goes_quiet(
        "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Key: sk-test\"}}]}\n\n",
    )
    .await;
    let frames = frames(&body);
    assert_eq!(frames.len(), 3, "{body}");
    let content = |frame: &str| {
        serde_json::from_str::<Value>(frame).unwrap()["choices"][0]["delta"]["content"].clone()
    };
    assert_eq!(content(&frames[0]), "Key: ");
    assert_eq!(
        content(&frames[1]),
        "sk-test",
        "released, as it was not the key"
    );
    let error: Value = serde_json::from_str(&frames[2]).unwrap();
    assert_eq!(error["error"]["type"], "upstream_timeout");
}
