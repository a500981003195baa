//! From a session to a model request: the system prompt and the newest
//! turns that fit the model's context window, or a Continue; a
//! conversation's own options over the settings.
//!
//! A message with attachments is planned in two steps: the plan needs no
//! bytes (an attachment's size gives its cost), and lists the blobs it
//! needs; the shell loads them (from IndexedDB, asynchronously) and
//! [`PlannedRequest::resolve`] puts them in.

mod parts;

pub use parts::{ATTACHMENT_BYTES_LIMIT, IMAGE_TOKENS, PDF_BYTES_PER_TOKEN};

use crate::manager::ConversationOptions;
use crate::session::{AttachmentRef, Event, MessageStatus};
use crate::settings::Settings;
use crate::transport::openai::{ChatMessage, ChatRequest, StreamOptions};
use crate::transport::{ChatStream, FetchFailure, ReplyError, StreamOutcome};
use parts::Slot;

/// What is asked of the model.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Ask<'a> {
    /// The reply to the last user message.
    Reply,
    /// Go on from the reply `event_id`, which was cut off.
    Continue { event_id: &'a str },
}

/// Sent after a cut-off reply to have the model go on with it.
pub const CONTINUE_INSTRUCTION: &str = "Your previous reply was cut off. Continue it exactly where it stopped, without repeating anything.";

/// Tokens per message for its role and separators, on top of its text.
pub const MESSAGE_OVERHEAD_TOKENS: usize = 4;

/// A token estimate that needs no tokenizer: one token per four characters
/// (OpenAI's rule of thumb for English text), rounded up, plus
/// [`MESSAGE_OVERHEAD_TOKENS`]. Code and other languages run denser, which
/// is why a quarter of the window is kept for the reply.
pub fn estimate_tokens(text: &str) -> usize {
    text.chars().count().div_ceil(4) + MESSAGE_OVERHEAD_TOKENS
}

/// The request, and what the context budget left out.
#[derive(Clone, Debug, PartialEq)]
pub struct PlannedRequest {
    /// Whole when `needs` is empty; else its attachments are placeholders
    /// until [`PlannedRequest::resolve`] fills them.
    pub request: ChatRequest,
    /// Earlier turns not sent because they did not fit.
    pub left_out: usize,
    /// The first event sent (older ones were left out), when some were.
    pub first_sent: Option<String>,
    pub estimated_tokens: usize,
    /// The blobs to load before `resolve`, each once.
    pub needs: Vec<AttachmentRef>,
    /// Attachments of earlier turns sent by name only: no room for them,
    /// or (after `resolve`) their bytes were gone.
    pub left_out_attachments: usize,
    slots: Vec<Slot>,
}

impl PlannedRequest {
    /// The request with the attachments' bytes in it. `bytes` gives a
    /// blob's bytes by its SHA-256, `None` if it is gone: an attachment of
    /// the message being sent must be there (else
    /// [`ReplyError::AttachmentUnavailable`]); one of an earlier turn is
    /// left out, by name, and counted.
    pub fn resolve<'b>(
        mut self,
        bytes: &dyn Fn(&str) -> Option<&'b [u8]>,
    ) -> Result<Self, ReplyError> {
        let slots = std::mem::take(&mut self.slots);
        for slot in slots.iter().rev() {
            let found = bytes(&slot.attachment.sha256);
            if found.is_none() {
                if slot.newest {
                    return Err(ReplyError::AttachmentUnavailable {
                        name: slot.attachment.name.clone(),
                    });
                }
                self.left_out_attachments += 1;
            }
            parts::fill(&mut self.request.messages, slot, found);
        }
        self.needs.clear();
        Ok(self)
    }
}

/// A turn that may be sent: its event, its message's text, and (a user's)
/// attachments.
struct Turn<'a> {
    event: &'a Event,
    text: String,
    attachments: Vec<AttachmentRef>,
}

impl Turn<'_> {
    fn role(&self) -> &'static str {
        if self.event.is_from_user() {
            "user"
        } else {
            "assistant"
        }
    }
}

/// The model a plan is for, as its messages name it.
fn model_name(model: &str) -> String {
    if model.is_empty() {
        "the default model".into()
    } else {
        model.to_owned()
    }
}

