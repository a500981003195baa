//! Who answers: the header's chip naming the open conversation's model or
//! agent (before the first message too), and its menu to choose another
//! (the same choice as Details → "Answered by").

use confab_core::manager::ConversationOptions;
use leptos::prelude::*;
use wasm_bindgen::JsCast;

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

/// The chip, and its menu of the models and agents on offer (a split
/// part: fetched the first time it opens).
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
    view! {
        <div
            class="answerer"
            on:keydown=move |ev| {
                if ev.key() == "Escape" && open.get_untracked() {
                    ev.stop_propagation();
                    close(open, button);
                }
            }
            on:focusout=move |ev| {
                // Focus left the chip and its menu: close it.
                let leaving = ev.related_target().and_then(|to| {
                    let this = ev.current_target()?;
                    let this: &web_sys::Node = this.unchecked_ref();
                    Some(!this.contains(Some(to.unchecked_ref())))
                });
                if leaving.unwrap_or(true) {
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
                {super::split::show(answerer_menu(store, open, button))}
            </Show>
        </div>
    }
}

fn close(open: RwSignal<bool>, button: NodeRef<leptos::html::Button>) {
    open.set(false);
    if let Some(button) = button.get_untracked() {
        let _ = button.focus();
    }
}

crate::split::split_point!(
    answerer_menu,
    /// The chip's menu: the proxy's default, each model, each agent app.
    /// Choosing one sets the open conversation's options (as Details does)
    /// or a new chat's first.
    fn answerer_menu(
        store: ChatStore,
        open: RwSignal<bool>,
        button: NodeRef<leptos::html::Button>,
    ) -> AnyView {
        answerer_menu_view(store, open, button)
    }
);

fn answerer_menu_view(
    store: ChatStore,
    open: RwSignal<bool>,
    button: NodeRef<leptos::html::Button>,
) -> AnyView {
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
        close(open, button);
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
        <div class="chip-menu" role="menu" aria-label="Answered by">
            {item("Default model".to_owned(), None, None)}
            {move || {
                let models = store.offered.models.get().into_iter().map(|m| (m.clone(), None, Some(m)));
                let agents = store
                    .offered
                    .agent_apps
                    .get()
                    .into_iter()
                    .map(|a| (format!("Agent: {a}"), Some(a), None));
                models.chain(agents).map(|(label, a, m)| item(label, a, m)).collect_view()
            }}
        </div>
    }
    .into_any()
}
