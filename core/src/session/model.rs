//! The session data model, shaped after ADK's `Session` and `Event` (field
//! names in camelCase, as ADK puts them on the wire).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::order::distinct_sorted;
use crate::outcome::ReplyFailure;

/// Session state: JSON values by key. ADK's key prefixes (`app:`, `user:`,
/// `temp:`) decide where a key lives; see [`crate::session::state`].
pub type State = BTreeMap<String, Value>;

/// The author of the user's own events (ADK's convention).
pub const USER_AUTHOR: &str = "user";

/// One conversation: an ADK session.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Session {
    /// A UUID v4 unless the creator chose the id.
    pub id: String,
    pub app_name: String,
    pub user_id: String,
    #[serde(default)]
    pub state: State,
    #[serde(default)]
    pub events: Vec<Event>,
    /// Seconds since the Unix epoch of the last change (ADK's float seconds).
    pub last_update_time: f64,
}

/// A session as listed: everything but its events (ADK's `list_sessions`),
/// plus the title shown in the sidebar.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SessionSummary {
    pub id: String,
    pub app_name: String,
    pub user_id: String,
    /// The title a conversation was imported with (session state
    /// [`IMPORTED_TITLE`]), else its first user message; `None` until there
    /// is one.
    #[serde(default)]
    pub title: Option<String>,
    pub last_update_time: f64,
    #[serde(default)]
    pub event_count: usize,
    /// The distinct SHA-256s (sorted) of the attachments its events refer
    /// to: what keeps their blobs from garbage collection, read from the
    /// index without opening any body. Absent when there are none, so a
    /// summary without attachments is stored as before.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attachments: Vec<String>,
}

/// Session-state key holding the title a conversation had in the app it
/// was imported from (ChatGPT's titles are worth keeping).
pub const IMPORTED_TITLE: &str = "imported_title";

impl SessionSummary {
    pub fn of(session: &Session) -> Self {
        let imported = session
            .state
            .get(IMPORTED_TITLE)
            .and_then(|t| t.as_str())
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .map(str::to_owned);
        Self {
            id: session.id.clone(),
            app_name: session.app_name.clone(),
            user_id: session.user_id.clone(),
            title: imported.or_else(|| super::title::title_of(&session.events)),
            last_update_time: session.last_update_time,
            event_count: session.events.len(),
            attachments: distinct_sorted(
                session
                    .events
                    .iter()
                    .flat_map(Event::attachments)
                    .map(|a| a.sha256),
            ),
        }
    }
}

/// One turn's worth of content from one author: ADK's `Event`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Event {
    pub id: String,
    /// Groups the events of one request/response exchange.
    #[serde(default)]
    pub invocation_id: String,
    /// `user`, or the name of the model or agent that wrote it.
    pub author: String,
    /// Seconds since the Unix epoch.
    pub timestamp: f64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content: Option<Content>,
    #[serde(default, skip_serializing_if = "EventActions::is_empty")]
    pub actions: EventActions,
    /// A streaming fragment; ADK never persists partial events.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub partial: bool,
    /// How the reply ended (Confab's own field; ADK has only `partial` and
    /// `error_code`/`error_message`, which we also set for errors).
    #[serde(default, skip_serializing_if = "MessageStatus::is_complete")]
    pub status: MessageStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_code: Option<String>,
    /// ADK's message of a failed event: an agent server's own, or the
    /// text of a failure stored before `failure` existed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_message: Option<String>,
    /// Why a reply of Confab's is not whole (its message is written from
    /// this when shown; the prose is not stored).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failure: Option<ReplyFailure>,
    /// A reasoning model's thinking before this reply (Confab's own field:
    /// shown apart, exported, never sent back to the model). Absent from
    /// older events and from replies without reasoning, so neither changes
    /// the stored format.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reasoning: Option<Reasoning>,
}

/// What a model thought before answering.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Reasoning {
    pub text: String,
    /// From its first token to the answer's first, in milliseconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub millis: Option<u64>,
    /// The tokens it took, when the server reported them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tokens: Option<u64>,
    /// Encrypted reasoning items (OpenRouter's `reasoning.encrypted`), kept
    /// as they came for the record; never shown.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub encrypted: Vec<Value>,
}

/// Read by hand through `Value`, like `Part`, rather than derived (a
/// derived reader of its fields is code in the wasm for one small object).
/// A field of another type than expected counts as absent.
impl<'de> Deserialize<'de> for Reasoning {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let Value::Object(mut fields) = Value::deserialize(deserializer)? else {
            return Err(serde::de::Error::custom("reasoning is not an object"));
        };
        Ok(Self {
            text: match fields.remove("text") {
                Some(Value::String(text)) => text,
                _ => String::new(),
            },
            millis: fields.get("millis").and_then(Value::as_u64),
            tokens: fields.get("tokens").and_then(Value::as_u64),
            encrypted: match fields.remove("encrypted") {
                Some(Value::Array(items)) => items,
                _ => Vec::new(),
            },
        })
    }
}

