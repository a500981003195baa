//! [`AgentStream`]: one `/run_sse` answer read as its bytes arrive, ADK's
//! SSE events (partial and final) to the text shown, Gemini's thought parts
//! to the reasoning shown, an error event to the run's failure.

use serde_json::Value;

use super::server::describe_error;
use crate::clock::{Clock, StreamClock};
use crate::session::Event;
use crate::transport::reasoning::{ReasoningSplitter, TextFields};
use crate::transport::sse::SseDecoder;

/// Between the texts of two events in [`AgentStream::text`].
const TEXT_SEPARATOR: &str = "\n\n";

/// What one [`AgentStream::push`] changed.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct AgentChange {
    /// Text to add at the end of what was shown (partial deltas).
    pub appended: String,
    /// A final event arrived: the shown text is [`AgentStream::text`] anew.
    pub rebuilt: bool,
    /// How many final events arrived (the last ones of `events()`).
    pub new_events: usize,
    /// The author now writing, when it changed.
    pub author: Option<String>,
    /// Thought text to add to the reasoning shown (Gemini's thought parts
    /// of partial events).
    pub reasoning: String,
}

/// Accumulates one `/run_sse` answer: partial text as it streams, the final
/// events (an aggregated final event replaces the partials it repeats), and
/// an error if one arrives.
#[derive(Debug, Default)]
pub struct AgentStream {
    sse: SseDecoder,
    finals: Vec<Event>,
    /// The text of `finals`, joined as [`AgentStream::text`] shows it.
    finals_text: String,
    /// Text of partial events since the last final event.
    partial: String,
    partial_author: Option<String>,
    failure: Option<String>,
    /// The thought parts of `finals`, then of the partial events since.
    finals_thoughts: String,
    partial_thoughts: String,
    /// Times the thinking (first thought to first answer text).
    timing: ReasoningSplitter,
    clock: StreamClock,
}

impl AgentStream {
    pub fn new() -> Self {
        Self::default()
    }

    /// A stream that times the model's thinking with `clock`.
    pub fn timed(clock: Box<dyn Clock>) -> Self {
        Self {
            clock: StreamClock::new(clock),
            ..Self::default()
        }
    }

    /// Notes a thought and an answer text for the thinking's timing.
    fn time(&mut self, thought: &str, answer: &str) {
        let fields = TextFields {
            reasoning: Some(thought.to_owned()),
            content: Some(answer.to_owned()),
            ..TextFields::default()
        };
        self.timing.push(fields, self.clock.now());
    }

    /// Feeds received bytes; says what changed, so a view can append a
    /// partial delta instead of redrawing the whole reply per token.
    pub fn push(&mut self, bytes: &[u8]) -> AgentChange {
        let mut change = AgentChange::default();
        for frame in self.sse.push(bytes) {
            if self.failure.is_some() {
                break;
            }
            self.apply(frame.data.trim(), &mut change);
        }
        change
    }