/// The tokens a request may take of the model's window: a quarter is kept
/// for the reply.
fn budget_of(window: u32) -> usize {
    (window as usize).saturating_sub(window as usize / 4)
}

/// The system prompt in force, trimmed (empty: none).
fn system_prompt<'a>(settings: &'a Settings, options: &'a ConversationOptions) -> &'a str {
    options
        .system_prompt
        .as_deref()
        .unwrap_or(&settings.system_prompt)
        .trim()
}

/// Whether `attachment` can be sent at all to the model in force, alone in
/// a message after the system prompt: the composer asks before it takes a
/// file, so a file too large is refused while the typed text stays.
pub fn attachment_fits(
    settings: &Settings,
    options: &ConversationOptions,
    attachment: &AttachmentRef,
) -> Result<(), ReplyError> {
    let model = options.model_or(&settings.model);
    let window = settings.context_window_for(model);
    let system = system_prompt(settings, options);
    let used = if system.is_empty() {
        0
    } else {
        estimate_tokens(system)
    };
    let (tokens, bytes) = parts::cost(attachment);
    if used + MESSAGE_OVERHEAD_TOKENS + tokens > budget_of(window) {
        return Err(too_large(attachment, tokens, window, model));
    }
    if bytes > ATTACHMENT_BYTES_LIMIT {
        return Err(ReplyError::AttachmentsTooHeavy {
            size: bytes,
            limit: ATTACHMENT_BYTES_LIMIT,
        });
    }
    Ok(())
}

fn too_large(attachment: &AttachmentRef, tokens: usize, window: u32, model: &str) -> ReplyError {
    ReplyError::AttachmentTooLarge {
        name: attachment.name.clone(),
        size: attachment.size,
        tokens,
        window,
        model: model_name(model),
    }
}

