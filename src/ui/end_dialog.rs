use confab_core::manager::Satisfaction;
use leptos::prelude::*;

use super::split::PartDialog;
use crate::store::{ChatStore, use_store};

/// "End conversation": asks whether the user was satisfied, and for an
/// optional comment, then ends the open conversation. The form is a split
/// point (crate::split), built at each opening.
#[component]
pub fn EndConversationButton() -> impl IntoView {
    let store = use_store();
    let dialog = PartDialog::new();
    let satisfied = RwSignal::new(None::<Satisfaction>);
    let comment = RwSignal::new(String::new());
    let open = move |_| {
        satisfied.set(None);
        comment.set(String::new());
        dialog.open();
    };
    view! {
        <button type="button" on:click=open>
            "End conversation"
        </button>
        {dialog.view(
            "small-dialog",
            Signal::stored("End conversation"),
            move || end_form(store, satisfied, comment, dialog),
        )}
    }
}

crate::split::split_point!(
    end_form,
    fn end_form(
        store: ChatStore,
        satisfied: RwSignal<Option<Satisfaction>>,
        comment: RwSignal<String>,
        dialog: PartDialog,
    ) -> AnyView {
        end_form_view(store, satisfied, comment, dialog)
    }
);

fn end_form_view(
    store: ChatStore,
    satisfied: RwSignal<Option<Satisfaction>>,
    comment: RwSignal<String>,
    dialog: PartDialog,
) -> AnyView {
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let Some(satisfaction) = satisfied.get_untracked() else {
            return;
        };
        dialog.close();
        store.end_conversation(satisfaction, &comment.get_untracked());
    };
    let choice = move |value: Satisfaction, label: &'static str| {
        view! {
            <label class="choice">
                <input
                    type="radio"
                    name="satisfaction"
                    required
                    prop:checked=move || satisfied.get() == Some(value)
                    on:change=move |_| satisfied.set(Some(value))
                />
                {label}
            </label>
        }
    };
    view! {
    <form on:submit=submit>
        <h2 id="end-title">"End conversation"</h2>
        <fieldset>
            <legend>"Did this conversation help?"</legend>
            {choice(Satisfaction::Satisfied, "Satisfied")}
            {choice(Satisfaction::NotSatisfied, "Not satisfied")}
        </fieldset>
        <label>
            "Comment (optional)"
            <textarea
                name="end-comment"
                rows="3"
                prop:value=move || comment.get()
                on:input=move |ev| comment.set(event_target_value(&ev))
            ></textarea>
        </label>
        <div class="actions">
            <button type="button" on:click=move |_| dialog.close()>
                "Cancel"
            </button>
            <button type="submit" class="primary">
                "End conversation"
            </button>
        </div>
    </form>
    }
    .into_any()
}
