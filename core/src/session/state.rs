//! ADK's state scopes. A state key's prefix says where it lives:
//! `app:` keys are shared by every user of the app, `user:` keys by all of
//! one user's sessions, `temp:` keys last for one invocation and are never
//! persisted, and any other key belongs to its session.
//!
//! Storage keeps the three scopes apart (app and user keys without their
//! prefix); a session as returned by the service shows them merged, with
//! their prefixes, as ADK does.

use super::model::State;

pub const APP_PREFIX: &str = "app:";
pub const USER_PREFIX: &str = "user:";
pub const TEMP_PREFIX: &str = "temp:";

/// A state (or state delta) split by scope; app and user keys unprefixed.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ScopedState {
    pub app: State,
    pub user: State,
    pub session: State,
}

impl ScopedState {
    /// Splits `state` by key prefix, dropping `temp:` keys.
    pub fn split(state: &State) -> Self {
        let mut scoped = Self::default();
        for (key, value) in state {
            if key.starts_with(TEMP_PREFIX) {
                continue;
            } else if let Some(app_key) = key.strip_prefix(APP_PREFIX) {
                scoped.app.insert(app_key.to_owned(), value.clone());
            } else if let Some(user_key) = key.strip_prefix(USER_PREFIX) {
                scoped.user.insert(user_key.to_owned(), value.clone());
            } else {
                scoped.session.insert(key.clone(), value.clone());
            }
        }
        scoped
    }

    /// The merged view: session keys as they are, app and user keys with
    /// their prefixes.
    pub fn merged(&self) -> State {
        let mut state = self.session.clone();
        for (key, value) in &self.app {
            state.insert(format!("{APP_PREFIX}{key}"), value.clone());
        }
        for (key, value) in &self.user {
            state.insert(format!("{USER_PREFIX}{key}"), value.clone());
        }
        state
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn keys_are_split_by_prefix_and_temp_is_dropped() {
        let state: State = [
            ("app:theme", json!("dark")),
            ("user:name", json!("Ada")),
            ("temp:scratch", json!(1)),
            ("topic", json!("paris")),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect();
        let scoped = ScopedState::split(&state);
        assert_eq!(scoped.app.get("theme"), Some(&json!("dark")));
        assert_eq!(scoped.user.get("name"), Some(&json!("Ada")));
        assert_eq!(scoped.session.get("topic"), Some(&json!("paris")));
        assert_eq!(scoped.session.len(), 1);
        let merged = scoped.merged();
        assert_eq!(merged.len(), 3);
        assert!(!merged.contains_key("temp:scratch"));
        assert_eq!(merged.get("user:name"), Some(&json!("Ada")));
    }
}
