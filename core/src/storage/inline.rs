//! Bytes that arrive inside events (ADK's `inlineData` parts: an agent's
//! chart, a file it returns) moved out to the blob store, leaving an
//! attachment reference in the event; and the blobs a migration set aside
//! for the browser to move into IndexedDB.
//!
//! This works on JSON values, because the schema-4 migration does (below
//! the session types); `attachments::offload_inline` applies it to an
//! `Event`. The reference it writes is the one `session::AttachmentRef`
//! reads: `{"attachment": {"sha256", "name", "mimeType", "size", "origin"}}`.

use serde_json::{Map, Value, json};

use super::{KvError, KvStore, keys, read_json};
use crate::bytes::{base64_decode, base64_encode, is_sha256_hex, sha256_hex};

/// Bytes to store under their SHA-256.
#[derive(Clone, Debug, PartialEq)]
pub struct NewBlob {
    pub sha256: String,
    pub mime_type: String,
    pub bytes: Vec<u8>,
}

impl NewBlob {
    /// `bytes` with their hash computed.
    pub fn of(mime_type: &str, bytes: Vec<u8>) -> Self {
        Self {
            sha256: sha256_hex(&bytes),
            mime_type: mime_type.to_owned(),
            bytes,
        }
    }
}

/// The key of the reference part (`session::ATTACHMENT_PART`, which this
/// layer cannot name).
const ATTACHMENT_PART: &str = "attachment";

/// A file name's extension for a type, for bytes that came without a name.
pub fn extension_for(mime_type: &str) -> &'static str {
    match mime_type {
        "image/png" => "png",
        "image/jpeg" => "jpg",
        "image/webp" => "webp",
        "image/gif" => "gif",
        "image/svg+xml" => "svg",
        "application/pdf" => "pdf",
        "text/csv" => "csv",
        "text/tab-separated-values" => "tsv",
        "text/markdown" => "md",
        "text/html" => "html",
        "application/json" => "json",
        "application/xml" | "text/xml" => "xml",
        t if t.starts_with("text/") => "txt",
        _ => "bin",
    }
}

/// A name for the `ordinal`-th (from 1) unnamed file of an event:
/// `image-1.png`, `file-2.pdf`.
pub fn default_name(mime_type: &str, ordinal: usize) -> String {
    let stem = if mime_type.starts_with("image/") {
        "image"
    } else {
        "file"
    };
    format!("{stem}-{ordinal}.{}", extension_for(mime_type))
}

/// The attachment part that replaces `part` if it is an `inlineData` part
/// whose data decodes, and the blob to store. `ordinal` names it when it has
/// no `displayName`.
pub fn offload_part(
    part: &Map<String, Value>,
    ordinal: usize,
    origin: &str,
) -> Option<(Map<String, Value>, NewBlob)> {
    let inline = part.get("inlineData")?.as_object()?;
    let mime_type = inline
        .get("mimeType")
        .and_then(Value::as_str)
        .filter(|m| !m.is_empty())
        .unwrap_or("application/octet-stream");
    let bytes = base64_decode(inline.get("data")?.as_str()?)?;
    let name = inline
        .get("displayName")
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .map_or_else(|| default_name(mime_type, ordinal), str::to_owned);
    let blob = NewBlob::of(mime_type, bytes);
    let reference = json!({
        "sha256": blob.sha256,
        "name": name,
        "mimeType": blob.mime_type,
        "size": blob.bytes.len(),
        "origin": origin,
    });
    let mut replaced = Map::new();
    replaced.insert(ATTACHMENT_PART.to_owned(), reference);
    Some((replaced, blob))
}

/// Every `inlineData` part of a JSON event replaced by a reference; the
/// blobs, in order. A part whose data does not decode is left as it is.
pub fn offload_event(event: &mut Value, origin: &str) -> Vec<NewBlob> {
    let Some(parts) = event
        .get_mut("content")
        .and_then(|c| c.get_mut("parts"))
        .and_then(Value::as_array_mut)
    else {
        return Vec::new();
    };
    let mut blobs = Vec::new();
    for part in parts {
        let Some(object) = part.as_object() else {
            continue;
        };
        if let Some((replaced, blob)) = offload_part(object, blobs.len() + 1, origin) {
            *part = Value::Object(replaced);
            blobs.push(blob);
        }
    }
    blobs
}

/// The distinct SHA-256s a JSON session body's events refer to, sorted
/// (what `SessionSummary::attachments` holds).
pub fn referenced_hashes(body: &Value) -> Vec<String> {
    let mut found = std::collections::BTreeSet::new();
    let events = body.get("events").and_then(Value::as_array);
    for event in events.into_iter().flatten() {
        let parts = event
            .get("content")
            .and_then(|c| c.get("parts"))
            .and_then(Value::as_array);
        for part in parts.into_iter().flatten() {
            if let Some(hash) = part
                .get(ATTACHMENT_PART)
                .and_then(|a| a.get("sha256"))
                .and_then(Value::as_str)
                .filter(|h| is_sha256_hex(h))
            {
                found.insert(hash.to_owned());
            }
        }
    }
    found.into_iter().collect()
}

