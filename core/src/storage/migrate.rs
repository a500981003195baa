//! Schema migrations. Each schema version has a migration from the one
//! before it: a pure function from the old store (every data key and its
//! text) to the new one, tested with stored fixtures of the old format.
//!
//! [`run`] applies them safely: a backup of the old store is written first
//! (no room for it: nothing is touched), the new store is written with the
//! version key last, read back and compared, and only then is the backup
//! dropped. A run cut short (a closed tab) is undone from the backup at the
//! next start and tried again. A store from a newer version is left alone.

use std::collections::BTreeMap;

use serde_json::{Map, Value, json};
use thiserror::Error;

use super::{KvError, KvStore, inline, keys, packed, stored_schema};

/// Every data key of a store and its text.
pub type Store = BTreeMap<String, String>;

struct Migration {
    step: fn(&Store) -> Result<Store, String>,
    /// The step only changes how values are stored, not what they say:
    /// every new value reads back as the old one, and the new version reads
    /// the old encoding too. Such a step runs key by key without a backup
    /// (each write is whole or not at all, and a store part-way through is
    /// readable), so it works even when there is no room for a copy.
    encoding_only: bool,
}

/// `MIGRATIONS[i]` turns schema `i + 1` into schema `i + 2`.
const MIGRATIONS: &[Migration] = &[
    Migration {
        step: v1_to_v2,
        encoding_only: false,
    },
    Migration {
        step: v2_to_v3,
        encoding_only: true,
    },
    Migration {
        step: v3_to_v4,
        encoding_only: false,
    },
    Migration {
        step: v4_to_v5,
        encoding_only: false,
    },
    Migration {
        step: v5_to_v6,
        encoding_only: true,
    },
];

#[derive(Clone, Debug, Error, PartialEq)]
pub enum MigrationError {
    #[error(
        "the stored conversations were written by a newer version of Confab (format {found}; this version reads {supported}); they were left untouched, so open them with a newer Confab"
    )]
    Newer { found: u32, supported: u32 },
    #[error(
        "the stored conversations need upgrading from format {from}, but there is no room for the safety copy ({error}); nothing was changed. Export your conversations or free browser storage, then reload"
    )]
    NoRoomForBackup { from: u32, error: KvError },
    #[error(
        "upgrading the stored conversations from format {from} failed ({reason}); they were restored as they were"
    )]
    Failed { from: u32, reason: String },
    /// The app could not get the upgrade's code (it is fetched on demand).
    #[error(
        "the stored conversations need upgrading, but the code that does it could not be loaded ({reason}); nothing was changed. Check the connection, then reload"
    )]
    Unavailable { reason: String },
    #[error(transparent)]
    Storage(#[from] KvError),
}

/// What a run did.
#[derive(Clone, Debug, PartialEq)]
pub struct MigrationReport {
    pub from: u32,
    pub to: u32,
    /// A previous run had been cut short and was undone first.
    pub recovered: bool,
}

/// Schema 1 → 2: the version moves from the index into `confab:meta`, the
/// index gains tombstones, and `app:`/`user:` keys that schema 1 kept in
/// session bodies move to the shared app and user state, where schema 2
/// keeps them (a value already there is newer and wins).
pub fn v1_to_v2(old: &Store) -> Result<Store, String> {
    let mut new = old.clone();
    if let Some(text) = old.get(keys::INDEX)
        && let Ok(Value::Object(mut index)) = serde_json::from_str::<Value>(text)
    {
        index.remove("schema");
        index.entry("tombstones").or_insert_with(|| json!([]));
        new.insert(keys::INDEX.to_owned(), Value::Object(index).to_string());
    }
    let session_prefix = format!("{}session:", keys::PREFIX);
    for (key, text) in old.iter().filter(|(k, _)| k.starts_with(&session_prefix)) {
        // An unreadable body is left for the reader to move aside.
        let Ok(Value::Object(mut body)) = serde_json::from_str::<Value>(text) else {
            continue;
        };
        let (Some(app), Some(user)) = (
            body.get("appName")
                .and_then(Value::as_str)
                .map(str::to_owned),
            body.get("userId")
                .and_then(Value::as_str)
                .map(str::to_owned),
        ) else {
            continue;
        };
        let Some(Value::Object(state)) = body.get_mut("state") else {
            continue;
        };
        let shared: Vec<(String, Value)> = state
            .iter()
            .filter(|(k, _)| k.starts_with("app:") || k.starts_with("user:"))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        if shared.is_empty() {
            continue;
        }
        for (prefixed, value) in shared {
            state.remove(&prefixed);
            let (target, name) = match prefixed.strip_prefix("app:") {
                Some(name) => (keys::app_state(&app), name.to_owned()),
                None => (
                    keys::user_state(&app, &user),
                    prefixed["user:".len()..].to_owned(),
                ),
            };
            let mut scope: Map<String, Value> = new
                .get(&target)
                .and_then(|t| serde_json::from_str(t).ok())
                .unwrap_or_default();
            scope.entry(name).or_insert(value);
            new.insert(target, Value::Object(scope).to_string());
        }
        new.insert(key.clone(), Value::Object(body).to_string());
    }
    new.insert(keys::META.to_owned(), json!({ "schema": 2 }).to_string());
    Ok(new)
}

