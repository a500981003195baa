//! The render worker (render/, built by Trunk into
//! `confab-render-worker_loader.js`): started the first time a reply has a
//! code block or a formula, never before, so a page without either never
//! fetches it. Jobs go in as `[id, kind, text, detail]`; results come back
//! by id to the callback that asked (the protocol is in
//! render/src/bin/worker.rs). Results are cached by input: a reply rendered
//! again (the final rendering after a stream, a reload of the view, the same
//! snippet twice) is highlighted at once, without a round trip.
//!
//! Nothing here makes markup: the callbacks get plain values (token ranges,
//! a tree of indices and text) and src/ui/markdown.rs builds the elements.

use std::cell::RefCell;

use thiserror::Error;
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;

/// Where Trunk puts the worker's loader (named by its binary, not hashed).
const WORKER_URL: &str = "/confab-render-worker_loader.js";

/// Results kept for identical inputs; the cache starts over when full.
const CACHE_ENTRIES: usize = 256;

/// One piece of work for the worker.
pub enum Job<'a> {
    /// Token ranges of `code` (a `Uint32Array` of start, end, kind).
    Highlight { code: &'a str, language: &'a str },
    /// A MathML tree for `tex`, or `null` when it does not convert.
    Math { tex: &'a str, display: bool },
}

impl Job<'_> {
    fn parts(&self) -> (u32, &str, &str) {
        match self {
            Job::Highlight { code, language } => (0, code, language),
            Job::Math { tex, display } => (1, tex, if *display { "block" } else { "inline" }),
        }
    }
}

/// Why a job got no answer (the page keeps the plain text). No detail is
/// kept: the browser logs the worker's own error, and formatting it here
/// would cost the first load.
#[derive(Debug, Error)]
pub enum RenderWorkerError {
    #[error("the render worker could not be started")]
    Start,
    #[error("the render worker stopped")]
    Stopped,
}

type Callback = Box<dyn FnOnce(JsValue)>;

#[derive(Default)]
struct Client {
    worker: Option<web_sys::Worker>,
    /// The worker said "ready": messages posted before would be lost.
    ready: bool,
    queue: Vec<js_sys::Array>,
    /// Jobs sent, by id, with their cache key. Plain vectors, not maps: a
    /// few entries at a time, and a map of new types would add its code to
    /// the first load.
    waiting: Vec<(u32, String, Callback)>,
    next_id: u32,
    cache: Vec<(String, JsValue)>,
    /// Set once the worker failed: later jobs are not sent.
    failed: bool,
}

thread_local! {
    static CLIENT: RefCell<Client> = RefCell::new(Client::default());
}

/// Sends `job` to the worker (starting it the first time) and calls `done`
/// with its result: at once if the same input was answered before.
pub fn request(
    job: Job<'_>,
    done: impl FnOnce(JsValue) + 'static,
) -> Result<(), RenderWorkerError> {
    let (kind, text, detail) = job.parts();
    let mut key = String::with_capacity(text.len() + detail.len() + 2);
    key.push(if kind == 0 { 'c' } else { 'm' });
    key.push_str(detail);
    key.push('\0');
    key.push_str(text);
    let cached = CLIENT.with_borrow(|client| {
        client
            .cache
            .iter()
            .find(|(cached, _)| *cached == key)
            .map(|(_, result)| result.clone())
    });
    if let Some(result) = cached {
        done(result);
        return Ok(());
    }
    CLIENT.with_borrow_mut(|client| {
        if client.failed {
            return Err(RenderWorkerError::Stopped);
        }
        let worker = match &client.worker {
            Some(worker) => worker.clone(),
            None => {
                let worker = start()?;
                client.worker = Some(worker.clone());
                worker
            }
        };
        client.next_id = client.next_id.wrapping_add(1);
        let id = client.next_id;
        client.waiting.push((id, key, Box::new(done)));
        let message = js_sys::Array::of4(&id.into(), &kind.into(), &text.into(), &detail.into());
        if client.ready {
            worker
                .post_message(&message)
                .map_err(|_| RenderWorkerError::Stopped)?;
        } else {
            client.queue.push(message);
        }
        Ok(())
    })
}

fn start() -> Result<web_sys::Worker, RenderWorkerError> {
    let worker = web_sys::Worker::new(WORKER_URL).map_err(|_| RenderWorkerError::Start)?;
    let on_message =
        Closure::<dyn FnMut(web_sys::MessageEvent)>::new(|event: web_sys::MessageEvent| {
            answered(event.data());
        });
    worker.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
    on_message.forget();
    let on_error = Closure::<dyn FnMut(web_sys::Event)>::new(|_event: web_sys::Event| {
        CLIENT.with_borrow_mut(|client| {
            client.failed = true;
            // Their blocks stay plain: nothing will answer them.
            client.waiting.clear();
            client.queue.clear();
        });
        leptos::logging::warn!("Confab: the render worker failed; code and math stay plain");
    });
    worker.set_onerror(Some(on_error.as_ref().unchecked_ref()));
    on_error.forget();
    Ok(worker)
}

/// A message from the worker: "ready", or `[id, result]`.
fn answered(data: JsValue) {
    if data.as_string().as_deref() == Some("ready") {
        CLIENT.with_borrow_mut(|client| {
            client.ready = true;
            if let Some(worker) = &client.worker {
                for message in client.queue.drain(..) {
                    let _ = worker.post_message(&message);
                }
            }
        });
        return;
    }
    let Some(reply) = data.dyn_ref::<js_sys::Array>() else {
        return;
    };
    let Some(id) = reply.get(0).as_f64() else {
        return;
    };
    let result = reply.get(1);
    let callback = CLIENT.with_borrow_mut(|client| {
        let at = client
            .waiting
            .iter()
            .position(|(waiting, ..)| *waiting == id as u32)?;
        let (_, key, callback) = client.waiting.swap_remove(at);
        if client.cache.len() >= CACHE_ENTRIES {
            client.cache.clear();
        }
        client.cache.push((key, result.clone()));
        Some(callback)
    });
    // Called outside the borrow: it may ask for more work.
    if let Some(callback) = callback {
        callback(result);
    }
}
