//! Removes the upstream API key from a chat-completions SSE stream even
//! when the upstream streams it in pieces, one per event (LiteLLM sends
//! three characters per event). The byte [`Redactor`](super::Redactor)
//! cannot see such a key: between its pieces lie the ends of one event and
//! the start of the next.
//!
//! This stage frames the bytes into events and, for each choice (by its
//! `index`) and each text field inside its `delta` (`content`,
//! `reasoning_content`, `tool_calls[i].function.arguments`, ...), redacts
//! the text as the client will assemble it: whatever was held back from
//! that field plus the new piece. Only the longest tail that could still
//! become the key (a proper prefix of it, so under the key's length) is
//! held back; it is released with the field's next piece, when the choice
//! finishes, before `[DONE]` or an error, or at the end of the stream.
//! An event that needs no change is passed on byte for byte.

mod events;

use std::collections::BTreeMap;

use serde_json::{Map, Value, json};

use events::{Framer, data_of, line_ending, rewrite};

const REDACTED: &str = "[redacted]";

/// An event longer than this without its ending blank line is not SSE as
/// this stage knows it (or not from a well-behaved upstream); rather than
/// buffer without bound, the rest of the stream is passed on as it comes,
/// with only the byte redactor behind it.
const MAX_EVENT_BYTES: usize = 1 << 20;

/// Strings in a `delta` that are labels sent whole in one event (a tool
/// call's id or function name, a reasoning block's signature), not text a
/// client concatenates: holding back a piece of one would corrupt it. A
/// whole key in one of them is still caught by the byte redactor.
const LABEL_FIELDS: &[&str] = &["role", "type", "id", "index", "name", "signature", "format"];

const BOM: &[u8] = b"\xEF\xBB\xBF";

/// One step from a `delta` to one of its strings.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Step {
    Field(String),
    Item(Item),
}

/// An array item, as the client identifies it across events: by its
/// `index` field (tool calls carry one) or else by its position.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Item {
    Index(u64),
    Position(usize),
}

type FieldPath = Vec<Step>;

/// What identifies a chunk, copied onto the chunk this stage makes up to
/// release held text at the end.
#[derive(Debug, Default)]
struct ChunkIdentity {
    id: Option<Value>,
    model: Option<Value>,
    created: Option<Value>,
}

#[derive(Debug)]
pub struct SseRedactor {
    key: String,
    events: Framer,
    /// The held-back tail of each text field, by choice index and path.
    held: BTreeMap<(u64, FieldPath), String>,
    last_chunk: ChunkIdentity,
    /// The line ending of the last event, used for the events made up here.
    newline: &'static str,
    /// No event has been read yet (a byte order mark may start the stream).
    at_start: bool,
    /// Framing gave up (see [`MAX_EVENT_BYTES`]): bytes pass as they are.
    passthrough: bool,
}

impl SseRedactor {
    /// `None` for an empty key, or one that is not UTF-8 (a JSON string,
    /// once decoded, cannot contain it).
    pub fn new(secret: &[u8]) -> Option<Self> {
        let key = std::str::from_utf8(secret).ok()?;
        (!key.is_empty()).then(|| Self {
            key: key.to_owned(),
            events: Framer::default(),
            held: BTreeMap::new(),
            last_chunk: ChunkIdentity::default(),
            newline: "\n",
            at_start: true,
            passthrough: false,
        })
    }

    /// The next bytes of the stream; returns the whole events they
    /// complete, redacted. What follows the last whole event waits.
    pub fn push(&mut self, bytes: &[u8]) -> Vec<u8> {
        if self.passthrough {
            return bytes.to_vec();
        }
        self.events.push(bytes);
        let mut out = Vec::new();
        while let Some(event) = self.events.next_event(false) {
            self.redact_event(&event, &mut out);
        }
        if self.events.pending() > MAX_EVENT_BYTES {
            tracing::warn!(
                "the upstream sent an SSE event over {MAX_EVENT_BYTES} bytes long; passing the rest of the stream on unframed"
            );
            self.release_held(&mut out);
            out.extend_from_slice(&self.events.take_pending());
            self.passthrough = true;
        }
        out
    }

    /// The stream has ended (or the proxy is about to end it with an error
    /// frame): every held tail, as one last chunk. An event the upstream
    /// left without its blank line is dropped: a client discards it anyway
    /// (the SSE specification), and it may hold a piece of the key.
    pub fn finish(&mut self) -> Vec<u8> {
        let mut out = Vec::new();
        if !self.passthrough {
            while let Some(event) = self.events.next_event(true) {
                self.redact_event(&event, &mut out);
            }
            self.events.take_pending();
        }
        self.release_held(&mut out);
        out
    }

