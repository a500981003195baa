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
