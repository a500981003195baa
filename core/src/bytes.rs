//! Bytes as the wires and the blob store name them: a SHA-256 in hex (an
//! attachment's key), base64 (OpenAI's data URLs, ADK's `inlineData`,
//! exports) and `data:` URLs.

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
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

/// Standard base64 with padding (what data URLs and OpenAI expect).
pub fn base64_encode(bytes: &[u8]) -> String {
    STANDARD.encode(bytes)
}

/// Either alphabet, padded or not: ADK sends `inlineData` in the URL-safe
/// one (Pydantic's bytes), other peers and older exports in the standard.
pub fn base64_decode(text: &str) -> Option<Vec<u8>> {
    const INDIFFERENT: GeneralPurposeConfig =
        GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent);
    let text = text.trim();
    if text.contains(['-', '_']) {
        GeneralPurpose::new(&base64::alphabet::URL_SAFE, INDIFFERENT)
            .decode(text)
            .ok()
    } else {
        GeneralPurpose::new(&base64::alphabet::STANDARD, INDIFFERENT)
            .decode(text)
            .ok()
    }
}

/// URL-safe base64 without padding (ADK's own spelling of bytes).
pub fn base64_url_encode(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
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
