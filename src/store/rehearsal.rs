//! A send rehearsed once the page is idle after startup, on storage of its
//! own: the browser compiles WebAssembly functions the first time they
//! run, and a first send runs hundreds for the first time (saving a new
//! conversation: records serialized and packed, its trace, the request
//! planned), which made the task handling Enter take 50-60 ms, half of it
//! compiling. Rehearsed, that compiling happens while nobody waits.

use confab_core::chat::{Ask, plan_request};
use confab_core::manager::ManagerError;
use confab_core::session::{GetSessionConfig, SessionService};
use confab_core::sync::Recording;
use leptos::prelude::*;

use super::{ChatStore, new_manager};
use crate::platform::LocalStorageKv;
use crate::platform::local_storage::rehearse;

impl ChatStore {
    /// Rehearses the store's part of a send, after startup has opened the
    /// current conversation (a task of its own, after the first frame).
    pub(super) fn rehearse_send_when_idle(&self) {
        let store = *self;
        request_animation_frame(move || {
            set_timeout(move || store.rehearse_send(), std::time::Duration::ZERO);
        });
    }

    /// What `send` asks of the manager, in the same order and with the same
    /// types, on a manager over an empty map (see `rehearse`): nothing is
    /// read from or written to localStorage and no signal changes.
    fn rehearse_send(&self) {
        let settings = self.settings.get_untracked();
        let user = self.user_id();
        rehearse(|| {
            let recording = Recording::new(LocalStorageKv);
            let mut manager = new_manager(&settings, &recording);
            let steps = |m: &mut super::Manager| -> Result<(), ManagerError> {
                m.clear_session(&user)?;
                let query = m.begin_query_with(&user, "A rehearsal", &[])?;
                let id = query.session.id.as_str();
                m.listing(&user, id)?;
                let options = m.conversation(&user, id)?.options;
                m.begin_call(&user, id, None)?;
                let app = m.app_name().to_owned();
                let session =
                    m.service()
                        .get_session(&app, &user, id, GetSessionConfig::default())?;
                let _ = plan_request(&settings, &options, &session.events, Ask::Reply);
                m.switch_to(&user, id)?;
                Ok(())
            };
            // Nothing to report: a rehearsal that fails leaves nothing behind.
            let _ = steps(&mut manager);
        });
    }
}
