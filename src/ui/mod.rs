//! Components: they render the store and dispatch its actions; none of them
//! touches storage or the network.

mod answerer;
mod app_shell;
mod attachments;
mod composer;
mod conversation;
mod copy;
mod data;
mod details;
mod end_dialog;
mod icons;
mod keyboard;
mod markdown;
mod profiles;
mod reasoning;
mod scroll;
mod settings_dialog;
mod sidebar;
mod split;

use leptos::prelude::*;

use crate::store::{provide_store, use_store};

#[component]
pub fn App() -> impl IntoView {
    let store = provide_store();
    let ui = keyboard::UiState::provide();
    scroll::Follow::provide();
    attachments::Lightbox::provide();
    provide_context(composer::ComposerText(RwSignal::new(String::new())));
    keyboard::install(ui, store);
    // The theme as the root's `data-theme`: style/main.css picks colours
    // from it ("system" follows prefers-color-scheme).
    Effect::new(move |_| {
        let theme = store.settings.with(|s| s.theme);
        if let Some(root) = document().document_element() {
            let _ = root.set_attribute("data-theme", theme.as_str());
        }
    });
    let details_open = RwSignal::new(false);
    let drop = attachments::DropTarget::new(store);
    view! {
        <div
            class="app"
            aria-busy=move || (!store.storage.loaded.get()).then_some("true")
            data-drawer=move || if ui.drawer_open.get() { "open" } else { "closed" }
        >
            <sidebar::Sidebar />
            <div
                class="backdrop"
                aria-hidden="true"
                on:click=move |_| ui.close_drawer(true)
            ></div>
            <main
                class=move || if drop.dragging.get() { "chat drop-target" } else { "chat" }
                on:dragover=move |ev| drop.on_dragover(ev)
                on:dragleave=move |ev| drop.on_dragleave(ev)
                on:drop=move |ev| drop.on_drop(ev)
            >
                <Header details_open />
                <app_shell::OfflineIndicator />
                <app_shell::UpdatePrompt />
                <data::Blocked />
                <data::StorageFull />
                <Notice />
                <Show when=move || details_open.get()>
                    {split::show(details::details())}
                </Show>
                <conversation::Conversation />
                <scroll::JumpToLatest />
                <composer::Composer />
            </main>
            <keyboard::UndoToast />
            <keyboard::ShortcutsDialog />
            <attachments::LightboxDialog />
        </div>
    }
}

#[component]
fn Header(details_open: RwSignal<bool>) -> impl IntoView {
    let store = use_store();
    let title = move || {
        let open = store.on_screen.id.get();
        store.sidebar.listings.with(|list| {
            open.and_then(|id| {
                list.iter()
                    .find(|l| l.summary.id == id)
                    .and_then(|l| l.summary.title.clone())
            })
            .unwrap_or_else(|| "New chat".to_owned())
        })
    };
    let has_session = move || store.on_screen.id.with(Option::is_some);
    let ui = keyboard::use_ui();
    // Narrow screens: Details, End conversation and Settings in a menu.
    let more_open = RwSignal::new(false);
    let toggle_drawer = move |_| {
        if ui.drawer_open.get_untracked() {
            ui.close_drawer(false);
        } else {
            // Into the drawer, where the user is going.
            ui.focus_search();
        }
    };
    view! {
        // Inert until the stored conversations have loaded, as the sidebar.
        <header class="chat-header" inert=move || !store.storage.loaded.get()>
            <button
                type="button"
                id=keyboard::MENU_ID
                class="menu-button"
                aria-label="Conversations menu"
                aria-controls="sidebar"
                aria-expanded=move || ui.drawer_open.get().to_string()
                on:click=toggle_drawer
            >
                "☰"
            </button>
            <h1>{title}</h1>
            <answerer::AnswererChip />
            <button
                type="button"
                class="more-button"
                aria-label="More actions"
                title="More actions"
                aria-controls="header-actions"
                aria-expanded=move || more_open.get().to_string()
                on:click=move |_| more_open.update(|o| *o = !*o)
            >
                "⋯"
            </button>
            <div
                class="header-actions"
                id="header-actions"
                data-open=move || more_open.get().to_string()
                on:click=move |ev| {
                    // A choice made in the menu closes it.
                    if ev.target() != ev.current_target() {
                        more_open.set(false);
                    }
                }
                on:keydown=move |ev| {
                    if ev.key() == "Escape" && more_open.get_untracked() {
                        more_open.set(false);
                    }
                }
            >
                <Show when=has_session>
                    <button
                        type="button"
                        aria-expanded=move || details_open.get().to_string()
                        on:click=move |_| details_open.update(|o| *o = !*o)
                    >
                        "Details"
                    </button>
                </Show>
                <Show when=move || has_session() && !store.is_ended()>
                    <end_dialog::EndConversationButton />
                </Show>
                <settings_dialog::SettingsButton />
            </div>
        </header>
    }
}

/// Dismissible notes on problems outside one message (an entry moved
/// aside, an action that failed).
#[component]
fn Notice() -> impl IntoView {
    let store = use_store();
    move || {
        let notices = store.notices.get();
        (!notices.is_empty()).then(|| {
            view! {
                <div class="notice" role="alert">
                    <ul>
                        {notices
                            .into_iter()
                            .map(|notice| view! { <li data-notice=notice.kind()>{notice.to_string()}</li> })
                            .collect_view()}
                    </ul>
                    <button type="button" on:click=move |_| store.notices.set(Vec::new())>
                        "Dismiss"
                    </button>
                </div>
            }
        })
    }
}

/// Opens `dialog` as a modal while `open()` is true and closes it when it
/// turns false (a dialog driven by a signal rather than by its buttons).
fn modal_follows(dialog: NodeRef<leptos::html::Dialog>, open: impl Fn() -> bool + 'static) {
    Effect::new(move |_| {
        let open = open();
        if let Some(dialog) = dialog.get() {
            if open && !dialog.open() {
                let _ = dialog.show_modal();
            } else if !open && dialog.open() {
                dialog.close();
            }
        }
    });
}
