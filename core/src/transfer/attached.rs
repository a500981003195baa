//! Attachments in an export: their bytes travel in the same JSON file, as
//! standard base64 under `"attachments": {"<sha256>": {"mimeType", "name",
//! "data"}}` (absent when there are none), so a backup is still one file a
//! person can open. Base64 costs a third more than a zip would; a zip writer
//! and reader would cost more than that in the wasm, and a backup of
//! conversations is mostly text anyway.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::{ExportFile, ImportError};
use crate::bytes::{base64_decode, base64_encode, is_sha256_hex, sha256_hex};
use crate::session::AttachmentRef;
use crate::storage::NewBlob;

/// One attachment's bytes in an export file, under its SHA-256.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ExportedBlob {
    pub mime_type: String,
    /// The name it was first attached under (for a person reading the file).
    pub name: String,
    /// Standard base64.
    pub data: String,
}

/// Every attachment the file's conversations refer to, once per hash, in
/// the order they appear.
pub fn referenced_attachments(file: &ExportFile) -> Vec<AttachmentRef> {
    let mut seen = std::collections::BTreeSet::new();
    file.conversations
        .iter()
        .flat_map(|c| &c.session.events)
        .flat_map(|e| e.attachments())
        .filter(|a| seen.insert(a.sha256.clone()))
        .collect()
}

/// Puts the bytes of every attachment the file refers to into it, read by
/// `read` (the browser reads them from IndexedDB first: this is sync).
/// Returns how many could not be read: they are left out, and the shell
/// says so ("2 attachments were unavailable and are not in the backup").
pub fn add_attachments(file: &mut ExportFile, read: &dyn Fn(&str) -> Option<Vec<u8>>) -> usize {
    let mut unavailable = 0;
    for attachment in referenced_attachments(file) {
        // Bytes that are not what the reference names are as good as lost.
        match read(&attachment.sha256).filter(|b| sha256_hex(b) == attachment.sha256) {
            Some(bytes) => {
                file.attachments.insert(
                    attachment.sha256,
                    ExportedBlob {
                        mime_type: attachment.mime_type,
                        name: attachment.name,
                        data: base64_encode(&bytes),
                    },
                );
            }
            None => unavailable += 1,
        }
    }
    unavailable
}

/// The blobs of an export file, each checked: its key a SHA-256, its data
/// base64 whose SHA-256 is that key. The shell stores them before the
/// conversations; stored by hash, a second import of the file adds none.
pub fn attachment_blobs(file: &ExportFile) -> Result<Vec<NewBlob>, ImportError> {
    checked(&file.attachments)
}

fn checked(attachments: &BTreeMap<String, ExportedBlob>) -> Result<Vec<NewBlob>, ImportError> {
    let mut blobs = Vec::with_capacity(attachments.len());
    for (key, blob) in attachments {
        let bad = |why: &str| ImportError::BadAttachment {
            name: blob.name.clone(),
            why: why.to_owned(),
        };
        if !is_sha256_hex(key) {
            return Err(bad("its key is not a SHA-256"));
        }
        let bytes = base64_decode(&blob.data).ok_or_else(|| bad("its data is not base64"))?;
        let new = NewBlob::of(&blob.mime_type, bytes);
        if new.sha256 != *key {
            return Err(bad("its bytes do not match its SHA-256"));
        }
        blobs.push(new);
    }
    Ok(blobs)
}
