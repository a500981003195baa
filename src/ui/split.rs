//! Parts of the UI whose code the release build can leave out of the first
//! load: with `--cfg confab_split` (scripts/build-split.sh) each `part!` is
//! a split point of wasm_split (re-exported by Leptos), and its code, with
//! everything only it reaches, goes into a wasm chunk fetched the first time
//! the part is shown. Without the cfg (`trunk serve`, host builds, tests)
//! it is a plain function: a split point's placeholder import would stay
//! unresolved and break the page.

use leptos::prelude::*;
use thiserror::Error;

/// A part's chunk did not arrive (offline, or the server is gone).
#[derive(Debug, Error)]
pub enum PartLoadError {
    #[error(
        "This part of Confab could not be loaded: its code is fetched when first opened. Check the connection, then close and open it again."
    )]
    Unavailable,
}

impl From<leptos::wasm_split::SplitLoaderError> for PartLoadError {
    fn from(_: leptos::wasm_split::SplitLoaderError) -> Self {
        Self::Unavailable
    }
}

/// Declares `async fn $name() -> Result<AnyView, PartLoadError>` rendering
/// `$view`; in a split build the body lives in the chunk `$chunk`.
macro_rules! part {
    ($chunk:ident, $(#[$attr:meta])* $vis:vis fn $name:ident() $view:block) => {
        $(#[$attr])*
        #[cfg(confab_split)]
        #[::leptos::wasm_split::wasm_split($chunk, wasm_split_path = ::leptos::wasm_split, fallible)]
        $vis fn $name() -> Result<AnyView, $crate::ui::split::PartLoadError> {
            Ok($view.into_any())
        }
        $(#[$attr])*
        #[cfg(not(confab_split))]
        $vis async fn $name() -> Result<AnyView, $crate::ui::split::PartLoadError> {
            Ok($view.into_any())
        }
    };
}
pub(crate) use part;

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
