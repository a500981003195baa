//! `window.localStorage` as a [`KvStore`], with every failure typed: storage
//! that is switched off is `Unavailable` (where `gloo_storage::LocalStorage::raw`
//! would panic), and a full quota is `QuotaExceeded` (where the browser only
//! throws a generic `DOMException`).
//!
//! The store works on raw strings (values are packed, an unreadable one is
//! moved aside as it is, a failed write must name its key), so it uses the
//! `Storage` object itself; gloo-storage's typed API, which reads and writes
//! JSON, serves the plain-JSON records written outside the store ([`save_json`]).

use std::cell::RefCell;

use confab_core::storage::{KvError, KvStore};
use gloo_storage::Storage as _;
use wasm_bindgen::{JsCast, JsValue};

use super::bulk_store::{self, Place};

thread_local! {
    /// While [`rehearse`] runs, the store's keys: kept here, never in
    /// localStorage.
    static REHEARSAL: RefCell<Option<Vec<(String, String)>>> = const { RefCell::new(None) };
}

thread_local! {
    /// The page's `Storage`, once had: looked up for every read it cost
    /// three calls into JS besides the read's own (12,000 at a profile
    /// switch with 2,000 conversations).
    static STORAGE: RefCell<Option<web_sys::Storage>> = const { RefCell::new(None) };
    /// The store's keys as last listed, kept until the current task ends:
    /// startup and a profile switch list them several times (drafts,
    /// expiry, the sidebar's entries and statuses), 8,000 `key()` calls
    /// each at 2,000 conversations. This tab's own writes keep the list
    /// current; another tab's reach this page in a task of their own,
    /// after it is dropped; a length that no longer matches lists again.
    static KEYS: RefCell<Option<Vec<String>>> = const { RefCell::new(None) };
}

thread_local! {
    /// Values read ahead of a listing ([`read_ahead`]), kept until it is
    /// done ([`forget_read_ahead`]).
    static AHEAD: RefCell<Option<ReadAhead>> = const { RefCell::new(None) };
}

/// The keys under some prefixes and their values, read in tasks of their
/// own and kept current once read: this tab's writes through
/// [`LocalStorageKv`] change it, and another tab's through [`heard`]. A
/// sorted list, not a map: a map of strings would add 3 KB to the first
/// load.
struct ReadAhead {
    generation: u32,
    prefixes: Vec<String>,
    /// By key (`None`: not there).
    values: Vec<(String, Option<String>)>,
    /// Every key listed at the start has been read: reads are answered
    /// from here from now on.
    complete: bool,
}

impl ReadAhead {
    fn holds(&self, key: &str) -> bool {
        self.prefixes
            .iter()
            .any(|prefix| key.starts_with(prefix.as_str()))
    }

    fn at(&self, key: &str) -> Result<usize, usize> {
        self.values.binary_search_by(|(k, _)| k.as_str().cmp(key))
    }
}

/// How many values one task reads ahead: about 2 ms of calls into
/// localStorage.
const READ_AHEAD_SLICE: usize = 500;

/// How a [`read_ahead`] ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReadAheadEnd {
    /// Every value read: reads under its prefixes are answered from it.
    Complete,
    /// Dropped (a key it covers changed while it was reading, or another
    /// tab cleared the store): reads go to localStorage.
    Dropped,
    /// A later read-ahead took its place (a second profile switch), and
    /// its caller lists instead.
    Superseded,
}

/// `op` on the read-ahead `generation`, if it is still the one held.
fn with_read_ahead(generation: u32, op: impl FnOnce(&mut ReadAhead)) -> ReadAheadEnd {
    AHEAD.with_borrow_mut(|ahead| match ahead {
        Some(ahead) if ahead.generation == generation => {
            op(ahead);
            ReadAheadEnd::Complete
        }
        Some(_) => ReadAheadEnd::Superseded,
        None => ReadAheadEnd::Dropped,
    })
}

