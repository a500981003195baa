//! The bytes of attachments, kept apart from the conversations that refer
//! to them: content-addressed by SHA-256 (the same file twice is stored
//! once), written all or nothing, and collected when no conversation in the
//! index refers to them any more.
//!
//! [`BlobStore`] is synchronous so the host tests drive it; the browser's
//! IndexedDB adapter is asynchronous and reuses the decisions here
//! ([`garbage`], [`usage`], [`BlobError`]) as plain functions.

use std::collections::{BTreeMap, BTreeSet};

use thiserror::Error;

use crate::session::SessionSummary;
use crate::storage::NewBlob;
use crate::units;

/// What the store knows of a blob without reading it.
#[derive(Clone, Debug, PartialEq)]
pub struct BlobMeta {
    pub sha256: String,
    pub mime_type: String,
    pub size: u64,
    /// Seconds since the epoch, when it was first stored.
    pub stored_at: f64,
}

#[derive(Clone, Debug, Error, PartialEq)]
pub enum BlobError {
    #[error(
        "There is no room to store {} more of attachments: attachments already use {} of this browser's storage. Export your conversations (Settings → Data), then delete ones you no longer need to make room.",
        units::bytes(*needed as f64),
        units::bytes(*used as f64)
    )]
    Quota { needed: u64, used: u64 },
    #[error(
        "Attachment storage is unavailable ({detail}), so attachments cannot be saved or shown; allow site data for this page, or use a window that is not private."
    )]
    Unavailable { detail: String },
    #[error("The attachment store failed ({detail}); nothing was saved. Try again.")]
    Failed { detail: String },
}

/// A store of blobs by SHA-256.
pub trait BlobStore {
    /// Stores `bytes` under `sha256` (their hash) unless already there.
    /// `Ok(true)`: newly stored. All or nothing: a failure stores nothing.
    fn put(
        &mut self,
        sha256: &str,
        mime_type: &str,
        bytes: &[u8],
        now: f64,
    ) -> Result<bool, BlobError>;
    fn get(&self, sha256: &str) -> Result<Option<Vec<u8>>, BlobError>;
    /// Removes a blob (none there is no error).
    fn delete(&mut self, sha256: &str) -> Result<(), BlobError>;
    fn list(&self) -> Result<Vec<BlobMeta>, BlobError>;
}

/// How long a blob nothing refers to is kept: one just stored (by this tab
/// or another) is not in a saved conversation yet. Blobs are stored when a
/// message is sent or a reply ends, and the conversation is saved right
/// after, so minutes are plenty.
pub const GRACE_SECONDS: f64 = 600.0;

/// Blobs in memory, with an optional quota in bytes (as a browser has).
#[derive(Clone, Debug, Default)]
pub struct MemoryBlobStore {
    blobs: BTreeMap<String, (BlobMeta, Vec<u8>)>,
    quota: Option<u64>,
}

impl MemoryBlobStore {
    pub fn new() -> Self {
        Self::default()
    }

    /// A store that refuses blobs beyond `bytes` in all.
    pub fn with_quota(bytes: u64) -> Self {
        Self {
            quota: Some(bytes),
            ..Self::default()
        }
    }

    pub fn set_quota(&mut self, bytes: Option<u64>) {
        self.quota = bytes;
    }

    /// Bytes stored.
    pub fn used(&self) -> u64 {
        self.blobs.values().map(|(meta, _)| meta.size).sum()
    }
}

impl BlobStore for MemoryBlobStore {
    fn put(
        &mut self,
        sha256: &str,
        mime_type: &str,
        bytes: &[u8],
        now: f64,
    ) -> Result<bool, BlobError> {
        if self.blobs.contains_key(sha256) {
            return Ok(false);
        }
        let (needed, used) = (bytes.len() as u64, self.used());
        if self.quota.is_some_and(|quota| used + needed > quota) {
            return Err(BlobError::Quota { needed, used });
        }
        let meta = BlobMeta {
            sha256: sha256.to_owned(),
            mime_type: mime_type.to_owned(),
            size: needed,
            stored_at: now,
        };
        self.blobs.insert(sha256.to_owned(), (meta, bytes.to_vec()));
        Ok(true)
    }

    fn get(&self, sha256: &str) -> Result<Option<Vec<u8>>, BlobError> {
        Ok(self.blobs.get(sha256).map(|(_, bytes)| bytes.clone()))
    }

    fn delete(&mut self, sha256: &str) -> Result<(), BlobError> {
        self.blobs.remove(sha256);
        Ok(())
    }

    fn list(&self) -> Result<Vec<BlobMeta>, BlobError> {
        Ok(self.blobs.values().map(|(meta, _)| meta.clone()).collect())
    }
}

/// Stores every blob or none: on a failure, the ones this call stored are
/// deleted again. Returns how many were new.
pub fn put_all(
    store: &mut impl BlobStore,
    blobs: &[NewBlob],
    now: f64,
) -> Result<usize, BlobError> {
    let mut stored: Vec<&str> = Vec::new();
    for blob in blobs {
        match store.put(&blob.sha256, &blob.mime_type, &blob.bytes, now) {
            Ok(true) => stored.push(&blob.sha256),
            Ok(false) => {}
            Err(error) => {
                for sha256 in stored {
                    let _ = store.delete(sha256);
                }
                return Err(error);
            }
        }
    }
    Ok(stored.len())
}

