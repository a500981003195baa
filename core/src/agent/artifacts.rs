//! The artifacts an agent saves (ADK's artifact service, listed in an
//! event's `actions.artifactDelta`), fetched from the api_server's routes
//! for the session (google-adk 2.13, cli/api_server.py):
//!
//! - `GET /apps/{app}/users/{user}/sessions/{sid}/artifacts`: the names;
//! - `GET …/artifacts/{name}`: the latest version, as a Part;
//! - `GET …/artifacts/{name}/versions/{version}`: one version, as a Part;
//! - `GET …/artifacts/{name}/versions`: the version numbers.
//!
//! A name may hold `/` (the route's `{artifact_name:path}`).

use serde_json::Value;

use super::server::{segment, session_url};
use crate::bytes::base64_decode;

/// `GET`: artifact `name` of a session, its latest version or `version`.
pub fn artifact_url(
    base: &str,
    app: &str,
    user: &str,
    session_id: &str,
    name: &str,
    version: Option<u64>,
) -> String {
    // Each piece of a path-like name encoded, its slashes kept: the route
    // takes the rest of the path as the name.
    let name: Vec<String> = name.split('/').map(segment).collect();
    let latest = format!(
        "{}/artifacts/{}",
        session_url(base, app, user, session_id),
        name.join("/")
    );
    match version {
        Some(version) => format!("{latest}/versions/{version}"),
        None => latest,
    }
}

/// The type and bytes of an artifact as the server answers it: a Part,
/// `{"inlineData": {"mimeType", "data"}}` (pydantic's aliases; snake_case
/// `inline_data`/`mime_type` also read), `data` in either base64 alphabet.
/// A text artifact (`{"text": …}`) is `text/plain`. `None` for anything
/// else (a file reference, a malformed body).
pub fn artifact_bytes(body: &str) -> Option<(String, Vec<u8>)> {
    let part: Value = serde_json::from_str(body).ok()?;
    if let Some(text) = part.get("text").and_then(Value::as_str) {
        return Some(("text/plain".to_owned(), text.as_bytes().to_vec()));
    }
    let inline = part.get("inlineData").or_else(|| part.get("inline_data"))?;
    let mime = inline
        .get("mimeType")
        .or_else(|| inline.get("mime_type"))
        .and_then(Value::as_str)
        .unwrap_or("application/octet-stream");
    let data = base64_decode(inline.get("data")?.as_str()?)?;
    Some((mime.to_owned(), data))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::session::Event;

    #[test]
    fn artifact_routes_are_the_servers() {
        assert_eq!(
            artifact_url("/adk", "analyst", "ada", "s1", "chart.png", None),
            "/adk/apps/analyst/users/ada/sessions/s1/artifacts/chart.png"
        );
        assert_eq!(
            artifact_url(
                "/adk/",
                "analyst",
                "ada",
                "s1",
                "out/summary stats.csv",
                Some(2)
            ),
            "/adk/apps/analyst/users/ada/sessions/s1/artifacts/out/summary%20stats.csv/versions/2"
        );
    }

    #[test]
    fn an_artifact_part_gives_its_type_and_bytes() {
        // As api_server writes a Part (by alias, URL-safe base64).
        let body = r#"{"inlineData":{"data":"-__-AEE=","mimeType":"image/png"}}"#;
        assert_eq!(
            artifact_bytes(body),
            Some(("image/png".into(), vec![0xfb, 0xff, 0xfe, 0x00, 0x41]))
        );
        let snake = r#"{"inline_data":{"data":"aGk=","mime_type":"text/csv"}}"#;
        assert_eq!(
            artifact_bytes(snake),
            Some(("text/csv".into(), b"hi".to_vec()))
        );
        assert_eq!(
            artifact_bytes(r#"{"text":"note"}"#),
            Some(("text/plain".into(), b"note".to_vec()))
        );
        for bad in [
            r#"{"fileData":{"fileUri":"gs://x"}}"#,
            r#"{"inlineData":{"data":"not base64!"}}"#,
            "null",
            "<html>",
        ] {
            assert_eq!(artifact_bytes(bad), None, "{bad}");
        }
    }

    #[test]
    fn an_events_artifact_delta_is_kept_and_written_back() {
        let event: Event = serde_json::from_str(
            r#"{"id":"e","author":"analyst","invocationId":"i","timestamp":1.0,
                "actions":{"stateDelta":{},"artifactDelta":{"chart.png":0,"odd":"x"},
                           "requestedAuthConfigs":{}}}"#,
        )
        .unwrap();
        assert_eq!(
            event.actions.artifact_delta.into_iter().collect::<Vec<_>>(),
            [("chart.png".to_owned(), 0)]
        );
        // Absent, it writes nothing; present, under ADK's name.
        let plain = Event::text("user", "i", 1.0, "hi");
        assert!(!serde_json::to_string(&plain).unwrap().contains("actions"));
        let mut saved = plain;
        saved.actions.artifact_delta.insert("chart.png".into(), 1);
        assert!(
            serde_json::to_string(&saved)
                .unwrap()
                .contains(r#""actions":{"artifactDelta":{"chart.png":1}}"#)
        );
        // Not an object: none, and the event still reads.
        let odd: Event = serde_json::from_str(
            r#"{"id":"e","author":"a","invocationId":"i","timestamp":1.0,"actions":{"artifactDelta":5}}"#,
        )
        .unwrap();
        assert!(odd.actions.is_empty());
    }
}
