//! User profiles: who is chatting. Each profile is an ADK `user_id` with
//! its own sessions and `user:` state; the active one is remembered.

use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::settings::DEFAULT_USER;
use crate::storage::{KvError, KvStore, keys, read_json, write_json};

pub const MAX_NAME_CHARS: usize = 40;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Profile {
    /// The user id of this browser's sessions (in its storage keys).
    pub id: String,
    pub name: String,
    /// The ADK user id the agent server knows this profile by: random, so
    /// no two browsers share one (the storage id of the first profile is
    /// `local` in every browser). Given to profiles stored without one.
    #[serde(
        default,
        rename = "agentUser",
        skip_serializing_if = "String::is_empty"
    )]
    pub agent_user: String,
}

/// A new ADK user id: `u-` and 24 hex digits (96 random bits), within the
/// characters confab-proxy accepts in a user id.
fn new_agent_user() -> String {
    format!("u-{}", &uuid::Uuid::new_v4().simple().to_string()[..24])
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Profiles {
    pub active: String,
    pub profiles: Vec<Profile>,
}

#[derive(Clone, Debug, Error, PartialEq)]
pub enum ProfileError {
    #[error("a profile needs a name of 1 to {MAX_NAME_CHARS} characters")]
    BadName,
    #[error("there is no profile with id {0}")]
    Unknown(String),
    #[error(transparent)]
    Storage(#[from] KvError),
}

impl Default for Profiles {
    /// One profile, the user this browser had before profiles existed.
    fn default() -> Self {
        Self {
            active: DEFAULT_USER.to_owned(),
            profiles: vec![Profile {
                id: DEFAULT_USER.to_owned(),
                name: "Me".to_owned(),
                agent_user: new_agent_user(),
            }],
        }
    }
}

fn clean_name(name: &str) -> Result<String, ProfileError> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > MAX_NAME_CHARS {
        return Err(ProfileError::BadName);
    }
    Ok(name.to_owned())
}

impl Profiles {
    /// The stored profiles; none stored (or unreadable) gives the default.
    /// Profiles stored before they had an ADK user id get one, and are
    /// saved with it at once (the agent server must see the same id next
    /// time; an agent conversation made under the old, shared one is
    /// restored under the new one from its local copy, as after a server
    /// restart).
    pub fn load(kv: &impl KvStore) -> Result<Self, ProfileError> {
        let (mut profiles, stored) = Self::read(kv)?;
        let mut given = false;
        for profile in profiles
            .profiles
            .iter_mut()
            .filter(|p| p.agent_user.is_empty())
        {
            profile.agent_user = new_agent_user();
            given = true;
        }
        // Only over a record that was read: an unreadable one is left as
        // it is, and none at all is written on first use (`save`).
        if given && stored {
            profiles.save(kv)?;
        }
        Ok(profiles)
    }

    /// The profiles, and whether they were read from a stored record.
    fn read(kv: &impl KvStore) -> Result<(Self, bool), ProfileError> {
        let (mut profiles, stored) = match read_json::<Profiles>(kv, keys::PROFILES) {
            Ok(Some(stored)) => (stored, true),
            Ok(None) | Err(KvError::Corrupt { .. }) => (Profiles::default(), false),
            Err(error) => return Err(error.into()),
        };
        if profiles.profiles.is_empty() {
            profiles = Profiles::default();
        }
        if profiles.get(&profiles.active).is_none() {
            profiles.active = profiles.profiles[0].id.clone();
        }
        Ok((profiles, stored))
    }

    pub fn save(&self, kv: &impl KvStore) -> Result<(), ProfileError> {
        Ok(write_json(kv, keys::PROFILES, self)?)
    }

    pub fn get(&self, id: &str) -> Option<&Profile> {
        self.profiles.iter().find(|p| p.id == id)
    }

    pub fn active_profile(&self) -> &Profile {
        self.get(&self.active).unwrap_or(&self.profiles[0])
    }

    /// The ADK user id of the active profile.
    pub fn agent_user(&self) -> &str {
        &self.active_profile().agent_user
    }

    /// Adds a profile and makes it active; returns its id.
    pub fn add(&mut self, name: &str) -> Result<String, ProfileError> {
        let name = clean_name(name)?;
        let id = format!("user-{}", &uuid::Uuid::new_v4().simple().to_string()[..8]);
        self.profiles.push(Profile {
            id: id.clone(),
            name,
            agent_user: new_agent_user(),
        });
        self.active = id.clone();
        Ok(id)
    }

    pub fn rename(&mut self, id: &str, name: &str) -> Result<(), ProfileError> {
        let name = clean_name(name)?;
        let profile = self
            .profiles
            .iter_mut()
            .find(|p| p.id == id)
            .ok_or_else(|| ProfileError::Unknown(id.to_owned()))?;
        profile.name = name;
        Ok(())
    }

    pub fn switch(&mut self, id: &str) -> Result<(), ProfileError> {
        if self.get(id).is_none() {
            return Err(ProfileError::Unknown(id.to_owned()));
        }
        self.active = id.to_owned();
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::MemoryKv;

    #[test]
    fn the_default_is_the_pre_profile_user() {
        let kv = MemoryKv::new();
        let profiles = Profiles::load(&kv).unwrap();
        assert_eq!(profiles.active, DEFAULT_USER);
        assert_eq!(profiles.active_profile().name, "Me");
    }

    #[test]
    fn add_rename_switch_and_persist() {
        let kv = MemoryKv::new();
        let mut profiles = Profiles::load(&kv).unwrap();
        let ada = profiles.add("  Ada ").unwrap();
        assert!(ada.starts_with("user-") && ada.len() == 13);
        assert_eq!(profiles.active, ada, "a new profile becomes active");
        profiles.rename(&ada, "Ada L.").unwrap();
        profiles.switch(DEFAULT_USER).unwrap();
        profiles.save(&kv).unwrap();
        let loaded = Profiles::load(&kv).unwrap();
        assert_eq!(loaded, profiles);
        assert_eq!(loaded.get(&ada).unwrap().name, "Ada L.");
        assert_eq!(loaded.active, DEFAULT_USER);
    }

    #[test]
    fn bad_names_and_unknown_ids_are_refused() {
        let mut profiles = Profiles::default();
        assert_eq!(profiles.add("   "), Err(ProfileError::BadName));
        assert_eq!(profiles.add(&"x".repeat(41)), Err(ProfileError::BadName));
        assert!(matches!(
            profiles.switch("nobody"),
            Err(ProfileError::Unknown(_))
        ));
        assert!(matches!(
            profiles.rename("nobody", "x"),
            Err(ProfileError::Unknown(_))
        ));
        assert_eq!(profiles.profiles.len(), 1);
    }

    #[test]
    fn every_profile_has_an_adk_user_of_its_own_and_old_records_get_one() {
        let (a, b) = (Profiles::default(), Profiles::default());
        assert_ne!(a.agent_user(), b.agent_user(), "two browsers, two users");
        assert!(a.agent_user().starts_with("u-") && a.agent_user().len() == 26);
        let mut c = a.clone();
        let id = c.add("Other").unwrap();
        assert_ne!(c.get(&id).unwrap().agent_user, a.agent_user());

        // A record from before: the shared `local`, no ADK user.
        let kv = MemoryKv::new();
        let old = r#"{"active":"local","profiles":[{"id":"local","name":"Me"},{"id":"user-1","name":"B"}]}"#;
        kv.set(keys::PROFILES, old).unwrap();
        let loaded = Profiles::load(&kv).unwrap();
        assert_eq!(loaded.active, DEFAULT_USER, "the storage id stays");
        let users: Vec<&str> = loaded
            .profiles
            .iter()
            .map(|p| p.agent_user.as_str())
            .collect();
        assert!(users.iter().all(|u| u.starts_with("u-")) && users[0] != users[1]);
        // Saved at once: the next load (another tab) sees the same ids.
        assert_eq!(Profiles::load(&kv).unwrap(), loaded);
        // Nothing stored: nothing written (never write before reading).
        let empty = MemoryKv::new();
        Profiles::load(&empty).unwrap();
        assert_eq!(empty.get(keys::PROFILES).unwrap(), None);
    }

    #[test]
    fn a_corrupt_or_dangling_record_falls_back_safely() {
        let kv = MemoryKv::new();
        kv.set(keys::PROFILES, "{broken").unwrap();
        let fallback = Profiles::load(&kv).unwrap();
        assert_eq!(fallback.active, DEFAULT_USER);
        assert_eq!(fallback.profiles.len(), 1);
        assert_eq!(
            kv.get(keys::PROFILES).unwrap().as_deref(),
            Some("{broken"),
            "left as it was"
        );
        let dangling = r#"{"active":"gone","profiles":[{"id":"a","name":"A"}]}"#;
        kv.set(keys::PROFILES, dangling).unwrap();
        assert_eq!(Profiles::load(&kv).unwrap().active, "a");
    }
}
