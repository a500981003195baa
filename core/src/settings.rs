//! User settings, persisted under [`crate::storage::keys::SETTINGS`].

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::manager::Limits;

/// The app name sessions are filed under (ADK's `app_name`).
pub const APP_NAME: &str = "confab";
/// The user whose sessions this browser keeps until profiles exist.
pub const DEFAULT_USER: &str = "local";
/// The ADK api_server, through the same-origin proxy.
pub const DEFAULT_AGENT_ENDPOINT: &str = "/adk";
/// Smallest context window accepted (a typo of "8" is not a window).
pub const MIN_CONTEXT_WINDOW: u32 = 256;
/// The model proxy's API, on the same origin as the page.
pub const DEFAULT_ENDPOINT: &str = "/api/v1";

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct Settings {
    /// Base URL of the OpenAI-compatible API (`…/chat/completions`).
    pub endpoint: String,
    /// The model to ask for; empty means the proxy's default model.
    pub model: String,
    /// Sent first in every request when not empty.
    pub system_prompt: String,
    /// ADK's `app_name`: sessions and `app:` state are filed under it.
    pub app_name: String,
    /// A conversation idle this many minutes is ended as expired.
    pub idle_minutes: u32,
    /// A conversation older than this many hours is ended as expired.
    pub max_duration_hours: u32,
    /// Ended conversations older than this many days are deleted; `None`
    /// (the default) keeps them until the user deletes them.
    pub retention_days: Option<u32>,
    /// Where finished spans are exported as OTLP/HTTP JSON (`{url}/v1/traces`);
    /// empty turns export off. `/otlp` is confab-proxy's same-origin relay.
    pub trace_export_url: String,
    /// Context window (tokens) of each model by id; `""` is the proxy's
    /// default model. Models not listed get [`Self::default_context_window`].
    pub context_windows: BTreeMap<String, u32>,
    pub default_context_window: u32,
    /// A reply that sends no byte for this many seconds is given up on.
    pub stall_seconds: u32,
    /// Base URL of the ADK agent server (`/adk`: confab-proxy's relay).
    pub agent_endpoint: String,
    /// New conversations are answered by this agent app; empty: the model.
    pub default_agent_app: String,
    /// Light, dark, or as the system says.
    pub theme: Theme,
    /// Shown in a new conversation; choosing one fills the message box.
    pub starter_prompts: Vec<String>,
}

/// The starter prompts a new install shows (Settings can change them).
pub const DEFAULT_STARTER_PROMPTS: [&str; 4] = [
    "Explain a concept to me in simple terms",
    "Help me write a short, friendly email",
    "Review this code and suggest improvements",
    "Summarise the key points of a text I paste",
];

/// At most this many starter prompts are shown.
pub const MAX_STARTER_PROMPTS: usize = 4;

/// The colour theme. Stored as `"system"`, `"light"` or `"dark"`; anything
/// else (a later version's theme) reads as `System` rather than making the
/// whole settings record unreadable.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Theme {
    Light,
    Dark,
    // Last: serde's catch-all must be the last variant.
    #[default]
    #[serde(other)]
    System,
}

impl Theme {
    pub const ALL: [Theme; 3] = [Theme::System, Theme::Light, Theme::Dark];

    /// The value of the page's `data-theme` attribute (and of the setting).
    pub fn as_str(self) -> &'static str {
        match self {
            Theme::System => "system",
            Theme::Light => "light",
            Theme::Dark => "dark",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Theme::System => "Same as the system",
            Theme::Light => "Light",
            Theme::Dark => "Dark",
        }
    }

    /// The theme named `name`; `System` for anything else.
    pub fn parse(name: &str) -> Theme {
        Theme::ALL
            .into_iter()
            .find(|t| t.as_str() == name)
            .unwrap_or_default()
    }
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            endpoint: DEFAULT_ENDPOINT.to_owned(),
            model: String::new(),
            system_prompt: String::new(),
            app_name: APP_NAME.to_owned(),
            idle_minutes: Limits::DEFAULT_IDLE_MINUTES,
            max_duration_hours: Limits::DEFAULT_MAX_HOURS,
            retention_days: None,
            trace_export_url: String::new(),
            context_windows: BTreeMap::new(),
            default_context_window: DEFAULT_CONTEXT_WINDOW,
            stall_seconds: DEFAULT_STALL_SECONDS,
            agent_endpoint: DEFAULT_AGENT_ENDPOINT.to_owned(),
            default_agent_app: String::new(),
            theme: Theme::System,
            starter_prompts: DEFAULT_STARTER_PROMPTS.map(str::to_owned).to_vec(),
        }
    }
}

