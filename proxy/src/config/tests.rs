//! Flags, their defaults and their checks; secrets never printed.

use super::*;

#[test]
fn the_key_never_shows_in_debug_output() {
    let config = Config {
        api_key: ApiKey::new("sk-secret-123"),
        ..Config::for_tests()
    };
    let shown = format!("{config:?}");
    assert!(!shown.contains("sk-secret-123"), "{shown}");
    assert!(!shown.contains(TEST_IDENTITY_KEY), "{shown}");
    assert!(shown.contains("***"));
}

#[test]
fn identity_flags_parse_and_validate() {
    let key = "k".repeat(32);
    let config = Config::try_parse_from([
        "confab-proxy",
        "--identity-key",
        &key,
        "--identity-key-file",
        "/tmp/key",
        "--identity-max-age-days",
        "30",
        "--trust-user-header",
        "X-Forwarded-Email",
    ])
    .unwrap();
    assert_eq!(config.identity_key.as_ref().unwrap().secret(), key);
    assert_eq!(config.identity_key_file, Some(PathBuf::from("/tmp/key")));
    assert_eq!(
        config.identity_max_age(),
        Some(Duration::from_secs(30 * 86_400))
    );
    assert_eq!(
        config.trust_user_header.unwrap().as_str(),
        "x-forwarded-email"
    );

    let defaults = Config::try_parse_from(["confab-proxy"]).unwrap();
    assert_eq!(defaults.identity_key, None);
    assert_eq!(defaults.identity_max_age(), None);
    assert_eq!(defaults.trust_user_header, None);

    let short = Config::try_parse_from(["confab-proxy", "--identity-key", "short-secret"]);
    let message = short.unwrap_err().to_string();
    assert!(message.contains("at least 32 characters"), "{message}");
    assert!(
        !message.contains("short-secret"),
        "the key was echoed: {message}"
    );
    for bad in [
        ["--identity-max-age-days", "0"],
        ["--trust-user-header", "not a header"],
    ] {
        let parsed = Config::try_parse_from(["confab-proxy", bad[0], bad[1]]);
        assert!(parsed.is_err(), "{bad:?} accepted");
    }
}

#[test]
fn offline_mode_defaults_to_the_echo_model() {
    let offline = Config::for_tests();
    assert_eq!(offline.upstream(), None);
    assert_eq!(offline.default_model(), Some(ECHO_MODEL));
    let upstream = Config {
        upstream_url: Some("http://x/v1/".into()),
        ..Config::for_tests()
    };
    assert_eq!(upstream.upstream(), Some("http://x/v1"));
    assert_eq!(upstream.default_model(), None);
    let blank = Config {
        upstream_url: Some(" ".into()),
        ..Config::for_tests()
    };
    assert_eq!(blank.upstream(), None, "an empty URL means offline");
}

#[test]
fn flags_parse() {
    let config = Config::try_parse_from([
        "confab-proxy",
        "--listen",
        "127.0.0.1:9000",
        "--dist",
        "dist",
        "--echo-token-delay-ms",
        "5",
    ])
    .unwrap();
    assert_eq!(config.listen.port(), 9000);
    assert_eq!(config.echo_token_delay_ms, 5);
}

#[test]
fn the_agent_server_url_is_optional_and_trimmed() {
    let none = Config::try_parse_from(["confab-proxy"]).unwrap();
    assert_eq!(none.adk(), None);
    let set =
        Config::try_parse_from(["confab-proxy", "--adk-url", "http://127.0.0.1:8000/ "]).unwrap();
    assert_eq!(set.adk(), Some("http://127.0.0.1:8000"));
    let blank = Config {
        adk_url: Some("  ".into()),
        ..Config::for_tests()
    };
    assert_eq!(blank.adk(), None, "an empty URL means no agent server");
}

#[test]
fn defaults_are_the_documented_ones() {
    // Only the flags under test: the environment of the test process
    // does not set these variables.
    let config = Config::try_parse_from(["confab-proxy"]).unwrap();
    assert_eq!(config.max_body_bytes, 32 * 1024 * 1024);
    assert_eq!(config.rate_limit_per_sec, 2.0);
    assert_eq!(config.rate_limit_burst, 30);
    assert_eq!(
        config.upstream_idle_timeout(),
        Some(Duration::from_secs(120))
    );
    assert_eq!(config.allowed_origins().count(), 0);
    assert!(!config.log_content);
}

#[test]
fn new_flags_parse_and_validate() {
    let config = Config::try_parse_from([
        "confab-proxy",
        "--allow-origin",
        "https://Chat.Example.com/",
        "--allow-origin",
        "http://localhost:3000,http://127.0.0.1:5173",
        "--max-body-bytes",
        "1024",
        "--rate-limit-per-sec",
        "0",
        "--rate-limit-burst",
        "5",
        "--upstream-idle-timeout-secs",
        "0.5",
        "--log-content",
    ])
    .unwrap();
    assert_eq!(
        config.allowed_origins().collect::<Vec<_>>(),
        [
            "https://chat.example.com",
            "http://localhost:3000",
            "http://127.0.0.1:5173"
        ]
    );
    assert_eq!(config.max_body_bytes, 1024);
    assert_eq!(config.rate_limit_per_sec, 0.0);
    assert_eq!(config.rate_limit_burst, 5);
    assert_eq!(
        config.upstream_idle_timeout(),
        Some(Duration::from_millis(500))
    );
    assert!(config.log_content);

    let off = Config::try_parse_from(["confab-proxy", "--upstream-idle-timeout-secs", "0"]);
    assert_eq!(
        off.unwrap().upstream_idle_timeout(),
        None,
        "0 waits forever"
    );
    for bad in [
        ["--allow-origin", "chat.example.com"],
        ["--allow-origin", "https://x.com/path"],
        ["--allow-origin", "*"],
        ["--rate-limit-burst", "0"],
        ["--rate-limit-per-sec", "-1"],
        ["--upstream-idle-timeout-secs", "NaN"],
    ] {
        let parsed = Config::try_parse_from(["confab-proxy", bad[0], bad[1]]);
        assert!(parsed.is_err(), "{bad:?} accepted");
    }
}