    /// Writes `raw` to `out` as it is, or rewritten if its text changed,
    /// after any held text it releases.
    fn redact_event(&mut self, raw: &[u8], out: &mut Vec<u8>) {
        // The fields are read past a byte order mark; an event passed on
        // unchanged keeps it.
        let event = match std::mem::take(&mut self.at_start) {
            true => raw.strip_prefix(BOM).unwrap_or(raw),
            false => raw,
        };
        self.newline = line_ending(event);
        let Some(data) = data_of(event) else {
            out.extend_from_slice(raw); // a comment such as `: ping`
            return;
        };
        if data == b"[DONE]" {
            self.release_held(out);
            out.extend_from_slice(raw);
            return;
        }
        let Ok(Value::Object(mut chunk)) = serde_json::from_slice::<Value>(&data) else {
            out.extend_from_slice(raw); // not JSON: nothing of a choice in it
            return;
        };
        let changed = match chunk.get_mut("choices").and_then(Value::as_array_mut) {
            Some(choices) => {
                let changed = self.redact_choices(choices);
                self.last_chunk = ChunkIdentity {
                    id: chunk.get("id").cloned(),
                    model: chunk.get("model").cloned(),
                    created: chunk.get("created").cloned(),
                };
                changed
            }
            None => {
                if chunk.contains_key("error") {
                    // The upstream ends the reply with an error: what was
                    // held belongs before it.
                    self.release_held(out);
                }
                false
            }
        };
        if changed {
            out.extend_from_slice(&rewrite(event, &Value::Object(chunk), self.newline));
        } else {
            out.extend_from_slice(raw);
        }
    }

    /// Redacts the text fields of each choice's `delta`; true when any of
    /// them changed.
    fn redact_choices(&mut self, choices: &mut [Value]) -> bool {
        let mut changed = false;
        for (position, choice) in choices.iter_mut().enumerate() {
            let Some(choice) = choice.as_object_mut() else {
                continue;
            };
            let index = choice
                .get("index")
                .and_then(Value::as_u64)
                .unwrap_or(position as u64);
            let finished = choice.get("finish_reason").is_some_and(|r| !r.is_null());
            if let Some(delta) = choice.get_mut("delta") {
                let (key, held) = (self.key.as_str(), &mut self.held);
                walk_texts(delta, &mut Vec::new(), &mut |path, text| {
                    let mut assembled = held.remove(&(index, path.clone())).unwrap_or_default();
                    assembled.push_str(text);
                    let (shown, tail) = redact(key, &assembled, !finished);
                    if !tail.is_empty() {
                        held.insert((index, path.clone()), tail.to_owned());
                    }
                    if shown != *text {
                        *text = shown;
                        changed = true;
                    }
                });
            }
            if finished {
                changed |= self.release_into_choice(index, choice);
            }
        }
        changed
    }

    /// Puts what is held for the finished choice `index` into its `delta`,
    /// each in front of the text at its path (made if missing). True if
    /// anything was put in.
    fn release_into_choice(&mut self, index: u64, choice: &mut Map<String, Value>) -> bool {
        let mut released = false;
        let mut delta = choice.remove("delta").unwrap_or(Value::Null);
        for (path, text) in self.take_held(|choice| choice == index) {
            if prepend_at(&mut delta, &path, &text) {
                released = true;
            } else {
                // The delta has something else at that path: the text goes
                // out in the last chunk instead.
                self.held.insert((index, path), text);
            }
        }
        if !delta.is_null() {
            choice.insert("delta".to_owned(), delta);
        }
        released
    }

    /// Writes every held tail as one made-up chunk (more if two tails
    /// cannot share one delta), with the last chunk's id, model and time.
    fn release_held(&mut self, out: &mut Vec<u8>) {
        // One delta per choice per chunk; a tail that does not fit the
        // delta it would share (a path that is a string in one and an
        // array in another) opens the next chunk.
        let mut chunks: Vec<BTreeMap<u64, Value>> = Vec::new();
        for ((index, path), text) in std::mem::take(&mut self.held) {
            let fitted = chunks
                .iter_mut()
                .any(|deltas| prepend_at(deltas.entry(index).or_default(), &path, &text));
            if !fitted {
                // Into nothing, any path fits.
                let mut delta = Value::Null;
                prepend_at(&mut delta, &path, &text);
                chunks.push(BTreeMap::from([(index, delta)]));
            }
        }
        for deltas in chunks {
            let mut chunk = Map::new();
            let identity = [
                ("id", &self.last_chunk.id),
                ("model", &self.last_chunk.model),
                ("created", &self.last_chunk.created),
            ];
            for (name, value) in identity {
                if let Some(value) = value {
                    chunk.insert(name.to_owned(), value.clone());
                }
            }
            chunk.insert("object".to_owned(), json!("chat.completion.chunk"));
            let choices = deltas
                .into_iter()
                .filter(|(_, delta)| !delta.is_null())
                .map(|(index, delta)| json!({"index": index, "delta": delta}))
                .collect();
            chunk.insert("choices".to_owned(), Value::Array(choices));
            out.extend_from_slice(b"data: ");
            out.extend_from_slice(Value::Object(chunk).to_string().as_bytes());
            out.extend_from_slice(self.newline.as_bytes());
            out.extend_from_slice(self.newline.as_bytes());
        }
    }

