//! Configuration: every flag can also be set by an environment variable.
//! The upstream API key is read from the environment only, so it never
//! shows in a process list.

use std::fmt;
use std::net::SocketAddr;
use std::path::PathBuf;

use axum::http::HeaderValue;
use clap::Parser;

/// The name of the built-in offline model.
pub const ECHO_MODEL: &str = "confab-echo";

#[derive(Clone, Debug, Parser)]
#[command(name = "confab-proxy", version, about)]
pub struct Config {
    /// Address to listen on (port 0 picks a free port).
    #[arg(long, env = "CONFAB_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,

    /// Base URL of an OpenAI-compatible API, e.g. https://api.openai.com/v1.
    /// Without it the built-in offline model answers.
    #[arg(long, env = "CONFAB_UPSTREAM_URL")]
    pub upstream_url: Option<String>,

    /// The model used when a request names none (default: confab-echo when
    /// offline; with an upstream, requests pass through unchanged).
    #[arg(long, env = "CONFAB_DEFAULT_MODEL")]
    pub default_model: Option<String>,

    /// Base URL of an OTLP/HTTP collector (e.g. http://127.0.0.1:4318);
    /// the page's trace exports to /otlp/v1/traces are relayed there.
    #[arg(long, env = "CONFAB_OTLP_URL")]
    pub otlp_url: Option<String>,

    /// Folder of the built web app (Trunk's dist/) to serve at /.
    #[arg(long, env = "CONFAB_DIST")]
    pub dist: Option<PathBuf>,

    /// Pause between tokens of the offline model, in milliseconds.
    #[arg(long, env = "CONFAB_ECHO_TOKEN_DELAY_MS", default_value_t = 30)]
    pub echo_token_delay_ms: u64,

    /// Sent upstream as `Authorization: Bearer …`. Environment only.
    #[arg(skip = ApiKey::from_env())]
    pub api_key: ApiKey,
}

impl Config {
    /// The upstream base URL, if one is configured (an empty value is none).
    pub fn upstream(&self) -> Option<&str> {
        self.upstream_url
            .as_deref()
            .map(|u| u.trim().trim_end_matches('/'))
            .filter(|u| !u.is_empty())
    }

    /// The trace collector's base URL, if one is configured.
    pub fn otlp(&self) -> Option<&str> {
        self.otlp_url
            .as_deref()
            .map(|u| u.trim().trim_end_matches('/'))
            .filter(|u| !u.is_empty())
    }

    /// The model to fill in when a request names none.
    pub fn default_model(&self) -> Option<&str> {
        match self.default_model.as_deref().filter(|m| !m.is_empty()) {
            Some(model) => Some(model),
            None if self.upstream().is_none() => Some(ECHO_MODEL),
            None => None,
        }
    }

    /// A configuration for tests: offline, no dist, fast echo.
    pub fn for_tests() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            upstream_url: None,
            default_model: None,
            otlp_url: None,
            dist: None,
            echo_token_delay_ms: 1,
            api_key: ApiKey::default(),
        }
    }
}

/// An API key that never prints itself.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct ApiKey(Option<String>);

impl ApiKey {
    /// Surrounding whitespace (a newline from a key file) is dropped.
    pub fn new(key: &str) -> Self {
        Self(Some(key.trim().to_owned()).filter(|k| !k.is_empty()))
    }

    pub fn from_env() -> Self {
        Self::new(&std::env::var("CONFAB_UPSTREAM_API_KEY").unwrap_or_default())
    }

    /// The `Authorization` value, marked sensitive so that HTTP libraries
    /// never print it in their debug output.
    pub(crate) fn bearer(&self) -> Option<HeaderValue> {
        let key = self.0.as_ref()?;
        let mut value = HeaderValue::try_from(format!("Bearer {key}")).ok()?;
        value.set_sensitive(true);
        Some(value)
    }

    /// A key is set but cannot be sent (it holds control characters).
    pub(crate) fn is_unusable(&self) -> bool {
        self.0.is_some() && self.bearer().is_none()
    }
}

impl fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(if self.0.is_some() { "***" } else { "(none)" })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_key_never_shows_in_debug_output() {
        let config = Config {
            api_key: ApiKey::new("sk-secret-123"),
            ..Config::for_tests()
        };
        let shown = format!("{config:?}");
        assert!(!shown.contains("sk-secret-123"), "{shown}");
        assert!(shown.contains("***"));
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
}
