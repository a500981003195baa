//! Keyboard shortcuts (one window listener), the dialog listing them, and
//! the page-level UI state they act on (the drawer, the dialog).

use leptos::ev::KeyboardEvent;
use leptos::html;
use leptos::prelude::*;
use wasm_bindgen::JsCast;

use crate::store::{ChatStore, use_store};

/// Below this width (CSS pixels) the sidebar is a drawer; the same figure
/// as the media query in style/main.css.
const DRAWER_BELOW: f64 = 720.0;

/// The search box's id (Ctrl/Cmd+K focuses it).
pub const SEARCH_ID: &str = "conversation-search";
/// The drawer's menu button's id (focus returns to it when the drawer closes).
pub const MENU_ID: &str = "drawer-button";

/// What the shortcuts list says, in order: keys, then what they do.
const SHORTCUTS: &[(&str, &str)] = &[
    ("Enter", "Send the message"),
    ("Shift+Enter", "New line in the message"),
    (
        "Esc",
        "Stop the reply being written; close the menu or a dialog",
    ),
    ("Ctrl+K / ⌘K", "Search conversations"),
    ("Ctrl+Shift+O / ⌘⇧O", "New chat"),
    ("?", "Show these shortcuts (when not typing)"),
];

/// Page-level UI state shared by the header, sidebar and shortcuts.
#[derive(Clone, Copy)]
pub struct UiState {
    /// The sidebar drawer is open (only matters on narrow screens).
    pub drawer_open: RwSignal<bool>,
    pub shortcuts_open: RwSignal<bool>,
}

impl UiState {
    pub fn provide() -> Self {
        let ui = Self {
            drawer_open: RwSignal::new(false),
            shortcuts_open: RwSignal::new(false),
        };
        provide_context(ui);
        ui
    }

    pub fn is_narrow() -> bool {
        window()
            .inner_width()
            .ok()
            .and_then(|w| w.as_f64())
            .is_some_and(|w| w < DRAWER_BELOW)
    }

    /// Puts the cursor in the search box (opening the drawer first on a
    /// narrow screen).
    pub fn focus_search(&self) {
        if Self::is_narrow() && !self.drawer_open.get_untracked() {
            self.drawer_open.set(true);
            // A hidden drawer's input cannot take focus: wait until the
            // open drawer is rendered.
            request_animation_frame(|| focus_by_id(SEARCH_ID));
        } else {
            focus_by_id(SEARCH_ID);
        }
    }

    /// Closes the drawer and gives focus back to its button, so keyboard
    /// users are not left on a hidden element.
    pub fn close_drawer(&self, refocus: bool) {
        if self.drawer_open.get_untracked() {
            self.drawer_open.set(false);
            if refocus && Self::is_narrow() {
                focus_by_id(MENU_ID);
            }
        }
    }
}

pub fn use_ui() -> UiState {
    expect_context::<UiState>()
}

fn focus_by_id(id: &str) {
    if let Some(element) = document()
        .get_element_by_id(id)
        .and_then(|e| e.dyn_into::<web_sys::HtmlElement>().ok())
    {
        let _ = element.focus();
    }
}

/// Focuses the message box.
pub fn focus_composer() {
    if let Ok(Some(element)) = document().query_selector("textarea[aria-label='Message']")
        && let Ok(element) = element.dyn_into::<web_sys::HtmlElement>()
    {
        let _ = element.focus();
    }
}

/// Whether the key went to something the user types into (`?` is text there).
fn typing(ev: &KeyboardEvent) -> bool {
    let Some(element) = ev
        .target()
        .and_then(|t| t.dyn_into::<web_sys::Element>().ok())
    else {
        return false;
    };
    matches!(
        element.tag_name().to_ascii_lowercase().as_str(),
        "input" | "textarea" | "select"
    ) || element
        .dyn_ref::<web_sys::HtmlElement>()
        .is_some_and(|e| e.is_content_editable())
}

