//! Drives trace export: finished spans go into the core's `ExportQueue`,
//! and a timer sends its batches to `{trace_export_url}/v1/traces` in the
//! background. Nothing here waits on the chat or makes it wait.

use confab_core::telemetry::Span;
use confab_core::telemetry::export::{ExportQueue, ExportStatus, SendResult};
use confab_core::telemetry::otlp::export_request;
use gloo_net::http::Request;
use leptos::prelude::*;
use leptos::task::spawn_local;
use std::time::Duration;

use super::ChatStore;
use crate::platform::BrowserClock;

/// Trace export: the queue of spans and how it is going.
#[derive(Clone, Copy)]
pub struct Traces {
    pub(super) exporter: StoredValue<Exporter>,
    /// How trace export is going (shown quietly, never as an error).
    pub status: RwSignal<ExportStatus>,
}

impl Traces {
    pub(super) fn new() -> Self {
        Self {
            exporter: StoredValue::new(Exporter::default()),
            status: RwSignal::new(ExportStatus::default()),
        }
    }
}

#[derive(Default)]
pub(super) struct Exporter {
    queue: ExportQueue,
    /// A wake-up is already scheduled for this time.
    wake_at: Option<f64>,
}

fn now() -> f64 {
    confab_core::Clock::now(&BrowserClock)
}

impl ChatStore {
    /// Queues finished spans for export, if export is on.
    pub(super) fn export(&self, spans: Vec<Span>) {
        if self.settings.with_untracked(|s| s.traces_url().is_none()) {
            return;
        }
        self.traces
            .exporter
            .update_value(|e| e.queue.push(spans, now()));
        self.pump_export();
    }

    /// Sends what is due and schedules the next wake-up.
    fn pump_export(&self) {
        let Some(url) = self.settings.with_untracked(|s| s.traces_url()) else {
            return;
        };
        let now = now();
        let batch = self
            .traces
            .exporter
            .try_update_value(|e| e.queue.take_batch(now))
            .flatten();
        if let Some(batch) = batch {
            let store = *self;
            spawn_local(async move {
                let result = match sending_batch(url, batch).await {
                    Ok(sending) => sending.await,
                    // Tried again like a dropped connection.
                    Err(error) => SendResult::Retryable(error.to_string()),
                };
                store
                    .traces
                    .exporter
                    .update_value(|e| e.queue.finish(result, super::export::now()));
                store.publish_export_status();
                store.pump_export();
            });
        }
        self.publish_export_status();
        self.schedule_export_wake();
    }

    fn schedule_export_wake(&self) {
        let Some(wake) = self.traces.exporter.with_value(|e| e.queue.next_wake()) else {
            return;
        };
        let already = self
            .traces
            .exporter
            .with_value(|e| e.wake_at.is_some_and(|at| at <= wake && at > now()));
        if already {
            return;
        }
        self.traces
            .exporter
            .update_value(|e| e.wake_at = Some(wake));
        let delay = Duration::from_secs_f64((wake - now()).max(0.0) + 0.01);
        let store = *self;
        set_timeout(
            move || {
                store.traces.exporter.update_value(|e| e.wake_at = None);
                store.pump_export();
            },
            delay,
        );
    }

    fn publish_export_status(&self) {
        let status = self
            .traces
            .exporter
            .with_value(|e| e.queue.status().clone());
        self.traces.status.set(status);
    }
}

crate::split::split_point!(
    trace_export,
    /// Sending spans as OTLP/JSON: in the release build a chunk fetched
    /// the first time a batch goes out (export is off unless Settings name
    /// a URL).
    async fn sending_batch(url: String, batch: Vec<Span>) -> SendResult {
        send_batch(url, batch).await
    }
);

async fn send_batch(url: String, batch: Vec<Span>) -> SendResult {
    let body = export_request(&batch, env!("CARGO_PKG_VERSION")).to_string();
    match post_json(&url, body).await {
        Ok((status, text)) => SendResult::of_status(status, &text),
        Err(reason) => SendResult::Retryable(reason),
    }
}

/// POSTs JSON; returns the status and body, or why no answer came.
async fn post_json(url: &str, body: String) -> Result<(u16, String), String> {
    let request = Request::post(url)
        .header("content-type", "application/json")
        .body(body)
        .map_err(|e| e.to_string())?;
    let response = request.send().await.map_err(|e| e.to_string())?;
    let status = response.status();
    let text = response.text().await.unwrap_or_default();
    Ok((status, text))
}
