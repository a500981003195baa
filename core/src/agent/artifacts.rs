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
use crate::attachments::NewBlob;
use crate::bytes::base64_decode;
use crate::session::{AttachmentRef, Content, Event, Part};

/// Where a reference came from when an agent saved it as an artifact.
pub const ARTIFACT_ORIGIN: &str = "artifact";

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

/// An artifact a run's event says the agent saved (`artifactDelta`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SavedArtifact {
    /// The index of the event that carries it, among the run's events.
    pub event: usize,
    pub name: String,
    pub version: u64,
}

/// Every artifact `events` say were saved, in order: what to fetch.
pub fn saved_artifacts(events: &[Event]) -> Vec<SavedArtifact> {
    events
        .iter()
        .enumerate()
        .flat_map(|(index, event)| {
            event
                .actions
                .artifact_delta
                .iter()
                .map(move |(name, version)| SavedArtifact {
                    event: index,
                    name: name.clone(),
                    version: *version,
                })
        })
        .collect()
}

/// Puts artifact `name`, as fetched (`mime_type`, `bytes`), on `event` as
/// an attachment saved by the agent, and returns the blob to store. The
/// same bytes already on the event (the analysis agent sends its chart
/// inline too) are that attachment, marked as the artifact and named
/// after it: one chip, and no blob to store (it is stored already).
pub fn attach_artifact(
    event: &mut Event,
    name: &str,
    mime_type: &str,
    bytes: Vec<u8>,
) -> Option<NewBlob> {
    let blob = NewBlob::of(mime_type, bytes);
    let content = event.content.get_or_insert_with(|| Content {
        role: "model".to_owned(),
        parts: Vec::new(),
    });
    for part in &mut content.parts {
        if let Some(mut reference) = part.attachment_ref()
            && reference.sha256 == blob.sha256
        {
            reference.origin = Some(ARTIFACT_ORIGIN.to_owned());
            reference.name = name.to_owned();
            *part = Part::attachment(&reference);
            return None;
        }
    }
    let table = match blob.mime_type.as_str() {
        "text/csv" | "text/tab-separated-values" => {
            crate::attachments::csv::preview(&blob.bytes, name)
        }
        _ => None,
    };
    content.parts.push(Part::attachment(&AttachmentRef {
        sha256: blob.sha256.clone(),
        name: name.to_owned(),
        mime_type: blob.mime_type.clone(),
        size: blob.bytes.len() as u64,
        table,
        origin: Some(ARTIFACT_ORIGIN.to_owned()),
        ..AttachmentRef::default()
    }));
    Some(blob)
}

/// The artifacts `event` says were saved that are not attached to it (the
/// fetch failed, or the reply was saved before Confab fetched artifacts):
/// the reply names them as unavailable.
pub fn missing_artifacts(event: &Event) -> Vec<String> {
    let attached = event.attachments();
    event
        .actions
        .artifact_delta
        .keys()
        .filter(|name| {
            !attached
                .iter()
                .any(|a| a.origin.as_deref() == Some(ARTIFACT_ORIGIN) && &a.name == *name)
        })
        .cloned()
        .collect()
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

    /// The analysis agent's chart event as the stream joins it: the image
    /// inline (already moved to a reference) and the artifact delta.
    fn chart_event(png: &[u8]) -> Event {
        let mut event: Event = serde_json::from_value(serde_json::json!({
            "id": "e", "author": "analyst", "invocationId": "i", "timestamp": 1.0,
            "content": {"role": "model", "parts": [
                {"inlineData": {"mimeType": "image/png",
                                "data": crate::bytes::base64_url_encode(png),
                                "displayName": "chart.png"}}
            ]},
            "actions": {"artifactDelta": {"chart.png": 0}}
        }))
        .unwrap();
        crate::attachments::offload_inline(&mut event, "reply");
        event
    }

    #[test]
    fn the_artifacts_of_a_run_are_listed_by_event() {
        let mut second = Event::text("analyst", "i", 2.0, "done");
        second.actions.artifact_delta.insert("out/b.csv".into(), 3);
        second.actions.artifact_delta.insert("a.txt".into(), 0);
        let events = vec![Event::text("analyst", "i", 1.0, "hi"), second];
        assert_eq!(
            saved_artifacts(&events),
            vec![
                SavedArtifact {
                    event: 1,
                    name: "a.txt".into(),
                    version: 0
                },
                SavedArtifact {
                    event: 1,
                    name: "out/b.csv".into(),
                    version: 3
                },
            ]
        );
        assert_eq!(saved_artifacts(&events[..1]), vec![]);
    }

    #[test]
    fn an_artifact_with_the_bytes_of_an_inline_image_is_that_one_chip() {
        let png = b"\x89PNG\r\n\x1a\nchart".to_vec();
        let mut event = chart_event(&png);
        assert_eq!(missing_artifacts(&event), ["chart.png"]);
        assert_eq!(
            attach_artifact(&mut event, "chart.png", "image/png", png.clone()),
            None
        );
        let attached = event.attachments();
        assert_eq!(attached.len(), 1, "{attached:?}");
        assert_eq!(attached[0].origin.as_deref(), Some("artifact"));
        assert_eq!(attached[0].sha256, crate::bytes::sha256_hex(&png));
        assert_eq!(missing_artifacts(&event), Vec::<String>::new());
        // Fetched again (a missed event read back): still one.
        assert_eq!(
            attach_artifact(&mut event, "chart.png", "image/png", png),
            None
        );
        assert_eq!(event.attachments().len(), 1);
    }

    #[test]
    fn an_artifact_not_in_the_event_is_added_with_its_blob() {
        let png = b"\x89PNG\r\n\x1a\nchart".to_vec();
        let mut event = chart_event(&png);
        event.actions.artifact_delta.insert("summary.csv".into(), 1);
        let csv = b"col,mean\nx,4.5\n".to_vec();
        let blob = attach_artifact(&mut event, "summary.csv", "text/csv", csv.clone());
        assert_eq!(blob, Some(NewBlob::of("text/csv", csv.clone())));
        let added = event.attachments().pop().unwrap();
        assert_eq!(added.name, "summary.csv");
        assert_eq!(added.size, csv.len() as u64);
        assert_eq!(added.origin.as_deref(), Some("artifact"));
        assert_eq!(
            added.table.map(|t| t.header),
            Some(vec!["col".into(), "mean".into()])
        );
        // The chart was not fetched (yet): it alone is missing.
        assert_eq!(missing_artifacts(&event), ["chart.png"]);
        // An event without content gets one.
        let mut bare = Event::text("analyst", "i", 1.0, "");
        bare.content = None;
        assert!(attach_artifact(&mut bare, "n.txt", "text/plain", b"n".to_vec()).is_some());
        assert_eq!(bare.attachments()[0].name, "n.txt");
        assert_eq!(bare.content.unwrap().role, "model");
    }
}
