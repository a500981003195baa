//! Google ADK's `api_server` as a conversation's backend: its routes, the
//! `/run_sse` stream (partial text, final events, errors), and what to send
//! to rebuild a server session that a restart lost (the server keeps
//! sessions in memory; the local copy is the durable one).

use serde::Deserialize;
use serde_json::{Value, json};

use crate::clock::{Clock, StreamClock};
use crate::outcome::{AgentError, ReplyFailure};
use crate::session::{Event, MessageStatus, Session, State, TEMP_PREFIX};
use crate::transport::FetchFailure;
use crate::transport::reasoning::{ReasoningSplitter, TextFields};
use crate::transport::sse::SseDecoder;

/// `GET`: the app names the server offers.
pub fn list_apps_url(base: &str) -> String {
    format!("{}/list-apps", base.trim_end_matches('/'))
}

/// `POST`: create a session (`{}` or `{session_id, state, events}`).
pub fn sessions_url(base: &str, app: &str, user: &str) -> String {
    format!(
        "{}/apps/{}/users/{}/sessions",
        base.trim_end_matches('/'),
        segment(app),
        segment(user)
    )
}

/// `GET`: one session, with its events and state.
pub fn session_url(base: &str, app: &str, user: &str, session_id: &str) -> String {
    format!("{}/{}", sessions_url(base, app, user), segment(session_id))
}

/// `POST`: run the agent on a new message, answered as SSE.
pub fn run_sse_url(base: &str) -> String {
    format!("{}/run_sse", base.trim_end_matches('/'))
}

/// A path segment, percent-encoded beyond unreserved characters.
fn segment(part: &str) -> String {
    let mut out = String::with_capacity(part.len());
    for byte in part.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                out.push(byte as char)
            }
            _ => out.push_str(&format!("%{byte:02X}")),
        }
    }
    out
}

/// The body of `POST /run_sse` (snake_case, as the server expects).
pub fn run_request(app: &str, user: &str, session_id: &str, text: &str) -> Value {
    json!({
        "app_name": app,
        "user_id": user,
        "session_id": session_id,
        "new_message": {"role": "user", "parts": [{"text": text}]},
        "streaming": true,
    })
}

/// The body that creates the server session anew with the same id, its
/// state and its events, so the agent goes on with full context. Failed
/// replies and Confab's own fields are left out; `temp:` state never
/// persists in ADK.
pub fn restore_request(session: &Session, server_session_id: &str) -> Value {
    // clone + retain rather than collect: collecting into a BTreeMap sorts
    // (another copy of the standard sort in the wasm).
    let mut state: State = session.state.clone();
    state.retain(|k, _| !k.starts_with(TEMP_PREFIX));
    let events: Vec<Value> = session
        .events
        .iter()
        .filter(|e| e.status != MessageStatus::Error && !e.partial)
        .filter(|e| e.content.as_ref().is_some_and(|c| !c.parts.is_empty()))
        .map(adk_event)
        .collect();
    json!({"session_id": server_session_id, "state": state, "events": events})
}

/// An event with ADK's fields only. No `actions`: the api_server refuses
/// session-initialising events with state deltas (400 "cannot include event
/// actions"); their effect is already in the session's state.
fn adk_event(event: &Event) -> Value {
    let mut value = json!({
        "id": event.id,
        "invocationId": event.invocation_id,
        "author": event.author,
        "timestamp": event.timestamp,
    });
    if let Some(content) = &event.content {
        value["content"] = json!(content);
    }
    value
}

/// A session as the api_server returns it.
#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ServerSession {
    pub id: String,
    #[serde(default)]
    pub state: State,
    #[serde(default)]
    pub events: Vec<Event>,
}

/// The agent events of `server` that `local` does not have yet (by event
/// id), in the server's order: what a stopped stream missed while the run
/// went on. The user's messages are local already (under ids of their own).
pub fn missing_events(local: &[Event], server: &ServerSession) -> Vec<Event> {
    server
        .events
        .iter()
        .filter(|e| !e.partial && !e.is_from_user() && !local.iter().any(|l| l.id == e.id))
        .cloned()
        .collect()
}

