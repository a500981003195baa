//! Confab's web shell: the Leptos app over the functional core in
//! `confab-core`.
//!
//! - [`platform`]: adapters over browser APIs (localStorage, fetch, clock).
//! - [`store`]: the reactive store and its actions.
//! - [`ui`]: components that render the store and dispatch actions.

pub mod platform;
pub mod store;
pub mod ui;

/// Mounts the app into `<body>`.
pub fn mount() {
    console_error_panic_hook::set_once();
    leptos::mount::mount_to_body(ui::App);
}
