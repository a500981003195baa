//! User settings, persisted under [`crate::storage::keys::SETTINGS`].

use serde::{Deserialize, Serialize};

/// The app name sessions are filed under (ADK's `app_name`).
pub const APP_NAME: &str = "confab";
/// The user whose sessions this browser keeps until profiles exist.
pub const DEFAULT_USER: &str = "local";
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
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            endpoint: DEFAULT_ENDPOINT.to_owned(),
            model: String::new(),
            system_prompt: String::new(),
        }
    }
}

impl Settings {
    /// Settings as the user typed them, tidied: surrounding blanks and a
    /// trailing slash on the endpoint removed, an empty endpoint reset.
    pub fn normalized(mut self) -> Self {
        self.endpoint = self.endpoint.trim().trim_end_matches('/').to_owned();
        if self.endpoint.is_empty() {
            self.endpoint = DEFAULT_ENDPOINT.to_owned();
        }
        self.model = self.model.trim().to_owned();
        self
    }

    /// `POST` here for a chat completion.
    pub fn completions_url(&self) -> String {
        format!("{}/chat/completions", self.endpoint)
    }

    pub fn models_url(&self) -> String {
        format!("{}/models", self.endpoint)
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
        }
        .normalized();
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
}
