//! IndexedDB as the store of attachment bytes: database `confab-blobs`,
//! object store `blobs` (SHA-256 → the bytes, as a `Blob` with its type)
//! and `meta` (SHA-256 → `{mimeType, size, storedAt}`), always written
//! together in one transaction. localStorage holds only references.
//!
//! The bytes are stored as `Blob`s: the browser keeps them outside the
//! structured-clone record, and a thumbnail is an object URL of the stored
//! `Blob` without a copy through wasm memory.
//!
//! Straight over web-sys: a request or a transaction is awaited as a
//! `Promise` whose resolve and reject are its own event handlers
//! (ARCHITECTURE.md says why not the `idb` crate).

use std::cell::RefCell;

use confab_core::attachments::{BlobError, BlobMeta};
use js_sys::{Array, Object, Promise, Reflect, Uint8Array};
use wasm_bindgen::{JsCast, JsValue, closure::Closure};
use wasm_bindgen_futures::JsFuture;
use web_sys::{DomException, IdbDatabase, IdbRequest, IdbTransaction, IdbTransactionMode};

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
    static OPEN: RefCell<Option<IdbDatabase>> = const { RefCell::new(None) };
}

fn failed(detail: impl Into<String>) -> BlobError {
    BlobError::Failed {
        detail: detail.into(),
    }
}

/// `name: message` of a DOMException.
fn describe(error: &DomException) -> String {
    format!("{}: {}", error.name(), error.message())
}

/// What a call that threw says of itself.
fn thrown(error: JsValue) -> String {
    match error.dyn_ref::<DomException>() {
        Some(error) => describe(error),
        None => format!("{error:?}"),
    }
}

fn is_quota(error: &DomException) -> bool {
    matches!(
        error.name().as_str(),
        "QuotaExceededError" | "NS_ERROR_DOM_QUOTA_REACHED"
    )
}

/// The result of `request` once it succeeds, or what it failed with.
async fn settled(request: &IdbRequest) -> Result<JsValue, String> {
    let done = Promise::new(&mut |resolve, reject| {
        request.set_onsuccess(Some(&resolve));
        request.set_onerror(Some(&reject));
    });
    match JsFuture::from(done).await {
        Ok(_) => request.result().map_err(thrown),
        Err(_) => Err(match request.error() {
            Ok(Some(error)) => describe(&error),
            _ => "the request failed".into(),
        }),
    }
}

/// Waits for `transaction` to commit; if it aborts, the DOMException that
/// aborted it (a failed request aborts the whole transaction).
async fn committed(transaction: &IdbTransaction) -> Result<(), Option<DomException>> {
    let done = Promise::new(&mut |resolve, reject| {
        transaction.set_oncomplete(Some(&resolve));
        transaction.set_onabort(Some(&reject));
    });
    match JsFuture::from(done).await {
        Ok(_) => Ok(()),
        Err(_) => Err(transaction.error()),
    }
}

async fn database() -> Result<IdbDatabase, BlobError> {
    if let Some(open) = OPEN.with(|o| o.borrow().clone()) {
        return Ok(open);
    }
    let unavailable = |detail: String| BlobError::Unavailable { detail };
    let factory = web_sys::window()
        .and_then(|window| window.indexed_db().ok().flatten())
        .ok_or_else(|| unavailable("this browser has no IndexedDB here".into()))?;
    let request = factory
        .open_with_u32(DATABASE, VERSION)
        .map_err(|e| unavailable(thrown(e)))?;
    let opening = request.clone();
    let upgrade = Closure::once_into_js(move || {
        let Ok(database) = opening.result() else {
            return;
        };
        let database: IdbDatabase = database.unchecked_into();
        let existing = database.object_store_names();
        for name in [BLOBS, META] {
            if !existing.contains(name) {
                let _ = database.create_object_store(name);
            }
        }
    });
    request.set_onupgradeneeded(Some(upgrade.unchecked_ref()));
    let database: IdbDatabase = settled(&request)
        .await
        .map_err(unavailable)?
        .unchecked_into();
    // Another tab deleting the database (or a newer version) closes ours;
    // the next call opens it again.
    let on_change = Closure::<dyn FnMut()>::new(|| {
        if let Some(open) = OPEN.with(|o| o.borrow_mut().take()) {
            open.close();
        }
    });
    database.set_onversionchange(Some(on_change.as_ref().unchecked_ref()));
    on_change.forget();
    OPEN.with(|o| *o.borrow_mut() = Some(database.clone()));
    Ok(database)
}

