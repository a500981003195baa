//! Showing a part of the UI whose code is a split point (crate::split).

use leptos::prelude::*;

use crate::split::PartLoadError;

/// Shows the part `load` renders once its code is there (nothing before),
/// or what went wrong.
pub fn show<F>(load: F) -> impl IntoView
where
    F: Future<Output = Result<AnyView, PartLoadError>> + Send + 'static,
{
    Suspend::new(async move {
        load.await.unwrap_or_else(|error| {
            view! { <p class="error" role="alert">{error.to_string()}</p> }.into_any()
        })
    })
}