impl Reasoning {
    /// `None` when there is nothing to keep.
    pub fn kept(self) -> Option<Self> {
        (!self.text.is_empty() || !self.encrypted.is_empty()).then_some(self)
    }
}

impl Event {
    /// A complete text event by `author`, with a fresh id.
    pub fn text(author: &str, invocation_id: &str, timestamp: f64, text: &str) -> Self {
        let role = if author == USER_AUTHOR {
            "user"
        } else {
            "model"
        };
        Self {
            id: new_id(),
            invocation_id: invocation_id.to_owned(),
            author: author.to_owned(),
            timestamp,
            content: Some(Content {
                role: role.to_owned(),
                parts: vec![Part::text(text)],
            }),
            actions: EventActions::default(),
            partial: false,
            status: MessageStatus::Complete,
            error_code: None,
            error_message: None,
            failure: None,
            reasoning: None,
        }
    }

    /// What went wrong, as the user reads it, for a reply that failed.
    pub fn error_text(&self) -> Option<String> {
        match &self.failure {
            Some(failure) => Some(failure.to_string()),
            None => self.error_message.clone(),
        }
    }

    pub fn is_from_user(&self) -> bool {
        self.author == USER_AUTHOR
    }

    /// The concatenated text of all text parts: the answer, without the
    /// thought parts of an agent's model (Gemini's `"thought": true`).
    pub fn text_content(&self) -> String {
        self.texts(false)
    }

    /// What the model thought before answering: Confab's own field, else
    /// an agent's thought parts (whose event may carry only the duration).
    pub fn reasoning_text(&self) -> String {
        match &self.reasoning {
            Some(reasoning) if !reasoning.text.is_empty() => reasoning.text.clone(),
            _ => self.texts(true),
        }
    }

    fn texts(&self, thoughts: bool) -> String {
        self.content
            .as_ref()
            .map(|c| {
                c.parts
                    .iter()
                    .filter(|p| p.is_thought() == thoughts)
                    .filter_map(|p| p.text.as_deref())
                    .collect::<String>()
            })
            .unwrap_or_default()
    }
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Content {
    /// `user` or `model` (Gemini's roles, as ADK stores them).
    pub role: String,
    #[serde(default)]
    pub parts: Vec<Part>,
}

/// One part of a content. Only text for now; unknown part kinds written by a
/// newer version or an agent are kept as they are rather than dropped.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Part {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    #[serde(flatten)]
    pub other: serde_json::Map<String, Value>,
}

/// Read by hand rather than derived: a derived `#[serde(flatten)]` buffers
/// through serde's private `Content` type, which is a lot of wasm. A part is
/// a JSON object; its `text` (a string or null) is taken out, the rest kept.
impl<'de> Deserialize<'de> for Part {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let mut other = serde_json::Map::<String, Value>::deserialize(deserializer)?;
        let text = match other.remove("text") {
            Some(text) => Option::<String>::deserialize(text).map_err(serde::de::Error::custom)?,
            None => None,
        };
        Ok(Self { text, other })
    }
}

impl Part {
    pub fn text(text: &str) -> Self {
        Self {
            text: Some(text.to_owned()),
            other: serde_json::Map::new(),
        }
    }

    /// A Gemini thought (`"thought": true`): the model's reasoning, not its
    /// answer.
    pub fn is_thought(&self) -> bool {
        self.other.get("thought") == Some(&Value::Bool(true))
    }
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EventActions {
    #[serde(default, skip_serializing_if = "State::is_empty")]
    pub state_delta: State,
    /// The artifacts the agent saved in this step: name → version (ADK's
    /// `artifactDelta`), to list on the reply and fetch from the server.
    #[serde(
        default,
        skip_serializing_if = "BTreeMap::is_empty",
        deserialize_with = "artifact_versions"
    )]
    pub artifact_delta: BTreeMap<String, u64>,
}

impl EventActions {
    pub fn is_empty(&self) -> bool {
        self.state_delta.is_empty() && self.artifact_delta.is_empty()
    }
}

/// An `artifactDelta`; anything but an object, or an entry whose version is
/// not a whole number, is left out: one odd entry must not make the event
/// (and its session) unreadable.
fn artifact_versions<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<BTreeMap<String, u64>, D::Error> {
    let Value::Object(versions) = Value::deserialize(deserializer)? else {
        return Ok(BTreeMap::new());
    };
    // Inserted one by one: collecting into a BTreeMap sorts the pairs
    // first (another copy of the standard sort in the wasm).
    let mut kept = BTreeMap::new();
    kept.extend(
        versions
            .into_iter()
            .filter_map(|(name, version)| Some((name, version.as_u64()?))),
    );
    Ok(kept)
}

/// Where a message stands. Rendered as `data-status` on every message.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MessageStatus {
    /// Still arriving.
    Streaming,
    /// Finished normally.
    #[default]
    Complete,
    /// The user stopped it; the partial text is kept.
    Stopped,
    /// The stream broke off (or the page closed) before the reply finished.
    Interrupted,
    /// No usable reply: the request or the stream failed.
    Error,
}

