//! The api_server's HTTP side: its routes, the bodies Confab sends (a run,
//! the restore of a lost session), and what it answers with (a session, an
//! error body). Plain values, apart from the stream that reads a run.

use serde::Deserialize;
use serde_json::{Value, json};

use crate::bytes::base64_encode;
use crate::outcome::ReplyError;
use crate::session::{
    ATTACHMENT_PART, AttachmentRef, Event, MessageStatus, Session, State, TEMP_PREFIX,
};

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
pub(super) fn segment(part: &str) -> String {
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
    run_body(app, user, session_id, vec![json!({"text": text})])
}

fn run_body(app: &str, user: &str, session_id: &str, parts: Vec<Value>) -> Value {
    json!({
        "app_name": app,
        "user_id": user,
        "session_id": session_id,
        "new_message": {"role": "user", "parts": parts},
        "streaming": true,
    })
}

/// The body of `POST /run_sse` for the user's `message`: its text, then
/// each attachment as `inlineData` with its bytes (`bytes` gives a blob's
/// bytes by SHA-256). An attachment whose bytes are gone fails it: the
/// agent would answer about a file it never got.
pub fn run_message_request<'b>(
    app: &str,
    user: &str,
    session_id: &str,
    message: &Event,
    bytes: &dyn Fn(&str) -> Option<&'b [u8]>,
) -> Result<Value, ReplyError> {
    let text = message.text_content();
    let attachments = message.attachments();
    let mut parts = Vec::new();
    if !text.is_empty() || attachments.is_empty() {
        parts.push(json!({"text": text}));
    }
    for attachment in &attachments {
        let Some(found) = bytes(&attachment.sha256) else {
            return Err(ReplyError::AttachmentUnavailable {
                name: attachment.name.clone(),
            });
        };
        parts.push(inline_data_part(attachment, found));
    }
    Ok(run_body(app, user, session_id, parts))
}

/// An attachment as a Gemini part, `{"inlineData": {"mimeType", "data",
/// "displayName"}}`. google-genai 1.x (with google-adk 2.13) reads `data`
/// in either base64 alphabet and writes the URL-safe one; the standard one
/// is sent, as data URLs have it. ADK drops `displayName` before a Gemini
/// API call (that backend refuses it), so it costs nothing there and names
/// the file for an agent's own code.
pub fn inline_data_part(attachment: &AttachmentRef, bytes: &[u8]) -> Value {
    json!({"inlineData": {
        "mimeType": attachment.mime_type,
        "data": base64_encode(bytes),
        "displayName": attachment.name,
    }})
}

/// The events [`restore_request`] sends.
fn restored_events(session: &Session) -> impl Iterator<Item = &Event> {
    session
        .events
        .iter()
        .filter(|e| e.status != MessageStatus::Error && !e.partial)
        .filter(|e| e.content.as_ref().is_some_and(|c| !c.parts.is_empty()))
}

/// The blobs (SHA-256) a restore of `session` sends, each once: load them
/// before [`restore_request`].
pub fn restore_needs(session: &Session) -> Vec<String> {
    let mut needs: Vec<String> = Vec::new();
    for attachment in restored_events(session).flat_map(Event::attachments) {
        if !needs.contains(&attachment.sha256) {
            needs.push(attachment.sha256);
        }
    }
    needs
}

/// The body that creates the server session anew with the same id, its
/// state and its events, so the agent goes on with full context. Failed
/// replies and Confab's own fields are left out; `temp:` state never
/// persists in ADK. Attachments go back as the `inlineData` they were
/// (`bytes` gives a blob's bytes by SHA-256), so a restored session still
/// has its files; one whose bytes are gone becomes a text part saying so.
pub fn restore_request<'b>(
    session: &Session,
    server_session_id: &str,
    bytes: &dyn Fn(&str) -> Option<&'b [u8]>,
) -> Value {
    // clone + retain rather than collect: collecting into a BTreeMap sorts
    // (another copy of the standard sort in the wasm).
    let mut state: State = session.state.clone();
    state.retain(|k, _| !k.starts_with(TEMP_PREFIX));
    let events: Vec<Value> = restored_events(session)
        .map(|e| adk_event(e, bytes))
        .collect();
    json!({"session_id": server_session_id, "state": state, "events": events})
}

