//! Profiles: who is chatting (each an ADK user), switching between them.

use confab_core::notice::NotNow;
use confab_core::profiles::Profiles;
use confab_core::storage::{KvStore, keys};
use leptos::prelude::*;

use super::ChatStore;
use crate::platform::LocalStorageKv;

impl ChatStore {
    /// The ADK user id of the active profile, saved with the profiles before
    /// the agent server first sees it (a browser that never changed its
    /// profiles has none stored, and would get another id on the next load).
    pub(super) fn agent_user(&self) -> String {
        let profiles = self.profiles.get_untracked();
        if matches!(LocalStorageKv.get(keys::PROFILES), Ok(None))
            && let Err(error) = profiles.save(&LocalStorageKv)
        {
            self.report(error);
        }
        profiles.agent_user().to_owned()
    }

    fn save_profiles(&self, profiles: Profiles) -> bool {
        match profiles.save(&LocalStorageKv) {
            Ok(()) => {
                self.profiles.set(profiles);
                true
            }
            Err(error) => {
                self.report(error);
                false
            }
        }
    }

    pub fn switch_profile(&self, id: &str) {
        if self.is_streaming() {
            return self.report(NotNow::SwitchProfileWhileReplying);
        }
        let mut profiles = self.profiles.get_untracked();
        if let Err(error) = profiles.switch(id) {
            return self.report(error);
        }
        if self.save_profiles(profiles) {
            self.enter_profile(false);
        }
    }

    /// Adds a profile and switches to it. Returns whether it was added.
    pub fn add_profile(&self, name: &str) -> bool {
        if self.is_streaming() {
            self.report(NotNow::SwitchProfileWhileReplying);
            return false;
        }
        let mut profiles = self.profiles.get_untracked();
        if let Err(error) = profiles.add(name) {
            self.report(error);
            return false;
        }
        let added = self.save_profiles(profiles);
        if added {
            self.enter_profile(false);
        }
        added
    }

    pub fn rename_profile(&self, name: &str) -> bool {
        let mut profiles = self.profiles.get_untracked();
        let active = profiles.active.clone();
        if let Err(error) = profiles.rename(&active, name) {
            self.report(error);
            return false;
        }
        self.save_profiles(profiles)
    }
}
