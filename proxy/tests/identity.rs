//! Identities: the `confab_identity` cookie (issued on a first visit, its
//! attributes, checked on every request), the trusted user header mode
//! and its per-person rate limit, and the server key (the key file made
//! once, reused after a restart, and `CONFAB_IDENTITY_KEY` before it).

mod common;

use std::io::{BufRead, BufReader};
use std::net::{IpAddr, Ipv4Addr};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use common::agents::*;
use common::*;
use confab_proxy::Config;
use confab_proxy::config::TEST_IDENTITY_KEY;
use confab_proxy::identity::{Identities, Identity, ServerKey};
use reqwest::Method;
use serde_json::{Value, json};

const DAY: u64 = 86_400;

fn with_agents(url: &str) -> Config {
    Config {
        adk_url: Some(url.to_owned()),
        ..Config::for_tests()
    }
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// A cookie the proxy would issue, signed here with `key`.
fn cookie_signed_with(key: &[u8], id: &str, issued: u64) -> String {
    let identities = Identities::new(ServerKey::new(key), None, None);
    let value = identities.cookie_value(&Identity::parse(id).unwrap(), issued);
    format!("confab_identity={value}")
}

async fn get_with(base: &str, path: &str, headers: &[(&str, &str)]) -> reqwest::Response {
    let mut request = client().get(format!("{base}{path}"));
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    request.send().await.unwrap()
}

#[tokio::test]
async fn a_first_visit_gets_an_identity_cookie_with_the_documented_attributes() {
    let dist = tempfile::tempdir().unwrap();
    std::fs::write(dist.path().join("index.html"), "<!doctype html>").unwrap();
    let proxy = start_proxy(Config {
        dist: Some(dist.path().to_owned()),
        ..Config::for_tests()
    })
    .await;
    let mut seen = Vec::new();
    // The page itself, any API route, the health check: every route.
    for path in ["/", "/healthz", "/api/v1/models"] {
        let response = http_get(format!("{}{path}", proxy.url)).await;
        assert_eq!(response.status(), 200, "{path}");
        let set = identity_set_cookies(&response);
        assert_eq!(set.len(), 1, "{path}: {set:?}");
        let attributes: Vec<&str> = set[0].split("; ").collect();
        assert_eq!(
            attributes[1..],
            ["Path=/", "Max-Age=34560000", "HttpOnly", "SameSite=Strict"],
            "{path}: no Secure over plain HTTP"
        );
        // Never kept by a shared cache for the next person (the page is
        // revalidated anyway: app_files.rs).
        let cache = if path == "/" {
            "no-cache, private"
        } else {
            "private"
        };
        assert_eq!(response.headers()["cache-control"], cache, "{path}");
        let value = attributes[0].strip_prefix("confab_identity=").unwrap();
        let parts: Vec<&str> = value.split('.').collect();
        assert_eq!(parts.len(), 4, "{value}");
        assert_eq!(parts[0], "v1");
        assert!(Identity::parse(parts[1]).is_some(), "{value}");
        let issued: u64 = parts[2].parse().unwrap();
        assert!(issued.abs_diff(now()) < 60, "{value}");
        assert_eq!(parts[3].len(), 64, "{value}");
        seen.push(parts[1].to_owned());
    }
    seen.sort();
    seen.dedup();
    assert_eq!(
        seen.len(),
        3,
        "every new browser gets an identity of its own"
    );
}

#[tokio::test]
async fn the_cookie_is_secure_when_the_browser_came_over_https() {
    let proxy = start_proxy(Config::for_tests()).await;
    for (headers, secure) in [
        (vec![("x-forwarded-proto", "https")], true),
        (
            vec![("forwarded", "for=192.0.2.60;proto=https;by=203.0.113.43")],
            true,
        ),
        (vec![("x-forwarded-proto", "http")], false),
        (vec![], false),
    ] {
        let response = get_with(&proxy.url, "/healthz", &headers).await;
        let set = identity_set_cookies(&response);
        assert_eq!(set.len(), 1);
        assert_eq!(
            set[0].ends_with("; Secure"),
            secure,
            "{headers:?}: {}",
            set[0]
        );
    }
}

#[tokio::test]
async fn a_valid_cookie_gets_no_new_one() {
    let relay = Relay::start(Config::for_tests()).await;
    let (agents, browser) = (&relay.agents, &relay.browser);
    for path in [
        "/healthz",
        "/api/v1/models",
        "/adk/list-apps",
        "/adk/apps/a/users/local/sessions",
    ] {
        let response = browser.get(path).await;
        assert_eq!(response.status(), 200, "{path}");
        assert_eq!(
            identity_set_cookies(&response),
            Vec::<String>::new(),
            "{path}"
        );
    }
    assert_eq!(agents.count(), 2);
    // Signed under the server's key by anyone who has it: the format is
    // the contract.
    let id = "00112233445566778899aabbccddeeff";
    let cookie = cookie_signed_with(TEST_IDENTITY_KEY.as_bytes(), id, now());
    let response = get_with(
        &relay.proxy.url,
        "/adk/apps/a/users/local/sessions",
        &[("cookie", &cookie)],
    )
    .await;
    assert_eq!(response.status(), 200);
    assert_eq!(
        agents.last().target,
        format!("/apps/a/users/{id}.local/sessions")
    );
}

#[tokio::test]
async fn a_link_from_another_site_does_not_replace_the_identity() {
    // A SameSite=Strict cookie is not sent when another site links here;
    // a fresh cookie in that answer would overwrite the browser's own.
    let proxy = start_proxy(Config::for_tests()).await;
    let response = get_with(&proxy.url, "/healthz", &[("sec-fetch-site", "cross-site")]).await;
    assert_eq!(response.status(), 200);
    assert_eq!(identity_set_cookies(&response), Vec::<String>::new());
    let typed = get_with(&proxy.url, "/healthz", &[("sec-fetch-site", "none")]).await;
    assert_eq!(identity_set_cookies(&typed).len(), 1);
}

#[tokio::test]
async fn with_a_max_age_an_older_cookie_is_refused() {
    let (agents_server, agents) = start_agents("").await;
    let proxy = start_proxy(Config {
        identity_max_age_days: Some(1),
        ..with_agents(&agents_server.url)
    })
    .await;
    let fresh = identity_set_cookies(&http_get(format!("{}/healthz", proxy.url)).await);
    assert!(fresh[0].contains("; Max-Age=86400;"), "{fresh:?}");

    let id = "00112233445566778899aabbccddeeff";
    let young = cookie_signed_with(TEST_IDENTITY_KEY.as_bytes(), id, now() - DAY + 3600);
    let response = get_with(&proxy.url, "/adk/list-apps", &[("cookie", &young)]).await;
    assert_eq!(response.status(), 200);
    assert_eq!(identity_set_cookies(&response), Vec::<String>::new());
    assert_eq!(agents.count(), 1);

    let old = cookie_signed_with(TEST_IDENTITY_KEY.as_bytes(), id, now() - DAY - 3600);
    let response = get_with(&proxy.url, "/adk/list-apps", &[("cookie", &old)]).await;
    assert_eq!(response.status(), 401);
    let renewed = issued_cookie(&response);
    assert_ne!(
        identity_of(&renewed),
        id,
        "a new identity, not the old one renewed"
    );
    assert_eq!(agents.count(), 1, "nothing more reached the agent server");

    // A cookie signed under another key is no better.
    let forged = cookie_signed_with(b"not the server's key, but 32+ characters", id, now());
    let response = get_with(&proxy.url, "/adk/list-apps", &[("cookie", &forged)]).await;
    assert_eq!(response.status(), 401);
    assert_eq!(agents.count(), 1);
}

const EMAIL: &str = "x-forwarded-email";

fn trusting(agents_url: &str) -> Config {
    Config {
        trust_user_header: Some(EMAIL.parse().unwrap()),
        ..with_agents(agents_url)
    }
}

/// A client on loopback address `from` (all of 127/8 is loopback on Linux).
fn client_from(from: Ipv4Addr) -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(WAIT)
        .local_address(IpAddr::V4(from))
        .build()
        .unwrap()
}