/// An event with ADK's fields only. No `actions`: the api_server refuses
/// session-initialising events with state deltas (400 "cannot include event
/// actions"); their effect is already in the session's state.
/// Attachment references (Confab's own part, which ADK's `Part` refuses as
/// an unknown field) become `inlineData` again.
fn adk_event<'b>(event: &Event, bytes: &dyn Fn(&str) -> Option<&'b [u8]>) -> Value {
    let mut value = json!({
        "id": event.id,
        "invocationId": event.invocation_id,
        "author": event.author,
        "timestamp": event.timestamp,
    });
    if let Some(content) = &event.content {
        let parts: Vec<Value> = content
            .parts
            .iter()
            .map(|part| match part.attachment_ref() {
                Some(attachment) => match bytes(&attachment.sha256) {
                    Some(found) => inline_data_part(&attachment, found),
                    None => json!({
                        "text": format!("[attachment unavailable: {}]", attachment.name)
                    }),
                },
                // A reference too damaged to name its file.
                None if part.other.contains_key(ATTACHMENT_PART) => {
                    json!({"text": "[attachment unavailable]"})
                }
                None => json!(part),
            })
            .collect();
        value["content"] = json!({"role": content.role, "parts": parts});
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

pub(super) fn describe_error(error: &Value) -> String {
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

#[cfg(test)]
mod tests {
    use super::*;

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
        let body = restore_request(&session, "server-1", &|_| None);
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

    const CSV: &[u8] = b"x,y\n1,2\n";

    fn csv() -> AttachmentRef {
        AttachmentRef {
            sha256: crate::bytes::sha256_hex(CSV),
            name: "data.csv".into(),
            mime_type: "text/csv".into(),
            size: CSV.len() as u64,
            ..AttachmentRef::default()
        }
    }

    fn with_attachment(mut event: Event, attachment: &AttachmentRef) -> Event {
        event
            .content
            .as_mut()
            .unwrap()
            .parts
            .push(crate::session::Part::attachment(attachment));
        event
    }

    #[test]
    fn a_message_with_attachments_runs_with_them_as_inline_data() {
        let message = with_attachment(Event::text("user", "i", 1.0, "stats?"), &csv());
        let stored = |hash: &str| (hash == csv().sha256).then_some(CSV);
        let body = run_message_request("analyst", "u", "s", &message, &stored).unwrap();
        assert_eq!(
            body["new_message"],
            json!({"role": "user", "parts": [
                {"text": "stats?"},
                {"inlineData": {"mimeType": "text/csv", "data": "eCx5CjEsMgo=",
                                "displayName": "data.csv"}}
            ]})
        );
        // Without attachments, the same body as the plain form.
        let plain = Event::text("user", "i", 1.0, "hi");
        assert_eq!(
            run_message_request("app", "u", "s", &plain, &stored).unwrap(),
            run_request("app", "u", "s", "hi")
        );
        // A file alone: no empty text part.
        let mut alone = with_attachment(Event::text("user", "i", 1.0, ""), &csv());
        alone.content.as_mut().unwrap().parts.remove(0);
        let body = run_message_request("app", "u", "s", &alone, &stored).unwrap();
        assert_eq!(body["new_message"]["parts"].as_array().unwrap().len(), 1);
        // Its bytes gone: not sent.
        assert_eq!(
            run_message_request("app", "u", "s", &message, &|_| None),
            Err(ReplyError::AttachmentUnavailable {
                name: "data.csv".into()
            })
        );
    }

    #[test]
    fn a_restore_sends_attachments_back_as_inline_data_or_says_they_are_gone() {
        let chart = AttachmentRef {
            sha256: "c".repeat(64),
            name: "chart.png".into(),
            mime_type: "image/png".into(),
            size: 10,
            origin: Some("reply".into()),
            ..AttachmentRef::default()
        };
        let question = with_attachment(Event::text("user", "inv", 1.0, "stats?"), &csv());
        let answer = with_attachment(Event::text("analyst", "inv", 2.0, "Here."), &chart);
        let again = with_attachment(Event::text("user", "inv2", 3.0, "again"), &csv());
        let session = Session {
            id: "local".into(),
            app_name: "analyst".into(),
            user_id: "u".into(),
            state: State::new(),
            events: vec![question, answer, again],
            last_update_time: 3.0,
        };
        assert_eq!(restore_needs(&session), vec![csv().sha256, chart.sha256]);
        let stored = |hash: &str| (hash == csv().sha256).then_some(CSV);
        let body = restore_request(&session, "server-1", &stored);
        let events = body["events"].as_array().unwrap();
        assert_eq!(
            events[0]["content"],
            json!({"role": "user", "parts": [
                {"text": "stats?"},
                {"inlineData": {"mimeType": "text/csv", "data": "eCx5CjEsMgo=",
                                "displayName": "data.csv"}}
            ]})
        );
        assert_eq!(
            events[1]["content"]["parts"][1],
            json!({"text": "[attachment unavailable: chart.png]"})
        );
        assert!(!body.to_string().contains("\"attachment\""), "{body}");
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
}
