//! Attachments in the shell: files taken into the message being written
//! (checked by the core, images downscaled by the browser), their bytes
//! stored in IndexedDB before the message is saved (all or nothing), bytes
//! arriving in replies moved there too, blobs no conversation uses any more
//! collected, and what they use counted for Settings → Data.

use std::collections::BTreeMap;

use confab_core::attachments::{self, AttachmentKind, BlobError, NewBlob};
use confab_core::session::AttachmentRef;
use leptos::prelude::*;
use leptos::task::spawn_local;

use super::ChatStore;
use crate::platform::{BrowserClock, LocalStorageKv, blobs, images};

/// An attachment of the message being written: its reference, and an
/// object URL of an image's bytes for its thumbnail (revoked on removal).
#[derive(Clone, Debug, PartialEq)]
pub struct Pending {
    pub reference: AttachmentRef,
    pub thumb: Option<String>,
}

/// Seconds since the Unix epoch (the clock of blob metadata and of GC).
fn now() -> f64 {
    confab_core::Clock::now(&BrowserClock)
}

/// `photo.png` named for the type it was re-encoded as (`photo.webp`), so
/// a download opens as what it is.
fn renamed_for(name: &str, from: &str, to: &str) -> String {
    if from == to {
        return name.to_owned();
    }
    let extension = confab_core::storage::inline::extension_for(to);
    if extension == "bin" {
        return name.to_owned();
    }
    let stem = name.rsplit_once('.').map_or(name, |(stem, _)| stem);
    format!("{stem}.{extension}")
}

/// A file read and described, ready to be pending.
async fn take_file(file: web_sys::File) -> Result<(AttachmentRef, web_sys::Blob), String> {
    let (name, given) = (file.name(), file.type_());
    let kind = attachments::classify(&name, &given).map_err(|e| e.to_string())?;
    attachments::kind::check_size(&name, kind, file.size() as u64).map_err(|e| e.to_string())?;
    let unreadable = |detail: String| {
        attachments::AttachError::Unreadable {
            name: name.clone(),
            detail,
        }
        .to_string()
    };
    let (blob, mime, dimensions, stored_name) = if kind == AttachmentKind::Image {
        let mime = attachments::normalized_mime(&name, &given);
        let small = images::downscale(&file, &mime).await.map_err(unreadable)?;
        let stored_name = renamed_for(&name, &mime, &small.mime_type);
        (
            small.blob,
            small.mime_type,
            Some((small.width, small.height)),
            stored_name,
        )
    } else {
        (file.into(), given, None, name.clone())
    };
    let bytes = blobs::read_blob(&blob)
        .await
        .map_err(|e| unreadable(e.to_string()))?;
    let (reference, _) = attachments::new_attachment(&stored_name, &mime, &bytes, dimensions)
        .map_err(|e| e.to_string())?;
    // The stored type is the core's normalized one.
    let blob = if blob.type_() == reference.mime_type {
        blob
    } else {
        blobs::blob_of(&bytes, &reference.mime_type).map_err(|e| e.to_string())?
    };
    Ok((reference, blob))
}

crate::split::split_point!(
    attach,
    /// Taking a file in (its checks, an image's downscaling, SHA-256, a
    /// CSV's preview): in the release build a chunk fetched when the user
    /// first attaches, pastes or drops a file.
    async fn taking_file(file: web_sys::File) -> Result<(AttachmentRef, web_sys::Blob), String> {
        take_file(file).await
    }
);

/// [`ChatStore::load_blobs`] under way: one boxed future, so its loop is
/// compiled once, not into each reply's state machine (generic over the
/// iterator, it was a copy per caller).
type LoadingBlobs = std::pin::Pin<Box<dyn std::future::Future<Output = BTreeMap<String, Vec<u8>>>>>;

