//! HTTP over `fetch` (through gloo-net, the successor of reqwasm), with the
//! response body read as a stream so a reply shows as it arrives.

use gloo_net::http::Request;
use js_sys::{Reflect, Uint8Array};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{AbortSignal, ReadableStreamDefaultReader};

pub use confab_core::transport::FetchFailure;

fn is_abort(error: &JsValue) -> bool {
    error
        .dyn_ref::<web_sys::DomException>()
        .is_some_and(|e| e.name() == "AbortError")
}

fn failure_of(error: gloo_net::Error, signal: &AbortSignal) -> FetchFailure {
    if signal.aborted() {
        return FetchFailure::Aborted;
    }
    match error {
        gloo_net::Error::JsError(e) if e.name == "AbortError" => FetchFailure::Aborted,
        _ => FetchFailure::Unreachable,
    }
}

/// POSTs `body` (JSON) to `url` and hands each received chunk of the
/// response body to `on_chunk`, which returns `false` to stop reading.
pub async fn post_streaming(
    url: &str,
    body: String,
    signal: &AbortSignal,
    mut on_chunk: impl FnMut(&[u8]) -> bool,
) -> Result<(), FetchFailure> {
    let request = Request::post(url)
        .header("content-type", "application/json")
        .header("accept", "text/event-stream")
        .abort_signal(Some(signal))
        .body(body)
        .map_err(|e| FetchFailure::Broken(e.to_string()))?;
    let response = request.send().await.map_err(|e| failure_of(e, signal))?;
    if !response.ok() {
        let status = response.status();
        let retry_after = response.headers().get("retry-after");
        let body = response.text().await.unwrap_or_default();
        return Err(FetchFailure::Http {
            status,
            body,
            retry_after,
        });
    }
    let Some(stream) = response.body() else {
        return Ok(()); // an empty body: the caller sees a truncated reply
    };
    let reader: ReadableStreamDefaultReader = stream.get_reader().unchecked_into();
    loop {
        let result = match JsFuture::from(reader.read()).await {
            Ok(result) => result,
            Err(error) if is_abort(&error) || signal.aborted() => {
                return Err(FetchFailure::Aborted);
            }
            Err(error) => return Err(FetchFailure::Broken(describe(&error))),
        };
        let done = Reflect::get(&result, &JsValue::from_str("done"))
            .ok()
            .and_then(|d| d.as_bool())
            .unwrap_or(true);
        if done {
            return Ok(());
        }
        let value = Reflect::get(&result, &JsValue::from_str("value")).unwrap_or(JsValue::NULL);
        let bytes = Uint8Array::new(&value).to_vec();
        if !on_chunk(&bytes) {
            // Release the connection; the rest of the body is not needed.
            let _ = reader.cancel();
            return Ok(());
        }
    }
}

/// POSTs `body` (JSON) to `url` and returns the status and body of any
/// response (the caller decides what a 409 means).
pub async fn post_json(url: &str, body: String) -> Result<(u16, String), FetchFailure> {
    let request = Request::post(url)
        .header("content-type", "application/json")
        .body(body)
        .map_err(|e| FetchFailure::Broken(e.to_string()))?;
    let response = request
        .send()
        .await
        .map_err(|_| FetchFailure::Unreachable)?;
    let status = response.status();
    let body = response.text().await.unwrap_or_default();
    Ok((status, body))
}

/// GETs `url` and returns the body of a 2xx response.
pub async fn get_text(url: &str) -> Result<String, FetchFailure> {
    let response = Request::get(url)
        .send()
        .await
        .map_err(|_| FetchFailure::Unreachable)?;
    let status = response.status();
    let body = response.text().await.unwrap_or_default();
    if (200..300).contains(&status) {
        Ok(body)
    } else {
        Err(FetchFailure::Http {
            status,
            body,
            retry_after: None,
        })
    }
}

/// Whether the browser believes it has a network (`navigator.onLine`).
pub fn is_online() -> bool {
    web_sys::window().is_none_or(|w| w.navigator().on_line())
}

/// Resolves after `ms` milliseconds (a `setTimeout` promise).
pub async fn sleep(ms: u32) {
    let promise = js_sys::Promise::new(&mut |resolve, _| {
        if let Some(window) = web_sys::window() {
            let _ =
                window.set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, ms as i32);
        }
    });
    let _ = JsFuture::from(promise).await;
}

fn describe(error: &JsValue) -> String {
    if let Some(e) = error.dyn_ref::<js_sys::Error>() {
        return format!("{}: {}", e.name(), e.message());
    }
    if let Some(e) = error.dyn_ref::<web_sys::DomException>() {
        return format!("{}: {}", e.name(), e.message());
    }
    format!("{error:?}")
}
