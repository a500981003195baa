//! Streaming one reply: request, token-by-token display, and the event
//! saved when it ends (complete, stopped, interrupted or failed), with the
//! model call recorded on the conversation's trace.

use confab_core::chat::{Ask, plan_request, settle_reply};
use confab_core::manager::{CallResult, CallStart};
use confab_core::outcome::{ReplyError, ReplyFailure};
use confab_core::session::{MessageStatus, Reasoning, new_id};
use confab_core::telemetry::TokenUsage;
use confab_core::transport::{Backoff, ChatStream};
use leptos::prelude::*;
use leptos::task::spawn_local;
use std::cell::Cell;
use std::rc::Rc;

use super::{ActiveReply, ChatStore, MessageView, Role};
use crate::platform::BrowserClock;
use crate::platform::http::{FetchFailure, post_streaming, sleep};

/// The reply this tab is writing, and how to stop it; the message being
/// written's attachments (see attach.rs).
#[derive(Clone, Copy)]
pub struct Writing {
    pub reply: RwSignal<Option<ActiveReply>>,
    pub(super) abort: StoredValue<Option<web_sys::AbortController>, LocalStorage>,
    /// Attached to the next message, not yet stored: their references
    /// and an object URL of each image (its thumbnail).
    pub pending: RwSignal<Vec<super::attach::Pending>>,
    /// The bytes of each pending attachment, by SHA-256.
    pub(super) pending_blobs: StoredValue<Vec<(String, web_sys::Blob)>, LocalStorage>,
    /// Files still being read or downscaled.
    pub attaching: RwSignal<usize>,
    /// A send asked for while files were being read: it goes once they
    /// are in (see `ChatStore::when_attached`).
    pub(super) after_attaching: StoredValue<Option<Box<dyn FnOnce()>>, LocalStorage>,
    /// Why a file was not attached.
    pub attach_notice: RwSignal<Option<String>>,
}

impl Writing {
    pub(super) fn new() -> Self {
        Self {
            reply: RwSignal::new(None),
            abort: StoredValue::new_local(None),
            pending: RwSignal::new(Vec::new()),
            pending_blobs: StoredValue::new_local(Vec::new()),
            attaching: RwSignal::new(0),
            after_attaching: StoredValue::new_local(None),
            attach_notice: RwSignal::new(None),
        }
    }
}

/// Gives up on a reply that sends no byte for a while: checks once a second
/// and aborts the request (through the store's controller) when it stalls.
pub(super) struct StallWatch {
    last_byte: Rc<Cell<f64>>,
    stalled: Rc<Cell<bool>>,
    timer: Option<leptos::prelude::IntervalHandle>,
}

impl StallWatch {
    pub(super) fn start(store: ChatStore, seconds: u32) -> Self {
        let last_byte = Rc::new(Cell::new(now()));
        let stalled = Rc::new(Cell::new(false));
        let timer = {
            let (last_byte, stalled) = (last_byte.clone(), stalled.clone());
            set_interval_with_handle(
                move || {
                    if !stalled.get() && now() - last_byte.get() > f64::from(seconds) {
                        stalled.set(true);
                        store.stop();
                    }
                },
                std::time::Duration::from_secs(1),
            )
            .ok()
        };
        Self {
            last_byte,
            stalled,
            timer,
        }
    }

    pub(super) fn saw_bytes(&self) {
        self.last_byte.set(now());
    }

    /// Stops watching; whether the reply had stalled.
    pub(super) fn finish(self) -> bool {
        if let Some(timer) = self.timer {
            timer.clear();
        }
        self.stalled.get()
    }
}

fn now() -> f64 {
    confab_core::Clock::now(&BrowserClock)
}

/// Waits `seconds` before a retry, showing the countdown on `view`.
/// Returns `false` if the user cancelled (the abort signal fired).
async fn count_down(view: &MessageView, seconds: f64, signal: &web_sys::AbortSignal) -> bool {
    let mut left = seconds.ceil() as u32;
    while left > 0 {
        view.retry_in.set(Some(left));
        sleep(1_000).await;
        if signal.aborted() {
            view.retry_in.set(None);
            return false;
        }
        left -= 1;
    }
    view.retry_in.set(None);
    !signal.aborted()
}

