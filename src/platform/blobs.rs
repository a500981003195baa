//! IndexedDB as the store of attachment bytes: database `confab-blobs`,
//! object store `blobs` (SHA-256 → the bytes, as a `Blob` with its type)
//! and `meta` (SHA-256 → `{mimeType, size, storedAt}`), always written
//! together in one transaction. localStorage holds only references.
//!
//! The bytes are stored as `Blob`s: the browser keeps them outside the
//! structured-clone record, and a thumbnail is an object URL of the stored
//! `Blob` without a copy through wasm memory.

use std::cell::RefCell;

use confab_core::attachments::{BlobError, BlobMeta};
use idb::{
    Database, DatabaseEvent, Factory, ObjectStoreParams, TransactionMode, TransactionResult,
};
use js_sys::{Object, Reflect, Uint8Array};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

const DATABASE: &str = "confab-blobs";
const VERSION: u32 = 1;
const BLOBS: &str = "blobs";
const META: &str = "meta";

/// One blob to store: its key, type and bytes.
pub struct BlobPut {
    pub sha256: String,
    pub mime_type: String,
    pub blob: web_sys::Blob,
}

thread_local! {
    /// The open database, opened on first use.
    static OPEN: RefCell<Option<web_sys::IdbDatabase>> = const { RefCell::new(None) };
}

fn failed(error: impl std::fmt::Display) -> BlobError {
    BlobError::Failed {
        detail: error.to_string(),
    }
}

fn unavailable(error: impl std::fmt::Display) -> BlobError {
    BlobError::Unavailable {
        detail: error.to_string(),
    }
}

/// `name: message` of a DOMException.
fn describe(error: &web_sys::DomException) -> String {
    format!("{}: {}", error.name(), error.message())
}

fn is_quota(error: &web_sys::DomException) -> bool {
    matches!(
        error.name().as_str(),
        "QuotaExceededError" | "NS_ERROR_DOM_QUOTA_REACHED"
    )
}

async fn database() -> Result<Database, BlobError> {
    if let Some(open) = OPEN.with(|o| o.borrow().clone()) {
        return Ok(open.into());
    }
    let factory = Factory::new().map_err(unavailable)?;
    let mut request = factory.open(DATABASE, Some(VERSION)).map_err(unavailable)?;
    request.on_upgrade_needed(|event| {
        let Ok(database) = event.database() else {
            return;
        };
        let existing = database.store_names();
        for name in [BLOBS, META] {
            if !existing.iter().any(|n| n == name) {
                let _ = database.create_object_store(name, ObjectStoreParams::new());
            }
        }
    });
    let database = request.await.map_err(unavailable)?;
    let raw: web_sys::IdbDatabase = database.into();
    // Another tab deleting the database (or a newer version) closes ours;
    // the next call opens it again.
    let on_change = wasm_bindgen::closure::Closure::<dyn FnMut()>::new(|| {
        if let Some(open) = OPEN.with(|o| o.borrow_mut().take()) {
            open.close();
        }
    });
    raw.set_onversionchange(Some(on_change.as_ref().unchecked_ref()));
    on_change.forget();
    OPEN.with(|o| *o.borrow_mut() = Some(raw.clone()));
    Ok(raw.into())
}

fn key(sha256: &str) -> JsValue {
    JsValue::from_str(sha256)
}

fn meta_value(put: &BlobPut, now: f64) -> JsValue {
    let meta = Object::new();
    let _ = Reflect::set(&meta, &"mimeType".into(), &put.mime_type.as_str().into());
    let _ = Reflect::set(&meta, &"size".into(), &put.blob.size().into());
    let _ = Reflect::set(&meta, &"storedAt".into(), &now.into());
    meta.into()
}

/// Stores every blob of `puts`, with its meta, in one transaction: all or
/// nothing. A full quota is `QuotaExceeded` and leaves nothing written.
pub async fn put_all(puts: &[BlobPut]) -> Result<(), BlobError> {
    if puts.is_empty() {
        return Ok(());
    }
    let database = database().await?;
    let transaction = database
        .transaction(&[BLOBS, META], TransactionMode::ReadWrite)
        .map_err(failed)?;
    let blobs = transaction.object_store(BLOBS).map_err(failed)?;
    let meta = transaction.object_store(META).map_err(failed)?;
    let now = js_sys::Date::now() / 1000.0;
    for put in puts {
        // Requests are queued, not awaited one by one: the transaction
        // commits (or aborts) as one.
        blobs
            .put(put.blob.as_ref(), Some(&key(&put.sha256)))
            .map_err(failed)?;
        meta.put(&meta_value(put, now), Some(&key(&put.sha256)))
            .map_err(failed)?;
    }
    let result = transaction.commit().map_err(failed)?.await;
    let quota = match result {
        Ok(TransactionResult::Committed) => return Ok(()),
        Ok(TransactionResult::Aborted) => match blobs.transaction().error() {
            Some(error) if is_quota(&error) => true,
            Some(error) => return Err(failed(describe(&error))),
            None => return Err(failed("the write was aborted")),
        },
        Err(idb::Error::DomException(error)) => {
            if !is_quota(&error) {
                return Err(failed(describe(&error)));
            }
            true
        }
        Err(error) => return Err(failed(error)),
    };
    debug_assert!(quota);
    // What attachments use already, for the banner.
    let used = usage().await.map_or(0, |(_, bytes)| bytes);
    Err(BlobError::Quota {
        needed: puts.iter().map(|p| p.blob.size() as u64).sum(),
        used,
    })
}