/// Schema 2 → 3: session bodies and conversation records are stored packed
/// (compressed, see [`super::packed`]); what they say is unchanged.
pub fn v2_to_v3(old: &Store) -> Result<Store, String> {
    let mut new = old.clone();
    for (key, text) in old.iter().filter(|(k, _)| packed::is_packed_key(k)) {
        // Already packed (a run cut short): left as it is.
        if !text.starts_with(packed::MARK) {
            new.insert(key.clone(), packed::pack(text));
        }
    }
    new.insert(keys::META.to_owned(), json!({ "schema": 3 }).to_string());
    Ok(new)
}

/// Schema 3 → 4: bytes leave localStorage. Every `inlineData` part in a
/// session body (an agent's chart, ~100 KB of base64 each; fifty fill the
/// quota) becomes an attachment reference, and its bytes wait under
/// [`keys::blob_pending`] until the browser moves them into IndexedDB. Each
/// summary in the index lists the hashes its session refers to, which is
/// what the blob store's garbage collection reads.
pub fn v3_to_v4(old: &Store) -> Result<Store, String> {
    let mut new = old.clone();
    let session_prefix = format!("{}session:", keys::PREFIX);
    let mut referenced: BTreeMap<&str, Vec<String>> = BTreeMap::new();
    for (key, text) in old.iter().filter(|(k, _)| k.starts_with(&session_prefix)) {
        // An unreadable body is left for the reader to move aside.
        let Ok(plain) = packed::unpack(text) else {
            continue;
        };
        let Ok(mut body) = serde_json::from_str::<Value>(&plain) else {
            continue;
        };
        let mut blobs = Vec::new();
        if let Some(events) = body.get_mut("events").and_then(Value::as_array_mut) {
            for event in events {
                blobs.extend(inline::offload_event(event, "reply"));
            }
        }
        for blob in &blobs {
            let pending = keys::blob_pending(&blob.sha256);
            let value = super::stored_form(&pending, inline::pending_value(blob));
            new.insert(pending, value);
        }
        if !blobs.is_empty() {
            new.insert(key.clone(), super::stored_form(key, body.to_string()));
        }
        referenced.insert(key, inline::referenced_hashes(&body));
    }
    if let Some(text) = old.get(keys::INDEX)
        && let Ok(mut index) = serde_json::from_str::<Value>(text)
    {
        let mut changed = false;
        let summaries = index.get_mut("sessions").and_then(Value::as_array_mut);
        for summary in summaries.into_iter().flatten() {
            let field = |name: &str| summary.get(name).and_then(Value::as_str).unwrap_or("");
            let key = keys::session(field("appName"), field("userId"), field("id"));
            let Some(hashes) = referenced.get(key.as_str()) else {
                continue;
            };
            let Some(summary) = summary.as_object_mut() else {
                continue;
            };
            let wanted = (!hashes.is_empty()).then(|| json!(hashes));
            if summary.get("attachments") != wanted.as_ref() {
                changed = true;
                match wanted {
                    Some(list) => summary.insert("attachments".to_owned(), list),
                    None => summary.remove("attachments"),
                };
            }
        }
        if changed {
            new.insert(keys::INDEX.to_owned(), index.to_string());
        }
    }
    new.insert(keys::META.to_owned(), json!({ "schema": 4 }).to_string());
    Ok(new)
}

/// Schema 4 → 5: the index, one value rewritten whole on every change to
/// any conversation, becomes one entry per session
/// ([`keys::index_entry`]): `{"listed": summary}` for each summary,
/// `{"deleted": tombstone}` for each tombstone (a session both listed and
/// tombstoned is deleted, as the format-4 reader took it). An index that
/// does not read as format 4's (or names a session without its app, user
/// and id) is left under its key: the format-5 reader moves it aside,
/// reports it, and lists the sessions from their bodies, as the format-4
/// reader did with an unreadable index.
///
/// The same for the manager's user records: each conversation's status
/// moves to its own key ([`keys::status`]; of two for one conversation the
/// first, as the format-4 reader found it), and the record keeps the
/// current session. A record that does not read is left for the reader.
pub fn v4_to_v5(old: &Store) -> Result<Store, String> {
    let mut new = old.clone();
    if let Some(entries) = old.get(keys::INDEX).and_then(|text| index_entries(text)) {
        new.remove(keys::INDEX);
        new.extend(entries);
    }
    let users = format!("{}user:", keys::PREFIX);
    for (key, text) in old.iter().filter(|(k, _)| k.starts_with(&users)) {
        if let Some((record, statuses)) = split_user_record(key, text) {
            new.insert(key.clone(), record);
            for (status_key, status) in statuses {
                new.entry(status_key).or_insert(status);
            }
        }
    }
    new.insert(keys::META.to_owned(), json!({ "schema": 5 }).to_string());
    Ok(new)
}