fn load_blobs(hashes: Vec<String>) -> LoadingBlobs {
    Box::pin(async move {
        let mut loaded = BTreeMap::new();
        for hash in hashes {
            if let Ok(Some(bytes)) = blobs::get_bytes(&hash).await {
                loaded.insert(hash, bytes);
            }
        }
        loaded
    })
}

impl ChatStore {
    /// Takes `files` into the message being written, one by one; a file
    /// that cannot be attached is named in a notice and changes nothing.
    pub fn attach_files(&self, files: Vec<web_sys::File>) {
        if files.is_empty() {
            return;
        }
        let store = *self;
        let writing = self.writing;
        writing.attach_notice.set(None);
        writing.attaching.update(|n| *n += files.len());
        spawn_local(async move {
            for file in files {
                let taken = match taking_file(file).await {
                    Ok(taking) => taking.await,
                    Err(error) => Err(error.to_string()),
                };
                let taken = taken.and_then(|(reference, blob)| match store.too_large(&reference) {
                    Some(why) => Err(why),
                    None => Ok((reference, blob)),
                });
                match taken {
                    Ok((reference, blob)) => store.add_pending(reference, blob),
                    Err(why) => writing.attach_notice.set(Some(why)),
                }
                // Counted until it is among the pending files (or named in
                // the notice), so a send waiting for it finds it there.
                writing.attaching.update(|n| *n = n.saturating_sub(1));
                let waiting = (writing.attaching.get_untracked() == 0)
                    .then(|| writing.after_attaching.try_update_value(Option::take))
                    .flatten()
                    .flatten();
                // A file of the batch refused: the notice shows, the text
                // stays, for the user to decide (the notice was cleared
                // when the batch began).
                if let Some(send) = waiting
                    && writing.attach_notice.with_untracked(Option::is_none)
                {
                    send();
                }
            }
        });
    }

    /// Runs `send` once no file is being read any more, at once if none
    /// is: a message sent (Enter) right after choosing a file goes with
    /// it, and not at all if a file is refused meanwhile. A later call
    /// replaces an earlier one still waiting (a second Enter sends once).
    pub fn when_attached(&self, send: impl FnOnce() + 'static) {
        if self.writing.attaching.get_untracked() == 0 {
            send();
            return;
        }
        self.writing.after_attaching.set_value(Some(Box::new(send)));
    }

    /// Why `reference` cannot go to the model that answers the message at
    /// all (too many tokens for its context window, or too many bytes for
    /// one request), with its size and the limit; `None` if it can. An
    /// agent takes what it takes.
    fn too_large(&self, reference: &AttachmentRef) -> Option<String> {
        let options = self
            .on_screen
            .record
            .with_untracked(|c| c.as_ref().map(|c| c.options.clone()));
        let settings = self.settings.get_untracked();
        let answered_by_agent = match &options {
            Some(options) => options.agent().is_some(),
            // A new conversation: as Settings say.
            None => !settings.default_agent_app.trim().is_empty(),
        };
        if answered_by_agent {
            return None;
        }
        confab_core::chat::attachment_fits(&settings, &options.unwrap_or_default(), reference)
            .err()
            .map(|error| error.to_string())
    }

    fn add_pending(&self, reference: AttachmentRef, blob: web_sys::Blob) {
        let writing = self.writing;
        // The same file twice is one attachment.
        if writing
            .pending
            .with_untracked(|p| p.iter().any(|p| p.reference.sha256 == reference.sha256))
        {
            return;
        }
        let thumb = reference
            .is_image()
            .then(|| web_sys::Url::create_object_url_with_blob(&blob).ok())
            .flatten();
        writing
            .pending_blobs
            .update_value(|b| b.push((reference.sha256.clone(), blob)));
        writing
            .pending
            .update(|p| p.push(Pending { reference, thumb }));
    }

