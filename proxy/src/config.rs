//! Configuration: every flag can also be set by an environment variable.
//! The upstream API key is read from the environment only, so it never
//! shows in a process list.

use std::fmt;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use axum::http::{HeaderName, HeaderValue};
use clap::Parser;

use crate::identity::MIN_KEY_CHARS;

/// The name of the built-in offline model.
pub const ECHO_MODEL: &str = "confab-echo";

/// Its reasoning variant: a short reasoning in `delta.reasoning_content`
/// (DeepSeek's field) before the same answer, so reasoning works offline.
pub const ECHO_THINK_MODEL: &str = "confab-echo-think";

/// Largest request body accepted by default: a long conversation with its
/// attachments, sent as base64 (a message may carry about 15 MB of files,
/// a third more once encoded).
pub const DEFAULT_MAX_BODY_BYTES: usize = 32 * 1024 * 1024;
/// Requests per second per client on the API routes, once the burst is used.
pub const DEFAULT_RATE_LIMIT_PER_SEC: f64 = 2.0;
/// Requests a client may make at once before the rate applies.
pub const DEFAULT_RATE_LIMIT_BURST: u32 = 30;
/// Seconds of silence from the upstream before the proxy gives up. Generous:
/// a reasoning model may think for a while before its first token.
pub const DEFAULT_UPSTREAM_IDLE_TIMEOUT_SECS: f64 = 120.0;

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

    /// Base URL of a Google ADK `api_server` (e.g. http://127.0.0.1:8000);
    /// requests to /adk/... are relayed there with the /adk prefix removed.
    /// Without it, /adk answers 503.
    #[arg(long, env = "CONFAB_ADK_URL")]
    pub adk_url: Option<String>,

    /// Folder of the built web app (Trunk's dist/) to serve at /.
    #[arg(long, env = "CONFAB_DIST")]
    pub dist: Option<PathBuf>,

    /// Pause between tokens of the offline model, in milliseconds.
    #[arg(long, env = "CONFAB_ECHO_TOKEN_DELAY_MS", default_value_t = 30)]
    pub echo_token_delay_ms: u64,

    /// An origin (scheme://host[:port]) whose pages may call the API
    /// cross-origin; repeatable, or comma-separated in the environment.
    /// Without any, only same-origin pages can read the API's answers.
    #[arg(
        long = "allow-origin",
        env = "CONFAB_ALLOWED_ORIGINS",
        value_name = "ORIGIN",
        value_delimiter = ',',
        value_parser = parse_origin
    )]
    pub allowed_origins: Vec<String>,

    /// Largest request body accepted, in bytes; larger ones get a 413.
    #[arg(long, env = "CONFAB_MAX_BODY_BYTES", default_value_t = DEFAULT_MAX_BODY_BYTES)]
    pub max_body_bytes: usize,

    /// Requests per second each client IP (each person, with
    /// --trust-user-header) may make to /api, /adk and /otlp once its
    /// burst is used up; 0 turns the rate limit off.
    #[arg(
        long,
        env = "CONFAB_RATE_LIMIT_PER_SEC",
        default_value_t = DEFAULT_RATE_LIMIT_PER_SEC,
        value_parser = parse_non_negative
    )]
    pub rate_limit_per_sec: f64,

    /// Requests each client IP (or person) may make at once before the rate
    /// applies.
    #[arg(
        long,
        env = "CONFAB_RATE_LIMIT_BURST",
        default_value_t = DEFAULT_RATE_LIMIT_BURST,
        value_parser = clap::value_parser!(u32).range(1..)
    )]
    pub rate_limit_burst: u32,

    /// Seconds the upstream may stay silent (before its answer starts, or
    /// between two pieces of it) before the proxy gives up; 0 waits forever.
    #[arg(
        long,
        env = "CONFAB_UPSTREAM_IDLE_TIMEOUT_SECS",
        default_value_t = DEFAULT_UPSTREAM_IDLE_TIMEOUT_SECS,
        value_parser = parse_non_negative
    )]
    pub upstream_idle_timeout_secs: f64,

    /// Also log the body of each chat request (the messages). For
    /// debugging only: off, the log never holds message content.
    #[arg(
        long,
        env = "CONFAB_LOG_CONTENT",
        value_parser = clap::builder::BoolishValueParser::new()
    )]
    pub log_content: bool,

    /// The key that signs identity cookies (at least 32 characters).
    /// Prefer the environment: a flag shows in the process list. Without
    /// it the key is read from --identity-key-file.
    #[arg(
        long,
        env = "CONFAB_IDENTITY_KEY",
        hide_env_values = true,
        value_name = "KEY",
        value_parser = IdentityKeyParser
    )]
    pub identity_key: Option<IdentityKey>,

    /// The file holding the identity key, made once (mode 0600) if it does
    /// not exist. Default: $XDG_STATE_HOME/confab-proxy/identity-key, or
    /// ~/.local/state/confab-proxy/identity-key.
    #[arg(long, env = "CONFAB_IDENTITY_KEY_FILE", value_name = "PATH")]
    pub identity_key_file: Option<PathBuf>,

    /// Identity cookies older than this many days are not valid (the
    /// browser gets a new identity). Default: no limit.
    #[arg(
        long,
        env = "CONFAB_IDENTITY_MAX_AGE_DAYS",
        value_name = "DAYS",
        value_parser = clap::value_parser!(u32).range(1..)
    )]
    pub identity_max_age_days: Option<u32>,

    /// Take each person's identity from this request header, set by an
    /// authenticating reverse proxy in front (e.g. X-Forwarded-Email),
    /// instead of a cookie. Only behind such a proxy: anyone who reaches
    /// confab-proxy directly can send the header.
    #[arg(long, env = "CONFAB_TRUST_USER_HEADER", value_name = "NAME", value_parser = parse_header_name)]
    pub trust_user_header: Option<HeaderName>,

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

    /// The agent server's base URL, if one is configured.
    pub fn adk(&self) -> Option<&str> {
        self.adk_url
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

    /// The origins allowed to call the API cross-origin (blanks dropped).
    pub fn allowed_origins(&self) -> impl Iterator<Item = &str> {
        self.allowed_origins
            .iter()
            .map(String::as_str)
            .filter(|o| !o.is_empty())
    }

    /// How long the upstream may stay silent, if there is a limit.
    pub fn upstream_idle_timeout(&self) -> Option<Duration> {
        Some(self.upstream_idle_timeout_secs)
            .filter(|s| *s > 0.0)
            .and_then(|s| Duration::try_from_secs_f64(s).ok())
    }

    /// How old an identity cookie may be, if there is a limit.
    pub fn identity_max_age(&self) -> Option<Duration> {
        self.identity_max_age_days
            .map(|days| Duration::from_secs(u64::from(days) * 24 * 3600))
    }

    /// A configuration for tests: offline, no dist, fast echo, a fixed
    /// identity key (no key file); every other setting at its default.
    pub fn for_tests() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            upstream_url: None,
            default_model: None,
            otlp_url: None,
            adk_url: None,
            dist: None,
            echo_token_delay_ms: 1,
            allowed_origins: Vec::new(),
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
            rate_limit_per_sec: DEFAULT_RATE_LIMIT_PER_SEC,
            rate_limit_burst: DEFAULT_RATE_LIMIT_BURST,
            upstream_idle_timeout_secs: DEFAULT_UPSTREAM_IDLE_TIMEOUT_SECS,
            log_content: false,
            identity_key: Some(IdentityKey(TEST_IDENTITY_KEY.to_owned())),
            identity_key_file: None,
            identity_max_age_days: None,
            trust_user_header: None,
            api_key: ApiKey::default(),
        }
    }
}

