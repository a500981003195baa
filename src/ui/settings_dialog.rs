use confab_core::settings::{Settings, Theme};
use leptos::prelude::*;

use super::split::PartDialog;
use crate::store::{ChatStore, use_store};

/// What the form shows and edits, read from the settings when the dialog
/// opens and written back on Save.
#[derive(Clone, Copy)]
struct Fields {
    endpoint: RwSignal<String>,
    model: RwSignal<String>,
    system_prompt: RwSignal<String>,
    app_name: RwSignal<String>,
    idle_minutes: RwSignal<String>,
    max_hours: RwSignal<String>,
    retention_days: RwSignal<String>,
    trace_url: RwSignal<String>,
    context_window: RwSignal<String>,
    stall_seconds: RwSignal<String>,
    agent_endpoint: RwSignal<String>,
    default_agent_app: RwSignal<String>,
    theme: RwSignal<String>,
    /// One per line.
    starter_prompts: RwSignal<String>,
}

impl Fields {
    fn new() -> Self {
        let field = || RwSignal::new(String::new());
        Self {
            endpoint: field(),
            model: field(),
            system_prompt: field(),
            app_name: field(),
            idle_minutes: field(),
            max_hours: field(),
            retention_days: field(),
            trace_url: field(),
            context_window: field(),
            stall_seconds: field(),
            agent_endpoint: field(),
            default_agent_app: field(),
            theme: field(),
            starter_prompts: field(),
        }
    }

    /// Shows `current`.
    fn fill(&self, current: Settings) {
        self.context_window
            .set(current.context_window_for(&current.model).to_string());
        self.stall_seconds.set(current.stall_seconds.to_string());
        self.agent_endpoint.set(current.agent_endpoint.clone());
        self.default_agent_app
            .set(current.default_agent_app.clone());
        self.theme.set(current.theme.as_str().to_owned());
        self.starter_prompts.set(current.starter_prompts.join("\n"));
        self.endpoint.set(current.endpoint);
        self.model.set(current.model);
        self.system_prompt.set(current.system_prompt);
        self.app_name.set(current.app_name);
        self.idle_minutes.set(current.idle_minutes.to_string());
        self.max_hours.set(current.max_duration_hours.to_string());
        self.retention_days.set(
            current
                .retention_days
                .map(|d| d.to_string())
                .unwrap_or_default(),
        );
        self.trace_url.set(current.trace_export_url);
    }

    /// The settings as the form has them (`current` where a number does
    /// not parse).
    fn read(&self, current: &Settings) -> Settings {
        let number = |text: String, fallback: u32| text.trim().parse().unwrap_or(fallback);
        // The window belongs to the model named above (`""`: the default).
        let mut context_windows = current.context_windows.clone();
        let chosen = self.model.get_untracked().trim().to_owned();
        let window = number(
            self.context_window.get_untracked(),
            current.context_window_for(&chosen),
        );
        if window != current.default_context_window || context_windows.contains_key(&chosen) {
            context_windows.insert(chosen, window);
        }
        Settings {
            endpoint: self.endpoint.get_untracked(),
            model: self.model.get_untracked(),
            system_prompt: self.system_prompt.get_untracked(),
            app_name: self.app_name.get_untracked(),
            idle_minutes: number(self.idle_minutes.get_untracked(), current.idle_minutes),
            max_duration_hours: number(self.max_hours.get_untracked(), current.max_duration_hours),
            retention_days: self.retention_days.get_untracked().trim().parse().ok(),
            trace_export_url: self.trace_url.get_untracked(),
            context_windows,
            default_context_window: current.default_context_window,
            stall_seconds: number(self.stall_seconds.get_untracked(), current.stall_seconds),
            agent_endpoint: self.agent_endpoint.get_untracked(),
            default_agent_app: self.default_agent_app.get_untracked(),
            theme: Theme::parse(&self.theme.get_untracked()),
            starter_prompts: self
                .starter_prompts
                .get_untracked()
                .lines()
                .map(str::to_owned)
                .collect(),
        }
    }
}

/// A quiet line on how trace export is going.
fn export_status_text(store: &ChatStore) -> String {
    if store.settings.with(|s| s.trace_export_url.is_empty()) {
        return "Trace export is off.".to_owned();
    }
    let status = store.traces.status.get();
    let mut text = format!("Traces: {} spans exported", status.exported);
    if status.queued > 0 {
        text.push_str(&format!(", {} waiting", status.queued));
    }
    if status.dropped > 0 {
        text.push_str(&format!(", {} dropped", status.dropped));
    }
    if let Some(error) = status.last_error {
        text.push_str(&format!(" (last problem: {error})"));
    }
    text
}

