use leptos::{ev, html, prelude::*};
use wasm_bindgen::JsCast;

use super::split::{PartDialog, show};
use crate::store::{ChatStore, use_store};

const BUTTON_ID: &str = "profile-button";

/// The profile control's state, shared by its button (in the first load)
/// and its menu (a split part, fetched when first opened).
#[derive(Clone, Copy)]
struct Control {
    store: ChatStore,
    menu_open: RwSignal<bool>,
    /// The dialog to add a profile (`adding`) or rename the active one,
    /// with the name typed in it.
    dialog: PartDialog,
    adding: RwSignal<bool>,
    name: RwSignal<String>,
}

/// Who is chatting: one button with the active profile's initial and name,
/// opening a menu to switch profile, add one or rename this one (in a
/// dialog). The menu and the dialog's form are split points
/// (crate::split): only the button is in the first load.
#[component]
pub fn ProfileSwitcher() -> impl IntoView {
    let store = use_store();
    let control = Control {
        store,
        menu_open: RwSignal::new(false),
        dialog: PartDialog::new(),
        adding: RwSignal::new(true),
        name: RwSignal::new(String::new()),
    };
    let Control {
        menu_open,
        adding,
        name,
        dialog,
        ..
    } = control;
    let active_name = move || store.profiles.with(|p| p.active_profile().name.clone());
    let initial = move || active_name().chars().take(1).collect::<String>();
    view! {
        <div class="profiles">
            <button
                type="button"
                class="profile-button"
                id=BUTTON_ID
                aria-haspopup="menu"
                aria-expanded=move || menu_open.get().to_string()
                aria-controls="profile-menu"
                aria-label=move || format!("Profile: {}", active_name())
                on:click=move |_| menu_open.update(|o| *o = !*o)
            >
                // The initial is drawn by CSS (not text): the button's name
                // stays "Profile: <name>", which its visible text is part of.
                <span
                    class="initial"
                    data-initial=initial
                ></span>
                <span class="profile-name">{active_name}</span>
            </button>
            // Built at each opening (and its chunk fetched at the first),
            // dropped at each closing, with its listeners.
            {move || menu_open.get().then(|| show(profile_menu(control)))}
            {dialog.view(
                "small-dialog",
                Signal::derive(move || if adding.get() { "New profile" } else { "Rename profile" }),
                move || profile_form(store, adding, name, dialog),
            )}
        </div>
    }
}

crate::split::split_point!(
    profile_menu,
    fn profile_menu(control: Control) -> AnyView {
        profile_menu_view(control)
    }
);

