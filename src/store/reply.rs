//! Streaming one reply: request, token-by-token display, and the event
//! saved when it ends (complete, stopped, interrupted or failed).

use confab_core::chat::build_request;
use confab_core::session::{Event, MessageStatus, Session, new_id};
use confab_core::transport::{ChatStream, ReplyError, StreamOutcome};
use leptos::prelude::*;
use leptos::task::spawn_local;

use super::{ActiveReply, ChatStore, MessageView, Role};
use crate::platform::BrowserClock;
use crate::platform::http::{FetchFailure, post_streaming};

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
    /// Streams the reply to `session`'s last user message.
    pub(super) fn start_reply(&self, session: Session) {
        let settings = self.settings.get_untracked();
        let request = build_request(&settings, &session.events);
        let invocation_id = session
            .events
            .iter()
            .rfind(|e| e.is_from_user())
            .map(|e| e.invocation_id.clone())
            .unwrap_or_else(new_id);
        let author = request.model.clone().unwrap_or_default();
        let view = MessageView::new(
            new_id(),
            Role::Assistant,
            &author,
            String::new(),
            MessageStatus::Streaming,
        );
        let Ok(controller) = web_sys::AbortController::new() else {
            self.open(&session.id);
            return self.report("This browser cannot cancel requests (no AbortController).");
        };
        let signal = controller.signal();
        self.abort.set_value(Some(controller));
        self.reply.set(Some(ActiveReply {
            session_id: session.id.clone(),
            view: view.clone(),
        }));
        // Re-render the conversation from storage, with the reply at its end.
        self.open(&session.id);

        let store = *self;
        let url = settings.completions_url();
        let body = serde_json::to_string(&request).unwrap_or_default();
        spawn_local(async move {
            let mut stream = ChatStream::new();
            let mut named = false;
            let result = post_streaming(&url, body, &signal, |bytes| {
                let added = stream.push(bytes);
                if !named && let Some(model) = stream.model() {
                    view.author.set(model.to_owned());
                    named = true;
                }
                if !added.is_empty() {
                    view.text.update(|t| t.push_str(&added));
                }
                !stream.is_finished()
            })
            .await;
            let (status, error) = settle(result, &mut stream, &url);
            let author = stream
                .model()
                .map(str::to_owned)
                .unwrap_or(if author.is_empty() {
                    "model".to_owned()
                } else {
                    author
                });
            let now = confab_core::Clock::now(&BrowserClock);
            let mut event = Event::text(&author, &invocation_id, now, stream.text());
            event.id = view.id.clone();
            event.status = status;
            if let Some(error) = &error {
                event.error_code = Some(error.code());
                event.error_message = Some(error.to_string());
            }
            view.error.set(event.error_message.clone());
            view.status.set(status);
            store.finish_reply(&session.id, event);
        });
    }
}
