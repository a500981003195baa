//! `/adk/...`: the relay to a Google ADK `api_server`, against a local axum
//! router playing the agent server (over loopback, common/agents.rs). The
//! path loses its `/adk` prefix and keeps its query; methods, bodies and
//! statuses pass through; `/run_sse` streams unbuffered; the browser's
//! `Origin` (which the real api_server answers with 403) and credentials
//! stay behind; without `--adk-url` every `/adk` path is a 503.
//! Only the allowed routes are relayed, and every user the page names is
//! scoped to its identity (`<identity>.<user>`); everything refused is
//! proven never to reach the agent server.

mod common;

use common::agents::*;
use common::*;
use confab_proxy::Config;
use futures_util::StreamExt;
use serde_json::{Value, json};
use tokio::time::timeout;

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

/// `run_body` as the agent server should see it from `browser`.
fn scoped_run_body(browser: &Browser, session: &str) -> Value {
    let mut body = run_body(session);
    body["user_id"] = json!(browser.scoped("u1"));
    body
}

use reqwest::Method;

#[tokio::test]
async fn without_adk_url_every_adk_path_answers_503() {
    let proxy = start_proxy(Config::for_tests()).await;
    let client = client();
    for (method, path) in [
        (Method::GET, "/adk/list-apps"),
        (Method::POST, "/adk/run_sse"),
        (Method::POST, "/adk/apps/a/users/u1/sessions"),
        (Method::DELETE, "/adk/apps/a/users/u1/sessions/s"),
        (Method::GET, "/adk"),
        (Method::GET, "/adk/"),
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
    let relay = Relay::start(Config::for_tests()).await;
    let (agents, browser) = (&relay.agents, &relay.browser);
    let user = browser.scoped("u1");
    let cases = [
        (Method::GET, "/adk/list-apps", "/list-apps".to_owned(), ""),
        (
            Method::GET,
            "/adk/list-apps?detailed=true",
            "/list-apps?detailed=true".to_owned(),
            "",
        ),
        (
            Method::POST,
            "/adk/apps/history_agent/users/u1/sessions",
            format!("/apps/history_agent/users/{user}/sessions"),
            r#"{"session_id":"s-1","state":{"k":1},"events":[]}"#,
        ),
        (
            Method::GET,
            "/adk/apps/history_agent/users/u1/sessions/s%201",
            format!("/apps/history_agent/users/{user}/sessions/s%201"),
            "",
        ),
        (
            Method::DELETE,
            "/adk/apps/history_agent/users/u1/sessions/s-1",
            format!("/apps/history_agent/users/{user}/sessions/s-1"),
            "",
        ),
    ];
    for (method, path, target, body) in cases {
        let mut request = browser.request(method.clone(), path);
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
        let seen = agents.last();
        if !body.is_empty() {
            assert_eq!(seen.header("content-type"), Some("application/json"));
        }
    }

    // The agent server's own errors come back as they are.
    let response = browser
        .post_json(
            "/adk/apps/a/users/u1/sessions",
            &json!({"session_id": "taken"}),
        )
        .await;
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
    let response = browser
        .post_json("/adk/run_sse", &run_body("missing"))
        .await;
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
    let browser = Browser::visit(&proxy.url).await;
    let response = browser.get("/adk/list-apps?x=1").await;
    assert_eq!(response.status(), 200);
    let echoed: Value = response.json().await.unwrap();
    // Nested routers see the path without their prefix.
    assert_eq!(echoed["target"], "/list-apps?x=1");
}

#[tokio::test]
async fn the_browsers_origin_and_credentials_are_not_forwarded() {
    // A model key is configured: it is for the model API only.
    let relay = Relay::start(Config {
        api_key: confab_proxy::config::ApiKey::new(KEY),
        ..Config::for_tests()
    })
    .await;
    let (agents, browser, proxy) = (&relay.agents, &relay.browser, &relay.proxy);
    // What a same-origin page's fetch sends on a POST: its (the proxy's)
    // Origin, Sec-Fetch-Site, cookies (the identity cookie among them).
    let response = client()
        .post(format!("{}/adk/apps/a/users/u1/sessions", proxy.url))
        .header("origin", &proxy.url)
        .header("sec-fetch-site", "same-origin")
        .header(
            "cookie",
            format!("session=browser-cookie; {}", browser.cookie),
        )
        .header("authorization", "Bearer page-token")
        .header("referer", format!("{}/", proxy.url))
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let seen = agents.last();
    for name in [
        "origin",
        "cookie",
        "authorization",
        "referer",
        "sec-fetch-site",
    ] {
        assert_eq!(seen.header(name), None, "{name} was forwarded: {seen:?}");
    }
    let cookie_value = browser.cookie.split_once('=').unwrap().1;
    for (name, value) in &seen.headers {
        assert!(
            !value.contains(KEY),
            "the model key reached the agent server in {name}"
        );
        assert!(
            !value.contains(cookie_value),
            "the identity cookie reached the agent server in {name}"
        );
    }
    // Host names the agent server (the api_server refuses other hosts).
    let agent_host = relay.agents_server.url.trim_start_matches("http://");
    assert_eq!(seen.header("host"), Some(agent_host));
}

#[tokio::test]
async fn run_sse_streams_unbuffered() {
    let relay = Relay::start(Config::for_tests()).await;
    let (agents, browser) = (&relay.agents, &relay.browser);
    let response = browser.post_json("/adk/run_sse", &run_body("s-1")).await;
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
    assert_eq!(agents.last().json(), scoped_run_body(browser, "s-1"));
}

#[tokio::test]
async fn a_client_that_hangs_up_releases_the_agent_server() {
    let relay = Relay::start(Config::for_tests()).await;
    let (agents, browser) = (&relay.agents, &relay.browser);
    let response = browser.post_json("/adk/run_sse", &run_body("s-1")).await;
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
    let relay = Relay::start(Config {
        upstream_idle_timeout_secs: 0.3,
        ..Config::for_tests()
    })
    .await;
    let response = relay
        .browser
        .post_json("/adk/run_sse", &run_body("silent"))
        .await;
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
    let browser = Browser::visit(&proxy.url).await;
    let response = browser.get("/adk/list-apps").await;
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
    let relay = Relay::start(Config {
        // Slow refill: no token comes back during the test.
        rate_limit_per_sec: 0.2,
        rate_limit_burst: 2,
        ..Config::for_tests()
    })
    .await;
    let (agents, browser) = (&relay.agents, &relay.browser);
    // A page on another site: refused before it reaches the agent server
    // (and before it costs a token).
    let response = browser
        .request(Method::POST, "/adk/run_sse")
        .header("origin", "http://evil.example")
        .header("sec-fetch-site", "cross-site")
        .json(&run_body("s-1"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 403);
    assert_eq!(agents.count(), 0);

    for _ in 0..2 {
        let response = browser.get("/adk/list-apps").await;
        assert_eq!(response.status(), 200);
    }
    let response = browser.get("/adk/list-apps").await;
    assert_eq!(response.status(), 429);
    assert!(response.headers().contains_key("retry-after"));
    assert_eq!(agents.count(), 2);
    // In cookie mode the bucket is the address's: a fresh identity from
    // the same address gets no new tokens.
    let other = Browser::visit(&relay.proxy.url).await;
    assert_eq!(other.get("/adk/list-apps").await.status(), 429);
}

/// The error an answer carries: status, `type`, `code`, and its message.
async fn error_of(response: reqwest::Response) -> (u16, String, String, String) {
    let status = response.status().as_u16();
    let body: Value = response.json().await.unwrap();
    let field = |name: &str| body["error"][name].as_str().unwrap_or("").to_owned();
    (status, field("type"), field("code"), field("message"))
}

#[tokio::test]
async fn the_user_is_scoped_on_every_allowed_route() {
    let relay = Relay::start(Config::for_tests()).await;
    let (agents, browser) = (&relay.agents, &relay.browser);
    let me = browser.identity().to_owned();
    let sessions = format!("/apps/app/users/{me}.local/sessions");
    let cases = [
        (
            Method::GET,
            "/adk/list-apps".to_owned(),
            "/list-apps".to_owned(),
        ),
        (
            Method::GET,
            "/adk/apps/app/app-info".to_owned(),
            "/apps/app/app-info".to_owned(),
        ),
        (
            Method::GET,
            "/adk/apps/app/users/local/sessions".to_owned(),
            sessions.clone(),
        ),
        (
            Method::POST,
            "/adk/apps/app/users/local/sessions".to_owned(),
            sessions.clone(),
        ),
        (
            Method::GET,
            "/adk/apps/app/users/local/sessions/s1".to_owned(),
            format!("{sessions}/s1"),
        ),
        (
            Method::POST,
            "/adk/apps/app/users/local/sessions/s1".to_owned(),
            format!("{sessions}/s1"),
        ),
        (
            Method::DELETE,
            "/adk/apps/app/users/local/sessions/s1".to_owned(),
            format!("{sessions}/s1"),
        ),
        (
            Method::GET,
            "/adk/apps/app/users/local/sessions/s1/artifacts".to_owned(),
            format!("{sessions}/s1/artifacts"),
        ),
        (
            Method::GET,
            "/adk/apps/app/users/local/sessions/s1/artifacts/chart.png".to_owned(),
            format!("{sessions}/s1/artifacts/chart.png"),
        ),
        (
            Method::GET,
            "/adk/apps/app/users/local/sessions/s1/artifacts/a.png?version=2".to_owned(),
            format!("{sessions}/s1/artifacts/a.png?version=2"),
        ),
        (
            Method::GET,
            "/adk/apps/app/users/local/sessions/s1/artifacts/a.png/versions".to_owned(),
            format!("{sessions}/s1/artifacts/a.png/versions"),
        ),
        (
            Method::GET,
            "/adk/apps/app/users/local/sessions/s1/artifacts/a.png/versions/2".to_owned(),
            format!("{sessions}/s1/artifacts/a.png/versions/2"),
        ),
        (
            Method::GET,
            "/adk/apps/app/users/local/sessions/s1/artifacts/a.png/versions/metadata".to_owned(),
            format!("{sessions}/s1/artifacts/a.png/versions/metadata"),
        ),
        (
            Method::GET,
            "/adk/apps/app/users/local/sessions/s1/artifacts/a.png/versions/2/metadata".to_owned(),
            format!("{sessions}/s1/artifacts/a.png/versions/2/metadata"),
        ),
        // Percent-encoded segments: decoded for the check, encoded again.
        (
            Method::GET,
            "/adk/apps/my%20app/users/ada%2Dl/sessions/s%3A1".to_owned(),
            format!("/apps/my%20app/users/{me}.ada-l/sessions/s%3A1"),
        ),
        // The id the agent server answered with, sent back: unchanged.
        (
            Method::GET,
            format!("/adk/apps/app/users/{me}.local/sessions"),
            sessions.clone(),
        ),
        (
            Method::GET,
            format!("/adk/apps/app/users/{me}%2Elocal/sessions"),
            sessions.clone(),
        ),
    ];
    for (i, (method, path, target)) in cases.iter().enumerate() {
        let response = browser.request(method.clone(), path).send().await.unwrap();
        assert_eq!(response.status(), 200, "{method} {path}");
        assert_eq!(agents.count(), i + 1, "{method} {path}");
        let seen = agents.last();
        assert_eq!(seen.method, method.as_str());
        assert_eq!(&seen.target, target, "{method} {path}");
    }

    // The restore body (session id, state, events) goes on unchanged.
    let restore =
        json!({"session_id": "s-9", "state": {"k": 1}, "events": [{"id": "e1", "author": "user"}]});
    let response = browser
        .post_json("/adk/apps/app/users/local/sessions", &restore)
        .await;
    assert_eq!(response.status(), 200);
    assert_eq!(agents.last().target, sessions);
    assert_eq!(agents.last().json(), restore);

    // /run_sse: the user in the body, in either spelling.
    for (sent, forwarded) in [
        (
            json!({"app_name": "app", "user_id": "local", "session_id": "s1", "streaming": true}),
            json!({"app_name": "app", "user_id": format!("{me}.local"), "session_id": "s1", "streaming": true}),
        ),
        (
            json!({"appName": "app", "userId": "local", "sessionId": "s1"}),
            json!({"appName": "app", "userId": format!("{me}.local"), "sessionId": "s1"}),
        ),
        (
            json!({"app_name": "app", "user_id": format!("{me}.local"), "session_id": "s1"}),
            json!({"app_name": "app", "user_id": format!("{me}.local"), "session_id": "s1"}),
        ),
    ] {
        let response = browser.post_json("/adk/run_sse", &sent).await;
        assert_eq!(response.status(), 200, "{sent}");
        // The run began: the agent server has the body. Stop it there.
        drop(response);
        let seen = agents.last();
        assert_eq!(seen.target, "/run_sse");
        assert_eq!(seen.json(), forwarded);
    }
}

#[tokio::test]
async fn two_identities_reach_two_different_users() {
    let relay = Relay::start(Config::for_tests()).await;
    let (agents, ada) = (&relay.agents, &relay.browser);
    let bob = Browser::visit(&relay.proxy.url).await;
    assert_ne!(ada.identity(), bob.identity());
    // Both pages use the default profile, `local`.
    for browser in [ada, &bob] {
        let response = browser.get("/adk/apps/app/users/local/sessions").await;
        assert_eq!(response.status(), 200);
    }
    let targets: Vec<String> = agents.seen().into_iter().map(|s| s.target).collect();
    assert_eq!(
        targets,
        [
            format!("/apps/app/users/{}.local/sessions", ada.identity()),
            format!("/apps/app/users/{}.local/sessions", bob.identity()),
        ]
    );
}

#[tokio::test]
async fn another_identitys_user_is_a_403_and_never_forwarded() {
    let relay = Relay::start(Config::for_tests()).await;
    let (agents, ada) = (&relay.agents, &relay.browser);
    let bob = Browser::visit(&relay.proxy.url).await;
    let theirs = bob.scoped("local");
    for path in [
        format!("/adk/apps/app/users/{theirs}/sessions"),
        format!("/adk/apps/app/users/{theirs}/sessions/s1"),
        format!("/adk/apps/app/users/{}%2Elocal/sessions", bob.identity()),
        format!("/adk/apps/app/users/{theirs}/sessions/s1/artifacts"),
        format!("/adk/apps/app/users/{theirs}/sessions/s1/artifacts/chart.png"),
        format!("/adk/apps/app/users/{theirs}/sessions/s1/artifacts/chart.png?version=0"),
        format!("/adk/apps/app/users/{theirs}/sessions/s1/artifacts/chart.png/versions/0"),
        "/adk/apps/app/users/any.thing/sessions".to_owned(),
    ] {
        let (status, kind, code, message) = error_of(ada.get(&path).await).await;
        assert_eq!(
            (status, kind.as_str(), code.as_str()),
            (403, "permission_error", "user_not_yours"),
            "{path}"
        );
        assert!(message.contains("another person"), "{message}");
    }
    let response = ada
        .post_json(
            "/adk/run_sse",
            &json!({"app_name": "app", "user_id": theirs, "session_id": "s1"}),
        )
        .await;
    assert_eq!(error_of(response).await.0, 403);
    assert_eq!(agents.count(), 0, "{:?}", agents.seen());
}

#[tokio::test]
async fn invalid_users_and_paths_are_a_400_and_never_forwarded() {
    let relay = Relay::start(Config::for_tests()).await;
    let (agents, browser) = (&relay.agents, &relay.browser);
    let long = "u".repeat(65);
    for (path, code) in [
        (
            "/adk/apps/app/users/ada%20lovelace/sessions",
            "invalid_user_id",
        ),
        ("/adk/apps/app/users/%C3%BC/sessions", "invalid_user_id"),
        (
            &format!("/adk/apps/app/users/{long}/sessions"),
            "invalid_user_id",
        ),
        ("/adk/apps/app/users/u%2F1/sessions", "invalid_user_id"),
        // (A bare `..` is resolved by the client's URL parser before it
        // is sent; adk.rs's unit tests cover it.)
        ("/adk/apps/app/users/local/sessions/s1%2F..", "invalid_path"),
        (
            "/adk/apps/x%2Fusers%2Fv%2Fsessions%2Fs%2Fartifacts/users/local/sessions",
            "invalid_path",
        ),
        (
            "/adk/apps/app/users/local/sessions/s1/artifacts/x%2F..%2F..%2Fy",
            "invalid_path",
        ),
    ] {
        let (status, kind, got, _) = error_of(browser.get(path).await).await;
        assert_eq!(
            (status, kind.as_str(), got.as_str()),
            (400, "invalid_request_error", code),
            "{path}"
        );
    }
    for (body, code) in [
        (
            json!({"app_name": "app", "session_id": "s1"}),
            "missing_user_id",
        ),
        (
            json!({"app_name": "app", "user_id": "a b", "session_id": "s1"}),
            "invalid_user_id",
        ),
        (
            json!({"app_name": "app", "user_id": 7, "session_id": "s1"}),
            "invalid_user_id",
        ),
    ] {
        let response = browser.post_json("/adk/run_sse", &body).await;
        let (status, _, got, message) = error_of(response).await;
        assert_eq!((status, got.as_str()), (400, code), "{body}");
        if code == "missing_user_id" {
            assert!(message.contains("user_id"), "{message}");
        }
    }
    let response = browser
        .request(Method::POST, "/adk/run_sse")
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(error_of(response).await.0, 400);
    assert_eq!(agents.count(), 0, "{:?}", agents.seen());
}

#[tokio::test]
async fn only_the_allowed_routes_and_methods_reach_the_agent_server() {
    let relay = Relay::start(Config::for_tests()).await;
    let (agents, browser) = (&relay.agents, &relay.browser);
    let user = "/adk/apps/app/users/local";
    for (method, path) in [
        (Method::POST, "/adk/run".to_owned()),
        (Method::GET, "/adk/run_sse".to_owned()),
        (Method::GET, "/adk/run_live".to_owned()),
        (Method::GET, "/adk".to_owned()),
        (Method::GET, "/adk/".to_owned()),
        (Method::GET, "/adk/health".to_owned()),
        (Method::GET, "/adk/version".to_owned()),
        (Method::POST, "/adk/list-apps".to_owned()),
        (Method::GET, "/adk/list-apps/".to_owned()),
        (Method::GET, "/adk/dev-ui/".to_owned()),
        (Method::GET, "/adk/dev/apps/app/tests".to_owned()),
        (Method::POST, "/adk/dev/apps/app/deploy".to_owned()),
        (Method::GET, "/adk/dev/apps/app/debug/trace/e1".to_owned()),
        (Method::GET, "/adk/debug/trace/e1".to_owned()),
        (Method::POST, "/adk/builder/save".to_owned()),
        (Method::GET, "/adk/apps/app/eval_sets".to_owned()),
        (
            Method::POST,
            "/adk/apps/app/eval_sets/x/add_session".to_owned(),
        ),
        (Method::GET, "/adk/apps/app/eval_results".to_owned()),
        (Method::POST, "/adk/agent-identity/finalize".to_owned()),
        (Method::PATCH, format!("{user}/memory")),
        (Method::PATCH, format!("{user}/sessions/s1")),
        (Method::PUT, format!("{user}/sessions/s1")),
        (Method::DELETE, format!("{user}/sessions")),
        (Method::POST, format!("{user}/sessions/s1/artifacts")),
        (
            Method::DELETE,
            format!("{user}/sessions/s1/artifacts/a.png"),
        ),
        (Method::GET, format!("{user}/sessions/s1/events")),
        (Method::GET, user.to_owned()),
    ] {
        let response = browser
            .request(method.clone(), &path)
            .json(&json!({"user_id": "local", "session_id": "s1"}))
            .send()
            .await
            .unwrap();
        let (status, kind, code, message) = error_of(response).await;
        assert_eq!(
            (status, kind.as_str(), code.as_str()),
            (404, "not_found", "adk_route_not_allowed"),
            "{method} {path}"
        );
        assert!(
            message.contains(&format!("{method} {path}"))
                && message.contains("One deployment, many people"),
            "{message}"
        );
    }
    // ADK's internal apps (the agent builder has file tools).
    for (method, path, body) in [
        (Method::GET, "/adk/apps/__builder/app-info", json!({})),
        (
            Method::GET,
            "/adk/apps/__builder/users/local/sessions",
            json!({}),
        ),
        (
            Method::POST,
            "/adk/run_sse",
            json!({"app_name": "__builder", "user_id": "local", "session_id": "s1"}),
        ),
    ] {
        let response = browser
            .request(method.clone(), path)
            .json(&body)
            .send()
            .await
            .unwrap();
        let (status, _, code, _) = error_of(response).await;
        assert_eq!(
            (status, code.as_str()),
            (404, "adk_route_not_allowed"),
            "{method} {path}"
        );
    }
    assert_eq!(agents.count(), 0, "{:?}", agents.seen());
}

#[tokio::test]
async fn without_a_valid_identity_nothing_reaches_the_agent_server() {
    let relay = Relay::start(Config::for_tests()).await;
    let (agents, browser) = (&relay.agents, &relay.browser);
    let value = browser.cookie.split_once('=').unwrap().1.to_owned();
    let mut flipped = value.clone();
    let last = flipped.pop().unwrap();
    flipped.push(if last == '0' { '1' } else { '0' });
    let other_id = format!("v1.{}{}", "0".repeat(32), &value[3 + 32..]);
    for cookie in [
        None,
        Some("other=1".to_owned()),
        Some(format!("confab_identity={flipped}")),
        Some(format!("confab_identity={other_id}")),
        Some("confab_identity=v1.garbage".to_owned()),
        Some("confab_identity=".to_owned()),
    ] {
        for (method, path, body) in [
            (Method::GET, "/adk/list-apps", None),
            (Method::GET, "/adk/apps/app/users/local/sessions", None),
            (Method::POST, "/adk/run_sse", Some(run_body("s-1"))),
        ] {
            let mut request =
                client().request(method.clone(), format!("{}{path}", relay.proxy.url));
            if let Some(cookie) = &cookie {
                request = request.header("cookie", cookie);
            }
            if let Some(body) = &body {
                request = request.json(body);
            }
            let response = request.send().await.unwrap();
            // The answer brings a fresh cookie: the page retries once with it.
            let fresh = issued_cookie(&response);
            assert_ne!(fresh, browser.cookie);
            let (status, kind, code, message) = error_of(response).await;
            assert_eq!(
                (status, kind.as_str(), code.as_str()),
                (401, "authentication_error", "identity_required"),
                "{cookie:?} {method} {path}"
            );
            assert!(message.contains("send the request again"), "{message}");
        }
    }
    assert_eq!(agents.count(), 0, "{:?}", agents.seen());
}