    fn apply(&mut self, data: &str, change: &mut AgentChange) {
        if data.is_empty() {
            return;
        }
        let value: Value = match serde_json::from_str(data) {
            Ok(value) => value,
            Err(e) => {
                self.failure = Some(format!("the agent server sent an unreadable event ({e})"));
                return;
            }
        };
        // `data: {"error": ...}`: the run failed (not an event).
        if value.get("author").is_none()
            && let Some(error) = value.get("error")
        {
            self.failure = Some(describe_error(error));
            return;
        }
        // Read from the text, not from `value`: every type is then
        // deserialized by one deserializer, so its code is in the wasm once.
        let event: Event = match serde_json::from_str(data) {
            Ok(event) => event,
            Err(e) => {
                self.failure = Some(format!("the agent server sent an unreadable event ({e})"));
                return;
            }
        };
        if event.partial {
            let delta = event.text_content();
            let thought = event.reasoning_text();
            self.time(&thought, &delta);
            change.reasoning.push_str(&thought);
            self.partial_thoughts.push_str(&thought);
            if !delta.is_empty() {
                if self.partial.is_empty() && !self.finals_text.is_empty() {
                    change.appended.push_str(TEXT_SEPARATOR);
                }
                change.appended.push_str(&delta);
                self.partial.push_str(&delta);
            }
            if self.partial_author.as_deref() != Some(event.author.as_str()) {
                change.author = Some(event.author.clone());
                self.partial_author = Some(event.author);
            }
            return;
        }
        // ADK's /run_sse sends an event that has both content and an
        // artifact delta as two lines with one id: the content, then the
        // delta alone. One event, as the server stores it.
        if let Some(last) = self.finals.last_mut()
            && !event.id.is_empty()
            && last.id == event.id
            && event.content.as_ref().is_none_or(|c| c.parts.is_empty())
            && event.error_code.is_none()
        {
            last.actions.state_delta.extend(event.actions.state_delta);
            last.actions
                .artifact_delta
                .extend(event.actions.artifact_delta);
            change.rebuilt = true;
            return;
        }
        if let Some(code) = &event.error_code {
            let message = event.error_message.clone().unwrap_or_else(|| code.clone());
            self.failure = Some(message);
        }
        let text = event.text_content();
        let thought = event.reasoning_text();
        if self.partial.is_empty() && self.partial_thoughts.is_empty() {
            // Not streamed in partials: its thought and text arrive now.
            self.time(&thought, &text);
        }
        if !text.is_empty() {
            if !self.finals_text.is_empty() {
                self.finals_text.push_str(TEXT_SEPARATOR);
            }
            self.finals_text.push_str(&text);
        }
        if !thought.is_empty() {
            if !self.finals_thoughts.is_empty() {
                self.finals_thoughts.push_str(TEXT_SEPARATOR);
            }
            self.finals_thoughts.push_str(&thought);
        }
        self.partial_thoughts.clear();
        self.partial.clear();
        self.partial_author = None;
        change.rebuilt = true;
        change.new_events += 1;
        change.author = Some(event.author.clone());
        self.finals.push(event);
    }

    /// Final events so far, in order.
    pub fn events(&self) -> &[Event] {
        &self.finals
    }

    /// Text streamed since the last final event (not yet final).
    pub fn partial_text(&self) -> &str {
        &self.partial
    }

    /// Who is writing the partial text.
    pub fn partial_author(&self) -> Option<&str> {
        self.partial_author.as_deref()
    }

    /// The error the run ended with, if any.
    pub fn failure(&self) -> Option<&str> {
        self.failure.as_deref()
    }

    /// Everything said so far as text: final events and the partial tail.
    pub fn text(&self) -> String {
        finals_then_partial(&self.finals_text, &self.partial)
    }

    /// Everything thought so far: the final events' thought parts and the
    /// partial ones since.
    pub fn reasoning(&self) -> String {
        finals_then_partial(&self.finals_thoughts, &self.partial_thoughts)
    }

    /// Thought parts of partial events not made final yet.
    pub fn partial_reasoning(&self) -> &str {
        &self.partial_thoughts
    }

    /// How long the agent's model thought, in milliseconds.
    pub fn thought_millis(&self) -> Option<u64> {
        self.timing.thought_millis()
    }

    /// Ends the stream (an unterminated last frame is dropped, as SSE says);
    /// a partial tail never finalised stays only as text.
    pub fn finish(&mut self) {
        self.sse.finish();
    }
}

