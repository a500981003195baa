//! Session bodies and conversation records are stored compressed (schema 3).
//!
//! They are the bulk of the store and very repetitive JSON (the same field
//! names in every event and span), so zlib shrinks them about eightfold. The
//! bytes are then spread over UTF-16 code units, 15 bits each, offset to
//! U+4000..U+BFFF: never a surrogate (which would not survive the trip
//! through a Rust `String`) and never a control character. localStorage
//! counts code units against its quota, so one holds almost two bytes; a
//! history of 200 conversations of 100 messages that needs 3.7 times the
//! quota as plain JSON fits in about a quarter of it packed.
//!
//! A packed value starts with [`MARK`], which no JSON text starts with, and
//! carries the text's length and the zlib stream's (4 bytes each, little
//! endian), then the stream (with its Adler-32 check), then padding bits.
//! Reading accepts plain JSON as well, so a store is readable while its
//! values are being packed one by one. [`super::read_json`] and
//! [`super::write_json`] apply this by key, so every service over any store
//! reads and writes the same format; a value that does not unpack is
//! `Corrupt` and moved aside like any unreadable entry.

use std::borrow::Cow;

use thiserror::Error;

use super::keys;

/// What every packed value starts with.
pub const MARK: &str = "~z1";

/// The first code unit of the 15-bit alphabet.
const BASE: u32 = 0x4000;

/// No value of ours comes near this; a value that claims more is corrupt
/// (and would otherwise make us allocate whatever it claims).
const MAX_UNPACKED: usize = 64 << 20;

/// zlib's level: 6 is its usual trade-off; higher levels gain under 2% here
/// and cost twice the time on every save.
const LEVEL: u8 = 6;

#[derive(Clone, Debug, Error, PartialEq)]
pub enum UnpackError {
    #[error("a packed value holds a character outside its alphabet")]
    Alphabet,
    #[error("a packed value is cut short")]
    Truncated,
    #[error("a packed value does not decompress: {0}")]
    Inflate(String),
    #[error("a packed value does not decompress to its recorded length")]
    Length,
    #[error("a packed value is not UTF-8 text")]
    Utf8,
}

/// Whether values under `key` are stored packed: the large per-session ones,
/// and blobs waiting to move to IndexedDB (base64 packs to about 2/5 of its
/// code units, and a migration must fit them beside its backup).
/// Drafts stay plain: they are small and rewritten several times a second.
pub fn is_packed_key(key: &str) -> bool {
    key.strip_prefix(keys::PREFIX).is_some_and(|rest| {
        rest.starts_with("session:")
            || rest.starts_with("conversation:")
            || key.starts_with(keys::BLOB_PENDING)
    })
}

/// `text` compressed and spelled in the 15-bit alphabet, after [`MARK`].
pub fn pack(text: &str) -> String {
    let compressed = miniz_oxide::deflate::compress_to_vec_zlib(text.as_bytes(), LEVEL);
    let mut bytes = Vec::with_capacity(8 + compressed.len());
    bytes.extend_from_slice(&(text.len() as u32).to_le_bytes());
    bytes.extend_from_slice(&(compressed.len() as u32).to_le_bytes());
    bytes.extend_from_slice(&compressed);

    let mut out = String::with_capacity(MARK.len() + (bytes.len() * 8).div_ceil(15) * 3);
    out.push_str(MARK);
    let (mut acc, mut bits) = (0u32, 0u32);
    for byte in bytes {
        acc = ((acc << 8) | u32::from(byte)) & 0x3f_ffff;
        bits += 8;
        if bits >= 15 {
            bits -= 15;
            push_unit(&mut out, (acc >> bits) & 0x7fff);
        }
    }
    if bits > 0 {
        push_unit(&mut out, (acc << (15 - bits)) & 0x7fff);
    }
    out
}

fn push_unit(out: &mut String, value: u32) {
    // BASE + 0x7fff is below the surrogates, so this is always a char.
    out.push(char::from_u32(BASE + value).expect("below the surrogate range"));
}

/// The text of a stored value: a packed one decompressed, anything else as
/// it is.
pub fn unpack(stored: &str) -> Result<Cow<'_, str>, UnpackError> {
    let Some(body) = stored.strip_prefix(MARK) else {
        return Ok(Cow::Borrowed(stored));
    };
    let mut bytes = Vec::with_capacity(body.len() * 15 / 8 / 3 + 1);
    let (mut acc, mut bits) = (0u32, 0u32);
    for c in body.chars() {
        let value = (c as u32)
            .checked_sub(BASE)
            .filter(|v| *v <= 0x7fff)
            .ok_or(UnpackError::Alphabet)?;
        acc = ((acc << 15) | value) & 0x3f_ffff;
        bits += 15;
        while bits >= 8 {
            bits -= 8;
            bytes.push((acc >> bits) as u8);
        }
    }
    let (length, rest) = bytes
        .split_first_chunk::<4>()
        .ok_or(UnpackError::Truncated)?;
    let (packed_length, rest) = rest
        .split_first_chunk::<4>()
        .ok_or(UnpackError::Truncated)?;
    let length = u32::from_le_bytes(*length) as usize;
    if length > MAX_UNPACKED {
        return Err(UnpackError::Length);
    }
    // What follows the zlib stream is padding to a whole code unit.
    let compressed = rest
        .get(..u32::from_le_bytes(*packed_length) as usize)
        .ok_or(UnpackError::Truncated)?;
    let text = miniz_oxide::inflate::decompress_to_vec_zlib_with_limit(compressed, length)
        .map_err(|e| UnpackError::Inflate(format!("{:?}", e.status)))?;
    if text.len() != length {
        return Err(UnpackError::Length);
    }
    String::from_utf8(text)
        .map(Cow::Owned)
        .map_err(|_| UnpackError::Utf8)
}