impl MessageStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Streaming => "streaming",
            Self::Complete => "complete",
            Self::Stopped => "stopped",
            Self::Interrupted => "interrupted",
            Self::Error => "error",
        }
    }

    pub fn is_complete(&self) -> bool {
        *self == Self::Complete
    }
}

/// A fresh UUID v4, as a lowercase hyphenated string.
pub fn new_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parts_keep_unknown_fields_and_take_text_or_null() {
        let part: Part = serde_json::from_str(r#"{"text": null, "thought": true}"#).unwrap();
        assert_eq!(part.text, None);
        assert_eq!(part.other["thought"], Value::Bool(true));
        let part: Part = serde_json::from_str(r#"{"text": "hi"}"#).unwrap();
        assert_eq!(part, Part::text("hi"));
        assert!(serde_json::from_str::<Part>(r#"{"text": 1}"#).is_err());
        assert!(serde_json::from_str::<Part>("[]").is_err());
    }

    #[test]
    fn event_round_trips_in_adk_shape() {
        let mut event = Event::text("user", "inv-1", 12.5, "hi");
        event
            .actions
            .state_delta
            .insert("k".into(), serde_json::json!(1));
        let json = serde_json::to_value(&event).unwrap();
        assert_eq!(json["invocationId"], "inv-1");
        assert_eq!(json["content"]["parts"][0]["text"], "hi");
        assert_eq!(json["actions"]["stateDelta"]["k"], 1);
        // Defaults stay off the wire.
        assert!(json.get("partial").is_none());
        assert!(json.get("status").is_none());
        let back: Event = serde_json::from_value(json).unwrap();
        assert_eq!(back, event);
    }

    #[test]
    fn unknown_part_kinds_survive_a_round_trip() {
        let json = serde_json::json!({
            "id": "e1", "author": "agent", "timestamp": 1.0,
            "content": {"role": "model", "parts": [
                {"functionCall": {"name": "f", "args": {"x": 1}}},
                {"text": "done"}
            ]}
        });
        let event: Event = serde_json::from_value(json.clone()).unwrap();
        assert_eq!(event.text_content(), "done");
        let back = serde_json::to_value(&event).unwrap();
        assert_eq!(back["content"]["parts"][0], json["content"]["parts"][0]);
    }

    #[test]
    fn thought_parts_are_reasoning_not_answer() {
        let json = serde_json::json!({
            "id": "e1", "author": "agent", "timestamp": 1.0,
            "content": {"role": "model", "parts": [
                {"text": "Weighing it up.", "thought": true},
                {"text": "Yes."}
            ]}
        });
        let event: Event = serde_json::from_value(json).unwrap();
        assert_eq!(event.text_content(), "Yes.");
        assert_eq!(event.reasoning_text(), "Weighing it up.");
    }

    #[test]
    fn reasoning_is_stored_apart_and_old_events_load_unchanged() {
        // An event stored before reasoning existed reads as it was, and
        // writes back the same bytes.
        let old = r#"{"id":"e","invocationId":"i","author":"m","timestamp":1.0,"content":{"role":"model","parts":[{"text":"hi"}]}}"#;
        let event: Event = serde_json::from_str(old).unwrap();
        assert_eq!(event.reasoning, None);
        assert_eq!(serde_json::to_string(&event).unwrap(), old);
        let mut event = Event::text("m", "i", 1.0, "4");
        event.reasoning = Some(Reasoning {
            text: "2 + 2".into(),
            millis: Some(1500),
            tokens: Some(7),
            encrypted: vec![serde_json::json!({"type": "reasoning.encrypted", "data": "x"})],
        });
        let json = serde_json::to_value(&event).unwrap();
        assert_eq!(json["reasoning"]["text"], "2 + 2");
        assert_eq!(json["reasoning"]["millis"], 1500);
        assert_eq!(json["content"]["parts"][0]["text"], "4");
        let back: Event = serde_json::from_value(json).unwrap();
        assert_eq!(back, event);
        assert_eq!(back.text_content(), "4");
        assert_eq!(back.reasoning_text(), "2 + 2");
        assert_eq!(Reasoning::default().kept(), None);
    }

    #[test]
    fn status_serialises_lowercase() {
        for (status, name) in [
            (MessageStatus::Streaming, "streaming"),
            (MessageStatus::Stopped, "stopped"),
            (MessageStatus::Interrupted, "interrupted"),
            (MessageStatus::Error, "error"),
        ] {
            assert_eq!(serde_json::to_value(status).unwrap(), name);
            assert_eq!(status.as_str(), name);
        }
    }

    #[test]
    fn new_ids_are_uuid_v4() {
        let id = new_id();
        let parsed = uuid::Uuid::parse_str(&id).unwrap();
        assert_eq!(parsed.get_version_num(), 4);
        assert_ne!(id, new_id());
    }
}