/// The request that asks for the reply to the last user message (or that
/// continues a cut-off reply): the system prompt, then as many of the newest
/// turns as fit in the model's context window, never fewer than the newest.
///
/// Events after the last user message (a failed or interrupted attempt that
/// is being retried) are left out, and so are replies that failed outright.
///
/// A user's attachments go with its message as content parts (a model's
/// own replies are text: chat completions take no images from the
/// assistant). The newest message goes whole or not at all; an earlier one
/// whose attachments do not fit goes with their names only, if its text
/// fits.
pub fn plan_request(
    settings: &Settings,
    options: &ConversationOptions,
    events: &[Event],
    ask: Ask<'_>,
) -> Result<PlannedRequest, ReplyError> {
    let upto = match ask {
        Ask::Reply => events.iter().rposition(Event::is_from_user),
        Ask::Continue { event_id } => events.iter().position(|e| e.id == event_id),
    }
    .map_or(0, |i| i + 1);
    let turns: Vec<Turn> = events[..upto]
        .iter()
        .filter(|e| e.status != MessageStatus::Error)
        .map(|event| Turn {
            event,
            text: event.text_content(),
            attachments: if event.is_from_user() {
                event.attachments()
            } else {
                Vec::new()
            },
        })
        .filter(|turn| !turn.text.is_empty() || !turn.attachments.is_empty())
        .collect();

    let model = options.model_or(&settings.model);
    let window = settings.context_window_for(model);
    let budget = budget_of(window);
    let system = system_prompt(settings, options);
    let mut fixed = Vec::new();
    if !system.is_empty() {
        fixed.push(ChatMessage::new("system", system));
    }
    let mut tail = Vec::new();
    if matches!(ask, Ask::Continue { .. }) {
        tail.push(ChatMessage::new("user", CONTINUE_INSTRUCTION));
    }
    let cost = |m: &ChatMessage| estimate_tokens(&m.content.text());
    let mut used: usize = fixed.iter().chain(&tail).map(cost).sum();
    let mut wire_bytes: u64 = 0;

    // Newest first, until the budget is spent; the newest always goes.
    // Each kept turn: whether its attachments go whole.
    let mut whole: Vec<bool> = Vec::new();
    for (i, turn) in turns.iter().rev().enumerate() {
        let text = estimate_tokens(&turn.text);
        let costs: Vec<(usize, u64)> = turn.attachments.iter().map(parts::cost).collect();
        let tokens: usize = costs.iter().map(|c| c.0).sum();
        let bytes: u64 = costs.iter().map(|c| c.1).sum();
        let fits = used + text + tokens <= budget;
        let carried = wire_bytes + bytes <= ATTACHMENT_BYTES_LIMIT;
        if i == 0 {
            if !fits {
                return Err(too_large_message(
                    turn,
                    &costs,
                    used + text,
                    budget,
                    window,
                    model,
                ));
            }
            if !carried {
                return Err(ReplyError::AttachmentsTooHeavy {
                    size: bytes,
                    limit: ATTACHMENT_BYTES_LIMIT,
                });
            }
        }
        if fits && carried {
            used += text + tokens;
            wire_bytes += bytes;
            whole.push(true);
            continue;
        }
        let names: usize = turn.attachments.iter().map(parts::left_out_cost).sum();
        if used + text + names > budget {
            break;
        }
        used += text + names;
        whole.push(false);
    }
    let kept = whole.len();
    let first = turns.len() - kept;
    whole.reverse();

    let mut messages = fixed;
    let mut slots = Vec::new();
    let mut left_out_attachments = 0;
    for (j, (turn, whole)) in turns[first..].iter().zip(whole).enumerate() {
        let message = if turn.attachments.is_empty() {
            ChatMessage::new(turn.role(), &turn.text)
        } else {
            if !whole {
                left_out_attachments += turn.attachments.len();
            }
            let attachments: Vec<(AttachmentRef, bool)> = turn
                .attachments
                .iter()
                .map(|a| (a.clone(), whole))
                .collect();
            let newest = j + 1 == kept;
            parts::message(&turn.text, &attachments, messages.len(), newest, &mut slots)
        };
        messages.push(message);
    }
    messages.extend(tail);
    let mut needs: Vec<AttachmentRef> = Vec::new();
    for slot in &slots {
        if !needs.iter().any(|n| n.sha256 == slot.attachment.sha256) {
            needs.push(slot.attachment.clone());
        }
    }
    Ok(PlannedRequest {
        request: ChatRequest {
            model: Some(model.to_owned()).filter(|m| !m.is_empty()),
            messages,
            stream: true,
            stream_options: Some(StreamOptions {
                include_usage: true,
            }),
            temperature: options.temperature,
        },
        left_out: first,
        first_sent: (first > 0).then(|| turns[first].event.id.clone()),
        estimated_tokens: used,
        needs,
        left_out_attachments,
        slots,
    })
}

/// Why the newest message does not fit: one of its attachments, alone with
/// its text, is too large (named, with its size); else the message as a
/// whole (`with_text`: the tokens before its attachments).
fn too_large_message(
    turn: &Turn,
    costs: &[(usize, u64)],
    with_text: usize,
    budget: usize,
    window: u32,
    model: &str,
) -> ReplyError {
    let largest = costs
        .iter()
        .enumerate()
        .max_by_key(|(_, c)| c.0)
        .filter(|(_, c)| with_text + c.0 > budget);
    if let Some((i, (tokens, _))) = largest {
        return too_large(&turn.attachments[i], *tokens, window, model);
    }
    ReplyError::TooLarge {
        needed: with_text + costs.iter().map(|c| c.0).sum::<usize>(),
        window,
        model: model_name(model),
    }
}

