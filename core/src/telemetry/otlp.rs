//! Spans as OTLP/HTTP JSON (`POST {collector}/v1/traces`), per the
//! OpenTelemetry protocol's JSON mapping: ids as lowercase hex, enums as
//! integers, 64-bit integers and nanosecond times as decimal strings.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use super::{AttrValue, Span, SpanKind, SpanStatus};

/// The service name Confab reports itself under.
pub const SERVICE_NAME: &str = "confab";

fn any_value(value: &AttrValue) -> Value {
    match value {
        AttrValue::Str(s) => json!({ "stringValue": s }),
        AttrValue::Int(i) => json!({ "intValue": i.to_string() }),
        AttrValue::Float(f) => json!({ "doubleValue": f }),
        AttrValue::Bool(b) => json!({ "boolValue": b }),
    }
}

fn attributes(attributes: &BTreeMap<String, AttrValue>) -> Value {
    Value::Array(
        attributes
            .iter()
            .map(|(key, value)| json!({ "key": key, "value": any_value(value) }))
            .collect(),
    )
}

/// Seconds since the epoch as OTLP's nanoseconds, a decimal string.
fn nanos(seconds: f64) -> String {
    // Millisecond clocks: round to whole microseconds to avoid float noise.
    // u64 holds nanoseconds until 2554; u128 would pull 128-bit division
    // into the bundle.
    let micros = (seconds * 1e6).round() as u64;
    micros.saturating_mul(1000).to_string()
}

fn span(span: &Span) -> Value {
    let kind = match span.kind {
        SpanKind::Internal => 1,
        SpanKind::Client => 3,
    };
    let status = match &span.status {
        SpanStatus::Unset => json!({ "code": 0 }),
        SpanStatus::Ok => json!({ "code": 1 }),
        SpanStatus::Error(message) => json!({ "code": 2, "message": message }),
    };
    let mut value = json!({
        "traceId": span.trace_id,
        "spanId": span.span_id,
        "name": span.name,
        "kind": kind,
        "startTimeUnixNano": nanos(span.start),
        "endTimeUnixNano": nanos(span.end.unwrap_or(span.start)),
        "attributes": attributes(&span.attributes),
        "status": status,
    });
    if let Some(parent) = &span.parent_span_id {
        value["parentSpanId"] = json!(parent);
    }
    value
}

/// One export request body holding `spans` (finished ones).
pub fn export_request(spans: &[Span], service_version: &str) -> Value {
    json!({
        "resourceSpans": [{
            "resource": {
                "attributes": [
                    { "key": "service.name", "value": { "stringValue": SERVICE_NAME } },
                    { "key": "service.version", "value": { "stringValue": service_version } },
                ]
            },
            "scopeSpans": [{
                "scope": { "name": SERVICE_NAME, "version": service_version },
                "spans": spans.iter().map(span).collect::<Vec<_>>(),
            }]
        }]
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::telemetry::Trace;

    #[test]
    fn spans_encode_with_the_otlp_json_mapping() {
        let mut trace = Trace::new("conversation", 1_700_000_000.25);
        let query = trace.start_span(None, "user_query_1", 1_700_000_001.0);
        let call = trace.start_span(Some(&query), "chat confab-echo", 1_700_000_001.5);
        {
            let call = trace.span_mut(&call).unwrap();
            call.kind = SpanKind::Client;
            call.end = Some(1_700_000_002.0);
            call.set("gen_ai.usage.input_tokens", 12_i64)
                .set("gen_ai.request.model", "confab-echo")
                .set("ratio", 0.5)
                .set("streamed", true);
            call.status = SpanStatus::Error("HTTP 500".into());
        }
        let body = export_request(&trace.spans, "0.1.0");
        let spans = &body["resourceSpans"][0]["scopeSpans"][0]["spans"];
        assert_eq!(
            body["resourceSpans"][0]["resource"]["attributes"][0]["value"]["stringValue"],
            "confab"
        );
        let call = &spans[1];
        assert_eq!(call["traceId"], trace.trace_id());
        assert_eq!(call["parentSpanId"], query.as_str());
        assert_eq!(call["kind"], 3);
        assert_eq!(call["startTimeUnixNano"], "1700000001500000000");
        assert_eq!(call["endTimeUnixNano"], "1700000002000000000");
        assert_eq!(call["status"], json!({"code": 2, "message": "HTTP 500"}));
        let attrs: BTreeMap<String, Value> = call["attributes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| (a["key"].as_str().unwrap().to_owned(), a["value"].clone()))
            .collect();
        assert_eq!(
            attrs["gen_ai.usage.input_tokens"],
            json!({"intValue": "12"})
        );
        assert_eq!(
            attrs["gen_ai.request.model"],
            json!({"stringValue": "confab-echo"})
        );
        assert_eq!(attrs["ratio"], json!({"doubleValue": 0.5}));
        assert_eq!(attrs["streamed"], json!({"boolValue": true}));
        assert_eq!(spans[0]["parentSpanId"], trace.root.span_id.as_str());
        let root = export_request(std::slice::from_ref(&trace.root), "0.1.0");
        let root = &root["resourceSpans"][0]["scopeSpans"][0]["spans"][0];
        assert!(root.get("parentSpanId").is_none());
        assert_eq!(root["startTimeUnixNano"], "1700000000250000000");
    }
}