#[tokio::test]
async fn a_trusted_header_names_the_same_person_on_every_device() {
    let (agents_server, agents) = start_agents("").await;
    let proxy = start_proxy(trusting(&agents_server.url)).await;
    let laptop = client_from(Ipv4Addr::new(127, 0, 0, 1));
    let phone = client_from(Ipv4Addr::new(127, 0, 0, 2));
    for (device, who) in [
        (&laptop, "ada@example.com"),
        (&phone, "ada@example.com"),
        (&laptop, "bob@example.com"),
    ] {
        let response = device
            .get(format!("{}/adk/apps/a/users/local/sessions", proxy.url))
            .header(EMAIL, who)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "{who}");
        assert_eq!(
            identity_set_cookies(&response),
            Vec::<String>::new(),
            "no cookie in this mode"
        );
    }
    let users: Vec<String> = agents
        .seen()
        .iter()
        .map(|seen| seen.target.split('/').nth(4).unwrap().to_owned())
        .collect();
    // The identity is HMAC(key, "user-header:" + value), cut to 128 bits.
    let identities = Identities::new(ServerKey::new(TEST_IDENTITY_KEY.as_bytes()), None, None);
    let ada = identities.for_user_header(b"ada@example.com");
    assert_eq!(users[0], format!("{ada}.local"));
    assert_eq!(users[1], users[0], "one person on two devices: one user");
    assert_ne!(users[2], users[0], "another person: another user");
    for user in &users {
        assert!(
            !user.contains("example.com"),
            "the header's value is not sent on: {user}"
        );
    }
}

