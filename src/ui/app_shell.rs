//! The page's own state: the Offline indicator and the prompt for a new
//! version (store/app_shell.rs).

use leptos::prelude::*;

use crate::store::use_store;

/// Shown while the browser has no network: what still works, and what
/// happens to a message sent meanwhile.
#[component]
pub fn OfflineIndicator() -> impl IntoView {
    let store = use_store();
    move || {
        (!store.shell.online.get()).then(|| {
            view! {
                <p class="offline" role="status" data-role="offline">
                    <strong>"Offline"</strong>
                    " — your conversations are here to read and search. A message you send is saved, unsent: press Retry on it once you are back online."
                </p>
            }
        })
    }
}

/// "A new version is ready — Reload": never reloads by itself, and not
/// while a reply is streaming (the reply would be cut off).
#[component]
pub fn UpdatePrompt() -> impl IntoView {
    let store = use_store();
    move || {
        store.shell.update_ready.get().then(|| {
            view! {
                <p class="update" role="status" data-role="update">
                    "A new version is ready — "
                    <button
                        type="button"
                        disabled=move || store.is_streaming()
                        title=move || {
                            if store.is_streaming() { "Available once the reply has finished" } else { "" }
                        }
                        on:click=move |_| store.shell.reload_to_update()
                    >
                        "Reload"
                    </button>
                </p>
            }
        })
    }
}