/// What a finished model stream becomes: its status and, if it is not
/// whole, why. `stalled_after`: the stream was given up after that many
/// silent seconds; `online`: what the browser says of the network.
pub fn settle_reply(
    result: Result<(), FetchFailure>,
    stream: &mut ChatStream,
    url: &str,
    stalled_after: Option<u32>,
    online: bool,
) -> (MessageStatus, Option<ReplyError>) {
    // Cut short: kept as interrupted if anything arrived (Continue can go
    // on from it), else a failure to retry.
    let cut_short = |error: ReplyError, text: &str| {
        let status = if text.is_empty() {
            MessageStatus::Error
        } else {
            MessageStatus::Interrupted
        };
        (status, Some(error))
    };
    if stalled_after.is_some() || result.is_err() {
        stream.release_held();
    }
    if let Some(seconds) = stalled_after {
        return cut_short(ReplyError::Stalled { seconds }, stream.text());
    }
    match result {
        Ok(()) => match stream.outcome() {
            StreamOutcome::Complete { .. } => (MessageStatus::Complete, None),
            StreamOutcome::Interrupted => (
                MessageStatus::Interrupted,
                Some(ReplyError::Broken {
                    detail: "the stream ended before the reply was finished".into(),
                }),
            ),
            StreamOutcome::Broken(error) => cut_short(error, stream.text()),
            StreamOutcome::Failed(error) => (MessageStatus::Error, Some(error)),
        },
        Err(FetchFailure::Aborted) => (MessageStatus::Stopped, None),
        Err(FetchFailure::Unreachable) if !online => {
            (MessageStatus::Error, Some(ReplyError::Offline))
        }
        Err(FetchFailure::Unreachable) => (
            MessageStatus::Error,
            Some(ReplyError::Unreachable {
                url: url.to_owned(),
            }),
        ),
        Err(FetchFailure::Http { status, body, .. }) => (
            MessageStatus::Error,
            Some(ReplyError::from_http(status, &body)),
        ),
        Err(FetchFailure::Broken(detail)) => {
            cut_short(ReplyError::Broken { detail }, stream.text())
        }
    }
}

#[cfg(test)]
mod attachment_tests;

#[cfg(test)]
mod tests {
    use super::*;

    /// The reply request with the settings' choices and room for everything.
    fn build_request(settings: &Settings, events: &[Event]) -> ChatRequest {
        let roomy = Settings {
            default_context_window: 1_000_000,
            ..settings.clone()
        };
        plan_request(&roomy, &ConversationOptions::default(), events, Ask::Reply)
            .unwrap()
            .request
    }

    fn event(author: &str, text: &str, status: MessageStatus) -> Event {
        let mut event = Event::text(author, "i", 1.0, text);
        event.status = status;
        event
    }

    fn roles_and_texts(request: &ChatRequest) -> Vec<(String, String)> {
        request
            .messages
            .iter()
            .map(|m| (m.role.clone(), m.content.text()))
            .collect()
    }

    #[test]
    fn reasoning_is_never_sent_back_to_the_model() {
        // DeepSeek refuses a request whose history holds reasoning, and it
        // would spend the context window: only answers go upstream.
        let mut thought = event("m", "It is 4.", MessageStatus::Complete);
        thought.reasoning = Some(crate::session::Reasoning {
            text: "SECRET-REASONING two and two".into(),
            millis: Some(900),
            ..Default::default()
        });
        // Stopped while thinking: no answer yet, nothing to send.
        let mut only_thought = event("m", "", MessageStatus::Stopped);
        only_thought.reasoning = thought.reasoning.clone();
        // An agent's Gemini thought parts are reasoning too.
        let mut agent: Event = serde_json::from_value(serde_json::json!({
            "id": "a", "author": "agent", "timestamp": 1.0,
            "content": {"role": "model", "parts": [
                {"text": "SECRET-REASONING from a thought part", "thought": true},
                {"text": "Agent answer."}
            ]}
        }))
        .unwrap();
        agent.invocation_id = "i".into();
        let events = [
            event("user", "2+2?", MessageStatus::Complete),
            thought,
            event("user", "and 3+3?", MessageStatus::Complete),
            only_thought,
            event("user", "again?", MessageStatus::Complete),
            agent,
            event("user", "thanks", MessageStatus::Complete),
        ];
        let request = build_request(&Settings::default(), &events);
        let body = serde_json::to_string(&request).unwrap();
        assert!(!body.contains("SECRET-REASONING"), "{body}");
        assert!(!body.contains("reasoning"), "{body}");
        let texts: Vec<(String, String)> = roles_and_texts(&request)
            .into_iter()
            .filter(|(role, _)| role != "system")
            .collect();
        let expected = [
            ("user", "2+2?"),
            ("assistant", "It is 4."),
            ("user", "and 3+3?"),
            ("user", "again?"),
            ("assistant", "Agent answer."),
            ("user", "thanks"),
        ];
        let expected: Vec<(String, String)> = expected
            .iter()
            .map(|(r, t)| (r.to_string(), t.to_string()))
            .collect();
        assert_eq!(texts, expected);
    }