/// What the server's `{"detail": ...}` error bodies say.
pub fn error_detail(body: &str) -> String {
    serde_json::from_str::<Value>(body)
        .ok()
        .and_then(|v| match v.get("detail") {
            Some(Value::String(s)) => Some(s.clone()),
            Some(other) => Some(other.to_string()),
            None => v.get("error").map(describe_error),
        })
        .unwrap_or_else(|| body.trim().chars().take(200).collect())
}

/// Whether an HTTP error means the server does not know the session (lost
/// in a restart): ADK answers 404 "Session not found".
pub fn is_session_not_found(status: u16, body: &str) -> bool {
    status == 404
        && error_detail(body)
            .to_ascii_lowercase()
            .contains("session not found")
}

/// Whether a 403 is the api_server refusing the page's origin.
pub fn is_origin_refused(status: u16, body: &str) -> bool {
    status == 403 && body.to_ascii_lowercase().contains("origin")
}

fn describe_error(error: &Value) -> String {
    match error {
        Value::String(s) => s.clone(),
        Value::Object(o) => o
            .get("message")
            .and_then(Value::as_str)
            .map(str::to_owned)
            .unwrap_or_else(|| error.to_string()),
        other => other.to_string(),
    }
}

/// Between the texts of two events in [`AgentStream::text`].
const TEXT_SEPARATOR: &str = "\n\n";

/// What one [`AgentStream::push`] changed.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct AgentChange {
    /// Text to add at the end of what was shown (partial deltas).
    pub appended: String,
    /// A final event arrived: the shown text is [`AgentStream::text`] anew.
    pub rebuilt: bool,
    /// How many final events arrived (the last ones of `events()`).
    pub new_events: usize,
    /// The author now writing, when it changed.
    pub author: Option<String>,
    /// Thought text to add to the reasoning shown (Gemini's thought parts
    /// of partial events).
    pub reasoning: String,
}

/// Accumulates one `/run_sse` answer: partial text as it streams, the final
/// events (an aggregated final event replaces the partials it repeats), and
/// an error if one arrives.
#[derive(Debug, Default)]
pub struct AgentStream {
    sse: SseDecoder,
    finals: Vec<Event>,
    /// The text of `finals`, joined as [`AgentStream::text`] shows it.
    finals_text: String,
    /// Text of partial events since the last final event.
    partial: String,
    partial_author: Option<String>,
    failure: Option<String>,
    /// The thought parts of `finals`, then of the partial events since.
    finals_thoughts: String,
    partial_thoughts: String,
    /// Times the thinking (first thought to first answer text).
    timing: ReasoningSplitter,
    clock: StreamClock,
}

impl AgentStream {
    pub fn new() -> Self {
        Self::default()
    }

    /// A stream that times the model's thinking with `clock`.
    pub fn timed(clock: Box<dyn Clock>) -> Self {
        Self {
            clock: StreamClock::new(clock),
            ..Self::default()
        }
    }

    /// Notes a thought and an answer text for the thinking's timing.
    fn time(&mut self, thought: &str, answer: &str) {
        let fields = TextFields {
            reasoning: Some(thought.to_owned()),
            content: Some(answer.to_owned()),
            ..TextFields::default()
        };
        self.timing.push(fields, self.clock.now());
    }

    /// Feeds received bytes; says what changed, so a view can append a
    /// partial delta instead of redrawing the whole reply per token.
    pub fn push(&mut self, bytes: &[u8]) -> AgentChange {
        let mut change = AgentChange::default();
        for frame in self.sse.push(bytes) {
            if self.failure.is_some() {
                break;
            }
            self.apply(frame.data.trim(), &mut change);
        }
        change
    }

