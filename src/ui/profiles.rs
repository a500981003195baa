use leptos::prelude::*;

use super::split::PartDialog;
use crate::store::{ChatStore, use_store};

/// Who is chatting: a profile picker, and a dialog to add or rename one
/// (its form a split point, crate::split, built at each opening).
#[component]
pub fn ProfileSwitcher() -> impl IntoView {
    let store = use_store();
    let dialog = PartDialog::new();
    // `Some(true)` adds a profile, `Some(false)` renames the active one.
    let adding = RwSignal::new(true);
    let name = RwSignal::new(String::new());
    let open = move |add: bool| {
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

    view! {
        <div class="profiles">
            <label for="profile-select">"Profile"</label>
            <select
                    id="profile-select"
                    name="profile"
                    on:change=move |ev| store.switch_profile(&event_target_value(&ev))
                    prop:value=move || store.profiles.with(|p| p.active.clone())
                >
                    <For
                        each=move || store.profiles.with(|p| p.profiles.clone())
                        key=|p| (p.id.clone(), p.name.clone())
                        let:profile
                    >
                        <option
                            value=profile.id.clone()
                            selected=move || store.profiles.with(|p| p.active == profile.id)
                        >
                            {profile.name.clone()}
                        </option>
                    </For>
            </select>
            <div class="profile-actions">
                <button type="button" on:click=move |_| open(true)>
                    "New profile"
                </button>
                <button type="button" on:click=move |_| open(false)>
                    "Rename profile"
                </button>
            </div>
            {dialog.view(
                "small-dialog",
                Signal::derive(move || if adding.get() { "New profile" } else { "Rename profile" }),
                move || profile_form(store, adding, name, dialog),
            )}
        </div>
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