    #[test]
    fn the_request_carries_the_system_prompt_and_every_turn() {
        let settings = Settings {
            system_prompt: "Be brief.".into(),
            model: "gpt-x".into(),
            ..Settings::default()
        };
        let events = [
            event("user", "first", MessageStatus::Complete),
            event("m", "answer one", MessageStatus::Complete),
            event("user", "second", MessageStatus::Complete),
            event("m", "cut sh", MessageStatus::Stopped),
            event("user", "third", MessageStatus::Complete),
        ];
        let request = build_request(&settings, &events);
        assert_eq!(request.model.as_deref(), Some("gpt-x"));
        assert!(request.stream);
        let expected = [
            ("system", "Be brief."),
            ("user", "first"),
            ("assistant", "answer one"),
            ("user", "second"),
            ("assistant", "cut sh"),
            ("user", "third"),
        ];
        let expected: Vec<(String, String)> = expected
            .iter()
            .map(|(r, t)| (r.to_string(), t.to_string()))
            .collect();
        assert_eq!(roles_and_texts(&request), expected);
    }

    #[test]
    fn a_retry_leaves_out_the_failed_attempts() {
        let events = [
            event("user", "q1", MessageStatus::Complete),
            event("m", "", MessageStatus::Error),
            event("m", "a1", MessageStatus::Complete),
            event("user", "q2", MessageStatus::Complete),
            event("m", "half", MessageStatus::Interrupted),
            event("m", "", MessageStatus::Error),
        ];
        let request = build_request(&Settings::default(), &events);
        assert_eq!(
            request.model, None,
            "an empty model means the proxy's default"
        );
        let texts: Vec<String> = request.messages.iter().map(|m| m.content.text()).collect();
        assert_eq!(texts, ["q1", "a1", "q2"]);
    }

    /// Settings whose default model has a window of `tokens`.
    fn window(tokens: u32) -> Settings {
        Settings {
            default_context_window: tokens,
            ..Settings::default()
        }
    }

    fn turns(n: usize, chars: usize) -> Vec<Event> {
        (0..n)
            .map(|i| {
                let author = if i % 2 == 0 { "user" } else { "m" };
                let mut e = event(
                    author,
                    &format!("{i:>width$}", width = chars),
                    MessageStatus::Complete,
                );
                e.id = format!("e{i}");
                e
            })
            .collect()
    }

    #[test]
    fn tokens_are_estimated_from_characters_with_a_per_message_overhead() {
        assert_eq!(estimate_tokens(""), 4);
        assert_eq!(estimate_tokens("abcd"), 5);
        assert_eq!(estimate_tokens("abcde"), 6);
        // Characters, not bytes: four accented letters are one token.
        assert_eq!(estimate_tokens("éééé"), 5);
    }

    #[test]
    fn the_newest_turns_that_fit_are_sent_and_the_rest_is_counted_as_left_out() {
        // 9 turns of 36 characters: 13 tokens each. A window of 80 keeps
        // 60 for the request: 4 turns (52), not 5 (65).
        let events = turns(9, 36);
        let plan = plan_request(
            &window(80),
            &ConversationOptions::default(),
            &events,
            Ask::Reply,
        )
        .unwrap();
        let sent: Vec<_> = plan
            .request
            .messages
            .iter()
            .map(|m| m.content.text().trim().to_owned())
            .collect();
        assert_eq!(sent, ["5", "6", "7", "8"]);
        assert_eq!(plan.left_out, 5);
        assert_eq!(plan.first_sent.as_deref(), Some("e5"));
        assert_eq!(plan.estimated_tokens, 52);

        let everything = plan_request(
            &window(10_000),
            &ConversationOptions::default(),
            &events,
            Ask::Reply,
        )
        .unwrap();
        assert_eq!(everything.request.messages.len(), 9);
        assert_eq!((everything.left_out, everything.first_sent), (0, None));
    }