/// Context window assumed for a model with none set: small enough for
/// most current models, so a long conversation is trimmed, not refused.
pub const DEFAULT_CONTEXT_WINDOW: u32 = 32_768;
/// Long enough for a slow first token from a large model.
pub const DEFAULT_STALL_SECONDS: u32 = 60;

impl Settings {
    /// Settings as the user typed them, tidied: surrounding blanks and a
    /// trailing slash on the endpoint removed, an empty endpoint reset.
    pub fn normalized(mut self) -> Self {
        self.endpoint = self.endpoint.trim().trim_end_matches('/').to_owned();
        if self.endpoint.is_empty() {
            self.endpoint = DEFAULT_ENDPOINT.to_owned();
        }
        self.model = self.model.trim().to_owned();
        self.app_name = self.app_name.trim().to_owned();
        if self.app_name.is_empty() {
            self.app_name = APP_NAME.to_owned();
        }
        self.idle_minutes = self.idle_minutes.max(1);
        self.max_duration_hours = self.max_duration_hours.max(1);
        self.retention_days = self.retention_days.filter(|d| *d > 0);
        self.default_context_window = self.default_context_window.max(MIN_CONTEXT_WINDOW);
        self.context_windows.retain(|_, w| *w > 0);
        for window in self.context_windows.values_mut() {
            *window = (*window).max(MIN_CONTEXT_WINDOW);
        }
        self.stall_seconds = self.stall_seconds.clamp(5, 3_600);
        self.agent_endpoint = self.agent_endpoint.trim().trim_end_matches('/').to_owned();
        if self.agent_endpoint.is_empty() {
            self.agent_endpoint = DEFAULT_AGENT_ENDPOINT.to_owned();
        }
        self.default_agent_app = self.default_agent_app.trim().to_owned();
        self.starter_prompts = self
            .starter_prompts
            .iter()
            .map(|p| p.trim().to_owned())
            .filter(|p| !p.is_empty())
            .take(MAX_STARTER_PROMPTS)
            .collect();
        self.trace_export_url = self
            .trace_export_url
            .trim()
            .trim_end_matches('/')
            .to_owned();
        self
    }

    /// The session manager's limits.
    pub fn limits(&self) -> Limits {
        Limits::new(
            self.idle_minutes,
            self.max_duration_hours,
            self.retention_days,
        )
    }

    /// The context window (tokens) of `model` (`""`: the proxy's default).
    pub fn context_window_for(&self, model: &str) -> u32 {
        self.context_windows
            .get(model)
            .copied()
            .unwrap_or(self.default_context_window)
    }

    /// `POST` finished spans here, if export is on.
    pub fn traces_url(&self) -> Option<String> {
        (!self.trace_export_url.is_empty()).then(|| format!("{}/v1/traces", self.trace_export_url))
    }

    /// `POST` here for a chat completion.
    pub fn completions_url(&self) -> String {
        format!("{}/chat/completions", self.endpoint)
    }

    pub fn models_url(&self) -> String {
        format!("{}/models", self.endpoint)
    }