/// An origin as browsers send it: `scheme://host[:port]`, nothing after.
/// A blank entry (from `a,,b` or an empty variable) is kept as blank and
/// ignored later.
fn parse_origin(value: &str) -> Result<String, String> {
    let origin = value.trim().trim_end_matches('/');
    if origin.is_empty() {
        return Ok(String::new());
    }
    let host = origin
        .strip_prefix("http://")
        .or_else(|| origin.strip_prefix("https://"))
        .ok_or_else(|| {
            format!("{origin:?} is not an origin: it must start with http:// or https://")
        })?;
    if host.is_empty() || host.contains(['/', '?', '#', ' ', '*']) {
        return Err(format!(
            "{origin:?} is not an origin: write scheme://host[:port], e.g. https://chat.example.com"
        ));
    }
    // Origins are compared as the browser writes them: lower case.
    Ok(origin.to_ascii_lowercase())
}

/// The identity key of [`Config::for_tests`].
pub const TEST_IDENTITY_KEY: &str = "confab-proxy tests: not a secret, 32+ characters";

/// Parses `--identity-key`. A parser of its own rather than a function:
/// clap quotes a function parser's rejected value in its message, and this
/// one is meant to be a secret.
#[derive(Clone)]
struct IdentityKeyParser;

impl clap::builder::TypedValueParser for IdentityKeyParser {
    type Value = IdentityKey;

    fn parse_ref(
        &self,
        _cmd: &clap::Command,
        _arg: Option<&clap::Arg>,
        value: &std::ffi::OsStr,
    ) -> Result<IdentityKey, clap::Error> {
        let key = value.to_str().unwrap_or("").trim();
        if key.chars().count() < MIN_KEY_CHARS {
            return Err(clap::Error::raw(
                clap::error::ErrorKind::ValueValidation,
                format!(
                    "the identity key (--identity-key, CONFAB_IDENTITY_KEY) must be at least {MIN_KEY_CHARS} characters long, e.g. the output of `openssl rand -hex 32`\n"
                ),
            ));
        }
        Ok(IdentityKey(key.to_owned()))
    }
}

fn parse_header_name(value: &str) -> Result<HeaderName, String> {
    HeaderName::try_from(value.trim())
        .map_err(|_| format!("{value:?} is not an HTTP header name, e.g. X-Forwarded-Email"))
}

/// The identity key as given; never prints itself.
#[derive(Clone, PartialEq, Eq)]
pub struct IdentityKey(String);

impl IdentityKey {
    pub(crate) fn secret(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for IdentityKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

/// A number of seconds or a rate: finite and not negative.
fn parse_non_negative(value: &str) -> Result<f64, String> {
    match value.trim().parse::<f64>() {
        Ok(n) if n.is_finite() && n >= 0.0 => Ok(n),
        _ => Err(format!("{value:?} is not a number >= 0")),
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

    /// The key's bytes (empty without a key), for scrubbing it out of
    /// anything that leaves the proxy.
    pub(crate) fn secret(&self) -> &[u8] {
        self.0.as_deref().unwrap_or("").as_bytes()
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
mod tests;