    #[test]
    fn the_system_prompt_counts_and_always_goes_first() {
        let settings = Settings {
            system_prompt: "x".repeat(36),
            ..window(80)
        };
        let plan = plan_request(
            &settings,
            &ConversationOptions::default(),
            &turns(9, 36),
            Ask::Reply,
        )
        .unwrap();
        assert_eq!(plan.request.messages[0].role, "system");
        assert_eq!(
            plan.request.messages.len(),
            4,
            "the system prompt and three turns"
        );
        assert_eq!(plan.left_out, 6);
    }

    #[test]
    fn a_newest_message_too_large_for_the_window_is_refused_with_its_size() {
        let events = turns(1, 1_000); // 254 tokens; a window of 256 leaves 192
        let error = plan_request(
            &window(256),
            &ConversationOptions::default(),
            &events,
            Ask::Reply,
        )
        .unwrap_err();
        assert_eq!(
            error,
            ReplyError::TooLarge {
                needed: 254,
                window: 256,
                model: "the default model".into()
            }
        );
        assert!(error.to_string().contains("Shorten it"));
        // The same message in a larger window is sent whole, alone.
        let fits = plan_request(
            &window(1_000),
            &ConversationOptions::default(),
            &events,
            Ask::Reply,
        )
        .map(|plan| {
            (
                plan.request.messages.len(),
                plan.left_out,
                plan.estimated_tokens,
            )
        });
        assert_eq!(fits, Ok((1, 0, 254)));
    }

    #[test]
    fn each_model_has_its_own_window() {
        let mut settings = window(80);
        settings.context_windows.insert("big".into(), 100_000);
        let options = ConversationOptions {
            model: Some("big".into()),
            ..Default::default()
        };
        let plan = plan_request(&settings, &options, &turns(9, 36), Ask::Reply).unwrap();
        assert_eq!(plan.left_out, 0);
        assert_eq!(plan.request.model.as_deref(), Some("big"));
    }

    #[test]
    fn a_conversation_picks_its_own_model_temperature_and_system_prompt() {
        let settings = Settings {
            model: "global".into(),
            system_prompt: "Global prompt.".into(),
            ..Settings::default()
        };
        let options = ConversationOptions {
            model: Some("mine".into()),
            temperature: Some(0.2),
            system_prompt: Some("Answer in French.".into()),
            ..Default::default()
        };
        let plan = plan_request(&settings, &options, &turns(1, 5), Ask::Reply).unwrap();
        assert_eq!(plan.request.model.as_deref(), Some("mine"));
        assert_eq!(plan.request.temperature, Some(0.2));
        assert_eq!(plan.request.messages[0].content.text(), "Answer in French.");
        let json = serde_json::to_value(&plan.request).unwrap();
        assert!((json["temperature"].as_f64().unwrap() - 0.2).abs() < 1e-6);

        // An empty model falls back to Settings; no temperature is not sent.
        let plain = plan_request(
            &settings,
            &ConversationOptions {
                model: Some(" ".into()),
                ..Default::default()
            },
            &turns(1, 5),
            Ask::Reply,
        )
        .unwrap();
        assert_eq!(plain.request.model.as_deref(), Some("global"));
        assert!(
            serde_json::to_value(&plain.request)
                .unwrap()
                .get("temperature")
                .is_none()
        );
    }

    #[test]
    fn continue_sends_the_cut_off_reply_and_asks_to_go_on() {
        let mut events = turns(2, 5);
        events[1].status = MessageStatus::Interrupted;
        events[1].id = "cut".into();
        // A later retry's failure is not part of it.
        events.push(event("m", "boom", MessageStatus::Error));
        let plan = plan_request(
            &Settings::default(),
            &ConversationOptions::default(),
            &events,
            Ask::Continue { event_id: "cut" },
        )
        .unwrap();
        let roles: Vec<_> = plan
            .request
            .messages
            .iter()
            .map(|m| m.role.as_str())
            .collect();
        assert_eq!(roles, ["user", "assistant", "user"]);
        assert_eq!(plan.request.messages[1].content.text().trim(), "1");
        assert_eq!(
            plan.request.messages[2].content.text(),
            CONTINUE_INSTRUCTION
        );
    }

