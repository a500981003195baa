use confab_core::manager::{Conversation, ConversationOptions};
use confab_core::session::{APP_PREFIX, State, USER_PREFIX};
use confab_core::telemetry::{Span, SpanStatus, Trace};
use confab_core::units;
use leptos::prelude::*;

use crate::store::use_store;

crate::split::split_point!(
    details,
    /// The details panel, opened rarely: a chunk of its own in the split
    /// release build.
    pub(super) fn details() -> AnyView {
        view! { <Details /> }.into_any()
    }
);

/// The open conversation's facts: ids, query count, state by scope, its
/// trace on a timeline, and deleting it.
#[component]
fn Details() -> impl IntoView {
    let store = use_store();
    let confirm_delete = RwSignal::new(false);
    view! {
        <section class="details" aria-label="Conversation details">
            {move || {
                store.on_screen.record.get().map(|c| view! { <Facts conversation=c /> })
            }}
            {move || {
                store
                    .on_screen.record
                    .get()
                    .map(|c| view! { <OptionsForm options=c.options /> })
            }}
            <StateInspector />
            {move || store.on_screen.record.get().map(|c| view! { <TracePanel trace=c.trace /> })}
            <div class="export-actions">
                <button
                    type="button"
                    on:click=move |_| store.export_json(store.on_screen.id.get_untracked().map(|id| vec![id]))
                >
                    "Export JSON"
                </button>
                <button type="button" on:click=move |_| store.export_markdown()>
                    "Export Markdown"
                </button>
            </div>
            <div class="danger">
                <Show
                    when=move || confirm_delete.get()
                    fallback=move || {
                        view! {
                            <button type="button" on:click=move |_| confirm_delete.set(true)>
                                "Delete conversation"
                            </button>
                        }
                    }
                >
                    <span>"Delete this conversation for good?"</span>
                    <button
                        type="button"
                        class="primary"
                        on:click=move |_| {
                            confirm_delete.set(false);
                            store.delete_open();
                        }
                    >
                        "Delete"
                    </button>
                    <button type="button" on:click=move |_| confirm_delete.set(false)>
                        "Keep it"
                    </button>
                </Show>
            </div>
        </section>
    }
}

#[component]
fn Facts(conversation: Conversation) -> impl IntoView {
    let status = match &conversation.ended {
        None => "active".to_owned(),
        Some(ending) => format!("ended ({})", ending.reason.as_str()),
    };
    view! {
        <dl class="facts">
            <dt>"Conversation id"</dt>
            <dd data-fact="conversation-id">{conversation.conversation_id.clone()}</dd>
            <dt>"Session id"</dt>
            <dd data-fact="session-id">{conversation.session_id.clone()}</dd>
            <dt>"Queries"</dt>
            <dd data-fact="query-count">{conversation.query_count()}</dd>
            <dt>"Status"</dt>
            <dd data-fact="status">{status}</dd>
        </dl>
    }
}

/// This conversation's own model, temperature and system prompt (empty
/// fields use Settings).
#[component]
fn OptionsForm(options: ConversationOptions) -> impl IntoView {
    let store = use_store();
    store.refresh_models();
    store.refresh_agent_apps();
    let agent_before = options.agent().map(str::to_owned);
    let agent_session_id = options.agent_session_id.clone();
    // "" is the model; an app name is that agent.
    let backend = RwSignal::new(agent_before.clone().unwrap_or_default());
    let model = RwSignal::new(options.model.unwrap_or_default());
    let temperature = RwSignal::new(
        options
            .temperature
            .map(|t| units::short(f64::from(t)))
            .unwrap_or_default(),
    );
    let system_prompt = RwSignal::new(options.system_prompt.unwrap_or_default());
    let problem = RwSignal::new(None::<String>);
    let save = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let text = temperature.get_untracked();
        let temperature = match text.trim() {
            "" => None,
            // JS's unary `+` (as Number()) rather than str::parse::<f32>,
            // whose float tables are big in wasm; NaN and anything out of
            // range is refused.
            t => match wasm_bindgen::JsValue::from_str(t).unchecked_into_f64() as f32 {
                t if (0.0..=2.0).contains(&t) => Some(t),
                _ => {
                    return problem.set(Some(
                        "Temperature is a number from 0 to 2, or empty for the model's default."
                            .into(),
                    ));
                }
            },
        };
        problem.set(None);
        let text_or_none = |s: String| Some(s.trim().to_owned()).filter(|s| !s.is_empty());
        let agent_app = text_or_none(backend.get_untracked());
        store.set_conversation_options(ConversationOptions {
            model: text_or_none(model.get_untracked()),
            temperature,
            system_prompt: text_or_none(system_prompt.get_untracked()),
            // Another app has sessions of its own: a new one is created.
            agent_session_id: agent_session_id
                .clone()
                .filter(|_| agent_app == agent_before),
            agent_app,
        });
    };
    view! {
        <form class="conversation-options" on:submit=save aria-label="This conversation">
            <label>
                "Answered by"
                <select
                    name="backend"
                    bind:value=backend
                >
                    <option value="">"The model"</option>
                    {move || {
                        let mut apps = store.offered.agent_apps.get();
                        let current = backend.get_untracked();
                        if !current.is_empty() && !apps.contains(&current) {
                            apps.push(current);
                        }
                        apps.into_iter()
                            .map(|app| {
                                let label = format!("Agent: {app}");
                                view! { <option value=app.clone()>{label}</option> }
                            })
                            .collect_view()
                    }}
                </select>
            </label>
            <label>
                "Model for this conversation"
                <input
                    type="text"
                    name="conversation-model"
                    list="conversation-models"
                    placeholder="as in Settings"
                    bind:value=model
                />
            </label>
            <datalist id="conversation-models">
                <For each=move || store.offered.models.get() key=|m| m.clone() let:id>
                    <option value=id></option>
                </For>
            </datalist>
            <label>
                "Temperature"
                <input
                    type="number"
                    name="temperature"
                    min="0"
                    max="2"
                    step="0.1"
                    placeholder="model default"
                    bind:value=temperature
                />
            </label>
            <label>
                "System prompt for this conversation"
                <textarea
                    name="conversation-system-prompt"
                    rows="3"
                    placeholder="as in Settings"
                    bind:value=system_prompt
                ></textarea>
            </label>
            {move || problem.get().map(|p| view! { <p class="error" role="alert">{p}</p> })}
            <button type="submit">"Save conversation options"</button>
        </form>
    }
}