#[tokio::test]
async fn in_trusted_header_mode_a_request_without_the_header_is_a_401() {
    let (agents_server, agents) = start_agents("").await;
    let proxy = start_proxy(trusting(&agents_server.url)).await;
    // Not even a cookie the proxy would otherwise accept counts.
    let cookie = cookie_signed_with(
        TEST_IDENTITY_KEY.as_bytes(),
        "00112233445566778899aabbccddeeff",
        now(),
    );
    for headers in [
        vec![],
        vec![("cookie", cookie.as_str())],
        vec![(EMAIL, "  ")],
        // A client's own copy next to the one a proxy added.
        vec![(EMAIL, "eve@example.com"), (EMAIL, "ada@example.com")],
    ] {
        let response = get_with(&proxy.url, "/adk/list-apps", &headers).await;
        assert_eq!(identity_set_cookies(&response), Vec::<String>::new());
        assert_eq!(response.status(), 401, "{headers:?}");
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["error"]["code"], "user_header_required");
        let message = body["error"]["message"].as_str().unwrap();
        assert!(message.contains("x-forwarded-email header"), "{message}");
    }
    let response = http_get(format!("{}/healthz", proxy.url)).await;
    assert_eq!(identity_set_cookies(&response), Vec::<String>::new());
    assert_eq!(agents.count(), 0);
}

#[tokio::test]
async fn in_trusted_header_mode_the_rate_limit_is_per_person() {
    let proxy = start_proxy(Config {
        trust_user_header: Some(EMAIL.parse().unwrap()),
        // Slow refill: no token comes back during the test.
        rate_limit_per_sec: 0.2,
        rate_limit_burst: 2,
        ..Config::for_tests()
    })
    .await;
    // Everyone comes from the authenticating proxy's one address.
    let from_the_proxy = client_from(Ipv4Addr::new(127, 0, 0, 1));
    let models = |who: Option<&'static str>| {
        let mut request = from_the_proxy.get(format!("{}/api/v1/models", proxy.url));
        if let Some(who) = who {
            request = request.header(EMAIL, who);
        }
        async move { request.send().await.unwrap() }
    };
    for who in [Some("ada@example.com"), Some("bob@example.com"), None] {
        for _ in 0..2 {
            assert_eq!(models(who).await.status(), 200, "{who:?}");
        }
        let limited = models(who).await;
        assert_eq!(limited.status(), 429, "{who:?}");
        let body: Value = limited.json().await.unwrap();
        let message = body["error"]["message"].as_str().unwrap();
        let whose = if who.is_some() {
            "this person"
        } else {
            "this address"
        };
        assert!(
            message.starts_with(&format!("Too many requests from {whose}")),
            "{message}"
        );
    }
    // Another person still has a full bucket.
    assert_eq!(models(Some("cy@example.com")).await.status(), 200);
}