    /// confab-proxy's health URL, which names its default model, when the
    /// endpoint is a path on the page's own origin (the proxy); `None` for
    /// another server, whose default model is not known.
    pub fn health_url(&self) -> Option<&'static str> {
        self.endpoint.starts_with('/').then_some("/healthz")
    }

    /// Reads stored settings; anything unreadable falls back to defaults
    /// (settings are cheap to re-enter, unlike conversations).
    pub fn from_stored(text: Option<&str>) -> Self {
        text.and_then(|t| serde_json::from_str::<Settings>(t).ok())
            .unwrap_or_default()
            .normalized()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_point_at_the_same_origin_proxy() {
        let settings = Settings::default();
        assert_eq!(settings.completions_url(), "/api/v1/chat/completions");
        assert_eq!(settings.models_url(), "/api/v1/models");
        assert!(settings.model.is_empty());
    }

    #[test]
    fn typed_values_are_tidied() {
        let settings = Settings {
            endpoint: " http://127.0.0.1:4000/v1/ ".into(),
            model: " gpt-4o ".into(),
            system_prompt: "Be brief.".into(),
            app_name: "  ".into(),
            idle_minutes: 0,
            retention_days: Some(0),
            trace_export_url: " /otlp/ ".into(),
            ..Settings::default()
        }
        .normalized();
        assert_eq!(settings.app_name, APP_NAME);
        assert_eq!(settings.idle_minutes, 1);
        assert_eq!(settings.retention_days, None);
        assert_eq!(settings.traces_url().as_deref(), Some("/otlp/v1/traces"));
        assert_eq!(
            settings.completions_url(),
            "http://127.0.0.1:4000/v1/chat/completions"
        );
        assert_eq!(settings.model, "gpt-4o");
        let blank = Settings {
            endpoint: "  ".into(),
            ..Settings::default()
        };
        assert_eq!(blank.normalized().endpoint, DEFAULT_ENDPOINT);
    }

    #[test]
    fn defaults_never_delete_and_expire_slowly() {
        let settings = Settings::default();
        let limits = settings.limits();
        assert_eq!(limits.retention, None);
        assert_eq!(limits.idle, 7.0 * 86_400.0);
        assert_eq!(limits.max_duration, 30.0 * 86_400.0);
        assert_eq!(settings.traces_url(), None, "export is off until chosen");
        assert_eq!(settings.app_name, "confab");
    }

    #[test]
    fn stored_settings_round_trip_and_bad_ones_fall_back() {
        let settings = Settings {
            model: "m".into(),
            ..Settings::default()
        };
        let text = serde_json::to_string(&settings).unwrap();
        assert_eq!(Settings::from_stored(Some(&text)), settings);
        assert_eq!(Settings::from_stored(Some("[1,2")), Settings::default());
        assert_eq!(Settings::from_stored(None), Settings::default());
        // Fields added later default when missing.
        assert_eq!(
            Settings::from_stored(Some(r#"{"model":"x"}"#)).endpoint,
            DEFAULT_ENDPOINT
        );
    }

    #[test]
    fn the_theme_is_stored_by_name_and_unknown_names_read_as_system() {
        let dark = Settings {
            theme: Theme::Dark,
            ..Settings::default()
        };
        let text = serde_json::to_string(&dark).unwrap();
        assert!(text.contains(r#""theme":"dark""#), "{text}");
        assert_eq!(Settings::from_stored(Some(&text)).theme, Theme::Dark);
        let future = r#"{"model":"kept","theme":"sepia"}"#;
        let read = Settings::from_stored(Some(future));
        assert_eq!(read.theme, Theme::System);
        assert_eq!(read.model, "kept", "the rest of the settings survive");
        assert_eq!(Settings::default().theme, Theme::System);
        assert_eq!(Theme::parse("light"), Theme::Light);
        assert_eq!(Theme::parse("nope"), Theme::System);
    }
}

#[cfg(test)]
mod starter_tests {
    use super::*;

    #[test]
    fn starter_prompts_default_to_four_and_are_trimmed_and_capped() {
        assert_eq!(Settings::default().starter_prompts.len(), 4);
        // A stored record from before they existed gets the defaults.
        let old = Settings::from_stored(Some(r#"{"model":"m"}"#));
        assert_eq!(old.starter_prompts, Settings::default().starter_prompts);
        let edited = Settings {
            starter_prompts: ["  one ", "", "two", "three", "four", "five"]
                .map(str::to_owned)
                .to_vec(),
            ..Settings::default()
        }
        .normalized();
        assert_eq!(edited.starter_prompts, ["one", "two", "three", "four"]);
        // None at all is a choice that is kept.
        let none = Settings {
            starter_prompts: Vec::new(),
            ..Settings::default()
        }
        .normalized();
        assert!(none.starter_prompts.is_empty());
    }

    #[test]
    fn the_default_model_is_asked_of_the_proxy_only_on_the_same_origin() {
        assert_eq!(Settings::default().health_url(), Some("/healthz"));
        let elsewhere = Settings {
            endpoint: "https://api.example.com/v1".into(),
            ..Settings::default()
        };
        assert_eq!(elsewhere.health_url(), None);
    }
}
