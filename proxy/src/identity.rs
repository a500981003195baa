//! Who is calling: an unguessable identity per browser, so one deployment
//! can serve many people without one reading another's agent sessions.
//!
//! - Cookie mode (the default): each browser gets a random 128-bit id in
//!   the `confab_identity` cookie, signed with HMAC-SHA256 under the
//!   server key: `v1.<id: 32 hex>.<issued: unix seconds>.<mac: 64 hex>`.
//!   The page never reads it (`HttpOnly`); the browser sends it back.
//! - Trusted-header mode (`--trust-user-header NAME`): an authenticating
//!   reverse proxy in front names the person in a header, and the identity
//!   is derived from it, the same on every device. No cookie is issued.
//!
//! The parsing, signing and checking are pure functions of their inputs
//! (the time is passed in); [`identify`] is the middleware that applies
//! them to a request, and [`resolve_key`] finds the server key at startup.

use std::fmt;
use std::io::{ErrorKind, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::extract::{Request, State};
use axum::http::header::{self, HeaderMap, HeaderName, HeaderValue};
use axum::middleware::Next;
use axum::response::Response;
use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::config::Config;

/// The cookie's name.
pub const COOKIE_NAME: &str = "confab_identity";
/// How long the browser keeps the cookie: 400 days, the most Chromium
/// allows (a longer Max-Age is cut to it).
pub const COOKIE_MAX_AGE: Duration = Duration::from_secs(400 * 24 * 3600);
/// A key given by flag or environment is at least this long.
pub const MIN_KEY_CHARS: usize = 32;
/// The format version at the start of a cookie value.
const VERSION: &str = "v1";
/// Random bytes in an identity (128 bits).
const ID_BYTES: usize = 16;
/// Random bytes in a generated key file (written as hex).
const KEY_FILE_BYTES: usize = 32;
/// Where the key file lives, under the state folder.
const KEY_FILE_IN_STATE: &str = "confab-proxy/identity-key";

type HmacSha256 = Hmac<Sha256>;

/// One person (or one browser, in cookie mode): 32 lowercase hex digits.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Identity(String);

impl Identity {
    /// `text`, if it has the form of an identity.
    pub fn parse(text: &str) -> Option<Self> {
        (text.len() == 2 * ID_BYTES && text.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')))
            .then(|| Self(text.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Identity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Who sent a request, as the middleware found out; in every request's
/// extensions.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Caller {
    /// A valid identity cookie.
    Cookie(Identity),
    /// The person the trusted header names.
    Vouched(Identity),
    /// Cookie mode, and no valid cookie (none, forged, malformed or
    /// expired): a fresh one goes out with this request's answer.
    NoCookie,
    /// Trusted-header mode, and the header is missing or empty.
    NoHeader(HeaderName),
}

impl Caller {
    pub fn identity(&self) -> Option<&Identity> {
        match self {
            Self::Cookie(identity) | Self::Vouched(identity) => Some(identity),
            Self::NoCookie | Self::NoHeader(_) => None,
        }
    }
}

/// The server key: signs cookies, derives identities from the trusted
/// header. Never printed.
#[derive(Clone)]
pub struct ServerKey(Arc<[u8]>);

impl ServerKey {
    pub fn new(bytes: &[u8]) -> Self {
        Self(bytes.into())
    }

    fn mac(&self) -> HmacSha256 {
        // HMAC takes a key of any length; this never fails.
        HmacSha256::new_from_slice(&self.0).unwrap_or_else(|_| unreachable!())
    }
}

impl fmt::Debug for ServerKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ServerKey(***)")
    }
}

/// Why a cookie value is not a valid identity.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Rejected {
    /// Not `v1.<id>.<issued>.<mac>`.
    Malformed,
    /// The MAC does not match: forged, tampered with, or signed under
    /// another key.
    BadSignature,
    /// Older than the maximum age.
    Expired,
}

/// Signs and checks identities under one key.
#[derive(Clone, Debug)]
pub struct Identities {
    key: ServerKey,
    /// Cookies older than this are not valid.
    max_age: Option<Duration>,
    /// Trusted-header mode: the header naming the person.
    user_header: Option<HeaderName>,
}

impl Identities {
    pub fn new(key: ServerKey, max_age: Option<Duration>, user_header: Option<HeaderName>) -> Self {
        Self {
            key,
            max_age,
            user_header,
        }
    }

    /// The cookie value for identity `id` issued at `issued` (unix seconds).
    pub fn cookie_value(&self, id: &Identity, issued: u64) -> String {
        let signed = format!("{VERSION}.{id}.{issued}");
        let mut mac = self.key.mac();
        mac.update(signed.as_bytes());
        format!("{signed}.{}", hex(&mac.finalize().into_bytes()))
    }

    /// The identity in cookie value `value`, checked at `now` (unix seconds).
    pub fn verify(&self, value: &str, now: u64) -> Result<Identity, Rejected> {
        let mut parts = value.split('.');
        let (Some(VERSION), Some(id), Some(issued), Some(mac), None) = (
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
        ) else {
            return Err(Rejected::Malformed);
        };
        let id = Identity::parse(id).ok_or(Rejected::Malformed)?;
        // Digits only (`parse` would take a `+`), and no more than a u64 holds.
        if issued.is_empty() || issued.len() > 20 || !issued.bytes().all(|b| b.is_ascii_digit()) {
            return Err(Rejected::Malformed);
        }
        let issued_at: u64 = issued.parse().map_err(|_| Rejected::Malformed)?;
        let mac_bytes = unhex(mac).ok_or(Rejected::Malformed)?;
        let signed = &value[..value.len() - mac.len() - 1];
        let mut expected = self.key.mac();
        expected.update(signed.as_bytes());
        // Constant time: the comparison does not tell how much matched.
        expected
            .verify_slice(&mac_bytes)
            .map_err(|_| Rejected::BadSignature)?;
        if let Some(max_age) = self.max_age
            && now.saturating_sub(issued_at) > max_age.as_secs()
        {
            return Err(Rejected::Expired);
        }
        Ok(id)
    }

    /// The identity of the person a trusted header names: the first 128
    /// bits of HMAC-SHA256(key, "user-header:" + value), so the same name
    /// is the same identity on every device, and nobody without the key
    /// can tell whose it is.
    pub fn for_user_header(&self, value: &[u8]) -> Identity {
        let mut mac = self.key.mac();
        mac.update(b"user-header:");
        mac.update(value);
        Identity(hex(&mac.finalize().into_bytes()[..ID_BYTES]))
    }

    /// Who sent a request with `headers`, at `now`.
    pub fn caller(&self, headers: &HeaderMap, now: u64) -> Caller {
        if let Some(name) = &self.user_header {
            // Exactly one value: a client's own copy of the header next to
            // the one a proxy added (rather than replaced) names nobody.
            let mut values = headers.get_all(name).iter().map(HeaderValue::as_bytes);
            return match (values.next().map(<[u8]>::trim_ascii), values.next()) {
                (Some(value), None) if !value.is_empty() => {
                    Caller::Vouched(self.for_user_header(value))
                }
                _ => Caller::NoHeader(name.clone()),
            };
        }
        cookie_values(headers, COOKIE_NAME)
            .find_map(|value| self.verify(value, now).ok())
            .map_or(Caller::NoCookie, Caller::Cookie)
    }

    /// How long the browser should keep a cookie issued now.
    pub fn cookie_max_age(&self) -> Duration {
        self.max_age
            .map_or(COOKIE_MAX_AGE, |m| m.min(COOKIE_MAX_AGE))
    }

    /// A `Set-Cookie` value carrying `value`; `Secure` when the browser
    /// reached us over HTTPS (through a proxy that terminates it).
    pub fn set_cookie(&self, value: &str, secure: bool) -> HeaderValue {
        let secure = if secure { "; Secure" } else { "" };
        let max_age = self.cookie_max_age().as_secs();
        let cookie = format!(
            "{COOKIE_NAME}={value}; Path=/; Max-Age={max_age}; HttpOnly; SameSite=Strict{secure}"
        );
        // Hex, digits and fixed text only: always a valid header value.
        HeaderValue::try_from(cookie).unwrap_or_else(|_| HeaderValue::from_static(""))
    }
}

/// A fresh random identity; `None` only if the operating system's random
/// source fails.
pub fn random_identity() -> Option<Identity> {
    let mut bytes = [0u8; ID_BYTES];
    getrandom::fill(&mut bytes).ok()?;
    Some(Identity(hex(&bytes)))
}

/// The values of every cookie called `name` in the request's `Cookie`
/// headers (HTTP/2 may split them into several).
pub fn cookie_values<'a>(headers: &'a HeaderMap, name: &'a str) -> impl Iterator<Item = &'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|line| line.split(';'))
        .filter_map(move |pair| {
            let (key, value) = pair.split_once('=')?;
            (key.trim() == name).then(|| value.trim().trim_matches('"'))
        })
}

