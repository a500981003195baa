//! The page itself, beside the conversations: whether the browser has a
//! network (the Offline indicator) and whether a newer build of Confab is
//! installed and waiting (the "new version" prompt). The service worker
//! behind both is platform/service_worker.rs.

use leptos::prelude::*;

use crate::platform::http::is_online;
use crate::platform::service_worker;

#[derive(Clone, Copy)]
pub struct AppShell {
    /// `navigator.onLine`, followed through `online`/`offline` events.
    pub online: RwSignal<bool>,
    /// A newer version waits for the user's Reload (never applied alone).
    pub update_ready: RwSignal<bool>,
}

impl AppShell {
    pub(super) fn new() -> Self {
        Self {
            online: RwSignal::new(is_online()),
            update_ready: RwSignal::new(false),
        }
    }

    /// Follows the network state; a release build registers the service
    /// worker (after the first frame, so the shell draws first) and checks
    /// for a new version whenever the tab is shown again; a debug build
    /// removes any service worker of its origin.
    pub(super) fn start(self) {
        let online = self.online;
        std::mem::forget(window_event_listener(leptos::ev::online, move |_| {
            online.set(true)
        }));
        std::mem::forget(window_event_listener(leptos::ev::offline, move |_| {
            online.set(false)
        }));
        if cfg!(debug_assertions) {
            service_worker::unregister_all();
            return;
        }
        let update_ready = self.update_ready;
        request_animation_frame(move || service_worker::register(move || update_ready.set(true)));
        std::mem::forget(window_event_listener(
            leptos::ev::visibilitychange,
            move |_| {
                if !document().hidden() {
                    service_worker::check_for_update();
                }
            },
        ));
    }

    /// Switches to the waiting version: the page reloads once it has
    /// taken over. The caller makes sure no reply is streaming.
    pub fn reload_to_update(&self) {
        service_worker::activate_update();
    }
}
