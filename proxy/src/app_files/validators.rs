//! `ETag`, and the 304s for `If-None-Match` and `If-Modified-Since`.
//!
//! `ServeDir` sends `Last-Modified` and answers `If-Modified-Since` but has
//! no ETag. The tag is made from the headers of the answer itself (the
//! modification time and length of the file actually sent, and its
//! coding), as nginx does: only `ServeDir` knows which of x, x.br and x.gz
//! it opened, and each gets its own tag without reading any file.

use std::time::{SystemTime, UNIX_EPOCH};

use axum::extract::Request;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};

/// A request's conditional headers, taken out of it before `ServeDir`
/// sees it, and answered here against the ETag it cannot know.
#[derive(Default)]
pub(super) struct Conditions {
    if_none_match: Option<HeaderValue>,
    if_modified_since: Option<HeaderValue>,
}

impl Conditions {
    /// The conditions of a GET or HEAD (nothing else is cached).
    pub(super) fn take(request: &mut Request) -> Self {
        if !matches!(*request.method(), Method::GET | Method::HEAD) {
            return Self::default();
        }
        let headers = request.headers_mut();
        Self {
            if_none_match: headers.remove(header::IF_NONE_MATCH),
            if_modified_since: headers.remove(header::IF_MODIFIED_SINCE),
        }
    }

    /// Whether the client's copy is the answer with these `headers`. When
    /// `If-None-Match` is present it alone decides (RFC 9110 13.2.2).
    pub(super) fn unchanged(&self, headers: &HeaderMap) -> bool {
        if let Some(tags) = &self.if_none_match {
            return headers
                .get(header::ETAG)
                .is_some_and(|etag| any_matches(tags, etag));
        }
        match (
            self.if_modified_since.as_ref().and_then(http_date),
            headers.get(header::LAST_MODIFIED).and_then(http_date),
        ) {
            (Some(since), Some(modified)) => modified <= since,
            _ => false,
        }
    }
}

/// `"<mtime>-<length>"` in hex, with `-br` or `-gzip` for a compressed
/// copy; `None` without both headers.
pub(super) fn etag(headers: &HeaderMap) -> Option<HeaderValue> {
    let modified = headers.get(header::LAST_MODIFIED).and_then(http_date)?;
    let seconds = modified.duration_since(UNIX_EPOCH).ok()?.as_secs();
    let length: u64 = headers
        .get(header::CONTENT_LENGTH)?
        .to_str()
        .ok()?
        .parse()
        .ok()?;
    let tag = match headers
        .get(header::CONTENT_ENCODING)
        .and_then(|v| v.to_str().ok())
    {
        Some(coding) => format!("\"{seconds:x}-{length:x}-{coding}\""),
        None => format!("\"{seconds:x}-{length:x}\""),
    };
    HeaderValue::from_str(&tag).ok()
}

/// The 304 for `full`: no body, the headers a cache updates its copy with.
pub(super) fn not_modified(full: &Response) -> Response {
    let mut answer = StatusCode::NOT_MODIFIED.into_response();
    for name in [
        header::ETAG,
        header::LAST_MODIFIED,
        header::CACHE_CONTROL,
        header::VARY,
    ] {
        if let Some(value) = full.headers().get(&name) {
            answer.headers_mut().insert(name, value.clone());
        }
    }
    answer
}

fn http_date(value: &HeaderValue) -> Option<SystemTime> {
    httpdate::parse_http_date(value.to_str().ok()?).ok()
}

/// `If-None-Match` compares weakly: `W/"x"` matches `"x"`.
fn any_matches(tags: &HeaderValue, etag: &HeaderValue) -> bool {
    let Ok(tags) = tags.to_str() else {
        return false;
    };
    let ours = opaque(etag.to_str().unwrap_or_default());
    tags.split(',')
        .map(str::trim)
        .any(|tag| tag == "*" || opaque(tag) == ours)
}

fn opaque(tag: &str) -> &str {
    tag.strip_prefix("W/").unwrap_or(tag)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(header::HeaderName, &'static str)]) -> HeaderMap {
        pairs
            .iter()
            .map(|(name, value)| (name.clone(), HeaderValue::from_static(value)))
            .collect()
    }

    const MODIFIED: &str = "Sun, 30 Nov 2025 10:00:00 GMT";

    #[test]
    fn each_coding_of_a_file_has_its_own_tag() {
        let plain = headers(&[
            (header::LAST_MODIFIED, MODIFIED),
            (header::CONTENT_LENGTH, "1300"),
        ]);
        let mut br = plain.clone();
        br.insert(header::CONTENT_ENCODING, HeaderValue::from_static("br"));
        assert_eq!(etag(&plain).unwrap(), "\"692c15a0-514\"");
        assert_eq!(etag(&br).unwrap(), "\"692c15a0-514-br\"");
        assert_eq!(etag(&headers(&[(header::CONTENT_LENGTH, "1")])), None);
    }

    #[test]
    fn if_none_match_decides_before_if_modified_since() {
        let answer = headers(&[(header::ETAG, "\"a-1\""), (header::LAST_MODIFIED, MODIFIED)]);
        let conditions = |inm: Option<&'static str>, ims: Option<&'static str>| Conditions {
            if_none_match: inm.map(HeaderValue::from_static),
            if_modified_since: ims.map(HeaderValue::from_static),
        };
        assert!(conditions(Some("\"a-1\""), None).unchanged(&answer));
        assert!(conditions(Some("\"x\", W/\"a-1\""), None).unchanged(&answer));
        assert!(conditions(Some("*"), None).unchanged(&answer));
        assert!(!conditions(Some("\"a-1-br\""), Some(MODIFIED)).unchanged(&answer));
        assert!(conditions(None, Some(MODIFIED)).unchanged(&answer));
        assert!(conditions(None, Some("Mon, 01 Dec 2025 10:00:00 GMT")).unchanged(&answer));
        assert!(!conditions(None, Some("Sat, 29 Nov 2025 10:00:00 GMT")).unchanged(&answer));
        assert!(!conditions(None, Some("yesterday")).unchanged(&answer));
        assert!(!conditions(None, None).unchanged(&answer));
    }
}
