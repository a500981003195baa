//! Traces and spans, after OpenTelemetry's model: one trace per conversation
//! (its root span is `conversation`), one span per query (`user_query_N`),
//! and child spans for each model call and each rating. Stored with the
//! conversation, drawn on a timeline, and exportable as OTLP/HTTP JSON.
//! genai.rs builds a model call's span from plain values.

pub mod export;
pub mod genai;
pub mod otlp;

pub use genai::TokenUsage;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// OpenTelemetry GenAI semantic-convention attribute names.
pub mod attr {
    pub const OPERATION: &str = "gen_ai.operation.name";
    pub const REQUEST_MODEL: &str = "gen_ai.request.model";
    pub const RESPONSE_MODEL: &str = "gen_ai.response.model";
    pub const INPUT_TOKENS: &str = "gen_ai.usage.input_tokens";
    pub const OUTPUT_TOKENS: &str = "gen_ai.usage.output_tokens";
    /// The part of the output a reasoning model spent thinking (the GenAI
    /// conventions' `<kind>.<direction>_tokens` pattern, as in
    /// `gen_ai.usage.cache_read.input_tokens` and the metric
    /// `gen_ai.client.inference.usage.reasoning.output_tokens`).
    pub const REASONING_TOKENS: &str = "gen_ai.usage.reasoning.output_tokens";
    pub const CONVERSATION_ID: &str = "gen_ai.conversation.id";
    pub const PROVIDER: &str = "gen_ai.provider.name";
    pub const FINISH_REASONS: &str = "gen_ai.response.finish_reasons";
    pub const ERROR_TYPE: &str = "error.type";
    pub const SESSION_ID: &str = "session.id";
    pub const USER_ID: &str = "user.id";
}

/// An attribute value (OTLP's AnyValue, minus arrays and maps).
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(untagged)]
pub enum AttrValue {
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
}

/// Read by hand rather than derived `untagged` (which buffers through serde's
/// private `Content` type, a lot of wasm); the same variants in the same
/// order: a boolean, an integer that fits i64, any other number, a string.
impl<'de> Deserialize<'de> for AttrValue {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        match serde_json::Value::deserialize(deserializer)? {
            serde_json::Value::Bool(b) => Ok(Self::Bool(b)),
            serde_json::Value::Number(n) => match (n.as_i64(), n.as_f64()) {
                (Some(i), _) => Ok(Self::Int(i)),
                (None, Some(f)) => Ok(Self::Float(f)),
                (None, None) => Err(serde::de::Error::custom("unreadable number")),
            },
            serde_json::Value::String(s) => Ok(Self::Str(s)),
            _ => Err(serde::de::Error::custom(
                "data did not match any variant of untagged enum AttrValue",
            )),
        }
    }
}

impl From<&str> for AttrValue {
    fn from(value: &str) -> Self {
        Self::Str(value.to_owned())
    }
}
impl From<String> for AttrValue {
    fn from(value: String) -> Self {
        Self::Str(value)
    }
}
impl From<i64> for AttrValue {
    fn from(value: i64) -> Self {
        Self::Int(value)
    }
}
impl From<u64> for AttrValue {
    fn from(value: u64) -> Self {
        Self::Int(i64::try_from(value).unwrap_or(i64::MAX))
    }
}
impl From<usize> for AttrValue {
    fn from(value: usize) -> Self {
        Self::Int(i64::try_from(value).unwrap_or(i64::MAX))
    }
}
impl From<f64> for AttrValue {
    fn from(value: f64) -> Self {
        Self::Float(value)
    }
}
impl From<bool> for AttrValue {
    fn from(value: bool) -> Self {
        Self::Bool(value)
    }
}

