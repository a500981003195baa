//! Confab's web shell: the Leptos app over the functional core in
//! `confab-core`.
//!
//! - [`platform`]: adapters over browser APIs (localStorage, fetch, clock).
//! - [`store`]: the reactive store and its actions.
//! - [`ui`]: components that render the store and dispatch actions.
//! - `split`: split points, code the split release build fetches on first use.

pub mod platform;
mod split;
pub mod store;
pub mod ui;

/// Mounts the app into `<body>`, once the stored format is up to date.
pub fn mount() {
    console_error_panic_hook::set_once();
    // wasm-bindgen's own spawner: Leptos' needs its executor, which
    // mounting sets up.
    wasm_bindgen_futures::spawn_local(async {
        store::upgrade_before_mount().await;
        leptos::mount::mount_to_body(ui::App);
    });
}