    /// A stream fed `frames`, as the proxy would send them.
    fn streamed(frames: &str) -> ChatStream {
        let mut stream = ChatStream::new();
        stream.push(frames.as_bytes());
        stream
    }

    const HALF: &str = "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Half\"}}]}\n\n";
    const WHOLE: &str = "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"All\"},\"finish_reason\":\"stop\"}]}\n\ndata: [DONE]\n\n";

    #[test]
    fn each_way_a_stream_ends_gets_its_status_and_reason() {
        let url = "/api/v1/chat/completions";
        let settle = |result, frames: &str, stalled, online| {
            settle_reply(result, &mut streamed(frames), url, stalled, online)
        };
        assert_eq!(
            settle(Ok(()), WHOLE, None, true),
            (MessageStatus::Complete, None)
        );
        assert_eq!(
            settle(Ok(()), HALF, None, true),
            (
                MessageStatus::Interrupted,
                Some(ReplyError::Broken {
                    detail: "the stream ended before the reply was finished".into()
                })
            )
        );
        assert_eq!(
            settle(Err(FetchFailure::Aborted), HALF, None, true),
            (MessageStatus::Stopped, None)
        );
        assert_eq!(
            settle(Err(FetchFailure::Unreachable), "", None, false),
            (MessageStatus::Error, Some(ReplyError::Offline))
        );
        assert_eq!(
            settle(Err(FetchFailure::Unreachable), "", None, true),
            (
                MessageStatus::Error,
                Some(ReplyError::Unreachable { url: url.into() })
            )
        );
        let http = FetchFailure::Http {
            status: 429,
            body: r#"{"error":{"message":"slow down","type":"rate_limit_error","code":null}}"#
                .into(),
            retry_after: None,
        };
        assert_eq!(
            settle(Err(http), "", None, true),
            (
                MessageStatus::Error,
                Some(ReplyError::Http {
                    status: 429,
                    message: "slow down".into()
                })
            )
        );
        // Broken or stalled: kept as interrupted if anything arrived, else an error.
        let broken = || Err(FetchFailure::Broken("reset".into()));
        assert_eq!(
            settle(broken(), HALF, None, true).0,
            MessageStatus::Interrupted
        );
        assert_eq!(settle(broken(), "", None, true).0, MessageStatus::Error);
        assert_eq!(
            settle(Ok(()), HALF, Some(60), true),
            (
                MessageStatus::Interrupted,
                Some(ReplyError::Stalled { seconds: 60 })
            )
        );
        assert_eq!(
            settle(Err(FetchFailure::Aborted), "", Some(60), true).0,
            MessageStatus::Error
        );
    }

    /// A frame whose content is `text`.
    fn content(text: &str) -> String {
        format!("data: {{\"choices\":[{{\"index\":0,\"delta\":{{\"content\":{text:?}}}}}]}}\n\n")
    }

    #[test]
    fn a_reply_cut_short_keeps_what_the_reasoning_splitter_held_back() {
        // Stopped while the start could still be an opening tag: it was answer.
        let mut stream = streamed(&content("<thi"));
        assert_eq!(stream.text(), "");
        let settled = settle_reply(Err(FetchFailure::Aborted), &mut stream, "/api", None, true);
        assert_eq!(settled, (MessageStatus::Stopped, None));
        assert_eq!(stream.text(), "<thi");
        // Stalled inside the reasoning, a closing tag half received: it stays reasoning.
        let mut stream = streamed(&content("<think>Two and two</thi"));
        assert_eq!(stream.reasoning().reasoning(), "Two and two");
        settle_reply(Ok(()), &mut stream, "/api", Some(60), true);
        assert_eq!(stream.reasoning().reasoning(), "Two and two</thi");
        assert_eq!(stream.text(), "");
        // Broken mid-answer: nothing was held, nothing changes.
        let mut stream = streamed(&content("<think>x</think>Four"));
        settle_reply(
            Err(FetchFailure::Broken("reset".into())),
            &mut stream,
            "/api",
            None,
            true,
        );
        assert_eq!(stream.text(), "Four");
        assert_eq!(stream.reasoning().reasoning(), "x");
    }
}