impl ChatStore {
    /// Streams the reply to the last user message of session `session_id`,
    /// or (`continue_from`) goes on with the cut-off reply of that id.
    pub(super) fn start_reply(&self, session_id: &str, continue_from: Option<String>) {
        let user = self.user_id();
        let settings = self.settings.get_untracked();
        let options = self
            .with_manager(|m| m.conversation(&user, session_id))
            .map(|c| c.options)
            .unwrap_or_default();
        if let Some(app) = options.agent().map(str::to_owned)
            && continue_from.is_none()
        {
            let store = *self;
            let session_id = session_id.to_owned();
            spawn_local(async move {
                if super::agent::agent_reply(store, session_id, app, options)
                    .await
                    .is_err()
                {
                    store.report(confab_core::notice::Notice::PartUnavailable("agent mode"));
                }
            });
            return;
        }
        let model = Some(options.model_or(&settings.model).to_owned()).filter(|m| !m.is_empty());
        let call = match self.with_manager(|m| m.begin_call(&user, session_id, model.as_deref())) {
            Ok(call) => call,
            Err(error) => {
                self.open(session_id);
                return self.report(error);
            }
        };
        let session = match self.load_session(session_id) {
            Ok(session) => session,
            Err(error) => return self.report(error),
        };
        let ask = match &continue_from {
            Some(event_id) => Ask::Continue { event_id },
            None => Ask::Reply,
        };
        let planned = plan_request(&settings, &options, &session.events, ask);
        let view = MessageView::new(
            new_id(),
            Role::Assistant,
            model.as_deref().unwrap_or_default(),
            String::new(),
            MessageStatus::Streaming,
        );
        let planned = match planned {
            Ok(planned) => planned,
            Err(error) => {
                // Never dropped silently: the reply says why nothing was sent.
                let result = CallResult::refused(&view.id, ReplyFailure::Model(error));
                return self.finish_reply(&user, &call, result, &view);
            }
        };
        let Some(signal) = self.begin_streaming(session, &view, &user, &call) else {
            return;
        };

        let streaming = Streaming {
            store: *self,
            user,
            call,
            view,
            planned,
            url: settings.completions_url(),
            stall_seconds: settings.stall_seconds,
            model,
            signal,
        };
        spawn_local(async move {
            let (store, user, call, view, url) = (
                streaming.store,
                streaming.user.clone(),
                streaming.call.clone(),
                streaming.view.clone(),
                streaming.url.clone(),
            );
            match streaming_reply(streaming).await {
                Ok(reply) => reply.await,
                // Its code could not be fetched: failed like a request
                // that found no network (the message is saved; Retry).
                Err(_) => {
                    let error = if crate::platform::http::is_online() {
                        ReplyError::Unreachable { url }
                    } else {
                        ReplyError::Offline
                    };
                    let result = CallResult::refused(&view.id, ReplyFailure::Model(error));
                    view.error
                        .set(result.error.as_ref().map(ToString::to_string));
                    view.status.set(MessageStatus::Error);
                    store.finish_reply(&user, &call, result, &view);
                }
            }
        });
    }

    /// Makes `view` the streaming reply of `session` (as just read from
    /// storage), shown at the end of the conversation, and returns the
    /// signal that Stop aborts (`None`, reported, if this browser cannot
    /// cancel requests).
    pub(super) fn begin_streaming(
        &self,
        session: confab_core::session::Session,
        view: &MessageView,
        user: &str,
        call: &CallStart,
    ) -> Option<web_sys::AbortSignal> {
        let session_id = session.id.clone();
        let Ok(controller) = web_sys::AbortController::new() else {
            self.show(session);
            self.report(confab_core::notice::NotNow::NoAbortController);
            return None;
        };
        let signal = controller.signal();
        self.writing.abort.set_value(Some(controller));
        self.writing.reply.set(Some(ActiveReply {
            session_id: session_id.clone(),
            view: view.clone(),
            user_id: user.to_owned(),
            call: call.clone(),
        }));
        self.drafts.clock.set_value((0.0, false));
        self.hold_draft(user, &session_id, &view.id);
        // Re-render the conversation, with the reply at its end.
        self.show(session);
        Some(signal)
    }

    /// Saves the finished reply through the manager and refreshes the views.
    pub(super) fn finish_reply(
        &self,
        user: &str,
        call: &CallStart,
        result: CallResult,
        view: &MessageView,
    ) {
        let kept = result.clone();
        match self.with_manager(|m| m.finish_call(user, call, result)) {
            Ok(_) => {
                view.saved.set(true);
                // The draft is gone: other tabs may stop waiting for it.
                Self::release_after_save(self.take_own_draft_lock());
            }
            Err(error) => {
                // Kept on screen and in memory, saved once there is room.
                self.keep_unsaved(user, call, kept);
                self.report(confab_core::notice::Notice::ReplyNotSavedYet(error));
            }
        }
        let saved = view.saved.get_untracked();
        self.writing.reply.set(None);
        self.writing.abort.set_value(None);
        self.refresh_listings_of(&[&call.session_id]);
        // An unsaved reply stays on screen as it is (re-reading the session
        // from storage would drop it).
        if saved
            && self.on_screen.id.get_untracked().as_deref() == Some(call.session_id.as_str())
            && self.user_id() == user
        {
            self.open(&call.session_id);
        }
    }
}

