//! A model call as a span, after OpenTelemetry's GenAI semantic conventions
//! (the `gen_ai.*` names in [`attr`]): built from plain values, so whoever
//! made the call (the manager, for a model or an agent) only says what it
//! knows of it.

use super::{Span, SpanKind, SpanStatus, attr};
use crate::outcome::ReplyFailure;

/// Tokens a model call used, as its endpoint reported them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TokenUsage {
    /// The prompt's tokens (OpenAI's `prompt_tokens`).
    pub input: u64,
    /// The reply's tokens (OpenAI's `completion_tokens`).
    pub output: u64,
    /// Of those, the ones spent reasoning (OpenAI's
    /// `completion_tokens_details.reasoning_tokens`), when reported.
    pub reasoning: Option<u64>,
}

/// What the span of one model call records. The optional texts are
/// borrowed as their holder keeps them: making an `Option<&str>` of each
/// first costs code in the wasm bundle for nothing.
#[derive(Clone, Copy, Debug)]
pub struct ModelCall<'a> {
    pub trace_id: &'a str,
    /// The span of the query the call answers.
    pub parent_span_id: &'a str,
    pub conversation_id: &'a str,
    /// The model the span is named after (`chat {model}`).
    pub model: &'a str,
    /// The model asked for; `None`: the proxy's default.
    pub request_model: &'a Option<String>,
    /// The model that answered, as the reply named it.
    pub response_model: &'a Option<String>,
    /// 1 for a query's first call, 2 for its first retry, and so on.
    pub attempt: usize,
    /// Seconds since the Unix epoch.
    pub start: f64,
    pub end: f64,
    pub first_token_at: Option<f64>,
    pub usage: Option<TokenUsage>,
    pub finish_reason: &'a Option<String>,
    /// How the reply ended, as its event says (`complete`, `stopped`, …).
    pub reply_status: &'a str,
    /// Whether that ending is a success (the whole reply, or as much as
    /// the user let it write).
    pub succeeded: bool,
    /// Why the reply is not whole, if it failed.
    pub error: Option<&'a ReplyFailure>,
}

/// The span of a model call: a client span under its query's, with the
/// operation, provider, models, usage, time to first token and outcome.
pub fn model_call_span(call: &ModelCall<'_>) -> Span {
    let mut span = Span::new(
        call.trace_id,
        Some(call.parent_span_id),
        &format!("chat {}", call.model),
        call.start,
    );
    span.kind = SpanKind::Client;
    span.end = Some(call.end);
    span.set(attr::OPERATION, "chat")
        .set(attr::PROVIDER, "openai")
        .set(
            attr::REQUEST_MODEL,
            call.request_model.as_deref().unwrap_or("(proxy default)"),
        )
        .set(attr::CONVERSATION_ID, call.conversation_id)
        .set("confab.attempt", call.attempt)
        .set("confab.retry", call.attempt > 1);
    if let Some(model) = call.response_model {
        span.set(attr::RESPONSE_MODEL, model.as_str());
    }
    if let Some(reason) = call.finish_reason {
        span.set(attr::FINISH_REASONS, reason.as_str());
    }
    if let Some(usage) = call.usage {
        span.set_usage(usage);
    }
    if let Some(first) = call.first_token_at {
        span.set_time_to_first_token(call.start, first);
    }
    span.set("confab.reply.status", call.reply_status);
    span.status = match call.error {
        Some(failure) => {
            span.set(attr::ERROR_TYPE, failure.code());
            SpanStatus::Error(failure.to_string())
        }
        None if call.succeeded => SpanStatus::Ok,
        None => SpanStatus::Error(call.reply_status.to_owned()),
    };
    span
}

impl Span {
    /// The tokens a call used, as GenAI attributes.
    pub fn set_usage(&mut self, usage: TokenUsage) -> &mut Self {
        self.set(attr::INPUT_TOKENS, usage.input)
            .set(attr::OUTPUT_TOKENS, usage.output);
        if let Some(reasoning) = usage.reasoning {
            self.set(attr::REASONING_TOKENS, reasoning);
        }
        self
    }

    /// Milliseconds from `start` to the first token, at `first`.
    pub fn set_time_to_first_token(&mut self, start: f64, first: f64) -> &mut Self {
        self.set(
            "confab.time_to_first_token_ms",
            ((first - start) * 1e3).round() as i64,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::outcome::ReplyError;
    use crate::telemetry::AttrValue;

    const NONE: &Option<String> = &None;

    fn call() -> ModelCall<'static> {
        ModelCall {
            trace_id: "t",
            parent_span_id: "q",
            conversation_id: "conv_1",
            model: "m",
            request_model: NONE,
            response_model: NONE,
            attempt: 1,
            start: 10.0,
            end: 11.0,
            first_token_at: None,
            usage: None,
            finish_reason: NONE,
            reply_status: "complete",
            succeeded: true,
            error: None,
        }
    }

    #[test]
    fn a_call_is_a_client_span_under_its_query_with_the_genai_attributes() {
        let span = model_call_span(&ModelCall {
            response_model: &Some("m-2024".into()),
            attempt: 2,
            first_token_at: Some(10.25),
            usage: Some(TokenUsage {
                input: 7,
                output: 5,
                reasoning: Some(3),
            }),
            finish_reason: &Some("stop".into()),
            ..call()
        });
        assert_eq!(
            (
                span.name.as_str(),
                span.kind,
                span.parent_span_id.as_deref()
            ),
            ("chat m", SpanKind::Client, Some("q"))
        );
        assert_eq!((span.start, span.end), (10.0, Some(11.0)));
        let attr = |key: &str| span.attr(key).cloned();
        assert_eq!(attr(attr::OPERATION), Some("chat".into()));
        assert_eq!(attr(attr::PROVIDER), Some("openai".into()));
        assert_eq!(attr(attr::REQUEST_MODEL), Some("(proxy default)".into()));
        assert_eq!(attr(attr::RESPONSE_MODEL), Some("m-2024".into()));
        assert_eq!(attr(attr::FINISH_REASONS), Some("stop".into()));
        assert_eq!(attr(attr::CONVERSATION_ID), Some("conv_1".into()));
        assert_eq!(attr(attr::INPUT_TOKENS), Some(AttrValue::Int(7)));
        assert_eq!(attr(attr::OUTPUT_TOKENS), Some(AttrValue::Int(5)));
        assert_eq!(attr(attr::REASONING_TOKENS), Some(AttrValue::Int(3)));
        assert_eq!(
            attr("confab.time_to_first_token_ms"),
            Some(AttrValue::Int(250))
        );
        assert_eq!(attr("confab.retry"), Some(AttrValue::Bool(true)));
        assert_eq!(span.status, SpanStatus::Ok);
    }

    #[test]
    fn the_status_says_how_the_reply_ended() {
        let failed = model_call_span(&ModelCall {
            reply_status: "error",
            succeeded: false,
            error: Some(&ReplyFailure::Model(ReplyError::Http {
                status: 500,
                message: String::new(),
            })),
            ..call()
        });
        assert_eq!(
            failed.status,
            SpanStatus::Error(
                "The model proxy answered HTTP 500. The model server had a problem; press Retry in a moment."
                    .into()
            )
        );
        assert_eq!(failed.attr(attr::ERROR_TYPE), Some(&"http_500".into()));
        let cut = model_call_span(&ModelCall {
            reply_status: "interrupted",
            succeeded: false,
            ..call()
        });
        assert_eq!(cut.status, SpanStatus::Error("interrupted".into()));
        assert_eq!(cut.attr(attr::ERROR_TYPE), None);
    }
}
