//! A reasoning model's "thinking", told apart from its answer.
//!
//! Servers send reasoning in one of several places: a field of its own in
//! each delta (`reasoning_content`: DeepSeek, vLLM, llama.cpp; `reasoning`:
//! OpenRouter, Groq; `thinking`), a list of `reasoning_details` items
//! (OpenRouter's normalised form), or inline at the start of the content
//! between `<think>` and `</think>` (Ollama, R1 distills, Qwen3). The
//! [`ReasoningSplitter`] takes each delta (or a whole non-streamed message)
//! and gives back what it adds to the reasoning and to the answer, so the
//! answer never holds the reasoning or its tags. It is pure: the time of
//! each delta is given to it, from the caller's injected clock.

use serde::Deserialize;
use serde_json::Value;

/// The fields of a delta (streamed) or a message (not streamed) that can
/// carry text: the answer's and every reasoning form's.
#[derive(Debug, Default)]
pub struct TextFields {
    pub content: Option<String>,
    pub reasoning_content: Option<String>,
    pub reasoning: Option<String>,
    pub thinking: Option<String>,
    /// Items as they came: their kinds vary by provider, and an encrypted
    /// item is kept exactly as it was sent.
    pub reasoning_details: Option<Vec<Value>>,
}

/// Read by hand through `Value` (whose reader is in the wasm anyway) rather
/// than derived: a derived reader of these five fields cost about 2 KB
/// gzipped. A field of another type than expected counts as absent.
impl<'de> Deserialize<'de> for TextFields {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Value::deserialize(deserializer).map(Self::from_value)
    }
}

impl TextFields {
    /// The fields of a delta or message already read as a `Value` (a
    /// chunk's choice is); anything but an object has none.
    pub fn from_value(value: Value) -> Self {
        let Value::Object(mut fields) = value else {
            return Self::default();
        };
        let mut text = |name: &str| match fields.remove(name) {
            Some(Value::String(text)) => Some(text),
            _ => None,
        };
        Self {
            content: text("content"),
            reasoning_content: text("reasoning_content"),
            reasoning: text("reasoning"),
            thinking: text("thinking"),
            reasoning_details: match fields.remove("reasoning_details") {
                Some(Value::Array(items)) => Some(items),
                _ => None,
            },
        }
    }
}

/// What one delta added to each side.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SplitDelta {
    pub reasoning: String,
    pub answer: String,
}

impl SplitDelta {
    pub fn is_empty(&self) -> bool {
        self.reasoning.is_empty() && self.answer.is_empty()
    }
}

/// Tags a reply's content may open with to mark its reasoning.
const OPENING_TAGS: [(&str, &str); 3] = [
    ("<think>", "</think>"),
    ("<thinking>", "</thinking>"),
    ("<reasoning>", "</reasoning>"),
];

/// Where the content stands with respect to an inline reasoning tag.
#[derive(Debug, Default)]
enum Inline {
    /// Nothing but whitespace and perhaps the start of an opening tag yet:
    /// held until it is clear whether a tag opens the content.
    #[default]
    Undecided,
    /// Inside a tag: content is reasoning until the closing tag.
    Open { close: &'static str },
    /// The content is answer from here on.
    Answer,
}

/// Splits a reply into reasoning and answer, delta by delta, and times the
/// thinking (from its first token to the answer's first).
#[derive(Debug, Default)]
pub struct ReasoningSplitter {
    inline: Inline,
    /// Content held back: an undecided start, or the tail of the reasoning
    /// inside a tag that may be the start of its closing tag.
    held: String,
    reasoning: String,
    answer: String,
    /// `reasoning.encrypted` items, kept for the record, never shown.
    encrypted: Vec<Value>,
    first_reasoning_at: Option<f64>,
    last_reasoning_at: Option<f64>,
    first_answer_at: Option<f64>,
}

impl ReasoningSplitter {
    pub fn new() -> Self {
        Self::default()
    }

    /// Takes one delta's (or one message's) fields, received at `now`
    /// (seconds); returns what they add.
    pub fn push(&mut self, fields: TextFields, now: f64) -> SplitDelta {
        let mut added = SplitDelta::default();
        // One reasoning text per delta: OpenRouter sends the same text in
        // `reasoning` and in `reasoning_details`, so the details count only
        // when no plain field has text. An empty string is no reasoning.
        let plain = [fields.reasoning_content, fields.reasoning, fields.thinking]
            .into_iter()
            .flatten()
            .find(|text| !text.is_empty());
        let mut from_details = String::new();
        for item in fields.reasoning_details.unwrap_or_default() {
            match item.get("type").and_then(Value::as_str) {
                Some("reasoning.text") => push_str_field(&item, "text", &mut from_details),
                Some("reasoning.summary") => push_str_field(&item, "summary", &mut from_details),
                Some("reasoning.encrypted") => self.encrypted.push(item),
                _ => {}
            }
        }
        if let Some(text) = plain.or((!from_details.is_empty()).then_some(from_details)) {
            added.reasoning.push_str(&text);
        }
        if let Some(content) = fields.content {
            self.split_content(&content, &mut added);
        }
        self.record(added, now)
    }

