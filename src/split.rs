//! Code the release build can leave out of the first load: with
//! `--cfg confab_split` (scripts/build-split.sh) each `split_point!` is a
//! split point of wasm_split (re-exported by Leptos), and its body, with
//! everything only it reaches, goes into a wasm chunk fetched the first time
//! it runs. Without the cfg (`trunk serve`, host builds, tests) it is a
//! plain async function: a split point's placeholder import would stay
//! unresolved and break the page.

use thiserror::Error;

/// A split point's chunk did not arrive (offline, or the server is gone).
#[derive(Debug, Error)]
pub enum PartLoadError {
    #[error(
        "This part of Confab could not be loaded: its code is fetched when first used. Check the connection, then try again."
    )]
    Unavailable,
}

impl From<leptos::wasm_split::SplitLoaderError> for PartLoadError {
    fn from(_: leptos::wasm_split::SplitLoaderError) -> Self {
        Self::Unavailable
    }
}

/// Declares `async fn $name(args) -> Result<$ret, PartLoadError>` running
/// `$body`; in a split build the body lives in the chunk `$chunk` (a chunk
/// may hold several split points). Declared `async fn`, the part waits
/// itself: `$name` then returns its future, boxed (a split function cannot
/// be async), to be awaited once loaded.
macro_rules! split_point {
    (
        $chunk:ident,
        $(#[$attr:meta])*
        $vis:vis async fn $name:ident($($arg:ident: $ty:ty),* $(,)?) -> $ret:ty $body:block
    ) => {
        $crate::split::split_point!(
            $chunk,
            $(#[$attr])*
            $vis fn $name($($arg: $ty),*) -> ::std::pin::Pin<Box<dyn ::std::future::Future<Output = $ret>>> {
                Box::pin(async move $body)
            }
        );
    };
    (
        $chunk:ident,
        $(#[$attr:meta])*
        $vis:vis fn $name:ident($($arg:ident: $ty:ty),* $(,)?) -> $ret:ty $body:block
    ) => {
        $(#[$attr])*
        #[cfg(confab_split)]
        #[::leptos::wasm_split::wasm_split($chunk, wasm_split_path = ::leptos::wasm_split, fallible)]
        $vis fn $name($($arg: $ty),*) -> Result<$ret, $crate::split::PartLoadError> {
            Ok($body)
        }
        $(#[$attr])*
        #[cfg(not(confab_split))]
        $vis async fn $name($($arg: $ty),*) -> Result<$ret, $crate::split::PartLoadError> {
            Ok($body)
        }
    };
}
pub(crate) use split_point;
