//! Copying to the clipboard: the one write every Copy button uses, and the
//! button that copies a message or its thinking and says whether it worked.

use leptos::prelude::*;
use wasm_bindgen_futures::JsFuture;

/// Puts `text` on the clipboard; whether it worked (the browser may refuse:
/// no permission, or the page not focused).
pub async fn copy_text(text: &str) -> bool {
    let promise = window().navigator().clipboard().write_text(text);
    JsFuture::from(promise).await.is_ok()
}

/// A button that copies `text` as it is when clicked, labelled `label`,
/// then "Copied" or "Copy failed". With `icon`, an icon button whose
/// accessible name and tooltip say the same.
#[component]
pub fn CopyButton(
    text: ArcRwSignal<String>,
    class: &'static str,
    label: &'static str,
    #[prop(optional)] icon: bool,
    /// Kept in the page but hidden while true.
    #[prop(optional)]
    hidden: Option<Signal<bool>>,
) -> impl IntoView {
    let copied = RwSignal::new(None::<bool>);
    let copy = move |_| {
        let text = text.get_untracked();
        leptos::task::spawn_local(async move {
            copied.set(Some(copy_text(&text).await));
        });
    };
    let said = move || match copied.get() {
        None => label,
        Some(true) => "Copied",
        Some(false) => "Copy failed",
    };
    if icon {
        return view! {
            <button
                type="button"
                class=class
                on:click=copy
                aria-label=said
                title=said
                hidden=move || hidden.is_some_and(|h| h.get())
            >
                {super::icons::copy()}
            </button>
        }
        .into_any();
    }
    view! {
        <button type="button" class=class on:click=copy>
            {said}
        </button>
    }
    .into_any()
}
