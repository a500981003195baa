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
//! The parsing, signing and checking here are pure functions of their
//! inputs (the time is passed in); crate::middleware::identity applies
//! them to a request, and key_file.rs finds the server key at startup.

mod key_file;
#[cfg(test)]
mod tests;

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::http::header::{self, HeaderMap, HeaderName, HeaderValue};
use hmac::{Hmac, Mac};
use sha2::Sha256;

pub use key_file::{KeySource, default_key_file, resolve_key};

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
pub(crate) fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
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