/// The menu: each profile (the active one checked), then New profile… and
/// Rename profile…. Focus goes into it as it opens and back to the button
/// as it closes (a choice, Esc); a press outside closes it too.
fn profile_menu_view(control: Control) -> AnyView {
    let Control {
        store,
        menu_open,
        dialog,
        adding,
        name,
    } = control;
    let menu = NodeRef::<html::Div>::new();
    // The button, found by its id: a node reference would put code in the
    // first load.
    let button = || document().get_element_by_id(BUTTON_ID);
    // Closes the menu, giving focus back to its button.
    let close = move || {
        menu_open.set(false);
        if let Some(button) = button() {
            let _ = button.unchecked_into::<web_sys::HtmlElement>().focus();
        }
    };
    let open = move |add: bool| {
        close();
        adding.set(add);
        name.set(if add {
            String::new()
        } else {
            store
                .profiles
                .with_untracked(|p| p.active_profile().name.clone())
        });
        dialog.open();
    };
    // Focus goes into the menu as it opens, on the active profile.
    Effect::new(move |_| {
        if let Some(menu) = menu.get() {
            focus_item(&menu, |items, _| {
                (0..items.length()).find(|&i| {
                    items
                        .item(i)
                        .and_then(|n| n.dyn_into::<web_sys::Element>().ok())
                        .is_some_and(|e| e.get_attribute("aria-checked").as_deref() == Some("true"))
                })
            });
        }
    });
    // A press anywhere outside it and its button closes it (the button
    // itself toggles it).
    let outside = window_event_listener(ev::pointerdown, move |ev| {
        let target = ev.target().and_then(|t| t.dyn_into::<web_sys::Node>().ok());
        let inside =
            |node: Option<web_sys::Node>| node.is_some_and(|n| n.contains(target.as_ref()));
        if !inside(menu.get_untracked().map(Into::into)) && !inside(button().map(Into::into)) {
            menu_open.set(false);
        }
    });
    on_cleanup(move || outside.remove());
    let on_menu_key = move |ev: ev::KeyboardEvent| {
        let Some(menu) = menu.get_untracked() else {
            return;
        };
        let step = |items: &web_sys::NodeList, at: Option<u32>| {
            let n = items.length();
            Some(match (ev.key().as_str(), at) {
                ("ArrowDown", Some(i)) => (i + 1) % n,
                ("ArrowUp", Some(i)) => (i + n - 1) % n,
                ("Home", _) | ("ArrowDown", None) => 0,
                ("End", _) | ("ArrowUp", None) => n.checked_sub(1)?,
                _ => return None,
            })
        };
        match ev.key().as_str() {
            "Escape" => {
                // Esc here closes the menu; it does not also stop a reply.
                ev.prevent_default();
                ev.stop_propagation();
                close();
            }
            "Tab" => menu_open.set(false),
            "ArrowDown" | "ArrowUp" | "Home" | "End" => {
                ev.prevent_default();
                focus_item(&menu, step);
            }
            _ => {}
        }
    };
    view! {
        <div
            class="profile-menu"
            id="profile-menu"
            role="menu"
            aria-label="Profiles"
            node_ref=menu
            on:keydown=on_menu_key
        >
            // Not a keyed list (its code would double this chunk): the
            // profiles change only while the menu is closed, or from
            // another tab, and then it is built again.
            {move || {
                store
                    .profiles
                    .with(|p| {
                        p.profiles
                            .iter()
                            .map(|profile| {
                                let checked = p.active == profile.id;
                                let id = profile.id.clone();
                                view! {
                                    <button
                                        type="button"
                                        role="menuitemradio"
                                        tabindex="-1"
                                        aria-checked=checked.to_string()
                                        on:click=move |_| {
                                            close();
                                            if !checked {
                                                store.switch_profile(&id);
                                            }
                                        }
                                    >
                                        {profile.name.clone()}
                                    </button>
                                }
                            })
                            .collect_view()
                    })
            }}
            <button type="button" role="menuitem" tabindex="-1" on:click=move |_| open(true)>
                "New profile…"
            </button>
            <button type="button" role="menuitem" tabindex="-1" on:click=move |_| open(false)>
                "Rename profile…"
            </button>
        </div>
    }
    .into_any()
}

/// Focuses the menu item `pick` chooses, given the items and the index of
/// the focused one.
fn focus_item(
    menu: &web_sys::HtmlDivElement,
    pick: impl FnOnce(&web_sys::NodeList, Option<u32>) -> Option<u32>,
) {
    let Ok(items) = menu.query_selector_all("button") else {
        return;
    };
    let focused = document().active_element();
    let at = (0..items.length()).find(|&i| {
        items
            .item(i)
            .zip(focused.as_ref())
            .is_some_and(|(item, f)| item.is_same_node(Some(f)))
    });
    if let Some(item) = pick(&items, at)
        .and_then(|i| items.item(i))
        .and_then(|n| n.dyn_into::<web_sys::HtmlElement>().ok())
    {
        let _ = item.focus();
    }
}

crate::split::split_point!(
    profile_form,
    fn profile_form(
        store: ChatStore,
        adding: RwSignal<bool>,
        name: RwSignal<String>,
        dialog: PartDialog,
    ) -> AnyView {
        profile_form_view(store, adding, name, dialog)
    }
);

fn profile_form_view(
    store: ChatStore,
    adding: RwSignal<bool>,
    name: RwSignal<String>,
    dialog: PartDialog,
) -> AnyView {
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let text = name.get_untracked();
        let done = if adding.get_untracked() {
            store.add_profile(&text)
        } else {
            store.rename_profile(&text)
        };
        if done {
            dialog.close();
        }
    };
    view! {
    <form on:submit=submit>
        <h2 id="profile-title">
            {move || if adding.get() { "New profile" } else { "Rename profile" }}
        </h2>
        <label>
            "Name"
            <input
                type="text"
                name="profile-name"
                maxlength="40"
                required
                prop:value=move || name.get()
                on:input=move |ev| name.set(event_target_value(&ev))
            />
        </label>
        <div class="actions">
            <button type="button" on:click=move |_| dialog.close()>
                "Cancel"
            </button>
            <button type="submit" class="primary">
                {move || if adding.get() { "Add profile" } else { "Rename" }}
            </button>
        </div>
    </form>
    }
    .into_any()
}