/// A "Settings" button and the modal dialog it opens: endpoint, model and
/// system prompt, saved when the user presses Save. The form is a split
/// point (crate::split), built at each opening.
#[component]
pub fn SettingsButton() -> impl IntoView {
    let store = use_store();
    let fields = Fields::new();
    let dialog = PartDialog::new();
    let open = move |_| {
        fields.fill(store.settings.get_untracked());
        store.refresh_models();
        store.refresh_agent_apps();
        dialog.open();
    };
    view! {
        <button type="button" class="settings-button" on:click=open>
            "Settings"
        </button>
        {dialog.view(
            "settings",
            Signal::stored("Settings"),
            move || settings_form(store, fields, dialog),
        )}
    }
}

crate::split::split_point!(
    settings_form,
    /// The form of the Settings dialog.
    fn settings_form(store: ChatStore, fields: Fields, dialog: PartDialog) -> AnyView {
        settings_form_view(store, fields, dialog)
    }
);

fn settings_form_view(store: ChatStore, fields: Fields, dialog: PartDialog) -> AnyView {
    let Fields {
        endpoint,
        model,
        system_prompt,
        app_name,
        idle_minutes,
        max_hours,
        retention_days,
        trace_url,
        context_window,
        stall_seconds,
        agent_endpoint,
        default_agent_app,
        theme,
        starter_prompts,
    } = fields;
    let save = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let current = store.settings.get_untracked();
        store.save_settings(fields.read(&current));
        dialog.close();
    };
    view! {
    <form on:submit=save>
        <h2 id="settings-title">"Settings"</h2>
        <label>
            "Theme"
            <select
                name="theme"
                prop:value=move || theme.get()
                on:change=move |ev| theme.set(event_target_value(&ev))
            >
                {Theme::ALL
                    .into_iter()
                    .map(|t| view! { <option value=t.as_str()>{t.label()}</option> })
                    .collect_view()}
            </select>
        </label>
        <label>
            "Endpoint base URL"
            <input
                type="text"
                name="endpoint"
                placeholder="/api/v1"
                bind:value=endpoint
            />
        </label>
        <label>
            "Model"
            <input
                type="text"
                name="model"
                list="model-options"
                placeholder="the proxy's default model"
                bind:value=model
            />
        </label>
        <datalist id="model-options">
            <For each=move || store.offered.models.get() key=|m| m.clone() let:id>
                <option value=id></option>
            </For>
        </datalist>
        <label>
            "Context window (tokens)"
            <input
                type="number"
                min="256"
                name="context-window"
                title="for the model chosen above; older messages that do not fit are not sent"
                bind:value=context_window
            />
        </label>
        <label>
            "Give up on a reply silent for (seconds)"
            <input
                type="number"
                min="5"
                name="stall-seconds"
                bind:value=stall_seconds
            />
        </label>
        <label>
            "System prompt"
            <textarea
                name="system-prompt"
                rows="4"
                bind:value=system_prompt
            ></textarea>
        </label>
        <label>
            "Starter prompts (one per line, up to 4; shown in a new chat)"
            <textarea
                name="starter-prompts"
                rows="4"
                bind:value=starter_prompts
            ></textarea>
        </label>
        <fieldset>
            <legend>"Agents (Google ADK api_server)"</legend>
            <label>
                "Agent server URL"
                <input
                    type="text"
                    name="agent-endpoint"
                    placeholder="/adk"
                    bind:value=agent_endpoint
                />
            </label>
            <label>
                "Agent app for new conversations (empty: none)"
                <input
                    type="text"
                    name="default-agent-app"
                    list="agent-apps"
                    placeholder="the model"
                    bind:value=default_agent_app
                />
            </label>
            <datalist id="agent-apps">
                <For each=move || store.offered.agent_apps.get() key=|a| a.clone() let:app>
                    <option value=app></option>
                </For>
            </datalist>
        </fieldset>
        <label>
            "App name"
            <input
                type="text"
                name="app-name"
                bind:value=app_name
            />
        </label>
        <fieldset>
            <legend>"Conversation lifetime"</legend>
            <label>
                "End a conversation idle for (minutes)"
                <input
                    type="number"
                    min="1"
                    name="idle-minutes"
                    bind:value=idle_minutes
                />
            </label>
            <label>
                "End a conversation older than (hours)"
                <input
                    type="number"
                    min="1"
                    name="max-hours"
                    bind:value=max_hours
                />
            </label>
            <label>
                "Delete ended conversations after (days; empty keeps them)"
                <input
                    type="number"
                    min="1"
                    name="retention-days"
                    placeholder="keep forever"
                    bind:value=retention_days
                />
            </label>
        </fieldset>
        <label>
            "Trace export URL (OTLP/HTTP; empty is off, /otlp is the proxy's relay)"
            <input
                type="text"
                name="trace-export-url"
                placeholder="off"
                bind:value=trace_url
            />
        </label>
        <p class="meta export-status" aria-live="polite">{move || export_status_text(&store)}</p>
        {super::split::show(super::data::data_tools())}
        <div class="actions">
            <button type="button" on:click=move |_| dialog.close()>
                "Cancel"
            </button>
            <button type="submit" class="primary">
                "Save"
            </button>
        </div>
    </form>
    }
    .into_any()
}
