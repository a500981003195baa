//! `navigator.storage`: asking the browser not to evict our data, and its
//! estimate of what we use.

use wasm_bindgen_futures::JsFuture;

fn manager() -> Option<web_sys::StorageManager> {
    Some(web_sys::window()?.navigator().storage())
}

/// Asks for persistent storage; `None` if the browser has no such API.
pub async fn persist() -> Option<bool> {
    let promise = manager()?.persist().ok()?;
    JsFuture::from(promise).await.ok()?.as_bool()
}

/// `(usage, quota)` in bytes, as the browser estimates them.
pub async fn estimate() -> Option<(f64, f64)> {
    let promise = manager()?.estimate().ok()?;
    let estimate: web_sys::StorageEstimate =
        wasm_bindgen::JsCast::unchecked_into(JsFuture::from(promise).await.ok()?);
    Some((estimate.get_usage()?, estimate.get_quota()?))
}
