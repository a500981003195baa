//! From a session to a model request, and the small derived facts the UI
//! shows (titles).

use crate::session::{Event, MessageStatus};
use crate::settings::Settings;
use crate::transport::openai::{ChatMessage, ChatRequest, StreamOptions};

/// Longest sidebar title, in characters.
const TITLE_CHARS: usize = 60;

/// A conversation's title: the first line of its first user message.
pub fn title_of(events: &[Event]) -> Option<String> {
    let text = events.iter().find(|e| e.is_from_user())?.text_content();
    let line = text.lines().map(str::trim).find(|l| !l.is_empty())?;
    if line.chars().count() <= TITLE_CHARS {
        return Some(line.to_owned());
    }
    let cut: String = line.chars().take(TITLE_CHARS - 1).collect();
    Some(format!("{}…", cut.trim_end()))
}

/// The request that asks for the reply to the last user message: the system
/// prompt, then every earlier turn, so the model has the whole context.
///
/// Events after the last user message (a failed or interrupted attempt that
/// is being retried) are left out, and so are replies that failed outright.
pub fn build_request(settings: &Settings, events: &[Event]) -> ChatRequest {
    let upto = events
        .iter()
        .rposition(Event::is_from_user)
        .map_or(0, |i| i + 1);
    let mut messages = Vec::with_capacity(upto + 1);
    if !settings.system_prompt.trim().is_empty() {
        messages.push(ChatMessage::new("system", &settings.system_prompt));
    }
    for event in &events[..upto] {
        if event.status == MessageStatus::Error {
            continue;
        }
        let text = event.text_content();
        if text.is_empty() {
            continue;
        }
        let role = if event.is_from_user() {
            "user"
        } else {
            "assistant"
        };
        messages.push(ChatMessage::new(role, &text));
    }
    ChatRequest {
        model: Some(settings.model.clone()).filter(|m| !m.is_empty()),
        messages,
        stream: true,
        stream_options: Some(StreamOptions {
            include_usage: true,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(author: &str, text: &str, status: MessageStatus) -> Event {
        let mut event = Event::text(author, "i", 1.0, text);
        event.status = status;
        event
    }

    fn roles_and_texts(request: &ChatRequest) -> Vec<(String, String)> {
        request
            .messages
            .iter()
            .map(|m| (m.role.clone(), m.content.clone()))
            .collect()
    }

    #[test]
    fn titles_come_from_the_first_user_line() {
        let events = [
            event("model", "greeting", MessageStatus::Complete),
            event(
                "user",
                "\n  Plan a trip to Paris  \nin March",
                MessageStatus::Complete,
            ),
            event("user", "later", MessageStatus::Complete),
        ];
        assert_eq!(title_of(&events).as_deref(), Some("Plan a trip to Paris"));
        assert_eq!(title_of(&[]), None);
        let long = event("user", &"word ".repeat(40), MessageStatus::Complete);
        let title = title_of(&[long]).unwrap();
        assert!(title.chars().count() <= TITLE_CHARS && title.ends_with('…'));
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
        let texts: Vec<String> = request.messages.iter().map(|m| m.content.clone()).collect();
        assert_eq!(texts, ["q1", "a1", "q2"]);
    }
}