    /// The reply has ended: whatever was held back is given out (an opening
    /// tag never closed leaves everything after it as reasoning).
    pub fn finish(&mut self, now: f64) -> SplitDelta {
        let held = std::mem::take(&mut self.held);
        let mut added = SplitDelta::default();
        match self.inline {
            Inline::Undecided => added.answer = held,
            Inline::Open { .. } => added.reasoning = held,
            Inline::Answer => {}
        }
        self.inline = Inline::Answer;
        self.record(added, now)
    }

    fn split_content(&mut self, content: &str, added: &mut SplitDelta) {
        let mut rest = content.to_owned();
        loop {
            match self.inline {
                Inline::Answer => {
                    added.answer.push_str(&rest);
                    return;
                }
                Inline::Undecided => {
                    self.held.push_str(&rest);
                    let start = self.held.trim_start();
                    if let Some((open, close)) = OPENING_TAGS
                        .iter()
                        .find(|(open, _)| start.starts_with(open))
                    {
                        rest = start[open.len()..].to_owned();
                        self.held.clear();
                        self.inline = Inline::Open { close };
                        continue;
                    }
                    let may_open = OPENING_TAGS.iter().any(|(open, _)| open.starts_with(start));
                    if !may_open {
                        added.answer.push_str(&std::mem::take(&mut self.held));
                        self.inline = Inline::Answer;
                    }
                    return;
                }
                Inline::Open { close } => {
                    self.held.push_str(&rest);
                    if let Some(at) = self.held.find(close) {
                        added.reasoning.push_str(&self.held[..at]);
                        rest = self.held[at + close.len()..].to_owned();
                        self.held.clear();
                        self.inline = Inline::Answer;
                        continue;
                    }
                    // Keep back only what may be the start of the closing tag.
                    let keep = (1..close.len())
                        .rev()
                        .find(|&n| self.held.ends_with(&close[..n]))
                        .unwrap_or(0);
                    let cut = self.held.len() - keep;
                    added.reasoning.push_str(&self.held[..cut]);
                    self.held.drain(..cut);
                    return;
                }
            }
        }
    }

    /// Notes what `added` brings, at `now`. Whitespace before the first
    /// reasoning or answer text is dropped: inline tags are followed by
    /// line breaks that are neither.
    fn record(&mut self, mut added: SplitDelta, now: f64) -> SplitDelta {
        if self.reasoning.is_empty() {
            added.reasoning = added.reasoning.trim_start().to_owned();
        }
        if !added.reasoning.is_empty() {
            self.first_reasoning_at.get_or_insert(now);
            if self.first_answer_at.is_none() {
                self.last_reasoning_at = Some(now);
            }
            self.reasoning.push_str(&added.reasoning);
        }
        if self.answer.is_empty() && self.first_reasoning_at.is_some() {
            added.answer = added.answer.trim_start().to_owned();
        }
        if !added.answer.is_empty() {
            self.first_answer_at.get_or_insert(now);
            self.answer.push_str(&added.answer);
        }
        added
    }

    pub fn reasoning(&self) -> &str {
        &self.reasoning
    }

    pub fn answer(&self) -> &str {
        &self.answer
    }

    pub fn encrypted(&self) -> &[Value] {
        &self.encrypted
    }

    /// Reasoning has arrived and the answer has not begun.
    pub fn is_thinking(&self) -> bool {
        self.first_reasoning_at.is_some() && self.first_answer_at.is_none()
    }