/// Format 6 keeps session bodies and conversation records in the browser's
/// bulk store (`keys::BULK`) instead of localStorage. Where a value lives is
/// the storage adapter's business: the browser's moves each such value
/// there, and deletes it from localStorage only once it is stored, so the
/// step itself changes only the version (an older Confab must not read a
/// store whose bodies it cannot see).
pub fn v5_to_v6(old: &Store) -> Result<Store, String> {
    let mut new = old.clone();
    new.insert(keys::META.to_owned(), json!({ "schema": 6 }).to_string());
    Ok(new)
}

/// A format-4 user record under `key` as format 5 stores it: the record
/// without its statuses, and each status's key and text (in the record's
/// order); `None` if it does not read or lists no statuses.
fn split_user_record(key: &str, text: &str) -> Option<(String, Vec<(String, String)>)> {
    let Value::Object(mut record) = serde_json::from_str::<Value>(text).ok()? else {
        return None;
    };
    let Value::Array(listed) = record.remove("conversations")? else {
        return None;
    };
    let mut statuses = Vec::with_capacity(listed.len());
    for status in listed {
        let session_id = status.get("sessionId").and_then(Value::as_str)?;
        statuses.push((keys::status_beside(key, session_id)?, status.to_string()));
    }
    Some((Value::Object(record).to_string(), statuses))
}

/// The format-5 entries of a format-4 index (key and text), tombstones
/// last so they win; `None` if it does not read.
fn index_entries(text: &str) -> Option<Vec<(String, String)>> {
    let index: Value = serde_json::from_str(&packed::unpack(text).ok()?).ok()?;
    let mut entries = Vec::new();
    for (list, kind) in [("sessions", "listed"), ("tombstones", "deleted")] {
        let items = match index.get(list) {
            None => continue,
            Some(items) => items.as_array()?,
        };
        for item in items {
            let field = |name: &str| item.get(name).and_then(Value::as_str);
            let key = keys::index_entry(field("appName")?, field("userId")?, field("id")?);
            entries.push((key, json!({ kind: item }).to_string()));
        }
    }
    Some(entries)
}

/// The steps from schema `from` to the current one.
fn steps_from(from: u32) -> Result<&'static [Migration], String> {
    MIGRATIONS
        .get(from as usize - 1..)
        .filter(|steps| from >= 1 && steps.len() == (keys::SCHEMA_VERSION - from) as usize)
        .ok_or_else(|| format!("no migration from format {from}"))
}

/// Applies every migration from schema `from` to the current one.
pub fn migrate(store: &Store, from: u32) -> Result<Store, String> {
    migrate_to(store, from, keys::SCHEMA_VERSION)
}

/// Applies the migrations from schema `from` to schema `to`.
fn migrate_to(store: &Store, from: u32, to: u32) -> Result<Store, String> {
    let mut store = store.clone();
    for migration in steps_from(from)?.iter().take((to - from) as usize) {
        store = (migration.step)(&store)?;
    }
    Ok(store)
}

/// How far the steps from `from` can go without a backup: the version
/// reached while each step only re-encodes, or has nothing to change in
/// this store but the version (a store with no inline bytes needs no copy
/// to move none). Those steps run first, in place: packing frees the room
/// the backup of a later step needs.
fn in_place_until(old: &Store, from: u32) -> Result<u32, String> {
    let mut store = old.clone();
    let mut reached = from;
    for migration in steps_from(from)? {
        let next = (migration.step)(&store)?;
        let same_but_version = next.len() == store.len()
            && next
                .iter()
                .all(|(k, v)| k == keys::META || store.get(k) == Some(v));
        if !migration.encoding_only && !same_but_version {
            break;
        }
        store = next;
        reached += 1;
    }
    Ok(reached)
}

fn backup_key(version: u32) -> String {
    format!("{}v{version}", keys::BACKUP_PREFIX)
}

fn read_store(kv: &impl KvStore) -> Result<Store, KvError> {
    let mut store = Store::new();
    for key in kv.keys()?.into_iter().filter(|k| keys::is_data_key(k)) {
        if let Some(text) = kv.get(&key)? {
            store.insert(key, text);
        }
    }
    Ok(store)
}