/// The stored text of a pending blob: `{"mimeType", "data"}` in standard
/// base64 (packed by its key, like session bodies).
pub fn pending_value(blob: &NewBlob) -> String {
    json!({ "mimeType": blob.mime_type, "data": base64_encode(&blob.bytes) }).to_string()
}

/// Blobs a migration left in the key-value store for the browser to move
/// into IndexedDB. The move is: store the blob, then remove its key, so a
/// tab closed in between only stores it again (the same hash, once).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct PendingBlobs {
    /// `(key, blob)`, each blob checked against the hash in its key.
    pub ready: Vec<(String, NewBlob)>,
    /// `(key, why)`: keys that do not hold a readable blob (for quarantine).
    pub unreadable: Vec<(String, String)>,
}

/// Every pending blob in `kv`.
pub fn pending_blobs(kv: &impl KvStore) -> Result<PendingBlobs, KvError> {
    let mut found = PendingBlobs::default();
    for key in kv.keys_with_prefix(keys::BLOB_PENDING)? {
        let Some(hash) = key.strip_prefix(keys::BLOB_PENDING) else {
            continue;
        };
        let value: Value = match read_json(kv, &key) {
            Ok(Some(value)) => value,
            Ok(None) => continue,
            Err(error) => {
                found.unreadable.push((key.clone(), error.to_string()));
                continue;
            }
        };
        let mime_type = value.get("mimeType").and_then(Value::as_str);
        let bytes = value
            .get("data")
            .and_then(Value::as_str)
            .and_then(base64_decode);
        match (mime_type, bytes) {
            (Some(mime_type), Some(bytes)) => {
                let blob = NewBlob::of(mime_type, bytes);
                if blob.sha256 == hash {
                    found.ready.push((key, blob));
                } else {
                    found
                        .unreadable
                        .push((key, "its bytes do not match its SHA-256".into()));
                }
            }
            _ => found
                .unreadable
                .push((key, "it has no type or no base64 data".into())),
        }
    }
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bytes::base64_url_encode;
    use crate::storage::{MemoryKv, write_json};

    fn event_with(parts: Value) -> Value {
        json!({"id": "e", "author": "agent", "timestamp": 1.0,
               "content": {"role": "model", "parts": parts}})
    }

    #[test]
    fn inline_data_becomes_a_reference_and_a_blob() {
        let png = b"\x89PNG\r\n\x1a\nchart".to_vec();
        let mut event = event_with(json!([
            {"text": "Here is the chart"},
            {"inlineData": {"mimeType": "image/png", "data": base64_url_encode(&png)}},
            {"inlineData": {"mimeType": "text/csv", "data": base64_encode(b"a,b\n1,2\n"),
                            "displayName": "stats.csv"}},
            {"inlineData": {"mimeType": "image/png", "data": "not base64!"}},
        ]));
        let blobs = offload_event(&mut event, "reply");
        assert_eq!(blobs.len(), 2);
        assert_eq!(blobs[0].bytes, png);
        assert_eq!(blobs[0].sha256, sha256_hex(&png));
        let parts = &event["content"]["parts"];
        assert_eq!(parts[0]["text"], "Here is the chart");
        assert_eq!(
            parts[1]["attachment"],
            json!({"sha256": sha256_hex(&png), "name": "image-1.png",
                   "mimeType": "image/png", "size": png.len(), "origin": "reply"})
        );
        assert_eq!(parts[2]["attachment"]["name"], "stats.csv");
        assert_eq!(
            parts[3]["inlineData"]["data"], "not base64!",
            "undecodable data is left as it is"
        );
        assert_eq!(
            referenced_hashes(&json!({"events": [event.clone(), event]})),
            {
                let mut hashes = vec![sha256_hex(&png), sha256_hex(b"a,b\n1,2\n")];
                hashes.sort();
                hashes
            }
        );
    }

    #[test]
    fn pending_blobs_are_checked_against_their_key() {
        let kv = MemoryKv::new();
        let good = NewBlob::of("image/png", b"png bytes".to_vec());
        let key = keys::blob_pending(&good.sha256);
        kv.set(
            &key,
            &crate::storage::stored_form(&key, pending_value(&good)),
        )
        .unwrap();
        let liar = keys::blob_pending(&sha256_hex(b"other"));
        write_json(
            &kv,
            &liar,
            &json!({"mimeType": "image/png", "data": base64_encode(b"x")}),
        )
        .unwrap();
        let broken = keys::blob_pending(&sha256_hex(b"broken"));
        kv.set(&broken, "{").unwrap();
        kv.set(keys::INDEX, "{}").unwrap();
        assert!(
            kv.get(&key)
                .unwrap()
                .unwrap()
                .starts_with(super::super::packed::MARK)
        );
        let found = pending_blobs(&kv).unwrap();
        assert_eq!(found.ready, vec![(key, good)]);
        let unreadable: Vec<&str> = found.unreadable.iter().map(|(k, _)| k.as_str()).collect();
        let mut expected = vec![liar.as_str(), broken.as_str()];
        expected.sort();
        assert_eq!(unreadable, expected);
    }
}
