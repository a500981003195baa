//! The server key at startup: given by flag or environment, else read
//! from the key file (made once, owner-only), else one for this run only.

use std::io::{ErrorKind, Write};
use std::path::{Path, PathBuf};

use super::{MIN_KEY_CHARS, ServerKey, hex};
use crate::config::Config;

/// Random bytes in a generated key file (written as hex).
const KEY_FILE_BYTES: usize = 32;
/// Where the key file lives, under the state folder.
const KEY_FILE_IN_STATE: &str = "confab-proxy/identity-key";

/// Where the server key came from, for the startup log.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum KeySource {
    /// `--identity-key` / `CONFAB_IDENTITY_KEY`.
    Given,
    /// Read from this file.
    File(PathBuf),
    /// Generated now and written to this file.
    Generated(PathBuf),
    /// Random for this run only: identities do not survive a restart.
    Ephemeral,
}

/// The server key for `config`: the one given, else the key file's (made
/// once if missing), else (with a warning) one for this run only. Never
/// fails: a proxy without a writable state folder still starts.
pub fn resolve_key(config: &Config) -> (ServerKey, KeySource) {
    if let Some(key) = &config.identity_key {
        return (ServerKey::new(key.secret().as_bytes()), KeySource::Given);
    }
    let path = config.identity_key_file.clone().or_else(|| {
        default_key_file(
            std::env::var_os("XDG_STATE_HOME").map(PathBuf::from),
            std::env::var_os("HOME").map(PathBuf::from),
        )
    });
    let Some(path) = path else {
        tracing::warn!(
            "neither XDG_STATE_HOME nor HOME is set, so there is no place for the identity key: using a key for this run only (identities will not survive a restart). Set --identity-key-file or CONFAB_IDENTITY_KEY"
        );
        return ephemeral_key();
    };
    match key_from_file(&path) {
        Ok(found) => found,
        Err(reason) => {
            tracing::warn!(
                path = %path.display(),
                reason,
                "cannot use the identity key file: using a key for this run only (identities will not survive a restart). Fix the file, or set --identity-key-file or CONFAB_IDENTITY_KEY"
            );
            ephemeral_key()
        }
    }
}

/// `$XDG_STATE_HOME/confab-proxy/identity-key`, or under
/// `$HOME/.local/state` when XDG_STATE_HOME is unset (or, against the XDG
/// rules, not absolute).
pub fn default_key_file(xdg_state_home: Option<PathBuf>, home: Option<PathBuf>) -> Option<PathBuf> {
    let state = xdg_state_home.filter(|p| p.is_absolute()).or_else(|| {
        home.filter(|h| !h.as_os_str().is_empty())
            .map(|h| h.join(".local/state"))
    })?;
    Some(state.join(KEY_FILE_IN_STATE))
}

fn ephemeral_key() -> (ServerKey, KeySource) {
    let mut bytes = [0u8; KEY_FILE_BYTES];
    // Startup only. Without the OS's randomness no key would be secret.
    getrandom::fill(&mut bytes).expect("the operating system's random number generator failed");
    (ServerKey::new(&bytes), KeySource::Ephemeral)
}

/// Reads the key file, or creates it (and its folder) if it does not exist.
fn key_from_file(path: &Path) -> Result<(ServerKey, KeySource), String> {
    match read_key_file(path) {
        Ok(key) => return Ok((key, KeySource::File(path.to_owned()))),
        Err(e) if e.kind() == ErrorKind::NotFound => {}
        Err(e) => return Err(e.to_string()),
    }
    let mut bytes = [0u8; KEY_FILE_BYTES];
    getrandom::fill(&mut bytes).map_err(|e| e.to_string())?;
    let text = hex(&bytes);
    match write_new_key_file(path, &text) {
        Ok(()) => Ok((
            ServerKey::new(text.as_bytes()),
            KeySource::Generated(path.to_owned()),
        )),
        // Another process made it first: use theirs.
        Err(e) if e.kind() == ErrorKind::AlreadyExists => read_key_file(path)
            .map(|key| (key, KeySource::File(path.to_owned())))
            .map_err(|e| e.to_string()),
        Err(e) => Err(e.to_string()),
    }
}

fn read_key_file(path: &Path) -> std::io::Result<ServerKey> {
    let text = std::fs::read_to_string(path)?;
    let key = text.trim();
    if key.chars().count() < MIN_KEY_CHARS {
        return Err(std::io::Error::new(
            ErrorKind::InvalidData,
            format!("it holds fewer than {MIN_KEY_CHARS} characters"),
        ));
    }
    Ok(ServerKey::new(key.as_bytes()))
}

/// Creates `path` with `text`, readable by its owner only; fails if it
/// exists. The folder is made (owner only) if needed.
fn write_new_key_file(path: &Path, text: &str) -> std::io::Result<()> {
    if let Some(folder) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        let mut builder = std::fs::DirBuilder::new();
        builder.recursive(true);
        #[cfg(unix)]
        std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
        builder.create(folder)?;
    }
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(path)?;
    let written = file
        .write_all(format!("{text}\n").as_bytes())
        .and_then(|()| file.sync_all());
    if written.is_err() {
        // Do not leave a short key behind for the next start to refuse.
        let _ = std::fs::remove_file(path);
    }
    written
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_key_file_follows_xdg() {
        let home = Some(PathBuf::from("/home/ada"));
        assert_eq!(
            default_key_file(Some("/state".into()), home.clone()),
            Some(PathBuf::from("/state/confab-proxy/identity-key"))
        );
        assert_eq!(
            default_key_file(None, home.clone()),
            Some(PathBuf::from(
                "/home/ada/.local/state/confab-proxy/identity-key"
            ))
        );
        assert_eq!(
            default_key_file(Some("relative".into()), home),
            Some(PathBuf::from(
                "/home/ada/.local/state/confab-proxy/identity-key"
            ))
        );
        assert_eq!(default_key_file(None, None), None);
    }
}