impl std::fmt::Display for AttrValue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Bool(b) => write!(f, "{b}"),
            Self::Int(i) => write!(f, "{i}"),
            // serde_json's float writer is in the bundle anyway; core's
            // `{x}` would add the Grisu/Dragon4 formatter for this one case.
            Self::Float(x) => match serde_json::Number::from_f64(*x) {
                Some(number) => write!(f, "{number}"),
                None if x.is_nan() => f.write_str("NaN"),
                None => f.write_str(if *x > 0.0 { "inf" } else { "-inf" }),
            },
            Self::Str(s) => f.write_str(s),
        }
    }
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SpanKind {
    #[default]
    Internal,
    /// A call to another service (the model).
    Client,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase", tag = "code", content = "message")]
pub enum SpanStatus {
    #[default]
    Unset,
    Ok,
    Error(String),
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Span {
    pub trace_id: String,
    pub span_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent_span_id: Option<String>,
    pub name: String,
    #[serde(default)]
    pub kind: SpanKind,
    /// Seconds since the Unix epoch.
    pub start: f64,
    /// `None` while the span is open.
    #[serde(default)]
    pub end: Option<f64>,
    #[serde(default)]
    pub attributes: BTreeMap<String, AttrValue>,
    #[serde(default)]
    pub status: SpanStatus,
}

impl Span {
    pub fn new(trace_id: &str, parent: Option<&str>, name: &str, start: f64) -> Self {
        Self {
            trace_id: trace_id.to_owned(),
            span_id: new_span_id(),
            parent_span_id: parent.map(str::to_owned),
            name: name.to_owned(),
            kind: SpanKind::Internal,
            start,
            end: None,
            attributes: BTreeMap::new(),
            status: SpanStatus::Unset,
        }
    }

    pub fn set(&mut self, key: &str, value: impl Into<AttrValue>) -> &mut Self {
        self.attributes.insert(key.to_owned(), value.into());
        self
    }

    pub fn attr(&self, key: &str) -> Option<&AttrValue> {
        self.attributes.get(key)
    }

    /// Duration in seconds, up to `now` while still open.
    pub fn duration(&self, now: f64) -> f64 {
        (self.end.unwrap_or(now) - self.start).max(0.0)
    }
}

/// A conversation's trace: its root span and every span below it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Trace {
    pub root: Span,
    #[serde(default)]
    pub tags: Vec<String>,
    #[serde(default)]
    pub spans: Vec<Span>,
}

impl Trace {
    /// A new trace whose root span is named `name` and starts at `start`.
    pub fn new(name: &str, start: f64) -> Self {
        Self {
            root: Span::new(&new_trace_id(), None, name, start),
            tags: Vec::new(),
            spans: Vec::new(),
        }
    }

    pub fn trace_id(&self) -> &str {
        &self.root.trace_id
    }

    /// A new child span (of the root unless `parent` is given), added to
    /// the trace; returns its id.
    pub fn start_span(&mut self, parent: Option<&str>, name: &str, start: f64) -> String {
        let parent = parent.unwrap_or(&self.root.span_id).to_owned();
        let span = Span::new(&self.root.trace_id, Some(&parent), name, start);
        let id = span.span_id.clone();
        self.spans.push(span);
        id
    }

    pub fn span(&self, span_id: &str) -> Option<&Span> {
        std::iter::once(&self.root)
            .chain(&self.spans)
            .find(|s| s.span_id == span_id)
    }

    pub fn span_mut(&mut self, span_id: &str) -> Option<&mut Span> {
        if self.root.span_id == span_id {
            return Some(&mut self.root);
        }
        self.spans.iter_mut().find(|s| s.span_id == span_id)
    }

    /// The direct children of `span_id`, in start order.
    pub fn children(&self, span_id: &str) -> Vec<&Span> {
        let mut children: Vec<&Span> = self
            .spans
            .iter()
            .filter(|s| s.parent_span_id.as_deref() == Some(span_id))
            .collect();
        crate::order::sort_stable_by(&mut children, |a, b| a.start.total_cmp(&b.start));
        children
    }

    pub fn is_open(&self) -> bool {
        self.root.end.is_none()
    }
}

/// 32 lowercase hex digits: a random 128-bit OpenTelemetry trace id.
pub fn new_trace_id() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}

/// 16 lowercase hex digits: a random 64-bit span id.
pub fn new_span_id() -> String {
    uuid::Uuid::new_v4().simple().to_string()[..16].to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attribute_values_read_as_the_untagged_variants() {
        let read = |json: &str| serde_json::from_str::<AttrValue>(json).ok();
        assert_eq!(read("true"), Some(AttrValue::Bool(true)));
        assert_eq!(read("-3"), Some(AttrValue::Int(-3)));
        assert_eq!(read("2.0"), Some(AttrValue::Float(2.0)));
        assert_eq!(
            read("18446744073709551615"),
            Some(AttrValue::Float(18446744073709551615.0))
        );
        assert_eq!(read("\"x\""), Some(AttrValue::Str("x".into())));
        assert_eq!(read("null"), None);
        assert_eq!(read("[1]"), None);
    }

    #[test]
    fn ids_have_the_opentelemetry_shape() {
        let trace = new_trace_id();
        let span = new_span_id();
        assert_eq!(trace.len(), 32);
        assert_eq!(span.len(), 16);
        assert!(
            trace
                .chars()
                .chain(span.chars())
                .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase())
        );
        assert_ne!(new_span_id(), span);
    }

    #[test]
    fn spans_nest_under_the_root() {
        let mut trace = Trace::new("conversation", 10.0);
        let query = trace.start_span(None, "user_query_1", 11.0);
        let call = trace.start_span(Some(&query), "chat m", 11.5);
        assert_eq!(
            trace.span(&query).unwrap().parent_span_id.as_deref(),
            Some(trace.root.span_id.as_str())
        );
        assert_eq!(trace.children(&query)[0].span_id, call);
        assert!(trace.spans.iter().all(|s| s.trace_id == trace.trace_id()));
        trace.span_mut(&call).unwrap().end = Some(12.0);
        assert_eq!(trace.span(&call).unwrap().duration(99.0), 0.5);
        assert_eq!(trace.root.duration(13.0), 3.0, "open spans run to now");
    }

    #[test]
    fn spans_round_trip_through_json() {
        let mut span = Span::new(&new_trace_id(), None, "x", 1.0);
        span.set("s", "text")
            .set("i", 3_i64)
            .set("f", 2.5)
            .set("b", true)
            .set("whole", 2.0);
        span.status = SpanStatus::Error("boom".into());
        let json = serde_json::to_string(&span).unwrap();
        let back: Span = serde_json::from_str(&json).unwrap();
        assert_eq!(back, span);
    }
}