/// Whether the browser's request arrived over HTTPS, as a reverse proxy in
/// front says in `X-Forwarded-Proto` or `Forwarded` (this server itself
/// speaks plain HTTP). The first entry describes the browser's hop.
pub fn arrived_over_https(headers: &HeaderMap) -> bool {
    let first = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(',').next())
            .map(str::trim)
    };
    if first("x-forwarded-proto").is_some_and(|proto| proto.eq_ignore_ascii_case("https")) {
        return true;
    }
    first("forwarded").is_some_and(|element| {
        element.split(';').any(|pair| {
            pair.split_once('=').is_some_and(|(key, value)| {
                key.trim().eq_ignore_ascii_case("proto")
                    && value.trim().trim_matches('"').eq_ignore_ascii_case("https")
            })
        })
    })
}

/// Seconds since the Unix epoch now.
fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// On every route: puts the [`Caller`] in the request's extensions, and in
/// cookie mode gives a browser without a valid identity a fresh one with
/// the answer (so the first visit to the app issues it).
pub async fn identify(
    State(identities): State<Arc<Identities>>,
    mut request: Request,
    next: Next,
) -> Response {
    let caller = identities.caller(request.headers(), unix_now());
    // A link followed from another site carries no SameSite=Strict cookie
    // even when the browser has one: answering it with a fresh cookie
    // would replace that person's identity.
    let cross_site = request
        .headers()
        .get("sec-fetch-site")
        .is_some_and(|v| v.as_bytes() == b"cross-site");
    let secure = arrived_over_https(request.headers());
    let issue = caller == Caller::NoCookie && !cross_site;
    request.extensions_mut().insert(caller);
    let mut response = next.run(request).await;
    if issue {
        match random_identity() {
            Some(id) => {
                let value = identities.cookie_value(&id, unix_now());
                let headers = response.headers_mut();
                headers.append(header::SET_COOKIE, identities.set_cookie(&value, secure));
                keep_out_of_shared_caches(headers);
            }
            None => tracing::warn!("no random bytes from the operating system: no identity issued"),
        }
    }
    response
}