/// What final events said, then the partial tail, apart as events are.
fn finals_then_partial(finals: &str, partial: &str) -> String {
    let mut text = finals.to_owned();
    if !partial.is_empty() {
        if !text.is_empty() {
            text.push_str(TEXT_SEPARATOR);
        }
        text.push_str(partial);
    }
    text
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::session::Part;

    fn frame(value: Value) -> String {
        format!("data: {value}\n\n")
    }

    fn text_event(id: &str, author: &str, text: &str, partial: bool) -> Value {
        let mut e = json!({
            "id": id, "invocationId": "inv-1", "author": author, "timestamp": 1.5,
            "content": {"role": "model", "parts": [{"text": text}]},
        });
        if partial {
            e["partial"] = json!(true);
        }
        e
    }

    #[test]
    fn partial_text_streams_and_the_final_event_replaces_it_not_shown_twice() {
        let mut stream = AgentStream::new();
        let mut bytes = String::new();
        bytes += &frame(text_event("p1", "streamer", "Hello ", true));
        bytes += &frame(text_event("p2", "streamer", "world", true));
        // Split anywhere: the same outcome.
        let (a, b) = bytes.split_at(37);
        stream.push(a.as_bytes());
        stream.push(b.as_bytes());
        assert_eq!(stream.partial_text(), "Hello world");
        assert_eq!(stream.partial_author(), Some("streamer"));
        assert!(stream.events().is_empty());
        stream.push(frame(text_event("f1", "streamer", "Hello world", false)).as_bytes());
        assert_eq!(stream.partial_text(), "");
        assert_eq!(stream.events().len(), 1);
        assert_eq!(stream.text(), "Hello world");
        assert!(stream.failure().is_none());
    }

    /// An ADK event with Gemini's parts: thoughts first, then the answer.
    fn thought_event(id: &str, thought: &str, text: &str, partial: bool) -> Value {
        let mut parts = Vec::new();
        if !thought.is_empty() {
            parts.push(json!({"text": thought, "thought": true}));
        }
        if !text.is_empty() {
            parts.push(json!({"text": text}));
        }
        json!({
            "id": id, "invocationId": "inv-1", "author": "thinker", "timestamp": 1.5,
            "partial": partial, "content": {"role": "model", "parts": parts},
        })
    }

    #[test]
    fn thought_parts_stream_as_reasoning_at_every_split_and_never_as_answer() {
        let mut bytes = String::new();
        bytes += &frame(thought_event("p1", "Weighing ", "", true));
        bytes += &frame(thought_event("p2", "it up.", "", true));
        bytes += &frame(thought_event("p3", "", "Yes.", true));
        bytes += &frame(thought_event("f1", "Weighing it up.", "Yes.", false));
        let bytes = bytes.as_bytes();
        for split in 0..=bytes.len() {
            // One clock reading per event: 0 s, 1 s, 2 s, 3 s.
            let clock = crate::clock::SteppingClock::new(0.0, 1.0);
            let mut stream = AgentStream::timed(Box::new(clock));
            let mut shown_reasoning = String::new();
            let mut shown_answer = String::new();
            for piece in [&bytes[..split], &bytes[split..]] {
                let change = stream.push(piece);
                shown_reasoning.push_str(&change.reasoning);
                shown_answer.push_str(&change.appended);
            }
            assert_eq!(shown_reasoning, "Weighing it up.", "split at {split}");
            assert_eq!(shown_answer, "Yes.", "split at {split}");
            assert_eq!(stream.text(), "Yes.", "split at {split}");
            assert_eq!(stream.reasoning(), "Weighing it up.", "split at {split}");
            assert_eq!(stream.thought_millis(), Some(2000), "split at {split}");
            assert_eq!(stream.events()[0].text_content(), "Yes.");
        }
    }

    #[test]
    fn an_artifact_delta_sent_apart_with_the_same_id_joins_its_event() {
        let mut stream = AgentStream::new();
        let image = json!({
            "id": "e1", "invocationId": "i", "author": "analysis_agent", "timestamp": 1.0,
            "content": {"role": "model", "parts": [{"inlineData": {"mimeType": "image/png", "data": "iVBORw"}}]},
            "actions": {"stateDelta": {}, "artifactDelta": {}}
        });
        let delta = json!({
            "id": "e1", "invocationId": "i", "author": "analysis_agent", "timestamp": 1.0,
            "actions": {"stateDelta": {}, "artifactDelta": {"chart.png": 1}}
        });
        stream.push(frame(image).as_bytes());
        let change = stream.push(frame(delta).as_bytes());
        assert_eq!(change.new_events, 0);
        assert_eq!(stream.events().len(), 1);
        let event = &stream.events()[0];
        assert_eq!(event.actions.artifact_delta.get("chart.png"), Some(&1));
        assert!(event.content.is_some());
        // Another id is another event.
        let other = json!({"id": "e2", "author": "a", "timestamp": 2.0, "actions": {"artifactDelta": {"x": 0}}});
        stream.push(frame(other).as_bytes());
        assert_eq!(stream.events().len(), 2);
    }

    #[test]
    fn rich_parts_and_state_deltas_are_kept() {
        let mut stream = AgentStream::new();
        let call = json!({"id": "c1", "invocationId": "inv", "author": "tool_agent", "timestamp": 2.0,
            "content": {"role": "model", "parts": [{"functionCall": {"id": "fc", "name": "get_weather", "args": {"city": "Paris"}}}]},
            "actions": {"stateDelta": {"turns": 1, "user:greeted": true}, "artifactDelta": {}}});
        stream.push(frame(call).as_bytes());
        let event = &stream.events()[0];
        assert_eq!(event.author, "tool_agent");
        assert_eq!(event.actions.state_delta["turns"], json!(1));
        let part: &Part = &event.content.as_ref().unwrap().parts[0];
        assert_eq!(part.other["functionCall"]["name"], json!("get_weather"));
        assert_eq!(stream.text(), "");
    }

    #[test]
    fn an_error_in_the_stream_ends_the_run_with_its_message() {
        let mut stream = AgentStream::new();
        stream.push(frame(text_event("a", "x", "partial", true)).as_bytes());
        stream.push(b"data: {\"error\": \"Model overloaded\", \"error_details\": {}}\n\n");
        assert_eq!(stream.failure(), Some("Model overloaded"));
        // Nothing after an error counts.
        stream.push(frame(text_event("b", "x", "late", false)).as_bytes());
        assert!(stream.events().is_empty());

        let mut coded = AgentStream::new();
        coded.push(
            frame(
                json!({"id": "e", "author": "x", "timestamp": 1.0, "invocationId": "i",
                "errorCode": "MALFORMED_FUNCTION_CALL", "errorMessage": "bad call"}),
            )
            .as_bytes(),
        );
        assert_eq!(coded.failure(), Some("bad call"));
        let mut garbled = AgentStream::new();
        garbled.push(b"data: {not json\n\n");
        assert!(garbled.failure().unwrap().contains("unreadable"));
    }

    #[test]
    fn a_view_that_follows_the_changes_always_shows_the_whole_text() {
        let mut bytes = String::new();
        bytes += &frame(text_event("f0", "researcher", "Found it.", false));
        bytes += &frame(text_event("p1", "writer", "Dear ", true));
        bytes += &frame(text_event("p2", "writer", "reader", true));
        bytes += &frame(text_event("f1", "writer", "Dear reader,", false));
        bytes += &frame(text_event("p3", "writer", "bye", true));
        for split in 0..bytes.len() {
            let mut stream = AgentStream::new();
            let mut shown = String::new();
            let mut events = 0;
            for piece in [&bytes.as_bytes()[..split], &bytes.as_bytes()[split..]] {
                let change = stream.push(piece);
                if change.rebuilt {
                    shown = stream.text();
                } else {
                    shown.push_str(&change.appended);
                }
                events += change.new_events;
                assert_eq!(shown, stream.text(), "split at {split}");
            }
            assert_eq!(shown, "Found it.\n\nDear reader,\n\nbye");
            assert_eq!(events, stream.events().len());
        }
    }
}