/// A transaction over `stores` (one or both) in `mode`.
async fn transaction(
    stores: &[&str],
    mode: IdbTransactionMode,
) -> Result<IdbTransaction, BlobError> {
    let names: Array = stores.iter().map(|s| JsValue::from_str(s)).collect();
    database()
        .await?
        .transaction_with_str_sequence_and_mode(&names, mode)
        .map_err(|e| failed(thrown(e)))
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
    let transaction = transaction(&[BLOBS, META], IdbTransactionMode::Readwrite).await?;
    let store = |name| {
        transaction
            .object_store(name)
            .map_err(|e| failed(thrown(e)))
    };
    let (blobs, meta) = (store(BLOBS)?, store(META)?);
    let now = js_sys::Date::now() / 1000.0;
    for put in puts {
        // Requests are queued, not awaited one by one: the transaction
        // commits (or aborts) as one.
        let key = key(&put.sha256);
        blobs
            .put_with_key(put.blob.as_ref(), &key)
            .and_then(|_| meta.put_with_key(&meta_value(put, now), &key))
            .map_err(|e| {
                let _ = transaction.abort();
                failed(thrown(e))
            })?;
    }
    match committed(&transaction).await {
        Ok(()) => Ok(()),
        Err(Some(error)) if is_quota(&error) => {
            // What attachments use already, for the banner.
            let used = usage().await.map_or(0, |(_, bytes)| bytes);
            Err(BlobError::Quota {
                needed: puts.iter().map(|p| p.blob.size() as u64).sum(),
                used,
            })
        }
        Err(Some(error)) => Err(failed(describe(&error))),
        Err(None) => Err(failed("the write was aborted")),
    }
}

/// The stored blob under `sha256`, if there is one.
pub async fn get(sha256: &str) -> Result<Option<web_sys::Blob>, BlobError> {
    let transaction = transaction(&[BLOBS], IdbTransactionMode::Readonly).await?;
    let request = transaction
        .object_store(BLOBS)
        .and_then(|store| store.get(&key(sha256)))
        .map_err(|e| failed(thrown(e)))?;
    let value = settled(&request).await.map_err(failed)?;
    Ok(value.dyn_into::<web_sys::Blob>().ok())
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
    let transaction = transaction(&[BLOBS, META], IdbTransactionMode::Readwrite).await?;
    for name in [BLOBS, META] {
        let store = transaction
            .object_store(name)
            .map_err(|e| failed(thrown(e)))?;
        for hash in hashes {
            store.delete(&key(hash)).map_err(|e| failed(thrown(e)))?;
        }
    }
    match committed(&transaction).await {
        Ok(()) => Ok(()),
        Err(Some(error)) => Err(failed(describe(&error))),
        Err(None) => Err(failed("the delete was aborted")),
    }
}

/// What `meta` says of every stored blob, without reading any bytes.
pub async fn list_meta() -> Result<Vec<BlobMeta>, BlobError> {
    let transaction = transaction(&[META], IdbTransactionMode::Readonly).await?;
    let store = transaction
        .object_store(META)
        .map_err(|e| failed(thrown(e)))?;
    // Both in key order, so they pair up.
    let keys = store.get_all_keys().map_err(|e| failed(thrown(e)))?;
    let values = store.get_all().map_err(|e| failed(thrown(e)))?;
    let keys: Array = settled(&keys).await.map_err(failed)?.unchecked_into();
    let values: Array = settled(&values).await.map_err(failed)?.unchecked_into();
    let field = |value: &JsValue, name: &str| Reflect::get(value, &name.into()).ok();
    Ok(keys
        .iter()
        .zip(values.iter())
        .filter_map(|(key, value)| {
            Some(BlobMeta {
                sha256: key.as_string()?,
                mime_type: field(&value, "mimeType")
                    .and_then(|v| v.as_string())
                    .unwrap_or_default(),
                size: field(&value, "size")
                    .and_then(|v| v.as_f64())
                    .unwrap_or_default() as u64,
                stored_at: field(&value, "storedAt")
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