/// Reads the values of every local key under `prefixes` in tasks of
/// [`READ_AHEAD_SLICE`] keys, after one that lists the keys, and keeps
/// them for the next task's reads (until [`forget_read_ahead`]). At 2,000
/// conversations a listing reads 4,000 entries and statuses, 25-35 ms in
/// one task otherwise. Returns every local key, as listed at the start.
pub async fn read_ahead(prefixes: Vec<String>) -> Result<(Vec<String>, ReadAheadEnd), KvError> {
    let listed = LocalStorageKv.local_keys()?;
    if REHEARSAL.with_borrow(Option::is_some) {
        return Ok((listed, ReadAheadEnd::Dropped));
    }
    let generation = AHEAD.with_borrow(|ahead| ahead.as_ref().map_or(0, |a| a.generation + 1));
    let mut wanted: Vec<String> = listed
        .iter()
        .filter(|key| prefixes.iter().any(|p| key.starts_with(p.as_str())))
        .cloned()
        .collect();
    // Read in order, so the values come sorted.
    confab_core::order::sort_stable_by(&mut wanted, |a, b| a.cmp(b));
    AHEAD.set(Some(ReadAhead {
        generation,
        prefixes,
        values: Vec::with_capacity(wanted.len()),
        complete: false,
    }));
    for slice in wanted.chunks(READ_AHEAD_SLICE) {
        super::http::sleep(0).await;
        let storage = storage()?;
        let mut read = Vec::with_capacity(slice.len());
        for key in slice {
            let value = storage
                .get_item(key)
                .map_err(|e| KvError::Other(describe(&e)))?;
            read.push((key.clone(), value));
        }
        let end = with_read_ahead(generation, |ahead| ahead.values.append(&mut read));
        if end != ReadAheadEnd::Complete {
            return Ok((listed, end));
        }
    }
    Ok((
        listed,
        with_read_ahead(generation, |ahead| ahead.complete = true),
    ))
}

/// Ends the read-ahead: reads go to localStorage again.
pub fn forget_read_ahead() {
    AHEAD.set(None);
}

/// Another tab wrote `key` (`None`: it cleared the store), now holding
/// `value()` (asked only if a read-ahead covers the key): the read-ahead
/// follows, so it answers as localStorage would. A change while it is
/// still reading drops it (rare; the listing then reads localStorage).
pub fn heard(key: Option<&str>, value: impl FnOnce() -> Option<String>) {
    AHEAD.with_borrow_mut(|ahead| {
        let Some(held) = ahead.as_mut() else { return };
        let Some(key) = key.filter(|key| held.holds(key)) else {
            if key.is_none() {
                *ahead = None;
            }
            return;
        };
        if !held.complete {
            *ahead = None;
            return;
        }
        let value = value();
        match held.at(key) {
            Ok(at) => held.values[at].1 = value,
            Err(at) => held.values.insert(at, (key.to_owned(), value)),
        }
    });
}

/// What the read-ahead holds for `key`, if it is complete and covers it:
/// `Some(None)` for a key that is not there.
fn read_ahead_value(key: &str) -> Option<Option<String>> {
    AHEAD.with_borrow(|ahead| {
        let ahead = ahead.as_ref().filter(|a| a.complete && a.holds(key))?;
        Some(ahead.at(key).ok().and_then(|at| ahead.values[at].1.clone()))
    })
}

/// The keys under `prefix`, if a complete read-ahead covers it.
fn read_ahead_keys(prefix: &str) -> Option<Vec<String>> {
    AHEAD.with_borrow(|ahead| {
        let ahead = ahead.as_ref().filter(|a| a.complete && a.holds(prefix))?;
        let from = ahead
            .values
            .partition_point(|(key, _)| key.as_str() < prefix);
        Some(
            ahead.values[from..]
                .iter()
                .take_while(|(key, _)| key.starts_with(prefix))
                .filter(|(_, value)| value.is_some())
                .map(|(key, _)| key.clone())
                .collect(),
        )
    })
}

/// This tab wrote `key` (`None`: removed it): the read-ahead follows.
fn read_ahead_written(key: &str, value: Option<&str>) {
    heard(Some(key), || value.map(str::to_owned));
}

/// `op` on the kept key list, if there is one.
fn kept_keys<R>(op: impl FnOnce(&mut Vec<String>) -> R) -> Option<R> {
    KEYS.with_borrow_mut(|keys| keys.as_mut().map(op))
}

/// `key` was written: it is among the kept keys, if any are kept.
fn note_written(key: &str) {
    kept_keys(|keys| {
        if !keys.iter().any(|k| k == key) {
            keys.push(key.to_owned());
        }
    });
}

/// Keeps `keys` as the store's keys until the current task ends.
fn keep_keys(keys: &[String]) {
    KEYS.set(Some(keys.to_vec()));
    // A microtask runs once the task's code has returned to the browser.
    wasm_bindgen_futures::spawn_local(async { KEYS.set(None) });
}

/// Runs `steps` with every [`LocalStorageKv`] reading and writing an empty
/// map of its own instead of localStorage, dropped at the end: the same
/// code runs as with localStorage (so the browser compiles it), and
/// nothing is stored, seen by other tabs or left behind.
pub fn rehearse<R>(steps: impl FnOnce() -> R) -> R {
    REHEARSAL.set(Some(Vec::new()));
    let result = steps();
    REHEARSAL.set(None);
    result
}

