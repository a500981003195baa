use confab_core::settings::Settings;
use leptos::html;
use leptos::prelude::*;

use crate::store::use_store;

/// A "Settings" button and the modal dialog it opens: endpoint, model and
/// system prompt, saved when the user presses Save.
#[component]
pub fn SettingsButton() -> impl IntoView {
    let store = use_store();
    let dialog = NodeRef::<html::Dialog>::new();
    let endpoint = RwSignal::new(String::new());
    let model = RwSignal::new(String::new());
    let system_prompt = RwSignal::new(String::new());

    let open = move |_| {
        let current = store.settings.get_untracked();
        endpoint.set(current.endpoint);
        model.set(current.model);
        system_prompt.set(current.system_prompt);
        store.refresh_models();
        if let Some(dialog) = dialog.get_untracked() {
            let _ = dialog.show_modal();
        }
    };
    let close = move || {
        if let Some(dialog) = dialog.get_untracked() {
            dialog.close();
        }
    };
    let save = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        store.save_settings(Settings {
            endpoint: endpoint.get_untracked(),
            model: model.get_untracked(),
            system_prompt: system_prompt.get_untracked(),
        });
        close();
    };

    view! {
        <button type="button" class="settings-button" on:click=open>
            "Settings"
        </button>
        <dialog node_ref=dialog class="settings" aria-labelledby="settings-title">
            <form on:submit=save>
                <h2 id="settings-title">"Settings"</h2>
                <label>
                    "Endpoint base URL"
                    <input
                        type="text"
                        name="endpoint"
                        placeholder="/api/v1"
                        prop:value=move || endpoint.get()
                        on:input=move |ev| endpoint.set(event_target_value(&ev))
                    />
                </label>
                <label>
                    "Model"
                    <input
                        type="text"
                        name="model"
                        list="model-options"
                        placeholder="the proxy's default model"
                        prop:value=move || model.get()
                        on:input=move |ev| model.set(event_target_value(&ev))
                    />
                </label>
                <datalist id="model-options">
                    <For each=move || store.models.get() key=|m| m.clone() let:id>
                        <option value=id></option>
                    </For>
                </datalist>
                <label>
                    "System prompt"
                    <textarea
                        name="system-prompt"
                        rows="4"
                        prop:value=move || system_prompt.get()
                        on:input=move |ev| system_prompt.set(event_target_value(&ev))
                    ></textarea>
                </label>
                <div class="actions">
                    <button type="button" on:click=move |_| close()>
                        "Cancel"
                    </button>
                    <button type="submit" class="primary">
                        "Save"
                    </button>
                </div>
            </form>
        </dialog>
    }
}