    fn apply(&mut self, data: &str, change: &mut AgentChange) {
        if data.is_empty() {
            return;
        }
        let value: Value = match serde_json::from_str(data) {
            Ok(value) => value,
            Err(e) => {
                self.failure = Some(format!("the agent server sent an unreadable event ({e})"));
                return;
            }
        };
        // `data: {"error": ...}`: the run failed (not an event).
        if value.get("author").is_none()
            && let Some(error) = value.get("error")
        {
            self.failure = Some(describe_error(error));
            return;
        }
        // Read from the text, not from `value`: every type is then
        // deserialized by one deserializer, so its code is in the wasm once.
        let event: Event = match serde_json::from_str(data) {
            Ok(event) => event,
            Err(e) => {
                self.failure = Some(format!("the agent server sent an unreadable event ({e})"));
                return;
            }
        };
        if event.partial {
            let delta = event.text_content();
            let thought = event.reasoning_text();
            self.time(&thought, &delta);
            change.reasoning.push_str(&thought);
            self.partial_thoughts.push_str(&thought);
            if !delta.is_empty() {
                if self.partial.is_empty() && !self.finals_text.is_empty() {
                    change.appended.push_str(TEXT_SEPARATOR);
                }
                change.appended.push_str(&delta);
                self.partial.push_str(&delta);
            }
            if self.partial_author.as_deref() != Some(event.author.as_str()) {
                change.author = Some(event.author.clone());
                self.partial_author = Some(event.author);
            }
            return;
        }
        if let Some(code) = &event.error_code {
            let message = event.error_message.clone().unwrap_or_else(|| code.clone());
            self.failure = Some(message);
        }
        let text = event.text_content();
        let thought = event.reasoning_text();
        if self.partial.is_empty() && self.partial_thoughts.is_empty() {
            // Not streamed in partials: its thought and text arrive now.
            self.time(&thought, &text);
        }
        if !text.is_empty() {
            if !self.finals_text.is_empty() {
                self.finals_text.push_str(TEXT_SEPARATOR);
            }
            self.finals_text.push_str(&text);
        }
        if !thought.is_empty() {
            if !self.finals_thoughts.is_empty() {
                self.finals_thoughts.push_str(TEXT_SEPARATOR);
            }
            self.finals_thoughts.push_str(&thought);
        }
        self.partial_thoughts.clear();
        self.partial.clear();
        self.partial_author = None;
        change.rebuilt = true;
        change.new_events += 1;
        change.author = Some(event.author.clone());
        self.finals.push(event);
    }

    /// Final events so far, in order.
    pub fn events(&self) -> &[Event] {
        &self.finals
    }

    /// Text streamed since the last final event (not yet final).
    pub fn partial_text(&self) -> &str {
        &self.partial
    }

    /// Who is writing the partial text.
    pub fn partial_author(&self) -> Option<&str> {
        self.partial_author.as_deref()
    }

    /// The error the run ended with, if any.
    pub fn failure(&self) -> Option<&str> {
        self.failure.as_deref()
    }

    /// Everything said so far as text: final events and the partial tail.
    pub fn text(&self) -> String {
        finals_then_partial(&self.finals_text, &self.partial)
    }

    /// Everything thought so far: the final events' thought parts and the
    /// partial ones since.
    pub fn reasoning(&self) -> String {
        finals_then_partial(&self.finals_thoughts, &self.partial_thoughts)
    }

    /// Thought parts of partial events not made final yet.
    pub fn partial_reasoning(&self) -> &str {
        &self.partial_thoughts
    }

    /// How long the agent's model thought, in milliseconds.
    pub fn thought_millis(&self) -> Option<u64> {
        self.timing.thought_millis()
    }

    /// Ends the stream (an unterminated last frame is dropped, as SSE says);
    /// a partial tail never finalised stays only as text.
    pub fn finish(&mut self) {
        self.sse.finish();
    }
}

/// What final events said, then the partial tail, apart as events are.
fn finals_then_partial(finals: &str, partial: &str) -> String {
    let mut text = finals.to_owned();
    if !partial.is_empty() {
        if !text.is_empty() {
            text.push_str(TEXT_SEPARATOR);
        }
        text.push_str(partial);
    }
    text
}