    /// Takes the pending attachment `sha256` off the message.
    pub fn remove_pending(&self, sha256: &str) {
        let writing = self.writing;
        writing.pending.update(|pending| {
            pending.retain(|p| {
                let keep = p.reference.sha256 != sha256;
                if !keep && let Some(url) = &p.thumb {
                    let _ = web_sys::Url::revoke_object_url(url);
                }
                keep
            })
        });
        writing
            .pending_blobs
            .update_value(|b| b.retain(|(sha, _)| sha != sha256));
    }

    /// The bytes of a pending attachment, as a `Blob` (for its Download).
    pub fn pending_blob(&self, sha256: &str) -> Option<web_sys::Blob> {
        self.writing.pending_blobs.with_value(|b| {
            b.iter()
                .find(|(sha, _)| sha == sha256)
                .map(|(_, blob)| blob.clone())
        })
    }

    fn clear_pending(&self) {
        for pending in self.writing.pending.get_untracked() {
            self.remove_pending(&pending.reference.sha256);
        }
    }

    /// Sends `text` with the pending attachments: their bytes are stored
    /// first, all or nothing; if that fails (a full quota), nothing is sent,
    /// the text and the chips stay, and the banner says why. Returns whether
    /// the message was sent.
    pub async fn send_attached(&self, text: &str) -> bool {
        let pending = self.writing.pending.get_untracked();
        if pending.is_empty() {
            return self.send(text);
        }
        if self.writing.reply.with_untracked(Option::is_some) {
            return false;
        }
        // The model may have changed since the files were taken: one too
        // large for it now is refused before anything is stored, and the
        // text and the chips stay.
        if let Some(why) = pending.iter().find_map(|p| self.too_large(&p.reference)) {
            self.writing.attach_notice.set(Some(why));
            return false;
        }
        let puts: Vec<blobs::BlobPut> = self.writing.pending_blobs.with_value(|b| {
            b.iter()
                .map(|(sha, blob)| blobs::BlobPut {
                    sha256: sha.clone(),
                    mime_type: blob.type_(),
                    blob: blob.clone(),
                })
                .collect()
        });
        if let Err(error) = blobs::put_all(&puts).await {
            self.note_blob_error(&error);
            return false;
        }
        let references: Vec<AttachmentRef> = pending.into_iter().map(|p| p.reference).collect();
        let sent = self.send_with(text, &references);
        if sent {
            self.clear_pending();
            self.refresh_attachment_usage();
        }
        sent
    }

    /// A failed blob write: a full quota opens the storage banner, saying
    /// what attachments use; anything else is a notice.
    pub(super) fn note_blob_error(&self, error: &BlobError) {
        match error {
            BlobError::Quota { .. } => {
                self.storage.attachments_full.set(Some(error.to_string()));
                self.storage.full.set(true);
                self.refresh_attachment_usage();
            }
            _ => self.writing.attach_notice.set(Some(error.to_string())),
        }
    }

    /// Stores `blobs` (bytes that came in a reply, or waited in
    /// localStorage), all or nothing.
    pub(super) async fn store_new_blobs(&self, new: &[NewBlob]) -> Result<(), BlobError> {
        let mut puts = Vec::with_capacity(new.len());
        for blob in new {
            puts.push(blobs::BlobPut {
                sha256: blob.sha256.clone(),
                mime_type: blob.mime_type.clone(),
                blob: blobs::blob_of(&blob.bytes, &blob.mime_type)?,
            });
        }
        blobs::put_all(&puts).await
    }

    /// `events` with the files inside them (`inlineData`: an agent's
    /// charts) moved to IndexedDB, each part keeping a reference. If they
    /// cannot be stored, the events are kept as they came (nothing lost).
    pub(super) async fn offload_replies(
        &self,
        events: Vec<confab_core::session::Event>,
    ) -> Vec<confab_core::session::Event> {
        let mut offloaded = events.clone();
        let new: Vec<NewBlob> = offloaded
            .iter_mut()
            .flat_map(|event| attachments::offload_inline(event, "reply"))
            .collect();
        if new.is_empty() {
            return events;
        }
        match self.store_new_blobs(&new).await {
            Ok(()) => {
                self.refresh_attachment_usage();
                offloaded
            }
            Err(error) => {
                self.note_blob_error(&error);
                events
            }
        }
    }

