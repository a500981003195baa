//! A file in a conversation, as its events hold it: a reference to bytes
//! kept elsewhere (the browser's IndexedDB, content-addressed by SHA-256),
//! never the bytes. localStorage holds conversations, and a single chart in
//! base64 is ~100 KB of it.
//!
//! A reference is one part of an event's content, under [`ATTACHMENT_PART`]:
//! `{"attachment": {"sha256", "name", "mimeType", "size", …}}`. An older
//! Confab keeps it as an unknown part kind; the wires (OpenAI content parts,
//! ADK `inlineData`) are built from it with the bytes when sent.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::model::{Event, Part};

/// The key of a part that refers to an attachment.
pub const ATTACHMENT_PART: &str = "attachment";

/// An attachment: what it is, and the hash its bytes are stored under.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AttachmentRef {
    /// SHA-256 of the bytes, 64 lowercase hex digits: the blob's key, so
    /// the same file attached twice is stored once.
    pub sha256: String,
    /// The file's name as the user had it (or as an agent named it).
    pub name: String,
    pub mime_type: String,
    /// Bytes, of the stored copy (an image is stored downscaled).
    pub size: u64,
    /// An image's pixel size, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub width: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub height: Option<u32>,
    /// A CSV/TSV file's preview, kept with the reference so the message
    /// shows it without reading the bytes (bounded: a header and a few
    /// rows of short cells).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub table: Option<TablePreview>,
    /// Where it came from, when not the user: `artifact` (an agent saved
    /// it) or `reply` (inline data in a reply).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub origin: Option<String>,
}

/// The first rows of a table, and its size.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TablePreview {
    pub columns: usize,
    /// Data rows, the header not counted.
    pub rows: usize,
    pub header: Vec<String>,
    pub head: Vec<Vec<String>>,
}

impl AttachmentRef {
    pub fn is_image(&self) -> bool {
        self.mime_type.starts_with("image/")
    }
}

impl Part {
    /// A part referring to `attachment`.
    pub fn attachment(attachment: &AttachmentRef) -> Self {
        let mut other = serde_json::Map::new();
        other.insert(
            ATTACHMENT_PART.to_owned(),
            serde_json::to_value(attachment).unwrap_or(Value::Null),
        );
        Self { text: None, other }
    }

    /// The attachment this part refers to, if it is one (a malformed
    /// reference counts as none).
    pub fn attachment_ref(&self) -> Option<AttachmentRef> {
        self.other
            .get(ATTACHMENT_PART)
            .and_then(|v| AttachmentRef::deserialize(v).ok())
            .filter(|a| a.sha256.len() == 64)
    }
}

impl Event {
    /// The attachments of this event, in order.
    pub fn attachments(&self) -> Vec<AttachmentRef> {
        self.content
            .iter()
            .flat_map(|c| &c.parts)
            .filter_map(Part::attachment_ref)
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chart() -> AttachmentRef {
        AttachmentRef {
            sha256: "a".repeat(64),
            name: "chart.png".into(),
            mime_type: "image/png".into(),
            size: 1234,
            width: Some(320),
            height: Some(200),
            ..AttachmentRef::default()
        }
    }

    #[test]
    fn a_reference_part_round_trips_and_is_not_text() {
        let mut event = Event::text("user", "i", 1.0, "look");
        event
            .content
            .as_mut()
            .unwrap()
            .parts
            .push(Part::attachment(&chart()));
        let json = serde_json::to_string(&event).unwrap();
        assert!(json.contains(r#"{"attachment":{"#), "{json}");
        assert!(!json.contains("table"), "absent fields stay off: {json}");
        let back: Event = serde_json::from_str(&json).unwrap();
        assert_eq!(back.attachments(), vec![chart()]);
        assert_eq!(back.text_content(), "look");
    }

    #[test]
    fn a_malformed_reference_is_no_attachment() {
        let part: Part = serde_json::from_str(
            r#"{"attachment": {"sha256": "abc", "name": "x", "mimeType": "a/b", "size": 1}}"#,
        )
        .unwrap();
        assert_eq!(part.attachment_ref(), None);
        let part: Part = serde_json::from_str(r#"{"attachment": 5}"#).unwrap();
        assert_eq!(part.attachment_ref(), None);
    }
}