/// The session's state as ADK scopes it, read-only.
#[component]
fn StateInspector() -> impl IntoView {
    let store = use_store();
    let scope = move |name: &'static str, prefix: Option<&'static str>| {
        let rows = move || {
            store.on_screen.state.with(|state: &State| {
                state
                    .iter()
                    .filter(|(key, _)| match prefix {
                        Some(prefix) => key.starts_with(prefix),
                        None => !key.starts_with(APP_PREFIX) && !key.starts_with(USER_PREFIX),
                    })
                    .map(|(key, value)| (key.clone(), value.to_string()))
                    .collect::<Vec<_>>()
            })
        };
        view! {
            <table class="state" data-scope=name>
                <caption>{format!("{name} state")}</caption>
                <thead>
                    <tr>
                        <th scope="col">"Key"</th>
                        <th scope="col">"Value"</th>
                    </tr>
                </thead>
                <tbody>
                    <For each=rows key=|(k, v)| (k.clone(), v.clone()) let:row>
                        <tr>
                            <th scope="row">{row.0}</th>
                            <td>{row.1}</td>
                        </tr>
                    </For>
                </tbody>
            </table>
        }
    };
    view! {
        <div class="inspector" aria-label="State">
            {scope("Session", None)}
            {scope("User", Some(USER_PREFIX))}
            {scope("App", Some(APP_PREFIX))}
        </div>
    }
}

/// The spans in tree order (parents before children), with their depth.
fn tree(trace: &Trace) -> Vec<(usize, Span)> {
    fn walk(trace: &Trace, span: &Span, depth: usize, out: &mut Vec<(usize, Span)>) {
        out.push((depth, span.clone()));
        for child in trace.children(&span.span_id) {
            walk(trace, child, depth + 1, out);
        }
    }
    let mut out = Vec::new();
    walk(trace, &trace.root, 0, &mut out);
    out
}

fn span_note(span: &Span) -> String {
    let mut notes = Vec::new();
    if let Some(ttft) = span.attr("confab.time_to_first_token_ms") {
        notes.push(format!("first token {ttft} ms"));
    }
    if let (Some(input), Some(output)) = (
        span.attr("gen_ai.usage.input_tokens"),
        span.attr("gen_ai.usage.output_tokens"),
    ) {
        notes.push(format!("{input} → {output} tokens"));
    }
    for key in [
        "confab.feedback.rating",
        "confab.conversation.end_reason",
        "confab.conversation.feedback",
    ] {
        if let Some(value) = span.attr(key) {
            notes.push(format!(
                "{}: {value}",
                key.rsplit('.').next().unwrap_or(key)
            ));
        }
    }
    if let Some(comment) = span
        .attr("confab.feedback.comment")
        .or_else(|| span.attr("confab.conversation.comment"))
        .filter(|c| !c.to_string().is_empty())
    {
        notes.push(format!("“{comment}”"));
    }
    if let SpanStatus::Error(message) = &span.status {
        notes.push(format!("error: {message}"));
    }
    notes.join(" · ")
}

/// The conversation's spans on a timeline, with their durations.
#[component]
fn TracePanel(trace: Trace) -> impl IntoView {
    let now = confab_core::Clock::now(&crate::platform::BrowserClock);
    let start = trace.root.start;
    let end = std::iter::once(&trace.root)
        .chain(&trace.spans)
        .map(|s| s.end.unwrap_or(now))
        .fold(start, f64::max);
    let total = (end - start).max(1e-3);
    let rows = tree(&trace)
        .into_iter()
        .map(|(depth, span)| {
            let left = (span.start - start) / total * 100.0;
            let width = (span.duration(now) / total * 100.0).max(0.4);
            let duration = if span.end.is_some() {
                units::duration(span.duration(now))
            } else {
                format!("{} (open)", units::duration(span.duration(now)))
            };
            let status = match &span.status {
                SpanStatus::Error(_) => "error",
                SpanStatus::Ok => "ok",
                SpanStatus::Unset => "unset",
            };
            view! {
                <li
                    class="span"
                    data-span-name=span.name.clone()
                    data-span-id=span.span_id.clone()
                    data-parent-id=span.parent_span_id.clone().unwrap_or_default()
                    data-span-status=status
                    style=format!("--depth: {depth}")
                >
                    <span class="span-name">{span.name.clone()}</span>
                    <span class="span-duration">{duration}</span>
                    <span class="span-bar" aria-hidden="true">
                        <span style=format!("left: {}%; width: {}%", units::fixed(left, 2), units::fixed(width, 2))></span>
                    </span>
                    <span class="span-note">{span_note(&span)}</span>
                </li>
            }
        })
        .collect_view();
    view! {
        <section class="trace" aria-label="Trace">
            <h2>"Trace " <code>{trace.trace_id().to_owned()}</code></h2>
            <ol class="spans">{rows}</ol>
        </section>
    }
}