    fn take_held(&mut self, of_choice: impl Fn(u64) -> bool) -> Vec<(FieldPath, String)> {
        let mut taken = Vec::new();
        self.held.retain(|(index, path), text| {
            if of_choice(*index) {
                taken.push((path.clone(), std::mem::take(text)));
                false
            } else {
                true
            }
        });
        taken
    }
}

/// `text` with every whole `key` replaced, split into what can be shown
/// and, if `hold` is set, the tail to hold back: its longest suffix that is
/// a proper prefix of the key (so a key completed by the next piece is
/// still found). The tail starts at a character boundary.
fn redact<'t>(key: &str, text: &'t str, hold: bool) -> (String, &'t str) {
    let mut shown = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find(key) {
        shown.push_str(&rest[..at]);
        shown.push_str(REDACTED);
        rest = &rest[at + key.len()..];
    }
    let held = if hold {
        key.char_indices()
            .rev()
            .map(|(end, _)| end)
            .filter(|&end| end > 0)
            .find(|&end| rest.ends_with(&key[..end]))
            .unwrap_or(0)
    } else {
        0
    };
    let (now, later) = rest.split_at(rest.len() - held);
    shown.push_str(now);
    (shown, later)
}

/// Calls `visit` with the path and value of every text string in `value`
/// (all strings but [`LABEL_FIELDS`]).
fn walk_texts(
    value: &mut Value,
    path: &mut FieldPath,
    visit: &mut impl FnMut(&FieldPath, &mut String),
) {
    match value {
        Value::String(text) => visit(path, text),
        Value::Object(fields) => {
            for (name, field) in fields.iter_mut() {
                if field.is_string() && LABEL_FIELDS.contains(&name.as_str()) {
                    continue;
                }
                path.push(Step::Field(name.clone()));
                walk_texts(field, path, visit);
                path.pop();
            }
        }
        Value::Array(items) => {
            for (position, item) in items.iter_mut().enumerate() {
                let id = item
                    .get("index")
                    .and_then(Value::as_u64)
                    .map_or(Item::Position(position), Item::Index);
                path.push(Step::Item(id));
                walk_texts(item, path, visit);
                path.pop();
            }
        }
        _ => {}
    }
}

/// Puts `text` in front of the string at `path` in `delta`, making the
/// path if it is missing. False, with `delta` untouched, if something
/// other than a string (or nothing) is there.
fn prepend_at(delta: &mut Value, path: &[Step], text: &str) -> bool {
    let mut trial = delta.clone();
    let Some(slot) = slot_at(&mut trial, path) else {
        return false;
    };
    match slot {
        Value::Null => *slot = Value::String(text.to_owned()),
        Value::String(existing) => existing.insert_str(0, text),
        _ => return false,
    }
    *delta = trial;
    true
}

/// The value at `path`, made (as `null`) if missing; `None` if the way
/// there is blocked by a value of another kind.
fn slot_at<'v>(value: &'v mut Value, path: &[Step]) -> Option<&'v mut Value> {
    let Some((step, rest)) = path.split_first() else {
        return Some(value);
    };
    let next = match step {
        Step::Field(name) => {
            if value.is_null() {
                *value = Value::Object(Map::new());
            }
            value
                .as_object_mut()?
                .entry(name.clone())
                .or_insert(Value::Null)
        }
        Step::Item(item) => {
            if value.is_null() {
                *value = Value::Array(Vec::new());
            }
            let items = value.as_array_mut()?;
            let position = match *item {
                Item::Index(index) => {
                    let found = items
                        .iter()
                        .position(|i| i.get("index").and_then(Value::as_u64) == Some(index));
                    found.unwrap_or_else(|| {
                        items.push(json!({"index": index}));
                        items.len() - 1
                    })
                }
                Item::Position(position) => {
                    // Items before it, if missing, are empty: a client
                    // appends nothing from them.
                    let filler = if rest.is_empty() {
                        json!("")
                    } else {
                        json!({})
                    };
                    items.resize(items.len().max(position + 1), filler);
                    position
                }
            };
            items.get_mut(position)?
        }
    };
    slot_at(next, rest)
}

#[cfg(test)]
mod tests;