/// The mode bits of `path`.
fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

/// A browser visits a proxy started with `key_file` (and no key given);
/// `between` runs; then the proxy restarts and the same browser asks for
/// its sessions. The agent server, and the answer after the restart.
async fn across_a_restart(
    key_file: &Path,
    between: impl FnOnce(),
) -> (Arc<Agents>, Browser, reqwest::Response) {
    let (agents_server, agents) = start_agents("").await;
    let config = Config {
        identity_key: None,
        identity_key_file: Some(key_file.to_owned()),
        ..with_agents(&agents_server.url)
    };
    let first = start_proxy(config.clone()).await;
    let browser = Browser::visit(&first.url).await;
    assert_eq!(browser.get("/adk/list-apps").await.status(), 200);
    between();
    drop(first);
    let second = start_proxy(config).await;
    let cookie = [("cookie", browser.cookie.as_str())];
    let response = get_with(&second.url, "/adk/apps/a/users/local/sessions", &cookie).await;
    (agents, browser, response)
}

#[tokio::test]
async fn the_key_file_is_made_once_and_identities_survive_a_restart() {
    let state = tempfile::tempdir().unwrap();
    let key_file = state.path().join("confab-proxy/identity-key");
    let mut key = String::new();
    let (agents, browser, response) = across_a_restart(&key_file, || {
        key = std::fs::read_to_string(&key_file).expect("the key file was made");
    })
    .await;
    assert_eq!(
        key.len(),
        65,
        "32 random bytes in hex, and a newline: {key:?}"
    );
    assert!(key.trim_end().bytes().all(|b| b.is_ascii_hexdigit()));
    assert_eq!(mode(&key_file), 0o600);
    assert_eq!(mode(key_file.parent().unwrap()), 0o700);
    assert_eq!(
        std::fs::read_to_string(&key_file).unwrap(),
        key,
        "the key was not made again"
    );

    assert_eq!(
        response.status(),
        200,
        "the identity issued before the restart is valid"
    );
    assert_eq!(identity_set_cookies(&response), Vec::<String>::new());
    assert_eq!(
        agents.last().target,
        format!("/apps/a/users/{}/sessions", browser.scoped("local"))
    );
}

#[tokio::test]
async fn without_a_usable_key_file_the_proxy_still_starts_with_a_key_for_this_run() {
    let state = tempfile::tempdir().unwrap();
    // Its folder is a file: the key file can be neither read nor made.
    let blocker = state.path().join("not-a-folder");
    std::fs::write(&blocker, "").unwrap();
    let (agents, _, response) = across_a_restart(&blocker.join("identity-key"), || {}).await;
    assert_eq!(
        response.status(),
        401,
        "a key for one run only: identities do not survive a restart"
    );
    assert_eq!(agents.count(), 1, "only the request before the restart");
}

/// The confab-proxy binary, run with exactly `env`, killed when dropped.
struct Spawned {
    child: Child,
    url: String,
}

impl Spawned {
    fn start(env: &[(&str, &Path)], extra: &[(&str, &str)]) -> Self {
        let mut command = Command::new(env!("CARGO_BIN_EXE_confab-proxy"));
        command
            .args(["--listen", "127.0.0.1:0"])
            .env_clear()
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null());
        for (name, value) in env {
            command.env(name, value);
        }
        for (name, value) in extra {
            command.env(name, value);
        }
        let mut child = command.spawn().unwrap();
        let stdout = child.stdout.take().unwrap();
        let mut spawned = Self {
            child,
            url: String::new(),
        };
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Some(url) = line.strip_prefix("confab-proxy listening on ") {
                    let _ = tx.send(url.to_owned());
                }
            }
        });
        // On failure, `spawned` is dropped here and kills the process.
        spawned.url = rx.recv_timeout(WAIT).expect("confab-proxy did not start");
        spawned
    }
}

