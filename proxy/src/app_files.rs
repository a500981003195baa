//! The built app from `--dist`. tower-http's `ServeDir` serves the files:
//! paths kept inside the folder, the type from the extension, the `.br` or
//! `.gz` copy that `make build` writes chosen by `Accept-Encoding` and its
//! q-values (falling back to the file itself), `Last-Modified`, HEAD and
//! ranges. The layer here adds what it lacks: `Cache-Control` per file,
//! `Vary: Accept-Encoding`, an `ETag` and the 304s (both conditional
//! headers are answered here, so a 304 carries the same validators as the
//! 200), a charset on HTML, and `*` in `Accept-Encoding`.

mod accept;
mod validators;

use std::path::Path;

use axum::Router;
use axum::extract::Request;
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::Response;
use tower_http::services::{ServeDir, ServeFile};

/// Trunk's hashed files (`main-86106a233ab9eb8d.css`): a new build gives
/// new content a new name, so a browser may keep these for good.
const IMMUTABLE: HeaderValue = HeaderValue::from_static("public, max-age=31536000, immutable");
/// Everything else (index.html, the service worker sw.js, the manifest and
/// icons, the render worker Trunk leaves unhashed): kept, but checked each time
/// (a 304 when unchanged), so a new build is seen on the next visit.
const NO_CACHE: HeaderValue = HeaderValue::from_static("no-cache");
const HTML: HeaderValue = HeaderValue::from_static("text/html; charset=utf-8");

/// The app's files from `dist`; unknown paths get index.html, since the
/// app is a single page.
pub(crate) fn service(dist: &Path) -> Router {
    let index = ServeFile::new(dist.join("index.html"))
        .precompressed_br()
        .precompressed_gzip();
    let files = ServeDir::new(dist)
        .precompressed_br()
        .precompressed_gzip()
        .fallback(index);
    Router::new()
        .fallback_service(files)
        .layer(middleware::from_fn(caching_headers))
}

async fn caching_headers(mut request: Request, next: Next) -> Response {
    let conditions = validators::Conditions::take(&mut request);
    accept::expand_wildcard(request.headers_mut());
    let hashed = is_hashed(request.uri().path());
    let mut response = next.run(request).await;
    let status = response.status();
    if status != StatusCode::OK && status != StatusCode::PARTIAL_CONTENT {
        return response;
    }
    let headers = response.headers_mut();
    // Whatever the file, another Accept-Encoding may get other bytes.
    headers.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
    let html = headers
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"text/html"));
    if html {
        headers.insert(header::CONTENT_TYPE, HTML);
    }
    // HTML is never immutable: a missing hashed name falls back to
    // index.html, which must not be kept under that name.
    let cache = if hashed && !html { IMMUTABLE } else { NO_CACHE };
    headers.insert(header::CACHE_CONTROL, cache);
    // A range's Content-Length is not the file's: no ETag for a 206.
    if status == StatusCode::OK {
        if let Some(etag) = validators::etag(headers) {
            headers.insert(header::ETAG, etag);
        }
        if conditions.unchanged(headers) {
            return validators::not_modified(&response);
        }
    }
    response
}

/// Whether the last segment of `path` is a name Trunk hashed:
/// `<name>-<hash>.<ext>`, or `<name>-<hash>_bg.wasm` for wasm-bindgen's
/// module, the hash 12 to 16 lowercase hex digits (a u64 in hex; fewer
/// digits are possible but so rare that treating such a file as unhashed,
/// revalidated each visit, costs nothing that matters).
fn is_hashed(path: &str) -> bool {
    let name = path.rsplit('/').next().unwrap_or(path);
    let Some((stem, _extension)) = name.rsplit_once('.') else {
        return false;
    };
    let stem = stem.strip_suffix("_bg").unwrap_or(stem);
    let Some((base, hash)) = stem.rsplit_once('-') else {
        return false;
    };
    !base.is_empty()
        && (12..=16).contains(&hash.len())
        && hash.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

#[cfg(test)]
mod tests {
    use super::is_hashed;

    #[test]
    fn trunks_hashed_names_are_told_from_the_others() {
        for path in [
            "/confab-554ed490a90d947.js",
            "/confab-554ed490a90d947_bg.wasm",
            "/main-86106a233ab9eb8d.css",
            "/assets/icon-0123456789abcdef.svg",
        ] {
            assert!(is_hashed(path), "{path}");
        }
        for path in [
            "/",
            "/index.html",
            "/sw.js",
            "/site.webmanifest",
            "/confab-render-worker.js",
            "/confab-render-worker_bg.wasm",
            "/-554ed490a90d947.js",
            "/main-86106A233AB9EB8D.css",
            "/main-86106a233ab9eb8d",
            "/some/route",
        ] {
            assert!(!is_hashed(path), "{path}");
        }
    }
}