/// `op` on the rehearsal's keys and values, if one is running (a few, so
/// a list: a map's code would weigh more in the bundle).
fn rehearsing<R>(op: impl FnOnce(&mut Vec<(String, String)>) -> R) -> Option<R> {
    REHEARSAL.with_borrow_mut(|map| map.as_mut().map(op))
}

/// A handle to the page's store: localStorage, and from format 6 the bulk
/// store behind it for session bodies and conversation records
/// ([`bulk_store`]: localStorage is their journal until IndexedDB has
/// them). A unit struct: the storage object is kept per thread (the page
/// has one), so the handle is `Send + Sync` and cheap to copy.
#[derive(Clone, Copy, Debug, Default)]
pub struct LocalStorageKv;

fn storage() -> Result<web_sys::Storage, KvError> {
    if let Some(storage) = STORAGE.with_borrow(Clone::clone) {
        return Ok(storage);
    }
    let window = web_sys::window().ok_or_else(|| KvError::Unavailable("no window".into()))?;
    let storage = match window.local_storage() {
        Ok(Some(storage)) => storage,
        Ok(None) => return Err(KvError::Unavailable("localStorage is missing".into())),
        Err(error) => return Err(KvError::Unavailable(describe(&error))),
    };
    STORAGE.set(Some(storage.clone()));
    Ok(storage)
}

/// `name: message` of a thrown DOMException or Error.
fn describe(error: &JsValue) -> String {
    if let Some(exception) = error.dyn_ref::<web_sys::DomException>() {
        return format!("{}: {}", exception.name(), exception.message());
    }
    if let Some(error) = error.dyn_ref::<js_sys::Error>() {
        return format!("{}: {}", error.name(), error.message());
    }
    format!("{error:?}")
}

fn is_quota_error(error: &JsValue) -> bool {
    error
        .dyn_ref::<web_sys::DomException>()
        .is_some_and(|e| is_quota_name(&e.name()))
}

/// Firefox used its own name before standardising.
fn is_quota_name(name: &str) -> bool {
    name == "QuotaExceededError" || name == "NS_ERROR_DOM_QUOTA_REACHED"
}

/// Saves `value` as JSON under `key` (gloo-storage's typed `set`), with its
/// errors typed as the store's.
pub fn save_json<T: serde::Serialize>(key: &str, value: &T) -> Result<(), KvError> {
    // gloo's raw() panics where there is no storage: ask first.
    storage()?;
    note_written(key);
    gloo_storage::LocalStorage::set(key, value).map_err(|error| match error {
        gloo_storage::errors::StorageError::JsError(error) if is_quota_name(&error.name) => {
            KvError::QuotaExceeded {
                key: key.to_owned(),
                bytes: serde_json::to_string(value).map_or(0, |text| text.len()),
            }
        }
        error => KvError::Other(error.to_string()),
    })
}

impl LocalStorageKv {
    /// The keys in localStorage alone: every kind but the bulk store's
    /// (session bodies and conversation records not waiting to move).
    pub fn local_keys(&self) -> Result<Vec<String>, KvError> {
        if let Some(keys) = rehearsing(|map| map.iter().map(|(k, _)| k.clone()).collect()) {
            return Ok(keys);
        }
        let storage = storage()?;
        let length = storage.length().map_err(|e| KvError::Other(describe(&e)))?;
        // A kept list whose length no longer matches was changed past this
        // adapter (a page script, a test clearing the store): listed again.
        if let Some(Some(keys)) =
            kept_keys(|keys| (keys.len() == length as usize).then(|| keys.clone()))
        {
            return Ok(keys);
        }
        // One call, not one `key(i)` each: 4,000 keys at 2,000
        // conversations took 24 ms that way at startup.
        let listed = js_sys::Object::keys(storage.unchecked_ref::<js_sys::Object>());
        let keys: Vec<String> = listed.iter().filter_map(|key| key.as_string()).collect();
        keep_keys(&keys);
        Ok(keys)
    }
}

/// A bulk key read before the held copy is loaded (the store waits for
/// it before any action that reads one).
fn not_loaded(key: &str) -> KvError {
    KvError::NotLoaded(format!("{key} was read before they were"))
}

fn write_error(key: &str, value: &str, error: &JsValue) -> KvError {
    if is_quota_error(error) {
        KvError::QuotaExceeded {
            key: key.to_owned(),
            bytes: value.len(),
        }
    } else {
        KvError::Other(describe(error))
    }
}

