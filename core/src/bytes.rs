//! Bytes as the wires and the blob store name them: a SHA-256 in hex (an
//! attachment's key), base64 (OpenAI's data URLs, ADK's `inlineData`,
//! exports) and `data:` URLs.

use sha2::{Digest, Sha256};

/// SHA-256 of `bytes`, 64 lowercase hex digits.
pub fn sha256_hex(bytes: &[u8]) -> String {
    let digest = Sha256::digest(bytes);
    let mut hex = String::with_capacity(64);
    for byte in digest {
        hex.push(char::from_digit((byte >> 4) as u32, 16).unwrap_or('0'));
        hex.push(char::from_digit((byte & 15) as u32, 16).unwrap_or('0'));
    }
    hex
}

/// Whether `text` looks like a key of the blob store.
pub fn is_sha256_hex(text: &str) -> bool {
    text.len() == 64 && text.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

const STANDARD: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
const URL_SAFE: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// Standard base64 with padding (what data URLs and OpenAI expect).
pub fn base64_encode(bytes: &[u8]) -> String {
    encode(bytes, STANDARD, true)
}

/// URL-safe base64 without padding (ADK's own spelling of bytes).
pub fn base64_url_encode(bytes: &[u8]) -> String {
    encode(bytes, URL_SAFE, false)
}

/// Our own base64 (the `base64` crate's engine was 5 KB of wasm): each 3
/// bytes as 4 digits of `alphabet`, a short end padded with `=` or not.
fn encode(bytes: &[u8], alphabet: &[u8; 64], pad: bool) -> String {
    let mut text = String::with_capacity(base64_len(bytes.len() as u64) as usize);
    for chunk in bytes.chunks(3) {
        let group = chunk
            .iter()
            .enumerate()
            .fold(0u32, |group, (i, &b)| group | ((b as u32) << (16 - 8 * i)));
        // 3 bytes make 4 digits, 2 make 3, 1 makes 2.
        for i in 0..=chunk.len() {
            text.push(alphabet[((group >> (18 - 6 * i)) & 63) as usize] as char);
        }
        if pad {
            for _ in chunk.len()..3 {
                text.push('=');
            }
        }
    }
    text
}

/// Either alphabet, padded or not: ADK sends `inlineData` in the URL-safe
/// one (Pydantic's bytes), other peers and older exports in the standard.
/// Strict otherwise: one alphabet per text (URL-safe when it has `-` or
/// `_`), no more `=` than its length needs, no spare bits set, nothing
/// but surrounding whitespace.
pub fn base64_decode(text: &str) -> Option<Vec<u8>> {
    let text = text.trim();
    let alphabet = if text.contains(['-', '_']) {
        URL_SAFE
    } else {
        STANDARD
    };
    let digits = text.trim_end_matches('=').as_bytes();
    let padding = text.len() - digits.len();
    let tail = digits.len() % 4;
    if tail == 1 || padding > (4 - tail) % 4 {
        return None;
    }
    let mut bytes = Vec::with_capacity(digits.len() * 3 / 4);
    for chunk in digits.chunks(4) {
        let mut group = 0u32;
        for (i, &digit) in chunk.iter().enumerate() {
            let value = alphabet.iter().position(|&a| a == digit)? as u32;
            group |= value << (18 - 6 * i);
        }
        // 4 digits make 3 bytes, 3 make 2, 2 make 1; the bits after
        // those must be zero.
        let whole = chunk.len() - 1;
        if group & ((1 << (24 - 8 * whole)) - 1) != 0 {
            return None;
        }
        for i in 0..whole {
            bytes.push((group >> (16 - 8 * i)) as u8);
        }
    }
    Some(bytes)
}

/// `data:<mime>;base64,<bytes>`.
pub fn data_url(mime: &str, bytes: &[u8]) -> String {
    format!("data:{mime};base64,{}", base64_encode(bytes))
}

/// The type and bytes of a `data:…;base64,…` URL.
pub fn parse_data_url(url: &str) -> Option<(String, Vec<u8>)> {
    let rest = url.strip_prefix("data:")?;
    let (head, data) = rest.split_once(',')?;
    let mime = head.strip_suffix(";base64")?;
    Some((mime.to_owned(), base64_decode(data)?))
}

/// The number of bytes `len` bytes take in padded base64.
pub fn base64_len(len: u64) -> u64 {
    len.div_ceil(3) * 4
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sha256_of_known_inputs() {
        assert_eq!(
            sha256_hex(b""),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        assert_eq!(
            sha256_hex(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert!(is_sha256_hex(&sha256_hex(b"x")));
        assert!(!is_sha256_hex("ABC"));
    }

    #[test]
    fn base64_reads_both_alphabets_with_or_without_padding() {
        let bytes = [0xfbu8, 0xff, 0xfe, 0x00, 0x41];
        assert_eq!(base64_encode(&bytes), "+//+AEE=");
        assert_eq!(base64_url_encode(&bytes), "-__-AEE");
        for text in ["+//+AEE=", "+//+AEE", "-__-AEE", "-__-AEE="] {
            assert_eq!(base64_decode(text).as_deref(), Some(&bytes[..]), "{text}");
        }
        assert_eq!(base64_decode("not base64!"), None);
        assert_eq!(base64_len(5), 8);
    }

    #[test]
    fn base64_refuses_what_is_not_canonical() {
        assert_eq!(base64_decode(" QUJD\n").as_deref(), Some(&b"ABC"[..]));
        assert_eq!(base64_decode("").as_deref(), Some(&b""[..]));
        for odd in ["QUJDR", "QQ===", "QR==", "QUI=A", "QU JD", "+/-_", "QUJD="] {
            assert_eq!(base64_decode(odd), None, "{odd}");
        }
    }

    proptest::proptest! {
        #[test]
        fn base64_round_trips_in_both_spellings(bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..40)) {
            let standard = base64_encode(&bytes);
            proptest::prop_assert_eq!(standard.len() as u64, base64_len(bytes.len() as u64));
            proptest::prop_assert_eq!(base64_decode(&standard), Some(bytes.clone()));
            proptest::prop_assert_eq!(base64_decode(standard.trim_end_matches('=')), Some(bytes.clone()));
            proptest::prop_assert_eq!(base64_decode(&base64_url_encode(&bytes)), Some(bytes));
        }
    }

    #[test]
    fn data_urls_round_trip() {
        let url = data_url("image/png", b"\x89PNG");
        assert_eq!(url, "data:image/png;base64,iVBORw==");
        assert_eq!(
            parse_data_url(&url),
            Some(("image/png".to_owned(), b"\x89PNG".to_vec()))
        );
        assert_eq!(parse_data_url("data:text/plain,hi"), None);
    }
}
