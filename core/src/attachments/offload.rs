//! Files that come back inside an agent's or a model's events (ADK
//! `inlineData` parts: the seed's charts) moved out to the blob store, the
//! event keeping a reference. The JSON-level work is storage's
//! ([`crate::storage::inline`]), shared with the schema-4 migration.

use crate::session::Event;
use crate::storage::{NewBlob, inline};

/// Every `inlineData` part of `event` becomes an attachment part (named by
/// its `displayName`, else `image-1.png`, `file-2.pdf`…, with `origin`);
/// returns the blobs to store, in order. A part whose data does not decode
/// is left as it is.
pub fn offload_inline(event: &mut Event, origin: &str) -> Vec<NewBlob> {
    let Some(content) = event.content.as_mut() else {
        return Vec::new();
    };
    let mut blobs = Vec::new();
    for part in &mut content.parts {
        if let Some((replaced, blob)) = inline::offload_part(&part.other, blobs.len() + 1, origin) {
            part.text = None;
            part.other = replaced;
            blobs.push(blob);
        }
    }
    blobs
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bytes::{base64_url_encode, sha256_hex};
    use crate::session::AttachmentRef;

    #[test]
    fn an_agents_chart_becomes_a_reference() {
        let png = b"\x89PNG\r\n\x1a\n...".to_vec();
        let mut event: Event = serde_json::from_value(serde_json::json!({
            "id": "e", "author": "analyst", "timestamp": 1.0,
            "content": {"role": "model", "parts": [
                {"text": "Mean is 4.2"},
                {"inlineData": {"mimeType": "image/png", "data": base64_url_encode(&png),
                                "displayName": "chart.png"}},
                {"inlineData": {"mimeType": "image/png", "data": "%%%"}},
            ]}
        }))
        .unwrap();
        let blobs = offload_inline(&mut event, "reply");
        assert_eq!(blobs, vec![NewBlob::of("image/png", png.clone())]);
        assert_eq!(
            event.attachments(),
            vec![AttachmentRef {
                sha256: sha256_hex(&png),
                name: "chart.png".into(),
                mime_type: "image/png".into(),
                size: png.len() as u64,
                origin: Some("reply".into()),
                ..AttachmentRef::default()
            }]
        );
        assert_eq!(event.text_content(), "Mean is 4.2");
        let parts = &event.content.as_ref().unwrap().parts;
        assert!(
            parts[2].other.contains_key("inlineData"),
            "undecodable: kept"
        );
        let json = serde_json::to_string(&event).unwrap();
        assert!(!json.contains("inlineData\":{\"data\":\"iVBOR"), "{json}");
        assert_eq!(
            offload_inline(&mut event, "reply"),
            vec![],
            "nothing left to move"
        );
    }
}