/// An answer that sets someone's identity must never be served from a
/// shared cache to someone else.
fn keep_out_of_shared_caches(headers: &mut HeaderMap) {
    let value = match headers
        .get(header::CACHE_CONTROL)
        .and_then(|v| v.to_str().ok())
    {
        None => "private".to_owned(),
        Some(v) if v.contains("private") || v.contains("no-store") => return,
        Some(v) => format!("{v}, private"),
    };
    if let Ok(value) = HeaderValue::try_from(value) {
        headers.insert(header::CACHE_CONTROL, value);
    }
}

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

fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for byte in bytes {
        out.push(char::from(DIGITS[usize::from(byte >> 4)]));
        out.push(char::from(DIGITS[usize::from(byte & 0xf)]));
    }
    out
}

/// Lowercase hex to bytes.
fn unhex(text: &str) -> Option<Vec<u8>> {
    let digit = |b: u8| match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        _ => None,
    };
    let bytes = text.as_bytes();
    if !bytes.len().is_multiple_of(2) {
        return None;
    }
    bytes
        .chunks(2)
        .map(|pair| Some((digit(pair[0])? << 4) | digit(pair[1])?))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const ID: &str = "0123456789abcdef0123456789abcdef";

    fn identities(max_age_days: Option<u64>) -> Identities {
        Identities::new(
            ServerKey::new(b"a server key of at least thirty-two characters"),
            max_age_days.map(|d| Duration::from_secs(d * 86_400)),
            None,
        )
    }

    fn identities_under_another_key() -> Identities {
        Identities::new(
            ServerKey::new(b"another key, also thirty-two characters long"),
            None,
            None,
        )
    }

    fn id() -> Identity {
        Identity::parse(ID).unwrap()
    }

    #[test]
    fn a_cookie_value_verifies_under_its_key_only() {
        let ids = identities(None);
        let value = ids.cookie_value(&id(), 1_700_000_000);
        assert!(
            value.starts_with(&format!("v1.{ID}.1700000000.")),
            "{value}"
        );
        assert_eq!(value.len(), "v1.".len() + 32 + ".1700000000.".len() + 64);
        assert_eq!(ids.verify(&value, 1_800_000_000), Ok(id()));
        let other = identities_under_another_key();
        assert_eq!(
            other.verify(&value, 1_700_000_000),
            Err(Rejected::BadSignature)
        );
    }

    #[test]
    fn tampering_with_any_part_breaks_the_signature() {
        let ids = identities(None);
        let value = ids.cookie_value(&id(), 1_700_000_000);
        let other_id = value.replacen("0123", "0124", 1);
        assert_eq!(
            ids.verify(&other_id, 1_700_000_000),
            Err(Rejected::BadSignature)
        );
        let other_time = value.replace(".1700000000.", ".1700000001.");
        assert_eq!(
            ids.verify(&other_time, 1_700_000_000),
            Err(Rejected::BadSignature)
        );
        // The last MAC digit changed.
        let mut bad_mac = value.clone();
        let last = bad_mac.pop().unwrap();
        bad_mac.push(if last == '0' { '1' } else { '0' });
        assert_eq!(
            ids.verify(&bad_mac, 1_700_000_000),
            Err(Rejected::BadSignature)
        );
    }

    #[test]
    fn malformed_values_are_refused_before_any_mac() {
        let ids = identities(None);
        let good = ids.cookie_value(&id(), 5);
        let mac = good.rsplit('.').next().unwrap();
        for bad in [
            String::new(),
            "v1".to_owned(),
            format!("v2.{ID}.5.{mac}"),
            format!("v1.{}.5.{mac}", ID.to_uppercase()),
            format!("v1.{ID}x.5.{mac}"),
            format!("v1.{ID}.+5.{mac}"),
            format!("v1.{ID}..{mac}"),
            format!("v1.{ID}.5.{}", &mac[1..]),
            format!("v1.{ID}.5.{}", mac.to_uppercase()),
            format!("{good}.extra"),
            format!("v1.{ID}.99999999999999999999999.{mac}"),
        ] {
            assert_eq!(ids.verify(&bad, 5), Err(Rejected::Malformed), "{bad}");
        }
    }

    #[test]
    fn with_a_max_age_an_older_cookie_is_expired() {
        let ids = identities(Some(30));
        let issued = 1_700_000_000;
        let value = ids.cookie_value(&id(), issued);
        let day = 86_400;
        assert_eq!(ids.verify(&value, issued + 30 * day), Ok(id()));
        assert_eq!(
            ids.verify(&value, issued + 30 * day + 1),
            Err(Rejected::Expired)
        );
        assert_eq!(
            identities(None).verify(&value, issued + 3000 * day),
            Ok(id())
        );
        assert_eq!(ids.cookie_max_age(), Duration::from_secs(30 * day));
        assert_eq!(identities(Some(1000)).cookie_max_age(), COOKIE_MAX_AGE);
    }

    #[test]
    fn the_user_header_identity_is_stable_and_keyed() {
        let ids = identities(None);
        let ada = ids.for_user_header(b"ada@example.com");
        assert_eq!(ada, ids.for_user_header(b"ada@example.com"));
        assert_ne!(ada, ids.for_user_header(b"bob@example.com"));
        assert!(Identity::parse(ada.as_str()).is_some());
        let other_key = identities_under_another_key();
        assert_ne!(ada, other_key.for_user_header(b"ada@example.com"));
    }

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(*name, HeaderValue::from_str(value).unwrap());
        }
        map
    }

    #[test]
    fn the_caller_comes_from_a_valid_cookie_among_others() {
        let ids = identities(None);
        let value = ids.cookie_value(&id(), 10);
        let with = headers(&[
            ("cookie", "a=1; confab_identity=v1.forged"),
            ("cookie", &format!("b=2;confab_identity={value}")),
        ]);
        assert_eq!(ids.caller(&with, 10), Caller::Cookie(id()));
        assert_eq!(
            ids.caller(&headers(&[("cookie", "a=1")]), 10),
            Caller::NoCookie
        );
        assert_eq!(ids.caller(&HeaderMap::new(), 10), Caller::NoCookie);
    }

    #[test]
    fn in_trusted_header_mode_cookies_do_not_count() {
        let name = HeaderName::from_static("x-forwarded-email");
        let ids = Identities::new(
            ServerKey::new(b"a server key of at least thirty-two characters"),
            None,
            Some(name.clone()),
        );
        let value = ids.cookie_value(&id(), 10);
        let cookie_only = headers(&[("cookie", &format!("confab_identity={value}"))]);
        assert_eq!(ids.caller(&cookie_only, 10), Caller::NoHeader(name.clone()));
        assert_eq!(
            ids.caller(&headers(&[("x-forwarded-email", " ")]), 10),
            Caller::NoHeader(name.clone())
        );
        let twice = headers(&[
            ("x-forwarded-email", "eve@example.com"),
            ("x-forwarded-email", "ada@example.com"),
        ]);
        assert_eq!(ids.caller(&twice, 10), Caller::NoHeader(name));
        let ada = headers(&[("x-forwarded-email", "ada@example.com")]);
        assert_eq!(
            ids.caller(&ada, 10),
            Caller::Vouched(ids.for_user_header(b"ada@example.com"))
        );
    }

    #[test]
    fn the_set_cookie_header_has_the_documented_attributes() {
        let ids = identities(None);
        let plain = ids.set_cookie("v", false);
        assert_eq!(
            plain.to_str().unwrap(),
            "confab_identity=v; Path=/; Max-Age=34560000; HttpOnly; SameSite=Strict"
        );
        assert!(
            ids.set_cookie("v", true)
                .to_str()
                .unwrap()
                .ends_with("; Secure")
        );
    }

    #[test]
    fn https_is_read_from_the_forwarding_headers() {
        for (name, value, https) in [
            ("x-forwarded-proto", "https", true),
            ("x-forwarded-proto", "HTTPS", true),
            ("x-forwarded-proto", "https, http", true),
            ("x-forwarded-proto", "http", false),
            ("forwarded", "for=192.0.2.1;proto=https;by=x", true),
            ("forwarded", "Proto=\"https\"", true),
            // The first element is the browser's hop.
            ("forwarded", "proto=http, proto=https", false),
            ("x-forwarded-host", "https", false),
        ] {
            assert_eq!(
                arrived_over_https(&headers(&[(name, value)])),
                https,
                "{name}: {value}"
            );
        }
        assert!(!arrived_over_https(&HeaderMap::new()));
    }

    #[test]
    fn random_identities_differ() {
        let a = random_identity().unwrap();
        assert!(Identity::parse(a.as_str()).is_some());
        assert_ne!(a, random_identity().unwrap());
    }

    #[test]
    fn shared_caches_are_kept_from_answers_that_set_a_cookie() {
        let mut none = HeaderMap::new();
        keep_out_of_shared_caches(&mut none);
        assert_eq!(none[header::CACHE_CONTROL], "private");
        let mut no_cache = headers(&[("cache-control", "no-cache")]);
        keep_out_of_shared_caches(&mut no_cache);
        assert_eq!(no_cache[header::CACHE_CONTROL], "no-cache, private");
        let mut no_store = headers(&[("cache-control", "no-store")]);
        keep_out_of_shared_caches(&mut no_store);
        assert_eq!(no_store[header::CACHE_CONTROL], "no-store");
    }

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

    #[test]
    fn hex_round_trips() {
        let bytes = [0u8, 1, 0xab, 0xff];
        assert_eq!(hex(&bytes), "0001abff");
        assert_eq!(unhex("0001abff").unwrap(), bytes);
        assert_eq!(unhex("0g"), None);
        assert_eq!(unhex("abc"), None);
    }
}
