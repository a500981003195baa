//! Agent mode: a conversation answered by an app of a Google ADK api_server.
//! The server session is created before the first run; a run answered
//! "Session not found" (the server restarted and lost it) restores it from
//! the local copy and runs again; Stop re-reads what the run did meanwhile.

use confab_core::agent::{self, AgentStream, RunOutcome, ServerSession};
use confab_core::manager::{CallResult, ConversationOptions};
use confab_core::outcome::AgentError;
use confab_core::session::{Event, MessageStatus, Reasoning, Session, TEMP_PREFIX, new_id};
use leptos::prelude::*;
use leptos::task::spawn_local;

use super::reply::StallWatch;
use super::{ChatStore, MessageView, Role};
use crate::platform::http::{FetchFailure, get_text, post_json, post_streaming};

crate::split::split_point!(
    agent,
    /// An agent's reply: most conversations are a model's, so in the split
    /// release build the agent run (ADK requests and events) is a chunk.
    pub(super) fn agent_reply(
        store: ChatStore,
        session_id: String,
        app: String,
        options: ConversationOptions,
    ) -> () {
        store.start_agent_reply(&session_id, app, options)
    }
);

impl ChatStore {
    /// Reads the agent server's apps, for the conversation options.
    pub fn refresh_agent_apps(&self) {
        let store = *self;
        let url = agent::list_apps_url(&self.settings.get_untracked().agent_endpoint);
        spawn_local(async move {
            let mut answer = get_text(&url).await;
            // A new identity from confab-proxy (see `run_agent`): once more.
            if matches!(answer, Err(FetchFailure::Http { status: 401, .. })) {
                answer = get_text(&url).await;
            }
            let apps = answer
                .ok()
                .and_then(|body| serde_json::from_str::<Vec<String>>(&body).ok());
            store.offered.agent_apps.set(apps.unwrap_or_default());
        });
    }

    /// Switches the open conversation to the model and asks it again: the
    /// model gets the whole history, agent turns included, as context.
    pub fn answer_with_model(&self) {
        let Some(options) = self
            .on_screen
            .record
            .with_untracked(|c| c.as_ref().map(|c| c.options.clone()))
        else {
            return;
        };
        self.set_conversation_options(ConversationOptions {
            agent_app: None,
            ..options
        });
        self.retry();
    }