/// The stored blob under `sha256`, if there is one.
pub async fn get(sha256: &str) -> Result<Option<web_sys::Blob>, BlobError> {
    let database = database().await?;
    let transaction = database
        .transaction(&[BLOBS], TransactionMode::ReadOnly)
        .map_err(failed)?;
    let store = transaction.object_store(BLOBS).map_err(failed)?;
    let value = store
        .get(key(sha256))
        .map_err(failed)?
        .await
        .map_err(failed)?;
    Ok(value.and_then(|v| v.dyn_into::<web_sys::Blob>().ok()))
}

/// The bytes of the blob under `sha256`, if there is one.
pub async fn get_bytes(sha256: &str) -> Result<Option<Vec<u8>>, BlobError> {
    match get(sha256).await? {
        Some(blob) => read_blob(&blob).await.map(Some),
        None => Ok(None),
    }
}

/// Every byte of `blob`.
pub async fn read_blob(blob: &web_sys::Blob) -> Result<Vec<u8>, BlobError> {
    let buffer = JsFuture::from(blob.array_buffer())
        .await
        .map_err(|e| failed(format!("the bytes could not be read: {e:?}")))?;
    Ok(Uint8Array::new(&buffer).to_vec())
}

/// A `Blob` of `bytes` with the type `mime`.
pub fn blob_of(bytes: &[u8], mime: &str) -> Result<web_sys::Blob, BlobError> {
    let parts = js_sys::Array::of1(&Uint8Array::from(bytes));
    let options = web_sys::BlobPropertyBag::new();
    options.set_type(mime);
    web_sys::Blob::new_with_u8_array_sequence_and_options(&parts, &options)
        .map_err(|e| failed(format!("{e:?}")))
}

/// Deletes the blobs (and their meta) under `hashes`, in one transaction.
pub async fn delete(hashes: &[String]) -> Result<(), BlobError> {
    if hashes.is_empty() {
        return Ok(());
    }
    let database = database().await?;
    let transaction = database
        .transaction(&[BLOBS, META], TransactionMode::ReadWrite)
        .map_err(failed)?;
    for name in [BLOBS, META] {
        let store = transaction.object_store(name).map_err(failed)?;
        for hash in hashes {
            store.delete(key(hash)).map_err(failed)?;
        }
    }
    match transaction.commit().map_err(failed)?.await {
        Ok(TransactionResult::Committed) => Ok(()),
        Ok(TransactionResult::Aborted) => Err(failed("the delete was aborted")),
        Err(error) => Err(failed(error)),
    }
}

/// What `meta` says of every stored blob, without reading any bytes.
pub async fn list_meta() -> Result<Vec<BlobMeta>, BlobError> {
    let database = database().await?;
    let transaction = database
        .transaction(&[META], TransactionMode::ReadOnly)
        .map_err(failed)?;
    let store = transaction.object_store(META).map_err(failed)?;
    // Both in key order, so they pair up.
    let keys = store.get_all_keys(None, None).map_err(failed)?;
    let values = store.get_all(None, None).map_err(failed)?;
    let keys = keys.await.map_err(failed)?;
    let values = values.await.map_err(failed)?;
    let field = |value: &JsValue, name: &str| Reflect::get(value, &name.into()).ok();
    Ok(keys
        .iter()
        .zip(values.iter())
        .filter_map(|(key, value)| {
            Some(BlobMeta {
                sha256: key.as_string()?,
                mime_type: field(value, "mimeType")
                    .and_then(|v| v.as_string())
                    .unwrap_or_default(),
                size: field(value, "size")
                    .and_then(|v| v.as_f64())
                    .unwrap_or_default() as u64,
                stored_at: field(value, "storedAt")
                    .and_then(|v| v.as_f64())
                    .unwrap_or_default(),
            })
        })
        .collect())
}

/// `(count, bytes)` of the stored blobs.
pub async fn usage() -> Result<(usize, u64), BlobError> {
    Ok(confab_core::attachments::blobs::usage(&list_meta().await?))
}