/// How an agent run ended.
#[derive(Clone, Debug, PartialEq)]
pub enum RunOutcome {
    Complete,
    /// The user stopped it: the server may have gone on (read what it did).
    Stopped,
    Failed(MessageStatus, AgentError),
}

impl RunOutcome {
    /// The status and failure a run's reply is saved with.
    pub fn saved_as(&self) -> (MessageStatus, Option<ReplyFailure>) {
        match self {
            Self::Complete => (MessageStatus::Complete, None),
            Self::Stopped => (MessageStatus::Stopped, None),
            Self::Failed(status, error) => (*status, Some(error.clone().into())),
        }
    }
}

/// How a run that got through to its end went: the server's own error, an
/// answer cut off (text never made final, or no final event at all), or
/// whole.
pub fn finished_run(stream: &AgentStream) -> RunOutcome {
    if let Some(detail) = stream.failure() {
        return RunOutcome::Failed(
            MessageStatus::Error,
            AgentError::RunFailed {
                detail: detail.to_owned(),
            },
        );
    }
    if stream.events().is_empty() || !stream.partial_text().is_empty() {
        return RunOutcome::Failed(MessageStatus::Interrupted, AgentError::Truncated);
    }
    RunOutcome::Complete
}

/// A request to the agent server that failed, as the user should read it.
/// `page_origin`: the origin of the page making it.
pub fn failed_request(failure: FetchFailure, base: &str, page_origin: &str) -> RunOutcome {
    let error = match failure {
        FetchFailure::Aborted => return RunOutcome::Stopped,
        FetchFailure::Unreachable => AgentError::Unreachable {
            base: base.to_owned(),
            refused_origin: is_cross_origin(base, page_origin).then(|| page_origin.to_owned()),
        },
        FetchFailure::Http { status, body, .. } if is_origin_refused(status, &body) => {
            AgentError::OriginRefused {
                detail: error_detail(&body),
                origin: page_origin.to_owned(),
            }
        }
        FetchFailure::Http { status: 401, .. } => AgentError::Unrecognised,
        FetchFailure::Http { status, body, .. } => AgentError::Http {
            status,
            detail: error_detail(&body),
        },
        FetchFailure::Broken(detail) => {
            return RunOutcome::Failed(MessageStatus::Interrupted, AgentError::Broken { detail });
        }
    };
    RunOutcome::Failed(MessageStatus::Error, error)
}