impl Drop for Spawned {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[tokio::test]
async fn the_key_file_defaults_to_the_state_folder() {
    let home = tempfile::tempdir().unwrap();
    let proxy = Spawned::start(&[("HOME", home.path())], &[]);
    identity_cookie(&proxy.url).await;
    let key_file = home.path().join(".local/state/confab-proxy/identity-key");
    assert_eq!(mode(&key_file), 0o600);
    drop(proxy);

    let state = tempfile::tempdir().unwrap();
    let proxy = Spawned::start(
        &[("HOME", home.path()), ("XDG_STATE_HOME", state.path())],
        &[],
    );
    identity_cookie(&proxy.url).await;
    assert_eq!(mode(&state.path().join("confab-proxy/identity-key")), 0o600);
}

#[tokio::test]
async fn confab_identity_key_comes_before_the_key_file() {
    let (agents_server, agents) = start_agents("").await;
    let home = tempfile::tempdir().unwrap();
    let key_file = home.path().join("identity-key");
    let env = [
        ("HOME", home.path()),
        ("CONFAB_IDENTITY_KEY_FILE", key_file.as_path()),
    ];
    let key = "an identity key given by environment, 32+ characters";
    let settings = [
        ("CONFAB_IDENTITY_KEY", key),
        ("CONFAB_ADK_URL", agents_server.url.as_str()),
    ];
    let first = Spawned::start(&env, &settings);
    let browser = Browser::visit(&first.url).await;
    assert!(!key_file.exists(), "no key file with CONFAB_IDENTITY_KEY");
    assert!(!home.path().join(".local").exists());
    drop(first);

    // The same key after a restart: the same identities.
    let second = Spawned::start(&env, &settings);
    let response = get_with(
        &second.url,
        "/adk/list-apps",
        &[("cookie", &browser.cookie)],
    )
    .await;
    assert_eq!(response.status(), 200);
    // And it is that key: a cookie signed with it is valid.
    let id = "00112233445566778899aabbccddeeff";
    let cookie = cookie_signed_with(key.as_bytes(), id, now());
    let response = client()
        .request(Method::POST, format!("{}/adk/run_sse", second.url))
        .header("cookie", &cookie)
        .json(&json!({"app_name": "a", "user_id": "local", "session_id": "missing"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 404, "the agent server's own answer");
    assert_eq!(agents.last().json()["user_id"], format!("{id}.local"));
    assert_eq!(agents.count(), 2);
    assert!(!key_file.exists());
}

/// Runs the binary with `args` and only `env`, expecting it to exit by
/// itself (a proxy that starts serving instead is killed, and `None`
/// returned): its status, and stdout then stderr.
fn run_to_exit(args: &[&str], env: &[(&str, &str)]) -> Option<(std::process::ExitStatus, String)> {
    let mut child = Command::new(env!("CARGO_BIN_EXE_confab-proxy"))
        .args(args)
        .env_clear()
        .envs(env.iter().copied())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Bounded. Its output (a few lines) fits the pipes while it runs.
    let deadline = std::time::Instant::now() + WAIT;
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            return None;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let mut output = String::new();
    std::io::Read::read_to_string(&mut child.stdout.take().unwrap(), &mut output).unwrap();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut output).unwrap();
    Some((status, output))
}

#[test]
fn a_short_identity_key_is_refused_at_startup_without_echoing_it() {
    let (status, output) = run_to_exit(
        &["--listen", "127.0.0.1:0"],
        &[("CONFAB_IDENTITY_KEY", "short-secret")],
    )
    .expect("confab-proxy started with a short identity key");
    assert!(!status.success());
    assert!(output.contains("at least 32 characters"), "{output}");
    assert!(!output.contains("short-secret"), "{output}");
}

#[test]
fn help_does_not_show_the_identity_key() {
    let key = "an identity key given by environment, 32+ characters";
    let (status, output) = run_to_exit(&["--help"], &[("CONFAB_IDENTITY_KEY", key)]).unwrap();
    assert!(status.success());
    assert!(output.contains("CONFAB_IDENTITY_KEY"), "{output}");
    assert!(!output.contains(key), "{output}");
}