fn dialog_open() -> bool {
    matches!(document().query_selector("dialog[open]"), Ok(Some(_)))
}

/// Listens for the shortcuts on the whole page.
pub fn install(ui: UiState, store: ChatStore) {
    let handle = window_event_listener(leptos::ev::keydown, move |ev: KeyboardEvent| {
        if ev.default_prevented() || ev.is_composing() {
            return;
        }
        let command = ev.ctrl_key() || ev.meta_key();
        let key = ev.key();
        if command && !ev.alt_key() && !ev.shift_key() && key.eq_ignore_ascii_case("k") {
            // Not the browser's own search-bar shortcut.
            ev.prevent_default();
            if !dialog_open() {
                ui.focus_search();
            }
        } else if command && !ev.alt_key() && ev.shift_key() && key.eq_ignore_ascii_case("o") {
            ev.prevent_default();
            if !dialog_open() {
                store.when_loaded(move || store.new_chat());
                ui.close_drawer(false);
                focus_composer();
            }
        } else if key == "Escape" {
            // A modal dialog closes itself on Esc; nothing else happens then.
            if dialog_open() {
                return;
            }
            if ui.drawer_open.get_untracked() && UiState::is_narrow() {
                ev.prevent_default();
                ui.close_drawer(true);
            } else if store.is_streaming() {
                ev.prevent_default();
                store.stop();
            }
        } else if key == "?" && !command && !ev.alt_key() && !typing(&ev) && !dialog_open() {
            ev.prevent_default();
            ui.shortcuts_open.set(true);
        }
    });
    std::mem::forget(handle);
}

/// The list of shortcuts, as a modal dialog.
#[component]
pub fn ShortcutsDialog() -> impl IntoView {
    let ui = use_ui();
    let dialog = NodeRef::<html::Dialog>::new();
    super::modal_follows(dialog, move || ui.shortcuts_open.get());
    view! {
        <dialog
            node_ref=dialog
            class="shortcuts"
            aria-labelledby="shortcuts-title"
            on:close=move |_| ui.shortcuts_open.set(false)
        >
            <h2 id="shortcuts-title">"Keyboard shortcuts"</h2>
            <table>
                <thead>
                    <tr>
                        <th scope="col">"Keys"</th>
                        <th scope="col">"Action"</th>
                    </tr>
                </thead>
                <tbody>
                    {SHORTCUTS
                        .iter()
                        .map(|(keys, action)| {
                            view! {
                                <tr>
                                    <td>
                                        <kbd>{*keys}</kbd>
                                    </td>
                                    <td>{*action}</td>
                                </tr>
                            }
                        })
                        .collect_view()}
                </tbody>
            </table>
            <div class="actions">
                <button type="button" class="primary" on:click=move |_| ui.shortcuts_open.set(false)>
                    "Close"
                </button>
            </div>
        </dialog>
    }
}

/// Opens the shortcuts list (for those who do not know about `?`).
#[component]
pub fn ShortcutsButton() -> impl IntoView {
    let ui = use_ui();
    view! {
        <button
            type="button"
            class="shortcuts-button"
            aria-haspopup="dialog"
            on:click=move |_| ui.shortcuts_open.set(true)
        >
            "Keyboard shortcuts"
        </button>
    }
}

/// The Undo offer after a deletion.
#[component]
pub fn UndoToast() -> impl IntoView {
    let store = use_store();
    view! {
        <div class="toast-region" role="status" aria-live="polite">
            {move || {
                store
                    .sidebar.pending_delete
                    .get()
                    .map(|pending| {
                        view! {
                            <div class="toast" data-session-id=pending.session_id.clone()>
                                <span>"Conversation deleted — “" {pending.title} "”"</span>
                                <button type="button" on:click=move |_| store.undo_delete()>
                                    "Undo"
                                </button>
                            </div>
                        }
                    })
            }}
        </div>
    }
}
