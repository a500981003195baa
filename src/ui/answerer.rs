//! Who answers: the header's chip naming the open conversation's model or
//! agent (before the first message too), and its menu to choose another
//! (the same choice as Details → "Answered by").

use confab_core::manager::ConversationOptions;
use leptos::prelude::*;

use crate::store::{ChatStore, use_store};

/// What answers the open conversation, or a new chat: its agent, its own
/// model, Settings' model, or the proxy's default model.
fn answerer(store: ChatStore) -> ConversationOptions {
    store
        .on_screen
        .record
        .with(|c| c.as_ref().map(|c| c.options.clone()))
        .or_else(|| store.on_screen.next_options.get())
        .unwrap_or_else(|| {
            let agent = store.settings.with(|s| s.default_agent_app.clone());
            ConversationOptions {
                agent_app: Some(agent).filter(|a| !a.is_empty()),
                ..Default::default()
            }
        })
}

/// The name of what answers the open conversation (or a new chat).
pub fn answerer_name(store: ChatStore) -> String {
    name_of(store, &answerer(store))
}

fn name_of(store: ChatStore, options: &ConversationOptions) -> String {
    if let Some(agent) = options.agent() {
        return format!("Agent: {agent}");
    }
    options
        .model
        .clone()
        .or_else(|| Some(store.settings.with(|s| s.model.clone())).filter(|m| !m.is_empty()))
        .or_else(|| store.offered.default_model.get())
        .unwrap_or_else(|| "Default model".to_owned())
}

/// The chip, and its menu of the models and agents on offer.
#[component]
pub fn AnswererChip() -> impl IntoView {
    let store = use_store();
    let open = RwSignal::new(false);
    let button = NodeRef::<leptos::html::Button>::new();
    let name = Memo::new(move |_| answerer_name(store));
    let toggle = move |_| {
        if !open.get_untracked() {
            store.refresh_models();
            store.refresh_agent_apps();
        }
        open.update(|o| *o = !*o);
    };
    let close = move |refocus: bool| {
        open.set(false);
        if refocus && let Some(button) = button.get_untracked() {
            let _ = button.focus();
        }
    };
    let choose = move |agent: Option<String>, model: Option<String>| {
        let current = answerer(store);
        let options = ConversationOptions {
            // Another agent app has sessions of its own.
            agent_session_id: current
                .agent_session_id
                .clone()
                .filter(|_| agent == current.agent_app),
            agent_app: agent,
            model,
            ..current
        };
        if store.on_screen.id.with_untracked(Option::is_some) {
            store.set_conversation_options(options);
        } else {
            store.on_screen.next_options.set(Some(options));
        }
        close(true);
    };
    let item = move |label: String, agent: Option<String>, model: Option<String>| {
        let (a, m) = (agent.clone(), model.clone());
        let checked = move || {
            let now = answerer(store);
            now.agent_app == agent && (agent.is_some() || now.model == model)
        };
        view! {
            <button
                type="button"
                role="menuitemradio"
                aria-checked=move || checked().to_string()
                on:click=move |_| choose(a.clone(), m.clone())
            >
                {label}
            </button>
        }
    };
    view! {
        <div
            class="answerer"
            on:keydown=move |ev| {
                if ev.key() == "Escape" && open.get_untracked() {
                    ev.stop_propagation();
                    close(true);
                }
            }
            on:focusout=move |ev| {
                // Focus left the chip and its menu: close it.
                let inside = ev
                    .related_target()
                    .and_then(|t| wasm_bindgen::JsCast::dyn_into::<web_sys::Node>(t).ok())
                    .zip(ev.current_target().and_then(|t| wasm_bindgen::JsCast::dyn_into::<web_sys::Node>(t).ok()))
                    .is_some_and(|(to, this)| this.contains(Some(&to)));
                if !inside {
                    open.set(false);
                }
            }
        >
            <button
                type="button"
                class="chip"
                node_ref=button
                aria-haspopup="menu"
                aria-expanded=move || open.get().to_string()
                aria-label=move || format!("Answered by {}: choose another", name.get())
                title="Who answers this conversation"
                on:click=toggle
            >
                {move || name.get()}
            </button>
            <Show when=move || open.get()>
                <div class="chip-menu" role="menu" aria-label="Answered by">
                    {item("Default model".to_owned(), None, None)}
                    {move || {
                        store
                            .offered
                            .models
                            .get()
                            .into_iter()
                            .map(|m| item(m.clone(), None, Some(m)))
                            .collect_view()
                    }}
                    {move || {
                        store
                            .offered
                            .agent_apps
                            .get()
                            .into_iter()
                            .map(|a| item(format!("Agent: {a}"), Some(a), None))
                            .collect_view()
                    }}
                </div>
            </Show>
        </div>
    }
}
