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
/// Read by hand from its JSON (`from_value`; a derived reader through
/// `&Value` was 3.5 KB of wasm).
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
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

    /// The reference `value` holds: the four required fields there with
    /// their types, each optional one absent, null or of its type;
    /// anything else is none (as a derived reader would refuse it).
    pub fn from_value(value: &Value) -> Option<Self> {
        let text = |name| value.get(name)?.as_str().map(str::to_owned);
        let dimension = |v: &Value| u32::try_from(v.as_u64()?).ok();
        Some(Self {
            sha256: text("sha256")?,
            name: text("name")?,
            mime_type: text("mimeType")?,
            size: value.get("size")?.as_u64()?,
            width: optional(value.get("width"), dimension)?,
            height: optional(value.get("height"), dimension)?,
            table: optional(value.get("table"), TablePreview::from_value)?,
            origin: optional(value.get("origin"), |v| v.as_str().map(str::to_owned))?,
        })
    }
}

/// An optional field: `Some(None)` when absent or null, `None` when
/// `read` refuses it.
fn optional<T>(field: Option<&Value>, read: impl Fn(&Value) -> Option<T>) -> Option<Option<T>> {
    match field {
        None | Some(Value::Null) => Some(None),
        Some(value) => read(value).map(Some),
    }
}

impl<'de> Deserialize<'de> for AttachmentRef {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Self::from_value(&Value::deserialize(deserializer)?)
            .ok_or_else(|| serde::de::Error::custom("not an attachment reference"))
    }
}

impl TablePreview {
    /// The preview `value` holds, every field there with its type.
    fn from_value(value: &Value) -> Option<Self> {
        let count = |name| usize::try_from(value.get(name)?.as_u64()?).ok();
        let cells = |row: &Value| {
            row.as_array()?
                .iter()
                .map(|cell| cell.as_str().map(str::to_owned))
                .collect::<Option<Vec<_>>>()
        };
        Some(Self {
            columns: count("columns")?,
            rows: count("rows")?,
            header: cells(value.get("header")?)?,
            head: value
                .get("head")?
                .as_array()?
                .iter()
                .map(cells)
                .collect::<Option<Vec<_>>>()?,
        })
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
            .and_then(AttachmentRef::from_value)
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
    use serde_json::json;

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
        let sha = "a".repeat(64);
        for odd in [
            json!({"sha256": sha, "name": "x", "mimeType": "a/b"}),
            json!({"sha256": sha, "name": "x", "mimeType": "a/b", "size": "1"}),
            json!({"sha256": sha, "name": "x", "mimeType": "a/b", "size": 1, "width": -2}),
            json!({"sha256": sha, "name": "x", "mimeType": "a/b", "size": 1, "origin": 3}),
            json!({"sha256": sha, "name": "x", "mimeType": "a/b", "size": 1,
                   "table": {"columns": 1, "rows": 1, "header": ["a"], "head": [[1]]}}),
        ] {
            assert_eq!(AttachmentRef::from_value(&odd), None, "{odd}");
        }
    }

    #[test]
    fn every_field_reads_back_as_written_and_nulls_are_absent() {
        let full = AttachmentRef {
            table: Some(TablePreview {
                columns: 2,
                rows: 3,
                header: vec!["city".into(), "temp".into()],
                head: vec![vec!["Paris".into(), "12,5".into()]],
            }),
            origin: Some("reply".into()),
            ..chart()
        };
        let value = serde_json::to_value(&full).unwrap();
        assert_eq!(AttachmentRef::from_value(&value), Some(full.clone()));
        assert_eq!(
            serde_json::from_value::<AttachmentRef>(value).unwrap(),
            full
        );
        let nulls = json!({"sha256": "b".repeat(64), "name": "n", "mimeType": "text/csv",
                           "size": 4, "width": null, "table": null, "origin": null});
        let read = AttachmentRef::from_value(&nulls).unwrap();
        assert_eq!((read.width, read.table, read.origin), (None, None, None));
    }
}
