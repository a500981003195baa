//! Streaming one reply: request, token-by-token display, and the event
//! saved when it ends (complete, stopped, interrupted or failed), with the
//! model call recorded on the conversation's trace.

use confab_core::chat::build_request;
use confab_core::manager::{CallResult, CallStart};
use confab_core::session::{MessageStatus, new_id};
use confab_core::transport::{ChatStream, ReplyError, StreamOutcome};
use leptos::prelude::*;
use leptos::task::spawn_local;

use super::{ActiveReply, ChatStore, MessageView, Role};
use crate::platform::BrowserClock;
use crate::platform::http::{FetchFailure, post_streaming};

fn now() -> f64 {
    confab_core::Clock::now(&BrowserClock)
}

/// What a finished stream becomes: its status and, if not complete, why.
fn settle(
    result: Result<(), FetchFailure>,
    stream: &mut ChatStream,
    url: &str,
) -> (MessageStatus, Option<ReplyError>) {
    match result {
        Ok(()) => match stream.outcome() {
            StreamOutcome::Complete { .. } => (MessageStatus::Complete, None),
            StreamOutcome::Interrupted => (
                MessageStatus::Interrupted,
                Some(ReplyError::Broken {
                    detail: "the stream ended before the reply was finished".into(),
                }),
            ),
            StreamOutcome::Failed(error) => (MessageStatus::Error, Some(error)),
        },
        Err(FetchFailure::Aborted) => (MessageStatus::Stopped, None),
        Err(FetchFailure::Unreachable) => (
            MessageStatus::Error,
            Some(ReplyError::Unreachable {
                url: url.to_owned(),
            }),
        ),
        Err(FetchFailure::Http { status, body }) => (
            MessageStatus::Error,
            Some(ReplyError::from_http(status, &body)),
        ),
        Err(FetchFailure::Broken(detail)) => (
            MessageStatus::Interrupted,
            Some(ReplyError::Broken { detail }),
        ),
    }
}

impl ChatStore {
    /// Streams the reply to the last user message of session `session_id`.
    pub(super) fn start_reply(&self, session_id: &str) {
        let user = self.user_id();
        let settings = self.settings.get_untracked();
        let model = Some(settings.model.clone()).filter(|m| !m.is_empty());
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
        let request = build_request(&settings, &session.events);
        let view = MessageView::new(
            new_id(),
            Role::Assistant,
            model.as_deref().unwrap_or_default(),
            String::new(),
            MessageStatus::Streaming,
        );
        let Ok(controller) = web_sys::AbortController::new() else {
            self.open(session_id);
            return self.report("This browser cannot cancel requests (no AbortController).");
        };
        let signal = controller.signal();
        self.abort.set_value(Some(controller));
        self.reply.set(Some(ActiveReply {
            session_id: session_id.to_owned(),
            view: view.clone(),
            user_id: user.clone(),
            call: call.clone(),
        }));
        self.draft_clock.set_value((0.0, false));
        // Re-render the conversation from storage, with the reply at its end.
        self.open(session_id);

        let store = *self;
        let url = settings.completions_url();
        let body = serde_json::to_string(&request).unwrap_or_default();
        spawn_local(async move {
            let mut stream = ChatStream::new();
            let mut first_token_at = None;
            let mut named = false;
            let result = post_streaming(&url, body, &signal, |bytes| {
                let added = stream.push(bytes);
                if !named && let Some(model) = stream.model() {
                    view.author.set(model.to_owned());
                    named = true;
                }
                if !added.is_empty() {
                    first_token_at.get_or_insert_with(now);
                    view.text.update(|t| t.push_str(&added));
                    store.persist_draft(false);
                }
                !stream.is_finished()
            })
            .await;
            let (status, error) = settle(result, &mut stream, &url);
            let result = CallResult {
                event_id: view.id.clone(),
                text: stream.text().to_owned(),
                status,
                error: error.as_ref().map(|e| (e.code(), e.to_string())),
                response_model: stream.model().map(str::to_owned),
                first_token_at,
                usage: stream.usage(),
                finish_reason: None,
            };
            view.error
                .set(result.error.as_ref().map(|(_, m)| m.clone()));
            view.status.set(status);
            store.finish_reply(&user, &call, result, &view);
        });
    }

    /// Saves the finished reply through the manager and refreshes the views.
    fn finish_reply(&self, user: &str, call: &CallStart, result: CallResult, view: &MessageView) {
        let kept = result.clone();
        match self.with_manager(|m| m.finish_call(user, call, result)) {
            Ok(_) => view.saved.set(true),
            Err(error) => {
                // Kept on screen and in memory, saved once there is room.
                self.keep_unsaved(user, call, kept);
                self.report(format!(
                    "The reply is shown but could not be saved yet: {error}"
                ));
            }
        }
        let saved = view.saved.get_untracked();
        self.reply.set(None);
        self.abort.set_value(None);
        self.refresh_sidebar();
        // An unsaved reply stays on screen as it is (re-reading the session
        // from storage would drop it).
        if saved
            && self.open_id.get_untracked().as_deref() == Some(call.session_id.as_str())
            && self.user_id() == user
        {
            self.open(&call.session_id);
        }
    }
}