    /// How long the model thought, in milliseconds: from the first
    /// reasoning token to the first answer token (or, for a reply that
    /// stopped while thinking, to the last reasoning token).
    pub fn thought_millis(&self) -> Option<u64> {
        let start = self.first_reasoning_at?;
        let end = self.first_answer_at.or(self.last_reasoning_at)?;
        Some(((end - start).max(0.0) * 1000.0).round() as u64)
    }
}

fn push_str_field(item: &Value, field: &str, out: &mut String) {
    if let Some(text) = item.get(field).and_then(Value::as_str) {
        out.push_str(text);
    }
}

/// "Thought for N s", for a thinking time in milliseconds (rounded to whole
/// seconds, at least 1: a visible reasoning took some time).
pub fn thought_label(millis: Option<u64>) -> String {
    match millis {
        Some(ms) => format!("Thought for {} s", (ms.div_ceil(1000)).max(1)),
        None => "Thought".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn content(text: &str) -> TextFields {
        TextFields {
            content: Some(text.to_owned()),
            ..TextFields::default()
        }
    }

    /// Feeds `pieces` as content deltas one second apart.
    fn split(pieces: &[&str]) -> ReasoningSplitter {
        let mut splitter = ReasoningSplitter::new();
        for (i, piece) in pieces.iter().enumerate() {
            splitter.push(content(piece), i as f64);
        }
        splitter.finish(pieces.len() as f64);
        splitter
    }

    #[test]
    fn an_inline_think_tag_is_reasoning_at_every_split() {
        for whole in [
            "<think>\nLet me see.\n</think>\n\nThe answer is 4.",
            "  <thinking>Let me see.</thinking>The answer is 4.",
            "<reasoning>Let me see.</reasoning>\nThe answer is 4.",
        ] {
            for a in 0..=whole.len() {
                for b in a..=whole.len() {
                    let splitter = split(&[&whole[..a], &whole[a..b], &whole[b..]]);
                    assert_eq!(
                        splitter.reasoning().trim_end(),
                        "Let me see.",
                        "{whole:?} {a} {b}"
                    );
                    assert_eq!(
                        splitter.answer(),
                        "The answer is 4.",
                        "{whole:?} at {a} {b}"
                    );
                }
            }
        }
    }

    #[test]
    fn an_unclosed_tag_leaves_everything_as_reasoning() {
        let splitter = split(&["<think>I am still thi", "nking </thi"]);
        assert_eq!(splitter.reasoning(), "I am still thinking </thi");
        assert_eq!(splitter.answer(), "");
    }

    #[test]
    fn content_without_a_tag_is_all_answer() {
        for whole in [
            "Hello",
            "<b>bold</b>",
            "<thinker>",
            " <",
            "a <think> b</think>",
        ] {
            let splitter = split(&[whole]);
            assert_eq!(splitter.answer(), whole);
            assert_eq!(splitter.reasoning(), "");
        }
        // A tag later in the reply is the reply's own text.
        let splitter = split(&["Use ", "<think>", " tags"]);
        assert_eq!(splitter.answer(), "Use <think> tags");
    }

    #[test]
    fn an_answer_that_only_starts_like_a_tag_is_given_out_at_the_end() {
        let splitter = split(&["<thi"]);
        assert_eq!(splitter.answer(), "<thi");
    }

    #[test]
    fn each_reasoning_field_is_read_and_empty_strings_are_not_reasoning() {
        for field in ["reasoning_content", "reasoning", "thinking"] {
            let mut splitter = ReasoningSplitter::new();
            let delta: TextFields =
                serde_json::from_value(serde_json::json!({ field: "Hmm.", "content": "" }))
                    .unwrap();
            assert_eq!(
                splitter.push(delta, 1.0),
                SplitDelta {
                    reasoning: "Hmm.".into(),
                    answer: String::new()
                }
            );
            let delta: TextFields =
                serde_json::from_value(serde_json::json!({ field: "", "content": "Yes." }))
                    .unwrap();
            assert_eq!(splitter.push(delta, 3.5).answer, "Yes.");
            assert_eq!(splitter.reasoning(), "Hmm.");
            assert_eq!(splitter.thought_millis(), Some(2500));
        }
    }

    #[test]
    fn reasoning_details_are_read_once_and_encrypted_items_kept_unshown() {
        let mut splitter = ReasoningSplitter::new();
        // OpenRouter: the same text in `reasoning` and in the details.
        let delta: TextFields = serde_json::from_value(serde_json::json!({
            "content": "", "reasoning": "Step one.",
            "reasoning_details": [{"type": "reasoning.text", "text": "Step one.", "index": 0}]
        }))
        .unwrap();
        splitter.push(delta, 0.0);
        let delta: TextFields = serde_json::from_value(serde_json::json!({
            "reasoning_details": [
                {"type": "reasoning.summary", "summary": " Summary."},
                {"type": "reasoning.encrypted", "data": "gAAAA=="}
            ]
        }))
        .unwrap();
        splitter.push(delta, 0.5);
        assert_eq!(splitter.reasoning(), "Step one. Summary.");
        assert_eq!(splitter.encrypted().len(), 1);
        assert_eq!(splitter.encrypted()[0]["data"], "gAAAA==");
    }

    #[test]
    fn durations_run_from_the_first_reasoning_to_the_first_answer_token() {
        let mut splitter = ReasoningSplitter::new();
        splitter.push(content("<think>a"), 10.0);
        assert!(splitter.is_thinking());
        splitter.push(content("b</think>\n\n"), 12.0);
        assert!(splitter.is_thinking(), "whitespace is not the answer yet");
        splitter.push(content("Answer"), 13.2);
        assert!(!splitter.is_thinking());
        splitter.push(content(" more"), 20.0);
        assert_eq!(splitter.thought_millis(), Some(3200));
        // Stopped while thinking: up to the last reasoning token.
        let mut stopped = ReasoningSplitter::new();
        stopped.push(content("<think>a"), 1.0);
        stopped.push(content("b"), 4.0);
        stopped.finish(9.0);
        assert_eq!(stopped.thought_millis(), Some(3000));
        assert_eq!(ReasoningSplitter::new().thought_millis(), None);
    }

    #[test]
    fn labels_round_up_to_whole_seconds() {
        assert_eq!(thought_label(Some(3200)), "Thought for 4 s");
        assert_eq!(thought_label(Some(3000)), "Thought for 3 s");
        assert_eq!(thought_label(Some(0)), "Thought for 1 s");
        assert_eq!(thought_label(None), "Thought");
    }
}