/// Whether `base` is on another origin than the page (an absolute URL).
pub fn is_cross_origin(base: &str, page_origin: &str) -> bool {
    (base.starts_with("http://") || base.starts_with("https://"))
        && !(base == page_origin || base.starts_with(&format!("{page_origin}/")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::session::Part;

    fn frame(value: Value) -> String {
        format!("data: {value}\n\n")
    }

    fn text_event(id: &str, author: &str, text: &str, partial: bool) -> Value {
        let mut e = json!({
            "id": id, "invocationId": "inv-1", "author": author, "timestamp": 1.5,
            "content": {"role": "model", "parts": [{"text": text}]},
        });
        if partial {
            e["partial"] = json!(true);
        }
        e
    }

    #[test]
    fn routes_are_built_from_the_base_with_segments_encoded() {
        assert_eq!(list_apps_url("/adk/"), "/adk/list-apps");
        assert_eq!(
            sessions_url("/adk", "echo_agent", "ada lovelace"),
            "/adk/apps/echo_agent/users/ada%20lovelace/sessions"
        );
        assert_eq!(
            session_url("/adk", "a", "u/1", "s:1"),
            "/adk/apps/a/users/u%2F1/sessions/s%3A1"
        );
        assert_eq!(
            run_sse_url("http://127.0.0.1:8000"),
            "http://127.0.0.1:8000/run_sse"
        );
    }

    #[test]
    fn the_run_request_is_what_the_server_expects() {
        assert_eq!(
            run_request("app", "u", "s", "hi"),
            json!({"app_name": "app", "user_id": "u", "session_id": "s",
                   "new_message": {"role": "user", "parts": [{"text": "hi"}]}, "streaming": true})
        );
    }

    #[test]
    fn partial_text_streams_and_the_final_event_replaces_it_not_shown_twice() {
        let mut stream = AgentStream::new();
        let mut bytes = String::new();
        bytes += &frame(text_event("p1", "streamer", "Hello ", true));
        bytes += &frame(text_event("p2", "streamer", "world", true));
        // Split anywhere: the same outcome.
        let (a, b) = bytes.split_at(37);
        stream.push(a.as_bytes());
        stream.push(b.as_bytes());
        assert_eq!(stream.partial_text(), "Hello world");
        assert_eq!(stream.partial_author(), Some("streamer"));
        assert!(stream.events().is_empty());
        stream.push(frame(text_event("f1", "streamer", "Hello world", false)).as_bytes());
        assert_eq!(stream.partial_text(), "");
        assert_eq!(stream.events().len(), 1);
        assert_eq!(stream.text(), "Hello world");
        assert!(stream.failure().is_none());
    }

    /// An ADK event with Gemini's parts: thoughts first, then the answer.
    fn thought_event(id: &str, thought: &str, text: &str, partial: bool) -> Value {
        let mut parts = Vec::new();
        if !thought.is_empty() {
            parts.push(json!({"text": thought, "thought": true}));
        }
        if !text.is_empty() {
            parts.push(json!({"text": text}));
        }
        json!({
            "id": id, "invocationId": "inv-1", "author": "thinker", "timestamp": 1.5,
            "partial": partial, "content": {"role": "model", "parts": parts},
        })
    }

    #[test]
    fn thought_parts_stream_as_reasoning_at_every_split_and_never_as_answer() {
        let mut bytes = String::new();
        bytes += &frame(thought_event("p1", "Weighing ", "", true));
        bytes += &frame(thought_event("p2", "it up.", "", true));
        bytes += &frame(thought_event("p3", "", "Yes.", true));
        bytes += &frame(thought_event("f1", "Weighing it up.", "Yes.", false));
        let bytes = bytes.as_bytes();
        for split in 0..=bytes.len() {
            // One clock reading per event: 0 s, 1 s, 2 s, 3 s.
            let clock = crate::clock::SteppingClock::new(0.0, 1.0);
            let mut stream = AgentStream::timed(Box::new(clock));
            let mut shown_reasoning = String::new();
            let mut shown_answer = String::new();
            for piece in [&bytes[..split], &bytes[split..]] {
                let change = stream.push(piece);
                shown_reasoning.push_str(&change.reasoning);
                shown_answer.push_str(&change.appended);
            }
            assert_eq!(shown_reasoning, "Weighing it up.", "split at {split}");
            assert_eq!(shown_answer, "Yes.", "split at {split}");
            assert_eq!(stream.text(), "Yes.", "split at {split}");
            assert_eq!(stream.reasoning(), "Weighing it up.", "split at {split}");
            assert_eq!(stream.thought_millis(), Some(2000), "split at {split}");
            assert_eq!(stream.events()[0].text_content(), "Yes.");
        }
    }

    #[test]
    fn rich_parts_and_state_deltas_are_kept() {
        let mut stream = AgentStream::new();
        let call = json!({"id": "c1", "invocationId": "inv", "author": "tool_agent", "timestamp": 2.0,
            "content": {"role": "model", "parts": [{"functionCall": {"id": "fc", "name": "get_weather", "args": {"city": "Paris"}}}]},
            "actions": {"stateDelta": {"turns": 1, "user:greeted": true}, "artifactDelta": {}}});
        stream.push(frame(call).as_bytes());
        let event = &stream.events()[0];
        assert_eq!(event.author, "tool_agent");
        assert_eq!(event.actions.state_delta["turns"], json!(1));
        let part: &Part = &event.content.as_ref().unwrap().parts[0];
        assert_eq!(part.other["functionCall"]["name"], json!("get_weather"));
        assert_eq!(stream.text(), "");
    }

    #[test]
    fn an_error_in_the_stream_ends_the_run_with_its_message() {
        let mut stream = AgentStream::new();
        stream.push(frame(text_event("a", "x", "partial", true)).as_bytes());
        stream.push(b"data: {\"error\": \"Model overloaded\", \"error_details\": {}}\n\n");
        assert_eq!(stream.failure(), Some("Model overloaded"));
        // Nothing after an error counts.
        stream.push(frame(text_event("b", "x", "late", false)).as_bytes());
        assert!(stream.events().is_empty());

        let mut coded = AgentStream::new();
        coded.push(
            frame(
                json!({"id": "e", "author": "x", "timestamp": 1.0, "invocationId": "i",
                "errorCode": "MALFORMED_FUNCTION_CALL", "errorMessage": "bad call"}),
            )
            .as_bytes(),
        );
        assert_eq!(coded.failure(), Some("bad call"));
        let mut garbled = AgentStream::new();
        garbled.push(b"data: {not json\n\n");
        assert!(garbled.failure().unwrap().contains("unreadable"));
    }

    #[test]
    fn errors_are_read_from_detail_bodies() {
        // A validation error's detail is a list.
        assert!(
            error_detail(r#"{"detail":[{"msg":"Field required"}]}"#).contains("Field required")
        );
        let body = r#"{"detail":"Session not found: abc"}"#;
        assert_eq!(error_detail(body), "Session not found: abc");
        assert!(is_session_not_found(404, body));
        assert!(!is_session_not_found(404, r#"{"detail":"Not Found"}"#));
        assert!(is_origin_refused(403, "Forbidden: origin not allowed"));
        assert!(!is_origin_refused(403, "nope"));
    }

    #[test]
    fn a_restore_sends_the_id_state_and_events_without_failures_or_temp_state() {
        let mut session = Session {
            id: "local-1".into(),
            app_name: "confab".into(),
            user_id: "ada".into(),
            state: State::new(),
            events: Vec::new(),
            last_update_time: 3.0,
        };
        session.state.insert("turns".into(), json!(2));
        session.state.insert("user:greeted".into(), json!(true));
        session.state.insert("temp:scratch".into(), json!(1));
        let mut user = Event::text("user", "inv", 1.0, "hi");
        user.actions.state_delta.insert("turns".into(), json!(1));
        let reply = Event::text("history_agent", "inv", 2.0, "hello");
        let mut failed = Event::text("history_agent", "inv2", 3.0, "");
        failed.status = MessageStatus::Error;
        failed.error_code = Some("unreachable".into());
        session.events = vec![user.clone(), reply.clone(), failed];
        let body = restore_request(&session, "server-1");
        assert_eq!(body["session_id"], json!("server-1"));
        assert_eq!(body["state"], json!({"turns": 2, "user:greeted": true}));
        let events = body["events"].as_array().unwrap();
        assert_eq!(events.len(), 2);
        assert_eq!(events[0]["id"], json!(user.id));
        assert_eq!(events[1]["author"], json!("history_agent"));
        for event in events {
            assert!(event.get("status").is_none() && event.get("actions").is_none());
        }
    }

    #[test]
    fn missing_events_are_found_by_id() {
        let a = Event::text("user", "i", 1.0, "a");
        let b = Event::text("agent", "i", 2.0, "b");
        let c = Event::text("agent", "i", 3.0, "c");
        let server = ServerSession {
            id: "s".into(),
            state: State::new(),
            events: vec![a.clone(), b.clone(), c.clone()],
        };
        let missing = missing_events(&[a, b], &server);
        assert_eq!(
            missing.iter().map(|e| e.id.clone()).collect::<Vec<_>>(),
            [c.id]
        );
    }

    #[test]
    fn a_view_that_follows_the_changes_always_shows_the_whole_text() {
        let mut bytes = String::new();
        bytes += &frame(text_event("f0", "researcher", "Found it.", false));
        bytes += &frame(text_event("p1", "writer", "Dear ", true));
        bytes += &frame(text_event("p2", "writer", "reader", true));
        bytes += &frame(text_event("f1", "writer", "Dear reader,", false));
        bytes += &frame(text_event("p3", "writer", "bye", true));
        for split in 0..bytes.len() {
            let mut stream = AgentStream::new();
            let mut shown = String::new();
            let mut events = 0;
            for piece in [&bytes.as_bytes()[..split], &bytes.as_bytes()[split..]] {
                let change = stream.push(piece);
                if change.rebuilt {
                    shown = stream.text();
                } else {
                    shown.push_str(&change.appended);
                }
                events += change.new_events;
                assert_eq!(shown, stream.text(), "split at {split}");
            }
            assert_eq!(shown, "Found it.\n\nDear reader,\n\nbye");
            assert_eq!(events, stream.events().len());
        }
    }

    #[test]
    fn a_failed_request_says_why_and_what_to_do() {
        let page = "http://127.0.0.1:8080";
        let failed = |failure, base: &str| failed_request(failure, base, page);
        assert_eq!(failed(FetchFailure::Aborted, "/adk"), RunOutcome::Stopped);
        assert_eq!(
            failed(FetchFailure::Unreachable, "/adk"),
            RunOutcome::Failed(
                MessageStatus::Error,
                AgentError::Unreachable {
                    base: "/adk".into(),
                    refused_origin: None
                }
            )
        );
        // Another origin: perhaps refused by CORS, which looks like no answer.
        assert_eq!(
            failed(FetchFailure::Unreachable, "http://127.0.0.1:8000"),
            RunOutcome::Failed(
                MessageStatus::Error,
                AgentError::Unreachable {
                    base: "http://127.0.0.1:8000".into(),
                    refused_origin: Some(page.into())
                }
            )
        );
        assert!(!is_cross_origin("http://127.0.0.1:8080/adk", page));
        let http = |status, body: &str| FetchFailure::Http {
            status,
            body: body.into(),
            retry_after: None,
        };
        assert_eq!(
            failed(
                http(403, r#"{"detail":"Origin not allowed"}"#),
                "http://127.0.0.1:8000"
            ),
            RunOutcome::Failed(
                MessageStatus::Error,
                AgentError::OriginRefused {
                    detail: "Origin not allowed".into(),
                    origin: page.into()
                }
            )
        );
        assert_eq!(
            failed(http(401, "{}"), "/adk"),
            RunOutcome::Failed(MessageStatus::Error, AgentError::Unrecognised)
        );
        assert_eq!(
            failed(http(500, r#"{"detail":"Internal Server Error"}"#), "/adk"),
            RunOutcome::Failed(
                MessageStatus::Error,
                AgentError::Http {
                    status: 500,
                    detail: "Internal Server Error".into()
                }
            )
        );
        assert_eq!(
            failed(FetchFailure::Broken("reset".into()), "/adk"),
            RunOutcome::Failed(
                MessageStatus::Interrupted,
                AgentError::Broken {
                    detail: "reset".into()
                }
            )
        );
    }

    #[test]
    fn a_run_that_ended_is_whole_cut_off_or_failed() {
        let run = |frames: &str| {
            let mut stream = AgentStream::new();
            stream.push(frames.as_bytes());
            stream.finish();
            finished_run(&stream)
        };
        let whole = "data: {\"id\":\"e1\",\"author\":\"a\",\"timestamp\":1.0,\"content\":{\"role\":\"model\",\"parts\":[{\"text\":\"Hi\"}]}}\n\n";
        assert_eq!(run(whole), RunOutcome::Complete);
        assert_eq!(
            run(""),
            RunOutcome::Failed(MessageStatus::Interrupted, AgentError::Truncated)
        );
        let failed = "data: {\"error\": \"RuntimeError: boom\"}\n\n";
        assert!(matches!(
            run(failed),
            RunOutcome::Failed(MessageStatus::Error, AgentError::RunFailed { .. })
        ));
        assert_eq!(
            RunOutcome::Failed(MessageStatus::Interrupted, AgentError::Truncated).saved_as(),
            (
                MessageStatus::Interrupted,
                Some(ReplyFailure::Agent(AgentError::Truncated))
            )
        );
    }
}