    /// Runs agent `app` on the last user message of session `session_id`.
    fn start_agent_reply(&self, session_id: &str, app: String, options: ConversationOptions) {
        let user = self.user_id();
        let settings = self.settings.get_untracked();
        let call = match self.with_manager(|m| m.begin_call(&user, session_id, Some(&app))) {
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
        let view = MessageView::new(
            new_id(),
            Role::Assistant,
            &app,
            String::new(),
            MessageStatus::Streaming,
        );
        let Some(signal) = self.begin_streaming(session.clone(), &view, &user, &call) else {
            return;
        };

        let store = *self;
        let base = settings.agent_endpoint.clone();
        let stall_seconds = settings.stall_seconds;
        spawn_local(async move {
            let mut stream = AgentStream::timed(Box::new(crate::platform::BrowserClock));
            let outcome = store
                .run_agent(
                    &base,
                    &app,
                    &user,
                    &session,
                    options,
                    &view,
                    &signal,
                    &mut stream,
                    stall_seconds,
                )
                .await;
            stream.finish();
            let mut events = stream.events().to_vec();
            let outcome = match outcome {
                Ok(()) => agent::finished_run(&stream),
                Err(failed) => failed,
            };
            if outcome == RunOutcome::Stopped {
                // The server may have gone on: bring in what it did.
                events.extend(
                    store
                        .missed_events(&base, &app, &store.agent_user(), &session, &events)
                        .await,
                );
            }
            let (status, error) = outcome.saved_as();
            let millis = stream.thought_millis();
            // The thought parts stay in the agent's events as ADK sent
            // them; how long it thought is kept on the last one that has any.
            if let Some(thinker) = events.iter_mut().rev().find(|e| {
                e.content
                    .as_ref()
                    .is_some_and(|c| c.parts.iter().any(|p| p.is_thought()))
            }) {
                thinker.reasoning = Some(Reasoning {
                    millis,
                    ..Reasoning::default()
                });
            }
            view.thought_millis.set(millis);
            let events = store.offload_replies(events).await;
            let events = store
                .attach_artifacts(&base, &app, &user, &session.id, events)
                .await;
            let result = CallResult {
                agent_events: events,
                event_id: view.id.clone(),
                // Only what was not made final: final events are saved as they are.
                text: stream.partial_text().to_owned(),
                status,
                error,
                response_model: None,
                first_token_at: None,
                usage: None,
                finish_reason: None,
                // Thoughts not made final (a run stopped while thinking).
                reasoning: Reasoning {
                    text: stream.partial_reasoning().to_owned(),
                    millis,
                    ..Reasoning::default()
                }
                .kept(),
            };
            view.error
                .set(result.error.as_ref().map(ToString::to_string));
            view.status.set(status);
            store.finish_reply(&user, &call, result, &view);
        });
    }

    /// Creates the server session if need be, then streams the run; a
    /// session the server lost is restored once and the run sent again.
    #[allow(clippy::too_many_arguments)]
    async fn run_agent(
        &self,
        base: &str,
        app: &str,
        user: &str,
        session: &Session,
        options: ConversationOptions,
        view: &MessageView,
        signal: &web_sys::AbortSignal,
        stream: &mut AgentStream,
        stall_seconds: u32,
    ) -> Result<(), RunOutcome> {
        // Everything before the message being sent: what the agent must know
        // when its session is created late (a conversation that began with
        // the model) or rebuilt after a restart.
        let mut history = session.clone();
        if let Some(last) = history.events.iter().rposition(Event::is_from_user) {
            history.events.truncate(last);
        }
        let earlier = (!history.events.is_empty()).then_some(&history);
        // The agent server knows this profile by its own id, not `user`.
        let agent_user = self.agent_user();
        let server_id = match options.agent_session_id.clone() {
            Some(id) => id,
            None => {
                let id = self
                    .create_server_session(base, app, &agent_user, &session.id, earlier)
                    .await?;
                let options = ConversationOptions {
                    agent_session_id: Some(id.clone()),
                    ..options
                };
                let _ = self.with_manager(|m| m.set_options(user, &session.id, options));
                id
            }
        };
        // The message with its attachments as inlineData (bytes from IndexedDB).
        let message = session
            .events
            .iter()
            .rfind(|e| e.is_from_user())
            .cloned()
            .unwrap_or_else(|| Event::text("user", "", 0.0, ""));
        let loaded =
            ChatStore::load_blobs(message.attachments().into_iter().map(|a| a.sha256)).await;
        let body = agent::run_message_request(app, &agent_user, &server_id, &message, &|sha| {
            loaded.get(sha).map(Vec::as_slice)
        })
        .map_err(|error| {
            RunOutcome::Failed(
                MessageStatus::Error,
                AgentError::RunFailed {
                    detail: error.to_string(),
                },
            )
        })?
        .to_string();
        let url = agent::run_sse_url(base);
        let mut restored = false;
        let mut renewed = false;
        loop {
            let watch = StallWatch::start(*self, stall_seconds);
            let result = post_streaming(&url, body.clone(), signal, |bytes| {
                watch.saw_bytes();
                let change = stream.push(bytes);
                let answer_began =
                    view.text.with_untracked(String::is_empty) && !stream.text().is_empty();
                // A partial delta is appended; only a final event redraws.
                if change.rebuilt {
                    view.reasoning.set(stream.reasoning());
                    view.text.set(stream.text());
                    self.persist_draft(false);
                } else if !change.appended.is_empty() || !change.reasoning.is_empty() {
                    view.reasoning.update(|t| t.push_str(&change.reasoning));
                    view.text.update(|t| t.push_str(&change.appended));
                    self.persist_draft(false);
                }
                if answer_began {
                    view.thought_millis.set(stream.thought_millis());
                }
                if let Some(author) = change.author {
                    view.author.set(author);
                }
                if change.new_events > 0 {
                    let events = stream.events();
                    self.show_state_deltas(&events[events.len() - change.new_events..]);
                }
                stream.failure().is_none()
            })
            .await;
            let stalled = watch.finish();
            match result {
                Ok(()) => return Ok(()),
                // confab-proxy did not know this browser (its identity
                // cookie was cleared or the proxy's key changed); its answer
                // gave it a new identity: once more with it.
                Err(FetchFailure::Http { status: 401, .. }) if !renewed => renewed = true,
                Err(FetchFailure::Http {
                    status,
                    body: answer,
                    ..
                }) if !restored && agent::is_session_not_found(status, &answer) => {
                    // The server restarted and lost the session: rebuild it
                    // from the local copy (without the message being sent).
                    self.create_server_session(base, app, &agent_user, &server_id, Some(&history))
                        .await?;
                    self.report(confab_core::notice::Notice::AgentSessionRestored {
                        events: history.events.len(),
                    });
                    restored = true;
                }
                Err(FetchFailure::Aborted) if stalled => {
                    let status = if stream.text().is_empty() {
                        MessageStatus::Error
                    } else {
                        MessageStatus::Interrupted
                    };
                    let stalled = AgentError::Stalled {
                        seconds: stall_seconds,
                    };
                    return Err(RunOutcome::Failed(status, stalled));
                }
                Err(failure) => return Err(failed_request(failure, base)),
            }
        }
    }

    /// `POST .../sessions`: a new session under `session_id`, or (with
    /// `history`) the lost one rebuilt. Returns the server's id for it; an
    /// "already exists" (another tab restored it first) is fine.
    async fn create_server_session(
        &self,
        base: &str,
        app: &str,
        user: &str,
        session_id: &str,
        history: Option<&Session>,
    ) -> Result<String, RunOutcome> {
        let body = match history {
            // The earlier messages go back with their attachments' bytes.
            Some(history) => {
                let loaded = ChatStore::load_blobs(agent::restore_needs(history)).await;
                agent::restore_request(history, session_id, &|sha| {
                    loaded.get(sha).map(Vec::as_slice)
                })
            }
            None => serde_json::json!({ "session_id": session_id }),
        };
        let url = agent::sessions_url(base, app, user);
        let body = body.to_string();
        let mut answered = post_json(&url, body.clone()).await;
        // A new identity from confab-proxy (see `run_agent`): once more.
        if matches!(answered, Ok((401, _))) {
            answered = post_json(&url, body).await;
        }
        let (status, answer) = answered.map_err(|failure| failed_request(failure, base))?;
        match status {
            200..=299 => Ok(serde_json::from_str::<ServerSession>(&answer)
                .map(|s| s.id)
                .unwrap_or_else(|_| session_id.to_owned())),
            409 => Ok(session_id.to_owned()),
            _ => Err(failed_request(
                FetchFailure::Http {
                    status,
                    body: answer,
                    retry_after: None,
                },
                base,
            )),
        }
    }

    /// `events` with the artifacts they say the agent saved fetched (the
    /// version each names), stored as blobs and attached to the event that
    /// saved them. One that cannot be fetched is named on the reply as
    /// unavailable (`missing_artifacts`); the reply is never held back.
    async fn attach_artifacts(
        &self,
        base: &str,
        app: &str,
        user: &str,
        session_id: &str,
        mut events: Vec<Event>,
    ) -> Vec<Event> {
        let saved = agent::saved_artifacts(&events);
        if saved.is_empty() {
            return events;
        }
        // The run created or found the server session: its id is saved.
        let Some(server_id) = self
            .with_manager(|m| m.conversation(user, session_id))
            .ok()
            .and_then(|c| c.options.agent_session_id)
        else {
            return events;
        };
        let agent_user = self.agent_user();
        let mut new = Vec::new();
        for artifact in saved {
            let url = agent::artifact_url(
                base,
                app,
                &agent_user,
                &server_id,
                &artifact.name,
                Some(artifact.version),
            );
            let mut answer = get_text(&url).await;
            // A new identity from confab-proxy (see `run_agent`): once more.
            if matches!(answer, Err(FetchFailure::Http { status: 401, .. })) {
                answer = get_text(&url).await;
            }
            let Some((mime, bytes)) = answer.ok().and_then(|body| agent::artifact_bytes(&body))
            else {
                continue;
            };
            if let Some(event) = events.get_mut(artifact.event) {
                new.extend(agent::attach_artifact(event, &artifact.name, &mime, bytes));
            }
        }
        if !new.is_empty() {
            match self.store_new_blobs(&new).await {
                Ok(()) => self.refresh_attachment_usage(),
                // Their chips say "attachment unavailable"; the banner why.
                Err(error) => self.note_blob_error(&error),
            }
        }
        events
    }

    /// The events the server session has that this run did not receive.
    async fn missed_events(
        &self,
        base: &str,
        app: &str,
        user: &str,
        session: &Session,
        received: &[Event],
    ) -> Vec<Event> {
        let server_id = self
            .on_screen
            .record
            .with_untracked(|c| c.as_ref().and_then(|c| c.options.agent_session_id.clone()))
            .unwrap_or_else(|| session.id.clone());
        let url = agent::session_url(base, app, user, &server_id);
        let Ok(body) = get_text(&url).await else {
            return Vec::new();
        };
        let Ok(server) = serde_json::from_str::<ServerSession>(&body) else {
            return Vec::new();
        };
        let mut known = session.events.clone();
        known.extend_from_slice(received);
        agent::missing_events(&known, &server)
    }

    /// Shows the state deltas of a run's new final events in the state
    /// inspector as they arrive (they are saved with the events at the end).
    fn show_state_deltas(&self, events: &[Event]) {
        self.on_screen.state.update(|state| {
            for event in events {
                for (key, value) in &event.actions.state_delta {
                    if !key.starts_with(TEMP_PREFIX) {
                        state.insert(key.clone(), value.clone());
                    }
                }
            }
        });
    }
}

/// A failed request to the agent server, as the user should read it.
fn failed_request(failure: FetchFailure, base: &str) -> RunOutcome {
    agent::failed_request(failure, base, &page_origin())
}

fn page_origin() -> String {
    web_sys::window()
        .and_then(|w| w.location().origin().ok())
        .unwrap_or_else(|| "<this page's origin>".into())
}