/// Text that zlib cannot shrink much (letters from a xorshift generator):
/// for tests that need a value of a known stored size.
#[cfg(test)]
pub(crate) fn incompressible(len: usize) -> String {
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            char::from(b'a' + (x % 26) as u8)
        })
        .collect()
}

/// The code units `text` takes packed.
#[cfg(test)]
pub(crate) fn packed_units(text: &str) -> usize {
    pack(text).encode_utf16().count()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    use crate::storage::{KvError, KvStore, MemoryKv, read_json, write_json};

    fn samples() -> Vec<String> {
        let mut samples: Vec<String> = [
            "",
            "{}",
            "x",
            "ab",
            "{\"id\":\"é ü 字 😀\",\"text\":\"line\\nnext\"}",
            "\u{202e}reversed\u{202c} and \u{0}nul",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        // Every length modulo 15 bits, so every padding case is hit.
        for n in 0..40 {
            samples.push("q".repeat(n) + &"z".repeat(n * 7 % 13));
        }
        samples.push(
            (0..2000)
                .map(|i| format!("{{\"n\":{i},\"text\":\"word {}\"}}", i * 7919 % 1009))
                .collect::<Vec<_>>()
                .join(","),
        );
        samples
    }

    #[test]
    fn every_value_unpacks_to_what_was_packed() {
        for text in samples() {
            let packed = pack(&text);
            assert!(packed.starts_with(MARK));
            assert_eq!(unpack(&packed).unwrap(), text.as_str(), "{text:?}");
        }
    }

    #[test]
    fn packed_values_use_no_surrogate_or_control_character() {
        for text in samples() {
            let units: Vec<u16> = pack(&text).encode_utf16().collect();
            assert!(
                units[MARK.len()..]
                    .iter()
                    .all(|u| (0x4000..0xc000).contains(u))
            );
        }
    }

    #[test]
    fn repetitive_json_takes_a_fraction_of_its_code_units() {
        let text = samples().pop().unwrap();
        let packed = pack(&text);
        let (plain_units, packed_units) =
            (text.encode_utf16().count(), packed.encode_utf16().count());
        assert!(
            packed_units * 8 < plain_units,
            "{packed_units} code units packed for {plain_units} plain"
        );
    }

    #[test]
    fn plain_text_reads_as_it_is() {
        assert_eq!(unpack("{\"a\":1}").unwrap(), "{\"a\":1}");
        assert!(matches!(unpack("not json"), Ok(Cow::Borrowed("not json"))));
    }

    #[test]
    fn damaged_packed_values_are_errors_not_panics() {
        let packed = pack(&samples().pop().unwrap());
        let units: Vec<char> = packed.chars().collect();
        // Cut short anywhere.
        for cut in [
            MARK.len(),
            MARK.len() + 1,
            MARK.len() + 3,
            units.len() / 2,
            units.len() - 1,
        ] {
            let short: String = units[..cut].iter().collect();
            assert!(unpack(&short).is_err(), "cut at {cut}");
        }
        // A character outside the alphabet.
        assert_eq!(unpack("~z1abc"), Err(UnpackError::Alphabet));
        // One unit changed in the middle: the zlib check or the length fails.
        let mut flipped = units.clone();
        let middle = units.len() / 2;
        flipped[middle] = char::from_u32(((flipped[middle] as u32 - BASE) ^ 0x155) + BASE).unwrap();
        assert!(unpack(&flipped.iter().collect::<String>()).is_err());
        // A length that claims the moon.
        let mut huge = String::from(MARK);
        push_unit(&mut huge, 0x7fff);
        push_unit(&mut huge, 0x7fff);
        push_unit(&mut huge, 0x7fff);
        assert!(unpack(&huge).is_err());
    }

    #[test]
    fn the_store_packs_session_and_conversation_bodies_only() {
        let raw = MemoryKv::new();
        let body = json!({"events": []});
        for key in [
            keys::session("confab", "u", "s"),
            keys::conversation("confab", "u", "s"),
        ] {
            write_json(&raw, &key, &body).unwrap();
            assert!(raw.get(&key).unwrap().unwrap().starts_with(MARK), "{key}");
            assert_eq!(read_json(&raw, &key), Ok(Some(body.clone())));
        }
        for key in [
            keys::INDEX.to_owned(),
            keys::META.to_owned(),
            keys::draft("confab", "u", "s", "e"),
            keys::user_record("confab", "u"),
        ] {
            write_json(&raw, &key, &body).unwrap();
            assert_eq!(
                raw.get(&key).unwrap().as_deref(),
                Some("{\"events\":[]}"),
                "{key}"
            );
        }
    }

    #[test]
    fn plain_json_under_a_packed_key_still_reads() {
        let raw = MemoryKv::new();
        let key = keys::session("confab", "u", "s");
        raw.set(&key, "{\"a\":1}").unwrap();
        assert_eq!(read_json(&raw, &key), Ok(Some(json!({"a": 1}))));
    }

    #[test]
    fn an_unreadable_packed_value_is_corrupt() {
        let raw = MemoryKv::new();
        let key = keys::session("confab", "u", "s");
        raw.set(&key, "~z1garbage").unwrap();
        let read = read_json::<serde_json::Value>(&raw, &key);
        assert!(
            matches!(&read, Err(KvError::Corrupt { reason, .. }) if reason.contains("alphabet")),
            "{read:?}"
        );
    }
}
