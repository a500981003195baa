//! Showing a part of the UI whose code is a split point (crate::split).

use leptos::prelude::*;

use crate::split::PartLoadError;

/// Shows the part `load` renders once its code is there (nothing before),
/// or what went wrong. A local signal handed the view once, not `Suspend`:
/// the suspense machinery would cost the first load about 2 KB.
pub fn show<F>(load: F) -> impl IntoView
where
    F: Future<Output = Result<AnyView, PartLoadError>> + 'static,
{
    let part = RwSignal::new_local(None::<AnyView>);
    // Under this owner: the part's components read the store's context.
    leptos::task::spawn_local_scoped_with_cancellation(async move {
        let view = load.await.unwrap_or_else(|error| {
            view! { <p class="error" role="alert">{error.to_string()}</p> }.into_any()
        });
        part.set(Some(view));
    });
    // Taken without notifying: the view moves into the page once.
    move || {
        part.track();
        part.try_update_untracked(Option::take).flatten()
    }
}

/// A modal dialog whose form is a split part. The form is built at each
/// opening (so a part that could not be fetched is tried again) and dropped
/// at each closing, however the dialog closed (a button, Esc). The dialog
/// is named by its `label`, not by the form's heading, which may not have
/// arrived.
#[derive(Clone, Copy)]
pub struct PartDialog {
    node: NodeRef<leptos::html::Dialog>,
    opened: RwSignal<bool>,
}

impl PartDialog {
    pub fn new() -> Self {
        Self {
            node: NodeRef::new(),
            opened: RwSignal::new(false),
        }
    }

    pub fn open(&self) {
        self.opened.set(true);
        if let Some(dialog) = self.node.get_untracked() {
            let _ = dialog.show_modal();
        }
    }

    pub fn close(&self) {
        if let Some(dialog) = self.node.get_untracked() {
            dialog.close();
        }
    }

    /// The `<dialog>`, showing what `form` loads while it is open.
    pub fn view<F, L>(
        self,
        class: &'static str,
        label: Signal<&'static str>,
        form: F,
    ) -> impl IntoView
    where
        F: Fn() -> L + Send + Sync + 'static,
        L: Future<Output = Result<AnyView, PartLoadError>> + 'static,
    {
        let opened = self.opened;
        view! {
            <dialog
                node_ref=self.node
                class=class
                aria-label=move || label.get()
                on:close=move |_| opened.set(false)
            >
                <Show when=move || opened.get()>{show(form())}</Show>
            </dialog>
        }
    }
}