    /// The bytes of the blobs `hashes`, those that are stored (for a
    /// request that sends them; a missing one is the core's to judge).
    pub(super) fn load_blobs(hashes: impl IntoIterator<Item = String>) -> LoadingBlobs {
        load_blobs(hashes.into_iter().collect())
    }

    /// Counts the attachments again after a change, if Settings → Data
    /// shows the figure (it is the only reader; counting lists every
    /// blob's record, so it is not done while nobody looks).
    pub fn refresh_attachment_usage(&self) {
        if self.storage.attachments.with_untracked(Option::is_some) {
            self.count_attachments();
        }
    }

    /// Counts the attachments in IndexedDB for Settings → Data.
    pub fn count_attachments(&self) {
        let store = *self;
        spawn_local(async move {
            if let Ok(meta) = blobs::list_meta().await {
                store
                    .storage
                    .attachments
                    .set(Some(attachments::blobs::usage(&meta)));
            }
        });
    }

    /// Moves bytes that a migration or another path left in localStorage
    /// (`confab:blob-pending:<sha256>`) into IndexedDB, removing each key
    /// only once its blob is stored.
    /// `listed`: the keys as startup listed them, if still right; none
    /// pending there means nothing to list again.
    pub(super) fn drain_pending_blobs(&self, listed: Option<&[String]>) {
        let pending = confab_core::storage::keys::BLOB_PENDING;
        if listed.is_some_and(|keys| !keys.iter().any(|k| k.starts_with(pending))) {
            return;
        }
        let store = *self;
        spawn_local(async move {
            let drained = confab_core::storage::pending_blobs(&LocalStorageKv);
            let Ok(drained) = drained else {
                return;
            };
            let mut arrived = false;
            for (key, blob) in drained.ready {
                if store
                    .store_new_blobs(std::slice::from_ref(&blob))
                    .await
                    .is_ok()
                {
                    arrived = true;
                    let _ = confab_core::storage::KvStore::remove(&LocalStorageKv, &key);
                }
            }
            // Chips drawn meanwhile found no blob: they look again.
            if arrived {
                store.storage.blobs_arrived.update(|n| *n += 1);
                store.refresh_attachment_usage();
            }
        });
    }

    /// Deletes the blobs no conversation in the index refers to any more
    /// (stored before the grace period: a blob just stored may belong to a
    /// message being saved in another tab).
    pub(super) fn collect_blob_garbage(&self) {
        let store = *self;
        let Ok(summaries) = self.with_manager(|m| Ok(m.service().all_summaries()?)) else {
            return;
        };
        spawn_local(async move {
            // Not loaded (offline): the next deletion collects them.
            if let Ok(collecting) = collecting_garbage(store, summaries).await {
                collecting.await;
            }
        });
    }
}

crate::split::split_point!(
    blob_gc,
    /// Collecting unused blobs: in the release build a chunk fetched the
    /// first time a conversation is deleted for good.
    async fn collecting_garbage(
        store: ChatStore,
        summaries: Vec<confab_core::session::SessionSummary>,
    ) -> () {
        collect_garbage(store, summaries).await
    }
);

async fn collect_garbage(store: ChatStore, summaries: Vec<confab_core::session::SessionSummary>) {
    let live = attachments::blobs::live_hashes(&summaries);
    let Ok(stored) = blobs::list_meta().await else {
        return;
    };
    let doomed =
        attachments::blobs::garbage(&stored, &live, now(), attachments::blobs::GRACE_SECONDS);
    if !doomed.is_empty() && blobs::delete(&doomed).await.is_ok() {
        store.refresh_attachment_usage();
    }
}