impl KvStore for LocalStorageKv {
    fn get(&self, key: &str) -> Result<Option<String>, KvError> {
        if let Some(value) =
            rehearsing(|map| map.iter().find(|(k, _)| k == key).map(|(_, v)| v.clone()))
        {
            return Ok(value);
        }
        if let Some(value) = read_ahead_value(key) {
            return Ok(value);
        }
        let local = storage()?
            .get_item(key)
            .map_err(|e| KvError::Other(describe(&e)))?;
        match bulk_store::place_of(key) {
            Place::Local => Ok(local),
            Place::NotYetLoaded => Err(not_loaded(key)),
            Place::Bulk => Ok(match local {
                Some(value) if value == bulk_store::REMOVED => None,
                Some(value) => Some(value),
                None => bulk_store::held(key),
            }),
        }
    }

    fn set(&self, key: &str, value: &str) -> Result<(), KvError> {
        if rehearsing(|map| {
            map.retain(|(k, _)| k != key);
            map.push((key.to_owned(), value.to_owned()));
        })
        .is_some()
        {
            return Ok(());
        }
        let place = bulk_store::place_of(key);
        if matches!(place, Place::NotYetLoaded) {
            return Err(not_loaded(key));
        }
        storage()?
            .set_item(key, value)
            .map_err(|error| write_error(key, value, &error))?;
        note_written(key);
        read_ahead_written(key, Some(value));
        if matches!(place, Place::Bulk) {
            bulk_store::written(key, value);
        }
        Ok(())
    }

    fn remove(&self, key: &str) -> Result<(), KvError> {
        if rehearsing(|map| map.retain(|(k, _)| k != key)).is_some() {
            return Ok(());
        }
        let storage = storage()?;
        match bulk_store::place_of(key) {
            Place::Local => {
                kept_keys(|keys| keys.retain(|k| k != key));
                read_ahead_written(key, None);
                storage
                    .remove_item(key)
                    .map_err(|e| KvError::Other(describe(&e)))
            }
            Place::NotYetLoaded => Err(not_loaded(key)),
            Place::Bulk => {
                // Marked until the deletion commits (even where this tab
                // holds no value: another tab's may be on its way); with no
                // room even for the mark, removed at once (another tab may
                // then hold the value until it reloads; the index entry
                // says it is gone). Either way the kept key list is off by
                // one, so it is listed again.
                let _ = storage
                    .set_item(key, bulk_store::REMOVED)
                    .or_else(|_| storage.remove_item(key));
                KEYS.set(None);
                bulk_store::removed(key);
                Ok(())
            }
        }
    }

    fn keys(&self) -> Result<Vec<String>, KvError> {
        if let Some(keys) = rehearsing(|map| map.iter().map(|(k, _)| k.clone()).collect()) {
            return Ok(keys);
        }
        if bulk_store::loading() {
            // The bulk keys are not known yet: a list without them would
            // pass for one of a store without those conversations.
            return Err(not_loaded("the list of stored keys"));
        }
        let mut keys = self.local_keys()?;
        let storage = storage()?;
        let held = bulk_store::held_keys();
        if held.is_empty() {
            return Ok(keys);
        }
        // The bulk keys still in localStorage (not moved yet, or marked
        // removed) are the ones both lists may name: few, so a sorted list
        // (a hash set's code would weigh more in the bundle).
        let mut journaled = Vec::new();
        keys.retain(|key| {
            if !confab_core::storage::keys::in_bulk_store(key) {
                return true;
            }
            journaled.push(key.clone());
            storage.get_item(key).ok().flatten().as_deref() != Some(bulk_store::REMOVED)
        });
        confab_core::order::sort_stable_by(&mut journaled, |a, b| a.cmp(b));
        keys.extend(
            held.into_iter()
                .filter(|key| journaled.binary_search(key).is_err()),
        );
        Ok(keys)
    }

    /// Only localStorage's keys where the prefix cannot name a bulk key (a
    /// profile switch at 2,000 conversations lists entries, statuses and
    /// drafts without the 4,000 held keys).
    fn keys_with_prefix(&self, prefix: &str) -> Result<Vec<String>, KvError> {
        if let Some(keys) = read_ahead_keys(prefix) {
            return Ok(keys);
        }
        let may_be_bulk = confab_core::storage::keys::BULK
            .iter()
            .any(|kind| kind.starts_with(prefix) || prefix.starts_with(kind));
        let mut keys = if may_be_bulk {
            self.keys()?
        } else {
            self.local_keys()?
        };
        keys.retain(|key| key.starts_with(prefix));
        Ok(keys)
    }
}
