//! Components: they render the store and dispatch its actions; none of them
//! touches storage or the network.

mod composer;
mod conversation;
mod settings_dialog;
mod sidebar;

use leptos::prelude::*;

use crate::store::{provide_store, use_store};

#[component]
pub fn App() -> impl IntoView {
    provide_store();
    view! {
        <div class="app">
            <sidebar::Sidebar />
            <main class="chat">
                <Header />
                <Notice />
                <conversation::Conversation />
                <composer::Composer />
            </main>
        </div>
    }
}

#[component]
fn Header() -> impl IntoView {
    let store = use_store();
    let title = move || {
        let open = store.open_id.get();
        store.summaries.with(|list| {
            open.and_then(|id| {
                list.iter()
                    .find(|s| s.id == id)
                    .and_then(|s| s.title.clone())
            })
            .unwrap_or_else(|| "New chat".to_owned())
        })
    };
    view! {
        <header class="chat-header">
            <h1>{title}</h1>
            <settings_dialog::SettingsButton />
        </header>
    }
}

/// A dismissible banner for problems outside one message (storage).
#[component]
fn Notice() -> impl IntoView {
    let store = use_store();
    move || {
        store.notice.get().map(|text| {
            view! {
                <div class="notice" role="alert">
                    <p>{text}</p>
                    <button type="button" on:click=move |_| store.notice.set(None)>
                        "Dismiss"
                    </button>
                </div>
            }
        })
    }
}
