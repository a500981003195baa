use confab_core::manager::Satisfaction;
use leptos::html;
use leptos::prelude::*;

use crate::store::{ChatStore, use_store};

/// "End conversation": asks whether the user was satisfied, and for an
/// optional comment, then ends the open conversation. The form is a split
/// point (crate::split), built at each opening.
#[component]
pub fn EndConversationButton() -> impl IntoView {
    let store = use_store();
    let dialog = NodeRef::<html::Dialog>::new();
    let satisfied = RwSignal::new(None::<Satisfaction>);
    let comment = RwSignal::new(String::new());
    let opened = RwSignal::new(false);
    let open = move |_| {
        opened.set(true);
        satisfied.set(None);
        comment.set(String::new());
        if let Some(dialog) = dialog.get_untracked() {
            let _ = dialog.show_modal();
        }
    };
    let close = Callback::new(move |()| {
        if let Some(dialog) = dialog.get_untracked() {
            dialog.close();
        }
    });
    view! {
        <button type="button" on:click=open>
            "End conversation"
        </button>
        <dialog
            node_ref=dialog
            class="small-dialog"
            aria-label="End conversation"
            on:close=move |_| opened.set(false)
        >
            <Show when=move || opened.get()>
                {super::split::show(end_form(store, satisfied, comment, close))}
            </Show>
        </dialog>
    }
}

crate::split::split_point!(
    end_form,
    fn end_form(
        store: ChatStore,
        satisfied: RwSignal<Option<Satisfaction>>,
        comment: RwSignal<String>,
        close: Callback<()>,
    ) -> AnyView {
        end_form_view(store, satisfied, comment, close)
    }
);

fn end_form_view(
    store: ChatStore,
    satisfied: RwSignal<Option<Satisfaction>>,
    comment: RwSignal<String>,
    close: Callback<()>,
) -> AnyView {
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let Some(satisfaction) = satisfied.get_untracked() else {
            return;
        };
        close.run(());
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
            <button type="button" on:click=move |_| close.run(())>
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