/// Makes the data keys equal `target`: writes what differs, removes what is
/// not in it. The version key goes last.
fn write_store(kv: &impl KvStore, target: &Store) -> Result<(), KvError> {
    let current = read_store(kv)?;
    for key in current.keys().filter(|k| !target.contains_key(*k)) {
        kv.remove(key)?;
    }
    for (key, text) in target.iter().filter(|(k, _)| *k != keys::META) {
        if current.get(key) != Some(text) {
            kv.set(key, text)?;
        }
    }
    match target.get(keys::META) {
        Some(meta) => kv.set(keys::META, meta),
        None => kv.remove(keys::META),
    }
}

/// Runs encoding-only steps (from `from` to `to`) in place: the version
/// first (the new version reads both encodings, an older one must not read
/// the new), then each value that changes. A value that cannot be rewritten
/// (no room) stays in the old encoding, which reads just as well.
fn reencode(kv: &impl KvStore, old: &Store, from: u32, to: u32) -> Result<(), MigrationError> {
    let new =
        migrate_to(old, from, to).map_err(|reason| MigrationError::Failed { from, reason })?;
    if let Some(meta) = new.get(keys::META) {
        kv.set(keys::META, meta)?;
    }
    for (key, text) in new.iter().filter(|(k, _)| *k != keys::META) {
        if old.get(key) != Some(text) {
            let _ = kv.set(key, text);
        }
    }
    Ok(())
}

/// Puts the store back as the backup under `key` has it, then drops it.
fn restore(kv: &impl KvStore, key: &str) -> Result<(), MigrationError> {
    let text = kv.get(key)?.unwrap_or_default();
    let store: Store = serde_json::from_str(&text).map_err(|e| MigrationError::Failed {
        from: 0,
        reason: format!("the safety copy {key} is unreadable: {e}"),
    })?;
    write_store(kv, &store)?;
    kv.remove(key)?;
    Ok(())
}

/// Brings the store to the current schema, if it is older. `Ok(None)`: it
/// already was (or is empty).
pub fn run(kv: &impl KvStore) -> Result<Option<MigrationReport>, MigrationError> {
    run_among(kv, &kv.keys()?)
}

/// Whether [`run_among`] has anything to do: a backup of an interrupted
/// upgrade to restore, or a stored format other than this version's. Cheap
/// (one read), so the app fetches the upgrade's code only when it is.
pub fn pending(kv: &impl KvStore, listed: &[String]) -> Result<bool, KvError> {
    if listed.iter().any(|k| k.starts_with(keys::BACKUP_PREFIX)) {
        return Ok(true);
    }
    Ok(!matches!(
        stored_schema(kv)?,
        None | Some(keys::SCHEMA_VERSION)
    ))
}

/// [`run`] with the store's keys already listed (as they are now): startup
/// lists them once for this and for [`pending`].
pub fn run_among(
    kv: &impl KvStore,
    listed: &[String],
) -> Result<Option<MigrationReport>, MigrationError> {
    let pending = listed
        .iter()
        .find(|k| k.starts_with(keys::BACKUP_PREFIX))
        .cloned();
    let recovered = pending.is_some();
    if let Some(backup) = pending {
        restore(kv, &backup)?;
    }
    let from = match stored_schema(kv)? {
        None | Some(keys::SCHEMA_VERSION) => return Ok(None),
        Some(found) if found > keys::SCHEMA_VERSION => {
            return Err(MigrationError::Newer {
                found,
                supported: keys::SCHEMA_VERSION,
            });
        }
        Some(found) => found,
    };
    let first = from;
    let mut old = read_store(kv)?;
    let from = in_place_until(&old, from).map_err(|reason| MigrationError::Failed {
        from,
        reason: reason.clone(),
    })?;
    if from > first {
        reencode(kv, &old, first, from)?;
        old = read_store(kv)?;
    }
    let report = MigrationReport {
        from: first,
        to: keys::SCHEMA_VERSION,
        recovered,
    };
    if from == keys::SCHEMA_VERSION {
        return Ok(Some(report));
    }
    let backup = backup_key(from);
    let copy = serde_json::to_string(&old).map_err(|e| KvError::Other(e.to_string()))?;
    if let Err(error) = kv.set(&backup, &copy) {
        return Err(MigrationError::NoRoomForBackup { from, error });
    }
    let fail = |reason: String| -> MigrationError {
        match restore(kv, &backup) {
            Ok(()) => MigrationError::Failed { from, reason },
            Err(error) => error,
        }
    };
    let new = migrate(&old, from).map_err(fail)?;
    if let Err(error) = write_store(kv, &new) {
        return Err(fail(error.to_string()));
    }
    match read_store(kv) {
        Ok(written) if written == new => {}
        Ok(_) => return Err(fail("the upgraded store did not read back the same".into())),
        Err(error) => return Err(fail(error.to_string())),
    }
    kv.remove(&backup)?;
    Ok(Some(report))
}