/// Every hash a conversation in the index refers to.
pub fn live_hashes(summaries: &[SessionSummary]) -> BTreeSet<String> {
    // Inserted one by one: collecting sorts first (another copy of the
    // standard sort in the wasm).
    let mut live = BTreeSet::new();
    for summary in summaries {
        live.extend(summary.attachments.iter().cloned());
    }
    live
}

/// The blobs no conversation refers to that were stored at least
/// `grace_seconds` ago.
pub fn garbage(
    stored: &[BlobMeta],
    live: &BTreeSet<String>,
    now: f64,
    grace_seconds: f64,
) -> Vec<String> {
    stored
        .iter()
        .filter(|b| !live.contains(&b.sha256) && now - b.stored_at >= grace_seconds)
        .map(|b| b.sha256.clone())
        .collect()
}

/// Deletes the garbage (with [`GRACE_SECONDS`]); returns the bytes freed.
pub fn collect_garbage(
    store: &mut impl BlobStore,
    live: &BTreeSet<String>,
    now: f64,
) -> Result<u64, BlobError> {
    let stored = store.list()?;
    let doomed = garbage(&stored, live, now, GRACE_SECONDS);
    let mut freed = 0;
    for meta in stored.iter().filter(|m| doomed.contains(&m.sha256)) {
        store.delete(&meta.sha256)?;
        freed += meta.size;
    }
    Ok(freed)
}

/// How many blobs, and their bytes.
pub fn usage(stored: &[BlobMeta]) -> (usize, u64) {
    (stored.len(), stored.iter().map(|b| b.size).sum())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn blob(text: &str) -> NewBlob {
        NewBlob::of("text/plain", text.as_bytes().to_vec())
    }

    fn summary(id: &str, hashes: &[&NewBlob]) -> SessionSummary {
        SessionSummary {
            id: id.into(),
            app_name: "confab".into(),
            user_id: "u".into(),
            title: None,
            last_update_time: 1.0,
            event_count: 1,
            attachments: hashes.iter().map(|b| b.sha256.clone()).collect(),
        }
    }

    #[test]
    fn the_same_bytes_twice_are_stored_once() {
        let mut store = MemoryBlobStore::new();
        let a = blob("same bytes");
        assert_eq!(put_all(&mut store, &[a.clone(), a.clone()], 1.0), Ok(1));
        assert_eq!(put_all(&mut store, std::slice::from_ref(&a), 2.0), Ok(0));
        let stored = store.list().unwrap();
        assert_eq!(usage(&stored), (1, 10));
        assert_eq!(stored[0].stored_at, 1.0, "the first store's time is kept");
        assert_eq!(store.get(&a.sha256).unwrap(), Some(a.bytes));
        assert_eq!(store.get(&blob("other").sha256).unwrap(), None);
    }

    #[test]
    fn a_full_store_takes_none_of_a_group() {
        let mut store = MemoryBlobStore::with_quota(25);
        let kept = blob("0123456789");
        put_all(&mut store, std::slice::from_ref(&kept), 1.0).unwrap();
        let group = [kept.clone(), blob("abcdefghij"), blob("klmnopqrst")];
        let error = put_all(&mut store, &group, 2.0).unwrap_err();
        assert_eq!(
            error,
            BlobError::Quota {
                needed: 10,
                used: 20
            }
        );
        assert_eq!(
            store.list().unwrap().len(),
            1,
            "the one stored by the failed group is gone, the older one kept"
        );
        assert!(error.to_string().contains("attachments already use 0.0 KB"));
        assert!(error.to_string().contains("Export your conversations"));
    }

    #[test]
    fn only_blobs_no_conversation_refers_to_are_collected() {
        let mut store = MemoryBlobStore::new();
        let (shared, only_b, orphan, fresh) = (
            blob("shared"),
            blob("only b"),
            blob("orphan!"),
            blob("fresh"),
        );
        put_all(
            &mut store,
            &[shared.clone(), only_b.clone(), orphan.clone()],
            0.0,
        )
        .unwrap();
        put_all(&mut store, std::slice::from_ref(&fresh), 1_000.0).unwrap();
        let index = [summary("a", &[&shared]), summary("b", &[&shared, &only_b])];
        let live = live_hashes(&index);
        assert_eq!(live.len(), 2);
        assert_eq!(collect_garbage(&mut store, &live, 1_100.0), Ok(7));
        assert_eq!(store.get(&orphan.sha256).unwrap(), None);
        assert!(
            store.get(&fresh.sha256).unwrap().is_some(),
            "stored within the grace period: kept"
        );
        // Conversation b deleted: its own blob goes, the shared one stays.
        let live = live_hashes(&index[..1]);
        assert_eq!(
            collect_garbage(&mut store, &live, 1_000.0 + GRACE_SECONDS),
            Ok(6 + 5)
        );
        let left: Vec<String> = store
            .list()
            .unwrap()
            .into_iter()
            .map(|m| m.sha256)
            .collect();
        assert_eq!(left, [shared.sha256]);
    }

    #[test]
    fn grace_is_measured_from_when_a_blob_was_stored() {
        let meta = |sha: &str, at: f64| BlobMeta {
            sha256: sha.repeat(64),
            mime_type: "image/png".into(),
            size: 1,
            stored_at: at,
        };
        let stored = [meta("a", 0.0), meta("b", 50.0), meta("c", 0.0)];
        let live: BTreeSet<String> = ["c".repeat(64)].into();
        assert_eq!(garbage(&stored, &live, 100.0, 60.0), ["a".repeat(64)]);
        assert_eq!(garbage(&stored, &live, 110.0, 60.0).len(), 2);
    }
}