/// What streaming one reply needs, handed to its split point.
struct Streaming {
    store: ChatStore,
    user: String,
    call: CallStart,
    view: MessageView,
    planned: confab_core::chat::PlannedRequest,
    url: String,
    stall_seconds: u32,
    model: Option<String>,
    signal: web_sys::AbortSignal,
}

crate::split::split_point!(
    markdown,
    /// Streaming a reply (the request, SSE and the model's chunks, retries,
    /// the stall watch): in the release build it shares the markdown
    /// renderer's chunk, fetched at the first keystroke, so a first visit
    /// downloads neither until the user starts writing.
    async fn streaming_reply(streaming: Streaming) -> () {
        stream_reply(streaming).await
    }
);

async fn stream_reply(streaming: Streaming) {
    let Streaming {
        store,
        user,
        call,
        view,
        planned,
        url,
        stall_seconds,
        model,
        signal,
    } = streaming;
    // The attachments' bytes, read from IndexedDB into the request.
    let planned = if planned.needs.is_empty() {
        Ok(planned)
    } else {
        let loaded = ChatStore::load_blobs(planned.needs.iter().map(|a| a.sha256.clone())).await;
        planned.resolve(&|sha| loaded.get(sha).map(Vec::as_slice))
    };
    let planned = match planned {
        Ok(planned) => planned,
        Err(error) => {
            let result = CallResult::refused(&view.id, ReplyFailure::Model(error));
            view.error
                .set(result.error.as_ref().map(ToString::to_string));
            view.status.set(MessageStatus::Error);
            return store.finish_reply(&user, &call, result, &view);
        }
    };
    let body = serde_json::to_string(&planned.request).unwrap_or_default();
    let backoff = Backoff::default();
    let mut retries = 0;
    let mut stream;
    let mut first_token_at = None;
    let mut stalled;
    let result = loop {
        // The model's thinking is timed on the page's clock.
        stream = ChatStream::timed(Box::new(BrowserClock));
        let watch = StallWatch::start(store, stall_seconds);
        let mut named = false;
        let result = post_streaming(&url, body.clone(), &signal, |bytes| {
            watch.saw_bytes();
            let added = stream.push(bytes);
            if !named && let Some(model) = stream.model() {
                view.author.set(model.to_owned());
                named = true;
            }
            if !added.is_empty() {
                first_token_at.get_or_insert_with(now);
                if !added.reasoning.is_empty() {
                    view.reasoning.update(|t| t.push_str(&added.reasoning));
                }
                if !added.answer.is_empty() {
                    // The answer began: the thinking time is known.
                    if view.text.with_untracked(String::is_empty) {
                        view.thought_millis.set(stream.reasoning().thought_millis());
                    }
                    view.text.update(|t| t.push_str(&added.answer));
                }
                store.persist_draft(false);
            }
            !stream.is_finished()
        })
        .await;
        stalled = watch.finish().then_some(stall_seconds);
        // Rate limited: wait as asked (or back off) and try again.
        if let Err(FetchFailure::Http {
            status: 429,
            retry_after,
            ..
        }) = &result
            && stalled.is_none()
        {
            retries += 1;
            if let Some(wait) = backoff.delay(retries, retry_after.as_deref(), now())
                && count_down(&view, wait, &signal).await
            {
                continue;
            }
        }
        break result;
    };
    let online = crate::platform::http::is_online();
    let (status, error) = settle_reply(result, &mut stream, &url, stalled, online);
    // A refusal of images or files says which model refused (the
    // upstream's 400 seldom does); the message stays saved.
    let error = error.map(|e| e.naming_model(model.as_deref().unwrap_or_default()));
    let thought = stream.reasoning();
    let reasoning = Reasoning {
        text: thought.reasoning().to_owned(),
        millis: thought.thought_millis(),
        tokens: stream.usage().and_then(|u| u.reasoning_tokens()),
        encrypted: thought.encrypted().to_vec(),
    }
    .kept();
    // A whole (not streamed) reply, or a tag never closed, is only
    // known once the stream has ended.
    view.reasoning.set(thought.reasoning().to_owned());
    view.thought_millis.set(thought.thought_millis());
    if view.text.with_untracked(|t| t != stream.text()) {
        view.text.set(stream.text().to_owned());
    }
    let result = CallResult {
        agent_events: Vec::new(),
        event_id: view.id.clone(),
        text: stream.text().to_owned(),
        status,
        error: error.map(ReplyFailure::Model),
        response_model: stream.model().map(str::to_owned),
        first_token_at,
        usage: stream.usage().map(|u| TokenUsage {
            input: u.prompt_tokens,
            output: u.completion_tokens,
            reasoning: u.reasoning_tokens(),
        }),
        finish_reason: None,
        reasoning,
    };
    view.error
        .set(result.error.as_ref().map(ToString::to_string));
    view.status.set(status);
    store.finish_reply(&user, &call, result, &view);
}
